//! What the ten classes are called: the digits, Fashion-MNIST's names (recognised by its label files' checksums,
//! not by a folder name), or a data set's own `classes.txt`.

use crate::engine::data::set::NUM_CLASSES;
use crate::{Error, Result};
use std::path::Path;

pub const DIGIT_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
pub const FASHION_CLASSES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// A `classes.txt` is refused above this size, before it is read.
/// The most classes a data set (an image folder, a weights file) may have: digits and both letter cases.
pub const MAX_CLASSES: usize = 62;
pub(super) const MAX_CLASSES_BYTES: u64 = 64 * 1024;
const MAX_CLASS_NAME_CHARS: usize = 64;
/// SHA-256 of Fashion-MNIST's decompressed label files (identical in the original .gz files and Debian's
/// re-compressed `dataset-fashion-mnist`), which tell Fashion-MNIST apart from any other MNIST-format set.
const FASHION_TRAIN_LABELS_SHA256: &str = "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9";
const FASHION_TEST_LABELS_SHA256: &str = "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34";

/// Whether two label files (by the SHA-256 of their decompressed bytes) are Fashion-MNIST's.
pub(super) fn is_fashion(train_labels_sha256: &str, test_labels_sha256: &str) -> bool {
    train_labels_sha256 == FASHION_TRAIN_LABELS_SHA256 && test_labels_sha256 == FASHION_TEST_LABELS_SHA256
}

/// The names as owned strings.
pub(super) fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// `classes.txt`: exactly 10 names, one per line (surrounding spaces trimmed, blank lines at the end ignored),
/// each non-empty, at most 64 characters, without control characters.
pub(super) fn parse_classes(path: &Path, text: &str) -> Result<Vec<String>> {
    let mut lines: Vec<&str> = text.lines().map(str::trim).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    if lines.len() != NUM_CLASSES {
        return Err(Error::data(path, format!("expected 10 class names, one per line; found {} lines", lines.len())));
    }
    for (i, l) in lines.iter().enumerate() {
        let line = i + 1;
        if l.is_empty() {
            return Err(Error::data(path, format!("line {line} is empty: every class needs a name")));
        }
        let chars = l.chars().count();
        if chars > MAX_CLASS_NAME_CHARS {
            return Err(Error::data(
                path,
                format!("line {line}: the name is {chars} characters long, at most {MAX_CLASS_NAME_CHARS}"),
            ));
        }
        if let Some(c) = l.chars().find(|c| c.is_control()) {
            return Err(Error::data(
                path,
                format!("line {line}: the name contains a control character (U+{:04X})", c as u32),
            ));
        }
    }
    Ok(lines.into_iter().map(String::from).collect())
}

//! A data set of the MNIST family: the train/test pair of 28×28 images with labels and class names, read from a
//! folder with the four standard file names (gzip or raw) or from the copy shipped in the binary. Each file's
//! format is checked by [`idx`](super::idx), its checksum by [`checksums`](super::checksums), the class names by
//! [`classes`](super::classes); this module puts a folder's files together.

use crate::engine::data::checksums::{parse_sums, MAX_SUMS_BYTES};
use crate::engine::data::classes::{is_fashion, owned, parse_classes, MAX_CLASSES_BYTES};
use crate::engine::data::classes::{DIGIT_CLASSES, FASHION_CLASSES};
use crate::engine::data::idx::{idx_from_file, read_pair, Idx, Kind};
use crate::engine::data::idx::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use crate::engine::data::set::{Dataset, ImageSet};
use crate::engine::files::bounded_read::{read_bounded, Refusal};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

impl Dataset {
    /// Any folder with the four standard file names, gzip or raw (e.g. Fashion-MNIST).
    ///
    /// - Each file is checked from its header before it is read: a raw file whose length disagrees with its header,
    ///   or any file over [`MAX_IDX_FILE_BYTES`](super::idx::MAX_IDX_FILE_BYTES), is refused unread; gzip is inflated only as far as the header says
    ///   (a gzip bomb is refused after that many bytes), multi-member gzip loads, and data after the end is an error.
    /// - A `SHA256SUMS` file, if present, is checked for every file it lists (`sha256sum`'s forms: `HASH  name`,
    ///   `HASH *name`, `./name`; names match whole).
    /// - Class names come from `classes.txt` (UTF-8, exactly 10 non-empty names of at most 64 characters, no
    ///   control characters; anything else is an error), else Fashion-MNIST's when the labels are Fashion-MNIST's
    ///   (known checksums), else the digits.
    /// - A test set with no images is an error: there would be nothing to measure accuracy on.
    pub fn from_dir(dir: &Path) -> Result<Dataset> {
        Dataset::from_dir_halves(dir, true)
    }

    /// [`Dataset::from_dir`] without the training images, which are not read at all (the training half is
    /// empty): what evaluating weights needs, at a tenth of MNIST's memory. The training labels are still read
    /// (they are small) to tell Fashion-MNIST by its checksums.
    pub fn test_half_from_dir(dir: &Path) -> Result<Dataset> {
        Dataset::from_dir_halves(dir, false)
    }

    fn from_dir_halves(dir: &Path, with_train: bool) -> Result<Dataset> {
        if !dir.is_dir() {
            return Err(Error::data(
                dir,
                "not a folder (expected one with the four MNIST-format IDX files, or one subfolder of images per \
                 class)",
            ));
        }
        let sums_path = dir.join("SHA256SUMS");
        let sums = match read_optional_text(&sums_path, MAX_SUMS_BYTES)? {
            Some(text) => Some(parse_sums(&sums_path, &text)?),
            None => None,
        };
        let load = |stem: &str, kind: Kind| -> Result<(PathBuf, Idx)> {
            let gz = dir.join(format!("{stem}.gz"));
            let raw = dir.join(stem);
            // The .gz file if there is anything by that name, else the raw one: something there that is not a regular
            // file is named as such (by the reader), not reported as missing.
            let path = if std::fs::metadata(&gz).is_ok() {
                gz
            } else if std::fs::metadata(&raw).is_ok() {
                raw
            } else {
                return Err(Error::data(gz, "file not found (neither .gz nor raw)"));
            };
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let expected = sums.as_ref().and_then(|s| s.get(&file_name));
            let idx = idx_from_file(&path, kind, expected.map(String::as_str))?;
            Ok((path, idx))
        };
        let train_images = if with_train { Some(load(TRAIN_IMAGES, Kind::Images)?) } else { None };
        let (trl, trl_b) = load(TRAIN_LABELS, Kind::Labels)?;
        let (tei, tei_b) = load(TEST_IMAGES, Kind::Images)?;
        let (tel, tel_b) = load(TEST_LABELS, Kind::Labels)?;
        let is_fashion = is_fashion(&trl_b.sha256, &tel_b.sha256);
        let train = match train_images {
            Some((tri, tri_b)) => read_pair(&tri, tri_b, &trl, trl_b)?,
            None => ImageSet::default(),
        };
        let test = read_pair(&tei, tei_b, &tel, tel_b)?;
        if test.is_empty() {
            return Err(Error::data(&tei, "the test set has 0 images: there is nothing to measure accuracy on"));
        }
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("data").to_string();
        let classes_path = dir.join("classes.txt");
        let class_names: Vec<String> = match read_optional_text(&classes_path, MAX_CLASSES_BYTES)? {
            Some(text) => parse_classes(&classes_path, &text)?,
            None if is_fashion => owned(&FASHION_CLASSES),
            None => owned(&DIGIT_CLASSES),
        };
        let name = if is_fashion { "Fashion-MNIST".to_string() } else { folder };
        Ok(Dataset { name, source: Some(dir.to_path_buf()), class_names, train, test })
    }
}

/// Reads a small optional text file: None if nothing is there; an error naming it if it is not a regular file,
/// too big, unreadable or not UTF-8 (a leading byte-order mark is dropped).
fn read_optional_text(path: &Path, max: u64) -> Result<Option<String>> {
    let bytes = match read_bounded(path, max) {
        Ok(b) => b,
        Err(Refusal::NotFound(_)) => return Ok(None),
        Err(r) => {
            return Err(r.into_error(
                path,
                |p, m| Error::data(p, m),
                |len| format!("{len} bytes is too large (at most {max})"),
            ))
        }
    };
    let text = String::from_utf8(bytes).map_err(|e| Error::data(path, "not UTF-8 text").because(e))?;
    Ok(Some(text.strip_prefix('\u{feff}').unwrap_or(&text).to_string()))
}

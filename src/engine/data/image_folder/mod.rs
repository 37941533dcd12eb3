//! Your own data: an image folder as torchvision's `ImageFolder` and Keras' `image_dataset_from_directory` read
//! it — one subfolder per class holding PNG or JPEG files, the class names being the subfolder names (sorted). A
//! `train/` + `test/` pair of such folders is used as given; otherwise each class is split 80/20 by a fixed seed
//! ([`SPLIT_SEED`]) over its sorted file names, so the same folder always gives the same split. Every image goes
//! through the canvas' and `predict`'s MNIST-style preprocessing, and the decoded set is cached ([`cache`]) so
//! that opening the folder again is instant.
//!
//! The folder is listed ([`listing`]) before anything is decoded ([`decode`]): at most [`MAX_FOLDER_FILES`] images
//! and [`MAX_FOLDER_BYTES`] in all, so the decoded set (785 bytes an image) stays bounded. A few unreadable images
//! are skipped and counted; more than [`MAX_SKIPPED_SHARE`] of them, or a class left without images, is an error
//! naming a file.

pub(super) mod cache;
mod decode;
mod listing;

use crate::engine::data::idx::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use crate::engine::data::set::{Dataset, ImageSet, Loaded};
use crate::Result;
use decode::decode;
use listing::list;
use std::path::Path;

pub use decode::MAX_SKIPPED_SHARE;
pub use listing::{split_test, MAX_FOLDER_BYTES, MAX_FOLDER_FILES, SPLIT_SEED, TEST_SHARE};

/// Whether `dir` is read as an image folder: it holds none of the four MNIST-format IDX files.
pub fn is_image_folder(dir: &Path) -> bool {
    ![TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS].iter().any(|stem| {
        std::fs::metadata(dir.join(stem)).is_ok() || std::fs::metadata(dir.join(format!("{stem}.gz"))).is_ok()
    })
}

/// Reads an image folder (see the module docs), from its cache when the files are unchanged.
pub fn load(dir: &Path) -> Result<Loaded> {
    load_with(dir, false)
}

/// [`load`], optionally accepting class folders with no images (a set of drawings being collected: teaching the
/// digits needs only some of them, MNIST has the rest). Training from scratch needs every class.
pub fn load_with(dir: &Path, allow_empty_classes: bool) -> Result<Loaded> {
    let (class_names, entries) = list(dir, allow_empty_classes)?;
    let key = cache::key(dir, &class_names, &entries);
    let cache_path = dir.join(cache::CACHE_FILE);
    let mut stale = None;
    if let Some(cached) = cache::read(&cache_path, &key, &class_names) {
        match cache::consistent(&cached, &entries) {
            Ok(()) => {
                let mut notes = cached.notes.clone();
                notes.push(format!("read from the cache {}", cache::CACHE_FILE));
                return Ok(Loaded { data: dataset(dir, class_names, cached.train, cached.test), notes });
            }
            Err(why) => {
                stale =
                    Some(format!("the cache {} did not match the images ({why}): decoded afresh", cache::CACHE_FILE))
            }
        }
    }
    let decoded = decode(dir, &class_names, &entries, allow_empty_classes)?;
    // The notes the cache keeps are the decoding's; what happened to the cache itself is said once, now.
    let mut notes = decoded.notes.clone();
    notes.extend(stale);
    if let Err(e) = cache::write(&cache_path, &key, &decoded) {
        // A read-only folder (e.g. under /usr/share) is read every time: that is all a failed cache costs.
        notes.push(format!("not cached ({})", e.report()));
    }
    Ok(Loaded { notes, data: dataset(dir, class_names, decoded.train, decoded.test) })
}

fn dataset(dir: &Path, class_names: Vec<String>, train: ImageSet, test: ImageSet) -> Dataset {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("images").to_string();
    Dataset { name, source: Some(dir.to_path_buf()), class_names, train, test }
}

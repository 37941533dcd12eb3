//! Your own data: an image folder as torchvision's `ImageFolder` and Keras' `image_dataset_from_directory` read
//! it — one subfolder per class holding PNG or JPEG files, the class names being the subfolder names (sorted). A
//! `train/` + `test/` pair of such folders is used as given; otherwise each class is split 80/20 by a fixed seed
//! ([`SPLIT_SEED`]) over its sorted file names, so the same folder always gives the same split. Every image goes
//! through the canvas' and `predict`'s MNIST-style preprocessing, and the decoded set is cached
//! ([`folder_cache`](super::folder_cache)) so that opening the folder again is instant.
//!
//! The folder is listed before anything is decoded: at most [`MAX_FOLDER_FILES`] images and [`MAX_FOLDER_BYTES`]
//! in all, so the decoded set (785 bytes an image) stays bounded. A few unreadable images are skipped and counted;
//! more than [`MAX_SKIPPED_SHARE`] of them, or a class left without images, is an error naming a file.

use crate::engine::data::classes::MAX_CLASSES;
use crate::engine::data::digit::{preprocess, GrayImage};
use crate::engine::data::folder_cache;
use crate::engine::data::mnist::{
    Dataset, ImageSet, IMAGE_PIXELS, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
};
use crate::engine::model::rng::Rng;
use crate::error::printable;
use crate::{Error, Result};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The most image files a folder may hold (the decoded set is then at most ~160 MB).
pub const MAX_FOLDER_FILES: usize = 200_000;
/// The most bytes of image files a folder may hold, counted from the listing before anything is read.
pub const MAX_FOLDER_BYTES: u64 = 4 << 30;
/// The seed of the 80/20 split of a folder without `train/` and `test/`.
pub const SPLIT_SEED: u64 = 20_26;
/// The share of each class that goes to the test set when the folder is split here (at least one image of every
/// class with two or more).
pub const TEST_SHARE: f64 = 0.2;
/// More unreadable images than this share of the folder is an error rather than a note.
pub const MAX_SKIPPED_SHARE: f64 = 0.1;
const MAX_CLASS_NAME_CHARS: usize = 64;

/// A data set with what a user should be told about how it was read (skipped images, the cache).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub data: Dataset,
    /// Lines such as "skipped 2 unreadable images (first: …)"; empty when there is nothing to say.
    pub notes: Vec<String>,
}

/// One image file of the folder, with what the cache key is made of.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub path: PathBuf,
    pub class: u8,
    pub test: bool,
    pub size: u64,
    pub mtime_ns: u128,
}

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
    let key = folder_cache::key(dir, &class_names, &entries);
    let cache_path = dir.join(folder_cache::CACHE_FILE);
    if let Some(cached) = folder_cache::read(&cache_path, &key, &class_names) {
        let mut notes = cached.notes.clone();
        notes.push(format!("read from the cache {}", folder_cache::CACHE_FILE));
        return Ok(Loaded { data: dataset(dir, class_names, cached.train, cached.test), notes });
    }
    let decoded = decode(dir, &class_names, &entries, allow_empty_classes)?;
    if let Err(e) = folder_cache::write(&cache_path, &key, &decoded) {
        // A read-only folder (e.g. under /usr/share) is read every time: that is all a failed cache costs.
        let mut decoded = decoded;
        decoded.notes.push(format!("not cached ({})", e.report()));
        return Ok(Loaded { notes: decoded.notes, data: dataset(dir, class_names, decoded.train, decoded.test) });
    }
    Ok(Loaded { notes: decoded.notes, data: dataset(dir, class_names, decoded.train, decoded.test) })
}

fn dataset(dir: &Path, class_names: Vec<String>, train: ImageSet, test: ImageSet) -> Dataset {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("images").to_string();
    Dataset { name, source: Some(dir.to_path_buf()), class_names, train, test }
}

/// The decoded split, as the cache holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Decoded {
    pub train: ImageSet,
    pub test: ImageSet,
    pub notes: Vec<String>,
}

/// The class names and every image file with its class and side of the split, in a fixed order (train then test,
/// by class, by file name), or an error naming the folder that is wrong.
pub(super) fn list(dir: &Path, allow_empty: bool) -> Result<(Vec<String>, Vec<Entry>)> {
    if !dir.is_dir() {
        return Err(Error::data(dir, "not a folder"));
    }
    let (train_dir, test_dir) = (dir.join("train"), dir.join("test"));
    let budget = &mut Budget::default();
    if train_dir.is_dir() && test_dir.is_dir() {
        let names = class_dirs(&train_dir)?;
        check_classes(&train_dir, &names)?;
        let test_names = class_dirs(&test_dir)?;
        if let Some(extra) = test_names.iter().find(|n| !names.contains(n)) {
            return Err(Error::data(
                test_dir.join(extra),
                "a test class that train/ does not have: train/ and test/ need the same class folders",
            ));
        }
        let mut entries = Vec::new();
        for (split_dir, test) in [(&train_dir, false), (&test_dir, true)] {
            for (c, name) in names.iter().enumerate() {
                let class_dir = split_dir.join(name);
                if !class_dir.is_dir() && test {
                    continue;
                }
                let files = image_files(&class_dir, budget)?;
                if files.is_empty() && !test && !allow_empty {
                    return Err(Error::data(&class_dir, "this class folder holds no PNG or JPEG images"));
                }
                entries.extend(files.into_iter().map(|(path, size, mtime_ns)| Entry {
                    path,
                    class: c as u8,
                    test,
                    size,
                    mtime_ns,
                }));
            }
        }
        if !entries.iter().any(|e| e.test) {
            return Err(Error::data(
                &test_dir,
                "the test folder holds no images: there is nothing to measure accuracy on",
            ));
        }
        return Ok((names, entries));
    }
    let names = class_dirs(dir)?;
    check_classes(dir, &names)?;
    let mut train = Vec::new();
    let mut test = Vec::new();
    for (c, name) in names.iter().enumerate() {
        let class_dir = dir.join(name);
        let files = image_files(&class_dir, budget)?;
        if files.is_empty() && !allow_empty {
            return Err(Error::data(&class_dir, "this class folder holds no PNG or JPEG images"));
        }
        let to_test = split_test(files.len(), c);
        for (i, (path, size, mtime_ns)) in files.into_iter().enumerate() {
            let e = Entry { path, class: c as u8, test: to_test.contains(&i), size, mtime_ns };
            if e.test {
                test.push(e);
            } else {
                train.push(e);
            }
        }
    }
    if train.is_empty() && test.is_empty() {
        return Err(Error::data(dir, "the class folders hold no PNG or JPEG images yet"));
    }
    if test.is_empty() {
        return Err(Error::data(
            dir,
            "every class has a single image: at least one class needs two, so that one can be held out for testing",
        ));
    }
    train.extend(test);
    Ok((names, train))
}

/// Which of a class's `n` images (by sorted file name) go to the test set: [`TEST_SHARE`] of them, rounded, at least
/// one when the class has two or more, chosen by [`SPLIT_SEED`] and the class index.
pub fn split_test(n: usize, class: usize) -> Vec<usize> {
    let k = if n < 2 { 0 } else { ((n as f64 * TEST_SHARE).round() as usize).clamp(1, n - 1) };
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(SPLIT_SEED.wrapping_add(class as u64)).shuffle(&mut order);
    let mut picked = order[..k].to_vec();
    picked.sort_unstable();
    picked
}

/// Files and bytes listed so far, against the folder's limits.
#[derive(Default)]
struct Budget {
    files: usize,
    bytes: u64,
}

/// The subfolders of `dir` (not hidden), sorted; names must be UTF-8.
fn class_dirs(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in read_dir(dir)? {
        let entry = entry.map_err(|e| Error::data(dir, "cannot list the folder").because(e))?;
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false)
            || (entry.file_type().map(|t| t.is_symlink()).unwrap_or(false) && entry.path().is_dir());
        if !is_dir {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(String::from) else {
            return Err(Error::data(entry.path(), "a class folder whose name is not UTF-8"));
        };
        if !name.starts_with('.') {
            names.push(name);
        }
        if names.len() > MAX_CLASSES {
            break;
        }
    }
    names.sort();
    Ok(names)
}

fn check_classes(dir: &Path, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Err(Error::data(
            dir,
            "no class folders: an image folder has one subfolder per class holding PNG or JPEG files (or use the four \
             MNIST-format IDX files)",
        ));
    }
    if names.len() < 2 {
        return Err(Error::data(dir, format!("only one class folder ({}): at least 2 classes are needed", names[0])));
    }
    if names.len() > MAX_CLASSES {
        return Err(Error::data(dir, format!("more than {MAX_CLASSES} class folders: at most {MAX_CLASSES} classes")));
    }
    for n in names {
        if n.chars().count() > MAX_CLASS_NAME_CHARS || n.chars().any(char::is_control) {
            return Err(Error::data(
                dir.join(printable(n)),
                format!("a class name must be at most {MAX_CLASS_NAME_CHARS} characters, without control characters"),
            ));
        }
    }
    Ok(())
}

/// The PNG and JPEG files of a class folder (by extension, hidden files ignored), sorted by name, with size and
/// modification time, counted against the folder's limits.
fn image_files(dir: &Path, budget: &mut Budget) -> Result<Vec<(PathBuf, u64, u128)>> {
    let mut files = Vec::new();
    for entry in read_dir(dir)? {
        let entry = entry.map_err(|e| Error::data(dir, "cannot list the folder").because(e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        if name.starts_with('.') || !matches!(ext.as_str(), "png" | "jpg" | "jpeg") {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| Error::data(&path, "cannot read").because(e))?;
        budget.files += 1;
        budget.bytes += meta.len();
        if budget.files > MAX_FOLDER_FILES {
            return Err(Error::data(
                dir,
                format!("more than {MAX_FOLDER_FILES} images in the folder: too many to load"),
            ));
        }
        if budget.bytes > MAX_FOLDER_BYTES {
            return Err(Error::data(
                dir,
                format!("the images add up to more than {} GB: too much to load", MAX_FOLDER_BYTES >> 30),
            ));
        }
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        files.push((path, meta.len(), mtime_ns));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<std::fs::ReadDir> {
    std::fs::read_dir(dir).map_err(|e| Error::data(dir, "cannot list the folder").because(e))
}

/// Decodes every listed image (on all cores) through the canvas' preprocessing. Unreadable or blank images are
/// skipped and counted; too many of them, or a class left without training images, is an error.
pub(super) fn decode(dir: &Path, class_names: &[String], entries: &[Entry], allow_empty: bool) -> Result<Decoded> {
    let results: Vec<Result<[u8; IMAGE_PIXELS]>> = entries.par_iter().map(|e| decode_one(&e.path)).collect();
    let mut train = ImageSet { images: Vec::new(), labels: Vec::new() };
    let mut test = ImageSet { images: Vec::new(), labels: Vec::new() };
    let mut skipped = Vec::new();
    for (e, r) in entries.iter().zip(results) {
        match r {
            Ok(px) => {
                let set = if e.test { &mut test } else { &mut train };
                set.images.extend_from_slice(&px);
                set.labels.push(e.class);
            }
            Err(err) => skipped.push(err),
        }
    }
    let too_many = skipped.len() as f64 > (entries.len() as f64 * MAX_SKIPPED_SHARE).max(1.0);
    if let (true, Some(first)) = (too_many, skipped.first()) {
        return Err(Error::data(
            dir,
            format!("{} of {} images cannot be used; the first: {}", skipped.len(), entries.len(), first.report()),
        ));
    }
    for (c, name) in class_names.iter().enumerate() {
        if !allow_empty && !train.labels.contains(&(c as u8)) {
            let path = entries
                .iter()
                .find(|e| e.class as usize == c)
                .map(|e| e.path.clone())
                .unwrap_or_else(|| dir.join(name));
            return Err(Error::data(path, format!("no readable training image of class '{name}'")));
        }
    }
    if test.is_empty() {
        return Err(Error::data(dir, "no readable test image: there is nothing to measure accuracy on"));
    }
    let mut notes = Vec::new();
    if let Some(first) = skipped.first() {
        notes.push(format!(
            "skipped {} unusable image(s) of {}; the first: {}",
            skipped.len(),
            entries.len(),
            first.report()
        ));
    }
    Ok(Decoded { train, test, notes })
}

/// One image file as the network sees it: decoded, either polarity, cropped, scaled and centred like MNIST.
fn decode_one(path: &Path) -> Result<[u8; IMAGE_PIXELS]> {
    let img = GrayImage::read_file(path)?;
    let Some(x) = preprocess(&img) else {
        return Err(Error::image(path, "no digit or drawing: the image is blank or has no contrast"));
    };
    let mut out = [0u8; IMAGE_PIXELS];
    for (o, v) in out.iter_mut().zip(x) {
        *o = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_seeded_stratified_and_keeps_a_test_image() {
        assert_eq!(split_test(1, 0), Vec::<usize>::new());
        assert_eq!(split_test(2, 0).len(), 1);
        assert_eq!(split_test(10, 3).len(), 2);
        assert_eq!(split_test(100, 3).len(), 20);
        assert_eq!(split_test(100, 3), split_test(100, 3));
        assert_ne!(split_test(100, 3), split_test(100, 4), "each class draws its own");
    }
}

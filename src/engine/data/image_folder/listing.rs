//! The listing of an image folder, before anything is decoded: its class folders, checked, and every image file
//! with its class, side of the split, size and modification time, counted against the folder's limits.

use crate::engine::data::classes::MAX_CLASSES;
use crate::engine::rng::Rng;
use crate::error::printable;
use crate::{Error, Result};
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
const MAX_CLASS_NAME_CHARS: usize = 64;

/// One image file of the folder, with what the cache key is made of.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub path: PathBuf,
    pub class: u8,
    pub test: bool,
    pub size: u64,
    pub mtime_ns: u128,
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

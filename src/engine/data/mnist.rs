//! A data set of the MNIST family: the train/test pair of 28×28 images with labels and class names, read from a
//! folder with the four standard file names (gzip or raw) or from the copy shipped in the binary. Each file's
//! format is checked by [`idx`](super::idx), its checksum by [`checksums`](super::checksums), the class names by
//! [`classes`](super::classes); this module puts a folder's files together.

use crate::engine::data::checksums::{parse_sums, MAX_SUMS_BYTES};
use crate::engine::data::classes::{is_fashion, owned, parse_classes, MAX_CLASSES_BYTES};
use crate::engine::data::idx::{idx_from_file, Idx, Kind};
use crate::engine::data::image_folder::{self, is_image_folder, Loaded};
use crate::engine::model::rng::Rng;
use crate::engine::store::bounded_read::{read_bounded, Refusal};
use crate::error::printable;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

pub use crate::engine::data::classes::{DIGIT_CLASSES, FASHION_CLASSES};
pub use crate::engine::data::idx::{parse_images, parse_labels, MAX_IDX_FILE_BYTES, MAX_IDX_IMAGES};

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
pub const NUM_CLASSES: usize = 10;

pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Images as bytes (0 = background, 255 = full ink), row-major 28×28, with their labels. Kept as u8 to keep full
/// MNIST at ~50 MB; batches are converted to f32 on the fly.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// The i-th image scaled to 0..1.
    pub fn image(&self, i: usize) -> [f32; IMAGE_PIXELS] {
        let mut out = [0f32; IMAGE_PIXELS];
        for (o, &p) in out.iter_mut().zip(&self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]) {
            *o = p as f32 / 255.0;
        }
        out
    }
    /// The first `n` items (or all).
    pub fn truncated(&self, n: usize) -> ImageSet {
        let n = n.min(self.len());
        ImageSet { images: self.images[..n * IMAGE_PIXELS].to_vec(), labels: self.labels[..n].to_vec() }
    }
    /// Gathers the given items into a batch: pixels scaled to 0..1 (the training normalisation) and labels.
    pub fn batch(&self, indices: &[usize]) -> (Vec<f32>, Vec<u32>) {
        let mut pixels = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend(self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].iter().map(|&p| p as f32 / 255.0));
            labels.push(self.labels[i] as u32);
        }
        (pixels, labels)
    }
    /// A fresh permutation of 0..len per epoch, from the run's RNG: the same seed gives the same order.
    pub fn shuffled_indices(&self, rng: &mut Rng) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut idx);
        idx
    }
}

/// A train/test pair with what the UI and CLI need to describe it.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    /// Folder it was read from; None for the shipped MNIST.
    pub source: Option<PathBuf>,
    pub class_names: Vec<String>,
    pub train: ImageSet,
    pub test: ImageSet,
}

impl Dataset {
    /// Any folder with the four standard file names, gzip or raw (e.g. Fashion-MNIST).
    ///
    /// - Each file is checked from its header before it is read: a raw file whose length disagrees with its header,
    ///   or any file over [`MAX_IDX_FILE_BYTES`], is refused unread; gzip is inflated only as far as the header says
    ///   (a gzip bomb is refused after that many bytes), multi-member gzip loads, and data after the end is an error.
    /// - A `SHA256SUMS` file, if present, is checked for every file it lists (`sha256sum`'s forms: `HASH  name`,
    ///   `HASH *name`, `./name`; names match whole).
    /// - Class names come from `classes.txt` (UTF-8, exactly 10 non-empty names of at most 64 characters, no
    ///   control characters; anything else is an error), else Fashion-MNIST's when the labels are Fashion-MNIST's
    ///   (known checksums), else the digits.
    /// - A test set with no images is an error: there would be nothing to measure accuracy on.
    pub fn from_dir(dir: &Path) -> Result<Dataset> {
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
        let (tri, tri_b) = load(TRAIN_IMAGES, Kind::Images)?;
        let (trl, trl_b) = load(TRAIN_LABELS, Kind::Labels)?;
        let (tei, tei_b) = load(TEST_IMAGES, Kind::Images)?;
        let (tel, tel_b) = load(TEST_LABELS, Kind::Labels)?;
        let is_fashion = is_fashion(&trl_b.sha256, &tel_b.sha256);
        let train = read_pair(&tri, tri_b, &trl, trl_b)?;
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

    /// `--data DIR` if given, else the shipped MNIST.
    pub fn load(dir: Option<&Path>) -> Result<Dataset> {
        Dataset::load_noted(dir).map(|l| l.data)
    }

    /// [`Dataset::load`] with what the user should be told about the reading (skipped images, the cache). The one
    /// place that tells the two kinds of data folder apart: a folder with any of the four IDX file names is read as
    /// an MNIST-format set ([`Dataset::from_dir`]), any other as an image folder
    /// ([`image_folder`](super::image_folder)).
    pub fn load_noted(dir: Option<&Path>) -> Result<Loaded> {
        match dir {
            Some(d) if d.is_dir() && is_image_folder(d) => image_folder::load(d),
            Some(d) => Ok(Loaded { data: Dataset::from_dir(d)?, notes: Vec::new() }),
            None => Ok(Loaded { data: Dataset::shipped_mnist()?, notes: Vec::new() }),
        }
    }

    /// "MNIST (shipped)" or "Fashion-MNIST (/usr/share/…)", with any control character of a folder name escaped
    /// (it is printed on terminals).
    pub fn describe(&self) -> String {
        printable(&match &self.source {
            None => format!("{} (shipped, {} train / {} test)", self.name, self.train.len(), self.test.len()),
            Some(p) => {
                format!("{} ({}, {} train / {} test)", self.name, p.display(), self.train.len(), self.test.len())
            }
        })
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

pub(super) fn read_pair(img_path: &Path, img: Idx, lbl_path: &Path, lbl: Idx) -> Result<ImageSet> {
    if lbl.n != img.n {
        return Err(Error::data(
            lbl_path,
            format!("{} labels but {} has {} images: the counts must agree", lbl.n, img_path.display(), img.n),
        ));
    }
    Ok(ImageSet { images: img.items, labels: lbl.items })
}

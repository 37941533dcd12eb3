//! Reads the MNIST family of data sets (IDX files, gzip or raw) and validates them, so that a broken or foreign file
//! is a clear error rather than a crash or silent garbage. The four MNIST files are compiled into the binary: the
//! app trains with no set-up, from any working directory, with no network.

use crate::engine::rng::Rng;
use crate::{Error, Result};
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
pub const NUM_CLASSES: usize = 10;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

pub const DIGIT_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
pub const FASHION_CLASSES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// The shipped files, byte-exact copies of assets/mnist, with their published checksums.
const SHIPPED: [(&str, &[u8]); 4] = [
    (TRAIN_IMAGES, include_bytes!("../../assets/mnist/train-images-idx3-ubyte.gz")),
    (TRAIN_LABELS, include_bytes!("../../assets/mnist/train-labels-idx1-ubyte.gz")),
    (TEST_IMAGES, include_bytes!("../../assets/mnist/t10k-images-idx3-ubyte.gz")),
    (TEST_LABELS, include_bytes!("../../assets/mnist/t10k-labels-idx1-ubyte.gz")),
];
const SHIPPED_SHA256SUMS: &str = include_str!("../../assets/mnist/SHA256SUMS");

/// Images as bytes (0 = background, 255 = full ink), row-major 28×28, with their labels. Kept as u8 to keep full
/// MNIST at ~50 MB; batches are converted to f32 on the fly.
#[derive(Debug, Clone)]
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
    /// The MNIST files shipped inside the binary, checksums verified.
    pub fn shipped_mnist() -> Result<Dataset> {
        let mut parts = Vec::new();
        for (name, bytes) in SHIPPED {
            let gz_name = format!("{name}.gz");
            verify_sha256(Path::new(&format!("assets/mnist/{gz_name}")), bytes, SHIPPED_SHA256SUMS, &gz_name)?;
            parts.push(bytes);
        }
        let path = |n: &str| PathBuf::from(format!("assets/mnist/{n}.gz"));
        let train = read_pair(&path(TRAIN_IMAGES), parts[0], &path(TRAIN_LABELS), parts[1])?;
        let test = read_pair(&path(TEST_IMAGES), parts[2], &path(TEST_LABELS), parts[3])?;
        Ok(Dataset {
            name: "MNIST".into(),
            source: None,
            class_names: DIGIT_CLASSES.iter().map(|s| s.to_string()).collect(),
            train,
            test,
        })
    }

    /// Any folder with the four standard file names, gzip or raw (e.g. Fashion-MNIST). A SHA256SUMS file in the
    /// folder, if present, is checked too. Class names come from a `classes.txt` (one per line) if present, else
    /// Fashion-MNIST's when the folder name says fashion, else the digits.
    pub fn from_dir(dir: &Path) -> Result<Dataset> {
        if !dir.is_dir() {
            return Err(Error::data(dir, "not a folder (expected one with the four MNIST-format IDX files)"));
        }
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).ok();
        let load = |stem: &str| -> Result<(PathBuf, Vec<u8>)> {
            let gz = dir.join(format!("{stem}.gz"));
            let raw = dir.join(stem);
            let path = if gz.is_file() {
                gz
            } else if raw.is_file() {
                raw
            } else {
                return Err(Error::data(dir.join(format!("{stem}.gz")), "file not found (neither .gz nor raw)"));
            };
            let bytes = std::fs::read(&path).map_err(|e| Error::data(&path, "cannot read").because(e))?;
            if let Some(sums) = &sums {
                let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                if sums.contains(&file_name) {
                    verify_sha256(&path, &bytes, sums, &file_name)?;
                }
            }
            Ok((path, bytes))
        };
        let (tri, tri_b) = load(TRAIN_IMAGES)?;
        let (trl, trl_b) = load(TRAIN_LABELS)?;
        let (tei, tei_b) = load(TEST_IMAGES)?;
        let (tel, tel_b) = load(TEST_LABELS)?;
        let train = read_pair(&tri, &tri_b, &trl, &trl_b)?;
        let test = read_pair(&tei, &tei_b, &tel, &tel_b)?;
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("data").to_string();
        let is_fashion = dir.to_string_lossy().to_ascii_lowercase().contains("fashion");
        let class_names: Vec<String> = match std::fs::read_to_string(dir.join("classes.txt")) {
            Ok(text) => {
                let names: Vec<String> =
                    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
                if names.len() != NUM_CLASSES {
                    return Err(Error::data(
                        dir.join("classes.txt"),
                        format!("expected 10 class names, found {}", names.len()),
                    ));
                }
                names
            }
            Err(_) if is_fashion => FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
            Err(_) => DIGIT_CLASSES.iter().map(|s| s.to_string()).collect(),
        };
        let name = if is_fashion { "Fashion-MNIST".to_string() } else { folder };
        Ok(Dataset { name, source: Some(dir.to_path_buf()), class_names, train, test })
    }

    /// `--data DIR` if given, else the shipped MNIST.
    pub fn load(dir: Option<&Path>) -> Result<Dataset> {
        match dir {
            Some(d) => Dataset::from_dir(d),
            None => Dataset::shipped_mnist(),
        }
    }

    /// "MNIST (shipped)" or "Fashion-MNIST (/usr/share/…)".
    pub fn describe(&self) -> String {
        match &self.source {
            None => format!("{} (shipped, {} train / {} test)", self.name, self.train.len(), self.test.len()),
            Some(p) => {
                format!("{} ({}, {} train / {} test)", self.name, p.display(), self.train.len(), self.test.len())
            }
        }
    }
}

fn verify_sha256(path: &Path, bytes: &[u8], sums: &str, file_name: &str) -> Result<()> {
    let expected = sums
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?, it.next()?.trim_start_matches('*')))
        })
        .find(|(_, n)| *n == file_name)
        .map(|(h, _)| h.to_ascii_lowercase());
    let Some(expected) = expected else {
        return Err(Error::data(path, "no checksum listed for this file"));
    };
    let actual: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    if actual != expected {
        return Err(Error::data(
            path,
            format!("checksum mismatch (sha256 {actual}, expected {expected}): the file is corrupt"),
        ));
    }
    Ok(())
}

/// Decompresses if the bytes are gzip (by magic, not by name), else returns them as they are.
fn maybe_gunzip(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| Error::data(path, "corrupt or truncated gzip data").because(e))?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an IDX3 image file: magic 0x803, count, 28, 28, then count·784 bytes.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<(usize, Vec<u8>)> {
    let data = maybe_gunzip(path, bytes)?;
    if data.len() < 16 {
        return Err(Error::data(path, format!("too short for an IDX image header ({} bytes)", data.len())));
    }
    let magic = be_u32(&data, 0);
    if magic != IMAGES_MAGIC {
        return Err(Error::data(
            path,
            format!("wrong magic number 0x{magic:08x} (an IDX image file has 0x{IMAGES_MAGIC:08x})"),
        ));
    }
    let (n, rows, cols) = (be_u32(&data, 4) as usize, be_u32(&data, 8) as usize, be_u32(&data, 12) as usize);
    if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
        return Err(Error::data(path, format!("images are {rows}×{cols}; LeNet-5 here needs 28×28")));
    }
    let expected = n.checked_mul(IMAGE_PIXELS).and_then(|p| p.checked_add(16));
    match expected {
        Some(e) if e == data.len() => Ok((n, data[16..].to_vec())),
        Some(e) if e > data.len() => Err(Error::data(
            path,
            format!("truncated: header says {n} images ({e} bytes) but the file has {} bytes", data.len()),
        )),
        _ => Err(Error::data(
            path,
            format!("{} bytes of trailing data after {n} images", data.len().saturating_sub(expected.unwrap_or(0))),
        )),
    }
}

/// Parses an IDX1 label file: magic 0x801, count, then count bytes each in 0..=9.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let data = maybe_gunzip(path, bytes)?;
    if data.len() < 8 {
        return Err(Error::data(path, format!("too short for an IDX label header ({} bytes)", data.len())));
    }
    let magic = be_u32(&data, 0);
    if magic != LABELS_MAGIC {
        return Err(Error::data(
            path,
            format!("wrong magic number 0x{magic:08x} (an IDX label file has 0x{LABELS_MAGIC:08x})"),
        ));
    }
    let n = be_u32(&data, 4) as usize;
    if data.len() != 8 + n {
        return Err(Error::data(path, format!("header says {n} labels but the file holds {}", data.len() - 8)));
    }
    let labels = data[8..].to_vec();
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= NUM_CLASSES) {
        return Err(Error::data(path, format!("label {l} at index {i} is out of range 0..9")));
    }
    Ok(labels)
}

fn read_pair(img_path: &Path, img: &[u8], lbl_path: &Path, lbl: &[u8]) -> Result<ImageSet> {
    let (n, images) = parse_images(img_path, img)?;
    let labels = parse_labels(lbl_path, lbl)?;
    if labels.len() != n {
        return Err(Error::data(
            lbl_path,
            format!("{} labels but {} has {n} images: the counts must agree", labels.len(), img_path.display()),
        ));
    }
    Ok(ImageSet { images, labels })
}

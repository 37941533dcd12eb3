//! Reads the MNIST family of data sets (IDX files, gzip or raw) and validates them, so that a broken or foreign file
//! is a clear error rather than a crash or silent garbage. The four MNIST files are compiled into the binary: the
//! app trains with no set-up, from any working directory, with no network.

use crate::engine::model::rng::Rng;
use crate::{Error, Result};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::io::{BufRead, Read};
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
    (TRAIN_IMAGES, include_bytes!("../../../assets/mnist/train-images-idx3-ubyte.gz")),
    (TRAIN_LABELS, include_bytes!("../../../assets/mnist/train-labels-idx1-ubyte.gz")),
    (TEST_IMAGES, include_bytes!("../../../assets/mnist/t10k-images-idx3-ubyte.gz")),
    (TEST_LABELS, include_bytes!("../../../assets/mnist/t10k-labels-idx1-ubyte.gz")),
];
const SHIPPED_SHA256SUMS: &str = include_str!("../../../assets/mnist/SHA256SUMS");

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
        let sums_path = Path::new("assets/mnist/SHA256SUMS");
        let sums = parse_sums(sums_path, SHIPPED_SHA256SUMS)?;
        let mut parts = Vec::new();
        for (name, bytes) in SHIPPED {
            let path = PathBuf::from(format!("assets/mnist/{name}.gz"));
            let expected = sums.get(&format!("{name}.gz")).map(String::as_str);
            let Some(expected) = expected else {
                return Err(Error::data(&path, "no checksum listed for this file"));
            };
            check_digest(&path, &hex(&Sha256::digest(bytes)), expected)?;
            parts.push((path, bytes));
        }
        let train = read_pair(
            &parts[0].0,
            idx_from_bytes(&parts[0].0, parts[0].1, Kind::Images)?,
            &parts[1].0,
            idx_from_bytes(&parts[1].0, parts[1].1, Kind::Labels)?,
        )?;
        let test = read_pair(
            &parts[2].0,
            idx_from_bytes(&parts[2].0, parts[2].1, Kind::Images)?,
            &parts[3].0,
            idx_from_bytes(&parts[3].0, parts[3].1, Kind::Labels)?,
        )?;
        Ok(Dataset {
            name: "MNIST".into(),
            source: None,
            class_names: DIGIT_CLASSES.iter().map(|s| s.to_string()).collect(),
            train,
            test,
        })
    }

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
            return Err(Error::data(dir, "not a folder (expected one with the four MNIST-format IDX files)"));
        }
        let sums_path = dir.join("SHA256SUMS");
        let sums = match read_small_text(&sums_path, MAX_SUMS_BYTES)? {
            Some(text) => Some(parse_sums(&sums_path, &text)?),
            None => None,
        };
        let load = |stem: &str, kind: Kind| -> Result<(PathBuf, Idx)> {
            let gz = dir.join(format!("{stem}.gz"));
            let raw = dir.join(stem);
            let path = if gz.is_file() {
                gz
            } else if raw.is_file() {
                raw
            } else {
                return Err(Error::data(dir.join(format!("{stem}.gz")), "file not found (neither .gz nor raw)"));
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
        let is_fashion = trl_b.sha256 == FASHION_TRAIN_LABELS_SHA256 && tel_b.sha256 == FASHION_TEST_LABELS_SHA256;
        let train = read_pair(&tri, tri_b, &trl, trl_b)?;
        let test = read_pair(&tei, tei_b, &tel, tel_b)?;
        if test.is_empty() {
            return Err(Error::data(&tei, "the test set has 0 images: there is nothing to measure accuracy on"));
        }
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("data").to_string();
        let class_names: Vec<String> = match read_classes(&dir.join("classes.txt"))? {
            Some(names) => names,
            None if is_fashion => FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
            None => DIGIT_CLASSES.iter().map(|s| s.to_string()).collect(),
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

/// At most this many images per IDX file (EMNIST Digits' 240,000 fit); bigger headers are refused unread.
pub const MAX_IDX_IMAGES: usize = 300_000;
/// No IDX file (raw or gzip) can legitimately be larger than the largest accepted image file, plus gzip's framing.
pub const MAX_IDX_FILE_BYTES: u64 = (16 + MAX_IDX_IMAGES * IMAGE_PIXELS) as u64 + (1 << 20);
const MAX_SUMS_BYTES: u64 = 1 << 20;
const MAX_CLASSES_BYTES: u64 = 64 * 1024;
const MAX_CLASS_NAME_CHARS: usize = 64;
/// SHA-256 of Fashion-MNIST's decompressed label files (identical in the original .gz files and Debian's
/// re-compressed `dataset-fashion-mnist`), which tell Fashion-MNIST apart from any other MNIST-format set.
const FASHION_TRAIN_LABELS_SHA256: &str = "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9";
const FASHION_TEST_LABELS_SHA256: &str = "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Images,
    Labels,
}

impl Kind {
    fn header_len(self) -> usize {
        match self {
            Kind::Images => 16,
            Kind::Labels => 8,
        }
    }
}

/// One IDX file's content: the item count, the items (784 bytes per image, or one per label), and the SHA-256 of
/// the decompressed file (header included).
struct Idx {
    n: usize,
    items: Vec<u8>,
    sha256: String,
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_digest(path: &Path, actual: &str, expected: &str) -> Result<()> {
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(Error::data(
            path,
            format!("checksum mismatch (sha256 {actual}, expected {expected}): the file is corrupt"),
        ));
    }
    Ok(())
}

/// A reader that hashes what passes through it (the file's own bytes, for SHA256SUMS).
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads one IDX file from disk; see `read_idx`. `expected_sha256`: the SHA256SUMS entry for it, if any.
fn idx_from_file(path: &Path, kind: Kind, expected_sha256: Option<&str>) -> Result<Idx> {
    let meta = std::fs::metadata(path).map_err(|e| Error::data(path, "cannot read").because(e))?;
    if !meta.is_file() {
        return Err(Error::data(path, "not a regular file"));
    }
    if meta.len() > MAX_IDX_FILE_BYTES {
        return Err(Error::data(
            path,
            format!(
                "file is {} MB, over the {} MB limit ({MAX_IDX_IMAGES} images)",
                meta.len() >> 20,
                MAX_IDX_FILE_BYTES >> 20
            ),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::data(path, "cannot read").because(e))?;
    let mut hashing = Hashing { inner: file, hash: Sha256::new() };
    let idx = read_idx(path, std::io::BufReader::new(&mut hashing), meta.len(), kind);
    if let Some(expected) = expected_sha256 {
        // The whole file, also what a failed parse left unread, so a corrupt file is reported as such.
        let _ = std::io::copy(&mut hashing, &mut std::io::sink());
        check_digest(path, &hex(&hashing.hash.finalize()), expected)?;
    }
    idx
}

fn idx_from_bytes(path: &Path, bytes: &[u8], kind: Kind) -> Result<Idx> {
    read_idx(path, bytes, bytes.len() as u64, kind)
}

/// Reads `want` bytes or as many as there are; I/O and gzip errors name the file.
fn read_up_to(path: &Path, r: &mut impl Read, want: usize, gzip: bool) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(want.min(64 << 20));
    r.take(want as u64).read_to_end(&mut buf).map_err(|e| {
        if gzip {
            Error::data(path, "corrupt or truncated gzip data").because(e)
        } else {
            Error::data(path, "cannot read").because(e)
        }
    })?;
    Ok(buf)
}

/// Parses an IDX file, gzip (by magic, not by name; multi-member allowed) or raw, reading no more than its header
/// promises: the header is checked first, a raw file's length must match it before the rest is read, and gzip is
/// inflated to exactly the promised length, after which only the end of the stream may follow.
fn read_idx(path: &Path, mut src: impl BufRead, file_len: u64, kind: Kind) -> Result<Idx> {
    let peek = src.fill_buf().map_err(|e| Error::data(path, "cannot read").because(e))?;
    let gzip = peek.len() >= 2 && peek[0] == 0x1f && peek[1] == 0x8b;
    let mut reader: Box<dyn Read + '_> = if gzip { Box::new(MultiGzDecoder::new(src)) } else { Box::new(src) };
    let what = match kind {
        Kind::Images => "an IDX image",
        Kind::Labels => "an IDX label",
    };
    let header = read_up_to(path, &mut reader, kind.header_len(), gzip)?;
    if header.len() < kind.header_len() {
        return Err(Error::data(path, format!("too short for {what} header ({} bytes)", header.len())));
    }
    let magic = be_u32(&header, 0);
    let want_magic = match kind {
        Kind::Images => IMAGES_MAGIC,
        Kind::Labels => LABELS_MAGIC,
    };
    if magic != want_magic {
        return Err(Error::data(
            path,
            format!("wrong magic number 0x{magic:08x} ({what} file has 0x{want_magic:08x})"),
        ));
    }
    let n = be_u32(&header, 4) as usize;
    let item = match kind {
        Kind::Images => {
            let (rows, cols) = (be_u32(&header, 8) as usize, be_u32(&header, 12) as usize);
            if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
                return Err(Error::data(path, format!("images are {rows}×{cols}; LeNet-5 here needs 28×28")));
            }
            IMAGE_PIXELS
        }
        Kind::Labels => 1,
    };
    let noun = if kind == Kind::Images { "images" } else { "labels" };
    if n > MAX_IDX_IMAGES {
        return Err(Error::data(path, format!("header says {n} {noun}; at most {MAX_IDX_IMAGES} are supported")));
    }
    let body = n * item;
    let total = kind.header_len() + body;
    if !gzip && file_len != total as u64 {
        return Err(Error::data(
            path,
            if file_len < total as u64 {
                format!("truncated: header says {n} {noun} ({total} bytes) but the file has {file_len} bytes")
            } else {
                format!("{} bytes of trailing data after {n} {noun}", file_len - total as u64)
            },
        ));
    }
    let items = read_up_to(path, &mut reader, body, gzip)?;
    if items.len() < body {
        let got = kind.header_len() + items.len();
        return Err(Error::data(
            path,
            format!("truncated: header says {n} {noun} ({total} bytes) but the file holds {got} bytes"),
        ));
    }
    if gzip {
        // Only the end of the gzip stream may follow: a byte more is too much data (a bomb stops here).
        let mut one = [0u8; 1];
        match reader.read(&mut one) {
            Ok(0) => {}
            Ok(_) => {
                return Err(Error::data(
                    path,
                    format!("more data than the header's {n} {noun} ({total} bytes): trailing data is refused"),
                ))
            }
            Err(e) => return Err(Error::data(path, format!("unexpected data after the {n} {noun} (not gzip): {e}"))),
        }
    }
    if kind == Kind::Labels {
        if let Some((i, &l)) = items.iter().enumerate().find(|(_, &l)| l as usize >= NUM_CLASSES) {
            return Err(Error::data(path, format!("label {l} at index {i} is out of range 0..9")));
        }
    }
    let mut h = Sha256::new();
    h.update(&header);
    h.update(&items);
    Ok(Idx { n, items, sha256: hex(&h.finalize()) })
}

/// Reads a small optional text file: None if it does not exist; an error naming it if it is not a regular file,
/// too big, unreadable or not UTF-8 (a leading byte-order mark is dropped).
fn read_small_text(path: &Path, max: u64) -> Result<Option<String>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::data(path, "cannot read").because(e)),
    };
    if !meta.is_file() {
        return Err(Error::data(path, "not a regular file"));
    }
    if meta.len() > max {
        return Err(Error::data(path, format!("{} bytes is too large (at most {max})", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::data(path, "cannot read").because(e))?;
    let text = String::from_utf8(bytes).map_err(|e| Error::data(path, "not UTF-8 text").because(e))?;
    Ok(Some(text.strip_prefix('\u{feff}').unwrap_or(&text).to_string()))
}

/// `classes.txt`: exactly 10 names, one per line (surrounding spaces trimmed, blank lines at the end ignored),
/// each non-empty, at most 64 characters, without control characters.
fn read_classes(path: &Path) -> Result<Option<Vec<String>>> {
    let Some(text) = read_small_text(path, MAX_CLASSES_BYTES)? else { return Ok(None) };
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
    Ok(Some(lines.into_iter().map(String::from).collect()))
}

/// Parses a checksum list in `sha256sum`'s forms (`HASH  name`, `HASH *name`, optionally `./name`, and the
/// backslash-escaped form for names with a newline or backslash) or BSD's `SHA256 (name) = HASH`. Blank lines and
/// `#` comments are skipped; anything else is an error naming the line.
fn parse_sums(path: &Path, text: &str) -> Result<std::collections::HashMap<String, String>> {
    let mut map = std::collections::HashMap::new();
    let is_hash = |h: &str| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let parsed = if let Some(rest) = line.strip_prefix("SHA256 (") {
            rest.rsplit_once(") = ").map(|(name, h)| (h.trim(), name.to_string()))
        } else {
            let (escaped, line) = match line.strip_prefix('\\') {
                Some(l) => (true, l),
                None => (false, line),
            };
            match (line.get(..64), line.get(64..65), line.get(65..)) {
                (Some(h), Some(" "), Some(rest)) => {
                    let name = rest.strip_prefix('*').or_else(|| rest.strip_prefix(' ')).unwrap_or(rest);
                    let name = if escaped { name.replace("\\n", "\n").replace("\\\\", "\\") } else { name.to_string() };
                    Some((h, name))
                }
                _ => None,
            }
        };
        match parsed {
            Some((h, name)) if is_hash(h) && !name.is_empty() => {
                let name = name.strip_prefix("./").map(String::from).unwrap_or(name);
                map.insert(name, h.to_ascii_lowercase());
            }
            _ => {
                return Err(Error::data(
                    path,
                    format!("line {}: not a sha256sum line (expected 64 hex digits, two spaces, a file name)", i + 1),
                ))
            }
        }
    }
    Ok(map)
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an IDX3 image file held in memory: magic 0x803, count, 28, 28, then count·784 bytes (gzip or raw).
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<(usize, Vec<u8>)> {
    let idx = idx_from_bytes(path, bytes, Kind::Images)?;
    Ok((idx.n, idx.items))
}

/// Parses an IDX1 label file held in memory: magic 0x801, count, then count bytes each in 0..=9 (gzip or raw).
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    Ok(idx_from_bytes(path, bytes, Kind::Labels)?.items)
}

fn read_pair(img_path: &Path, img: Idx, lbl_path: &Path, lbl: Idx) -> Result<ImageSet> {
    if lbl.n != img.n {
        return Err(Error::data(
            lbl_path,
            format!("{} labels but {} has {} images: the counts must agree", lbl.n, img_path.display(), img.n),
        ));
    }
    Ok(ImageSet { images: img.items, labels: lbl.items })
}

//! The IDX format of the MNIST family (gzip or raw), read defensively: the header is checked before the body, a
//! raw file's length must match it, gzip is inflated only as far as the header promises (a bomb stops there), and
//! labels must be 0..9. Every error names the file.

use crate::engine::data::checksums::{check_digest, hex, Hashing};
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};
use crate::engine::files::bounded_read::open_bounded;
use crate::{Error, Result};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::io::{BufRead, Read};
use std::path::Path;

/// The four standard file names of a data set of the MNIST family (each also read as `NAME.gz`).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// At most this many images per IDX file (EMNIST Digits' 240,000 fit); bigger headers are refused unread.
pub const MAX_IDX_IMAGES: usize = 300_000;
/// No IDX file (raw or gzip) can legitimately be larger than the largest accepted image file, plus gzip's framing.
pub const MAX_IDX_FILE_BYTES: u64 = (16 + MAX_IDX_IMAGES * IMAGE_PIXELS) as u64 + (1 << 20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) struct Idx {
    pub(super) n: usize,
    pub(super) items: Vec<u8>,
    pub(super) sha256: String,
}

/// Reads one IDX file from disk; see `read_idx`. `expected_sha256`: the SHA256SUMS entry for it, if any.
pub(super) fn idx_from_file(path: &Path, kind: Kind, expected_sha256: Option<&str>) -> Result<Idx> {
    let (file, len) = open_bounded(path, MAX_IDX_FILE_BYTES).map_err(|r| {
        r.into_error(
            path,
            |p, m| Error::data(p, m),
            |len| {
                format!(
                    "file is {} MB, over the {} MB limit ({MAX_IDX_IMAGES} images)",
                    len >> 20,
                    MAX_IDX_FILE_BYTES >> 20
                )
            },
        )
    })?;
    let mut hashing = Hashing::new(file);
    let idx = read_idx(path, std::io::BufReader::new(&mut hashing), len, kind);
    if let Some(expected) = expected_sha256 {
        // The whole file, also what a failed parse left unread, so a corrupt file is reported as such.
        let _ = std::io::copy(&mut hashing, &mut std::io::sink());
        check_digest(path, &hashing.hex_digest(), expected)?;
    }
    idx
}

pub(super) fn idx_from_bytes(path: &Path, bytes: &[u8], kind: Kind) -> Result<Idx> {
    read_idx(path, bytes, bytes.len() as u64, kind)
}

/// Reads `want` bytes or as many as there are, straight into a buffer of exactly that size: the set's pixels are
/// never held twice or in a grown buffer's slack (issue 29: a 300k-image set is 235 MB, no more). The buffer is
/// zeroed, so pages a short (lying) gzip stream never fills are not resident: its cost is address space, bounded
/// by [`MAX_IDX_IMAGES`]. I/O and gzip errors name the file.
fn read_up_to(path: &Path, r: &mut impl Read, want: usize, gzip: bool) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; want];
    let mut filled = 0;
    while filled < want {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if gzip => return Err(Error::data(path, "corrupt or truncated gzip data").because(e)),
            Err(e) => return Err(Error::data(path, "cannot read").because(e)),
        }
    }
    buf.truncate(filled);
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

/// The images and labels of one half of the set, once their counts agree.
pub(super) fn read_pair(img_path: &Path, img: Idx, lbl_path: &Path, lbl: Idx) -> Result<ImageSet> {
    if lbl.n != img.n {
        return Err(Error::data(
            lbl_path,
            format!("{} labels but {} has {} images: the counts must agree", lbl.n, img_path.display(), img.n),
        ));
    }
    Ok(ImageSet { images: img.items, labels: lbl.items })
}

//! The decoded image folder kept beside it (`.lenet-cache-v1.bin`, a hidden file the listing ignores), so that
//! opening a folder of thousands of photos a second time takes milliseconds instead of a decoding pass. It is keyed
//! by a SHA-256 of the class names and every file's relative name, side of the split, size and modification time
//! (and the preprocessing's version): any added, removed, renamed or touched image makes it stale, and it is
//! rebuilt. A cache that is stale, truncated, oversized or corrupt (its payload's SHA-256 is in the header) is
//! ignored, never an error: the images are the truth. Written atomically.

use crate::engine::data::image_folder::decode::Decoded;
use crate::engine::data::image_folder::listing::{Entry, MAX_FOLDER_FILES};
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS};
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::files::bounded_read::open_bounded;
use crate::Result;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

pub const CACHE_FILE: &str = ".lenet-cache-v1.bin";
/// Version 2 added the payload's digest (a version-1 file is stale, and rebuilt).
const MAGIC: &[u8; 8] = b"LENETIF2";
/// Bumped whenever the preprocessing changes what an image becomes.
const PREPROCESSING_VERSION: u32 = 1;
const MAX_NOTES_BYTES: usize = 64 * 1024;
/// Magic, key, three counts, and the SHA-256 of everything after the header.
const HEADER_BYTES: usize = 8 + 32 + 12 + 32;
const MAX_CACHE_BYTES: u64 = (HEADER_BYTES + MAX_NOTES_BYTES + MAX_FOLDER_FILES * (IMAGE_PIXELS + 1)) as u64;

/// The cache key of a listing.
pub(super) fn key(dir: &Path, class_names: &[String], entries: &[Entry]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(PREPROCESSING_VERSION.to_le_bytes());
    for n in class_names {
        h.update((n.len() as u64).to_le_bytes());
        h.update(n.as_bytes());
    }
    for e in entries {
        let rel = e.path.strip_prefix(dir).unwrap_or(&e.path).to_string_lossy();
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update([e.class, e.test as u8]);
        h.update(e.size.to_le_bytes());
        h.update(e.mtime_ns.to_le_bytes());
    }
    h.finalize().into()
}

/// The cached set if the file is there, whole and made from exactly this listing.
pub(super) fn read(path: &Path, key: &[u8; 32], class_names: &[String]) -> Option<Decoded> {
    // The header first: a foreign or stale file of any size costs 84 bytes of reading, not its length.
    if !plain_or_absent(path).ok()? {
        return None;
    }
    let (mut file, len) = open_bounded(path, MAX_CACHE_BYTES).ok()?;
    let mut header = [0u8; HEADER_BYTES];
    file.read_exact(&mut header).ok()?;
    if &header[..8] != MAGIC || &header[8..40] != key {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().unwrap_or_default()) as usize;
    let (n_train, n_test, notes_len) = (u32_at(40), u32_at(44), u32_at(48));
    if n_train + n_test > MAX_FOLDER_FILES || notes_len > MAX_NOTES_BYTES {
        return None;
    }
    let expected = HEADER_BYTES + notes_len + (n_train + n_test) * (IMAGE_PIXELS + 1);
    if len != expected as u64 {
        return None;
    }
    let mut bytes = header.to_vec();
    bytes.reserve_exact(expected - HEADER_BYTES);
    file.take((expected - HEADER_BYTES) as u64).read_to_end(&mut bytes).ok()?;
    if bytes.len() != expected || header[52..84] != Sha256::digest(&bytes[HEADER_BYTES..])[..] {
        // Short, or changed since it was written (a flipped pixel would otherwise train silently).
        return None;
    }
    let mut at = HEADER_BYTES;
    let mut take = |n: usize| {
        let s = &bytes[at..at + n];
        at += n;
        s
    };
    let notes = std::str::from_utf8(take(notes_len)).ok()?.lines().map(String::from).collect();
    let mut set = |n: usize| ImageSet { labels: take(n).to_vec(), images: take(n * IMAGE_PIXELS).to_vec() };
    let train = set(n_train);
    let test = set(n_test);
    let classes = class_names.len();
    if train.labels.iter().chain(&test.labels).any(|&l| l as usize >= classes) {
        return None;
    }
    Some(Decoded { train, test, notes })
}

/// Whether a cache read with the right key can stand for this listing: each side's labels must be the listing's
/// labels for that side, in order, with at most the share of images decoding may skip left out. A cache whose
/// labels were rewritten, or that claims fewer images than the folder holds, fails; the images are then decoded
/// afresh (a copied or archived folder keeps its files' times, so the key alone cannot tell).
pub(super) fn consistent(d: &Decoded, entries: &[Entry]) -> std::result::Result<(), String> {
    let mut skipped = 0;
    for (side, set, test) in [("training", &d.train, false), ("test", &d.test, true)] {
        let expected: Vec<u8> = entries.iter().filter(|e| e.test == test).map(|e| e.class).collect();
        let mut cached = set.labels.iter().peekable();
        for &label in &expected {
            if cached.peek() == Some(&&label) {
                cached.next();
            } else {
                skipped += 1;
            }
        }
        if cached.next().is_some() {
            return Err(format!("its {side} labels are not those of the class folders"));
        }
    }
    let allowed = (entries.len() as f64 * super::decode::MAX_SKIPPED_SHARE).max(1.0);
    if skipped as f64 > allowed {
        return Err(format!("it holds {} of the folder's {} images", entries.len() - skipped, entries.len()));
    }
    Ok(())
}

/// The cache's own path holds nothing, or a regular file: never a link (its target could be a user's file or a
/// terminal), a FIFO (opening it blocks), a device or a folder. Anything else is left alone and not used.
fn plain_or_absent(path: &Path) -> std::result::Result<bool, String> {
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(false),
        Ok(m) if m.file_type().is_file() => Ok(true),
        Ok(m) if m.file_type().is_symlink() => Err("it is a symbolic link, not a regular file".into()),
        Ok(m) => Err(format!("it is {}, not a regular file", crate::engine::files::bounded_read::kind_of(&m))),
    }
}

/// Writes the cache atomically, only where nothing or a regular file is (see [`plain_or_absent`]).
pub(super) fn write(path: &Path, key: &[u8; 32], d: &Decoded) -> Result<()> {
    if let Err(why) = plain_or_absent(path) {
        return Err(crate::Error::write(path, format!("{why}: left alone")));
    }
    let mut notes = d.notes.join("\n");
    if notes.len() > MAX_NOTES_BYTES {
        let mut cut = MAX_NOTES_BYTES;
        while !notes.is_char_boundary(cut) {
            cut -= 1;
        }
        notes.truncate(cut);
    }
    let images = d.train.len() + d.test.len();
    let mut out = Vec::with_capacity(HEADER_BYTES + notes.len() + images * (IMAGE_PIXELS + 1));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(key);
    for n in [d.train.len(), d.test.len(), notes.len()] {
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(&[0u8; 32]);
    out.extend_from_slice(notes.as_bytes());
    for s in [&d.train, &d.test] {
        out.extend_from_slice(&s.labels);
        out.extend_from_slice(&s.images);
    }
    let digest = Sha256::digest(&out[HEADER_BYTES..]);
    out[52..84].copy_from_slice(&digest);
    write_atomic(path, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_round_trips_and_anything_else_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CACHE_FILE);
        let names = vec!["a".to_string(), "b".to_string()];
        let set =
            |n: usize| ImageSet { images: vec![7; n * IMAGE_PIXELS], labels: (0..n).map(|i| (i % 2) as u8).collect() };
        let d = Decoded { train: set(5), test: set(2), notes: vec!["skipped 1".into()] };
        let k = [3u8; 32];
        write(&p, &k, &d).unwrap();
        assert_eq!(read(&p, &k, &names), Some(d));
        assert_eq!(read(&p, &[4u8; 32], &names), None, "another listing");
        assert_eq!(read(&p, &k, &names[..1]), None, "labels beyond the classes");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(read(&p, &k, &names), None, "truncated");
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&p, &flipped).unwrap();
        assert_eq!(read(&p, &k, &names), None, "one pixel changed");
    }
}

//! SHA-256 checks of data files: the `SHA256SUMS` list (in `sha256sum`'s and BSD's forms) and the digest of what
//! was read, so a corrupt or substituted file is named as such.

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// A `SHA256SUMS` file is refused above this size, before it is read.
pub(super) const MAX_SUMS_BYTES: u64 = 1 << 20;

/// Lower-case hex of a digest.
pub(super) fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes`, as hex.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(super) fn check_digest(path: &Path, actual: &str, expected: &str) -> Result<()> {
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(Error::data(
            path,
            format!("checksum mismatch (sha256 {actual}, expected {expected}): the file is corrupt"),
        ));
    }
    Ok(())
}

/// A reader that hashes what passes through it (the file's own bytes, for SHA256SUMS).
pub(super) struct Hashing<R> {
    pub(super) inner: R,
    pub(super) hash: Sha256,
}

impl<R> Hashing<R> {
    pub(super) fn new(inner: R) -> Self {
        Hashing { inner, hash: Sha256::new() }
    }
    /// The hex digest of everything read so far.
    pub(super) fn hex_digest(self) -> String {
        hex(&self.hash.finalize())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Parses a checksum list in `sha256sum`'s forms (`HASH  name`, `HASH *name`, optionally `./name`, and the
/// backslash-escaped form for names with a newline or backslash) or BSD's `SHA256 (name) = HASH`. Blank lines and
/// `#` comments are skipped; anything else is an error naming the line.
pub(super) fn parse_sums(path: &Path, text: &str) -> Result<HashMap<String, String>> {
    let mut map = HashMap::new();
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

//! The one way this crate writes a file, so that a failure never leaves a half-written file behind and nothing
//! planted in the folder can redirect the write:
//!
//! - the temporary file is created exclusively (`O_CREAT | O_EXCL`, random name) in the target's folder, so a
//!   symlink or file planted at any predictable name is never followed or truncated;
//! - it is written, flushed to disk, given the existing target's permissions (a new file gets the usual
//!   `0666 & !umask`), renamed over the target (atomic on one file system), and the folder is synced so the rename
//!   itself survives a crash;
//! - two saves to one path each have their own temporary file, so they cannot interleave: the file ends up as one
//!   of them, whole;
//! - the temporary name is kept short, so a target name near the 255-byte limit still works.

use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// At most this many bytes of the target's name go into the temporary file's name (plus a dot, 8 random
/// characters and `.tmp`), well under the usual 255-byte limit.
const TMP_NAME_STEM: usize = 64;

/// The folder a path's file lives in ("." for a bare file name).
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn tmp_prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut end = name.len().min(TMP_NAME_STEM);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}.", &name[..end])
}

fn new_temp(dir: &Path, path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let prefix = tmp_prefix(path);
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".tmp").rand_bytes(8);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode is passed to open(2), so the umask applies as for any new file (tempfile's default is 0600).
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir)
}

/// The folder a file at `path` would be written in, once it is clear that it can be: the folder exists, `path`
/// has a file name, and it is not a folder itself.
fn target_folder(path: &Path) -> Result<PathBuf> {
    let dir = folder_of(path);
    if !dir.is_dir() {
        return Err(Error::write(path, "the folder does not exist"));
    }
    if path.file_name().is_none() {
        return Err(Error::write(path, "not a file name"));
    }
    if path.is_dir() {
        return Err(Error::write(path, "it is a folder"));
    }
    Ok(dir)
}

/// Writes `bytes` to `path` atomically: afterwards the file is either what it was or exactly `bytes`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = target_folder(path)?;
    let existing = std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.permissions());
    let mut tmp = new_temp(&dir, path).map_err(|e| Error::write(path, "").because(e))?;
    // On any error below, dropping `tmp` removes the temporary file.
    let result = (|| -> std::io::Result<()> {
        tmp.write_all(bytes)?;
        tmp.flush()?;
        if let Some(perm) = existing {
            tmp.as_file().set_permissions(perm)?;
        }
        tmp.as_file().sync_all()?;
        Ok(())
    })();
    result.map_err(|e| Error::write(path, "").because(e))?;
    tmp.persist(path).map_err(|e| Error::write(path, "").because(e.error))?;
    sync_folder(&dir);
    Ok(())
}

/// Makes a rename in `dir` durable. Best effort: some file systems cannot sync a folder, and the data itself is
/// already on disk.
fn sync_folder(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Checks, cheaply and for real, that `write_atomic(path, …)` can succeed later: the folder exists, the target is
/// not a folder, and a file can be created (and is removed again) in the folder. Used before a long run so an
/// unwritable output fails at once rather than after training.
pub fn check_writable(path: &Path) -> Result<()> {
    let dir = target_folder(path)?;
    let probe = new_temp(&dir, path).map_err(|e| Error::write(path, "cannot create a file there").because(e))?;
    probe.close().map_err(|e| Error::write(path, "cannot remove a test file there").because(e))?;
    Ok(())
}

/// Whether two output paths name the same file (the same folder and name, or one file through links), so two
/// outputs would overwrite each other. Neither needs to exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
                return true;
            }
        }
    }
    let resolve = |p: &Path| -> Option<PathBuf> {
        let dir = std::fs::canonicalize(folder_of(p)).ok()?;
        Some(dir.join(p.file_name()?))
    };
    match (resolve(a), resolve(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn replaces_whole_file_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let bad = dir.path().join("missing/a.txt");
        assert!(write_atomic(&bad, b"x").unwrap_err().to_string().contains("missing/a.txt"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
    }

    #[test]
    fn the_temporary_name_stays_short() {
        let long = "n".repeat(250);
        let p = tmp_prefix(Path::new(&long));
        assert!(p.len() + 8 + 4 < 100, "{p}");
        assert_eq!(tmp_prefix(Path::new(&"é".repeat(100))).len() % 2, 0, "cut at a character boundary");
    }
}

//! The one way this crate opens a file it is given to read (an IDX file, a checksum list, classes.txt, an image,
//! weights, a stored run's files): it must be a regular file — a folder, FIFO, socket or device is refused before
//! it is opened, so nothing blocks or reads forever — and no larger than the caller's limit, checked before
//! reading and again while reading (a file that grows is cut off).
//!
//! The reader says *what* is wrong ([`Refusal`]); the caller turns it into its own error kind (`Error::data`,
//! `Error::weights`, `Error::image`), keeping its own wording for "too large".

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum Refusal {
    /// There is nothing at the path.
    NotFound(std::io::Error),
    /// It exists but is not a regular file; the text says what it is ("a folder", "a FIFO (named pipe)", …).
    NotRegular(&'static str),
    /// It is this many bytes, over the limit.
    TooLarge(u64),
    /// It grew past the limit while it was read.
    Grew,
    /// The system refused to stat, open or read it.
    Io(std::io::Error),
}

impl Refusal {
    /// The refusal as a message and an optional cause, for the caller's error; `too_large` words the size limit.
    pub fn into_error(
        self,
        path: &Path,
        make: impl Fn(&Path, String) -> crate::Error,
        too_large: impl FnOnce(u64) -> String,
    ) -> crate::Error {
        match self {
            Refusal::NotFound(e) | Refusal::Io(e) => make(path, "cannot read".into()).because(e),
            Refusal::NotRegular(what) => make(path, format!("not a regular file ({what})")),
            Refusal::TooLarge(len) => make(path, too_large(len)),
            Refusal::Grew => make(path, "the file grew past the size limit while it was read".into()),
        }
    }
}

/// What a path that is not a regular file is, in words.
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "not a plain file"
}

/// Opens `path` if it is a regular file of at most `max` bytes; returns the open file and its length. The type is
/// checked before opening (opening a FIFO would block) and again on the open file.
pub fn open_bounded(path: &Path, max: u64) -> Result<(File, u64), Refusal> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Refusal::NotFound(e),
        _ => Refusal::Io(e),
    })?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular(kind_of(&meta)));
    }
    if meta.len() > max {
        return Err(Refusal::TooLarge(meta.len()));
    }
    let file = File::open(path).map_err(Refusal::Io)?;
    let meta = file.metadata().map_err(Refusal::Io)?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular(kind_of(&meta)));
    }
    if meta.len() > max {
        return Err(Refusal::TooLarge(meta.len()));
    }
    Ok((file, meta.len()))
}

/// The whole of a regular file of at most `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, Refusal> {
    let (file, len) = open_bounded(path, max)?;
    let mut bytes = Vec::with_capacity(len.min(max) as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(Refusal::Io)?;
    if bytes.len() as u64 > max {
        return Err(Refusal::Grew);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_bounded(&p, 5).unwrap(), b"12345");
        assert!(matches!(read_bounded(&p, 4), Err(Refusal::TooLarge(5))));
        assert!(matches!(read_bounded(dir.path(), 4), Err(Refusal::NotRegular("a folder"))));
        assert!(matches!(read_bounded(&dir.path().join("none"), 4), Err(Refusal::NotFound(_))));
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
            // Refused from its type: opening it would block until a writer came.
            assert!(matches!(read_bounded(&fifo, 4), Err(Refusal::NotRegular("a FIFO (named pipe)"))));
        }
    }
}

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
//! - the temporary name is kept short, so a target name near the 255-byte limit still works;
//! - a target that exists and is not a regular file is never replaced: the process's own stdout or stderr
//!   (`/dev/stdout`, `/dev/fd/1`, …), a FIFO or a character device (a terminal, `/dev/null`) is written in place,
//!   as a stream; anything else (a socket, a block device) is refused;
//! - the temporary files being written are known to [`remove_temporaries_now`], which a second Ctrl-C calls before
//!   the process exits at once, so not even that leaves one behind;
//! - a test-only pause ([`PAUSE_ENV`], inert unless set) holds a write half done, so a test can signal it mid-write.

use crate::engine::files::bounded_read::kind_of;
use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};

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

/// Where a write to a path goes.
enum Target {
    /// A regular file or nothing yet: written atomically.
    File,
    /// The process's own stdout (1) or stderr (2), named as `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`, …
    Std(i32),
    /// A FIFO or a character device: opened and written in place, never replaced.
    Stream,
}

/// The standard stream a path names, if it names one of this process's (by name, before anything is opened).
fn std_stream(path: &Path) -> Option<i32> {
    match path.to_str()? {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(1),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(2),
        _ => None,
    }
}

/// What `path` is, or why it cannot be written (a folder, a socket, a block device).
fn target_of(path: &Path) -> Result<Target> {
    if let Some(fd) = std_stream(path) {
        return Ok(Target::Std(fd));
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        // Nothing there (or a dangling link): a new file.
        Err(_) => return Ok(Target::File),
    };
    if meta.is_file() {
        return Ok(Target::File);
    }
    if meta.is_dir() {
        return Err(Error::write(path, "it is a folder"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() || t.is_char_device() {
            return Ok(Target::Stream);
        }
    }
    Err(Error::write(path, format!("it is not a regular file ({}): refusing to replace it", kind_of(&meta))))
}

/// Writes `bytes` to `path` atomically: afterwards the file is either what it was or exactly `bytes`. A path that
/// names a stream (stdout, a FIFO, a terminal) is written to in place instead; see the module doc.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    match target_of(path)? {
        Target::File => {}
        Target::Std(fd) => {
            let result = if fd == 1 {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            } else {
                let mut err = std::io::stderr().lock();
                err.write_all(bytes).and_then(|()| err.flush())
            };
            return result.map_err(|e| Error::write(path, "").because(e));
        }
        Target::Stream => {
            // No create, no truncate: the stream is written as it is (a FIFO waits for its reader).
            let result = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()));
            return result.map_err(|e| Error::write(path, "").because(e));
        }
    }
    let dir = target_folder(path)?;
    let existing = std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.permissions());
    let mut tmp = new_temp(&dir, path).map_err(|e| Error::write(path, "").because(e))?;
    let _pending = Pending::register(tmp.path());
    // On any error below, dropping `tmp` removes the temporary file.
    let result = (|| -> std::io::Result<()> {
        let (first, rest) = bytes.split_at(bytes.len() / 2);
        tmp.write_all(first)?;
        pause_for_test(tmp.path());
        tmp.write_all(rest)?;
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

/// The test-only pause of a write, inert unless [`PAUSE_ENV`] is set: with `LENET_TEST_PAUSE_WRITE=FLAG`, a write
/// that has put half its bytes in its temporary file creates FLAG (holding the temporary's path) and waits, up to
/// a minute, while FLAG exists. A CLI test then knows a write is in flight, with its temporary on disk, when it
/// sends a signal: no timing luck (tests/cli/trust_round4.rs).
pub const PAUSE_ENV: &str = "LENET_TEST_PAUSE_WRITE";

fn pause_for_test(tmp: &Path) {
    let Some(flag) = std::env::var_os(PAUSE_ENV).filter(|f| !f.is_empty()) else { return };
    let flag = PathBuf::from(flag);
    if std::fs::write(&flag, tmp.as_os_str().as_encoded_bytes()).is_err() {
        return;
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while flag.exists() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Slots for the paths of temporary files being written (NUL-terminated, leaked while registered), read by
/// [`remove_temporaries_now`] from a signal handler: only atomic loads and `unlink`, nothing that allocates or
/// locks.
const PENDING_SLOTS: usize = 16;
static PENDING: [AtomicPtr<std::ffi::c_char>; PENDING_SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; PENDING_SLOTS];

/// A temporary file's path, registered while it may exist.
struct Pending(Option<usize>);

impl Pending {
    fn register(path: &Path) -> Pending {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) {
                let ptr = c.into_raw();
                for (i, slot) in PENDING.iter().enumerate() {
                    if slot.compare_exchange(std::ptr::null_mut(), ptr, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                        return Pending(Some(i));
                    }
                }
                // Every slot taken: not tracked (it is still removed on any error, as always).
                // SAFETY: `ptr` came from `CString::into_raw` just above and was not stored anywhere.
                drop(unsafe { std::ffi::CString::from_raw(ptr) });
            }
        }
        #[cfg(not(unix))]
        let _ = path;
        Pending(None)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            let ptr = PENDING[i].swap(std::ptr::null_mut(), Ordering::SeqCst);
            if !ptr.is_null() {
                // SAFETY: the slot held a pointer from `CString::into_raw` (in `register`), now taken out of it.
                drop(unsafe { std::ffi::CString::from_raw(ptr) });
            }
        }
    }
}

/// Removes every temporary file being written right now. Async-signal-safe (atomic loads and `unlink` only): for
/// a signal handler that is about to end the process at once. The files' contents are lost; the targets are
/// untouched (the rename has not happened, or has and the unlink finds nothing).
pub fn remove_temporaries_now() {
    #[cfg(unix)]
    for slot in &PENDING {
        let ptr = slot.load(Ordering::SeqCst);
        if !ptr.is_null() {
            // SAFETY: a registered pointer stays valid until its `Pending` is dropped, which takes it out of the
            // slot first; unlink only reads the NUL-terminated path.
            unsafe {
                libc::unlink(ptr);
            }
        }
    }
}

/// Writes a new file, one of many that a caller writes into a folder of its own (e.g. `eval --mistakes`): created
/// exclusively, so it never replaces or follows anything already there; not synced one by one (thousands of
/// syncs take half a minute): the caller writes an index last with [`write_atomic`], which syncs the folder. On
/// an error the partial file is removed.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::write(path, "").because(e))?;
    f.write_all(bytes).and_then(|()| f.flush()).map_err(|e| {
        let _ = std::fs::remove_file(path);
        Error::write(path, "").because(e)
    })
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
/// not a folder, and a file can be created (and is removed again) in the folder. A stream target (stdout, a FIFO,
/// a terminal) passes as it is, without being opened (a FIFO would wait for its reader); a socket or block device
/// is refused. Used before a long run so an unwritable output fails at once rather than after training.
pub fn check_writable(path: &Path) -> Result<()> {
    match target_of(path)? {
        Target::Std(_) | Target::Stream => return Ok(()),
        Target::File => {}
    }
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
    fn a_target_that_is_not_a_regular_file_is_streamed_to_or_refused_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        // A FIFO: streamed to (a reader is waiting), still a FIFO afterwards.
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(&fifo).unwrap())
        };
        check_writable(&fifo).unwrap();
        write_atomic(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still a FIFO");
        // A character device: written in place (/dev/null takes it; /dev/full says why it cannot).
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        let full = write_atomic(Path::new("/dev/full"), b"x").unwrap_err().to_string();
        assert!(full.contains("/dev/full") && full.contains("No space left"), "{full}");
        // A socket: refused, kept.
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        for e in [write_atomic(&sock, b"x").unwrap_err(), check_writable(&sock).unwrap_err()] {
            assert!(e.to_string().contains("not a regular file (a socket)"), "{e}");
        }
        assert!(std::fs::metadata(&sock).unwrap().file_type().is_socket());
        // Stdout by its /dev name: the stream itself, never a rename over /dev/stdout.
        assert!(matches!(target_of(Path::new("/dev/stdout")), Ok(Target::Std(1))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file left behind");
    }

    #[test]
    fn temporaries_are_tracked_while_they_exist() {
        // Not swept here (other tests write files in this process); the CLI's double-signal test sweeps for real.
        let pending = Pending::register(Path::new("/nonexistent/.x.tracked.tmp"));
        let slot = pending.0.expect("a free slot");
        let ours = PENDING[slot].load(Ordering::SeqCst);
        assert!(!ours.is_null());
        drop(pending);
        assert_ne!(PENDING[slot].load(Ordering::SeqCst), ours, "unregistered once the write is over");
    }

    #[test]
    fn the_temporary_name_stays_short() {
        let long = "n".repeat(250);
        let p = tmp_prefix(Path::new(&long));
        assert!(p.len() + 8 + 4 < 100, "{p}");
        assert_eq!(tmp_prefix(Path::new(&"é".repeat(100))).len() % 2, 0, "cut at a character boundary");
    }
}

//! Files on disk, the careful way, for every room of the engine: the one atomic way this crate writes a file
//! ([`atomic_file`]) and the one way it reads a file it is given ([`bounded_read`]). A leaf: it names nothing else
//! of the engine.

pub mod atomic_file;
pub mod bounded_read;

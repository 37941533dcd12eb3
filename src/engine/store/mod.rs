//! What outlives a run, and files on disk: the run store ([`runs`]), the user's own drawings ([`my_drawings`]), the one atomic way this crate writes a file
//! ([`atomic_file`]) and the one way it reads a file it is given ([`bounded_read`]).

pub mod atomic_file;
pub mod bounded_read;
pub mod my_drawings;
pub mod runs;

//! What outlives a run: the run store on disk ([`runs`]) and the one atomic way this crate writes a file
//! ([`atomic_file`]).

pub mod atomic_file;
pub mod runs;

//! The command line's integration tests, one binary: the real `lenet-playground` binary run as a child, end to end,
//! its experiments (`train --schedule`, `--record`, `runs`) and the trust cases it drives (bad files refused in
//! one line, memory measured on the child). Fixtures shared with the other binaries are in `tests/support/`.

#[path = "../support/mod.rs"]
mod support;

mod architectures;
mod end_to_end;
mod experiments;
mod export;
mod inside;
mod my_data;
mod trust;
mod trust_round4;

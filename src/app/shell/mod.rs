//! The window's jobs on the whole app, each an `impl PlaygroundApp` that the shell's methods reach: carrying out a
//! `UiCommand` (`execute.rs`), helper threads and what they send back (`background.rs`), the Runs tab's and the
//! collector's commands (`runs.rs`, `drawings.rs`), the coach banner's buttons (`coach.rs`), and closing without
//! losing a save (`shutdown.rs`). They live here, not in their rooms, because they reach across rooms (a run's end
//! touches the runs, the drawings and the evaluation); the rooms stay free of the app's struct, so no room imports
//! the shell back.

mod background;
mod coach;
mod drawings;
mod execute;
mod keys;
mod probes;
mod runs;
mod shutdown;
mod tabs;

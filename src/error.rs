//! One error type for the library, so the CLI can print a single clear line and the app can show it in the
//! window. Every variant names what failed and, where there is one, the file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data file is missing, truncated, corrupt, or not what its name says.
    #[error("{}: {message}", path.display())]
    Data { path: PathBuf, message: String },
    /// A weights file cannot be read or does not fit the model.
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    /// An image for prediction cannot be read.
    #[error("{}: {message}", path.display())]
    Image { path: PathBuf, message: String },
    /// A file could not be written (export, save).
    #[error("cannot write {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    /// A setting is out of range or inconsistent.
    #[error("invalid setting: {0}")]
    Config(String),
    /// Training diverged (NaN or infinite loss); the message says what to try.
    #[error("{0}")]
    Diverged(String),
    /// The numerics failed (candle error).
    #[error("computation failed: {0}")]
    Compute(String),
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Compute(e.to_string())
    }
}

impl Error {
    pub(crate) fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data { path: path.into(), message: message.into() }
    }
    pub(crate) fn weights(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Weights { path: path.into(), message: message.into() }
    }
    pub(crate) fn write(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Write { path: path.into(), message: message.to_string() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! One error type for the library, so the CLI can print a single clear line and the app can show it in the
//! window. Every variant names what failed and, where there is one, the file; the underlying error (an io error,
//! a decoder's, candle's) is kept as the `source()`, not flattened into a string.
//!
//! `Display` is the whole story on one line, causes included ("w.safetensors: cannot read: No such file or
//! directory (os error 2)"): print an error once with `{}` (or [`Error::report`]); do not walk `source()` as well.

use std::path::{Path, PathBuf};

/// The cause under an error: an io, image, safetensors or other library error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data file is missing, truncated, corrupt, or not what its name says.
    #[error("{}", line(Some(path), message, source))]
    Data {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// Weights cannot be read or do not fit the model. `path` is None for weights that come from memory
    /// (bytes, a trainer's snapshot) until a caller says which file they were read from ([`Error::in_file`]).
    #[error("{}", line(path.as_deref(), message, source))]
    Weights {
        path: Option<PathBuf>,
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// An image for prediction cannot be read.
    #[error("{}", line(Some(path), message, source))]
    Image {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// A file could not be written (export, save).
    #[error("cannot write {}", line(Some(path), message, source))]
    Write {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// A setting is out of range or inconsistent.
    #[error("invalid setting: {0}")]
    Config(String),
    /// Training diverged (NaN or infinite loss); the message says what to try.
    #[error("{0}")]
    Diverged(String),
    /// The numerics failed (candle error).
    #[error("computation failed: {0}")]
    Compute(#[from] candle_core::Error),
    /// Something could not be encoded (weights to safetensors, a plot to PNG).
    #[error("cannot encode {what}: {source}")]
    Encode {
        what: String,
        #[source]
        source: Cause,
    },
    /// An assumption of the program itself failed (not the user's input): a bug to report.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `path: message: cause`, leaving out the parts that are absent or empty.
fn line(path: Option<&Path>, message: &str, source: &Option<Cause>) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(3);
    if let Some(p) = path {
        parts.push(p.display().to_string());
    }
    if !message.is_empty() {
        parts.push(message.to_string());
    }
    if let Some(s) = source {
        parts.push(s.to_string());
    }
    parts.join(": ")
}

impl Error {
    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data { path: path.into(), message: message.into(), source: None }
    }
    /// Weights read from `path` that cannot be used.
    pub fn weights(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Weights { path: Some(path.into()), message: message.into(), source: None }
    }
    /// Weights (from memory) that do not fit the model.
    pub fn bad_weights(message: impl Into<String>) -> Self {
        Error::Weights { path: None, message: message.into(), source: None }
    }
    pub fn image(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Image { path: path.into(), message: message.into(), source: None }
    }
    pub fn write(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Write { path: path.into(), message: message.into(), source: None }
    }
    pub fn encode(what: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Encode { what: what.into(), source: source.into() }
    }

    /// The same error with `cause` as its source (for the variants that carry one; others are returned as they
    /// are). E.g. `Error::data(&path, "cannot read").because(io_error)`.
    pub fn because(mut self, cause: impl Into<Cause>) -> Self {
        match &mut self {
            Error::Data { source, .. }
            | Error::Weights { source, .. }
            | Error::Image { source, .. }
            | Error::Write { source, .. } => *source = Some(cause.into()),
            _ => {}
        }
        self
    }

    /// Names the file a weights error came from (a no-op for other errors, and for weights errors that name one).
    pub fn in_file(mut self, file: &Path) -> Self {
        if let Error::Weights { path: path @ None, .. } = &mut self {
            *path = Some(file.to_path_buf());
        }
        self
    }

    /// The error and its causes as one line, for a terminal or a banner (the same as `to_string()`: causes are
    /// part of `Display`; newlines inside a cause's text are folded into spaces, and any other control character
    /// — from a file name, say — is shown escaped, see [`printable`]).
    pub fn report(&self) -> String {
        printable(&self.to_string().split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// True if the error comes from what the user gave (a file, a setting) rather than from the program or the
    /// machine: the CLI exits with status 2 for these, 1 for the rest.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Compute(_) | Error::Encode { .. } | Error::Internal(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Text as a terminal should show it: every control character (ESC, CR, BEL, a newline, …) and every invisible
/// character that reorders or hides text (the bidirectional overrides and isolates, zero-width marks) written as
/// its escape (`\u{1b}`, `\r`, `\u{202e}`), so a file or run name can neither drive the terminal, split a line,
/// nor show other text than it holds.
pub fn printable(s: &str) -> String {
    if !s.chars().any(is_unsafe_char) {
        return s.to_string();
    }
    s.chars().map(|c| if is_unsafe_char(c) { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// A control character, or an invisible one that changes how the text around it is shown: the bidirectional
/// marks, embeddings, overrides and isolates (U+061C, U+200E–F, U+202A–E, U+2066–9), zero-width characters
/// (U+200B–D, U+2060, U+FEFF).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn printable_escapes_what_would_reorder_or_hide_text() {
        assert_eq!(printable("plain name ü 7"), "plain name ü 7");
        assert_eq!(printable("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(printable("run\u{202e}gnp.exe"), "run\\u{202e}gnp.exe");
        assert_eq!(printable("x\u{200b}\u{2066}y"), "x\\u{200b}\\u{2066}y");
    }

    #[test]
    fn causes_are_kept_and_shown_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::weights("w.safetensors", "cannot read").because(io);
        assert_eq!(e.to_string(), "w.safetensors: cannot read: no such file");
        let cause = e.source().expect("the io error is the source");
        assert_eq!(cause.downcast_ref::<std::io::Error>().map(|e| e.kind()), Some(std::io::ErrorKind::NotFound));

        let e = Error::bad_weights("tensor 'c1.weight' holds NaN").in_file(Path::new("x.safetensors"));
        assert_eq!(e.to_string(), "x.safetensors: tensor 'c1.weight' holds NaN");
        assert!(e.is_bad_input());

        let candle: Error = candle_core::Error::Msg("bad\nshape".into()).into();
        assert!(candle.source().is_some() && !candle.is_bad_input());
        assert_eq!(candle.report(), "computation failed: bad shape");

        let named = Error::image("a\u{1b}[2Jb\u{7}.png", "cannot read image");
        assert_eq!(
            named.report(),
            "a\\u{1b}[2Jb\\u{7}.png: cannot read image",
            "no raw ESC or BEL reaches the terminal"
        );
        assert_eq!(printable("run\rname\n"), "run\\rname\\n");
    }
}

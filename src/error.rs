//! The one error type: what went wrong, and what to do about it.

use std::fmt;

/// An error reported to the user as `credential-helper: <what> (<hint>)`.
///
/// Messages are written by hand at the point of failure and never include secret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    what: String,
    hint: Option<String>,
}

impl Error {
    pub fn new(what: impl Into<String>) -> Error {
        Error {
            what: what.into(),
            hint: None,
        }
    }

    /// Adds what the user can do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes context: `"<context>: <what>"`.
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.what = format!("{context}: {}", self.what);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, always: Bazel shows stderr verbatim in its own error message.
        let what = self.what.replace(['\n', '\r'], " ");
        match &self.hint {
            Some(hint) => write!(f, "{what} ({})", hint.replace(['\n', '\r'], " ")),
            None => f.write_str(&what),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

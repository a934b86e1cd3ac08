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

/// serde_json's error without any quoted input, since a value could be a secret: the field a
/// document lacks (field names are ours), else the kind of problem and its position.
pub fn describe_json(e: &serde_json::Error) -> String {
    if let Some(rest) = e.to_string().strip_prefix("missing field ") {
        return format!(
            "missing field {}",
            rest.split(' ').next().unwrap_or_default()
        );
    }
    let what = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected structure",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::describe_json;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Key {
        email: String,
        private_key: String,
    }

    #[test]
    fn json_errors_never_quote_values() {
        let cases = [
            (
                r#"{"email": 987654, "private_key": "SECRET"}"#,
                "unexpected structure at line 1",
            ),
            (
                r#"{"email": "a", "private_key": "SECRET"#,
                "truncated JSON at line 1",
            ),
            (r#""SECRET-bare-string""#, "unexpected structure at line 1"),
            (r#"{"email": "a"}"#, "missing field `private_key`"),
        ];
        for (json, want) in cases {
            let shown = describe_json(&serde_json::from_str::<Key>(json).unwrap_err());
            assert!(shown.starts_with(want), "{json}: {shown}");
            assert!(
                !shown.contains("SECRET") && !shown.contains("987654"),
                "{shown}"
            );
        }
    }
}

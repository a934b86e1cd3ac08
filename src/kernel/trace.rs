//! Decisions, explained: printed live to stderr under `CREDENTIAL_HELPER_LOG=debug`, or kept
//! for `credential-helper explain`.
//!
//! Callers pass only redacted text: secrets are [`crate::kernel::secret::Secret`]s and print as
//! `<redacted>` even if one slips into a message.

use std::cell::RefCell;
use std::fmt;

#[derive(Debug, Default)]
pub struct Trace {
    live: bool,
    keep: bool,
    lines: RefCell<Vec<String>>,
}

impl Trace {
    /// Prints each note to stderr as it happens.
    pub fn live() -> Trace {
        Trace {
            live: true,
            ..Trace::default()
        }
    }

    /// Keeps notes for [`Trace::take`].
    pub fn recording() -> Trace {
        Trace {
            keep: true,
            ..Trace::default()
        }
    }

    pub fn silent() -> Trace {
        Trace::default()
    }

    /// Live or silent, as a `CREDENTIAL_HELPER_LOG` value asks ([`log_level`]); an unknown
    /// value gets one warning line on `stderr` (not quoting it: it is the user's text).
    pub fn from_log_setting(value: Option<&str>, stderr: &mut dyn std::io::Write) -> Trace {
        match log_level(value) {
            LogLevel::Debug => Trace::live(),
            LogLevel::Quiet => Trace::silent(),
            LogLevel::Unknown => {
                let _ = writeln!(
                    stderr,
                    "credential-helper: warning: {} has an unknown value, ignored (set it to `debug` to print every decision, or unset it)",
                    crate::kernel::env::vars::LOG
                );
                Trace::silent()
            }
        }
    }

    pub fn enabled(&self) -> bool {
        self.live || self.keep
    }

    pub fn note(&self, args: fmt::Arguments<'_>) {
        if !self.enabled() {
            return;
        }
        let line = args.to_string();
        if self.live {
            eprintln!("credential-helper: debug: {line}");
        }
        if self.keep {
            self.lines.borrow_mut().push(line);
        }
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.lines.borrow_mut())
    }
}

/// What a `CREDENTIAL_HELPER_LOG` value asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Every decision on stderr.
    Debug,
    /// Nothing but errors: unset, or a level quieter than debug.
    Quiet,
    /// A value this program does not know: quiet, with one warning.
    Unknown,
}

/// `debug` in any case, or the synonyms people type (`trace`, `1`, `true`, `yes`, `on`); the
/// usual quieter levels and `0`/`false`/`off` turn it off without a warning.
pub fn log_level(value: Option<&str>) -> LogLevel {
    let Some(value) = value else {
        return LogLevel::Quiet;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "debug" | "trace" | "1" | "true" | "yes" | "on" => LogLevel::Debug,
        "" | "0" | "false" | "no" | "off" | "none" | "error" | "warn" | "warning" | "info" => {
            LogLevel::Quiet
        }
        _ => LogLevel::Unknown,
    }
}

/// `note!(trace, "format {}", args)`.
#[macro_export]
macro_rules! note {
    ($trace:expr, $($arg:tt)*) => {
        $trace.note(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_values() {
        let table = [
            (None, LogLevel::Quiet),
            (Some("debug"), LogLevel::Debug),
            (Some("DEBUG"), LogLevel::Debug),
            (Some(" Debug "), LogLevel::Debug),
            (Some("trace"), LogLevel::Debug),
            (Some("1"), LogLevel::Debug),
            (Some("true"), LogLevel::Debug),
            (Some("on"), LogLevel::Debug),
            (Some("0"), LogLevel::Quiet),
            (Some("off"), LogLevel::Quiet),
            (Some("info"), LogLevel::Quiet),
            (Some("verbose"), LogLevel::Unknown),
            (Some("debgu"), LogLevel::Unknown),
        ];
        for (value, want) in table {
            assert_eq!(log_level(value), want, "{value:?}");
        }
    }
}

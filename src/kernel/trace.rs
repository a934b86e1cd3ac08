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

/// `note!(trace, "format {}", args)`.
#[macro_export]
macro_rules! note {
    ($trace:expr, $($arg:tt)*) => {
        $trace.note(format_args!($($arg)*))
    };
}

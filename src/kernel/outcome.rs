//! What one source of a credential said: found, missing (move on), or broken.

use crate::kernel::error::Error;
use crate::kernel::secret::Secret;
use crate::kernel::trace::Trace;
use crate::note;

/// What one source said.
#[derive(Debug)]
pub enum Outcome<T = Secret> {
    Found(T),
    /// Nothing there; move on. The text says what was looked at.
    Missing(String),
    /// The source is broken (unreadable file, keyring error); reported if nothing is found.
    Failed(Error),
}

impl<T> Outcome<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Found(t) => Outcome::Found(f(t)),
            Outcome::Missing(why) => Outcome::Missing(why),
            Outcome::Failed(e) => Outcome::Failed(e),
        }
    }
}

/// Sources tried in order: the first find wins, a missing source is noted and skipped, and a
/// broken one is kept so that it is reported only if no later source has anything. One
/// combinator for every ordered chain (registry sources, credential files, lookup chains).
pub struct Chain<'a> {
    trace: &'a Trace,
    failures: Vec<Error>,
}

impl<'a> Chain<'a> {
    pub fn new(trace: &'a Trace) -> Chain<'a> {
        Chain {
            trace,
            failures: Vec::new(),
        }
    }

    /// Notes one source's outcome under `name`; returns a find.
    pub fn consider<T>(&mut self, name: &str, outcome: Outcome<T>) -> Option<T> {
        match outcome {
            Outcome::Found(found) => return Some(found),
            Outcome::Missing(why) => note!(self.trace, "{name}: {why}"),
            Outcome::Failed(e) => {
                note!(self.trace, "{name}: error: {e}");
                self.failures.push(e);
            }
        }
        None
    }

    /// Nothing was found: the first failure, if any source was broken.
    pub fn first_failure(self) -> Option<Error> {
        self.failures.into_iter().next()
    }

    /// Every failure, in order.
    pub fn into_failures(self) -> Vec<Error> {
        self.failures
    }
}

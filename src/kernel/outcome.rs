//! What one source of a credential said: found, missing (move on), or broken.

use crate::kernel::error::Error;
use crate::kernel::secret::Secret;

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

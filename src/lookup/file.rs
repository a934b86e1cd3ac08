//! `{"source": "file", "path": "~/secret.txt"}`: a file's contents, trimmed.

use std::io::ErrorKind;

use crate::kernel::env::Env;
use crate::kernel::error::Error;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;

pub fn fetch(env: &Env, path: &str) -> Outcome {
    let full = env.expand_path(path);
    match std::fs::read_to_string(&full) {
        Ok(text) if text.trim().is_empty() => {
            Outcome::Missing(format!("{} is empty", full.display()))
        }
        Ok(text) => Outcome::Found(Secret::new(text.trim())),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Outcome::Missing(format!("{} does not exist", full.display()))
        }
        Err(e) => Outcome::Failed(Error::new(format!("cannot read {}: {e}", full.display()))),
    }
}

//! `{"source": "env", "name": "VAR"}`: an environment variable.

use super::Outcome;
use crate::env::Env;
use crate::secret::Secret;

pub fn fetch(env: &Env, name: &str) -> Outcome {
    match env.var(name) {
        Some(v) => Outcome::Found(Secret::new(v)),
        None => Outcome::Missing("not set".into()),
    }
}

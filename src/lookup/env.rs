//! `{"source": "env", "name": "VAR"}`: an environment variable.

use crate::kernel::env::Env;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;

pub fn fetch(env: &Env, name: &str) -> Outcome {
    match env.var(name) {
        Some(v) => Outcome::Found(Secret::new(v)),
        None => Outcome::Missing("not set".into()),
    }
}

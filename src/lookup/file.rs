//! `{"source": "file", "path": "~/secret.txt"}`: a file's contents, trimmed.

use crate::kernel::env::Env;
use crate::kernel::files;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;

pub fn fetch(env: &Env, path: &str) -> Outcome {
    let full = env.expand_path(path);
    match files::read_text(&full) {
        Ok(Some(text)) if text.trim().is_empty() => {
            Outcome::Missing(format!("{} is empty", full.display()))
        }
        Ok(Some(text)) => Outcome::Found(Secret::new(text.trim())),
        Ok(None) => Outcome::Missing(format!("{} does not exist", full.display())),
        Err(e) => Outcome::Failed(e),
    }
}

//! `{"source": "static", "value": "..."}`: a value written in the config itself.

use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;

pub fn fetch(value: &Secret) -> Outcome {
    if value.is_empty() {
        Outcome::Missing("empty".into())
    } else {
        Outcome::Found(value.clone())
    }
}

//! `null`: answers `{"headers":{}}`, to exempt URLs from a broader entry below it.

use serde::Deserialize;

/// Takes no options.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}

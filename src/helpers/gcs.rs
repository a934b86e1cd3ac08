//! `gcs`: Google Cloud Storage (`storage.googleapis.com`, `<bucket>.storage.googleapis.com`),
//! e.g. a Bazel remote cache or downloads from a private bucket. Answers
//! `Authorization: Bearer <Google access token>`, with the token's expiry.
//!
//! ```json
//! {"scopes": ["https://www.googleapis.com/auth/devstorage.read_write"]}
//! ```
//!
//! The default scope only reads; a remote cache that uploads needs `devstorage.read_write`.

use serde::Deserialize;

use crate::cloud::google::{self, DEVSTORAGE_READ_ONLY};
use crate::kernel::context::Context;
use crate::kernel::error::Result;
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::note;

/// OAuth scopes are URLs under this prefix.
const SCOPE_PREFIX: &str = "https://www.googleapis.com/auth/";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// OAuth scopes to ask for; `devstorage.read_only` when empty.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        validate_scopes(&self.scopes)
    }

    fn scopes(&self) -> Vec<String> {
        if self.scopes.is_empty() {
            vec![DEVSTORAGE_READ_ONLY.to_string()]
        } else {
            self.scopes.clone()
        }
    }
}

/// Every scope a full Google OAuth scope URL (`read_write` alone is a typo, not a scope).
pub fn validate_scopes(scopes: &[String]) -> Result<(), String> {
    for (i, scope) in scopes.iter().enumerate() {
        let name = scope.strip_prefix(SCOPE_PREFIX).unwrap_or_default();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
        {
            return Err(format!(
                "scopes[{i}] is not a Google OAuth scope (expected e.g. \"{SCOPE_PREFIX}devstorage.read_write\")"
            ));
        }
    }
    Ok(())
}

pub fn run(ctx: &Context, config: &Config, url: &url::Url) -> Result<Response> {
    let scopes = config.scopes();
    let needed_for = format!(
        "gcs: no Google access token for {}",
        url.host_str().unwrap_or_default()
    );
    let token = google::require(google::access_token(ctx, &scopes), &needed_for)?;
    note!(
        ctx.trace,
        "gcs: Bearer token from {} (scopes {})",
        token.source,
        scopes.join(" ")
    );
    let mut response = Response::empty().secret_header(
        "Authorization",
        Secret::new(format!("Bearer {}", token.token.expose())),
        &format!("the Google access token from {}", token.source),
    )?;
    response.expires = Some(token.expires);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_validated() {
        let ok = |s: &[&str]| validate_scopes(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(ok(&[]).is_ok());
        assert!(ok(&["https://www.googleapis.com/auth/devstorage.read_write"]).is_ok());
        assert!(ok(&["https://www.googleapis.com/auth/cloud-platform"]).is_ok());
        for bad in [
            "read_write",
            "devstorage.read_write",
            "https://www.googleapis.com/auth/",
            "https://www.googleapis.com/auth/a b",
            "https://evil.example/auth/x",
        ] {
            assert!(ok(&[bad]).is_err(), "{bad}");
        }
        assert_eq!(Config::default().scopes(), [DEVSTORAGE_READ_ONLY]);
    }
}

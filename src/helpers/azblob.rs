//! `azblob`: Azure Blob Storage (`*.blob.core.windows.net`), for Bazel's HTTP remote cache and
//! downloads. Answers `Authorization: Bearer <Entra ID token for Azure Storage>` and the
//! `x-ms-version` that Bearer auth requires. A SAS URL (a `sig=` in the query) carries its own
//! credential and gets no headers.
//!
//! ```json
//! {"host": "*.blob.core.windows.net", "helper": "azblob", "config": {"x_ms_version": "2023-11-03"}}
//! ```

use serde::Deserialize;

use crate::cloud::azure::{self, STORAGE_RESOURCE};
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::outcome::Outcome;
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::note;

/// A Blob service version that accepts Bearer tokens (2017-11-09 or later is required).
pub const DEFAULT_VERSION: &str = "2023-11-03";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Sent as `x-ms-version`.
    #[serde(default = "default_version")]
    pub x_ms_version: String,
}

fn default_version() -> String {
    DEFAULT_VERSION.to_string()
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        let v = self.x_ms_version.as_bytes();
        let shape = v.len() == 10
            && v.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            });
        if shape {
            Ok(())
        } else {
            Err(format!(
                "x_ms_version is not a service version like {DEFAULT_VERSION}"
            ))
        }
    }
}

/// SAS URLs and plain http never get here: the plan answers the first without headers and
/// refuses the second (`kernel::transport`).
pub fn run(ctx: &Context, config: &Config, url: &url::Url) -> Result<Response> {
    let host = url.host_str().unwrap_or_default();
    let token = match azure::token(ctx, STORAGE_RESOURCE) {
        Outcome::Found(t) => t,
        Outcome::Missing(why) => {
            return Err(
                Error::new(format!("azblob: no Azure credential for {host}: {why}")).hint(format!(
                    "set {}, {} and {} (or {}), or run on Azure with a managed identity",
                    vars::AZURE_CLIENT_ID,
                    vars::AZURE_TENANT_ID,
                    vars::AZURE_CLIENT_SECRET,
                    vars::AZURE_FEDERATED_TOKEN_FILE
                )),
            );
        }
        Outcome::Failed(e) => return Err(e.context(format!("azblob: token for {host}"))),
    };
    note!(ctx.trace, "azblob: token from {}", token.source);
    Ok(Response::empty()
        .secret_header(
            "Authorization",
            Secret::new(format!("Bearer {}", token.token.expose())),
            &format!("the Azure token from {}", token.source),
        )?
        .public_header("x-ms-version", config.x_ms_version.clone(), "x_ms_version")?
        .expires(Some(token.expires)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_versions() {
        let config = |v: &str| Config {
            x_ms_version: v.into(),
        };
        assert!(config(DEFAULT_VERSION).validate().is_ok());
        for bad in ["2023-11", "latest", "2023-11-03\n", "2023_11_03"] {
            assert!(config(bad).validate().is_err(), "{bad:?}");
        }
    }
}

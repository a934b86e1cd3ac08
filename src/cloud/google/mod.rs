//! Google access tokens (Application Default Credentials), shared by the `gcp` keychain and the
//! `gcs` and `gar` helpers.
//!
//! Sources, in Google's order; the first one present answers, and its errors are final:
//! 1. `$GOOGLE_APPLICATION_CREDENTIALS`: a `service_account` key (an RS256-signed JWT traded at
//!    its `token_uri`), an `authorized_user` file (a refresh-token grant), an
//!    `external_account` file (workload identity federation, [`external_account`]) or an
//!    `impersonated_service_account` file ([`impersonated`]).
//! 2. gcloud's well-known file `${CLOUDSDK_CONFIG:-~/.config/gcloud}/application_default_credentials.json`.
//! 3. The GCE metadata server (`$GCE_METADATA_HOST`, else `metadata.google.internal`), probed
//!    with a short timeout so machines off Google Cloud lose little; `NO_GCE_CHECK=true` skips it.
//! 4. `gcloud config config-helper --format=json(credential)`.
//!
//! Tokens go through the cache keyed by identity and scope; long-lived keys never do.

mod authorized_user;
mod external_account;
mod gcloud;
mod impersonated;
mod key_file;
mod metadata;
mod oauth;
mod service_account;

pub use gcloud::parse_config_helper;
pub use key_file::check_file;
pub use oauth::{AccessToken, CLOUD_PLATFORM, endpoint};

use oauth::found_or_failed;

use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::outcome::Outcome;
use crate::note;
use std::path::PathBuf;

/// Reading GCS objects; a remote cache that uploads needs `devstorage.read_write`.
pub const DEVSTORAGE_READ_ONLY: &str = "https://www.googleapis.com/auth/devstorage.read_only";

/// `<location>-<format>.pkg.dev` (Artifact Registry): one label before the format, no more.
pub fn is_pkg_dev_host(host: &str, format: &str) -> bool {
    host.strip_suffix(".pkg.dev")
        .and_then(|h| h.strip_suffix(format))
        .and_then(|h| h.strip_suffix('-'))
        .is_some_and(|location| {
            !location.is_empty()
                && location
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An access token for `scopes` from the first source present.
pub fn access_token(ctx: &Context, scopes: &[String]) -> Outcome<AccessToken> {
    let scope = scopes.join(" ");
    if let Some(path) = ctx.env.var(vars::GOOGLE_APPLICATION_CREDENTIALS) {
        let path = ctx.env.expand_path(path);
        let what = format!(
            "{} ({})",
            path.display(),
            vars::GOOGLE_APPLICATION_CREDENTIALS
        );
        return found_or_failed(key_file::from_file(ctx, &path, &what, &scope));
    }
    let mut tried = Vec::new();
    match adc_file(&ctx.env) {
        Some(path) if path.is_file() => {
            let what = format!(
                "{} (gcloud application default credentials)",
                path.display()
            );
            return found_or_failed(key_file::from_file(ctx, &path, &what, &scope));
        }
        Some(path) => tried.push(format!("no {}", path.display())),
        None => tried.push("no home directory for gcloud's credentials".into()),
    }
    match metadata::token(ctx, scopes) {
        Outcome::Missing(why) => {
            note!(ctx.trace, "google: {why}");
            tried.push(why);
        }
        other => return other,
    }
    match gcloud::token(ctx, &scope) {
        Outcome::Missing(why) => {
            tried.push(why);
            Outcome::Missing(format!(
                "no Google credentials: {} not set; {}",
                vars::GOOGLE_APPLICATION_CREDENTIALS,
                tried.join("; ")
            ))
        }
        other => other,
    }
}

/// The token, or an error that says which sources were tried and what to set up.
pub fn require(outcome: Outcome<AccessToken>, needed_for: &str) -> Result<AccessToken> {
    match outcome {
        Outcome::Found(t) => Ok(t),
        Outcome::Missing(why) => Err(Error::new(format!("{needed_for}: {why}")).hint(format!(
            "set {} to a service account key (google-github-actions/auth does), or run `gcloud auth application-default login`",
            vars::GOOGLE_APPLICATION_CREDENTIALS
        ))),
        Outcome::Failed(e) => Err(e.context(needed_for)),
    }
}

/// `${CLOUDSDK_CONFIG:-~/.config/gcloud}/application_default_credentials.json` (gcloud does
/// not follow `XDG_CONFIG_HOME`).
pub fn adc_file(env: &Env) -> Option<PathBuf> {
    gcloud::config_dir(env).map(|d| d.join("application_default_credentials.json"))
}

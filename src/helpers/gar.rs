//! `gar`: Artifact Registry's package repositories (`<location>-python.pkg.dev`, `-npm`,
//! `-maven`, `-go`, `-apt`). Answers `Authorization: Bearer <Google access token>`, or
//! `Basic base64(oauth2accesstoken:<token>)` for tools that only speak Basic.
//!
//! ```json
//! {"auth": "basic"}
//! ```

use serde::Deserialize;

use crate::cloud::google::{self, CLOUD_PLATFORM};
use crate::kernel::context::Context;
use crate::kernel::error::Result;
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::note;
use crate::registry::Credential;
use crate::registry::keychains::gcp::USERNAME;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub auth: Auth,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// `Bearer <token>`.
    #[default]
    Bearer,
    /// `Basic base64(oauth2accesstoken:<token>)`.
    Basic,
}

pub fn run(ctx: &Context, config: &Config, url: &url::Url) -> Result<Response> {
    let needed_for = format!(
        "gar: no Google access token for {}",
        url.host_str().unwrap_or_default()
    );
    let token = google::require(
        google::access_token(ctx, &[CLOUD_PLATFORM.to_string()]),
        &needed_for,
    )?;
    note!(
        ctx.trace,
        "gar: {:?} token from {}",
        config.auth,
        token.source
    );
    let value = match config.auth {
        Auth::Bearer => Secret::new(format!("Bearer {}", token.token.expose())),
        Auth::Basic => Credential::basic_header(USERNAME, &token.token),
    };
    let what = format!("the Google access token from {}", token.source);
    let mut response = Response::empty().secret_header("Authorization", value, &what)?;
    response.expires = Some(token.expires);
    Ok(response)
}

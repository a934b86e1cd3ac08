//! `authorized_user` files (what `gcloud auth application-default login` writes): a refresh
//! token traded for an access token.

use super::oauth::{AccessToken, DEFAULT_TOKEN_URI, cached, endpoint, exchange};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::error::Result;
use crate::kernel::http::{self, Request};
use crate::kernel::secret::Secret;
use crate::note;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct AuthorizedUser {
    client_id: String,
    client_secret: Secret,
    refresh_token: Secret,
    #[serde(default)]
    token_uri: Option<String>,
}

pub(super) fn authorized_user(
    ctx: &Context,
    user: &AuthorizedUser,
    what: &str,
    scope: &str,
) -> Result<AccessToken> {
    let endpoint = endpoint(
        user.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI),
        "token_uri",
        what,
    )?;
    let source = format!("authorized user from {what}");
    let key = Key::new(&[
        "google-authorized-user",
        &user.client_id,
        &user.refresh_token.fingerprint(),
        endpoint.as_str(),
        scope,
    ]);
    cached(ctx, &key, source, || {
        note!(
            ctx.trace,
            "google: POST {} (refresh token grant)",
            http::redact_url(&endpoint)
        );
        // A refresh token keeps the scopes it was granted; asking for others is an error.
        let fields = [
            ("grant_type", "refresh_token"),
            ("client_id", user.client_id.as_str()),
            ("client_secret", user.client_secret.expose()),
            ("refresh_token", user.refresh_token.expose()),
        ];
        exchange(ctx, &Request::form(endpoint.clone(), &fields), what)
    })
}

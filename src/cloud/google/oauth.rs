//! What every Google link shares: the access token, the OAuth2 token endpoint and its
//! answer, and the cache of exchanged tokens.

use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::http::{self, Request};
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::kernel::token::{self, parse_response};
use crate::kernel::transport::require_secure;

/// Everything a registry pull or an Artifact Registry download needs.
pub const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Where `authorized_user` refresh tokens are traded when the file names no `token_uri`.
pub(super) const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// An access token and where it came from.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    /// Unix seconds, safety margin applied.
    pub expires: i64,
    pub source: String,
}

pub(super) fn found_or_failed(r: Result<AccessToken>) -> Outcome<AccessToken> {
    match r {
        Ok(t) => Outcome::Found(t),
        Err(e) => Outcome::Failed(e),
    }
}

/// An endpoint named by a key file's `field`: https, or http on loopback (a local test server).
/// Public for the fuzz harness.
pub fn endpoint(uri: &str, field: &str, what: &str) -> Result<url::Url> {
    let url =
        url::Url::parse(uri).map_err(|_| Error::new(format!("{what} has an invalid {field}")))?;
    match require_secure(&url, false) {
        Ok(()) => Ok(url),
        Err(_) => Err(Error::new(format!(
            "{what} has {field} {}, which is not https",
            http::redact_url(&url)
        ))),
    }
}

/// Sends a token request and reads an OAuth2 token answer.
pub(super) fn exchange(ctx: &Context, request: &Request, what: &str) -> Result<(Secret, i64)> {
    let shown = http::redact_url(&request.url);
    let response = ctx.http.send(request).map_err(|e| e.context(what))?;
    if !response.is_success() {
        let hint = match response.status {
            400 | 401 | 403 => {
                "the credentials were refused; check that the key or login is current"
            }
            _ => "Google's token endpoint failed; try again later",
        };
        return Err(Error::new(format!(
            "{what}: token endpoint {shown} answered {}{}",
            response.status,
            token::error_code(&response.body).map_or(String::new(), |c| format!(" {c}"))
        ))
        .hint(hint));
    }
    let token = parse_response(&response.body, ctx.env.now())
        .map_err(|why| Error::new(format!("{what}: token endpoint {shown} {why}")))?;
    Ok((token.token, token.expires))
}

/// Serves `key` from the cache, or runs `fetch` once across processes and stores its answer.
pub(super) fn cached(
    ctx: &Context,
    key: &Key,
    source: String,
    fetch: impl FnOnce() -> Result<(Secret, i64)>,
) -> Result<AccessToken> {
    let what = format!("google token ({source})");
    let (token, expires) = ctx.cache().fill_once(key, ctx.env.now(), &what, || {
        fetch().map(|(token, expires)| (token, Some(expires)))
    })?;
    Ok(AccessToken {
        token,
        expires: expires.unwrap_or_default(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_must_be_https_or_loopback_http() {
        let ok = |u: &str| endpoint(u, "token_uri", "f").map(|u| u.to_string());
        assert_eq!(
            ok("https://oauth2.googleapis.com/token").unwrap(),
            "https://oauth2.googleapis.com/token"
        );
        assert!(ok("http://127.0.0.1:9/token").is_ok());
        assert!(ok("http://localhost:9/token").is_ok());
        assert!(ok("http://evil.example/token").is_err());
        assert!(ok("file:///etc/passwd").is_err());
        assert!(ok("not a url").is_err());
    }
}

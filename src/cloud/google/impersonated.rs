//! `impersonated_service_account` credential files, as
//! `gcloud auth application-default login --impersonate-service-account` writes them: a source
//! credential (a user's refresh token or a service account key) whose token asks the IAM
//! Credentials API (`generateAccessToken`) for a token of the target service account.

use serde::Deserialize;

use super::authorized_user::{AuthorizedUser, authorized_user};
use super::oauth::{AccessToken, CLOUD_PLATFORM, cached, endpoint};
use super::service_account::{ServiceAccount, service_account};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result, describe_json};
use crate::kernel::http::{self, Request};
use crate::kernel::secret::{Secret, has_control_character};
use crate::kernel::token::parse_rfc3339;
use crate::kernel::token::safety_margin;
use crate::note;

/// What the target token is asked for: an hour, the API's default and its maximum without an
/// organization policy.
const LIFETIME: &str = "3600s";

#[derive(Deserialize)]
pub struct Impersonated {
    service_account_impersonation_url: String,
    source_credentials: serde_json::Value,
    #[serde(default)]
    delegates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Generated {
    access_token: Option<Secret>,
    expire_time: Option<String>,
}

pub fn access_token(
    ctx: &Context,
    file: &Impersonated,
    what: &str,
    scope: &str,
) -> Result<AccessToken> {
    let url = endpoint(
        &file.service_account_impersonation_url,
        "service_account_impersonation_url",
        what,
    )?;
    let source_what = format!("the source_credentials of {what}");
    // Calling the IAM Credentials API needs cloud-platform, whatever the target token is for.
    let source = source_token(ctx, &file.source_credentials, &source_what)?;
    let target = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|last| last.strip_suffix(":generateAccessToken"))
        .unwrap_or("the service account")
        .to_string();
    let description = format!("{target} impersonated with {what}");
    let key = Key::new(&[
        "google-impersonated",
        url.as_str(),
        &Secret::new(file.source_credentials.to_string()).fingerprint(),
        &file.delegates.join(","),
        scope,
    ]);
    cached(ctx, &key, description, || {
        note!(
            ctx.trace,
            "google: POST {} (generateAccessToken)",
            http::redact_url(&url)
        );
        let body = serde_json::json!({
            "scope": scope.split_whitespace().collect::<Vec<_>>(),
            "delegates": file.delegates,
            "lifetime": LIFETIME,
        });
        let request = Request::post(
            url.clone(),
            "application/json",
            body.to_string().into_bytes(),
        )
        .header(
            "Authorization",
            Secret::new(format!("Bearer {}", source.token.expose())),
        );
        let response = ctx.http.send(&request).map_err(|e| e.context(what))?;
        let shown = http::redact_url(&url);
        if !response.is_success() {
            let e = Error::new(format!(
                "{what}: {shown} answered {}{}",
                response.status,
                google_status(&response.body)
            ));
            return Err(match response.status {
                401 | 403 => e.hint(
                    "the source credentials need roles/iam.serviceAccountTokenCreator on the \
                     service account",
                ),
                _ => e,
            });
        }
        let generated: Generated = serde_json::from_slice(&response.body).map_err(|e| {
            Error::new(format!(
                "{what}: {shown} answered unexpected JSON ({})",
                describe_json(&e)
            ))
        })?;
        let token = generated
            .access_token
            .filter(|t| !t.is_empty() && !has_control_character(t.expose()))
            .ok_or_else(|| Error::new(format!("{what}: {shown} answered no accessToken")))?;
        let now = ctx.env.now();
        let expiry = generated
            .expire_time
            .as_deref()
            .and_then(parse_rfc3339)
            .filter(|&t| t > now)
            .ok_or_else(|| Error::new(format!("{what}: {shown} answered no valid expireTime")))?;
        let lifetime = expiry - now;
        Ok((token, expiry - safety_margin(lifetime)))
    })
}

/// The source credential's own token: a user's refresh token or a service account key.
fn source_token(ctx: &Context, source: &serde_json::Value, what: &str) -> Result<AccessToken> {
    let kind = source.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let parse_error = |e: serde_json::Error| {
        Error::new(format!(
            "{what} are not a valid {kind} ({})",
            describe_json(&e)
        ))
    };
    match kind {
        "authorized_user" => {
            let user: AuthorizedUser =
                serde_json::from_value(source.clone()).map_err(parse_error)?;
            authorized_user(ctx, &user, what, CLOUD_PLATFORM)
        }
        "service_account" => {
            let sa: ServiceAccount = serde_json::from_value(source.clone()).map_err(parse_error)?;
            service_account(ctx, &sa, what, CLOUD_PLATFORM)
        }
        other => Err(Error::new(format!(
            "{what} have type {other:?}, which is not supported"
        ))
        .hint("supported: authorized_user, service_account")),
    }
}

/// ` (PERMISSION_DENIED)`: the status of a Google API error, a fixed vocabulary; the message
/// is left out.
fn google_status(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        status: String,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(b)
            if !b.error.status.is_empty()
                && b.error.status.len() <= 40
                && b.error
                    .status
                    .bytes()
                    .all(|c| c.is_ascii_uppercase() || c == b'_') =>
        {
            format!(" ({})", b.error.status)
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_statuses_only() {
        assert_eq!(
            google_status(
                br#"{"error":{"code":403,"message":"secret stuff","status":"PERMISSION_DENIED"}}"#
            ),
            " (PERMISSION_DENIED)"
        );
        assert_eq!(google_status(br#"{"error":{"status":"lower case"}}"#), "");
        assert_eq!(google_status(b"garbage"), "");
    }
}

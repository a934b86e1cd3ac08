//! `external_account` files (workload identity federation), as `google-github-actions/auth`
//! writes them: a subject token from a file or URL is traded at Google's STS for an access
//! token, which then optionally impersonates a service account.
//!
//! AWS- and executable-sourced subject tokens are not supported.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::oauth::{AccessToken, CLOUD_PLATFORM, cached, endpoint, exchange};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result, describe_json};
use crate::kernel::files;
use crate::kernel::http::{self, Request};
use crate::kernel::secret::{Secret, has_control_character};
use crate::kernel::token::parse_rfc3339;
use crate::kernel::token::safety_margin;
use crate::note;

const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Subject tokens are small JWTs; anything larger is not one.
const MAX_SUBJECT_TOKEN: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
pub(super) struct ExternalAccount {
    audience: String,
    subject_token_type: String,
    token_url: String,
    #[serde(default)]
    service_account_impersonation_url: Option<String>,
    credential_source: CredentialSource,
}

#[derive(Debug, Deserialize)]
struct CredentialSource {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    url: Option<String>,
    /// Sent with the `url` request; holds a secret (GitHub's request token).
    #[serde(default)]
    headers: BTreeMap<String, Secret>,
    #[serde(default)]
    format: Format,
}

#[derive(Debug, Default, Deserialize)]
struct Format {
    /// `text` (default) or `json`.
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    subject_token_field_name: Option<String>,
}

pub(super) fn access_token(
    ctx: &Context,
    account: &ExternalAccount,
    what: &str,
    scope: &str,
) -> Result<AccessToken> {
    let sts = endpoint(&account.token_url, "token_url", what)?;
    let impersonate = account
        .service_account_impersonation_url
        .as_deref()
        .map(|u| endpoint(u, "service_account_impersonation_url", what))
        .transpose()?;
    let source = match &impersonate {
        Some(url) => format!(
            "workload identity federation from {what}, impersonating {}",
            http::redact_url(url)
        ),
        None => format!("workload identity federation from {what}"),
    };
    let key = Key::new(&[
        "google-external-account",
        &account.audience,
        sts.as_str(),
        impersonate.as_ref().map_or("", |u| u.as_str()),
        scope,
    ]);
    cached(ctx, &key, source, || {
        let subject = subject_token(ctx, &account.credential_source, what)?;
        // Impersonation asks for the wanted scopes; STS then only needs cloud-platform.
        let sts_scope = if impersonate.is_some() {
            CLOUD_PLATFORM
        } else {
            scope
        };
        note!(
            ctx.trace,
            "google: POST {} (STS token exchange)",
            http::redact_url(&sts)
        );
        let fields = [
            ("grant_type", TOKEN_EXCHANGE_GRANT),
            ("audience", account.audience.as_str()),
            ("scope", sts_scope),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("subject_token", subject.expose()),
            ("subject_token_type", account.subject_token_type.as_str()),
        ];
        let (federated, expires) = exchange(ctx, &Request::form(sts.clone(), &fields), what)?;
        match &impersonate {
            Some(url) => impersonate_service_account(ctx, url, &federated, scope, what),
            None => Ok((federated, expires)),
        }
    })
}

/// The subject token from the file or URL the credential source names.
fn subject_token(ctx: &Context, source: &CredentialSource, what: &str) -> Result<Secret> {
    let (raw, from) = match (&source.file, &source.url) {
        (Some(file), None) => {
            let path = ctx.env.expand_path(file);
            let text = files::read_required(&path, &format!("{what}: credential_source file"))?;
            (text, path.display().to_string())
        }
        (None, Some(url)) => {
            let parsed = endpoint(url, "credential_source url", what)?;
            let shown = http::redact_url(&parsed);
            let mut request = Request::get(parsed);
            for (name, value) in &source.headers {
                request = request.header(name, value.clone());
            }
            note!(ctx.trace, "google: GET {shown} (subject token)");
            let response = ctx.http.send(&request).map_err(|e| e.context(what))?;
            if !response.is_success() {
                return Err(Error::new(format!(
                    "{what}: credential_source url {shown} answered {}",
                    response.status
                ))
                .hint("in GitHub Actions the job needs `permissions: id-token: write`"));
            }
            (response.body, shown)
        }
        _ => {
            return Err(Error::new(format!(
                "{what}: only credential_source \"file\" or \"url\" is supported"
            )));
        }
    };
    if raw.len() > MAX_SUBJECT_TOKEN {
        return Err(Error::new(format!(
            "{what}: the subject token from {from} is too large"
        )));
    }
    let token = match (
        source.format.kind.as_deref(),
        &source.format.subject_token_field_name,
    ) {
        (None | Some("text"), _) => String::from_utf8_lossy(&raw).trim().to_string(),
        (Some("json"), Some(field)) => {
            let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| {
                Error::new(format!(
                    "{what}: the subject token from {from} is not JSON ({})",
                    describe_json(&e)
                ))
            })?;
            value[field.as_str()]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
        (Some(kind), _) => {
            return Err(Error::new(format!(
                "{what}: credential_source format {kind:?} needs type \"text\", or \"json\" with subject_token_field_name"
            )));
        }
    };
    if token.is_empty() {
        return Err(Error::new(format!("{what}: no subject token from {from}")));
    }
    Ok(Secret::new(token))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Impersonated {
    access_token: Secret,
    expire_time: String,
}

/// IAM Credentials `generateAccessToken` for the service account, with the federated token.
fn impersonate_service_account(
    ctx: &Context,
    url: &url::Url,
    federated: &Secret,
    scope: &str,
    what: &str,
) -> Result<(Secret, i64)> {
    let shown = http::redact_url(url);
    let body = serde_json::json!({
        "scope": scope.split(' ').collect::<Vec<_>>(),
        "lifetime": "3600s",
    });
    note!(
        ctx.trace,
        "google: POST {shown} (service account impersonation)"
    );
    let request = Request::post(
        url.clone(),
        "application/json",
        body.to_string().into_bytes(),
    )
    .header("Authorization", format!("Bearer {}", federated.expose()));
    let response = ctx.http.send(&request).map_err(|e| e.context(what))?;
    if !response.is_success() {
        return Err(Error::new(format!(
            "{what}: service account impersonation {shown} answered {}",
            response.status
        ))
        .hint(
            "grant the federated identity roles/iam.workloadIdentityUser on the service account",
        ));
    }
    let answer: Impersonated = serde_json::from_slice(&response.body).map_err(|e| {
        Error::new(format!(
            "{what}: {shown} answered unexpected JSON ({})",
            describe_json(&e)
        ))
    })?;
    let now = ctx.env.now();
    let expiry = parse_rfc3339(&answer.expire_time)
        .filter(|t| *t > now)
        .ok_or_else(|| Error::new(format!("{what}: {shown} answered no valid expireTime")))?;
    if answer.access_token.is_empty() || has_control_character(answer.access_token.expose()) {
        return Err(Error::new(format!(
            "{what}: {shown} answered no usable accessToken"
        )));
    }
    Ok((answer.access_token, expiry - safety_margin(expiry - now)))
}

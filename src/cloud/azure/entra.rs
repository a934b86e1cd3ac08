//! Microsoft Entra ID's token endpoint: the client-credentials grant (with a secret or a
//! federated assertion), the authority it lives at, and reading any token endpoint's answer.

use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::Error;
use crate::kernel::http::{self, Request};
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::kernel::token::{self};
use crate::kernel::transport::require_secure;
use crate::note;

const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// `POST {authority}/{tenant}/oauth2/v2.0/token` with the client-credentials grant.
pub(super) fn entra(
    ctx: &Context,
    authority: &url::Url,
    tenant: &str,
    client_id: &str,
    resource: &str,
    proof: &[(&str, &str)],
) -> Outcome<(Secret, i64)> {
    let url = match authority.join(&format!("{tenant}/oauth2/v2.0/token")) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(Error::new(format!("invalid token URL: {e}"))),
    };
    let scope = format!("{resource}/.default");
    let mut fields = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", scope.as_str()),
    ];
    fields.extend_from_slice(proof);
    note!(ctx.trace, "azure: POST {url} (scope {scope})");
    let hint = if proof[0].0 == "client_secret" {
        "check AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET; the secret may have expired"
    } else {
        "check the app's federated credential: its issuer, subject and audience (api://AzureADTokenExchange) must match the token in the file, which may also have expired"
    };
    answer(ctx, &Request::form(url, &fields), hint)
}

/// Sends a token request and reads the token out of the answer.
pub(super) fn answer(ctx: &Context, request: &Request, hint: &str) -> Outcome<(Secret, i64)> {
    match ctx.http.send(request) {
        Ok(response) => read(ctx, &request.url, response, hint),
        Err(e) => Outcome::Failed(e),
    }
}

/// The token out of an answer; a failure names the endpoint, the status and the error code.
pub(super) fn read(
    ctx: &Context,
    url: &url::Url,
    response: http::Response,
    hint: &str,
) -> Outcome<(Secret, i64)> {
    let shown = http::redact_url(url);
    note!(ctx.trace, "azure: {shown} answered {}", response.status);
    if !response.is_success() {
        let code = token::error_code(&response.body).map_or(String::new(), |c| format!(" {c}"));
        let e = Error::new(format!("{shown} answered {}{code}", response.status));
        return Outcome::Failed(match response.status {
            400 | 401 | 403 => e.hint(hint),
            _ => e,
        });
    }
    match token::parse_answer(&response.body, ctx.env.now(), &token::ENTRA) {
        Ok(t) => Outcome::Found((t.token, t.expires)),
        Err(why) => Outcome::Failed(Error::new(format!("{shown} {why}"))),
    }
}

/// `$AZURE_AUTHORITY_HOST` as a base URL ending in `/`: https, or http on loopback (tests).
pub(super) fn authority(env: &Env) -> Result<url::Url, Error> {
    let raw = env
        .var(vars::AZURE_AUTHORITY_HOST)
        .unwrap_or(DEFAULT_AUTHORITY);
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    // The value is not quoted: it may carry userinfo.
    let mut url = url::Url::parse(&with_scheme)
        .map_err(|e| Error::new(format!("{} is not a URL ({e})", vars::AZURE_AUTHORITY_HOST)))?;
    if require_secure(&url, false).is_err() {
        return Err(Error::new(format!(
            "{} is not https; refusing to send credentials there",
            vars::AZURE_AUTHORITY_HOST
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// A tenant GUID or domain (`contoso.onmicrosoft.com`): safe to put in a URL path.
pub(super) fn is_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 256
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !t.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    #[test]
    fn authority_is_https_or_loopback_and_ends_in_a_slash() {
        let a = |v: &str| {
            authority(&test_env(&[("AZURE_AUTHORITY_HOST", v)]))
                .map(|u| u.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            authority(&test_env(&[])).unwrap().as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(
            a("login.chinacloudapi.cn").unwrap(),
            "https://login.chinacloudapi.cn/"
        );
        assert_eq!(
            a("http://127.0.0.1:8080/base").unwrap(),
            "http://127.0.0.1:8080/base/"
        );
        assert!(a("http://login.example").unwrap_err().contains("not https"));
    }
}

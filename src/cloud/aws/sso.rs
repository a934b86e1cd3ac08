//! IAM Identity Center (SSO) profiles: the access token `aws sso login` left in
//! `~/.aws/sso/cache`, exchanged for the role's temporary credentials with the SSO portal's
//! `GetRoleCredentials`.
//!
//! An expired token is an error that says to log in again. Refreshing it ourselves would mean
//! rewriting the AWS CLI's own cache file, which is left to the CLI.

use serde::Deserialize;

use super::credentials::{Credentials, cached, endpoint_override};
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result, describe_json};
use crate::kernel::files;
use crate::kernel::http::Request;
use crate::kernel::secret::Secret;
use crate::kernel::token::parse_rfc3339;
use crate::note;

/// What a profile says about its SSO role.
pub struct Role<'a> {
    pub profile: &'a str,
    pub account_id: &'a str,
    pub role_name: &'a str,
    /// The portal's region (`sso_region`).
    pub region: &'a str,
    /// The `sso_session` name, or the legacy profile's `sso_start_url`: the AWS CLI names the
    /// token's cache file after its SHA-1.
    pub token_name: &'a str,
}

/// The token file, as the AWS CLI writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedToken {
    access_token: Secret,
    expires_at: String,
}

/// `GetRoleCredentials`' answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentialsAnswer {
    role_credentials: RoleCredentials,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
    /// Unix milliseconds.
    expiration: i64,
}

pub fn credentials(ctx: &Context, role: &Role) -> Result<Credentials> {
    let login = format!("run `aws sso login --profile {}`", role.profile);
    let home = ctx
        .env
        .home()
        .ok_or_else(|| Error::new("no home directory for ~/.aws/sso/cache (HOME is not set)"))?;
    let path = home.join(format!(
        ".aws/sso/cache/{}.json",
        crate::kernel::digest::sha1_hex(role.token_name.as_bytes())
    ));
    let Some(text) = files::read_capped(&path)? else {
        return Err(Error::new(format!(
            "no SSO token for {:?} ({} does not exist)",
            role.token_name,
            path.display()
        ))
        .hint(login));
    };
    let token: CachedToken = serde_json::from_slice(&text).map_err(|e| {
        Error::new(format!(
            "{} is not an SSO token file ({})",
            path.display(),
            describe_json(&e)
        ))
        .hint(login.clone())
    })?;
    let expires = parse_expiry(&token.expires_at).ok_or_else(|| {
        Error::new(format!(
            "{} has an invalid expiresAt {:?}",
            path.display(),
            token.expires_at
        ))
    })?;
    if expires <= ctx.env.now() {
        return Err(Error::new(format!(
            "the SSO token for {:?} expired at {}",
            role.token_name, token.expires_at
        ))
        .hint(login));
    }

    let endpoint = portal(ctx, role.region)?;
    let source = format!(
        "profile {} (SSO role {} in account {})",
        role.profile, role.role_name, role.account_id
    );
    let parts = [
        "sso",
        endpoint.as_str(),
        role.account_id,
        role.role_name,
        &token.access_token.fingerprint(),
    ];
    cached(ctx, &parts, || {
        let mut url = endpoint.join("federation/credentials").expect("a path");
        url.query_pairs_mut()
            .append_pair("account_id", role.account_id)
            .append_pair("role_name", role.role_name);
        note!(ctx.trace, "aws: GetRoleCredentials for {source}");
        let request =
            Request::get(url).header("x-amz-sso_bearer_token", token.access_token.clone());
        let response = ctx.http.send(&request)?;
        match response.status {
            200 => {}
            401 | 403 => {
                return Err(Error::new(format!(
                    "the SSO portal refused the token for {source} ({})",
                    response.status
                ))
                .hint(login.clone()));
            }
            status => {
                return Err(Error::new(format!(
                    "the SSO portal answered {status} for {source}"
                )));
            }
        }
        let answer: RoleCredentialsAnswer =
            serde_json::from_slice(&response.body).map_err(|e| {
                Error::new(format!(
                    "the SSO portal answered unexpected credentials ({})",
                    describe_json(&e)
                ))
            })?;
        let c = answer.role_credentials;
        if c.access_key_id.is_empty() || c.secret_access_key.is_empty() {
            return Err(Error::new("the SSO portal answered empty credentials"));
        }
        Ok(Credentials {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: c.session_token.filter(|t| !t.is_empty()),
            expires: Some(c.expiration.div_euclid(1000)),
            source: source.clone(),
        })
    })
}

/// `https://portal.sso.<region>.amazonaws.com/`, or `AWS_ENDPOINT_URL_SSO`.
fn portal(ctx: &Context, region: &str) -> Result<url::Url> {
    if let Some(url) = endpoint_override(&ctx.env, vars::AWS_ENDPOINT_URL_SSO)? {
        return Ok(url);
    }
    // The region becomes part of a host name.
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::new(format!("invalid sso_region {region:?}")));
    }
    let url = format!("https://portal.sso.{region}.amazonaws.com/");
    url::Url::parse(&url).map_err(|e| Error::new(format!("{url}: {e}")))
}

/// RFC 3339, or the `2019-11-14T04:05:45UTC` form of older AWS CLIs.
fn parse_expiry(value: &str) -> Option<i64> {
    match value.strip_suffix("UTC") {
        Some(stem) => parse_rfc3339(&format!("{stem}Z")),
        None => parse_rfc3339(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_in_both_cli_formats() {
        assert_eq!(parse_expiry("2026-11-23T12:00:00Z"), Some(1_795_435_200));
        assert_eq!(parse_expiry("2026-11-23T12:00:00UTC"), Some(1_795_435_200));
        assert_eq!(parse_expiry("tomorrow"), None);
    }

    #[test]
    fn regions_cannot_inject_a_host() {
        let ctx = Context::new(
            crate::kernel::env::test_env(&[]),
            crate::kernel::trace::Trace::silent(),
        );
        assert_eq!(
            portal(&ctx, "eu-west-1").unwrap().as_str(),
            "https://portal.sso.eu-west-1.amazonaws.com/"
        );
        for bad in ["", "evil.com/", "eu-west-1.evil.com#", "EU"] {
            assert!(portal(&ctx, bad).is_err(), "{bad:?}");
        }
    }
}

//! Credentials from the machine: ECS/EKS container credentials and EC2 instance metadata
//! (IMDSv2: `PUT` a session token, then `GET` the role's credentials with it).

use super::credentials::{Credentials, JsonCredentials, cached};
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::http::Request;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::kernel::transport::require_secure;
use crate::note;

/// The ECS agent's fixed address for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
const ECS_HOST: &str = "http://169.254.170.2";
const IMDS_DEFAULT: &str = "http://169.254.169.254";
const IMDS_TOKEN_TTL: &str = "21600";
/// A metadata service answers in milliseconds when it exists.
const IMDS_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2) or `_FULL_URI`, with the
/// optional `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]` as `Authorization`.
pub fn container(ctx: &Context) -> Outcome<Credentials> {
    let env = &ctx.env;
    let (name, url) = if let Some(rel) = env.var(vars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
        (
            vars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
            format!("{ECS_HOST}{rel}"),
        )
    } else if let Some(full) = env.var(vars::AWS_CONTAINER_CREDENTIALS_FULL_URI) {
        (vars::AWS_CONTAINER_CREDENTIALS_FULL_URI, full.to_string())
    } else {
        return Outcome::Missing("no container credentials endpoint set".into());
    };
    let result = container_url(name, &url).and_then(|url| {
        let token = container_token(ctx)?;
        let parts = [
            "container",
            url.as_str(),
            &token.as_ref().map_or(String::new(), Secret::fingerprint),
        ];
        let source = format!(
            "container credentials {}",
            crate::kernel::http::redact_url(&url)
        );
        cached(ctx, &parts, || {
            note!(ctx.trace, "aws: GET {source}");
            let mut request = Request::get(url.clone());
            if let Some(token) = token {
                request = request.header("Authorization", token);
            }
            let response = ctx.http.send(&request)?;
            if !response.is_success() {
                return Err(Error::new(format!("{source} answered {}", response.status)));
            }
            JsonCredentials::parse(&response.body, source.clone())
        })
    });
    match result {
        Ok(c) => Outcome::Found(c),
        Err(e) => Outcome::Failed(e),
    }
}

/// Credentials must not go to an arbitrary plain-http host: `http` only to loopback and the
/// ECS/EKS agent addresses, as the AWS SDKs require.
fn container_url(name: &str, value: &str) -> Result<url::Url> {
    let url = url::Url::parse(value)
        .map_err(|e| Error::new(format!("{name} is not a valid URL: {e}")))?;
    // The ECS/EKS agent addresses are link-local: plain http reaches them like loopback.
    let agent = matches!(url.host(), Some(url::Host::Ipv4(ip))
        if ip.octets() == [169, 254, 170, 2] || ip.octets() == [169, 254, 170, 23]);
    match require_secure(&url, agent) {
        Ok(()) => Ok(url),
        Err(_) => Err(Error::new(format!(
            "{name} must be https, or http on loopback or the ECS/EKS agent address"
        ))),
    }
}

fn container_token(ctx: &Context) -> Result<Option<Secret>> {
    if let Some(token) = ctx.env.var(vars::AWS_CONTAINER_AUTHORIZATION_TOKEN) {
        return Ok(Some(Secret::new(token)));
    }
    let Some(file) = ctx.env.var(vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) else {
        return Ok(None);
    };
    let path = ctx.env.expand_path(file);
    let token = files::read_required_text(&path, vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)?;
    Ok(Some(Secret::new(token.trim())))
}

/// EC2 instance metadata, unless `AWS_EC2_METADATA_DISABLED=true`. Not being on EC2 (no
/// answer) is "missing", not an error.
pub fn instance(ctx: &Context) -> Outcome<Credentials> {
    if ctx
        .env
        .var(vars::AWS_EC2_METADATA_DISABLED)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return Outcome::Missing(format!("{}=true", vars::AWS_EC2_METADATA_DISABLED));
    }
    let base = ctx
        .env
        .var(vars::AWS_EC2_METADATA_SERVICE_ENDPOINT)
        .unwrap_or(IMDS_DEFAULT)
        .trim_end_matches('/')
        .to_string();
    let url = |path: &str| {
        url::Url::parse(&format!("{base}{path}")).map_err(|e| {
            Error::new(format!(
                "{} is not a valid URL: {e}",
                vars::AWS_EC2_METADATA_SERVICE_ENDPOINT
            ))
        })
    };
    let token_url = match url("/latest/api/token") {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(e),
    };
    // "Not here" is remembered, so that a laptop pays for the probe once, not per download.
    let absent = ["aws-imds", base.as_str()];
    let now = ctx.env.now();
    if let Some(why) = ctx.cache().absent(&absent, now) {
        return Outcome::Missing(format!("{why} (remembered)"));
    }
    note!(ctx.trace, "aws: PUT {token_url}");
    let request = Request::put(token_url)
        .header("X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL)
        .probe(IMDS_PROBE_TIMEOUT);
    let token = match ctx.http.send(&request) {
        Ok(r) if r.is_success() => Secret::new(String::from_utf8_lossy(&r.body).trim()),
        Ok(r) => {
            return Outcome::Missing(format!(
                "instance metadata at {base} answered {} to the token request",
                r.status
            ));
        }
        Err(e) => {
            let why = format!("no instance metadata service at {base}: {e}");
            ctx.cache().remember_absent(&absent, now, &why);
            return Outcome::Missing(why);
        }
    };
    let parts = ["instance", base.as_str()];
    let result = cached(ctx, &parts, || {
        let list = url("/latest/meta-data/iam/security-credentials/")?;
        let role = get(ctx, list, &token)?;
        let role = String::from_utf8_lossy(&role);
        let role = role.lines().next().unwrap_or("").trim();
        if role.is_empty() {
            return Err(
                Error::new(format!("instance metadata at {base} lists no IAM role"))
                    .hint("attach an instance profile to the instance"),
            );
        }
        let body = get(
            ctx,
            url(&format!(
                "/latest/meta-data/iam/security-credentials/{role}"
            ))?,
            &token,
        )?;
        JsonCredentials::parse(&body, format!("instance metadata role {role}"))
    });
    match result {
        Ok(c) => Outcome::Found(c),
        Err(e) => Outcome::Failed(e),
    }
}

fn get(ctx: &Context, url: url::Url, token: &Secret) -> Result<Vec<u8>> {
    note!(ctx.trace, "aws: GET {url}");
    let response = ctx
        .http
        .send(&Request::get(url.clone()).header("X-aws-ec2-metadata-token", token.clone()))?;
    if !response.is_success() {
        return Err(Error::new(format!(
            "instance metadata GET {url} answered {}",
            response.status
        )));
    }
    Ok(response.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_urls_stay_local_unless_https() {
        for ok in [
            "http://127.0.0.1:9/creds",
            "http://169.254.170.2/v2/credentials/x",
            "http://169.254.170.23/v1/credentials",
            "http://[::1]/x",
            "https://creds.example.com/x",
        ] {
            assert!(container_url("V", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/x",
            "http://evil.example.com/",
            "file:///etc/x",
        ] {
            assert!(container_url("V", bad).is_err(), "{bad}");
        }
    }
}

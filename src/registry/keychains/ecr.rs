//! The ECR keychain: AWS credentials (the chain in [`crate::cloud::aws`]) exchanged for a
//! registry password with `GetAuthorizationToken`.
//!
//! Private ECR always challenges with Basic, so the token is answered directly as
//! `Authorization: Basic <token>` with no registry ping. Public ECR (`public.ecr.aws`) runs the
//! usual Bearer exchange, so its token becomes a username/password credential for it.

use base64::Engine;
use serde::Deserialize;

use crate::cloud::aws::{self, sign};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::http::Request;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::kernel::token::safety_margin;
use crate::note;
use crate::registry::reference::Target;
use crate::registry::{Credential, Resolved, Sourced};

pub const PUBLIC_HOST: &str = "public.ecr.aws";
const PUBLIC_REGION: &str = "us-east-1";

/// What an ECR host says about where its tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Private {
        account: String,
        region: String,
        fips: bool,
        /// `amazonaws.com`, `amazonaws.com.cn`, `amazonaws.eu` or `on.aws`.
        domain: String,
    },
    Public,
}

/// `^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com(\.cn)?|amazonaws\.eu|on\.aws)$`,
/// or `public.ecr.aws`.
pub fn parse_host(host: &str) -> Option<Host> {
    let host = host.to_ascii_lowercase();
    if host == PUBLIC_HOST {
        return Some(Host::Public);
    }
    let (account, rest) = host.split_once('.')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest
        .strip_prefix("dkr.ecr")
        .or_else(|| rest.strip_prefix("dkr-ecr"))?;
    let (fips, rest) = match rest.strip_prefix("-fips") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (region, domain) = rest.strip_prefix('.')?.split_once('.')?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let domain_ok = matches!(
        domain,
        "amazonaws.com" | "amazonaws.com.cn" | "amazonaws.eu" | "on.aws"
    );
    (region_ok && domain_ok).then(|| Host::Private {
        account: account.to_string(),
        region: region.to_string(),
        fips,
        domain: domain.to_string(),
    })
}

impl Host {
    fn region(&self) -> &str {
        match self {
            Host::Private { region, .. } => region,
            Host::Public => PUBLIC_REGION,
        }
    }

    fn service(&self) -> &'static str {
        match self {
            Host::Private { .. } => "ecr",
            Host::Public => "ecr-public",
        }
    }

    fn target(&self) -> &'static str {
        match self {
            Host::Private { .. } => "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
            Host::Public => "SpencerFrontendService.GetAuthorizationToken",
        }
    }

    /// The API endpoint: the override variables, else the service's regional endpoint.
    fn endpoint(&self, ctx: &Context) -> Result<url::Url> {
        let var = match self {
            Host::Private { .. } => vars::AWS_ENDPOINT_URL_ECR,
            Host::Public => vars::AWS_ENDPOINT_URL_ECR_PUBLIC,
        };
        if let Some(url) = aws::endpoint_override(&ctx.env, var)? {
            return Ok(url);
        }
        let host = match self {
            Host::Public => format!("api.ecr-public.{PUBLIC_REGION}.amazonaws.com"),
            Host::Private {
                region,
                fips,
                domain,
                ..
            } => {
                let ecr = if *fips { "ecr-fips" } else { "ecr" };
                match domain.as_str() {
                    // Dual-stack registries (`dkr-ecr.<region>.on.aws`) use the dual-stack API.
                    "on.aws" => format!("{ecr}.{region}.api.aws"),
                    _ => format!("api.{ecr}.{region}.{domain}"),
                }
            }
        };
        url::Url::parse(&format!("https://{host}/"))
            .map_err(|e| Error::new(format!("invalid ECR endpoint {host}: {e}")))
    }

    /// Account and region (or `public`), for cache keys and messages.
    fn scope(&self) -> String {
        match self {
            Host::Private {
                account,
                region,
                fips,
                domain,
            } => format!(
                "{account}/{region}/{domain}{}",
                if *fips { "/fips" } else { "" }
            ),
            Host::Public => "public".to_string(),
        }
    }
}

pub fn lookup(ctx: &Context, target: &Target) -> Outcome<Resolved> {
    let Some(host) = parse_host(target.hostname()) else {
        return Outcome::Missing(format!("{} is not an ECR host", target.registry));
    };
    let credentials = match aws::credentials(ctx) {
        Outcome::Found(c) => c,
        Outcome::Missing(why) => return Outcome::Missing(why),
        Outcome::Failed(e) => return Outcome::Failed(e.context("ecr keychain")),
    };
    let token = match token(ctx, &host, &credentials) {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(e),
    };
    let (value, expires) = token;
    let source = format!("ecr keychain ({})", credentials.source);
    Outcome::Found(match host {
        Host::Private { .. } => Resolved::Authorization {
            value: Secret::new(format!("Basic {}", value.expose())),
            expires: Some(expires),
            source,
        },
        Host::Public => match Credential::from_auth(&value) {
            Ok(credential) => Resolved::Credential(Sourced { credential, source }),
            Err(why) => {
                return Outcome::Failed(Error::new(format!(
                    "ecr keychain: the public ECR token {why}"
                )));
            }
        },
    })
}

/// The authorization token (base64 of `AWS:<password>`) and when to stop using it (margin
/// applied), cached under the registry scope and the credentials' identity.
fn token(ctx: &Context, host: &Host, credentials: &aws::Credentials) -> Result<(Secret, i64)> {
    let endpoint = host.endpoint(ctx)?;
    let now = ctx.env.now();
    let key = Key::new(&[
        "ecr",
        &host.scope(),
        endpoint.as_str(),
        &credentials.fingerprint(),
    ]);
    let what = format!("ecr token {}", host.scope());
    let (value, expires) = ctx
        .cache()
        .fill_once_if(&key, now, &what, is_authorization, || {
            let (value, expires_at) = fetch(ctx, host, &endpoint, credentials)?;
            Ok((value, Some(expires_at - safety_margin(expires_at - now))))
        })?;
    Ok((value, expires.unwrap_or(now)))
}

/// What GetAuthorizationToken answers, fresh or read back from the cache: base64 of
/// `user:password`.
fn is_authorization(token: &Secret) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(token.expose())
        .is_ok_and(|d| d.contains(&b':'))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    authorization_data: AuthorizationData,
}

/// A list for private ECR, one object for public ECR.
#[derive(Deserialize)]
#[serde(untagged)]
enum AuthorizationData {
    List(Vec<AuthorizationEntry>),
    One(AuthorizationEntry),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationEntry {
    authorization_token: Secret,
    /// Epoch seconds (may carry a fraction).
    expires_at: f64,
}

fn fetch(
    ctx: &Context,
    host: &Host,
    endpoint: &url::Url,
    credentials: &aws::Credentials,
) -> Result<(Secret, i64)> {
    const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
    let body = b"{}";
    let what = format!(
        "ecr keychain: GetAuthorizationToken at {} with credentials from {}",
        crate::kernel::http::redact_url(endpoint),
        credentials.source
    );
    let signed = sign::headers(
        credentials,
        &sign::Signable {
            method: "POST",
            url: endpoint,
            headers: &[
                ("content-type", CONTENT_TYPE),
                ("x-amz-target", host.target()),
            ],
            body,
            region: host.region(),
            service: host.service(),
            now: ctx.env.now(),
        },
    )
    .map_err(|e| e.context(&what))?;
    let request = signed.into_iter().fold(
        Request::post(endpoint.clone(), CONTENT_TYPE, body.to_vec())
            .header("X-Amz-Target", host.target()),
        |r, (name, value)| r.header(&name, value),
    );
    note!(
        ctx.trace,
        "ecr: POST {endpoint} ({}, {})",
        host.target(),
        host.scope()
    );
    let response = ctx.http.send(&request).map_err(|e| e.context(&what))?;
    note!(ctx.trace, "ecr: answered {}", response.status);
    if !response.is_success() {
        return Err(Error::new(format!(
            "{what} answered {}{}",
            response.status,
            error_type(&response.body)
        ))
        .hint("the identity needs ecr:GetAuthorizationToken (ecr-public and sts:GetServiceBearerToken for public ECR)"));
    }
    let answer: Answer = serde_json::from_slice(&response.body).map_err(|e| {
        Error::new(format!(
            "{what}: unexpected answer (line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    let entry = match answer.authorization_data {
        AuthorizationData::One(e) => Some(e),
        AuthorizationData::List(list) => list.into_iter().next(),
    }
    .ok_or_else(|| Error::new(format!("{what}: the answer holds no authorization data")))?;
    if !is_authorization(&entry.authorization_token) {
        return Err(Error::new(format!(
            "{what}: the token is not base64 of user:password"
        )));
    }
    Ok((entry.authorization_token, entry.expires_at as i64))
}

/// ` (AccessDeniedException)` from an AWS JSON error's `__type`: safe to show, unlike the
/// message.
fn error_type(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct AwsError {
        #[serde(rename = "__type")]
        kind: String,
    }
    serde_json::from_slice::<AwsError>(body)
        .ok()
        .map(|e| e.kind.rsplit('#').next().unwrap_or_default().to_string())
        .filter(|k| {
            k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        })
        .map(|k| format!(" ({k})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_table() {
        let private = |account: &str, region: &str, fips, domain: &str| {
            Some(Host::Private {
                account: account.into(),
                region: region.into(),
                fips,
                domain: domain.into(),
            })
        };
        let cases = [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                private("123456789012", "us-east-1", false, "amazonaws.com"),
            ),
            (
                "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
                private("123456789012", "us-gov-west-1", true, "amazonaws.com"),
            ),
            (
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                private("123456789012", "cn-north-1", false, "amazonaws.com.cn"),
            ),
            (
                "123456789012.dkr-ecr.eu-west-1.on.aws",
                private("123456789012", "eu-west-1", false, "on.aws"),
            ),
            (
                "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
                private("123456789012", "eusc-de-east-1", false, "amazonaws.eu"),
            ),
            (
                "123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM",
                private("123456789012", "us-east-1", false, "amazonaws.com"),
            ),
            ("public.ecr.aws", Some(Host::Public)),
            ("12345678901.dkr.ecr.us-east-1.amazonaws.com", None),
            ("1234567890123.dkr.ecr.us-east-1.amazonaws.com", None),
            ("12345678901a.dkr.ecr.us-east-1.amazonaws.com", None),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
                None,
            ),
            ("123456789012.dkr.ecr..amazonaws.com", None),
            ("123456789012.dkr.ecr.us_east.amazonaws.com", None),
            ("123456789012.dkr.ecrfips.us-east-1.amazonaws.com", None),
            ("123456789012.ecr.us-east-1.amazonaws.com", None),
            ("ecr.aws", None),
            ("foo.public.ecr.aws", None),
        ];
        for (host, want) in cases {
            assert_eq!(parse_host(host), want, "{host}");
        }
    }

    #[test]
    fn endpoints_follow_the_partition() {
        let ctx = Context::new(
            crate::kernel::env::test_env(&[]),
            crate::kernel::trace::Trace::silent(),
        );
        let endpoint = |h: &str| parse_host(h).unwrap().endpoint(&ctx).unwrap().to_string();
        assert_eq!(
            endpoint("123456789012.dkr.ecr.us-west-2.amazonaws.com"),
            "https://api.ecr.us-west-2.amazonaws.com/"
        );
        assert_eq!(
            endpoint("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"),
            "https://api.ecr-fips.us-east-1.amazonaws.com/"
        );
        assert_eq!(
            endpoint("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
            "https://api.ecr.cn-north-1.amazonaws.com.cn/"
        );
        assert_eq!(
            endpoint("public.ecr.aws"),
            "https://api.ecr-public.us-east-1.amazonaws.com/"
        );
    }

    #[test]
    fn error_type_is_the_code_only() {
        assert_eq!(
            error_type(br#"{"__type":"com.amazon#AccessDeniedException","message":"secret"}"#),
            " (AccessDeniedException)"
        );
        assert_eq!(error_type(b"<html>"), "");
    }
}

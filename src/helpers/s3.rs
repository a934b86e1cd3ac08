//! `s3`: SigV4-signed `GET` headers for S3 and S3-compatible object stores (Cloudflare R2).
//!
//! ```json
//! {}                                   // region from the host, AWS credential chain
//! {"region": "eu-central-1"}           // a host that does not name its region
//! {"lookup_chain": [{"source": "env", "name": "R2_ACCESS_KEY_ID", "binding": "access_key_id"},
//!                   {"source": "env", "name": "R2_SECRET_ACCESS_KEY", "binding": "secret_access_key"}]}
//! ```
//!
//! Virtual-hosted (`bucket.s3.region.amazonaws.com/key`) and path-style
//! (`s3.region.amazonaws.com/bucket/key`) URLs sign the same way: the signature covers the
//! host and path as sent. Presigned URLs already carry their signature and get no headers.

use serde::Deserialize;

use crate::cloud::aws::{self, Credentials, sign};
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::outcome::Outcome;
use crate::kernel::protocol::Response;
use crate::kernel::token::safety_margin;
use crate::lookup::LookupChain;
use crate::note;

/// Lookup-chain bindings the s3 helper reads.
pub const BINDINGS: &[&str] = &["access_key_id", "secret_access_key", "session_token"];
/// S3 rejects a request whose `x-amz-date` is more than 15 minutes off.
const SIGNATURE_LIFETIME: i64 = 15 * 60;
const R2_SUFFIX: &str = ".r2.cloudflarestorage.com";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Signing region; default: from the host (`us-east-1` for `s3.amazonaws.com`, `auto` for R2).
    #[serde(default)]
    pub region: Option<String>,
    /// Where the keys come from instead of the AWS credential chain; bindings in [`BINDINGS`].
    #[serde(default)]
    pub lookup_chain: LookupChain,
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(region) = &self.region
            && !is_region(region)
        {
            return Err("region is not a region name (like \"us-east-1\")".into());
        }
        self.lookup_chain.check_bindings(BINDINGS)?;
        let chain = &self.lookup_chain;
        let has_keys = chain.has_binding("access_key_id") && chain.has_binding("secret_access_key");
        if !chain.is_empty() && !has_keys {
            return Err(
                "lookup_chain needs sources for both access_key_id and secret_access_key".into(),
            );
        }
        Ok(())
    }
}

fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub fn run(ctx: &Context, config: &Config, url: &url::Url) -> Result<Response> {
    // Presigned URLs and plain http never get here: the plan answers the first without
    // headers and refuses the second (`kernel::transport`).
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let region = match config.region.clone().or_else(|| region_from_host(&host)) {
        Some(r) => r,
        None => {
            return Err(Error::new(format!("s3: cannot tell the region of {host}"))
                .hint("set \"region\" in the s3 entry's config"));
        }
    };
    let Some(credentials) = credentials(ctx, config)? else {
        // As with registries: no credentials at all means anonymous access (public buckets).
        return Ok(Response::empty());
    };
    note!(
        ctx.trace,
        "s3: signing for region {region} with {}",
        credentials.source
    );
    let now = ctx.env.now();
    let headers = sign::headers(
        &credentials,
        &sign::Signable {
            method: "GET",
            url,
            headers: &[],
            body: b"",
            region: &region,
            service: "s3",
            now,
        },
    )?;
    let what = format!("the signature with credentials from {}", credentials.source);
    let mut response = Response::empty();
    for (name, value) in headers {
        response = match name.as_str() {
            "authorization" => response.secret_header("Authorization", value, &what)?,
            "x-amz-security-token" => response.secret_header(&name, value, &what)?,
            _ => response.public_header(&name, value.expose(), &what)?,
        };
    }
    Ok(response.expires(Some(expires(now, credentials.expires))))
}

/// At most 15 minutes (less the margin) ahead, and never past the credentials' own end.
fn expires(now: i64, credentials_expire: Option<i64>) -> i64 {
    let signature = now + SIGNATURE_LIFETIME - safety_margin(SIGNATURE_LIFETIME);
    match credentials_expire {
        Some(end) => signature.min(end - safety_margin(end - now)),
        None => signature,
    }
}

/// The entry's lookup chain when it has one (nothing found is an error), else the AWS
/// credential chain (nothing found is anonymous access).
fn credentials(ctx: &Context, config: &Config) -> Result<Option<Credentials>> {
    if config.lookup_chain.is_empty() {
        return match aws::credentials(ctx) {
            Outcome::Found(c) => Ok(Some(c)),
            Outcome::Missing(why) => {
                note!(
                    ctx.trace,
                    "s3: {why}; sending no headers (anonymous access)"
                );
                Ok(None)
            }
            Outcome::Failed(e) => Err(e.context("s3")),
        };
    }
    let chain = &config.lookup_chain;
    let get = |binding: &str| {
        chain
            .lookup(ctx, binding)
            .map_err(|nf| nf.into_error(&format!("s3 {binding}")))
    };
    let id = get("access_key_id")?;
    let secret = get("secret_access_key")?;
    let token = if chain.has_binding("session_token") {
        chain.lookup(ctx, "session_token").ok().map(|f| f.secret)
    } else {
        None
    };
    Ok(Some(Credentials {
        access_key_id: id.secret.expose().to_string(),
        secret_access_key: secret.secret,
        session_token: token,
        expires: None,
        source: format!("lookup_chain {} and {}", id.source, secret.source),
    }))
}

/// The signing region a host names: `bucket.s3.<region>.amazonaws.com`,
/// `s3.<region>.amazonaws.com`, `bucket.s3-<region>.amazonaws.com`, dual-stack and FIPS forms,
/// `us-east-1` for the global `s3.amazonaws.com`, `auto` for Cloudflare R2.
pub fn region_from_host(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    if host.ends_with(R2_SUFFIX) {
        return Some("auto".into());
    }
    let stem = host
        .strip_suffix(".amazonaws.com.cn")
        .or_else(|| host.strip_suffix(".amazonaws.com"))?;
    let labels: Vec<&str> = stem.split('.').collect();
    // The rightmost `s3` label: bucket names may contain `s3` labels of their own.
    let at = labels
        .iter()
        .rposition(|l| *l == "s3" || l.starts_with("s3-"))?;
    let rest: Vec<&str> = labels[at + 1..]
        .iter()
        .copied()
        .filter(|l| *l != "dualstack")
        .collect();
    match (labels[at], rest.as_slice()) {
        (_, [region]) if is_region(region) => Some(region.to_string()),
        ("s3" | "s3-external-1", []) => Some("us-east-1".into()),
        (legacy, []) => legacy
            .strip_prefix("s3-")
            .filter(|r| is_region(r) && r.bytes().any(|b| b.is_ascii_digit()))
            .map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_table() {
        let cases = [
            ("bucket.s3.amazonaws.com", Some("us-east-1")),
            ("bucket.s3.eu-west-1.amazonaws.com", Some("eu-west-1")),
            (
                "my.dotted.bucket.s3.eu-west-1.amazonaws.com",
                Some("eu-west-1"),
            ),
            ("s3.bucket.s3.ap-south-1.amazonaws.com", Some("ap-south-1")),
            ("s3.us-west-2.amazonaws.com", Some("us-west-2")),
            ("s3.amazonaws.com", Some("us-east-1")),
            ("bucket.s3-us-west-2.amazonaws.com", Some("us-west-2")),
            ("bucket.s3-external-1.amazonaws.com", Some("us-east-1")),
            (
                "bucket.s3.dualstack.us-east-2.amazonaws.com",
                Some("us-east-2"),
            ),
            (
                "bucket.s3-fips.us-gov-west-1.amazonaws.com",
                Some("us-gov-west-1"),
            ),
            ("bucket.s3.cn-north-1.amazonaws.com.cn", Some("cn-north-1")),
            ("acct.r2.cloudflarestorage.com", Some("auto")),
            ("bucket.acct.r2.cloudflarestorage.com", Some("auto")),
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com", None),
            ("bucket.s3.eu-west-1.amazonaws.com.evil.com", None),
            ("example.com", None),
        ];
        for (host, want) in cases {
            assert_eq!(region_from_host(host).as_deref(), want, "{host}");
        }
    }

    #[test]
    fn expiry_is_bounded_by_the_signature_and_the_credentials() {
        assert_eq!(expires(1000, None), 1000 + 810);
        assert_eq!(expires(1000, Some(1000 + 3600)), 1000 + 810);
        assert_eq!(expires(1000, Some(1000 + 300)), 1000 + 300 - 30);
    }

    #[test]
    fn config_validation() {
        let parse = |j: &str| serde_json::from_str::<Config>(j).unwrap().validate();
        assert!(parse("{}").is_ok());
        assert!(parse(r#"{"region":"eu-west-1"}"#).is_ok());
        assert!(parse(r#"{"region":"EU WEST"}"#).is_err());
        assert!(
            parse(r#"{"lookup_chain":[{"source":"env","name":"A","binding":"access_key_id"}]}"#)
                .unwrap_err()
                .contains("both")
        );
        assert!(
            parse(r#"{"lookup_chain":[{"source":"env","name":"A","binding":"password"}]}"#)
                .unwrap_err()
                .contains("not one of")
        );
        assert!(serde_json::from_str::<Config>(r#"{"bucket":"x"}"#).is_err());
    }
}

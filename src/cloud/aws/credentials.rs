//! A set of AWS credentials, the links' shared pieces (environment keys, endpoint overrides,
//! the region, the JSON answer of metadata endpoints and `credential_process`), and how the
//! cache keeps temporary ones.

use serde::{Deserialize, Serialize};

use crate::kernel::cache::{self, Entry, Key, is_token};
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::kernel::token::{parse_rfc3339, safety_margin};
use crate::kernel::transport::require_secure;

/// A set of AWS credentials and where they came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub access_key_id: String,
    #[serde(with = "cache::secret")]
    pub secret_access_key: Secret,
    #[serde(with = "cache::secret::option")]
    pub session_token: Option<Secret>,
    /// Unix seconds, as the issuer said (no margin applied); `None` for long-lived keys.
    pub expires: Option<i64>,
    /// `env AWS_ACCESS_KEY_ID`, `profile dev (role_arn ...)`, ...: for messages.
    pub source: String,
}

impl Credentials {
    /// Identifies the credentials in cache keys without revealing them.
    pub fn fingerprint(&self) -> String {
        let token = self.session_token.as_ref().map_or("", |t| t.expose());
        Secret::new(format!(
            "{}\0{}\0{token}",
            self.access_key_id,
            self.secret_access_key.expose()
        ))
        .fingerprint()
    }

    /// Long-lived keys (environment, profile); an empty session token counts as none.
    pub fn new(
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
        source: String,
    ) -> Credentials {
        Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: Secret::new(secret_access_key),
            session_token: session_token.filter(|t| !t.is_empty()).map(Secret::new),
            expires: None,
            source,
        }
    }
}

/// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
pub fn from_env(env: &Env) -> Outcome<Credentials> {
    match (
        env.var(vars::AWS_ACCESS_KEY_ID),
        env.var(vars::AWS_SECRET_ACCESS_KEY),
    ) {
        (Some(id), Some(secret)) => Outcome::Found(Credentials::new(
            id,
            secret,
            env.var(vars::AWS_SESSION_TOKEN),
            format!("env {}", vars::AWS_ACCESS_KEY_ID),
        )),
        (Some(_), None) => Outcome::Failed(Error::new(format!(
            "{} is set but {} is not",
            vars::AWS_ACCESS_KEY_ID,
            vars::AWS_SECRET_ACCESS_KEY
        ))),
        (None, Some(_)) => Outcome::Failed(Error::new(format!(
            "{} is set but {} is not",
            vars::AWS_SECRET_ACCESS_KEY,
            vars::AWS_ACCESS_KEY_ID
        ))),
        (None, None) => Outcome::Missing(format!("{} not set", vars::AWS_ACCESS_KEY_ID)),
    }
}

/// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
pub fn region(env: &Env) -> Option<&str> {
    env.var(vars::AWS_REGION)
        .or_else(|| env.var(vars::AWS_DEFAULT_REGION))
}

/// The endpoint override for a service: its own variable, else `AWS_ENDPOINT_URL`.
pub fn endpoint_override(env: &Env, service_var: &str) -> Result<Option<url::Url>> {
    let Some((name, value)) = [service_var, vars::AWS_ENDPOINT_URL]
        .into_iter()
        .find_map(|n| env.var(n).map(|v| (n, v)))
    else {
        return Ok(None);
    };
    // The value is not quoted: it may carry userinfo.
    match url::Url::parse(value) {
        Ok(u) if u.host_str().is_some() => match require_secure(&u, false) {
            Ok(()) => Ok(Some(u)),
            Err(_) => Err(Error::new(format!(
                "{name} is not https; refusing to send AWS credentials there"
            ))
            .hint("plain http is allowed only to loopback (a local test endpoint)")),
        },
        _ => Err(Error::new(format!("{name} is not an http(s) URL"))),
    }
}

/// Temporary credentials through the cache: a hit, else one process fetches while the others
/// wait for it. Kept until the issuer's expiry minus the safety margin.
pub fn cached(
    ctx: &Context,
    parts: &[&str],
    fetch: impl FnOnce() -> Result<Credentials>,
) -> Result<Credentials> {
    let now = ctx.env.now();
    let mut key_parts = vec!["aws-credentials"];
    key_parts.extend_from_slice(parts);
    let what = format!("aws credentials ({})", parts.first().unwrap_or(&""));
    let (credentials, _) = ctx
        .cache()
        .fill_once(&Key::new(&key_parts), now, &what, || {
            let fresh = fetch()?;
            let keep = fresh
                .expires
                .map(|expires| expires - safety_margin(expires - now));
            Ok((fresh, keep))
        })?;
    Ok(credentials)
}

/// Only temporary credentials are stored, and they read back as a fresh answer would: keys
/// that can go into a signed request's headers, and an expiry.
impl Entry for Credentials {
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
    fn from_json(value: serde_json::Value) -> Option<Credentials> {
        serde_json::from_value(value).ok()
    }
    fn is_valid(&self) -> bool {
        is_token(&self.access_key_id)
            && is_token(self.secret_access_key.expose())
            && self
                .session_token
                .as_ref()
                .is_none_or(|t| is_token(t.expose()))
            && self.expires.is_some()
            && !self.source.chars().any(char::is_control)
    }
}

/// The JSON answer of the container and instance metadata endpoints and `credential_process`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JsonCredentials {
    access_key_id: String,
    secret_access_key: Secret,
    #[serde(default, alias = "SessionToken")]
    token: Option<Secret>,
    #[serde(default)]
    expiration: Option<String>,
}

impl JsonCredentials {
    pub fn parse(body: &[u8], source: String) -> Result<Credentials> {
        let parsed: JsonCredentials = serde_json::from_slice(body).map_err(|e| {
            // Position only: the document holds secrets.
            Error::new(format!(
                "{source} answered credentials that are not valid JSON of the expected shape \
                 (line {} column {})",
                e.line(),
                e.column()
            ))
        })?;
        if parsed.access_key_id.is_empty() || parsed.secret_access_key.is_empty() {
            return Err(Error::new(format!("{source} answered empty credentials")));
        }
        let expires = match &parsed.expiration {
            Some(t) => Some(parse_rfc3339(t).ok_or_else(|| {
                // Not quoted: it is a child's or a server's output.
                Error::new(format!("{source} answered an invalid Expiration"))
            })?),
            None => None,
        };
        Ok(Credentials {
            access_key_id: parsed.access_key_id,
            secret_access_key: parsed.secret_access_key,
            session_token: parsed.token.filter(|t| !t.is_empty()),
            expires,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    #[test]
    fn env_keys_need_both_halves() {
        let env = test_env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_SESSION_TOKEN", "t"),
        ]);
        let Outcome::Found(c) = from_env(&env) else {
            panic!()
        };
        assert_eq!(c.access_key_id, "AKIA");
        assert_eq!(c.session_token.unwrap().expose(), "t");
        let env = test_env(&[("AWS_ACCESS_KEY_ID", "AKIA")]);
        assert!(matches!(from_env(&env), Outcome::Failed(_)));
        assert!(matches!(from_env(&test_env(&[])), Outcome::Missing(_)));
    }

    #[test]
    fn endpoint_overrides_prefer_the_service_variable() {
        let env = test_env(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:2/"),
        ]);
        let url = endpoint_override(&env, "AWS_ENDPOINT_URL_STS").unwrap();
        assert_eq!(url.unwrap().port(), Some(2));
        let url = endpoint_override(&env, "AWS_ENDPOINT_URL_ECR").unwrap();
        assert_eq!(url.unwrap().port(), Some(1));
        for bad in [
            "ftp://x",
            "http://sts.example.com/",
            "http://u:canary@10.0.0.1/",
        ] {
            let env = test_env(&[("AWS_ENDPOINT_URL", bad)]);
            let err = endpoint_override(&env, "X").unwrap_err().to_string();
            assert!(err.starts_with("AWS_ENDPOINT_URL is not"), "{err}");
            assert!(!err.contains("canary") && !err.contains("example"), "{err}");
        }
    }

    #[test]
    fn json_credentials_parse_and_never_echo_secrets() {
        let c = JsonCredentials::parse(
            br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T","Expiration":"2026-11-23T12:00:00Z"}"#,
            "x".into(),
        )
        .unwrap();
        assert_eq!(c.session_token.unwrap().expose(), "T");
        assert_eq!(c.expires, Some(1_795_435_200));
        let e = JsonCredentials::parse(
            br#"{"AccessKeyId":"A","SecretAccessKey":"hunter2""#,
            "x".into(),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

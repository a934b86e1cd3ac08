//! The registry token exchange (Docker Registry v2 token spec, OAuth2 variant included) and the
//! rules about where credentials may be sent.

use serde::Deserialize;

use super::challenge::Challenge;
use super::reference::{DOCKER_HUB, Target, host_of, is_loopback_host};
use super::{Credential, Sourced};
use crate::config::Pattern;
use crate::context::Context;
use crate::error::{Error, Result, describe_json};
use crate::http::{self, Request};
use crate::note;
use crate::protocol::parse_rfc3339;
use crate::secret::Secret;

/// How to trade a credential for a bearer token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// OAuth2 when an identity token is present, else GET with Basic auth.
    #[default]
    Auto,
    /// `POST` to the realm (refresh-token or password grant); 404 falls back to GET.
    Oauth2,
    /// `GET` to the realm with Basic auth.
    Basic,
}

/// Token lifetime when the server does not say (the spec's default).
const DEFAULT_EXPIRES_IN: i64 = 60;
/// Sent as `client_id` in OAuth2 requests.
const CLIENT_ID: &str = "credential-helper";

/// Realms on other hosts that well-known registries use.
const KNOWN_REALM_HOSTS: &[(&str, &str)] = &[
    (DOCKER_HUB, "auth.docker.io"),
    ("registry.gitlab.com", "gitlab.com"),
    ("docker.elastic.co", "docker-auth.elastic.co"),
];

/// A bearer token and when to stop using it.
#[derive(Debug, Clone)]
pub struct Token {
    pub token: Secret,
    /// Unix seconds, already shortened by [`safety_margin`].
    pub expires: i64,
}

/// Bazel must never hold a token past its end: max(10 s, 10 % of the lifetime), but never more
/// than half of it, so a very short-lived token still expires in the future.
pub fn safety_margin(lifetime: i64) -> i64 {
    (lifetime / 10).max(10).min(lifetime.max(0) / 2)
}

/// Where credentials may go: https (http only for a loopback or `insecure` registry), and a
/// host that is the registry's own, a known auth host of it, or explicitly allowed.
pub fn check_realm(
    realm: &url::Url,
    target: &Target,
    insecure: bool,
    allowed: &[Pattern],
) -> Result<()> {
    let realm_host = realm.host_str().unwrap_or_default().to_ascii_lowercase();
    let shown = http::redact_url(realm);
    match realm.scheme() {
        "https" => {}
        "http" if insecure || target.is_loopback() => {}
        _ => {
            return Err(Error::new(format!(
                "refusing to send credentials for {} to token realm {shown}: not https",
                target.registry
            ))
            .hint("the realm must be https; mark the entry \"insecure\": true only for a registry you trust on a private network"));
        }
    }
    let registry_host = host_of(&target.authority);
    let known = KNOWN_REALM_HOSTS
        .iter()
        .any(|(reg, host)| *reg == target.registry && *host == realm_host);
    let listed = allowed.iter().any(|p| p.is_match(&realm_host));
    // A loopback realm host equal by name to a loopback registry is the registry's own.
    let same = realm_host == registry_host.to_ascii_lowercase()
        && (is_loopback_host(&realm_host) == target.is_loopback());
    if same || known || listed {
        Ok(())
    } else {
        Err(Error::new(format!(
            "refusing to send credentials for {} to token realm {shown} on another host",
            target.registry
        ))
        .hint(format!(
            "if {realm_host} is really this registry's auth server, add it to \"allowed_realm_hosts\" in the oci entry"
        )))
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    issued_at: Option<String>,
}

/// Parses a token server's answer; `now` is used when `issued_at` is absent or unreadable.
pub fn parse_response(body: &[u8], now: i64) -> Result<Token, String> {
    // serde's message quotes values (a bare JSON string, which could be a token): keep only
    // the kind of problem and its position.
    let r: TokenResponse = serde_json::from_slice(body)
        .map_err(|e| format!("answered invalid JSON ({})", describe_json(&e)))?;
    // A non-empty access_token wins over token (the spec's rule).
    let token = r
        .access_token
        .filter(|t| !t.is_empty())
        .or(r.token.filter(|t| !t.is_empty()))
        .ok_or("answered without a token")?;
    if token.contains(['\r', '\n']) || token.chars().any(char::is_control) {
        return Err("answered a token with control characters".into());
    }
    let lifetime = match r.expires_in {
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(DEFAULT_EXPIRES_IN),
        _ => DEFAULT_EXPIRES_IN,
    };
    let lifetime = if lifetime <= 0 {
        DEFAULT_EXPIRES_IN
    } else {
        lifetime.min(86400 * 365)
    };
    let issued = r
        .issued_at
        .as_deref()
        .and_then(parse_rfc3339)
        // A server clock far off ours must not produce an expiry in the past or far future.
        .filter(|t| (t - now).abs() < 3600)
        .unwrap_or(now);
    Ok(Token {
        token: Secret::new(token),
        expires: issued + lifetime - safety_margin(lifetime),
    })
}

/// Why an exchange failed; `refused` when the realm answered 401/403 to our credential, which
/// no retry with the same credential can fix.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub refused: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            error,
            refused: false,
        }
    }
}

/// What the exchange needs to know about the registry and the request.
pub struct Exchange<'a> {
    pub target: &'a Target,
    pub challenge: &'a Challenge,
    pub scope: String,
    pub credential: Option<&'a Sourced>,
    pub method: Method,
    pub insecure: bool,
    pub allowed_realm_hosts: &'a [Pattern],
}

impl Exchange<'_> {
    /// Fetches a bearer token from the challenge's realm.
    pub fn run(&self, ctx: &Context) -> Result<Token, Failure> {
        let realm = self.challenge.param("realm").ok_or_else(|| {
            Error::new(format!(
                "registry {} sent a Bearer challenge without a realm",
                self.target.registry
            ))
        })?;
        let realm = url::Url::parse(realm).map_err(|_| {
            Error::new(format!(
                "registry {} sent an invalid token realm {realm:?}",
                self.target.registry
            ))
        })?;
        if self.credential.is_some() {
            check_realm(&realm, self.target, self.insecure, self.allowed_realm_hosts)?;
        } else if !matches!(realm.scheme(), "https" | "http") {
            return Err(Error::new(format!("token realm {realm} is not http(s)")).into());
        }
        let service = self.challenge.param("service");
        // An identity token can only be used through OAuth2.
        let use_oauth2 = matches!(
            (self.method, self.credential.map(|c| &c.credential)),
            (_, Some(Credential::IdentityToken { .. }))
                | (Method::Oauth2, Some(Credential::Basic { .. }))
        );
        if use_oauth2 {
            let response = self.post(ctx, &realm, service)?;
            if response.status != 404 {
                return self.finish(ctx, &realm, "POST", response);
            }
            note!(
                ctx.trace,
                "token realm has no OAuth2 endpoint (404), falling back to GET"
            );
        }
        let response = self.get(ctx, &realm, service)?;
        self.finish(ctx, &realm, "GET", response)
    }

    fn post(
        &self,
        ctx: &Context,
        realm: &url::Url,
        service: Option<&str>,
    ) -> Result<http::Response> {
        let mut fields: Vec<(&str, &str)> = Vec::new();
        let (user, secret);
        match self.credential.map(|c| &c.credential) {
            Some(Credential::IdentityToken { token, .. }) => {
                fields.push(("grant_type", "refresh_token"));
                secret = token.clone();
                fields.push(("refresh_token", secret.expose()));
            }
            Some(Credential::Basic { username, password }) => {
                fields.push(("grant_type", "password"));
                user = username.clone();
                secret = password.clone();
                fields.push(("username", &user));
                fields.push(("password", secret.expose()));
            }
            _ => unreachable!("OAuth2 is chosen only with a credential"),
        }
        if let Some(s) = service {
            fields.push(("service", s));
        }
        fields.push(("scope", &self.scope));
        fields.push(("client_id", CLIENT_ID));
        note!(
            ctx.trace,
            "token exchange: POST {} (OAuth2 {} grant, service {:?}, scope {})",
            http::redact_url(realm),
            fields[0].1,
            service.unwrap_or(""),
            self.scope
        );
        ctx.http.send(&Request::form(realm.clone(), &fields))
    }

    fn get(
        &self,
        ctx: &Context,
        realm: &url::Url,
        service: Option<&str>,
    ) -> Result<http::Response> {
        let mut url = realm.clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            q.append_pair("scope", &self.scope);
        }
        let mut request = Request::get(url);
        let auth = match self.credential.map(|c| &c.credential) {
            Some(Credential::Basic { username, password }) => {
                Some(Credential::basic_header(username, password))
            }
            Some(Credential::IdentityToken { username, token }) => Some(Credential::basic_header(
                username.as_deref().unwrap_or("<token>"),
                token,
            )),
            _ => None,
        };
        note!(
            ctx.trace,
            "token exchange: GET {} ({}, service {:?}, scope {})",
            http::redact_url(realm),
            if auth.is_some() {
                "Basic auth"
            } else {
                "anonymous"
            },
            service.unwrap_or(""),
            self.scope
        );
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        ctx.http.send(&request)
    }

    fn finish(
        &self,
        ctx: &Context,
        realm: &url::Url,
        method: &str,
        response: http::Response,
    ) -> Result<Token, Failure> {
        let realm = http::redact_url(realm);
        let with = match self.credential {
            Some(c) => format!("with {} from {}", c.credential.kind(), c.source),
            None => "anonymously".to_string(),
        };
        note!(
            ctx.trace,
            "token realm answered {} to {method}",
            response.status
        );
        if !response.is_success() {
            let hint = match response.status {
                401 | 403 if self.credential.is_some() => {
                    "check the credentials; they were refused".to_string()
                }
                401 | 403 => format!(
                    "log in to {} (docker login / podman login) or configure a lookup_chain",
                    self.target.registry
                ),
                300..=399 => "the token realm redirected; redirects are not followed".into(),
                _ => "the token server failed; try again later".into(),
            };
            return Err(Failure {
                error: Error::new(format!(
                    "{} from token realm {realm} for repository {} {with}",
                    response.status, self.target.repository
                ))
                .hint(hint),
                refused: matches!(response.status, 401 | 403),
            });
        }
        parse_response(&response.body, ctx.env.now()).map_err(|why| {
            Failure::from(Error::new(format!(
                "token realm {realm} {why} for repository {} {with}",
                self.target.repository
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_rules() {
        let now = 1_000_000;
        let t =
            parse_response(br#"{"token":"a","access_token":"b","expires_in":300}"#, now).unwrap();
        assert_eq!(t.token.expose(), "b");
        assert_eq!(t.expires, now + 300 - 30);
        let t = parse_response(br#"{"token":"a","access_token":""}"#, now).unwrap();
        assert_eq!(t.token.expose(), "a");
        assert_eq!(t.expires, now + 60 - 10);
        let t = parse_response(
            br#"{"token":"a","expires_in":100,"issued_at":"1970-01-12T13:46:30Z"}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.expires, 999_990 + 100 - 10);
        for bad in [
            &b"{}"[..],
            b"[]",
            b"garbage",
            br#"{"token":""}"#,
            br#"{"token":"a\nb"}"#,
        ] {
            assert!(parse_response(bad, now).is_err());
        }
    }

    #[test]
    fn token_response_errors_never_quote_the_answer() {
        for body in [
            &br#""eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9canary""#[..],
            br#"{"token": 1234567890123456789}"#,
            br#"{"access_token": ["canary"], "token": "a"}"#,
        ] {
            let err = parse_response(body, 1_000_000).err().unwrap_or_default();
            assert!(err.starts_with("answered invalid JSON ("), "{err}");
            assert!(
                !err.contains("canary") && !err.contains("123456789"),
                "{err}"
            );
        }
    }

    #[test]
    fn margin_is_ten_seconds_or_ten_percent() {
        assert_eq!(safety_margin(60), 10);
        assert_eq!(safety_margin(300), 30);
        assert_eq!(safety_margin(43200), 4320);
        // Short lifetimes keep half: an expiry in the past would be useless to Bazel.
        assert_eq!(safety_margin(12), 6);
        assert_eq!(safety_margin(5), 2);
        assert_eq!(safety_margin(0), 0);
        let t = parse_response(br#"{"token":"a","expires_in":5}"#, 1000).unwrap();
        assert!(t.expires > 1000, "{}", t.expires);
    }

    fn target(u: &str) -> Target {
        Target::from_url(&url::Url::parse(u).unwrap()).unwrap()
    }

    #[test]
    fn realm_rules() {
        let check = |realm: &str, reg: &str, insecure: bool, allowed: &[&str]| {
            let allowed: Vec<_> = allowed.iter().map(|a| Pattern::host(a).unwrap()).collect();
            check_realm(
                &url::Url::parse(realm).unwrap(),
                &target(reg),
                insecure,
                &allowed,
            )
            .is_ok()
        };
        let hub = "https://index.docker.io/v2/library/x/manifests/1";
        assert!(check("https://auth.docker.io/token", hub, false, &[]));
        assert!(!check("http://auth.docker.io/token", hub, false, &[]));
        assert!(!check("https://evil.example/token", hub, false, &[]));
        assert!(check(
            "https://ghcr.io/token",
            "https://ghcr.io/v2/a/manifests/1",
            false,
            &[]
        ));
        assert!(!check(
            "https://auth.docker.io/token",
            "https://ghcr.io/v2/a/manifests/1",
            false,
            &[]
        ));
        assert!(check(
            "https://auth.corp/t",
            "https://reg.corp/v2/a/manifests/1",
            false,
            &["auth.corp"]
        ));
        assert!(check(
            "https://auth.corp/t",
            "https://reg.corp/v2/a/manifests/1",
            false,
            &["*.corp"]
        ));
        let local = "http://127.0.0.1:5000/v2/a/manifests/1";
        assert!(check("http://127.0.0.1:6000/token", local, false, &[]));
        assert!(!check("http://localhost:6000/token", local, false, &[]));
        assert!(!check(
            "http://reg.corp/t",
            "https://reg.corp/v2/a/manifests/1",
            false,
            &[]
        ));
        assert!(check(
            "http://reg.corp/t",
            "https://reg.corp/v2/a/manifests/1",
            true,
            &[]
        ));
        assert!(!check(
            "ftp://reg.corp/t",
            "https://reg.corp/v2/a/manifests/1",
            true,
            &[]
        ));
    }
}

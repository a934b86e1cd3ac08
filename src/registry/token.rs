//! The registry token exchange (Docker Registry v2 token spec, OAuth2 variant included) and the
//! rules about where credentials may be sent.

use serde::Deserialize;

use super::challenge::Challenge;
use super::reference::{DOCKER_HUB, Target};
use super::{Credential, Sourced};
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::http::{self, Request};
use crate::kernel::pattern::Pattern;
use crate::kernel::token::{Token, parse_response};
use crate::kernel::transport::{is_local_host, require_secure, same_host};
use crate::note;

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

/// Sent as `client_id` in OAuth2 requests.
const CLIENT_ID: &str = "credential-helper";

/// Realms on other hosts that well-known registries use.
const KNOWN_REALM_HOSTS: &[(&str, &str)] = &[
    (DOCKER_HUB, "auth.docker.io"),
    ("registry.gitlab.com", "gitlab.com"),
    ("docker.elastic.co", "docker-auth.elastic.co"),
];

/// Where a token request may go. With a credential: https (http only for a loopback or
/// `insecure` registry), to a host that is the registry's own, a known auth host of it, or
/// explicitly allowed. Anonymously: http(s), and a loopback, link-local or private-network
/// realm only on the registry's own host (or explicitly allowed), so a registry cannot turn us
/// into a client of the local network whose answer we would hand to Bazel. (The credential
/// rule implies the anonymous one: known auth hosts are public names.)
pub fn check_realm(
    realm: &url::Url,
    target: &Target,
    insecure: bool,
    allowed: &[Pattern],
    credentialed: bool,
) -> Result<()> {
    let realm_host = realm.host_str().unwrap_or_default().to_ascii_lowercase();
    let shown = http::redact_url(realm);
    let same = same_host(&realm_host, target.hostname());
    let listed = allowed.iter().any(|p| p.is_match(&realm_host));
    if !credentialed {
        if !matches!(realm.scheme(), "https" | "http") {
            return Err(Error::new(format!(
                "refusing to fetch a token for {} from token realm {shown}: not http(s)",
                target.registry
            )));
        }
        if is_local_host(&realm_host) && !same && !listed {
            return Err(Error::new(format!(
                "refusing to fetch a token for {} from token realm {shown}: a loopback, link-local or private-network host that is not the registry's own",
                target.registry
            ))
            .hint("if it is really this registry's auth server, add its host to \"allowed_realm_hosts\" in the oci entry"));
        }
        return Ok(());
    }
    if require_secure(realm, insecure || target.is_loopback()).is_err() {
        return Err(Error::new(format!(
            "refusing to send credentials for {} to token realm {shown}: not https",
            target.registry
        ))
        .hint("the realm must be https; mark the entry \"insecure\": true only for a registry you trust on a private network"));
    }
    let known = KNOWN_REALM_HOSTS
        .iter()
        .any(|(reg, host)| *reg == target.registry && *host == realm_host);
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
    /// The challenge's realm, if this request may go there: [`check_realm`] with a
    /// credential, http(s) without. The cache holds a remembered challenge to it too.
    pub fn realm(&self) -> Result<url::Url> {
        let realm = self.challenge.param("realm").ok_or_else(|| {
            Error::new(format!(
                "registry {} sent a Bearer challenge without a realm",
                self.target.registry
            ))
        })?;
        // The realm is the server's text: an unparsable one is not shown.
        let realm = url::Url::parse(realm).map_err(|_| {
            Error::new(format!(
                "registry {} sent a token realm that is not a URL",
                self.target.registry
            ))
        })?;
        check_realm(
            &realm,
            self.target,
            self.insecure,
            self.allowed_realm_hosts,
            self.credential.is_some(),
        )?;
        Ok(realm)
    }

    /// Fetches a bearer token from the challenge's realm.
    pub fn run(&self, ctx: &Context) -> Result<Token, Failure> {
        let realm = self.realm()?;
        let service = self.challenge.param("service");
        // An identity token can only be used through OAuth2 (go-containerregistry's rule; its
        // 404 fallback `GET` carries the entry's username and password, never the token).
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
        let auth = self
            .credential
            .and_then(|c| c.credential.basic_auth())
            .map(|(username, password)| Credential::basic_header(username, password));
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
                true,
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

    #[test]
    fn anonymous_realms_stay_off_the_local_network() {
        let anonymous = |realm: &str, reg: &str, allowed: &[&str]| {
            let allowed: Vec<_> = allowed.iter().map(|a| Pattern::host(a).unwrap()).collect();
            check_realm(
                &url::Url::parse(realm).unwrap(),
                &target(reg),
                false,
                &allowed,
                false,
            )
            .is_ok()
        };
        let local = "http://127.0.0.1:5000/v2/a/manifests/1";
        let public = "https://reg.example/v2/a/manifests/1";
        // (realm, registry, allowed)
        let table: &[(&str, &str, &[&str], bool)] = &[
            ("http://127.0.0.1:6000/token", local, &[], true),
            ("https://auth.example/token", public, &[], true),
            ("http://auth.example/token", public, &[], true),
            ("http://localhost:6000/token", local, &[], false),
            ("http://localhost:6000/token", local, &["localhost"], true),
            ("http://127.0.0.2/token", local, &[], false),
            ("http://127.0.0.1/token", public, &[], false),
            ("http://10.0.0.5/token", public, &[], false),
            ("http://172.16.3.4/token", public, &[], false),
            ("http://192.168.0.1/token", public, &[], false),
            (
                "http://169.254.169.254/latest/meta-data",
                public,
                &[],
                false,
            ),
            ("http://[::1]:6000/token", public, &[], false),
            ("http://[fe80::1]/token", public, &[], false),
            ("http://[fd00::1]/token", public, &[], false),
            ("http://0.0.0.0/token", public, &[], false),
            ("http://localhost/token", public, &[], false),
            (
                "http://10.0.0.5/token",
                "http://10.0.0.5:5000/v2/a/manifests/1",
                &[],
                true,
            ),
            ("ftp://auth.example/token", public, &[], false),
        ];
        for (realm, reg, allowed, want) in table {
            assert_eq!(anonymous(realm, reg, allowed), *want, "{realm} for {reg}");
        }
    }
}

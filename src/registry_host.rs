//! A registry named by its host alone, as docker's credential protocol names it (`host`,
//! `host:port`, `https://index.docker.io/v1/`) and rules_img's pushes do
//! (`{"uri": "registry.example.com"}`): which `oci` entry covers it, and the credential that
//! entry finds for it in the one source order, never exchanged for a token.

use crate::config::Config;
use crate::helpers::{HelperConfig, oci};
use crate::kernel::context::Context;
use crate::kernel::env::Env;
use crate::kernel::error::{Error, Result};
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::kernel::transport::{is_loopback_host, require_secure};
use crate::plan;
use crate::registry::reference::Target;
use crate::registry::stores::login;
use crate::registry::{Credential, Resolved, Sourced, bearer};

/// A registry as a client named it: its `host[:port]`, and the scheme when one was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub scheme: Option<String>,
    pub authority: String,
}

impl Named {
    /// A server URL as docker's clients send it: `host`, `host:port`, or `http(s)://host[:port]`
    /// with any path (`/v1/`, a repository), which is ignored. `None` for anything else (user
    /// info, another scheme, no host).
    pub fn parse(text: &str) -> Option<Named> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => {
                let scheme = scheme.to_ascii_lowercase();
                if scheme != "https" && scheme != "http" {
                    return None;
                }
                (Some(scheme), rest)
            }
            None => (None, text),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Named::authority(scheme, &rest[..end])
    }

    /// A request whose whole uri is `host` or `host:port` (what rules_img sends for a push);
    /// `None` for URLs and anything else.
    pub fn bare(uri: &str) -> Option<Named> {
        if uri.contains("://") || uri.contains(['/', '?', '#']) {
            return None;
        }
        Named::authority(None, uri)
    }

    fn authority(scheme: Option<String>, authority: &str) -> Option<Named> {
        if authority.is_empty()
            || authority.contains(['@', '\\', '%'])
            || authority.contains(char::is_whitespace)
        {
            return None;
        }
        let parse_as = scheme.as_deref().unwrap_or("https");
        let url = url::Url::parse(&format!("{parse_as}://{authority}/")).ok()?;
        let host = url.host_str().filter(|h| !h.is_empty())?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        Some(Named { scheme, authority })
    }

    /// The schemes the registry may be reached by: the one written, else https, and plain http
    /// only for loopback (as for every registry, `kernel::transport`).
    fn schemes(&self) -> Vec<&str> {
        match &self.scheme {
            Some(s) => vec![s.as_str()],
            None if is_loopback_host(crate::kernel::transport::host_of(&self.authority)) => {
                vec!["https", "http"]
            }
            None => vec!["https"],
        }
    }
}

/// The `oci` entry that covers the registry (the config's, a built-in default's, or with the
/// defaults in force one for a host the environment keychain names), and the registry as a
/// target. `None` when no `oci` entry covers it. A config entry is matched as Bazel's request
/// for the registry's `/v2/` would be.
pub fn covering<'c>(
    config: &'c Config,
    guessed: &'c oci::Config,
    env: &Env,
    named: &Named,
) -> Result<Option<(&'c oci::Config, Target)>> {
    for scheme in named.schemes() {
        let url = url::Url::parse(&format!("{scheme}://{}/v2/", named.authority))
            .map_err(|e| Error::new(format!("invalid registry {}: {e}", named.authority)))?;
        let target = Target::registry(scheme, &named.authority);
        let oci = match config.find(&url, "/v2/").map(|e| &e.helper) {
            Some(HelperConfig::Oci(c)) => c,
            Some(_) => return Ok(None),
            None if plan::unknown_host_is_registry(
                config,
                env,
                &target,
                login::host_key(&named.authority).is_ok_and(|h| plan::has_login(env, &h)),
            )? =>
            {
                guessed
            }
            None => continue,
        };
        if let Err(refused) = require_secure(&url, oci.insecure) {
            return Err(Error::new(format!(
                "refusing to send registry credentials for {} over {}://",
                target.registry, refused.scheme
            ))
            .hint("use https, or mark the entry \"insecure\": true for a registry you trust"));
        }
        return Ok(Some((oci, target)));
    }
    Ok(None)
}

/// docker's `get`: the `Username` and `Secret` for the registry; `None` when nothing covers it
/// or its sources have nothing (the protocol's "not found").
pub fn docker_answer(
    ctx: &Context,
    config: &Config,
    named: &Named,
) -> Result<Option<(String, Secret)>> {
    let guessed = oci::Config::default();
    let Some((oci, target)) = covering(config, &guessed, &ctx.env, named)? else {
        crate::note!(ctx.trace, "no oci entry covers {}", named.authority);
        return Ok(None);
    };
    let credential = match oci::stored_credential(ctx, oci, &target)? {
        None => return Ok(None),
        // ECR's finished `Basic` value: AWS and its password again, as ECR's helper answers.
        Some(Resolved::Authorization { value, source, .. }) => {
            let encoded = value.expose().strip_prefix("Basic ").unwrap_or_default();
            let credential = Credential::from_auth(&Secret::new(encoded))
                .map_err(|why| Error::new(format!("the authorization from {source} {why}")))?;
            Sourced { credential, source }
        }
        Some(Resolved::Credential(c)) => c,
    };
    match credential.credential.docker_helper_answer() {
        Some((username, secret)) => Ok(Some((username.to_string(), secret.clone()))),
        None => Err(Error::new(format!(
            "the credential for {} from {} is a registry token, which docker's credential protocol cannot carry",
            target.registry, credential.source
        ))
        .hint("store a username and password or an identity token for this registry")),
    }
}

/// rules_img's bare-host request: `Authorization: Basic` with the stored username and password
/// (rules_img makes its own push-scoped exchange with them), `Bearer` for a registry token, no
/// headers when the sources have nothing. A host nothing covers is refused.
pub fn bazel_answer(ctx: &Context, config: &Config, named: &Named) -> Result<Response> {
    let guessed = oci::Config::default();
    let Some((oci, target)) = covering(config, &guessed, &ctx.env, named)? else {
        return Err(Error::new(format!(
            "the request's uri {:?} is a bare host that no oci entry covers, and not a URL",
            named.authority
        ))
        .hint(format!(
            "send a URL, or add {{\"host\": \"{}\", \"helper\": \"oci\"}} to the config",
            named.authority
        )));
    };
    let what = |source: &str| format!("the credential for {} from {source}", target.registry);
    match oci::stored_credential(ctx, oci, &target)? {
        None => Ok(Response::empty()),
        Some(Resolved::Authorization {
            value,
            expires,
            source,
        }) => Ok(Response::empty()
            .secret_header("Authorization", value, &what(&source))?
            .expires(expires)),
        Some(Resolved::Credential(Sourced {
            credential: Credential::RegistryToken(token),
            source,
        })) => Response::empty().secret_header("Authorization", bearer(&token), &what(&source)),
        Some(Resolved::Credential(Sourced { credential, source })) => {
            match credential.basic_auth() {
                Some((username, password)) => Response::empty().secret_header(
                    "Authorization",
                    Credential::basic_header(username, password),
                    &what(&source),
                ),
                None => Err(Error::new(format!(
                    "{} is an {}, which a bare-host answer cannot carry (rules_img takes Basic or a registry token)",
                    what(&source),
                    credential.kind()
                ))
                .hint("store a username and password, or a registry token, for this registry")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;
    use crate::kernel::env::test_env;

    #[test]
    fn server_names() {
        let named = |scheme: Option<&str>, authority: &str| {
            Some(Named {
                scheme: scheme.map(str::to_string),
                authority: authority.to_string(),
            })
        };
        let table: &[(&str, Option<Named>)] = &[
            ("registry.example.com", named(None, "registry.example.com")),
            (
                " Registry.Example.com:5000\n",
                named(None, "registry.example.com:5000"),
            ),
            (
                "https://index.docker.io/v1/",
                named(Some("https"), "index.docker.io"),
            ),
            ("https://ghcr.io", named(Some("https"), "ghcr.io")),
            (
                "http://127.0.0.1:5000/v2/team/app",
                named(Some("http"), "127.0.0.1:5000"),
            ),
            ("HTTPS://quay.io:443/", named(Some("https"), "quay.io")),
            ("docker.io", named(None, "docker.io")),
            ("[::1]:5000", named(None, "[::1]:5000")),
            ("ftp://host", None),
            ("https://user:pw@host", None),
            ("user@host", None),
            ("", None),
            ("https://", None),
            ("host:port", None),
            ("a b", None),
        ];
        for (text, want) in table {
            assert_eq!(Named::parse(text), *want, "{text:?}");
        }
        assert_eq!(
            Named::bare("reg.example:5000"),
            named(None, "reg.example:5000")
        );
        for uri in [
            "https://reg.example",
            "reg.example/v2/",
            "not a url",
            "reg.example?x",
        ] {
            assert_eq!(Named::bare(uri), None, "{uri}");
        }
    }

    #[test]
    fn which_entry_covers_a_registry() {
        let config = Config::parse(
            r#"{"defaults":"extend","urls":[
                {"host":"reg.example","helper":"oci","config":{"actions":["pull","push"]}},
                {"host":"files.example","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"env","name":"K"}]}},
                {"host":"lan.example","helper":"oci","config":{"insecure":true}},
                {"scheme":"http","host":"127.0.0.1","helper":"oci"},
                {"scheme":"https","host":"*.paths.example","path":"/v2/*","helper":"oci"}
            ]}"#,
            Origin::File("c.json".into()),
        )
        .unwrap();
        let guessed = oci::Config::default();
        let keychain = test_env(&[
            ("IMGPKG_REGISTRY_HOSTNAME", "ci.example"),
            ("IMGPKG_REGISTRY_USERNAME", "u"),
            ("IMGPKG_REGISTRY_PASSWORD", "p"),
        ]);
        // (server, covered by an oci entry, as scheme)
        let table: &[(&str, Result<Option<&str>, &str>)] = &[
            ("reg.example", Ok(Some("https"))),
            ("https://reg.example/v1/", Ok(Some("https"))),
            ("files.example", Ok(None)),
            ("unknown.example", Ok(None)),
            ("ghcr.io", Ok(Some("https"))),
            ("https://index.docker.io/v1/", Ok(Some("https"))),
            ("ci.example", Ok(Some("https"))),
            ("127.0.0.1:5000", Ok(Some("http"))),
            ("http://lan.example", Ok(Some("http"))),
            (
                "http://reg.example",
                Err("refusing to send registry credentials"),
            ),
        ];
        for (server, want) in table {
            let named = Named::parse(server).unwrap();
            let got = covering(&config, &guessed, &keychain, &named);
            match (got, want) {
                (Ok(got), Ok(want)) => {
                    assert_eq!(got.map(|(_, t)| t.scheme).as_deref(), *want, "{server}")
                }
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{server}: {e}"),
                (got, want) => panic!("{server}: {:?}, want {want:?}", got.map(|g| g.is_some())),
            }
        }
        let named = Named::parse("reg.example").unwrap();
        let (oci, _) = covering(&config, &guessed, &keychain, &named)
            .unwrap()
            .unwrap();
        assert_eq!(oci.scope_actions(), "pull,push");
    }
}

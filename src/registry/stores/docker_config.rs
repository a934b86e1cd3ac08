//! docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) and
//! `$DOCKER_AUTH_CONFIG`, with docker/cli's lookup: `credHelpers[host]`, else `credsStore`,
//! else `auths`.
//!
//! The `auths` entry model here is shared by every file in docker's format (podman's
//! `auth.json`, the legacy `~/.dockercfg`, Kubernetes secrets); their keys match by the rules
//! of the tool that writes each (`auth_json` for podman's files).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{credential_helper, docker_env};
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, describe_json};
use crate::kernel::files;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::registry::reference::{DOCKER_HUB, DOCKER_HUB_CONFIG_KEY, Target};
use crate::registry::{Credential, Sourced};

/// The parts of `config.json` that hold credentials; everything else is ignored.
#[derive(Debug, Default, Deserialize)]
pub struct DockerConfig {
    #[serde(default)]
    pub auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    pub creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    pub cred_helpers: BTreeMap<String, String>,
}

/// One `auths` entry.
#[derive(Debug, Default, Deserialize)]
pub struct AuthEntry {
    #[serde(default)]
    pub auth: Option<Secret>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub identitytoken: Option<Secret>,
    #[serde(default)]
    pub registrytoken: Option<Secret>,
}

impl AuthEntry {
    /// This entry as a source's outcome: its credential, or why it has none.
    pub fn outcome(&self, source: String) -> Outcome<Sourced> {
        match self.credential() {
            Ok(Some(credential)) => Outcome::Found(Sourced { credential, source }),
            Ok(None) => Outcome::Missing(format!("{source} holds no credential")),
            Err(why) => Outcome::Failed(Error::new(format!("{source}: {why}"))),
        }
    }

    /// The credential this entry holds, read as docker/cli loads it and go-containerregistry
    /// uses it; `Ok(None)` for an empty marker (`"host": {}`), which docker writes when a
    /// credential helper holds the secret.
    ///
    /// A non-empty `auth` replaces `username` and `password` (docker/cli's `LoadFromReader`);
    /// `<token>` is an ordinary username here. A registry token is used as it is; an identity
    /// token is the refresh grant's, the username and password beside it the Basic auth of a
    /// `GET` after a 404; else a username and password (both non-empty) are Basic auth.
    pub fn credential(&self) -> Result<Option<Credential>, String> {
        let nonempty = |s: &Option<Secret>| s.clone().filter(|s| !s.is_empty());
        let (username, password) = match nonempty(&self.auth) {
            Some(auth) => {
                let (u, p) = Credential::decode_auth(&auth).map_err(|e| format!("\"auth\" {e}"))?;
                (Some(u), Some(p))
            }
            None => (self.username.clone(), self.password.clone()),
        };
        let username = username.filter(|u| !u.is_empty());
        let password = password.filter(|p| !p.is_empty());
        if let Some(t) = nonempty(&self.registrytoken) {
            return Ok(Some(Credential::RegistryToken(t)));
        }
        if let Some(token) = nonempty(&self.identitytoken) {
            return Ok(Some(Credential::IdentityToken {
                username,
                token,
                password,
            }));
        }
        match (username, password) {
            (Some(username), Some(password)) => Ok(Some(Credential::Basic { username, password })),
            _ => Ok(None),
        }
    }
}

/// `https://host/v1/` → `host`; Hub aliases → `index.docker.io` (docker/cli's
/// `ConvertToHostname`, plus the Hub alias rule).
pub fn normalize_key(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = rest.split('/').next().unwrap_or(rest).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        _ => host,
    }
}

/// The `auths` key for `registry`: an exact key first, then any key naming the same host.
pub fn find_auth<'a>(
    auths: &'a BTreeMap<String, AuthEntry>,
    target: &Target,
) -> Option<(&'a str, &'a AuthEntry)> {
    let exact: &[&str] = if target.is_docker_hub() {
        &[DOCKER_HUB_CONFIG_KEY, DOCKER_HUB, "docker.io"]
    } else {
        &[target.registry.as_str()]
    };
    exact
        .iter()
        .find_map(|k| auths.get_key_value(*k))
        .or_else(|| {
            auths
                .iter()
                .find(|(k, _)| normalize_key(k) == target.registry)
        })
        .map(|(k, v)| (k.as_str(), v))
}

/// The name docker gives a registry when talking to a credential helper.
pub(super) fn server_url(target: &Target) -> &str {
    if target.is_docker_hub() {
        DOCKER_HUB_CONFIG_KEY
    } else {
        &target.registry
    }
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; it may not exist.
pub fn path(env: &Env) -> Option<PathBuf> {
    match env.var(vars::DOCKER_CONFIG) {
        Some(dir) => Some(env.expand_path(dir).join("config.json")),
        None => env.home().map(|h| h.join(".docker").join("config.json")),
    }
}

/// Reads a JSON file of type `T`; a missing file is `Ok(None)`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, Error> {
    let Some(bytes) = files::read_capped(path)? else {
        return Ok(None);
    };
    // Never quote the file: it holds secrets. serde's message names only line and column.
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::new(format!(
            "{} is not a valid credentials file: {}",
            path.display(),
            describe_json(&e)
        ))
    })
}

/// The config file and its path; when there is none to read, why (a missing or broken file).
pub(super) fn config_file(ctx: &Context) -> Result<(DockerConfig, PathBuf), Outcome<Sourced>> {
    let Some(path) = path(&ctx.env) else {
        return Err(Outcome::Missing(
            "no docker config: no home directory".into(),
        ));
    };
    let shown = path.display().to_string();
    // An optional Kubernetes secret mount leaves a directory here: no docker config, as
    // go-containerregistry's `fileExists` and docker/cli's warning have it.
    if path.is_dir() {
        return Err(Outcome::Missing(format!(
            "no docker config: {shown} is a directory"
        )));
    }
    match read_json::<DockerConfig>(&path) {
        Ok(Some(c)) => Ok((c, path)),
        Ok(None) => Err(Outcome::Missing(format!("no docker config at {shown}"))),
        Err(e) => Err(Outcome::Failed(e.hint(format!(
            "fix or remove it (`docker login` rewrites it), or set {} to a directory with a good one",
            vars::DOCKER_CONFIG
        )))),
    }
}

/// The helper docker/cli would ask for the registry's key: `credHelpers[key]`, else
/// `credsStore`.
pub(super) fn helper_for<'a>(
    config: &'a DockerConfig,
    key: &str,
) -> Option<(&'a str, &'static str)> {
    config
        .cred_helpers
        .get(key)
        .map(|h| (h.as_str(), "credHelpers"))
        .or_else(|| config.creds_store.as_deref().map(|h| (h, "credsStore")))
}

/// How a credential from a helper names its source, in messages and in `Located`.
pub(super) fn helper_source(layer: &str, field: &str, helper: &str) -> String {
    format!("{layer} {field} '{helper}'")
}

/// Looks the registry up as docker/cli's `GetAuthConfig` does: `$DOCKER_AUTH_CONFIG`'s entry
/// for the registry's key, else the file's `credHelpers[key]`, else its `credsStore`, else its
/// `auths`. A configured helper has the last word, as in docker's native store: when it has
/// nothing, the `auths` entry (a marker, usually) is not used.
pub fn lookup(ctx: &Context, target: &Target) -> Outcome<Sourced> {
    let key = server_url(target);
    if let Some(found) = docker_env::lookup(ctx, key) {
        return found;
    }
    let (config, path) = match config_file(ctx) {
        Ok(found) => found,
        Err(why) => return why,
    };
    let name = format!("docker config {}", path.display());
    if let Some((helper, field)) = helper_for(&config, key) {
        let source = helper_source(&name, field, helper);
        return match credential_helper::get(ctx, helper, key) {
            Outcome::Found(credential) => Outcome::Found(Sourced { credential, source }),
            Outcome::Missing(why) => Outcome::Missing(format!("{source}: {why}")),
            Outcome::Failed(e) => Outcome::Failed(e.context(source)),
        };
    }
    match find_auth(&config.auths, target) {
        Some((key, entry)) => entry.outcome(format!("{name} auths[\"{key}\"]")),
        None => Outcome::Missing(format!("no docker config entry for {}", target.registry)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(u: &str) -> Target {
        Target::from_url(&url::Url::parse(u).unwrap()).unwrap()
    }

    fn auths(keys: &[&str]) -> BTreeMap<String, AuthEntry> {
        keys.iter()
            .map(|k| (k.to_string(), AuthEntry::default()))
            .collect()
    }

    #[test]
    fn key_matching_follows_docker_cli() {
        let hub = target("https://index.docker.io/v2/library/x/manifests/1");
        let cases: &[(&[&str], &Target, Option<&str>)] = &[
            (
                &["https://index.docker.io/v1/"],
                &hub,
                Some("https://index.docker.io/v1/"),
            ),
            (&["docker.io"], &hub, Some("docker.io")),
            (
                &["registry-1.docker.io"],
                &hub,
                Some("registry-1.docker.io"),
            ),
            (
                &["https://index.docker.io/v1/", "index.docker.io"],
                &hub,
                Some("https://index.docker.io/v1/"),
            ),
        ];
        for (keys, t, want) in cases {
            assert_eq!(
                find_auth(&auths(keys), t).map(|(k, _)| k),
                *want,
                "{keys:?}"
            );
        }
        let ghcr = target("https://ghcr.io/v2/a/manifests/1");
        let local = target("http://localhost:5000/v2/a/manifests/1");
        assert_eq!(
            find_auth(&auths(&["https://ghcr.io"]), &ghcr).map(|(k, _)| k),
            Some("https://ghcr.io")
        );
        assert_eq!(
            find_auth(&auths(&["ghcr.io/v2/"]), &ghcr).map(|(k, _)| k),
            Some("ghcr.io/v2/")
        );
        assert_eq!(
            find_auth(&auths(&["GHCR.io"]), &ghcr).map(|(k, _)| k),
            Some("GHCR.io")
        );
        assert!(find_auth(&auths(&["ghcr.io.evil.com"]), &ghcr).is_none());
        assert!(
            find_auth(&auths(&["localhost"]), &local).is_none(),
            "port must match"
        );
        assert!(find_auth(&auths(&["localhost:5000"]), &local).is_some());
    }

    /// An entry as (kind, username, password, token), `None` for no credential.
    type Shape = Option<(&'static str, Option<String>, Option<String>, Option<String>)>;

    fn shape(c: Option<Credential>) -> Shape {
        let s = |v: &Secret| v.expose().to_string();
        c.map(|c| match c {
            Credential::Basic { username, password } => {
                ("basic", Some(username), Some(s(&password)), None)
            }
            Credential::IdentityToken {
                username,
                token,
                password,
            } => (
                "identity",
                username,
                password.as_ref().map(s),
                Some(s(&token)),
            ),
            Credential::RegistryToken(t) => ("registry", None, None, Some(s(&t))),
        })
    }

    /// docker/cli's `LoadFromReader` + go-containerregistry's `AuthConfig` use in bearer.go.
    #[test]
    fn entries_to_credentials() {
        let some = |v: &str| Some(v.to_string());
        let table: &[(&str, Shape)] = &[
            ("{}", None),
            (r#"{"auth":""}"#, None),
            (r#"{"email":"x@y"}"#, None),
            (r#"{"username":"u"}"#, None),
            (r#"{"username":"u","password":""}"#, None),
            // base64("u:"): a username without a password sends nothing.
            (r#"{"auth":"dTo="}"#, None),
            (
                r#"{"auth":"dTpw"}"#,
                Some(("basic", some("u"), some("p"), None)),
            ),
            (
                r#"{"username":"u","password":"p"}"#,
                Some(("basic", some("u"), some("p"), None)),
            ),
            // `auth` replaces the fields beside it.
            (
                r#"{"auth":"dTpw","username":"x","password":"y"}"#,
                Some(("basic", some("u"), some("p"), None)),
            ),
            // `<token>` is only the credential helpers' marker: base64("<token>:p").
            (
                r#"{"auth":"PHRva2VuPjpw"}"#,
                Some(("basic", some("<token>"), some("p"), None)),
            ),
            (
                r#"{"identitytoken":"t","email":"x"}"#,
                Some(("identity", None, None, some("t"))),
            ),
            // Issue 6: `<token>:` (what registry login tools write) beside the identity token.
            (
                r#"{"auth":"PHRva2VuPjo=","identitytoken":"t"}"#,
                Some(("identity", some("<token>"), None, some("t"))),
            ),
            // Issue 7: password and identity token both kept.
            (
                r#"{"auth":"dTpw","identitytoken":"t"}"#,
                Some(("identity", some("u"), some("p"), some("t"))),
            ),
            (
                r#"{"username":"u","password":"p","identitytoken":"t"}"#,
                Some(("identity", some("u"), some("p"), some("t"))),
            ),
            (
                r#"{"registrytoken":"r","identitytoken":"t","auth":"dTpw"}"#,
                Some(("registry", None, None, some("r"))),
            ),
            (
                r#"{"registrytoken":"r"}"#,
                Some(("registry", None, None, some("r"))),
            ),
        ];
        for (json, want) in table {
            let entry: AuthEntry = serde_json::from_str(json).unwrap();
            assert_eq!(shape(entry.credential().unwrap()), *want, "{json}");
        }
        // docker/cli refuses to load these (`decodeAuth`), even beside a registry token.
        for json in [
            r#"{"auth":"!!"}"#,
            r#"{"auth":"dQ=="}"#,
            r#"{"auth":"OnA="}"#,
            r#"{"auth":"OnA=","registrytoken":"r"}"#,
        ] {
            let entry: AuthEntry = serde_json::from_str(json).unwrap();
            assert!(entry.credential().is_err(), "{json}");
        }
    }
}

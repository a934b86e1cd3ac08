//! docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) and
//! `$DOCKER_AUTH_CONFIG`, with docker/cli's lookup: `credHelpers[host]`, else `credsStore`,
//! else `auths`.
//!
//! The `auths` model here is shared by every file in docker's format (podman's `auth.json`,
//! the legacy `~/.dockercfg`, Kubernetes secrets).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::credential_helper;
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, describe_json};
use crate::kernel::files;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::note;
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

    /// The credential this entry holds; `Ok(None)` for an empty marker (`"host": {}`), which
    /// docker writes when a credential helper holds the secret.
    pub fn credential(&self) -> Result<Option<Credential>, String> {
        let nonempty = |s: &Option<Secret>| s.clone().filter(|s| !s.is_empty());
        if let Some(t) = nonempty(&self.registrytoken) {
            return Ok(Some(Credential::RegistryToken(t)));
        }
        let (mut username, mut password) = (self.username.clone(), nonempty(&self.password));
        if let Some(auth) = nonempty(&self.auth) {
            match Credential::from_auth(&auth).map_err(|e| format!("\"auth\" {e}"))? {
                Credential::Basic {
                    username: u,
                    password: p,
                } => {
                    username = Some(u);
                    password = Some(p);
                }
                other => return Ok(Some(other)),
            }
        }
        if let Some(token) = nonempty(&self.identitytoken) {
            return Ok(Some(Credential::IdentityToken {
                username: username.filter(|u| !u.is_empty() && u != "<token>"),
                token,
            }));
        }
        match (username, password) {
            (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credential::from_user_password(&u, p))),
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

fn config_path(ctx: &Context) -> Option<PathBuf> {
    match ctx.env.var(vars::DOCKER_CONFIG) {
        Some(dir) => Some(ctx.env.expand_path(dir).join("config.json")),
        None => ctx
            .env
            .home()
            .map(|h| h.join(".docker").join("config.json")),
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

/// docker's config documents in lookup order, each with its name in messages.
pub(super) type Layers = Vec<(DockerConfig, String)>;

/// The [`Layers`] (`$DOCKER_AUTH_CONFIG` is layered over the file: its entries are looked at
/// first), and the file's path.
pub(super) fn layers(ctx: &Context) -> Result<(Layers, Option<PathBuf>), Error> {
    let env_config = match ctx.env.var(vars::DOCKER_AUTH_CONFIG) {
        Some(json) => match serde_json::from_str::<DockerConfig>(json) {
            Ok(c) => Some(c),
            Err(e) => {
                return Err(Error::new(format!(
                    "{} is not a valid docker config: {}",
                    vars::DOCKER_AUTH_CONFIG,
                    describe_json(&e)
                )));
            }
        },
        None => None,
    };
    let path = config_path(ctx);
    let file_config = match path.as_deref().map(read_json::<DockerConfig>) {
        Some(Ok(c)) => c,
        Some(Err(e)) => return Err(e),
        None => None,
    };
    let shown = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let layers = [
        env_config.map(|c| (c, vars::DOCKER_AUTH_CONFIG.to_string())),
        file_config.map(|c| (c, format!("docker config {shown}"))),
    ];
    Ok((layers.into_iter().flatten().collect(), path))
}

/// The helper docker/cli would ask for this registry: `credHelpers[host]`, else `credsStore`.
pub(super) fn helper_for<'a>(
    config: &'a DockerConfig,
    target: &Target,
) -> Option<(&'a str, &'static str)> {
    config
        .cred_helpers
        .get(&target.registry)
        .or_else(|| {
            target
                .is_docker_hub()
                .then(|| config.cred_helpers.get(DOCKER_HUB_CONFIG_KEY))
                .flatten()
        })
        .map(|h| (h.as_str(), "credHelpers"))
        .or_else(|| config.creds_store.as_deref().map(|h| (h, "credsStore")))
}

/// How a credential from a helper names its source, in messages and in [`Located`].
pub(super) fn helper_source(layer: &str, field: &str, helper: &str) -> String {
    format!("{layer} {field} '{helper}'")
}

/// Looks the registry up in docker's files and helpers.
pub fn lookup(ctx: &Context, target: &Target) -> Outcome<Sourced> {
    let (layers, path) = match layers(ctx) {
        Ok(found) => found,
        Err(e) => return Outcome::Failed(e),
    };
    let shown = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for (config, name) in &layers {
        if let Some((helper, field)) = helper_for(config, target) {
            let source = helper_source(name, field, helper);
            match credential_helper::get(ctx, helper, server_url(target)) {
                Outcome::Found(credential) => {
                    return Outcome::Found(Sourced { credential, source });
                }
                Outcome::Missing(why) => note!(ctx.trace, "{source}: {why}"),
                Outcome::Failed(e) => return Outcome::Failed(e.context(source)),
            }
        }
        if let Some((key, entry)) = find_auth(&config.auths, target) {
            match entry.credential() {
                Ok(Some(credential)) => {
                    return Outcome::Found(Sourced {
                        credential,
                        source: format!("{name} auths[\"{key}\"]"),
                    });
                }
                Ok(None) => note!(ctx.trace, "{name}: auths[\"{key}\"] holds no credential"),
                Err(why) => {
                    return Outcome::Failed(Error::new(format!("{name}: auths[\"{key}\"]: {why}")));
                }
            }
        }
    }
    if layers.is_empty() {
        Outcome::Missing(format!("no docker config at {shown}"))
    } else {
        Outcome::Missing(format!("no docker config entry for {}", target.registry))
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

    #[test]
    fn entries_to_credentials() {
        let entry = |json: &str| {
            serde_json::from_str::<AuthEntry>(json)
                .unwrap()
                .credential()
        };
        assert!(matches!(entry(r#"{}"#), Ok(None)));
        assert!(matches!(entry(r#"{"auth":""}"#), Ok(None)));
        assert!(matches!(
            entry(r#"{"auth":"dTpw"}"#),
            Ok(Some(Credential::Basic { .. }))
        ));
        assert!(matches!(
            entry(r#"{"username":"u","password":"p"}"#),
            Ok(Some(Credential::Basic { .. }))
        ));
        assert!(matches!(
            entry(r#"{"identitytoken":"t","email":"x"}"#),
            Ok(Some(Credential::IdentityToken { .. }))
        ));
        assert!(matches!(
            entry(r#"{"auth":"dTpw","identitytoken":"t"}"#),
            Ok(Some(Credential::IdentityToken {
                username: Some(_),
                ..
            }))
        ));
        assert!(matches!(
            entry(r#"{"registrytoken":"t"}"#),
            Ok(Some(Credential::RegistryToken(_)))
        ));
        assert!(entry(r#"{"auth":"!!"}"#).is_err());
    }
}

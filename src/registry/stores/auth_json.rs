//! podman/skopeo/buildah `auth.json` and the legacy `~/.dockercfg`, read as containers/image
//! (`pkg/docker/config`, which those tools share) reads them.
//!
//! **Files** ([`auth_file_locations`]; containers/image's `getAuthFilePaths` and
//! `getPathToAuthWithOS`), the first that has a credential wins:
//! - `$REGISTRY_AUTH_FILE` when set (the tools' `--authfile` default), and then no other file;
//! - else, on Linux, `$XDG_RUNTIME_DIR/containers/auth.json`, or with `XDG_RUNTIME_DIR` unset
//!   `/run/containers/<uid>/auth.json` (the real uid, Go's `os.Getuid`: root's is
//!   `/run/containers/0/auth.json`); on other systems `~/.config/containers/auth.json`;
//! - then `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`,
//!   `${DOCKER_CONFIG:-~/.docker}/config.json` and `~/.dockercfg`.
//!
//! docker's `config.json` is in containers/image's list, but here the docker source reads it
//! (with docker's rules, before this source); this one skips it.
//!
//! **Keys** ([`find_key`]; `findCredentialsInFile`): a request is looked up by the image's
//! name as podman spells it ([`Query`]: `quay.io/a/b/c`; `docker.io/library/busybox` on any
//! Docker Hub host). A file's `credHelpers[<registry>]`, if present, answers for that file
//! alone. Otherwise the exact keys `host/a/b/c`, `host/a/b`, `host/a`, `host` are tried in that
//! order, so a namespaced key serves only its own namespace; then any key that normalises to
//! the registry (`http(s)://` stripped with everything after the host, Docker Hub's names as
//! one). `~/.dockercfg` has host keys only: its keys are always cut at the first `/`.
//! Comparisons are exact (containers/image folds no case).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::credential_helper;
use super::docker_config::{AuthEntry, DockerConfig, read_json};
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::outcome::Outcome;
use crate::note;
use crate::registry::Sourced;
use crate::registry::reference::Target;

/// How a file in the list is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"auths": {...}, "credHelpers": {...}}`, namespaced keys allowed.
    AuthJson,
    /// docker's `config.json`: containers/image reads it as an `auth.json`; here the docker
    /// source reads it as docker does.
    DockerConfig,
    /// `~/.dockercfg`: the `auths` map at the top level, host keys only.
    Legacy,
}

/// One file containers/image reads, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFile {
    pub path: PathBuf,
    pub format: Format,
}

/// containers/image's files for `env`, a process of user `uid`, on `os` (Rust's
/// `std::env::consts::OS` names; only `linux` uses the runtime directory). Files that may not
/// exist are listed; a path listed twice (elsewhere than Linux without `XDG_CONFIG_HOME`) only
/// once.
pub fn auth_file_locations(env: &Env, uid: Option<u32>, os: &str) -> Vec<AuthFile> {
    let file = |path: PathBuf, format| AuthFile { path, format };
    if let Some(path) = env.var(vars::REGISTRY_AUTH_FILE) {
        return vec![file(env.expand_path(path), Format::AuthJson)];
    }
    let home = env.home();
    let mut files = Vec::new();
    if os == "linux" {
        match (env.var(vars::XDG_RUNTIME_DIR), uid) {
            (Some(dir), _) => files.push(file(
                PathBuf::from(dir).join("containers/auth.json"),
                Format::AuthJson,
            )),
            (None, Some(uid)) => files.push(file(
                PathBuf::from(format!("/run/containers/{uid}/auth.json")),
                Format::AuthJson,
            )),
            (None, None) => {}
        }
    } else if let Some(home) = home {
        files.push(file(
            home.join(".config/containers/auth.json"),
            Format::AuthJson,
        ));
    }
    if let Some(dir) = env.config_home() {
        files.push(file(dir.join("containers/auth.json"), Format::AuthJson));
    }
    match env.var(vars::DOCKER_CONFIG) {
        Some(dir) => files.push(file(
            PathBuf::from(dir).join("config.json"),
            Format::DockerConfig,
        )),
        None => {
            if let Some(home) = home {
                files.push(file(home.join(".docker/config.json"), Format::DockerConfig));
            }
        }
    }
    if let Some(home) = home {
        files.push(file(home.join(".dockercfg"), Format::Legacy));
    }
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(f.path.clone()));
    files
}

/// What containers/image looks a credential up by: `key` is `registry[/namespace...]`, the
/// image's name without tag or digest; `registry` is the part before the first `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub key: String,
    pub registry: String,
}

impl Query {
    /// The request's image as podman names it: `host[:port]/repository`; on every Docker Hub
    /// host `docker.io/<repository>`, with `library/` before a one-part repository.
    pub fn for_target(target: &Target) -> Query {
        // The registry as a whole (docker's credential protocol): its own key only.
        if target.repository.is_empty() {
            let registry = if target.is_docker_hub() {
                "docker.io"
            } else {
                &target.registry
            };
            return Query::from_key(registry);
        }
        if target.is_docker_hub() {
            let repository = &target.repository;
            let key = if repository.contains('/') {
                format!("docker.io/{repository}")
            } else {
                format!("docker.io/library/{repository}")
            };
            return Query::from_key(&key);
        }
        Query::from_key(&format!("{}/{}", target.registry, target.repository))
    }

    /// A key as containers/image's `GetCredentials` takes it: a registry, a namespace in it or
    /// a repository.
    pub fn from_key(key: &str) -> Query {
        Query {
            key: key.to_string(),
            registry: key.split('/').next().unwrap_or(key).to_string(),
        }
    }
}

/// The exact keys tried, best first (`authKeyLookupOrder`): `quay.io/a/b`, `quay.io/a`,
/// `quay.io`; in the legacy format only the registry.
pub fn lookup_order(query: &Query, legacy: bool) -> Vec<&str> {
    if legacy {
        return vec![query.registry.as_str()];
    }
    let mut keys = vec![query.key.as_str()];
    let mut key = query.key.as_str();
    while let Some(i) = key.rfind('/') {
        key = &key[..i];
        keys.push(key);
    }
    keys
}

/// A key as a registry (`normalizeAuthFileKey`): `http://` or `https://` is stripped with
/// everything after the host (always so in the legacy format), and Docker Hub's names become
/// `index.docker.io`. A namespaced key without a scheme stays namespaced, and so never equals a
/// registry.
pub fn normalize_auth_file_key(key: &str, legacy: bool) -> &str {
    let stripped = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    let host = if legacy || stripped.len() != key.len() {
        stripped.split('/').next().unwrap_or(stripped)
    } else {
        stripped
    };
    normalize_registry(host)
}

/// Docker Hub's names as one (`normalizeRegistry`): `docker.io` and `registry-1.docker.io`
/// are `index.docker.io`.
pub fn normalize_registry(registry: &str) -> &str {
    match registry {
        "docker.io" | "registry-1.docker.io" => "index.docker.io",
        other => other,
    }
}

/// The `auths` key that answers `query` in a file (`findCredentialsInFile`): the first exact
/// key of [`lookup_order`], else a key that normalises to the registry. Of several such keys
/// (`https://index.docker.io/v1/` and `index.docker.io`), containers/image takes whichever
/// Go's map order gives first; here the first in byte order.
pub fn find_key<'a, V>(
    auths: &'a BTreeMap<String, V>,
    query: &Query,
    legacy: bool,
) -> Option<(&'a str, &'a V)> {
    lookup_order(query, legacy)
        .into_iter()
        .find_map(|key| auths.get_key_value(key))
        .or_else(|| {
            let registry = normalize_registry(&query.registry);
            auths
                .iter()
                .find(|(key, _)| normalize_auth_file_key(key, legacy) == registry)
        })
        .map(|(key, value)| (key.as_str(), value))
}

pub fn lookup(ctx: &Context, target: &Target) -> Outcome<Sourced> {
    let query = Query::for_target(target);
    for file in auth_file_locations(&ctx.env, ctx.env.uid(), std::env::consts::OS) {
        let path = &file.path;
        let config = match file.format {
            Format::DockerConfig => {
                note!(
                    ctx.trace,
                    "{}: docker's config.json is read by the docker source, as docker reads it",
                    path.display()
                );
                continue;
            }
            Format::Legacy => read_json::<BTreeMap<String, AuthEntry>>(path).map(|auths| {
                auths.map(|auths| DockerConfig {
                    auths,
                    ..DockerConfig::default()
                })
            }),
            Format::AuthJson => read_json::<DockerConfig>(path),
        };
        let config = match config {
            Ok(Some(config)) => config,
            Ok(None) => continue,
            Err(e) => return Outcome::Failed(e),
        };
        // A credential helper named for the registry answers for this file alone.
        if let Some(helper) = config.cred_helpers.get(&query.registry) {
            let source = format!(
                "{} credHelpers[\"{}\"] '{helper}'",
                path.display(),
                query.registry
            );
            match credential_helper::get(ctx, helper, &query.registry) {
                Outcome::Found(credential) => {
                    return Outcome::Found(Sourced { credential, source });
                }
                Outcome::Missing(why) => note!(ctx.trace, "{source}: {why}"),
                Outcome::Failed(e) => return Outcome::Failed(e.context(source)),
            }
            continue;
        }
        let legacy = file.format == Format::Legacy;
        let Some((key, entry)) = find_key(&config.auths, &query, legacy) else {
            note!(ctx.trace, "{}: no key for {}", path.display(), query.key);
            continue;
        };
        match entry.outcome(format!("{} auths[\"{key}\"]", path.display())) {
            Outcome::Missing(why) => note!(ctx.trace, "{why}"),
            found_or_failed => return found_or_failed,
        }
    }
    Outcome::Missing(format!(
        "no podman auth.json or ~/.dockercfg entry for {}",
        query.key
    ))
}

#[cfg(test)]
mod tests;

//! podman/skopeo `auth.json` (containers/image) and the legacy `~/.dockercfg`.
//!
//! Files, first with a match wins: `$REGISTRY_AUTH_FILE`,
//! `$XDG_RUNTIME_DIR/containers/auth.json`, `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`,
//! then `~/.dockercfg` (whose top level is the `auths` map). Keys may be namespaced
//! (`host/ns/repo`); the most specific key wins.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::docker_config::{AuthEntry, DockerConfig, find_auth, read_json};
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::Error;
use crate::kernel::outcome::Outcome;
use crate::note;
use crate::registry::Sourced;
use crate::registry::reference::Target;

fn files(ctx: &Context) -> Vec<(PathBuf, bool)> {
    let env = &ctx.env;
    let mut files = Vec::new();
    if let Some(p) = env.var(vars::REGISTRY_AUTH_FILE) {
        files.push((env.expand_path(p), false));
    }
    if let Some(dir) = env.var(vars::XDG_RUNTIME_DIR) {
        files.push((PathBuf::from(dir).join("containers/auth.json"), false));
    }
    if let Some(dir) = env.config_home() {
        files.push((dir.join("containers/auth.json"), false));
    }
    if let Some(home) = env.home() {
        files.push((home.join(".dockercfg"), true));
    }
    files
}

/// Candidate keys, most specific first: `host/a/b/c`, `host/a/b`, `host/a`.
fn namespaced_keys(target: &Target) -> Vec<String> {
    let mut keys = Vec::new();
    let mut repo = target.repository.as_str();
    loop {
        keys.push(format!("{}/{repo}", target.registry));
        match repo.rfind('/') {
            Some(i) => repo = &repo[..i],
            None => break,
        }
    }
    keys
}

/// Looks the registry up in `auths` with containers/image's namespaced keys, then by host.
pub fn find_namespaced<'a>(
    auths: &'a BTreeMap<String, AuthEntry>,
    target: &Target,
) -> Option<(&'a str, &'a AuthEntry)> {
    namespaced_keys(target)
        .iter()
        .find_map(|k| auths.get_key_value(k.as_str()))
        .map(|(k, v)| (k.as_str(), v))
        .or_else(|| find_auth(auths, target))
}

pub fn lookup(ctx: &Context, target: &Target) -> Outcome<Sourced> {
    for (path, legacy) in files(ctx) {
        let auths = if legacy {
            read_json::<BTreeMap<String, AuthEntry>>(&path)
        } else {
            read_json::<DockerConfig>(&path).map(|c| c.map(|c| c.auths))
        };
        let auths = match auths {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(e) => return Outcome::Failed(e),
        };
        if let Some((key, entry)) = find_namespaced(&auths, target) {
            let name = format!("{} auths[\"{key}\"]", path.display());
            match entry.credential() {
                Ok(Some(credential)) => {
                    return Outcome::Found(Sourced {
                        credential,
                        source: name,
                    });
                }
                Ok(None) => note!(ctx.trace, "{name} holds no credential"),
                Err(why) => return Outcome::Failed(Error::new(format!("{name}: {why}"))),
            }
        }
    }
    Outcome::Missing(format!(
        "no podman auth.json or ~/.dockercfg entry for {}",
        target.registry
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_namespace_wins() {
        let t = Target::from_url(
            &url::Url::parse("https://quay.io/v2/ns/user/img/manifests/1").unwrap(),
        )
        .unwrap();
        assert_eq!(
            namespaced_keys(&t),
            ["quay.io/ns/user/img", "quay.io/ns/user", "quay.io/ns"]
        );
        let auths: BTreeMap<String, AuthEntry> =
            ["quay.io", "quay.io/ns", "quay.io/ns/user", "quay.io/other"]
                .iter()
                .map(|k| (k.to_string(), AuthEntry::default()))
                .collect();
        assert_eq!(
            find_namespaced(&auths, &t).map(|(k, _)| k),
            Some("quay.io/ns/user")
        );
        let t2 = Target::from_url(&url::Url::parse("https://quay.io/v2/x/manifests/1").unwrap())
            .unwrap();
        assert_eq!(
            find_namespaced(&auths, &t2).map(|(k, _)| k),
            Some("quay.io")
        );
    }
}

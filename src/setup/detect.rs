//! What `setup` finds on this machine through the passed-in environment: the registries the
//! docker config, podman's auth.json and the environment keychain name, and the GitHub,
//! Google and AWS logins the built-in defaults use. Only names are read out (hosts, helper
//! names, file paths): no credential is ever taken from a file or variable.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloud::{aws, github, google};
use crate::kernel::env::{Env, vars};
use crate::registry::stores::auth_json::{self, Format};
use crate::registry::stores::docker_config::{self, DockerConfig, normalize_key};
use crate::registry::stores::env_keychain;

/// One place that holds credentials.
#[derive(Debug, Default)]
pub struct Found {
    /// `docker config /home/me/.docker/config.json`, for the report.
    pub what: String,
    /// The registry hosts it names (`host[:port]`), sorted.
    pub registries: Vec<String>,
    /// What about it the report adds: a docker credential helper, or what the defaults route.
    pub note: Option<String>,
    /// Its registries are answered without a config entry (the environment keychain's).
    pub routed_without_entry: bool,
}

/// Everything found, and what could not be read (one line each, never a file's contents).
#[derive(Debug, Default)]
pub struct Detected {
    pub found: Vec<Found>,
    pub problems: Vec<String>,
}

pub fn detect(env: &Env) -> Detected {
    let mut d = Detected::default();
    docker(env, &mut d);
    auth_files(env, &mut d);
    imgpkg(env, &mut d);
    logins(env, &mut d);
    d
}

/// docker's `config.json`: `auths` keys (docker also writes an empty one for each login kept
/// in `credsStore`) and `credHelpers` keys.
fn docker(env: &Env, d: &mut Detected) {
    let Some(path) = docker_config::path(env) else {
        return;
    };
    let config = match docker_config::read_json::<DockerConfig>(&path) {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => return d.problems.push(e.to_string()),
    };
    let mut helpers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (host, helper) in &config.cred_helpers {
        helpers.entry(helper).or_default().insert(host);
    }
    let mut notes: Vec<String> = helpers
        .iter()
        .map(|(helper, hosts)| {
            let hosts: Vec<_> = hosts.iter().copied().collect();
            format!(
                "credHelpers docker-credential-{helper} for {}",
                hosts.join(", ")
            )
        })
        .collect();
    if let Some(store) = &config.creds_store {
        notes.push(format!("credsStore docker-credential-{store}"));
    }
    let keys = config.auths.keys().chain(config.cred_helpers.keys());
    d.found.push(Found {
        what: format!("docker config {}", path.display()),
        registries: hosts(keys),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        routed_without_entry: false,
    });
}

/// podman/skopeo's `auth.json` files (`registry[/namespace]` keys); docker's own file is read
/// above, as docker reads it.
fn auth_files(env: &Env, d: &mut Detected) {
    let os = match env.platform() {
        crate::kernel::platform::Platform::Linux => "linux",
        _ => "other",
    };
    for file in auth_json::auth_file_locations(env, env.uid(), os) {
        if file.format == Format::DockerConfig {
            continue;
        }
        let keys: Vec<String> = if file.format == Format::Legacy {
            match docker_config::read_json::<BTreeMap<String, serde_json::Value>>(&file.path) {
                Ok(Some(map)) => map.into_keys().collect(),
                Ok(None) => continue,
                Err(e) => {
                    d.problems.push(e.to_string());
                    continue;
                }
            }
        } else {
            match docker_config::read_json::<DockerConfig>(&file.path) {
                Ok(Some(c)) => c
                    .auths
                    .into_keys()
                    .chain(c.cred_helpers.into_keys())
                    .collect(),
                Ok(None) => continue,
                Err(e) => {
                    d.problems.push(e.to_string());
                    continue;
                }
            }
        };
        d.found.push(Found {
            what: format!("registry auth file {}", file.path.display()),
            registries: hosts(keys.iter()),
            ..Found::default()
        });
    }
}

/// imgpkg's (and our) `*_REGISTRY_HOSTNAME*` variables.
fn imgpkg(env: &Env, d: &mut Detected) {
    match env_keychain::hostnames(env) {
        Ok(names) if names.is_empty() => {}
        Ok(names) => {
            let vars: Vec<_> = names.iter().map(|(var, _)| var.as_str()).collect();
            d.found.push(Found {
                what: format!("environment keychain {}", vars.join(", ")),
                registries: names.into_iter().map(|(_, host)| host).collect(),
                note: Some(
                    "answered while the variables are set; with the built-in defaults in force it needs no entry"
                        .into(),
                ),
                routed_without_entry: true,
            });
        }
        Err(e) => d.problems.push(e.to_string()),
    }
}

/// gh, gcloud and AWS logins: the built-in defaults route their hosts.
fn logins(env: &Env, d: &mut Detected) {
    let mut login = |what: String, note: &str| {
        d.found.push(Found {
            what,
            note: Some(note.to_string()),
            ..Found::default()
        })
    };
    const GITHUB: &str = "the built-in defaults use it for github.com, api.github.com, raw.githubusercontent.com and ghcr.io";
    const GOOGLE: &str = "the built-in defaults use it for gcr.io, *-docker.pkg.dev, the other *.pkg.dev formats and storage.googleapis.com";
    const AWS: &str = "the built-in defaults use it for ECR (*.dkr.ecr.*.amazonaws.com) and S3";
    for name in [vars::GH_TOKEN, vars::GITHUB_TOKEN] {
        if env.var(name).is_some() {
            login(format!("GitHub token in {name}"), GITHUB);
        }
    }
    if let Some(path) = github::hosts_file(env).filter(|p| p.is_file()) {
        login(format!("gh CLI login {}", path.display()), GITHUB);
    }
    let adc = match env.var(vars::GOOGLE_APPLICATION_CREDENTIALS) {
        Some(p) => Some(env.expand_path(p)),
        None => google::adc_file(env),
    };
    if let Some(path) = adc.filter(|p| p.is_file()) {
        login(
            format!("Google application default credentials {}", path.display()),
            GOOGLE,
        );
    }
    if env.var(vars::AWS_ACCESS_KEY_ID).is_some() {
        login(format!("AWS keys in {}", vars::AWS_ACCESS_KEY_ID), AWS);
    }
    for path in aws::shared_files(env).into_iter().flatten() {
        if path.is_file() {
            login(format!("AWS file {}", path.display()), AWS);
        }
    }
}

/// Registry hosts of config keys (`https://index.docker.io/v1/`, `quay.io/team`), sorted,
/// each once.
fn hosts<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<String> {
    keys.map(|k| normalize_key(k))
        .filter(|h| !h.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_config_keys() {
        let keys: Vec<String> = [
            "https://index.docker.io/v1/",
            "docker.io",
            "quay.io/team/app",
            "http://localhost:5000",
            "Registry.Example.com",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            hosts(keys.iter()),
            [
                "index.docker.io",
                "localhost:5000",
                "quay.io",
                "registry.example.com"
            ]
        );
    }
}

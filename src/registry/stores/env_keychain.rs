//! The environment keychain, compatible with imgpkg's: registry credentials in variables.
//!
//! `CREDENTIAL_HELPER_REGISTRY_{HOSTNAME,USERNAME,PASSWORD,IDENTITY_TOKEN,REGISTRY_TOKEN}`, bare
//! or with a suffix `_<S>` (1+ alphanumerics) grouping one registry's values. The same names
//! with the `IMGPKG_REGISTRY_` prefix work too, so imgpkg and kapp pipelines need no change.
//! `HOSTNAME` is matched with [`crate::registry::host_match`]: per-label globs, equal ports, a
//! repository path prefix; an exact host beats a glob and a longer path a shorter one.
//!
//! A misspelt variable is an error, never silently ignored: it would drop credentials.

use std::collections::BTreeMap;

use crate::kernel::env::Env;
use crate::kernel::error::{Error, Result};
use crate::kernel::secret::Secret;
use crate::registry::host_match::best_match;
use crate::registry::reference::Target;
use crate::registry::{Credential, Sourced};

/// Our prefix first, then imgpkg's.
pub const PREFIXES: [&str; 2] = ["CREDENTIAL_HELPER_REGISTRY_", "IMGPKG_REGISTRY_"];
/// Longest names first so `IDENTITY_TOKEN` is not read as a suffix of something shorter.
const FIELDS: [&str; 5] = [
    "IDENTITY_TOKEN",
    "REGISTRY_TOKEN",
    "HOSTNAME",
    "USERNAME",
    "PASSWORD",
];

/// One registry's variables.
#[derive(Debug, Default)]
struct Group {
    hostname: Option<(String, String)>,
    values: BTreeMap<&'static str, (String, Secret)>,
}

/// Splits `HOSTNAME_1` into (`HOSTNAME`, `1`); `None` when not one of ours.
fn field_and_suffix(rest: &str) -> Option<(&'static str, &str)> {
    FIELDS.iter().find_map(|field| {
        let after = rest.strip_prefix(field)?;
        if after.is_empty() {
            return Some((*field, ""));
        }
        let suffix = after.strip_prefix('_')?;
        (!suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then_some((*field, suffix))
    })
}

/// All groups, or an error naming the first bad variable.
fn groups(env: &Env) -> Result<Vec<Group>> {
    let mut groups: BTreeMap<(&str, String), Group> = BTreeMap::new();
    for prefix in PREFIXES {
        for (name, value) in env.vars_with_prefix(prefix) {
            let rest = &name[prefix.len()..];
            let Some((field, suffix)) = field_and_suffix(rest) else {
                return Err(
                    Error::new(format!("unknown environment variable {name}")).hint(format!(
                        "expected {prefix}{{{}}}, optionally followed by _<suffix>",
                        FIELDS.join(",")
                    )),
                );
            };
            if value.is_empty() {
                continue;
            }
            let group = groups.entry((prefix, suffix.to_string())).or_default();
            if field == "HOSTNAME" {
                group.hostname = Some((name.to_string(), value.to_string()));
            } else {
                group
                    .values
                    .insert(field, (name.to_string(), Secret::new(value)));
            }
        }
    }
    groups
        .into_iter()
        .map(|((prefix, suffix), group)| {
            if group.hostname.is_none() {
                let name = if suffix.is_empty() {
                    format!("{prefix}HOSTNAME")
                } else {
                    format!("{prefix}HOSTNAME_{suffix}")
                };
                let fields: Vec<_> = group.values.values().map(|(n, _)| n.as_str()).collect();
                return Err(
                    Error::new(format!("{} set without {name}", fields.join(", "))).hint(format!(
                        "set {name} to the registry these credentials are for"
                    )),
                );
            }
            Ok(group)
        })
        .collect()
}

/// The credential for `target` from the environment, if a group matches. Errors (a misspelt
/// variable, a group without a hostname) are reported whatever the target.
pub fn lookup(env: &Env, target: &Target) -> Result<Option<Sourced>> {
    let groups = groups(env)?;
    let keys = groups.iter().filter_map(|g| {
        let (_, host) = g.hostname.as_ref()?;
        Some((host.as_str(), g))
    });
    let Some((_, group)) = best_match(keys, &target.registry, &target.repository) else {
        return Ok(None);
    };
    let host_var = group
        .hostname
        .as_ref()
        .map(|(n, _)| n.as_str())
        .unwrap_or("");
    let get = |field: &str| group.values.get(field);
    let (credential, from) = if let Some((name, token)) = get("REGISTRY_TOKEN") {
        (Credential::RegistryToken(token.clone()), name.clone())
    } else if let Some((name, token)) = get("IDENTITY_TOKEN") {
        let username = get("USERNAME").map(|(_, u)| u.expose().to_string());
        (
            Credential::IdentityToken {
                username,
                token: token.clone(),
                password: None,
            },
            name.clone(),
        )
    } else {
        match (get("USERNAME"), get("PASSWORD")) {
            (Some((_, user)), Some((name, password))) => (
                Credential::from_user_password(user.expose(), password.clone()),
                name.clone(),
            ),
            _ => {
                return Err(Error::new(format!(
                    "{host_var} matches {} but its group has no USERNAME and PASSWORD, IDENTITY_TOKEN or REGISTRY_TOKEN",
                    target.registry
                )));
            }
        }
    };
    Ok(Some(Sourced {
        credential,
        source: format!("environment keychain {from} (for {host_var})"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    fn target(u: &str) -> Target {
        Target::from_url(&url::Url::parse(u).unwrap()).unwrap()
    }

    fn who(vars: &[(&str, &str)], u: &str) -> Option<String> {
        let env = test_env(vars);
        lookup(&env, &target(u))
            .unwrap()
            .map(|s| match s.credential {
                Credential::Basic { username, .. } => username,
                Credential::IdentityToken { .. } => "identity".into(),
                Credential::RegistryToken(_) => "registry".into(),
            })
    }

    #[test]
    fn imgpkg_documented_matching() {
        let glob = [
            ("IMGPKG_REGISTRY_HOSTNAME_0", "*.docker.io"),
            ("IMGPKG_REGISTRY_USERNAME_0", "glob"),
            ("IMGPKG_REGISTRY_PASSWORD_0", "p"),
        ];
        // `*.docker.io` needs one more label: not docker.io (Hub), but foo.docker.io.
        assert_eq!(
            who(&glob, "https://foo.docker.io/v2/a/manifests/1").as_deref(),
            Some("glob")
        );
        assert_eq!(
            who(&glob, "https://index.docker.io/v2/a/manifests/1").as_deref(),
            Some("glob")
        );
        assert_eq!(
            who(&glob, "https://bar.foo.docker.io/v2/a/manifests/1"),
            None
        );
        let two = [
            ("IMGPKG_REGISTRY_HOSTNAME_1", "*.*.docker.io"),
            ("IMGPKG_REGISTRY_USERNAME_1", "two"),
            ("IMGPKG_REGISTRY_PASSWORD_1", "p"),
        ];
        assert_eq!(
            who(&two, "https://bar.foo.docker.io/v2/a/manifests/1").as_deref(),
            Some("two")
        );
        assert_eq!(who(&two, "https://foo.docker.io/v2/a/manifests/1"), None);
        let repo = [
            ("IMGPKG_REGISTRY_HOSTNAME", "gcr.io/repo"),
            ("IMGPKG_REGISTRY_USERNAME", "repo"),
            ("IMGPKG_REGISTRY_PASSWORD", "p"),
        ];
        assert_eq!(
            who(&repo, "https://gcr.io/v2/repo/image/manifests/1").as_deref(),
            Some("repo")
        );
        assert_eq!(
            who(&repo, "https://gcr.io/v2/other/image/manifests/1"),
            None
        );
    }

    #[test]
    fn precedence_exact_beats_glob_and_longer_path_wins() {
        let vars = [
            ("CREDENTIAL_HELPER_REGISTRY_HOSTNAME_A", "*.example.com"),
            ("CREDENTIAL_HELPER_REGISTRY_USERNAME_A", "glob"),
            ("CREDENTIAL_HELPER_REGISTRY_PASSWORD_A", "p"),
            ("CREDENTIAL_HELPER_REGISTRY_HOSTNAME_B", "reg.example.com"),
            ("CREDENTIAL_HELPER_REGISTRY_USERNAME_B", "exact"),
            ("CREDENTIAL_HELPER_REGISTRY_PASSWORD_B", "p"),
            (
                "CREDENTIAL_HELPER_REGISTRY_HOSTNAME_C",
                "https://reg.example.com/v2/team",
            ),
            ("CREDENTIAL_HELPER_REGISTRY_USERNAME_C", "team"),
            ("CREDENTIAL_HELPER_REGISTRY_PASSWORD_C", "p"),
            (
                "CREDENTIAL_HELPER_REGISTRY_HOSTNAME_D",
                "reg.example.com:5000",
            ),
            ("CREDENTIAL_HELPER_REGISTRY_REGISTRY_TOKEN_D", "t"),
        ];
        let cases = [
            (
                "https://reg.example.com/v2/team/app/manifests/1",
                Some("team"),
            ),
            (
                "https://reg.example.com/v2/other/manifests/1",
                Some("exact"),
            ),
            ("https://x.example.com/v2/other/manifests/1", Some("glob")),
            (
                "https://reg.example.com:5000/v2/team/manifests/1",
                Some("registry"),
            ),
            ("https://example.com/v2/a/manifests/1", None),
        ];
        for (u, want) in cases {
            assert_eq!(who(&vars, u).as_deref(), want, "{u}");
        }
    }

    #[test]
    fn token_kinds_and_errors() {
        let id = [
            ("IMGPKG_REGISTRY_HOSTNAME", "r.io"),
            ("IMGPKG_REGISTRY_IDENTITY_TOKEN", "t"),
        ];
        assert_eq!(
            who(&id, "https://r.io/v2/a/manifests/1").as_deref(),
            Some("identity")
        );
        let t = target("https://r.io/v2/a/manifests/1");
        let err = |vars: &[(&str, &str)]| lookup(&test_env(vars), &t).unwrap_err().to_string();
        assert!(
            err(&[("IMGPKG_REGISTRY_PASWORD", "x")])
                .contains("unknown environment variable IMGPKG_REGISTRY_PASWORD")
        );
        assert!(
            err(&[("IMGPKG_REGISTRY_USERNAME_x-1", "x")]).contains("unknown environment variable")
        );
        let missing = err(&[("CREDENTIAL_HELPER_REGISTRY_USERNAME_7", "u")]);
        assert!(
            missing.contains("without CREDENTIAL_HELPER_REGISTRY_HOSTNAME_7"),
            "{missing}"
        );
        let incomplete = err(&[
            ("IMGPKG_REGISTRY_HOSTNAME", "r.io"),
            ("IMGPKG_REGISTRY_USERNAME", "u"),
        ]);
        assert!(
            incomplete.contains("has no USERNAME and PASSWORD"),
            "{incomplete}"
        );
    }

    /// Property: whatever order groups are numbered in, the most specific key wins.
    #[test]
    fn ordering_does_not_depend_on_suffixes() {
        let keys = [
            "*.corp.io",
            "reg.corp.io",
            "reg.corp.io/team",
            "reg.corp.io/team/app",
        ];
        // Every rotation of suffix assignment gives the same winner.
        for shift in 0..keys.len() {
            let mut owned = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                let s = (i + shift) % keys.len();
                owned.push((format!("IMGPKG_REGISTRY_HOSTNAME_{s}"), key.to_string()));
                owned.push((format!("IMGPKG_REGISTRY_USERNAME_{s}"), key.to_string()));
                owned.push((format!("IMGPKG_REGISTRY_PASSWORD_{s}"), "p".to_string()));
            }
            let vars: Vec<(&str, &str)> = owned
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            assert_eq!(
                who(&vars, "https://reg.corp.io/v2/team/app/x/manifests/1").as_deref(),
                Some("reg.corp.io/team/app")
            );
            assert_eq!(
                who(&vars, "https://reg.corp.io/v2/team/b/manifests/1").as_deref(),
                Some("reg.corp.io/team")
            );
            assert_eq!(
                who(&vars, "https://reg.corp.io/v2/z/manifests/1").as_deref(),
                Some("reg.corp.io")
            );
            assert_eq!(
                who(&vars, "https://a.corp.io/v2/z/manifests/1").as_deref(),
                Some("*.corp.io")
            );
        }
    }
}

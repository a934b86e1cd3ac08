//! The environment keychain, compatible with imgpkg's: registry credentials in variables.
//!
//! `CREDENTIAL_HELPER_REGISTRY_{HOSTNAME,USERNAME,PASSWORD,IDENTITY_TOKEN,REGISTRY_TOKEN}`, bare
//! or with a suffix `_<S>` (anything, as imgpkg reads it) grouping one registry's values. The
//! same names with the `IMGPKG_REGISTRY_` prefix work too, so imgpkg and kapp pipelines need no
//! change; imgpkg's `IMGPKG_REGISTRY_AZURE_CR_CONFIG` is its own setting and passed over.
//! `HOSTNAME` is matched with [`crate::registry::host_match`]: per-label globs, equal ports, a
//! repository path prefix; an exact host beats a glob and a longer path a shorter one.
//!
//! A misspelt variable or a `HOSTNAME` that does not parse is an error, never silently
//! ignored: it would drop credentials.

use std::collections::BTreeMap;

use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::secret::Secret;
use crate::registry::host_match::{KeyPattern, best_match};
use crate::registry::reference::Target;
use crate::registry::{Credential, Sourced};

/// Our prefix first, then imgpkg's.
pub const PREFIXES: [&str; 2] = [vars::REGISTRY_PREFIX, vars::IMGPKG_REGISTRY_PREFIX];
/// Longest names first so `IDENTITY_TOKEN` is not read as a suffix of something shorter.
pub(super) const FIELDS: [&str; 5] = [
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
pub(super) fn field_and_suffix(rest: &str) -> Option<(&'static str, &str)> {
    FIELDS.iter().find_map(|field| {
        let after = rest.strip_prefix(field)?;
        if after.is_empty() {
            return Some((*field, ""));
        }
        // imgpkg takes whatever follows `_`; a typo there leaves a group without HOSTNAME.
        let suffix = after.strip_prefix('_')?;
        (!suffix.is_empty()).then_some((*field, suffix))
    })
}

/// All groups, or an error naming the first bad variable.
fn groups(env: &Env) -> Result<Vec<Group>> {
    let mut groups: BTreeMap<(&str, String), Group> = BTreeMap::new();
    for prefix in PREFIXES {
        for (name, value) in env.vars_with_prefix(prefix) {
            if name == vars::IMGPKG_REGISTRY_AZURE_CR_CONFIG {
                continue;
            }
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
                if let Err(why) = KeyPattern::parse_strict(value) {
                    return Err(Error::new(format!("{name} is not a registry: {why}"))
                        .hint("expected host[:port][/repository], e.g. gcr.io, index.docker.io, registry.example.com:5000/team"));
                }
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

/// Every `HOSTNAME` set, with its variable's name: registries, never a credential.
pub fn hostnames(env: &Env) -> Result<Vec<(String, String)>> {
    Ok(groups(env)?
        .into_iter()
        .filter_map(|g| g.hostname)
        .collect())
}

/// Whether a `HOSTNAME` names `target`'s registry (whatever its repository path): such a host
/// is a registry even when no config entry routes it.
pub fn names_registry(env: &Env, target: &Target) -> Result<bool> {
    Ok(groups(env)?.iter().any(|g| {
        g.hostname
            .as_ref()
            .and_then(|(_, host)| KeyPattern::parse(host))
            .is_some_and(|k| k.matches_host(&target.registry))
    }))
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
        // imgpkg takes any suffix, so a stray one is a group without a HOSTNAME.
        assert!(
            err(&[("IMGPKG_REGISTRY_USERNAME_x-1", "x")])
                .contains("without IMGPKG_REGISTRY_HOSTNAME_x-1")
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

    /// imgpkg's own table (`registry_test.go`): which `HOSTNAME` values cover its image
    /// `<registry>/imgpkg_test`, which do not, and which are errors.
    #[test]
    fn imgpkg_hostname_table() {
        let run = |host: &str, registry: &str| {
            let vars = [
                ("IMGPKG_REGISTRY_USERNAME", "user"),
                ("IMGPKG_REGISTRY_PASSWORD", "pass"),
                ("IMGPKG_REGISTRY_HOSTNAME", host),
            ];
            let t = target(&format!("https://{registry}/v2/imgpkg_test/manifests/1"));
            lookup(&test_env(&vars), &t).map(|s| s.is_some())
        };
        let l = "localhost:9999";
        // (HOSTNAME, registry, Some(matches) or None for an error)
        let table: &[(&str, &str, Option<bool>)] = &[
            ("localhost:9999", l, Some(true)),
            ("http://localhost:9999", l, Some(true)),
            ("https://localhost:9999", l, Some(true)),
            ("localhost:9999/v1/", l, Some(true)),
            ("localhost:9999/v2/", l, Some(true)),
            ("*:9999/v2/", l, Some(true)),
            ("local*:9999/v2/", l, Some(true)),
            ("*.localhost:9999/v2/", "a.localhost:9999", Some(true)),
            ("*.*.localhost:9999/v2/", "a.b.localhost:9999", Some(true)),
            ("localhost:9999/imgpkg_test", l, Some(true)),
            ("*.localhost:9999", "a.b.localhost:9999", Some(false)),
            ("localhost:9999", "a.localhost:9999", Some(false)),
            ("*:9999", "a.localhost:9999", Some(false)),
            ("localhost:9998", l, Some(false)),
            ("[::1]:9999", "[::1]:9999", Some(true)),
            ("http://[::1]:namedport", l, None),
            ("http://[%10::1]", l, None),
            ("http://%41:8080/", l, None),
        ];
        for (host, registry, want) in table {
            match (run(host, registry), want) {
                (Ok(got), Some(want)) => assert_eq!(got, *want, "{host} vs {registry}"),
                (Err(e), None) => {
                    let e = e.to_string();
                    assert!(e.starts_with("IMGPKG_REGISTRY_HOSTNAME is not a registry"));
                    assert!(!e.contains(host), "the value is not quoted: {e}");
                }
                (got, want) => panic!("{host} vs {registry}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn imgpkg_settings_and_suffixes() {
        let t = target("https://localhost:9999/v2/imgpkg_test/manifests/1");
        // imgpkg's Azure setting shares the prefix and is no credential.
        let azure = test_env(&[("IMGPKG_REGISTRY_AZURE_CR_CONFIG", "/some/path")]);
        assert!(lookup(&azure, &t).unwrap().is_none());
        // Suffixes with underscores, and imgpkg's "more specific HOSTNAME" cases.
        for (a, b) in [
            ("localhost:9999", "localhost:9999/imgpkg_test"),
            (
                "localhost:9999/imgpkg_test",
                "localhost:9999/imgpkg_test/imagename",
            ),
            ("*:9999/imgpkg_test/imagename", "localhost:9999"),
            ("localhost:9999/v1/", "localhost:9999/imgpkg_test"),
        ] {
            let vars = [
                ("IMGPKG_REGISTRY_HOSTNAME_MY_A", a),
                ("IMGPKG_REGISTRY_USERNAME_MY_A", "not-chosen"),
                ("IMGPKG_REGISTRY_PASSWORD_MY_A", "p"),
                ("IMGPKG_REGISTRY_HOSTNAME_MY_B", b),
                ("IMGPKG_REGISTRY_USERNAME_MY_B", "chosen"),
                ("IMGPKG_REGISTRY_PASSWORD_MY_B", "p"),
            ];
            let got = who(
                &vars,
                "https://localhost:9999/v2/imgpkg_test/imagename/manifests/1",
            );
            assert_eq!(got.as_deref(), Some("chosen"), "{a} vs {b}");
        }
        let named = |host: &str, u: &str| {
            names_registry(&test_env(&[("IMGPKG_REGISTRY_HOSTNAME", host)]), &target(u)).unwrap()
        };
        assert!(named("reg.io/team", "https://reg.io/v2/other/manifests/1"));
        assert!(named("*.reg.io", "https://a.reg.io/v2/x/manifests/1"));
        assert!(!named("reg.io", "https://reg.io:5000/v2/x/manifests/1"));
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

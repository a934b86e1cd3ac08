//! `check-config`'s look at the environment keychain: every variable that would make registry
//! lookups fail (a misspelt field, a group without its `HOSTNAME` or without a credential, a
//! `HOSTNAME` that is no registry), each with what to do. `get` stops at the first of them
//! (`env_keychain::lookup`); this lists them all.

use std::collections::BTreeMap;

use crate::kernel::env::{Env, vars};
use crate::kernel::suggest;
use crate::registry::host_match::KeyPattern;
use crate::registry::stores::env_keychain::{FIELDS, PREFIXES, field_and_suffix};

/// One problem: the variable it is about, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub variable: String,
    pub what: String,
    pub fix: String,
}

/// Every problem, in variable-name order. Values are never quoted.
pub fn problems(env: &Env) -> Vec<Problem> {
    let mut found = Vec::new();
    // (prefix, suffix) → the fields set in that group.
    let mut groups: BTreeMap<(&str, String), BTreeMap<&str, String>> = BTreeMap::new();
    for prefix in PREFIXES {
        for (name, value) in env.vars_with_prefix(prefix) {
            if name == vars::IMGPKG_REGISTRY_AZURE_CR_CONFIG || value.is_empty() {
                continue;
            }
            let rest = &name[prefix.len()..];
            let Some((field, suffix)) = field_and_suffix(rest) else {
                let guess = guess(prefix, rest)
                    .map(|g| format!("did you mean `{g}`? "))
                    .unwrap_or_default();
                found.push(Problem {
                    variable: name.to_string(),
                    what: "not a variable the environment keychain reads, and while it is set every registry lookup fails".into(),
                    fix: format!("{guess}the names are {prefix}{{{}}}, optionally followed by _<suffix>", FIELDS.join(",")),
                });
                continue;
            };
            if field == "HOSTNAME"
                && let Err(why) = KeyPattern::parse_strict(value)
            {
                found.push(Problem {
                    variable: name.to_string(),
                    what: format!("not a registry: {why}"),
                    fix: "write host[:port][/repository], e.g. registry.example.com:5000/team"
                        .into(),
                });
            }
            groups
                .entry((prefix, suffix.to_string()))
                .or_default()
                .insert(field, name.to_string());
        }
    }
    let hosted: Vec<(&str, String)> = groups
        .iter()
        .filter(|(_, fields)| fields.contains_key("HOSTNAME"))
        .map(|((p, s), _)| (*p, s.clone()))
        .collect();
    for ((prefix, suffix), fields) in &groups {
        let var = |field: &str| match suffix.as_str() {
            "" => format!("{prefix}{field}"),
            s => format!("{prefix}{field}_{s}"),
        };
        let Some(host) = fields.get("HOSTNAME") else {
            let others: Vec<&str> = hosted
                .iter()
                .filter(|(p, _)| p == prefix)
                .map(|(_, s)| s.as_str())
                .collect();
            let guess = suggest::closest(suffix, others)
                .map(|s| format!("did you mean the suffix `_{s}`? "))
                .unwrap_or_default();
            let set: Vec<&str> = fields.values().map(String::as_str).collect();
            found.push(Problem {
                variable: set.join(", "),
                what: format!(
                    "set without {}, so every registry lookup fails",
                    var("HOSTNAME")
                ),
                fix: format!(
                    "{guess}set {} to the registry these credentials are for",
                    var("HOSTNAME")
                ),
            });
            continue;
        };
        let credential = fields.contains_key("REGISTRY_TOKEN")
            || fields.contains_key("IDENTITY_TOKEN")
            || (fields.contains_key("USERNAME") && fields.contains_key("PASSWORD"));
        if !credential {
            let missing = match (
                fields.contains_key("USERNAME"),
                fields.contains_key("PASSWORD"),
            ) {
                (true, false) => var("PASSWORD"),
                (false, true) => var("USERNAME"),
                _ => format!("{} and {}", var("USERNAME"), var("PASSWORD")),
            };
            found.push(Problem {
                variable: host.clone(),
                what: "names a registry but no credential for it, so lookups for it fail".into(),
                fix: format!(
                    "set {missing}, or {} or {}",
                    var("IDENTITY_TOKEN"),
                    var("REGISTRY_TOKEN")
                ),
            });
        }
    }
    found.sort_by(|a, b| a.variable.cmp(&b.variable));
    found
}

/// `USERNMAE_1` → `<prefix>USERNAME_1`: the closest field for the first words of `rest`.
fn guess(prefix: &str, rest: &str) -> Option<String> {
    let words: Vec<&str> = rest.split('_').collect();
    (1..=words.len()).find_map(|n| {
        let head = words[..n].join("_");
        let tail = words[n..].join("_");
        let field = suggest::closest(&head, FIELDS)?;
        Some(match tail.is_empty() {
            true => format!("{prefix}{field}"),
            false => format!("{prefix}{field}_{tail}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    fn shown(vars: &[(&str, &str)]) -> Vec<String> {
        problems(&test_env(vars))
            .into_iter()
            .map(|p| format!("{}: {} ({})", p.variable, p.what, p.fix))
            .collect()
    }

    #[test]
    fn every_problem_with_what_to_do() {
        let good = [
            ("IMGPKG_REGISTRY_HOSTNAME_0", "reg.example"),
            ("IMGPKG_REGISTRY_USERNAME_0", "u"),
            ("IMGPKG_REGISTRY_PASSWORD_0", "p"),
            ("CREDENTIAL_HELPER_REGISTRY_HOSTNAME", "other.example"),
            ("CREDENTIAL_HELPER_REGISTRY_REGISTRY_TOKEN", "t"),
            ("IMGPKG_REGISTRY_AZURE_CR_CONFIG", "/x"),
        ];
        assert_eq!(shown(&good), Vec::<String>::new());

        let bad = [
            ("IMGPKG_REGISTRY_HOSTNAME_1", "reg.example"),
            ("IMGPKG_REGISTRY_USERNMAE_1", "u"),
            ("IMGPKG_REGISTRY_PASSWORD_1", "secret-canary"),
            ("IMGPKG_REGISTRY_HOSTNAME_2", "http://[::1]:namedport"),
            ("IMGPKG_REGISTRY_IDENTITY_TOKEN_2", "t"),
            ("IMGPKG_REGISTRY_USERNAME_x_1", "u"),
            ("IMGPKG_REGISTRY_HOSTNAME_x-1", "a.example"),
            ("IMGPKG_REGISTRY_REGISTRY_TOKEN_x-1", "t"),
        ];
        let list = shown(&bad);
        let want = [
            "IMGPKG_REGISTRY_HOSTNAME_1: names a registry but no credential for it, so lookups for it fail (set IMGPKG_REGISTRY_USERNAME_1, or IMGPKG_REGISTRY_IDENTITY_TOKEN_1 or IMGPKG_REGISTRY_REGISTRY_TOKEN_1)",
            "IMGPKG_REGISTRY_HOSTNAME_2: not a registry:",
            "IMGPKG_REGISTRY_USERNAME_x_1: set without IMGPKG_REGISTRY_HOSTNAME_x_1, so every registry lookup fails (did you mean the suffix `_x-1`? set",
            "IMGPKG_REGISTRY_USERNMAE_1: not a variable the environment keychain reads, and while it is set every registry lookup fails (did you mean `IMGPKG_REGISTRY_USERNAME_1`? the names are",
        ];
        assert_eq!(list.len(), want.len(), "{list:#?}");
        for (line, want) in list.iter().zip(want) {
            assert!(line.starts_with(want), "{line}\nwant {want}");
        }
        assert!(
            list.iter()
                .all(|l| !l.contains("canary") && !l.contains("namedport")),
            "{list:#?}"
        );
    }
}

//! rkt's `auth.d`: every `*.json` file of a directory, by default `/etc/rkt/auth.d` over
//! `/usr/lib/rkt/auth.d` (the system directory overrides the vendor one, domain by domain).
//!
//! ```json
//! {"rktKind": "auth", "rktVersion": "v1", "domains": ["quay.io"], "type": "basic",
//!  "credentials": {"user": "bob", "password": "..."}}
//! {"rktKind": "auth", "rktVersion": "v1", "domains": ["quay.io"], "type": "oauth",
//!  "credentials": {"token": "..."}}
//! {"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["quay.io"],
//!  "credentials": {"user": "bob", "password": "..."}}
//! ```
//!
//! `oauth` tokens are sent as `Bearer` as they are. Domains and registries match as docker
//! config keys do (scheme and path ignored, port kept); `dockerAuth` is looked at before
//! `auth`, being meant for registries. As in rkt, one domain twice in a directory is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::docker_config::normalize_key;
use crate::kernel::context::Context;
use crate::kernel::error::{Error, describe_json};
use crate::kernel::files::read_capped;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::note;
use crate::registry::reference::Target;
use crate::registry::{Credential, Sourced};

/// Looked at in this order: the system directory overrides the vendor one.
const DEFAULT_DIRS: &[&str] = &["/etc/rkt/auth.d", "/usr/lib/rkt/auth.d"];

/// The header every rkt config file has.
#[derive(Deserialize)]
struct Header {
    #[serde(rename = "rktKind", default)]
    kind: Option<String>,
    #[serde(rename = "rktVersion", default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct AuthV1 {
    #[serde(default)]
    domains: Vec<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    credentials: Credentials,
}

#[derive(Deserialize)]
struct DockerAuthV1 {
    #[serde(default)]
    registries: Vec<String>,
    #[serde(default)]
    credentials: Credentials,
}

#[derive(Default, Deserialize)]
struct Credentials {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    password: Option<Secret>,
    #[serde(default)]
    token: Option<Secret>,
}

/// One credential and where it was written.
struct Entry {
    /// The domain as the file spells it.
    name: String,
    file: PathBuf,
    credential: Credential,
}

/// A directory's credentials, keyed by normalised host. Public (opaque) for the fuzz harness.
#[derive(Default)]
pub struct AuthDir {
    docker: BTreeMap<String, Entry>,
    auth: BTreeMap<String, Entry>,
}

pub fn lookup(ctx: &Context, dir: Option<&Path>, target: &Target) -> Outcome<Sourced> {
    let dirs: Vec<PathBuf> = match dir {
        Some(d) => vec![d.to_path_buf()],
        None => DEFAULT_DIRS.iter().map(PathBuf::from).collect(),
    };
    lookup_in(ctx, &dirs, target)
}

/// The first directory with an entry for the registry wins.
fn lookup_in(ctx: &Context, dirs: &[PathBuf], target: &Target) -> Outcome<Sourced> {
    for dir in dirs {
        let loaded = match load(dir) {
            Ok(Some(d)) => d,
            Ok(None) => {
                note!(ctx.trace, "no rkt auth.d at {}", dir.display());
                continue;
            }
            Err(e) => return Outcome::Failed(e),
        };
        let found = [("registries", &loaded.docker), ("domains", &loaded.auth)]
            .into_iter()
            .find_map(|(field, map)| Some((field, map.get(&target.registry)?)));
        if let Some((field, entry)) = found {
            return Outcome::Found(Sourced {
                credential: entry.credential.clone(),
                source: format!(
                    "rkt auth.d {} {field}[\"{}\"]",
                    entry.file.display(),
                    entry.name
                ),
            });
        }
    }
    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Outcome::Missing(format!(
        "no rkt auth.d entry for {} in {}",
        target.registry,
        shown.join(", ")
    ))
}

/// Reads every `*.json` of `dir`, in name order; a missing directory is `Ok(None)`.
fn load(dir: &Path) -> Result<Option<AuthDir>, Error> {
    let cannot = |e: std::io::Error| Error::new(format!("cannot read {}: {e}", dir.display()));
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let mut files = Vec::new();
    for item in listing {
        let path = item.map_err(cannot)?.path();
        // rkt reads regular files (or links to them) named *.json and ignores the rest.
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut loaded = AuthDir::default();
    for file in files {
        let Some(bytes) = read_capped(&file)? else {
            continue; // removed while we were reading: nothing to use
        };
        add_file(&mut loaded, &file, &bytes)?;
    }
    Ok(Some(loaded))
}

/// Adds one `auth.d` file's credentials to `dir`. Public for the fuzz harness.
pub fn add_file(dir: &mut AuthDir, file: &Path, bytes: &[u8]) -> Result<(), Error> {
    let bad = |what: String| {
        Error::new(format!("rkt auth.d file {}: {what}", file.display())).hint(
            "see rkt's auth.d documentation for the rktKind \"auth\" and \"dockerAuth\" formats",
        )
    };
    let json_error = |e: serde_json::Error| bad(describe_json(&e));
    let header: Header = serde_json::from_slice(bytes).map_err(json_error)?;
    match header.version.as_deref() {
        Some("v1") => {}
        Some(v) => {
            return Err(bad(format!(
                "rktVersion {v:?} is not supported (expected \"v1\")"
            )));
        }
        None => return Err(bad("no rktVersion".into())),
    }
    let (field, names, credential, map) = match header.kind.as_deref() {
        Some("auth") => {
            let auth: AuthV1 = serde_json::from_slice(bytes).map_err(json_error)?;
            let credential = match auth.kind.as_deref() {
                Some("basic") => basic(auth.credentials).map_err(bad)?,
                Some("oauth") => match auth.credentials.token.filter(|t| !t.is_empty()) {
                    Some(token) => Credential::RegistryToken(token),
                    None => return Err(bad("type \"oauth\" needs credentials.token".into())),
                },
                Some(other) => {
                    return Err(bad(format!(
                        "auth type {other:?} is unknown (expected \"basic\" or \"oauth\")"
                    )));
                }
                None => return Err(bad("no auth \"type\" (\"basic\" or \"oauth\")".into())),
            };
            ("domains", auth.domains, credential, &mut dir.auth)
        }
        Some("dockerAuth") => {
            let auth: DockerAuthV1 = serde_json::from_slice(bytes).map_err(json_error)?;
            let credential = basic(auth.credentials).map_err(bad)?;
            ("registries", auth.registries, credential, &mut dir.docker)
        }
        Some(other) => {
            return Err(bad(format!(
                "rktKind {other:?} does not belong in auth.d (expected \"auth\" or \"dockerAuth\")"
            )));
        }
        None => return Err(bad("no rktKind".into())),
    };
    if names.is_empty() {
        return Err(bad(format!("no {field} listed")));
    }
    for name in names {
        let key = normalize_key(&name);
        if let Some(first) = map.get(&key) {
            return Err(Error::new(format!(
                "rkt auth.d: {field} entry {name:?} is in both {} and {}",
                first.file.display(),
                file.display()
            ))
            .hint("keep one credential per domain in a directory"));
        }
        map.insert(
            key,
            Entry {
                name,
                file: file.to_path_buf(),
                credential: credential.clone(),
            },
        );
    }
    Ok(())
}

fn basic(credentials: Credentials) -> Result<Credential, String> {
    match (credentials.user, credentials.password) {
        (Some(user), Some(password)) if !user.is_empty() && !password.is_empty() => {
            Ok(Credential::Basic {
                username: user,
                password,
            })
        }
        _ => Err("credentials need a non-empty \"user\" and \"password\"".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;
    use crate::kernel::trace::Trace;

    fn load_files(files: &[(&str, &str)]) -> Result<AuthDir, String> {
        let mut dir = AuthDir::default();
        for (name, json) in files {
            add_file(&mut dir, Path::new(name), json.as_bytes()).map_err(|e| e.to_string())?;
        }
        Ok(dir)
    }

    #[test]
    fn both_kinds_are_read() {
        let dir = load_files(&[
            (
                "a.json",
                r#"{"rktKind":"auth","rktVersion":"v1","domains":["https://quay.io/v1/","Example.com:5000"],"type":"basic","credentials":{"user":"u","password":"p"}}"#,
            ),
            (
                "b.json",
                r#"{"rktKind":"auth","rktVersion":"v1","domains":["tokens.io"],"type":"oauth","credentials":{"token":"t"}}"#,
            ),
            (
                "c.json",
                r#"{"rktKind":"dockerAuth","rktVersion":"v1","registries":["quay.io","docker.io"],"credentials":{"user":"u","password":"p"}}"#,
            ),
        ])
        .unwrap();
        assert_eq!(
            dir.auth.keys().collect::<Vec<_>>(),
            ["example.com:5000", "quay.io", "tokens.io"]
        );
        assert!(matches!(
            dir.auth["tokens.io"].credential,
            Credential::RegistryToken(_)
        ));
        assert_eq!(
            dir.docker.keys().collect::<Vec<_>>(),
            ["index.docker.io", "quay.io"]
        );
    }

    #[test]
    fn malformed_files_are_errors_naming_the_file() {
        let canary = "hunter2-canary";
        let auth = |rest: &str| format!(r#"{{"rktKind":"auth","rktVersion":"v1",{rest}}}"#);
        let cases = [
            (
                format!(
                    r#"{{"rktKind":"auth","rktVersion":"v1","credentials":{{"password":"{canary}""#
                ),
                "truncated JSON",
            ),
            (
                format!(r#"{{"rktKind":"auth","credentials":{{"password":"{canary}"}}}}"#),
                "no rktVersion",
            ),
            (
                r#"{"rktKind":"paths","rktVersion":"v1"}"#.to_string(),
                "rktKind \"paths\"",
            ),
            (
                auth(&format!(
                    r#""domains":["a.io"],"type":"digest","credentials":{{"password":"{canary}"}}"#
                )),
                "auth type \"digest\"",
            ),
            (
                auth(&format!(
                    r#""domains":["a.io"],"type":"basic","credentials":{{"password":"{canary}"}}"#
                )),
                "\"user\" and \"password\"",
            ),
            (
                auth(r#""domains":["a.io"],"type":"oauth","credentials":{}"#),
                "credentials.token",
            ),
            (
                auth(r#""type":"oauth","credentials":{"token":"t"}"#),
                "no domains listed",
            ),
            (
                auth(&format!(
                    r#""domains":"a.io","type":"oauth","credentials":{{"token":"{canary}"}}"#
                )),
                "unexpected structure",
            ),
        ];
        for (json, want) in cases {
            let err = load_files(&[("/d/x.json", &json)])
                .err()
                .unwrap_or_default();
            assert!(
                err.contains(want) && err.contains("/d/x.json"),
                "{json}: {err}"
            );
            assert!(!err.contains(canary), "{err}");
        }
    }

    #[test]
    fn a_domain_twice_names_both_files() {
        let entry = |domain: &str| {
            format!(
                r#"{{"rktKind":"auth","rktVersion":"v1","domains":["{domain}"],"type":"oauth","credentials":{{"token":"t"}}}}"#
            )
        };
        let err = load_files(&[
            ("/d/a.json", &entry("quay.io")),
            ("/d/b.json", &entry("https://quay.io")),
        ])
        .err()
        .unwrap_or_default();
        assert!(
            err.contains("/d/a.json") && err.contains("/d/b.json"),
            "{err}"
        );
        // Different kinds are separate namespaces, as in rkt.
        let docker = r#"{"rktKind":"dockerAuth","rktVersion":"v1","registries":["quay.io"],"credentials":{"user":"u","password":"p"}}"#;
        assert!(load_files(&[("/d/a.json", &entry("quay.io")), ("/d/b.json", docker)]).is_ok());
    }

    #[test]
    fn the_system_directory_overrides_the_vendor_one_per_domain() {
        let root = tempfile::tempdir().unwrap();
        let (system, vendor) = (root.path().join("etc"), root.path().join("usr"));
        let write = |dir: &Path, name: &str, domain: &str, user: &str| {
            std::fs::create_dir_all(dir).unwrap();
            let json = format!(
                r#"{{"rktKind":"dockerAuth","rktVersion":"v1","registries":["{domain}"],"credentials":{{"user":"{user}","password":"p"}}}}"#
            );
            std::fs::write(dir.join(name), json).unwrap();
        };
        write(&system, "a.json", "quay.io", "system");
        write(&vendor, "a.json", "quay.io", "vendor");
        write(&vendor, "b.json", "ghcr.io", "vendor");
        std::fs::write(vendor.join("notes.txt"), "not json").unwrap();
        let ctx = Context::new(test_env(&[]), Trace::silent());
        let user = |registry: &str| {
            let url = format!("https://{registry}/v2/a/manifests/1");
            let target = Target::from_url(&url::Url::parse(&url).unwrap()).unwrap();
            match lookup_in(&ctx, &[system.clone(), vendor.clone()], &target) {
                Outcome::Found(Sourced {
                    credential: Credential::Basic { username, .. },
                    source,
                }) => Some((username, source)),
                _ => None,
            }
        };
        let (who, source) = user("quay.io").unwrap();
        assert_eq!(who, "system");
        assert!(
            source
                .replace('\\', "/")
                .ends_with(r#"etc/a.json registries["quay.io"]"#),
            "{source}"
        );
        assert_eq!(user("ghcr.io").unwrap().0, "vendor");
        assert_eq!(user("gcr.io"), None);
    }
}

//! The `AWS_PROFILE` profile (default `default`) of the shared files: static keys, a role
//! assumed from a `source_profile` (or `credential_source`), a web identity token file, an
//! IAM Identity Center (SSO) role, or a `credential_process`. Keys in the credentials file win
//! over the config file's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::credentials::{Credentials, JsonCredentials, cached, from_env};
use super::{ini, metadata, sso, sts};
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::outcome::Outcome;
use crate::note;

/// `source_profile` chains longer than this are refused (they are loops in practice).
const MAX_DEPTH: usize = 4;
const PROCESS_TIMEOUT: Duration = Duration::from_secs(5);

type Profile = BTreeMap<String, String>;

struct Profiles {
    profiles: BTreeMap<String, Profile>,
    /// `[sso-session x]` sections of the config file.
    sso_sessions: BTreeMap<String, Profile>,
    /// Both files, for messages.
    files: String,
}

pub fn lookup(ctx: &Context) -> Outcome<Credentials> {
    let explicit = ctx.env.var(vars::AWS_PROFILE);
    let name = explicit.unwrap_or("default");
    let profiles = match load(ctx) {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(e),
    };
    let Some(profile) = profiles.profiles.get(name) else {
        return match explicit {
            Some(_) => Outcome::Failed(
                Error::new(format!("AWS_PROFILE {name:?} is not in {}", profiles.files)).hint(
                    "check the profile name, or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE",
                ),
            ),
            None => Outcome::Missing(format!("no profile \"default\" in {}", profiles.files)),
        };
    };
    // A default profile with only settings (region) is common; the chain goes on.
    if explicit.is_none() && !has_credentials(profile) {
        return Outcome::Missing(format!(
            "profile \"default\" in {} holds no credentials",
            profiles.files
        ));
    }
    match resolve(ctx, &profiles, name, 0) {
        Ok(c) => Outcome::Found(c),
        Err(e) => Outcome::Failed(e.context(format!("aws profile {name:?}"))),
    }
}

fn has_credentials(p: &Profile) -> bool {
    [
        "aws_access_key_id",
        "role_arn",
        "credential_process",
        "sso_account_id",
    ]
    .iter()
    .any(|k| p.contains_key(*k))
}

/// The shared config and credentials files (`$AWS_CONFIG_FILE`, else `~/.aws/config`;
/// `$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), which may not exist.
pub fn shared_files(env: &Env) -> [Option<PathBuf>; 2] {
    let path = |var: &str, default: &str| -> Option<PathBuf> {
        match env.var(var) {
            Some(p) => Some(env.expand_path(p)),
            None => env.home().map(|h| h.join(default)),
        }
    };
    [
        path(vars::AWS_CONFIG_FILE, ".aws/config"),
        path(vars::AWS_SHARED_CREDENTIALS_FILE, ".aws/credentials"),
    ]
}

fn load(ctx: &Context) -> Result<Profiles> {
    let [config, credentials] = shared_files(&ctx.env);
    let mut profiles: BTreeMap<String, Profile> = BTreeMap::new();
    let mut sso_sessions = BTreeMap::new();
    let mut files = Vec::new();
    for (path, is_config) in [(&config, true), (&credentials, false)] {
        let Some(path) = path else { continue };
        files.push(path.display().to_string());
        let Some(text) = files::read_text(path)? else {
            continue;
        };
        for (section, keys) in ini::parse(&text) {
            // The config file names profiles `[profile x]` (and `[default]`).
            let name = if is_config {
                if let Some(session) = section.strip_prefix("sso-session ") {
                    sso_sessions.insert(session.trim().to_string(), keys);
                    continue;
                }
                match section.strip_prefix("profile ") {
                    Some(n) => n.trim().to_string(),
                    None if section == "default" => section,
                    None => continue,
                }
            } else {
                section
            };
            profiles.entry(name).or_default().extend(keys);
        }
    }
    Ok(Profiles {
        profiles,
        sso_sessions,
        files: files.join(" and "),
    })
}

fn resolve(ctx: &Context, profiles: &Profiles, name: &str, depth: usize) -> Result<Credentials> {
    if depth > MAX_DEPTH {
        return Err(Error::new(format!(
            "source_profile chain longer than {MAX_DEPTH} at {name:?} (a loop?)"
        )));
    }
    let profile = profiles.profiles.get(name).ok_or_else(|| {
        Error::new(format!(
            "source profile {name:?} is not in {}",
            profiles.files
        ))
    })?;
    let get = |k: &str| profile.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let source = |what: &str| format!("profile {name} ({what})");
    if let Some(arn) = get("role_arn") {
        let role = sts::Role {
            arn,
            session_name: get("role_session_name"),
            region: get("region"),
        };
        if let Some(file) = get("web_identity_token_file") {
            return sts::web_identity(ctx, &role, file);
        }
        let from = match (get("source_profile"), get("credential_source")) {
            // A profile may name itself to take its own static keys.
            (Some(src), _) if src == name => static_keys(profile, source("static keys"))?,
            (Some(src), _) => resolve(ctx, profiles, src, depth + 1)?,
            (None, Some(cs)) => credential_source(ctx, cs)?,
            (None, None) => {
                return Err(Error::new(format!(
                    "role_arn without source_profile or credential_source in profile {name}"
                )));
            }
        };
        note!(ctx.trace, "aws profile {name}: assuming {arn}");
        return sts::assume_role(ctx, &from, &role);
    }
    // As the AWS SDKs look: an assumed role, then SSO, then the rest.
    if profile.keys().any(|k| k.starts_with("sso_")) {
        return sso_role(ctx, profiles, name, profile);
    }
    if let Some(command) = get("credential_process") {
        // Temporary credentials (with an Expiration) are kept, so that a build's processes
        // run the command once, not once per download.
        let parts = ["credential_process", name, command];
        return cached(ctx, &parts, || {
            credential_process(ctx, command, source("credential_process"))
        });
    }
    if profile.contains_key("aws_access_key_id") {
        return static_keys(profile, source("static keys"));
    }
    Err(Error::new(format!("profile {name} holds no credentials")).hint(
        "add aws_access_key_id/aws_secret_access_key, role_arn, sso_session or credential_process",
    ))
}

/// An SSO profile: `sso_session` naming an `[sso-session x]` section, or the legacy form with
/// `sso_start_url` and `sso_region` in the profile itself.
fn sso_role(
    ctx: &Context,
    profiles: &Profiles,
    name: &str,
    profile: &Profile,
) -> Result<Credentials> {
    let get = |k: &str| profile.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let missing = |key: &str| Error::new(format!("SSO profile {name} has no {key}"));
    let account_id = get("sso_account_id").ok_or_else(|| missing("sso_account_id"))?;
    let role_name = get("sso_role_name").ok_or_else(|| missing("sso_role_name"))?;
    let (region, token_name) = match get("sso_session") {
        Some(session) => {
            let section = profiles.sso_sessions.get(session).ok_or_else(|| {
                Error::new(format!(
                    "profile {name} names sso_session {session:?}, which has no                      [sso-session {session}] section in {}",
                    profiles.files
                ))
            })?;
            let region = section
                .get("sso_region")
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::new(format!("[sso-session {session}] has no sso_region")))?;
            (region, session)
        }
        None => (
            get("sso_region").ok_or_else(|| missing("sso_region (or sso_session)"))?,
            get("sso_start_url").ok_or_else(|| missing("sso_start_url (or sso_session)"))?,
        ),
    };
    sso::credentials(
        ctx,
        &sso::Role {
            profile: name,
            account_id,
            role_name,
            region,
            token_name,
        },
    )
}

fn static_keys(profile: &Profile, source: String) -> Result<Credentials> {
    let get = |k: &str| profile.get(k).map(String::as_str).filter(|v| !v.is_empty());
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(Credentials::new(
            id,
            secret,
            get("aws_session_token"),
            source,
        )),
        _ => Err(Error::new(format!(
            "{source}: aws_access_key_id and aws_secret_access_key must both be set"
        ))),
    }
}

/// `credential_source` of a role profile: where the source credentials come from.
fn credential_source(ctx: &Context, name: &str) -> Result<Credentials> {
    let outcome = match name {
        "Environment" => from_env(&ctx.env),
        "EcsContainer" => metadata::container(ctx),
        "Ec2InstanceMetadata" => metadata::instance(ctx),
        other => {
            return Err(Error::new(format!(
                "unknown credential_source {other:?} (expected Environment, EcsContainer or Ec2InstanceMetadata)"
            )));
        }
    };
    match outcome {
        Outcome::Found(c) => Ok(c),
        Outcome::Missing(why) => Err(Error::new(format!("credential_source {name}: {why}"))),
        Outcome::Failed(e) => Err(e.context(format!("credential_source {name}"))),
    }
}

/// Runs the command through the platform's shell (`sh -c`; `cmd.exe /c` on Windows, as the
/// AWS SDKs do) and reads its JSON.
fn credential_process(ctx: &Context, command: &str, source: String) -> Result<Credentials> {
    note!(ctx.trace, "aws: running credential_process");
    // Named by what it is, not by the command: that is a config value.
    let output =
        crate::kernel::process::run_shell(ctx, "credential_process", command, b"", PROCESS_TIMEOUT)
            .map_err(|e| e.context(&source))?;
    if !output.success() {
        return Err(output
            .failure()
            .hint("run the command by hand to see its error")
            .context(&source));
    }
    #[derive(serde::Deserialize)]
    struct Version {
        #[serde(rename = "Version")]
        version: Option<u32>,
    }
    let version = serde_json::from_slice::<Version>(&output.stdout)
        .ok()
        .and_then(|v| v.version);
    if version != Some(1) {
        return Err(Error::new(format!(
            "{source} printed no JSON with \"Version\": 1"
        )));
    }
    JsonCredentials::parse(&output.stdout, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;
    use crate::kernel::trace::Trace;

    fn ctx(dir: &std::path::Path, extra: &[(&str, &str)]) -> Context {
        let home = dir.to_str().unwrap();
        let mut vars = vec![("HOME", home), ("CREDENTIAL_HELPER_CACHE", "off")];
        vars.extend_from_slice(extra);
        Context::new(test_env(&vars), Trace::silent())
    }

    #[test]
    fn profiles_from_both_files_with_credentials_file_winning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(
            dir.path().join(".aws/config"),
            "[default]\nregion = us-east-1\n[profile dev]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = s1\n[ignored]\naws_access_key_id = X\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".aws/credentials"),
            "[dev]\naws_access_key_id = FROMCREDS\n[loop]\nrole_arn = arn:x\nsource_profile = loop2\n[loop2]\nrole_arn = arn:y\nsource_profile = loop\n",
        )
        .unwrap();
        // The default profile holds only a region: not an error, just nothing.
        assert!(matches!(lookup(&ctx(dir.path(), &[])), Outcome::Missing(_)));
        let Outcome::Found(c) = lookup(&ctx(dir.path(), &[("AWS_PROFILE", "dev")])) else {
            panic!()
        };
        assert_eq!(c.access_key_id, "FROMCREDS");
        assert_eq!(c.secret_access_key.expose(), "s1");
        assert!(matches!(
            lookup(&ctx(dir.path(), &[("AWS_PROFILE", "ignored")])),
            Outcome::Failed(_)
        ));
        let Outcome::Failed(e) = lookup(&ctx(dir.path(), &[("AWS_PROFILE", "loop")])) else {
            panic!()
        };
        assert!(e.to_string().contains("a loop?"), "{e}");
    }
}

//! GitHub tokens: `GHCR_TOKEN`, `GH_TOKEN`, `GITHUB_TOKEN`, then the gh CLI's `hosts.yml`
//! (in gh's config directory: `$GH_CONFIG_DIR`, else `$XDG_CONFIG_HOME/gh`, else
//! `%AppData%\GitHub CLI` on Windows, else `~/.config/gh`), then `gh auth token`: gh 2.24 and
//! later keep the token in the OS keyring (the macOS Keychain, Windows Credential Manager,
//! the Secret Service), and `hosts.yml` then names only the user.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::kernel::context::Context;
use crate::kernel::env::Env;
use crate::kernel::error::Error;
use crate::kernel::files;
use crate::kernel::outcome::Outcome;
use crate::kernel::process;
use crate::kernel::secret::{Secret, has_control_character};
use crate::note;

/// A token and where it came from.
#[derive(Debug, Clone)]
pub struct GithubToken {
    pub token: Secret,
    /// The account, when the source knows it.
    pub user: Option<String>,
    pub source: String,
}

#[derive(Deserialize)]
struct HostEntry {
    #[serde(default)]
    oauth_token: Option<Secret>,
    #[serde(default)]
    user: Option<String>,
}

/// gh's `hosts.yml`, which may not exist.
pub fn hosts_file(env: &Env) -> Option<PathBuf> {
    env.gh_config_dir().map(|d| d.join("hosts.yml"))
}

/// [`token`], then, when that finds none (and `hosts.yml` is not broken), what
/// `gh auth token --hostname <host>` prints: a gh that is not on PATH, fails, is logged out or
/// prints no token is nothing found, and its output is never quoted.
pub fn token_or_gh(ctx: &Context, env_names: &[&str], host: &str) -> Outcome<GithubToken> {
    match token(&ctx.env, env_names, host) {
        Outcome::Missing(why) => match gh_auth_token(ctx, host) {
            Ok(found) => Outcome::Found(found),
            Err(why_not) => Outcome::Missing(format!("{why}; {why_not}")),
        },
        other => other,
    }
}

fn gh_auth_token(ctx: &Context, host: &str) -> Result<GithubToken, String> {
    let Some(program) = ctx.env.which("gh") else {
        return Err("no gh on PATH".into());
    };
    let label = "gh auth token";
    note!(ctx.trace, "github: running {label} --hostname {host}");
    let out = process::run(
        ctx,
        label,
        &program,
        &["auth", "token", "--hostname", host],
        b"",
        process::DEFAULT_TIMEOUT,
    )
    .map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(out.failure().to_string());
    }
    let token = std::str::from_utf8(&out.stdout)
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace) && !has_control_character(t))
        .ok_or(format!("{label} printed no token"))?;
    Ok(GithubToken {
        token: Secret::new(token),
        user: None,
        source: format!("{label} ({host})"),
    })
}

/// The token for `host` (`github.com`) from `env_names` in order, then gh's `hosts.yml`.
pub fn token(env: &Env, env_names: &[&str], host: &str) -> Outcome<GithubToken> {
    for name in env_names {
        if let Some(value) = env.var(name) {
            return Outcome::Found(GithubToken {
                token: Secret::new(value),
                user: None,
                source: format!("env {name}"),
            });
        }
    }
    let Some(path) = hosts_file(env) else {
        return Outcome::Missing("no home directory for gh's hosts.yml".into());
    };
    let text = match files::read_text(&path) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Outcome::Missing(format!(
                "{} not set and no {}",
                env_names.join(", "),
                path.display()
            ));
        }
        Err(e) => return Outcome::Failed(e),
    };
    let hosts: BTreeMap<String, HostEntry> = match serde_yaml_ng::from_str(&text) {
        Ok(h) => h,
        Err(e) => {
            // The location only: the file holds tokens.
            let at = e
                .location()
                .map(|l| format!(" at line {} column {}", l.line(), l.column()))
                .unwrap_or_default();
            return Outcome::Failed(Error::new(format!(
                "{} is not valid gh hosts.yml{at}",
                path.display()
            )));
        }
    };
    match hosts.get(host) {
        Some(HostEntry {
            oauth_token: Some(token),
            user,
        }) if !token.is_empty() => Outcome::Found(GithubToken {
            token: token.clone(),
            user: user.clone(),
            source: format!("{} ({host})", path.display()),
        }),
        // Newer gh keeps the token in the OS keyring; hosts.yml then has only the user.
        _ => Outcome::Missing(format!("no oauth_token for {host} in {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    #[test]
    fn env_first_then_gh_hosts_yml() {
        let dir = tempfile::tempdir().unwrap();
        let gh = dir.path().join("gh");
        std::fs::create_dir_all(&gh).unwrap();
        std::fs::write(
            gh.join("hosts.yml"),
            "github.com:\n    users:\n        octo:\n            oauth_token: gho_users\n    git_protocol: https\n    user: octo\n    oauth_token: gho_abc\n",
        )
        .unwrap();
        let gh_dir = gh.to_str().unwrap();
        let env = test_env(&[("GH_CONFIG_DIR", gh_dir), ("GH_TOKEN", "from-env")]);
        let Outcome::Found(t) = token(&env, &["GHCR_TOKEN", "GH_TOKEN"], "github.com") else {
            panic!()
        };
        assert_eq!(
            (t.token.expose(), t.source.as_str()),
            ("from-env", "env GH_TOKEN")
        );
        let env = test_env(&[("GH_CONFIG_DIR", gh_dir)]);
        let Outcome::Found(t) = token(&env, &["GH_TOKEN"], "github.com") else {
            panic!()
        };
        assert_eq!(
            (t.token.expose(), t.user.as_deref()),
            ("gho_abc", Some("octo"))
        );
        assert!(matches!(token(&env, &[], "ghe.corp"), Outcome::Missing(_)));
        std::fs::write(
            gh.join("hosts.yml"),
            "github.com: [unclosed\n  oauth_token: secret-value",
        )
        .unwrap();
        let Outcome::Failed(e) = token(&env, &[], "github.com") else {
            panic!()
        };
        assert!(
            e.to_string().contains("not valid gh hosts.yml")
                && !e.to_string().contains("secret-value")
        );
    }
}

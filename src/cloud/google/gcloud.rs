//! `gcloud config config-helper`: the token of the account gcloud is logged in as.

use std::path::PathBuf;

use super::oauth::{AccessToken, cached, found_or_failed};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::env::Env;
use crate::kernel::error::{Error, Result, describe_json};
use crate::kernel::files;
use crate::kernel::outcome::Outcome;
use crate::kernel::process;
use crate::kernel::secret::{Secret, has_control_character};
use crate::kernel::token::parse_rfc3339;
use crate::kernel::token::safety_margin;
use crate::note;
use serde::Deserialize;

/// `CLOUDSDK_CONFIG`, else `%APPDATA%\gcloud` on Windows, else `~/.config/gcloud`.
pub(super) fn config_dir(env: &Env) -> Option<PathBuf> {
    env.gcloud_config_dir()
}

#[derive(Deserialize)]
struct ConfigHelper {
    credential: GcloudCredential,
}

#[derive(Deserialize)]
struct GcloudCredential {
    access_token: Option<Secret>,
    #[serde(default)]
    token_expiry: Option<String>,
}

/// `gcloud config config-helper`: gcloud's own login, refreshed by gcloud.
pub(super) fn token(ctx: &Context, scope: &str) -> Outcome<AccessToken> {
    let Some(program) = ctx.env.which("gcloud") else {
        return Outcome::Missing("no gcloud on PATH".into());
    };
    // gcloud's account lives in its config; a switch of account must not reuse a token.
    let account = config_dir(&ctx.env)
        .map(|dir| {
            let active = files::read_text(&dir.join("active_config"))
                .ok()
                .flatten()
                .unwrap_or_default();
            let active = active.trim();
            let name = if active.is_empty() { "default" } else { active };
            let config = files::read_text(&dir.join(format!("configurations/config_{name}")))
                .ok()
                .flatten()
                .unwrap_or_default();
            format!("{}\0{active}\0{config}", dir.display())
        })
        .unwrap_or_default();
    let key = Key::new(&["google-gcloud", &Secret::new(account).fingerprint(), scope]);
    let what = "gcloud config config-helper";
    found_or_failed(cached(ctx, &key, what.to_string(), || {
        note!(ctx.trace, "google: running {what}");
        let out = process::run(
            ctx,
            what,
            &program,
            &["config", "config-helper", "--format=json(credential)"],
            b"",
            process::DEFAULT_TIMEOUT,
        )?;
        if !out.success() {
            return Err(out.failure().hint(
                "run `gcloud config config-helper` by hand to see why; `gcloud auth login` logs in, or set GOOGLE_APPLICATION_CREDENTIALS",
            ));
        }
        parse_config_helper(&out.stdout, ctx.env.now())
            .map_err(|why| Error::new(format!("{what} {why}")))
    }))
}

/// gcloud's answer: the token and its RFC 3339 expiry (an hour when absent). Public for the
/// fuzz harness.
pub fn parse_config_helper(stdout: &[u8], now: i64) -> Result<(Secret, i64), String> {
    let parsed: ConfigHelper = serde_json::from_slice(stdout)
        .map_err(|e| format!("printed unexpected output ({})", describe_json(&e)))?;
    let token = parsed
        .credential
        .access_token
        .filter(|t| !t.is_empty() && !has_control_character(t.expose()))
        .ok_or("printed no access token; is gcloud logged in?")?;
    let expiry = parsed
        .credential
        .token_expiry
        .as_deref()
        .and_then(parse_rfc3339)
        .unwrap_or(now + 3600);
    let lifetime = expiry - now;
    if lifetime <= 0 {
        return Err("printed an expired token".into());
    }
    Ok((token, expiry - safety_margin(lifetime)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_helper_output() {
        let now = 1_800_000_000;
        let out = br#"{"credential": {"access_token": "ya29.x", "id_token": "i", "token_expiry": "2027-01-15T09:00:00Z"}}"#;
        let (token, expires) = parse_config_helper(out, now).unwrap();
        let expiry = parse_rfc3339("2027-01-15T09:00:00Z").unwrap();
        assert_eq!(token.expose(), "ya29.x");
        assert_eq!(expires, expiry - safety_margin(expiry - now));
        let (_, expires) =
            parse_config_helper(br#"{"credential":{"access_token":"t"}}"#, now).unwrap();
        assert_eq!(expires, now + 3600 - 360);
        assert!(parse_config_helper(br#"{"credential":{}}"#, now).is_err());
        assert!(
            parse_config_helper(
                br#"{"credential":{"access_token":"t","token_expiry":"2020-01-01T00:00:00Z"}}"#,
                now
            )
            .is_err()
        );
        assert!(parse_config_helper(b"ERROR", now).is_err());
    }
}

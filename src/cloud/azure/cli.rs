//! The Azure CLI's login: `az account get-access-token`.

use std::path::Path;

use crate::kernel::context::Context;
use crate::kernel::error::Error;
use crate::kernel::outcome::Outcome;
use crate::kernel::process;
use crate::kernel::secret::{Secret, has_control_character};
use crate::kernel::token::{self, safety_margin};
use crate::note;
use serde::Deserialize;

/// Entra tokens live at least an hour; an older Azure CLI's answer states the expiry only in
/// local time, so its token is kept for a conservative five minutes.
const CLI_LIFETIME_WITHOUT_EXPIRY: i64 = 300;

/// `az account get-access-token`: the CLI refreshes its own login.
pub(super) fn azure_cli(
    ctx: &Context,
    program: &Path,
    tenant: Option<&str>,
    resource: &str,
) -> Outcome<(Secret, i64)> {
    let mut args = vec![
        "account",
        "get-access-token",
        "--output",
        "json",
        "--resource",
        resource,
    ];
    if let Some(tenant) = tenant {
        args.extend(["--tenant", tenant]);
    }
    note!(ctx.trace, "azure: running az account get-access-token");
    let label = "az account get-access-token";
    let out = match process::run(ctx, label, program, &args, b"", process::DEFAULT_TIMEOUT) {
        Ok(out) => out,
        Err(e) => return Outcome::Failed(e),
    };
    if !out.success() {
        return Outcome::Failed(out.failure().hint(
            "run `az login`, or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET",
        ));
    }
    match parse_cli_token(&out.stdout, ctx.env.now()) {
        Ok(t) => Outcome::Found(t),
        Err(why) => Outcome::Failed(Error::new(format!("az account get-access-token {why}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: Option<Secret>,
    /// Unix seconds (Azure CLI 2.54 and later).
    #[serde(default, rename = "expires_on")]
    expires_on: Option<serde_json::Value>,
}

/// The CLI's answer. Older CLIs give only `expiresOn` in local time, which cannot be read
/// without the time zone: their tokens are kept for `CLI_LIFETIME_WITHOUT_EXPIRY`. Public for
/// the fuzz harness.
pub fn parse_cli_token(stdout: &[u8], now: i64) -> Result<(Secret, i64), String> {
    let parsed: CliToken = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "printed unexpected output (line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    let token = parsed
        .access_token
        .filter(|t| !t.is_empty() && !has_control_character(t.expose()))
        .ok_or("printed no accessToken")?;
    let lifetime = match parsed.expires_on.as_ref().and_then(token::seconds) {
        Some(on) if on > now => (on - now).min(86400),
        Some(_) => return Err("printed an expired token".into()),
        None => CLI_LIFETIME_WITHOUT_EXPIRY,
    };
    Ok((token, now + lifetime - safety_margin(lifetime)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_cli_answers() {
        let now = 1_000_000;
        let parse = |json: &str| parse_cli_token(json.as_bytes(), now);
        let (token, expires) =
            parse(r#"{"accessToken":"t","expires_on":1003600,"expiresOn":"x"}"#).unwrap();
        assert_eq!((token.expose(), expires), ("t", 1_003_600 - 360));
        // As a string, as some versions print it.
        let (_, expires) = parse(r#"{"accessToken":"t","expires_on":"1003600"}"#).unwrap();
        assert_eq!(expires, 1_003_600 - 360);
        // Only the local-time `expiresOn`: five minutes.
        let (_, expires) =
            parse(r#"{"accessToken":"t","expiresOn":"2026-11-23 14:00:00"}"#).unwrap();
        assert_eq!(expires, now + 300 - 30);
        assert!(parse(r#"{"accessToken":"t","expires_on":999999}"#).is_err());
        assert!(parse(r#"{"expires_on":1003600}"#).is_err());
        let e = parse(r#"{"accessToken":"hunter2"#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }
}

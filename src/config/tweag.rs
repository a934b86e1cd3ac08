//! Configs written for tweag/credential-helper: its file name, and its helper names and
//! options rewritten onto ours before an entry is validated. `docs/migrating-from-tweag.md`
//! lists every rewrite; an option with no equivalent here is a problem that says so, never a
//! silently dropped credential.

use serde_json::{Map, Value, json};

use crate::kernel::env::vars;

/// tweag/credential-helper's config file name, read when ours is absent.
pub const FILE_NAME: &str = ".tweag-credential-helper.json";

/// What an entry's helper means here: our name, and the tweag name it was written as.
pub struct Translated {
    pub helper: String,
    pub alias: Option<&'static str>,
}

/// tweag's helper names that differ from ours.
const HELPERS: &[(&str, &str)] = &[("remoteapis", "header"), ("azstorage", "azblob")];

/// tweag's s3 lookup-chain bindings and ours (`Err`: no equivalent, and what to do).
const S3_BINDINGS: &[(&str, Result<&str, &str>)] = &[
    ("aws-access-key-id", Ok("access_key_id")),
    ("aws-secret-access-key", Ok("secret_access_key")),
    ("aws-session-token", Ok("session_token")),
    (
        "aws-default-region",
        Err("set the entry's \"region\" instead"),
    ),
    (
        "cloudflare-api-token",
        Err(
            "create an R2 API token's access key pair and bind it to access_key_id and secret_access_key",
        ),
    ),
];

/// Rewrites `helper` and its `config` (the entry's object, or `{}`) in place; `host` is the
/// entry's host pattern, which picks tweag's per-service defaults for `remoteapis`.
pub fn translate(
    helper: &str,
    host: Option<&str>,
    config: &mut Value,
) -> Result<Translated, String> {
    let alias = HELPERS.iter().find(|(tweag, _)| *tweag == helper);
    let ours = alias.map_or(helper, |(_, ours)| ours).to_string();
    if let Value::Object(obj) = config {
        match helper {
            "github" => rename(obj, "read_config_file", "parse_gh_config")?,
            "remoteapis" => remoteapis(obj, host)?,
            _ => {}
        }
        if let Some(Value::Array(chain)) = obj.get_mut("lookup_chain") {
            for (i, source) in chain.iter_mut().enumerate() {
                lookup_source(source, ours == "s3")
                    .map_err(|e| format!("lookup_chain[{i}]: {e}"))?;
            }
        }
    }
    Ok(Translated {
        helper: ours,
        alias: alias.map(|(tweag, _)| *tweag),
    })
}

/// tweag's `read_config_file` is our `parse_gh_config`: both read gh's `hosts.yml`.
fn rename(obj: &mut Map<String, Value>, from: &str, to: &str) -> Result<(), String> {
    let Some(value) = obj.remove(from) else {
        return Ok(());
    };
    if obj.contains_key(to) {
        return Err(format!(
            "{from} (tweag/credential-helper's name) and {to} are the same option: keep one"
        ));
    }
    obj.insert(to.to_string(), value);
    Ok(())
}

/// `remoteapis` is our `header` helper: `auth_method` `header` (tweag's default) sends the
/// secret as is in `header_name`, `basic_auth` as `Basic base64(secret)`; without a
/// `lookup_chain`, tweag's default sources.
fn remoteapis(obj: &mut Map<String, Value>, host: Option<&str>) -> Result<(), String> {
    let buildbuddy = host.is_some_and(|h| {
        let h = h.to_ascii_lowercase();
        h == "remote.buildbuddy.io" || h.ends_with(".buildbuddy.io")
    });
    if buildbuddy && !obj.contains_key("header_name") {
        obj.insert("header_name".into(), json!("x-buildbuddy-api-key"));
    }
    match obj.remove("auth_method") {
        None => {}
        Some(Value::String(m)) if m == "header" => {}
        Some(Value::String(m)) if m == "basic_auth" => {
            obj.insert("auth_method".into(), json!("basic"));
        }
        Some(_) => {
            return Err("auth_method: must be \"header\" or \"basic_auth\" (remoteapis)".into());
        }
    }
    if !obj.contains_key("header_name") && !obj.contains_key("auth_method") {
        return Err("header_name: missing (remoteapis with auth_method \"header\" sends the secret in this header, e.g. \"x-buildbuddy-api-key\")".into());
    }
    if !obj.contains_key("lookup_chain") {
        let (env, service) = if buildbuddy {
            (
                vars::BUILDBUDDY_API_KEY,
                "tweag-credential-helper:buildbuddy_api_key",
            )
        } else {
            (
                vars::REMOTEAPIS_SECRET,
                "tweag-credential-helper:remoteapis",
            )
        };
        obj.insert(
            "lookup_chain".into(),
            json!([{"source": "env", "name": env}, {"source": "keyring", "service": service}]),
        );
    }
    Ok(())
}

/// One lookup-chain source: tweag's `static` keeps its value in `name`; its `google` source
/// has no equivalent; its s3 bindings have other names.
fn lookup_source(source: &mut Value, s3: bool) -> Result<(), String> {
    let Value::Object(obj) = source else {
        return Ok(());
    };
    match obj.get("source").and_then(Value::as_str) {
        Some("static") if !obj.contains_key("value") => {
            if let Some(value) = obj.remove("name") {
                obj.insert("value".into(), value);
            }
        }
        Some("google") => {
            return Err("the \"google\" source of tweag/credential-helper has no equivalent here (for Google APIs use the gcs or gar helper; for another service put the token in an env or file source)".into());
        }
        _ => {}
    }
    if s3
        && let Some(Value::String(binding)) = obj.get("binding")
        && let Some((tweag, ours)) = S3_BINDINGS.iter().find(|(t, _)| t == binding)
    {
        let ours = ours.map_err(|what| {
            format!("binding {tweag:?} (tweag/credential-helper) has no equivalent here ({what})")
        })?;
        obj.insert("binding".into(), json!(ours));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(helper: &str, host: Option<&str>, config: Value) -> Result<(String, Value), String> {
        let mut config = config;
        translate(helper, host, &mut config).map(|t| (t.helper, config))
    }

    #[test]
    fn rewrites_table() {
        // (helper, host, tweag config, our helper, our config)
        let table = [
            (
                "github",
                None,
                json!({"read_config_file": false}),
                "github",
                json!({"parse_gh_config": false}),
            ),
            ("azstorage", None, json!({}), "azblob", json!({})),
            (
                "oci",
                None,
                json!({"parse_docker_config": true, "token_exchange_method": "basic"}),
                "oci",
                json!({"parse_docker_config": true, "token_exchange_method": "basic"}),
            ),
            (
                "remoteapis",
                None,
                json!({"auth_method": "basic_auth", "lookup_chain": [{"source": "env", "name": "S"}]}),
                "header",
                json!({"auth_method": "basic", "lookup_chain": [{"source": "env", "name": "S"}]}),
            ),
            (
                "remoteapis",
                Some("buildbuddy.acme.com"),
                json!({"auth_method": "header", "header_name": "x-k", "lookup_chain": []}),
                "header",
                json!({"header_name": "x-k", "lookup_chain": []}),
            ),
            (
                "remoteapis",
                Some("remote.buildbuddy.io"),
                json!({}),
                "header",
                json!({"header_name": "x-buildbuddy-api-key", "lookup_chain": [
                    {"source": "env", "name": "BUILDBUDDY_API_KEY"},
                    {"source": "keyring", "service": "tweag-credential-helper:buildbuddy_api_key"}]}),
            ),
            (
                "remoteapis",
                None,
                json!({"auth_method": "basic_auth"}),
                "header",
                json!({"auth_method": "basic", "lookup_chain": [
                    {"source": "env", "name": "CREDENTIAL_HELPER_REMOTEAPIS_SECRET"},
                    {"source": "keyring", "service": "tweag-credential-helper:remoteapis"}]}),
            ),
            (
                "s3",
                None,
                json!({"lookup_chain": [{"source": "env", "name": "A", "binding": "aws-access-key-id"}, {"source": "static", "name": "v", "binding": "aws-secret-access-key"}]}),
                "s3",
                json!({"lookup_chain": [{"source": "env", "name": "A", "binding": "access_key_id"}, {"source": "static", "value": "v", "binding": "secret_access_key"}]}),
            ),
            // Ours pass through untouched.
            (
                "header",
                None,
                json!({"header_name": "x", "lookup_chain": [{"source": "static", "value": "v"}]}),
                "header",
                json!({"header_name": "x", "lookup_chain": [{"source": "static", "value": "v"}]}),
            ),
        ];
        for (helper, host, tweag, want_helper, want) in table {
            let (got_helper, got) = run(helper, host, tweag.clone()).unwrap();
            assert_eq!(
                (got_helper.as_str(), &got),
                (want_helper, &want),
                "{helper} {tweag}"
            );
        }
    }

    #[test]
    fn no_equivalent_is_a_problem_naming_the_field() {
        let table = [
            (
                "remoteapis",
                json!({"auth_method": "mtls", "header_name": "x"}),
                "auth_method",
            ),
            (
                "remoteapis",
                json!({"lookup_chain": []}),
                "header_name: missing",
            ),
            (
                "remoteapis",
                json!({"header_name": "x", "lookup_chain": [{"source": "google", "token_type": "jwt"}]}),
                "lookup_chain[0]: the \"google\" source",
            ),
            (
                "s3",
                json!({"lookup_chain": [{"source": "env", "name": "R", "binding": "aws-default-region"}]}),
                "set the entry's \"region\"",
            ),
            (
                "s3",
                json!({"lookup_chain": [{"source": "env", "name": "C", "binding": "cloudflare-api-token"}]}),
                "cloudflare-api-token",
            ),
            (
                "github",
                json!({"read_config_file": true, "parse_gh_config": true}),
                "keep one",
            ),
        ];
        for (helper, config, want) in table {
            let err = run(helper, None, config.clone()).unwrap_err();
            assert!(err.contains(want), "{helper} {config}: {err}");
        }
    }
}

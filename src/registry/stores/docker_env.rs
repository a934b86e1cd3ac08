//! `$DOCKER_AUTH_CONFIG` as docker/cli reads it (`parseEnvConfig`, `memorystore`): one JSON
//! object holding only `auths`, each entry only a non-empty `auth`; an entry is found by its
//! exact key (docker's config key for the registry). Anything else makes docker warn and use
//! its files, so a broken value is a note in the trace, never an error.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::describe_json;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::note;
use crate::registry::{Credential, Sourced};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvConfig {
    #[serde(default)]
    auths: Option<BTreeMap<String, EnvAuth>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvAuth {
    #[serde(default)]
    auth: Option<Secret>,
}

/// The variable's entries as usernames and passwords, or why docker would ignore it (never
/// quoting it: it holds secrets).
fn parse(text: &str) -> Result<BTreeMap<String, (String, Secret)>, String> {
    // serde would read a list as a struct; Go's decoder refuses one.
    if text.trim_start().starts_with('[') {
        return Err("is not a JSON object".into());
    }
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Option<EnvConfig>>();
    // Blank is docker's io.EOF and `null` decodes to nothing: no entries.
    let config = match stream.next() {
        None => None,
        Some(parsed) => parsed.map_err(|e| describe_json(&e))?,
    };
    if !text[stream.byte_offset()..].trim().is_empty() {
        return Err("holds more than one JSON object".into());
    }
    let mut entries = BTreeMap::new();
    for (key, entry) in config.and_then(|c| c.auths).unwrap_or_default() {
        let auth = entry
            .auth
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("auths[\"{key}\"] has no \"auth\""))?;
        let decoded = Credential::decode_auth(&auth)
            .map_err(|e| format!("auths[\"{key}\"]: \"auth\" {e}"))?;
        entries.insert(key, decoded);
    }
    Ok(entries)
}

/// Whether the variable holds a usable entry for `key` (then it answers before the files).
pub fn has_entry(ctx: &Context, key: &str) -> bool {
    ctx.env
        .var(vars::DOCKER_AUTH_CONFIG)
        .and_then(|text| parse(text).ok())
        .is_some_and(|entries| entries.contains_key(key))
}

/// The variable's answer for docker's config `key`; `None` sends the lookup on to the files
/// (unset, broken, or no entry with that key).
pub fn lookup(ctx: &Context, key: &str) -> Option<Outcome<Sourced>> {
    let text = ctx
        .env
        .var(vars::DOCKER_AUTH_CONFIG)
        .filter(|v| !v.is_empty())?;
    let mut entries = match parse(text) {
        Ok(entries) => entries,
        Err(why) => {
            note!(
                ctx.trace,
                "{} ignored, as docker does ({why}); using the docker config files",
                vars::DOCKER_AUTH_CONFIG
            );
            return None;
        }
    };
    let Some((username, password)) = entries.remove(key) else {
        note!(
            ctx.trace,
            "{} has no auths[\"{key}\"]",
            vars::DOCKER_AUTH_CONFIG
        );
        return None;
    };
    let source = format!("{} auths[\"{key}\"]", vars::DOCKER_AUTH_CONFIG);
    // docker stops here; go-containerregistry then sends no Basic auth without a password.
    if password.is_empty() {
        return Some(Outcome::Missing(format!("{source} holds no password")));
    }
    Some(Outcome::Found(Sourced {
        credential: Credential::Basic { username, password },
        source,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docker/cli's `TestParseEnvConfig` cases and its error paths, as accept/reject.
    #[test]
    fn parses_as_docker_cli_does() {
        let ok = |text: &str| parse(text).map(|m| m.into_keys().collect::<Vec<_>>());
        let table: &[(&str, Result<&[&str], &str>)] = &[
            (r#"{"auths":{"a.test":{"auth":"dTpw"}}}"#, Ok(&["a.test"])),
            (
                r#"{"auths":{"a.test":{"auth":"dTpw"},"b.test:5000":{"auth":"dTo="}}}"#,
                Ok(&["a.test", "b.test:5000"]),
            ),
            ("", Ok(&[])),
            ("  \n", Ok(&[])),
            ("{}", Ok(&[])),
            (r#"{"auths":null}"#, Ok(&[])),
            (
                r#"{"auths":{"a.test":{"auth":"dTpw"}}} {"auths":{}}"#,
                Err("holds more than one JSON object"),
            ),
            (
                r#"{"auths":{"a.test":{"auth":"dTpw"}}}{"auths":{}}"#,
                Err("holds more than one JSON object"),
            ),
            (
                r#"{"auths":{"a.test":{"auth":"dTpw","identitytoken":"t"}}}"#,
                Err("unexpected structure"),
            ),
            (
                r#"{"credsStore":"pass","auths":{}}"#,
                Err("unexpected structure"),
            ),
            (
                r#"{"auths":{"a.test":{}}}"#,
                Err("auths[\"a.test\"] has no \"auth\""),
            ),
            (
                r#"{"auths":{"a.test":{"auth":""}}}"#,
                Err("auths[\"a.test\"] has no \"auth\""),
            ),
            (
                r#"{"auths":{"a.test":{"auth":"!!"}}}"#,
                Err("is not valid base64"),
            ),
            // base64("u"), base64(":p"): no colon, empty username.
            (
                r#"{"auths":{"a.test":{"auth":"dQ=="}}}"#,
                Err("does not decode"),
            ),
            (
                r#"{"auths":{"a.test":{"auth":"OnA="}}}"#,
                Err("does not decode"),
            ),
            (r#"{"auths":"#, Err("truncated JSON")),
            ("null", Ok(&[])),
            ("[]", Err("is not a JSON object")),
            (r#""x""#, Err("unexpected structure")),
        ];
        for (text, want) in table {
            match (ok(text), want) {
                (Ok(keys), Ok(want)) => assert_eq!(keys, *want, "{text}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn errors_never_quote_the_value() {
        let secret = "c2VjcmV0LXZhbHVlOnBhc3N3b3Jk"; // secret-value:password
        for text in [
            format!(r#"{{"auths":{{"a":{{"auth":"{secret}"}}}}}} {secret}"#),
            format!(r#"{{"auths":{{"a":{{"auth":"{secret}","password":"{secret}"}}}}}}"#),
            format!(r#"{{"{secret}":1}}"#),
        ] {
            let why = parse(&text).unwrap_err();
            assert!(
                !why.contains(secret) && !why.contains("secret-value"),
                "{why}"
            );
        }
    }

    #[test]
    fn entries_decode_as_docker_does() {
        let entries = parse(r#"{"auths":{"a":{"auth":"PHRva2VuPjpwQHNzOng="}}}"#).unwrap();
        let (user, password) = &entries["a"];
        // `<token>` is an ordinary username here: docker's rule is the credential helpers'.
        assert_eq!(user, "<token>");
        assert_eq!(password.expose(), "p@ss:x");
    }
}

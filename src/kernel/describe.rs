//! Config problems that name the field, never the value. serde's messages quote what they
//! could not read (`invalid type: string "ghp_..."`, ``unknown variant `...` ``), and a
//! value in the wrong field may well be a secret.

use serde_json::{Map, Value};

/// serde's message about a helper's `config`, with quoted values removed and, where it can be
/// told, the field named: `insecure: invalid type: a string, expected a boolean`.
pub fn serde_problem<T: serde::de::DeserializeOwned>(
    e: &serde_json::Error,
    config: &Value,
) -> String {
    let message = e.to_string();
    // `unknown field` and `missing field` name the field themselves.
    if message.starts_with("unknown field ") || message.starts_with("missing field ") {
        return message;
    }
    let scrubbed = scrub(&message);
    match field_of::<T>(&message, config) {
        Some(field) => format!("{field}: {scrubbed}"),
        None => scrubbed,
    }
}

/// The top-level key whose value failed: serde reads a map's entries in order and stops at the
/// first bad one, so it is the shortest prefix of the object that fails with the same message.
fn field_of<T: serde::de::DeserializeOwned>(message: &str, config: &Value) -> Option<String> {
    let object = config.as_object()?;
    let mut prefix = Map::new();
    for (key, value) in object {
        prefix.insert(key.clone(), value.clone());
        let candidate = Value::Object(prefix.clone());
        if let Err(e) = T::deserialize(&candidate)
            && e.to_string() == message
        {
            return Some(key.clone());
        }
    }
    None
}

/// The message without the value it quotes. Field names (`unknown field`, `missing field`)
/// are kept: they are the schema's words, or the user's key, which the message is about.
fn scrub(message: &str) -> String {
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(lead) {
            // The quoted value may itself contain ", expected ": the last one is serde's.
            let (unexpected, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, ""));
            let kind = kind_of(unexpected);
            return if expected.is_empty() {
                format!("{lead}{kind}")
            } else {
                format!("{lead}{kind}, expected {expected}")
            };
        }
    }
    if message.starts_with("unknown variant ") {
        return match message.rsplit_once(", expected ") {
            Some((_, expected)) => format!("unknown variant, expected {expected}"),
            None => "unknown variant".to_string(),
        };
    }
    message.to_string()
}

/// `string "x"` → `a string`, ``integer `5` `` → `an integer`: serde's `Unexpected` without
/// its value.
fn kind_of(unexpected: &str) -> String {
    if unexpected.starts_with("string ") {
        return "a string".into();
    }
    let word = unexpected
        .split(['`', '"'])
        .next()
        .unwrap_or_default()
        .trim();
    match word {
        "integer" => "an integer".into(),
        "floating point" => "a number".into(),
        "boolean" => "a boolean".into(),
        "character" => "a character".into(),
        "" => "a value".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Example {
        #[serde(default)]
        insecure: bool,
        #[serde(default)]
        mode: Option<Mode>,
        #[serde(default)]
        names: Vec<String>,
        needed: Option<u8>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Basic,
    }

    fn problem(json: &str) -> String {
        let value: Value = serde_json::from_str(json).unwrap();
        let e = serde_json::from_value::<Example>(value.clone()).unwrap_err();
        serde_problem::<Example>(&e, &value)
    }

    #[test]
    fn problems_name_the_field_never_the_value() {
        let table = [
            (
                r#"{"insecure":"ghp_canary"}"#,
                "insecure: invalid type: a string, expected a boolean",
            ),
            (
                r#"{"names":[], "mode":"ghp_canary, expected x"}"#,
                "mode: unknown variant, expected `basic`",
            ),
            (
                r#"{"mode":"basic","names":"ghp_canary"}"#,
                "names: invalid type: a string, expected a sequence",
            ),
            (
                r#"{"needed":1234567}"#,
                "needed: invalid value: an integer, expected u8",
            ),
            (
                r#"{"insecure":12345.5}"#,
                "insecure: invalid type: a number, expected a boolean",
            ),
            (r#"{"colour":1}"#, "unknown field `colour`, expected one of"),
        ];
        for (json, want) in table {
            let shown = problem(json);
            assert!(shown.starts_with(want), "{json}: {shown}");
            assert!(
                !shown.contains("canary") && !shown.contains("12345"),
                "{shown}"
            );
        }
        let e = serde_json::from_value::<Example>(Value::Bool(true)).unwrap_err();
        assert_eq!(
            serde_problem::<Example>(&e, &Value::Bool(true)),
            "invalid type: a boolean, expected struct Example"
        );
    }

    #[test]
    fn config_documents_never_quote_values() {
        use crate::config::{Config, Origin};
        let header = |extra: &str| {
            format!(
                r#"{{"urls":[{{"helper":"header","config":{{"header_name":"x",{extra}"lookup_chain":[{{"source":"env","name":"K"}}]}}}}]}}"#
            )
        };
        let cases = [
            (header(r#""insecure":"ghp_canary","#), "urls[0].config: insecure: invalid type: a string"),
            (header(r#""required":"ghp_canary","#), "urls[0].config: required: invalid type"),
            (header(r#""auth_method":"ghp_canary","#), "urls[0].config: auth_method: unknown variant"),
            (
                r#"{"urls":[{"helper":"header","config":{"header_name":"ghp canary","lookup_chain":[{"source":"env","name":"K"}]}}]}"#.into(),
                "urls[0].config: header_name is not a valid HTTP header name",
            ),
            (r#"{"urls":[{"helper":"gar","config":{"auth":"ghp_canary"}}]}"#.into(), "urls[0].config: auth: unknown variant"),
            (r#"{"urls":[{"helper":"s3","config":{"region":"ghp canary"}}]}"#.into(), "urls[0].config: region is not"),
            (r#"{"urls":[{"helper":"gcs","config":{"scopes":["ghp_canary"]}}]}"#.into(), "urls[0].config: scopes[0] is not"),
            (r#"{"urls":[{"helper":"azblob","config":{"x_ms_version":"ghp_canary"}}]}"#.into(), "urls[0].config: x_ms_version is not"),
            (r#"{"urls":[{"helper":"oci","config":{"insecure":"ghp_canary"}}]}"#.into(), "urls[0].config: insecure: invalid type"),
            (r#"{"urls":[{"helper":"ghp_canary"}]}"#.into(), "urls[0].helper: unknown helper"),
            (r#"{"urls":[{"helper":"null","scheme":"ghp canary"}]}"#.into(), "urls[0].scheme: not a URL scheme"),
            (r#"{"urls":[{"helper":"null","path":"/ghp_canary["}]}"#.into(), "urls[0].path: invalid glob"),
        ];
        for (json, want) in cases {
            let list = Config::parse(&json, Origin::Defaults).unwrap_err().list;
            assert!(list[0].starts_with(want), "{json}: {list:?}");
            assert!(list.iter().all(|p| !p.contains("canary")), "{list:?}");
        }
    }
}

//! Config problems that name the field, never the value. serde's messages quote what they
//! could not read (`invalid type: string "ghp_..."`, ``unknown variant `...` ``), and a
//! value in the wrong field may well be a secret.

use serde_json::{Map, Value};

use crate::kernel::suggest;

/// `hots: unknown field (did you mean `host`? expected one of: scheme, host, ...)`: the one
/// wording of an unknown field, ours and serde's.
pub fn unknown_field(field: &str, expected: &[&str]) -> String {
    let guess = suggest::did_you_mean(field, expected.iter().copied());
    match expected {
        [] => format!("{field}: unknown field ({guess}this object takes no fields)"),
        names => format!(
            "{field}: unknown field ({guess}expected one of: {})",
            names.join(", ")
        ),
    }
}

/// Every problem serde finds in a helper's `config`, not only the first: each bad field is
/// reported and left out, and the rest read again. `Ok` only when there is none.
pub fn serde_problems<T: serde::de::DeserializeOwned>(config: &Value) -> Result<T, Vec<String>> {
    let mut current = config.clone();
    let mut problems = Vec::new();
    let mut removed = Vec::new();
    // Each round removes one field, so an object of n fields takes at most n + 1 rounds.
    loop {
        let e = match T::deserialize(&current) {
            Ok(value) if problems.is_empty() => return Ok(value),
            Ok(_) => return Err(problems),
            Err(e) => e,
        };
        let message = e.to_string();
        // A field left out here is now missing: it was reported already.
        if let Some(name) = backticked(&message, "missing field ")
            && removed.contains(&name)
        {
            return Err(problems);
        }
        problems.push(serde_problem::<T>(&e, &current));
        let key =
            backticked(&message, "unknown field ").or_else(|| field_of::<T>(&message, &current));
        let left_out = match (&key, current.as_object_mut()) {
            (Some(key), Some(object)) => object.remove(key).is_some(),
            _ => false,
        };
        match (left_out, key) {
            (true, Some(key)) => removed.push(key),
            _ => return Err(problems),
        }
    }
}

/// The name in `<lead>`name`...`.
fn backticked(message: &str, lead: &str) -> Option<String> {
    let rest = message.strip_prefix(lead)?.strip_prefix('`')?;
    Some(rest.split('`').next()?.to_string())
}

/// The names serde lists after `expected`: `one of `a`, `b``, ``a` or `b``, `there are no fields`.
fn listed_names(expected: &str) -> Vec<&str> {
    expected.split('`').skip(1).step_by(2).collect()
}

/// serde's message about a helper's `config`, with quoted values removed and, where it can be
/// told, the field named: `insecure: invalid type: a string, expected a boolean`.
pub fn serde_problem<T: serde::de::DeserializeOwned>(
    e: &serde_json::Error,
    config: &Value,
) -> String {
    let message = e.to_string();
    let field = field_of::<T>(&message, config);
    // An unknown field names itself (it is the user's key, not a value).
    if let Some(name) = backticked(&message, "unknown field ") {
        let expected = message.split_once(", expected ").map_or("", |(_, x)| x);
        let text = unknown_field(&name, &listed_names(expected));
        return match field {
            Some(field) if field != name => format!("{field}: {text}"),
            _ => text,
        };
    }
    if message.starts_with("missing field ") {
        return message;
    }
    let scrubbed = scrub(&message);
    match field {
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
        // The value is only compared, never shown: the suggestion is one of our own names.
        let value = backticked(message, "unknown variant ").unwrap_or_default();
        return match message.rsplit_once(", expected ") {
            Some((_, expected)) => {
                let hint = suggest::did_you_mean(&value, listed_names(expected));
                match hint.is_empty() {
                    true => format!("unknown variant, expected {expected}"),
                    false => format!("unknown variant, expected {expected} ({})", hint.trim_end()),
                }
            }
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
            (
                r#"{"colour":1}"#,
                "colour: unknown field (expected one of: insecure, mode, names, needed)",
            ),
            (
                r#"{"insecur":true}"#,
                "insecur: unknown field (did you mean `insecure`? expected one of:",
            ),
            (
                r#"{"mode":"basci"}"#,
                "mode: unknown variant, expected `basic` (did you mean `basic`?)",
            ),
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
    fn every_bad_field_is_reported() {
        let value: Value = serde_json::from_str(
            r#"{"insecure":"yes","colour":1,"mode":"basci","names":"x","needed":1}"#,
        )
        .unwrap();
        let problems = serde_problems::<Example>(&value).unwrap_err();
        // In key order, as serde_json reads an object.
        let starts = [
            "colour: unknown field",
            "insecure: invalid type",
            "mode: unknown variant",
            "names: invalid type",
        ];
        assert_eq!(problems.len(), starts.len(), "{problems:?}");
        for (problem, start) in problems.iter().zip(starts) {
            assert!(problem.starts_with(start), "{problems:?}");
        }
        // A required field with a bad value is reported once, not again as missing.
        let needed: Value = serde_json::from_str(r#"{"needed":"x"}"#).unwrap();
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Needs {
            needed: u8,
        }
        assert_eq!(serde_problems::<Needs>(&needed).unwrap_err().len(), 1);
        assert!(serde_problems::<Example>(&Value::Object(Map::new())).is_ok());
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
            (header(r#""insecure":"ghp_canary","#), "): config: insecure: invalid type: a string"),
            (header(r#""required":"ghp_canary","#), "): config: required: invalid type"),
            (header(r#""auth_method":"ghp_canary","#), "): config: auth_method: unknown variant"),
            (
                r#"{"urls":[{"helper":"header","config":{"header_name":"ghp canary","lookup_chain":[{"source":"env","name":"K"}]}}]}"#.into(),
                "): config: header_name is not a valid HTTP header name",
            ),
            (r#"{"urls":[{"helper":"gar","config":{"auth":"ghp_canary"}}]}"#.into(), "): config: auth: unknown variant"),
            (r#"{"urls":[{"helper":"s3","config":{"region":"ghp canary"}}]}"#.into(), "): config: region is not"),
            (r#"{"urls":[{"helper":"gcs","config":{"scopes":["ghp_canary"]}}]}"#.into(), "): config: scopes[0] is not"),
            (r#"{"urls":[{"helper":"azblob","config":{"x_ms_version":"ghp_canary"}}]}"#.into(), "): config: x_ms_version is not"),
            (r#"{"urls":[{"helper":"oci","config":{"insecure":"ghp_canary"}}]}"#.into(), "): config: insecure: invalid type"),
            (r#"{"urls":[{"helper":"ghp_canary"}]}"#.into(), "): helper: unknown helper"),
            (r#"{"urls":[{"helper":"null","scheme":"ghp canary"}]}"#.into(), "): scheme: not a URL scheme"),
            (r#"{"urls":[{"helper":"null","path":"/ghp_canary["}]}"#.into(), "): path: invalid glob"),
        ];
        for (json, want) in cases {
            let list = Config::parse(&json, Origin::Defaults).unwrap_err().list;
            // The entry's label names it by its patterns (as `explain` does); the problem
            // after it quotes nothing.
            let problems: Vec<&str> = list
                .iter()
                .map(|p| p.split_once("): ").map_or(p.as_str(), |(_, rest)| rest))
                .collect();
            assert!(list[0].contains(want), "{json}: {list:?}");
            assert!(problems.iter().all(|p| !p.contains("canary")), "{list:?}");
        }
    }
}

//! What `check-config` finds in a config that parses: entries that can never match
//! ([`crate::kernel::unmatchable`]) and sources this build cannot serve. `get` does not refuse
//! these (the rest of the file still routes), so they are reported here.

use serde_json::{Map, Value};

use crate::config::entry_label;
use crate::kernel::unmatchable::{self, Finding};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, worded `entry N (<pattern>): <field>: <problem> (<what to do>)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    pub severity: Severity,
    pub text: String,
}

/// Every finding in a config document; `keyring_built` is whether this binary has the
/// keyring source (`cfg!(feature = "keyring")`).
pub fn lint(doc: &Value, keyring_built: bool) -> Vec<Lint> {
    let Some(urls) = doc.get("urls").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (index, entry) in urls.iter().enumerate() {
        let Some(obj) = entry.as_object() else {
            continue;
        };
        let label = entry_label(index, obj);
        let text = |field: &str| obj.get(field).and_then(Value::as_str);
        let mut report = |field: &str, f: Finding| {
            found.push(Lint {
                severity: if f.never {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                text: format!("{label}: {field}: {} ({})", f.what, f.fix),
            })
        };
        let scheme = text("scheme");
        if let Some(f) = scheme.and_then(unmatchable::scheme) {
            report("scheme", f);
        }
        if let Some(f) = text("host").and_then(|h| unmatchable::host(h, scheme)) {
            report("host", f);
        }
        if let Some(f) = text("path").and_then(unmatchable::path) {
            report("path", f);
        }
        if let Some(config) = obj.get("config")
            && let Some(why) = keyring_unavailable(keyring_built)
        {
            for (at, alone) in keyring_sources(config, "config") {
                // With another source for the same value the chain still works.
                let severity = if alone {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                found.push(Lint {
                    severity,
                    text: format!("{label}: {at}: {why}"),
                });
            }
        }
    }
    found
}

/// Why this build cannot serve `{"source": "keyring"}`, if it cannot.
pub fn keyring_unavailable(built: bool) -> Option<&'static str> {
    (!built).then_some(
        "a keyring source, but keyring support is not built into this binary (rebuild with `cargo install --locked --features keyring`, or use an env or file source)",
    )
}

/// Where `{"source": "keyring"}` objects are (`config.lookup_chain[1]`), and whether each is
/// the only source of its chain for its binding.
fn keyring_sources(value: &Value, at: &str) -> Vec<(String, bool)> {
    match value {
        Value::Object(obj) => obj
            .iter()
            .flat_map(|(k, v)| keyring_sources(v, &format!("{at}.{k}")))
            .collect(),
        Value::Array(items) => {
            let source = |v: &Value| v.as_object().filter(|o| o.contains_key("source")).cloned();
            let sources: Vec<(usize, Map<String, Value>)> = items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((i, source(v)?)))
                .collect();
            let mut found: Vec<(String, bool)> = sources
                .iter()
                .filter(|(_, s)| is_keyring(s))
                .map(|(i, s)| {
                    let alone = sources
                        .iter()
                        .filter(|(_, o)| binding(o) == binding(s))
                        .all(|(_, o)| is_keyring(o));
                    (format!("{at}[{i}]"), alone)
                })
                .collect();
            for (i, v) in items.iter().enumerate() {
                if source(v).is_none() {
                    found.extend(keyring_sources(v, &format!("{at}[{i}]")));
                }
            }
            found
        }
        _ => Vec::new(),
    }
}

fn binding(source: &Map<String, Value>) -> &str {
    source
        .get("binding")
        .and_then(Value::as_str)
        .unwrap_or("default")
}

fn is_keyring(obj: &Map<String, Value>) -> bool {
    obj.get("source").and_then(Value::as_str) == Some("keyring")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(json: &str, keyring: bool) -> Vec<(Severity, String)> {
        lint(&serde_json::from_str(json).unwrap(), keyring)
            .into_iter()
            .map(|l| (l.severity, l.text))
            .collect()
    }

    #[test]
    fn entries_that_cannot_match_and_sources_that_cannot_serve() {
        let doc = r#"{"urls":[
            {"scheme":"HTTPS","host":"a.example","helper":"null"},
            {"host":"https://b.example","helper":"null"},
            {"host":"x.com/","helper":"null"},
            {"host":"ok.example","path":"v2/*","helper":"null"},
            {"host":"c.example:443","helper":"null"},
            {"host":"fine.example","helper":"header","config":{"header_name":"k","lookup_chain":[
                {"source":"env","name":"K"},{"source":"keyring","service":"s"}]}},
            {"host":"only.example","helper":"oci","config":{"lookup_chain":[
                {"source":"env","name":"U","binding":"username"},
                {"source":"keyring","service":"s","binding":"password"}]}}
        ]}"#;
        let found = texts(doc, false);
        let want = [
            (
                Severity::Error,
                "entry 0 (scheme \"HTTPS\", host \"a.example\"): scheme: never matches: URL schemes are compared in lowercase (write \"https\")",
            ),
            (
                Severity::Error,
                "entry 1 (host \"https://b.example\"): host: never matches: a host pattern has no scheme (write \"scheme\": \"https\", \"host\": \"b.example\")",
            ),
            (
                Severity::Error,
                "entry 2 (host \"x.com/\"): host: never matches: a host pattern has no path",
            ),
            (
                Severity::Error,
                "entry 3 (host \"ok.example\", path \"v2/*\"): path: never matches: a URL path starts with / (write \"/v2/*\")",
            ),
            (
                Severity::Warning,
                "entry 4 (host \"c.example:443\"): host: matches only http://c.example:443/ URLs",
            ),
            (
                Severity::Warning,
                "entry 5 (host \"fine.example\"): config.lookup_chain[1]: a keyring source, but keyring support is not built into this binary",
            ),
            (
                Severity::Error,
                "entry 6 (host \"only.example\"): config.lookup_chain[1]: a keyring source,",
            ),
        ];
        assert_eq!(found.len(), want.len(), "{found:#?}");
        for ((severity, text), (want_severity, want_text)) in found.iter().zip(want) {
            assert!(text.starts_with(want_text), "{text}\nwant {want_text}");
            assert_eq!(*severity, want_severity, "{text}");
        }
        // A build with the keyring serves it.
        assert_eq!(texts(doc, true).len(), want.len() - 2);
        assert!(keyring_unavailable(true).is_none());
        assert!(keyring_unavailable(false).is_some());
    }
}

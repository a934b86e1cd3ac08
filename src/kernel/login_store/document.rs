//! `credentials.json`, the login store's file: which hosts `login` saved, with the username
//! and either the secret itself (the file store) or a note that the secret is in the OS
//! keychain. Written only by the helper (0600, replaced whole); read as strictly as it is
//! written, so a hand-edited or planted file is an error rather than a guess.
//!
//! ```json
//! {"version": 1, "hosts": {
//!   "ghcr.io": {"username": "octocat", "keychain": true},
//!   "cache.example.com": {"secret": "..."}
//! }}
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::kernel::secret::Secret;

pub const VERSION: u32 = 1;

/// Where one host's secret is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// In the OS keychain, service `credential-helper`, account the host.
    Keychain,
    /// In this file.
    File(Secret),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub username: Option<String>,
    pub held: Held,
}

/// The whole file: hosts in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub hosts: BTreeMap<String, HostEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: u32,
    #[serde(default)]
    hosts: BTreeMap<String, RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    secret: Option<Secret>,
    #[serde(default)]
    keychain: bool,
}

impl Document {
    /// Parses the file; the error names what is wrong, never a value.
    pub fn parse(text: &str) -> Result<Document, String> {
        let raw: Raw = serde_json::from_str(text)
            .map_err(|e| format!("is not a login store file: {}", shape(&e)))?;
        if raw.version != VERSION {
            return Err(format!(
                "has version {}, this binary reads version {VERSION}",
                raw.version
            ));
        }
        let mut hosts = BTreeMap::new();
        for (host, entry) in raw.hosts {
            let held = match (entry.secret, entry.keychain) {
                (Some(secret), false) if !secret.is_empty() => Held::File(secret),
                (None, true) => Held::Keychain,
                _ => {
                    return Err(format!(
                        "host {host:?} needs exactly one of a non-empty \"secret\" or \"keychain\": true"
                    ));
                }
            };
            let username = entry.username.filter(|u| !u.is_empty());
            hosts.insert(host, HostEntry { username, held });
        }
        Ok(Document { hosts })
    }

    /// The file's text (secrets of the file store included).
    pub fn to_text(&self) -> String {
        let hosts: serde_json::Map<String, serde_json::Value> = self
            .hosts
            .iter()
            .map(|(host, entry)| {
                let mut object = serde_json::Map::new();
                if let Some(u) = &entry.username {
                    object.insert("username".into(), u.clone().into());
                }
                match &entry.held {
                    Held::Keychain => object.insert("keychain".into(), true.into()),
                    Held::File(s) => object.insert("secret".into(), s.expose().into()),
                };
                (host.clone(), object.into())
            })
            .collect();
        let doc = serde_json::json!({"version": VERSION, "hosts": hosts});
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// serde's message without the input it may quote: only the line and column.
fn shape(e: &serde_json::Error) -> String {
    format!("invalid at line {}, column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strict_reading() {
        let mut doc = Document::default();
        doc.hosts.insert(
            "ghcr.io".into(),
            HostEntry {
                username: Some("octocat".into()),
                held: Held::Keychain,
            },
        );
        doc.hosts.insert(
            "cache.example.com".into(),
            HostEntry {
                username: None,
                held: Held::File(Secret::new("s3cr3t")),
            },
        );
        assert_eq!(Document::parse(&doc.to_text()).unwrap(), doc);
        let bad = [
            (r#"{"version": 2, "hosts": {}}"#, "version 2"),
            (r#"{"version": 1, "hosts": {"h": {}}}"#, "exactly one"),
            (
                r#"{"version": 1, "hosts": {"h": {"secret": "x", "keychain": true}}}"#,
                "exactly one",
            ),
            (
                r#"{"version": 1, "hosts": {"h": {"secret": ""}}}"#,
                "exactly one",
            ),
            (
                r#"{"version": 1, "hosts": {"h": {"secret": "hunter2", "extra": 1}}}"#,
                "not a login store file",
            ),
            ("[\"hunter2\"]", "not a login store file"),
        ];
        for (text, want) in bad {
            let err = Document::parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        assert_eq!(
            Document::parse(r#"{"version": 1}"#).unwrap(),
            Document::default()
        );
    }
}

//! Kubernetes registry secrets: what a pod sees and what `kubectl` writes.
//!
//! The path may be
//! - a mounted secret volume: a directory holding `.dockerconfigjson` and/or `.dockercfg`
//!   (kubelet mounts them as symlinks through `..data`, which reading follows);
//! - a `.dockerconfigjson` file (docker's `config.json` format, `{"auths": {...}}`);
//! - a `.dockercfg` file (the legacy format whose top level is the `auths` map);
//! - a Secret manifest, YAML or JSON, of type `kubernetes.io/dockerconfigjson` or
//!   `kubernetes.io/dockercfg`, as `kubectl create secret docker-registry --dry-run=client -o
//!   yaml` or `kubectl get secret -o yaml` write it (`data` base64, or `stringData`).
//!
//! Which one is detected by content. Keys are matched as kubelet matches them: see
//! [`crate::registry::host_match`].

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde_json::Value;

use super::docker_config::{AuthEntry, DockerConfig};
use crate::kernel::context::Context;
use crate::kernel::error::{Error, describe_json};
use crate::kernel::files::read_capped;
use crate::kernel::outcome::Outcome;
use crate::note;
use crate::registry::Sourced;
use crate::registry::host_match;
use crate::registry::reference::Target;

/// The files of a mounted registry secret, in the order they are read.
const SECRET_FILES: &[&str] = &[".dockerconfigjson", ".dockercfg"];

const DOCKERCONFIGJSON_TYPE: &str = "kubernetes.io/dockerconfigjson";
const DOCKERCFG_TYPE: &str = "kubernetes.io/dockercfg";

pub fn lookup(ctx: &Context, path: &Path, target: &Target) -> Outcome<Sourced> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Outcome::Missing(format!("no kubernetes secret at {}", path.display()));
        }
        Err(e) => {
            return Outcome::Failed(Error::new(format!(
                "cannot read kubernetes secret {}: {e}",
                path.display()
            )));
        }
    };
    if !metadata.is_dir() {
        return from_file(path, target);
    }
    let mut seen = false;
    for name in SECRET_FILES {
        let file = path.join(name);
        if !file.exists() {
            continue;
        }
        seen = true;
        match from_file(&file, target) {
            Outcome::Missing(why) => note!(ctx.trace, "{why}"),
            other => return other,
        }
    }
    if seen {
        Outcome::Missing(format!(
            "kubernetes secret {} has no entry for {}",
            path.display(),
            target.registry
        ))
    } else {
        Outcome::Failed(
            Error::new(format!(
                "kubernetes secret directory {} holds neither .dockerconfigjson nor .dockercfg",
                path.display()
            ))
            .hint("point \"path\" at the volume of a kubernetes.io/dockerconfigjson secret"),
        )
    }
}

fn from_file(path: &Path, target: &Target) -> Outcome<Sourced> {
    let bytes = match read_capped(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Outcome::Missing(format!("no kubernetes secret at {}", path.display())),
        Err(e) => return Outcome::Failed(e),
    };
    let (name, auths) = match parse(path, &bytes) {
        Ok(parsed) => parsed,
        Err(e) => return Outcome::Failed(e),
    };
    let keys = auths.iter().map(|(k, v)| (k.as_str(), v));
    match host_match::best_match(keys, &target.registry, &target.repository) {
        Some((key, entry)) => entry.outcome(format!("{name} auths[\"{key}\"]")),
        None => Outcome::Missing(format!("{name} has no entry for {}", target.registry)),
    }
}

/// The `auths` a file holds, and how to name it in messages. Public for the fuzz harness.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<(String, BTreeMap<String, AuthEntry>), Error> {
    let shown = path.display();
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let is_json = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !is_json {
        let doc: Value = serde_yaml_ng::from_slice(text).map_err(|e| {
            // serde_yaml's messages may quote the input: keep only the position.
            let at = e
                .location()
                .map(|l| format!(" at line {} column {}", l.line(), l.column()))
                .unwrap_or_default();
            Error::new(format!(
                "kubernetes secret manifest {shown}: invalid YAML{at}"
            ))
            .hint("a file not starting with `{` is read as a Secret manifest in YAML")
        })?;
        return from_manifest(path, &doc);
    }
    let doc: Value = serde_json::from_slice(text).map_err(|e| invalid(path, &e))?;
    if doc.get("kind").is_some() || doc.get("apiVersion").is_some() {
        return from_manifest(path, &doc);
    }
    let auths = docker_auths(text, doc.get("auths").is_some()).map_err(|e| invalid(path, &e))?;
    Ok((format!("kubernetes secret {shown}"), auths))
}

fn invalid(path: &Path, e: &serde_json::Error) -> Error {
    Error::new(format!(
        "kubernetes secret {}: {}",
        path.display(),
        describe_json(e)
    ))
}

/// `.dockerconfigjson` (`{"auths": ...}`) or `.dockercfg` (the `auths` map itself).
fn docker_auths(
    json: &[u8],
    config_json: bool,
) -> Result<BTreeMap<String, AuthEntry>, serde_json::Error> {
    if config_json {
        serde_json::from_slice::<DockerConfig>(json).map(|c| c.auths)
    } else {
        serde_json::from_slice(json)
    }
}

/// A `kind: Secret` document: its type says which `data` key holds which format.
fn from_manifest(path: &Path, doc: &Value) -> Result<(String, BTreeMap<String, AuthEntry>), Error> {
    let shown = path.display();
    let bad = |what: String| {
        Error::new(format!("kubernetes secret manifest {shown}: {what}")).hint(format!(
            "expected a Secret of type {DOCKERCONFIGJSON_TYPE}, as `kubectl create secret \
             docker-registry NAME --dry-run=client -o yaml` writes it"
        ))
    };
    let kind = doc.get("kind").and_then(Value::as_str);
    if kind != Some("Secret") {
        return Err(bad(match kind {
            Some(k) => format!("kind is {k:?}, not \"Secret\""),
            None => "no \"kind\": Secret".into(),
        }));
    }
    let (key, config_json) = match doc.get("type").and_then(Value::as_str) {
        Some(DOCKERCONFIGJSON_TYPE) => (".dockerconfigjson", true),
        Some(DOCKERCFG_TYPE) => (".dockercfg", false),
        Some(other) => {
            return Err(bad(format!("type {other:?} is not a registry secret type")));
        }
        None => {
            return Err(bad(
                "no \"type\" (an Opaque secret is not a registry secret)".into(),
            ));
        }
    };
    // `stringData` (plain text, what people write by hand) wins over `data`, as in the API.
    let plain = doc.get("stringData").and_then(|d| d.get(key));
    let encoded = doc.get("data").and_then(|d| d.get(key));
    let (field, json) = match (plain, encoded) {
        (Some(Value::String(s)), _) => (format!("stringData[\"{key}\"]"), s.clone().into_bytes()),
        (Some(_), _) => return Err(bad(format!("stringData[\"{key}\"] is not a string"))),
        (None, Some(Value::String(s))) => {
            let field = format!("data[\"{key}\"]");
            // kubectl writes standard base64; tolerate the line breaks of hand-made ones.
            let compact: String = s.split_ascii_whitespace().collect();
            match base64::engine::general_purpose::STANDARD.decode(compact) {
                Ok(bytes) => (field, bytes),
                Err(_) => return Err(bad(format!("{field} is not valid base64"))),
            }
        }
        (None, Some(_)) => return Err(bad(format!("data[\"{key}\"] is not a string"))),
        (None, None) => return Err(bad(format!("no data[\"{key}\"]"))),
    };
    let auths = docker_auths(&json, config_json)
        .map_err(|e| bad(format!("{field} is not valid: {}", describe_json(&e))))?;
    Ok((format!("kubernetes secret manifest {shown} {field}"), auths))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn keys(doc: &str) -> Result<Vec<String>, String> {
        parse(Path::new("/s/x"), doc.as_bytes())
            .map(|(_, auths)| auths.into_keys().collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn detects_each_format_by_content() {
        let config = r#"{"auths":{"ghcr.io":{"auth":"dTpw"}}}"#;
        assert_eq!(keys(config).unwrap(), ["ghcr.io"]);
        assert_eq!(
            keys(r#"{"https://quay.io":{"auth":"dTpw","email":"e"}}"#).unwrap(),
            ["https://quay.io"]
        );
        let yaml = format!(
            "apiVersion: v1\ndata:\n  .dockerconfigjson: {}\nkind: Secret\nmetadata:\n  \
             creationTimestamp: null\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\n",
            b64(config)
        );
        assert_eq!(keys(&yaml).unwrap(), ["ghcr.io"]);
        let json = format!(
            r#"{{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockercfg","data":{{".dockercfg":"{}"}}}}"#,
            b64(r#"{"quay.io":{"auth":"dTpw"}}"#)
        );
        assert_eq!(keys(&json).unwrap(), ["quay.io"]);
        let string_data = format!(
            "kind: Secret\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{config}'\n"
        );
        assert_eq!(keys(&string_data).unwrap(), ["ghcr.io"]);
    }

    #[test]
    fn malformed_documents_name_the_problem_not_the_content() {
        let canary = "hunter2-canary";
        let cases = [
            (
                format!("{{\"auths\":{{\"x\":{{\"auth\":\"{canary}\"}}"),
                "truncated JSON",
            ),
            (
                format!("{{\"auths\":[\"{canary}\"]}}"),
                "unexpected structure",
            ),
            (
                format!("kind: Secret\ntype: Opaque\ndata:\n  password: {canary}\n"),
                "type \"Opaque\"",
            ),
            (
                format!("kind: ConfigMap\ndata:\n  x: {canary}\n"),
                "kind is \"ConfigMap\"",
            ),
            (
                format!("kind: Secret\ndata: [{canary}\n"),
                "invalid YAML at line",
            ),
            (
                format!(
                    "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: \"{canary}!\"\n"
                ),
                "data[\".dockerconfigjson\"] is not valid base64",
            ),
            (
                format!(
                    "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
                    b64(&format!("{{\"auths\": {canary}"))
                ),
                "data[\".dockerconfigjson\"] is not valid: invalid JSON",
            ),
            (
                "kind: Secret\ntype: kubernetes.io/dockercfg\ndata: {}\n".to_string(),
                "no data[\".dockercfg\"]",
            ),
        ];
        for (doc, want) in cases {
            let err = keys(&doc).unwrap_err();
            assert!(err.contains(want) && err.contains("/s/x"), "{doc}: {err}");
            assert!(!err.contains(canary), "{err}");
        }
    }
}

//! `credential_files`: registry credentials in the files container platforms hand to a job —
//! Kubernetes registry secrets, rkt's `auth.d`, Mesos docker archives — named in an oci
//! entry's config:
//!
//! ```json
//! "credential_files": [{"format": "kubernetes", "path": "/var/run/secrets/regcred"},
//!                      {"format": "rkt"},
//!                      {"format": "mesos", "path": "%workspace%/docker.tar.gz"}]
//! ```
//!
//! Files are consulted in list order and the first with a credential for the registry wins. A
//! path that does not exist moves on (the same config serves a laptop and a pod); a file that
//! exists but cannot be read or parsed is an error naming the file, never quoting it.

use serde::Deserialize;

use super::{kubernetes, mesos, rkt};
use crate::kernel::context::Context;
use crate::kernel::outcome::{Chain, Outcome};
use crate::registry::Sourced;
use crate::registry::reference::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A mounted secret directory, `.dockerconfigjson`, `.dockercfg`, or a Secret manifest.
    Kubernetes,
    /// A directory of `auth.d/*.json` files; default `/etc/rkt/auth.d` over `/usr/lib/rkt/auth.d`.
    Rkt,
    /// A `.tar.gz` holding `.docker/config.json` (or `.dockercfg`), as Marathon fetches it.
    Mesos,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Kubernetes => "kubernetes",
            Format::Rkt => "rkt",
            Format::Mesos => "mesos",
        }
    }
}

/// One `credential_files` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialFile {
    pub format: Format,
    /// `~/` and `%workspace%/` are expanded; relative paths are relative to the workspace.
    #[serde(default)]
    pub path: Option<String>,
}

impl CredentialFile {
    pub fn validate(&self) -> Result<(), String> {
        match (&self.path, self.format) {
            (Some(p), _) if p.trim().is_empty() => Err("\"path\" is empty".into()),
            (None, Format::Kubernetes | Format::Mesos) => Err(format!(
                "\"path\" is required for format {:?}",
                self.format.name()
            )),
            _ => Ok(()),
        }
    }
}

/// Looks the registry up in each file in turn. A broken file is reported only if no later file
/// has a credential, as with the other sources.
pub fn lookup(ctx: &Context, files: &[CredentialFile], target: &Target) -> Outcome<Sourced> {
    let mut chain = Chain::new(&ctx.trace);
    for file in files {
        let path = file.path.as_deref().map(|p| ctx.env.expand_path(p));
        let outcome = match (file.format, &path) {
            (Format::Kubernetes, Some(path)) => kubernetes::lookup(ctx, path, target),
            (Format::Mesos, Some(path)) => mesos::lookup(path, target),
            (Format::Rkt, path) => rkt::lookup(ctx, path.as_deref(), target),
            // Refused when the config was loaded.
            (format, None) => Outcome::Missing(format!("{} without a path", format.name())),
        };
        if let Some(found) = chain.consider("credential_files", outcome) {
            return Outcome::Found(found);
        }
    }
    match chain.first_failure() {
        Some(e) => Outcome::Failed(e),
        None => Outcome::Missing(format!(
            "no credential file has an entry for {}",
            target.registry
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation() {
        let parse = |json: &str| {
            serde_json::from_str::<CredentialFile>(json)
                .map_err(|e| e.to_string())
                .and_then(|f| f.validate().map(|_| f))
        };
        assert!(parse(r#"{"format":"kubernetes","path":"/s"}"#).is_ok());
        assert!(parse(r#"{"format":"rkt"}"#).is_ok());
        assert!(parse(r#"{"format":"rkt","path":"/etc/rkt/auth.d"}"#).is_ok());
        for (json, want) in [
            (r#"{"format":"kubernetes"}"#, "\"path\" is required"),
            (r#"{"format":"mesos"}"#, "\"path\" is required"),
            (r#"{"format":"mesos","path":" "}"#, "\"path\" is empty"),
            (
                r#"{"format":"nomad","path":"x"}"#,
                "unknown variant `nomad`",
            ),
            (r#"{"format":"rkt","paths":"x"}"#, "unknown field `paths`"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
    }
}

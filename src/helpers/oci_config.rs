//! The `oci` entry's options: where its credentials come from and how its tokens are made.

use serde::Deserialize;

use crate::kernel::pattern::Pattern;
use crate::lookup::LookupChain;
use crate::registry::keychains::Keychain;
use crate::registry::sources::{BINDINGS, Sources};
use crate::registry::stores::credential_files::CredentialFile;
use crate::registry::token::Method;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The entry's own sources; bindings in [`BINDINGS`].
    #[serde(default)]
    pub lookup_chain: LookupChain,
    /// Kubernetes secrets, rkt auth.d, Mesos archives; after the lookup chain, in list order.
    #[serde(default)]
    pub credential_files: Vec<CredentialFile>,
    /// Read docker's config.json (and `$DOCKER_AUTH_CONFIG`, credential helpers).
    #[serde(default = "yes")]
    pub parse_docker_config: bool,
    /// Read podman/skopeo auth.json and the legacy ~/.dockercfg.
    #[serde(default = "yes")]
    pub parse_podman_config: bool,
    #[serde(default)]
    pub token_exchange_method: Method,
    /// Add `Accept` with the manifest media types to `/manifests/` answers.
    #[serde(default = "yes")]
    pub accept_header: bool,
    /// Allow plain http to this registry and its realm on a non-loopback host.
    #[serde(default)]
    pub insecure: bool,
    /// Token realm hosts (globs) on other hosts that may receive credentials.
    #[serde(default)]
    pub allowed_realm_hosts: Vec<String>,
    /// A PEM CA bundle for a registry with a private CA; system roots stay trusted.
    #[serde(default)]
    pub ca_cert_path: Option<String>,
    /// Share exchanged tokens across processes through the on-disk cache.
    #[serde(default = "yes")]
    pub cache: bool,
    /// Cloud keychains to consult for this entry's registries (off unless listed here or in
    /// `CREDENTIAL_HELPER_ACTIVE_KEYCHAINS`).
    #[serde(default)]
    pub keychains: Vec<Keychain>,
    /// What exchanged tokens allow: `["pull"]`, or `["pull", "push"]` for a client that pushes
    /// with the answer.
    #[serde(default = "pull_only")]
    pub actions: Vec<TokenAction>,
    #[serde(skip)]
    pub(crate) realm_patterns: Vec<Pattern>,
}

fn yes() -> bool {
    true
}

fn pull_only() -> Vec<TokenAction> {
    vec![TokenAction::Pull]
}

/// An action of a registry token's scope (`repository:<name>:<actions>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenAction {
    Pull,
    Push,
}

impl Default for Config {
    fn default() -> Config {
        serde_json::from_str("{}").expect("an empty oci config is valid")
    }
}

impl Config {
    pub fn validate(&mut self) -> Result<(), String> {
        self.lookup_chain.check_bindings(BINDINGS)?;
        for (i, file) in self.credential_files.iter().enumerate() {
            file.validate()
                .map_err(|e| format!("credential_files[{i}]: {e}"))?;
        }
        self.realm_patterns = self
            .allowed_realm_hosts
            .iter()
            .map(|h| Pattern::host(h).map_err(|e| format!("allowed_realm_hosts: {e}")))
            .collect::<Result<_, _>>()?;
        if self.actions.is_empty() {
            return Err("actions: must name at least one of \"pull\", \"push\"".into());
        }
        let mut sorted = self.actions.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != self.actions.len() {
            return Err("actions: names an action twice".into());
        }
        Ok(())
    }

    /// The scope's actions as registries read them, in one order whatever the config's
    /// (`pull`, `pull,push`), so equal settings share cached tokens.
    pub fn scope_actions(&self) -> String {
        let mut actions = self.actions.clone();
        actions.sort();
        actions.dedup();
        let names: Vec<&str> = actions
            .iter()
            .map(|a| match a {
                TokenAction::Pull => "pull",
                TokenAction::Push => "push",
            })
            .collect();
        names.join(",")
    }
}

impl Config {
    /// Where this entry looks for a registry's credential, in the one source order.
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            keychains: &self.keychains,
            lookup_chain: &self.lookup_chain,
            credential_files: &self.credential_files,
            docker_config: self.parse_docker_config,
            podman_config: self.parse_podman_config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_actions_are_validated_and_ordered() {
        let parse = |json: &str| {
            let mut c: Config = serde_json::from_str(json).map_err(|e| e.to_string())?;
            c.validate().map(|()| c.scope_actions())
        };
        let table: &[(&str, Result<&str, &str>)] = &[
            ("{}", Ok("pull")),
            (r#"{"actions":["pull"]}"#, Ok("pull")),
            (r#"{"actions":["push","pull"]}"#, Ok("pull,push")),
            (r#"{"actions":["pull","push"]}"#, Ok("pull,push")),
            (r#"{"actions":["push"]}"#, Ok("push")),
            (r#"{"actions":[]}"#, Err("at least one")),
            (r#"{"actions":["pull","pull"]}"#, Err("twice")),
            (r#"{"actions":["delete"]}"#, Err("unknown variant")),
            (r#"{"actions":"pull"}"#, Err("expected a sequence")),
        ];
        for (json, want) in table {
            match (parse(json), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{json}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{json}: {got}"),
                (got, want) => panic!("{json}: {got:?}, want {want:?}"),
            }
        }
    }
}

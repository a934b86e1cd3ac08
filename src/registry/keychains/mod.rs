//! Cloud keychains: credentials derived from the identity a machine or CI job already has.
//!
//! Off by default (imgpkg's rule: never hand a cloud identity to a registry unasked). Turned on
//! per oci entry with `"keychains": [...]`, or for every entry with
//! `CREDENTIAL_HELPER_ACTIVE_KEYCHAINS` (or imgpkg's `IMGPKG_ACTIVE_KEYCHAINS`), comma-separated.
//! Each keychain applies only to its own registries' hosts.

use serde::Deserialize;

pub mod acr;
pub mod ecr;
pub mod gcp;

use crate::cloud::github;
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::outcome::Outcome;
use crate::registry::reference::Target;
use crate::registry::{Credential, Resolved, Sourced};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keychain {
    /// Amazon ECR (private and public): the AWS credential chain and `GetAuthorizationToken`.
    Ecr,
    /// gcr.io and Artifact Registry: a Google access token (Application Default Credentials).
    #[serde(alias = "gke", alias = "google")]
    Gcp,
    /// Azure Container Registry: the Entra ID identity (service principal, workload or managed
    /// identity) traded for an ACR refresh token. imgpkg calls it `aks`.
    #[serde(alias = "aks", alias = "acr")]
    Azure,
    /// ghcr.io: GitHub tokens from the environment, then the gh CLI.
    Github,
}

impl Keychain {
    /// Every keychain, in the order they are consulted.
    pub const ALL: &'static [Keychain] = &[
        Keychain::Ecr,
        Keychain::Gcp,
        Keychain::Azure,
        Keychain::Github,
    ];

    /// Our names, plus imgpkg's aliases.
    pub fn from_name(name: &str) -> Option<Keychain> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ecr" => Some(Keychain::Ecr),
            "gcp" | "gke" | "google" => Some(Keychain::Gcp),
            "azure" | "aks" | "acr" => Some(Keychain::Azure),
            "github" => Some(Keychain::Github),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Keychain::Ecr => "ecr",
            Keychain::Gcp => "gcp",
            Keychain::Azure => "azure",
            Keychain::Github => "github",
        }
    }

    /// Whether this keychain serves the registry at all.
    pub fn applies_to(self, target: &Target) -> bool {
        match self {
            Keychain::Ecr => {
                target.authority == target.hostname()
                    && ecr::parse_host(target.hostname()).is_some()
            }
            Keychain::Gcp => gcp::serves(&target.registry),
            Keychain::Azure => acr::is_acr_host(target.hostname()),
            Keychain::Github => target.registry == "ghcr.io",
        }
    }

    pub fn lookup(self, ctx: &Context, target: &Target) -> Outcome<Resolved> {
        match self {
            Keychain::Ecr => ecr::lookup(ctx, target),
            Keychain::Gcp => gcp::lookup(ctx),
            Keychain::Azure => acr::lookup(ctx, target),
            Keychain::Github => github_keychain(ctx, target),
        }
    }
}

/// The keychains active for an entry: its own list plus the environment's, in [`Keychain::ALL`]
/// order. An unknown name in the environment is an error.
pub fn active(configured: &[Keychain], env: &Env) -> Result<Vec<Keychain>> {
    let mut on: Vec<Keychain> = configured.to_vec();
    for var in [vars::ACTIVE_KEYCHAINS, vars::IMGPKG_ACTIVE_KEYCHAINS] {
        for name in env
            .var(var)
            .unwrap_or("")
            .split(',')
            .filter(|n| !n.trim().is_empty())
        {
            let keychain = Keychain::from_name(name).ok_or_else(|| {
                Error::new(format!("{var} names an unknown keychain {:?}", name.trim())).hint(
                    format!(
                        "known keychains: {}",
                        Keychain::ALL
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            on.push(keychain);
        }
    }
    Ok(Keychain::ALL
        .iter()
        .copied()
        .filter(|k| on.contains(k))
        .collect())
}

fn github_keychain(ctx: &Context, _target: &Target) -> Outcome<Resolved> {
    let names = [vars::GHCR_TOKEN, vars::GH_TOKEN, vars::GITHUB_TOKEN];
    github::token_or_gh(ctx, &names, "github.com").map(|t| {
        // ghcr.io takes any non-empty username with a token.
        let username = ctx
            .env
            .var(vars::GITHUB_ACTOR)
            .map(str::to_string)
            .or(t.user)
            .unwrap_or_else(|| "github".to_string());
        Resolved::Credential(Sourced {
            credential: Credential::Basic {
                username,
                password: t.token,
            },
            source: format!("github keychain {}", t.source),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    #[test]
    fn activation_merges_config_and_environment() {
        assert!(active(&[], &test_env(&[])).unwrap().is_empty());
        assert_eq!(
            active(&[Keychain::Github], &test_env(&[])).unwrap(),
            [Keychain::Github]
        );
        let env = test_env(&[("IMGPKG_ACTIVE_KEYCHAINS", "github")]);
        assert_eq!(active(&[], &env).unwrap(), [Keychain::Github]);
        let env = test_env(&[("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "github, ECR")]);
        assert_eq!(
            active(&[], &env).unwrap(),
            [Keychain::Ecr, Keychain::Github]
        );
        let env = test_env(&[("IMGPKG_ACTIVE_KEYCHAINS", "github, gke")]);
        assert_eq!(
            active(&[], &env).unwrap(),
            [Keychain::Gcp, Keychain::Github]
        );
        let env = test_env(&[("IMGPKG_ACTIVE_KEYCHAINS", "github,aks,gcp")]);
        assert_eq!(
            active(&[], &env).unwrap(),
            [Keychain::Gcp, Keychain::Azure, Keychain::Github]
        );
        let env = test_env(&[("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "github,bogus")]);
        let err = active(&[], &env).unwrap_err().to_string();
        assert!(err.contains("unknown keychain \"bogus\""), "{err}");
    }

    #[test]
    fn ecr_applies_to_ecr_hosts_only() {
        let applies = |url: &str| {
            let target = Target::from_url(&url::Url::parse(url).unwrap()).unwrap();
            Keychain::Ecr.applies_to(&target)
        };
        assert!(applies(
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/a/manifests/l"
        ));
        assert!(applies("https://public.ecr.aws/v2/a/b/manifests/l"));
        assert!(!applies(
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com:8443/v2/a/manifests/l"
        ));
        assert!(!applies("https://ghcr.io/v2/a/manifests/l"));
        assert!(!applies("https://bucket.s3.amazonaws.com/v2/a/manifests/l"));
    }

    #[test]
    fn names_aliases_and_host_rules() {
        for name in ["azure", "aks", "acr", " AKS "] {
            assert_eq!(Keychain::from_name(name), Some(Keychain::Azure), "{name}");
        }
        let parsed: Vec<Keychain> = serde_json::from_str(r#"["azure","aks","acr"]"#).unwrap();
        assert_eq!(parsed, [Keychain::Azure; 3]);
        let target = |u: &str| Target::from_url(&url::Url::parse(u).unwrap()).unwrap();
        for (url, azure, github) in [
            ("https://myreg.azurecr.io/v2/a/manifests/1", true, false),
            ("https://myreg.azurecr.us:443/v2/a/manifests/1", true, false),
            ("http://myreg.azurecr.cn:5000/v2/a/manifests/1", true, false),
            ("https://azurecr.io/v2/a/manifests/1", false, false),
            ("https://ghcr.io/v2/a/manifests/1", false, true),
        ] {
            let t = target(url);
            assert_eq!(Keychain::Azure.applies_to(&t), azure, "{url}");
            assert_eq!(Keychain::Github.applies_to(&t), github, "{url}");
        }
    }
}

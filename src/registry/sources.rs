//! Where a registry credential is looked for, and in which order: written once, here.
//!
//! The order is imgpkg's (the environment, then the machine's cloud identity, then files),
//! with an entry's own explicit sources (its lookup chain and credential files) before what
//! `credential-helper login` saved, and that before the files other tools wrote (docker's
//! config, podman's auth.json): the config names a credential for this entry, a login is this
//! user's deliberate choice for the host, docker's and podman's files are whatever those tools
//! last wrote (often for other purposes). A broken source is an error
//! only if no later source has a credential; a broken environment keychain (a misspelt
//! variable) always is, since it would otherwise silently pick a different credential.

use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::outcome::{Chain, Outcome};
use crate::lookup::{self, LookupChain};
use crate::registry::keychains::{self, Keychain};
use crate::registry::reference::Target;
use crate::registry::stores::credential_files::{self, CredentialFile};
use crate::registry::stores::{auth_json, docker_config, docker_locate, env_keychain, login};
use crate::registry::{Credential, Located, Resolved, Sourced};

/// Lookup-chain bindings a registry credential is built from.
pub const BINDINGS: &[&str] = &[
    "username",
    "password",
    "auth",
    "identitytoken",
    "registrytoken",
];

/// What an oci entry says about where to look.
pub struct Sources<'c> {
    pub keychains: &'c [Keychain],
    pub lookup_chain: &'c LookupChain,
    pub credential_files: &'c [CredentialFile],
    pub docker_config: bool,
    pub podman_config: bool,
}

/// One place a registry credential may be.
enum Source<'c> {
    Environment,
    Keychain(Keychain),
    LookupChain(&'c LookupChain),
    CredentialFiles(&'c [CredentialFile]),
    Login,
    DockerConfig,
    PodmanAuth,
}

impl<'c> Sources<'c> {
    /// The user-visible order.
    fn order(&self, ctx: &Context, target: &Target) -> Result<Vec<Source<'c>>> {
        let mut order = vec![Source::Environment];
        for keychain in keychains::active(self.keychains, &ctx.env)? {
            if keychain.applies_to(target) {
                order.push(Source::Keychain(keychain));
            }
        }
        if !self.lookup_chain.is_empty() {
            order.push(Source::LookupChain(self.lookup_chain));
        }
        if !self.credential_files.is_empty() {
            order.push(Source::CredentialFiles(self.credential_files));
        }
        order.push(Source::Login);
        if self.docker_config {
            order.push(Source::DockerConfig);
        }
        if self.podman_config {
            order.push(Source::PodmanAuth);
        }
        Ok(order)
    }

    /// The first credential found, or `None` to try anonymously.
    pub fn find(&self, ctx: &Context, target: &Target) -> Result<Option<Resolved>> {
        let mut chain = Chain::new(&ctx.trace);
        for source in self.order(ctx, target)? {
            let found = match source {
                Source::Environment => {
                    env_keychain::lookup(&ctx.env, target)?.map(Resolved::Credential)
                }
                Source::Keychain(keychain) => {
                    let name = format!("{} keychain", keychain.name());
                    chain.consider(&name, keychain.lookup(ctx, target))
                }
                Source::LookupChain(lookup) => chain
                    .consider("lookup_chain", from_lookup_chain(ctx, lookup))
                    .map(Resolved::Credential),
                Source::CredentialFiles(files) => chain
                    .consider(
                        "credential_files",
                        credential_files::lookup(ctx, files, target),
                    )
                    .map(Resolved::Credential),
                Source::Login => chain
                    .consider("credential-helper login", login::lookup(ctx, target))
                    .map(Resolved::Credential),
                Source::DockerConfig => chain
                    .consider("docker config", docker_config::lookup(ctx, target))
                    .map(Resolved::Credential),
                Source::PodmanAuth => chain
                    .consider("podman auth.json", auth_json::lookup(ctx, target))
                    .map(Resolved::Credential),
            };
            if found.is_some() {
                return Ok(found);
            }
        }
        match chain.first_failure() {
            Some(e) => Err(e.context(format!("no credential for {}", target.registry))),
            None => Ok(None),
        }
    }

    /// The credential helper [`find`](Self::find) would end up running, found without running
    /// anything: every source before it is cheap and is asked here (and again by `find` on a
    /// miss). `None` when an earlier source answers, or may need work of its own (a cloud
    /// keychain, a lookup chain: each caches what it costs).
    pub fn locate(&self, ctx: &Context, target: &Target) -> Option<Located> {
        for source in self.order(ctx, target).ok()? {
            match source {
                Source::Environment => {
                    if !matches!(env_keychain::lookup(&ctx.env, target), Ok(None)) {
                        return None;
                    }
                }
                Source::Keychain(_) | Source::LookupChain(_) => return None,
                Source::CredentialFiles(files) => {
                    if let Outcome::Found(_) = credential_files::lookup(ctx, files, target) {
                        return None;
                    }
                }
                // Its secret in the keychain is asked for by the token cache first; one in
                // the file is cheap.
                Source::Login => {
                    if let Ok(located) = login::locate(ctx, target) {
                        return located;
                    }
                }
                // podman's auth.json has no helpers here, so nothing after docker's is located.
                Source::DockerConfig => return docker_locate::locate(ctx, target),
                Source::PodmanAuth => return None,
            }
        }
        None
    }
}

/// A registry credential from the lookup chain's bindings: a registry token, an identity
/// token (with an optional username), `auth`, or a username and password.
fn from_lookup_chain(ctx: &Context, chain: &LookupChain) -> Outcome<Sourced> {
    let mut failures = Vec::new();
    let mut get = |binding: &str| match chain.lookup(ctx, binding) {
        Ok(found) => Some(found),
        Err(nf) => {
            failures.extend(nf.failures);
            None
        }
    };
    let found = |credential, source: &str| {
        Outcome::Found(Sourced {
            credential,
            source: format!("lookup_chain {source}"),
        })
    };
    if chain.has_binding("registrytoken")
        && let Some(f) = get("registrytoken")
    {
        return found(Credential::RegistryToken(f.secret), &f.source);
    }
    let username = if chain.has_binding("username") {
        get("username")
    } else {
        None
    };
    if chain.has_binding("identitytoken")
        && let Some(f) = get("identitytoken")
    {
        let username = username.map(|u| u.secret.expose().to_string());
        return found(
            Credential::IdentityToken {
                username,
                token: f.secret,
                password: None,
            },
            &f.source,
        );
    }
    if chain.has_binding("auth")
        && let Some(f) = get("auth")
    {
        return match Credential::from_auth(&f.secret) {
            Ok(c) => found(c, &f.source),
            Err(why) => {
                Outcome::Failed(Error::new(format!("lookup_chain {}: auth {why}", f.source)))
            }
        };
    }
    if chain.has_binding("password")
        && let Some(p) = get("password")
    {
        return match username {
            Some(u) => found(
                Credential::from_user_password(u.secret.expose(), p.secret),
                &format!("{} and {}", u.source, p.source),
            ),
            None => Outcome::Failed(
                Error::new(format!(
                    "lookup_chain found a password ({}) but no username",
                    p.source
                ))
                .hint("add a source with \"binding\": \"username\""),
            ),
        };
    }
    if let Some(u) = username
        && !has_default_username(chain)
    {
        return Outcome::Failed(half_credential(chain, &u.source, failures.first()));
    }
    match failures.into_iter().next() {
        Some(e) => Outcome::Failed(e),
        None => Outcome::Missing("nothing found".into()),
    }
}

/// A `static` username is a default for whatever token turns up (the ghcr.io entry's), so on
/// its own it is no credential; any other username alone is half of one.
fn has_default_username(chain: &LookupChain) -> bool {
    chain
        .0
        .iter()
        .any(|s| s.binding() == "username" && matches!(s, lookup::Source::Static { .. }))
}

/// A username without its password: an anonymous pull would only fail later with a 401, so
/// say which source gave the half and what is missing.
fn half_credential(chain: &LookupChain, from: &str, failure: Option<&Error>) -> Error {
    let mut what = format!("lookup_chain found a username ({from}) but no password");
    if let Some(f) = failure {
        what.push_str(&format!(": {f}"));
    }
    let tried: Vec<_> = chain
        .0
        .iter()
        .filter(|s| s.binding() == "password")
        .map(|s| s.describe())
        .collect();
    let hint = if tried.is_empty() {
        "add a source with \"binding\": \"password\" (or identitytoken)".to_string()
    } else {
        format!(
            "tried {}; set one, or drop the username source",
            tried.join(", ")
        )
    };
    Error::new(what).hint(hint)
}

//! What `credential-helper login` saved (`kernel::login_store`), as a registry credential
//! source, and the one rule naming the host a login is saved under.

use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::login_store::{Held, LoginStore, Saved};
use crate::kernel::outcome::Outcome;
use crate::kernel::transport::require_secure;
use crate::registry::reference::{DOCKER_HUB, Target};
use crate::registry::{Credential, Located, Sourced};

/// The key a login is saved under, from what a user or docker passes: the server URL's host
/// and port, lowercase, the scheme and path dropped, and `:443` too (`https://host:443` is
/// `host`), every Docker Hub name as `index.docker.io` (docker's `ConvertToHostname` and its
/// Hub aliases).
pub fn host_key(server: &str) -> Result<String> {
    let trimmed = server.trim();
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(":443").unwrap_or(&authority);
    let valid = !authority.is_empty()
        && !authority.starts_with(':')
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:[]".contains(c));
    if !valid {
        return Err(Error::new(format!("{server:?} is not a host name"))
            .hint("give the host, e.g. ghcr.io or cache.example.com:8443"));
    }
    Ok(match authority {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => DOCKER_HUB.to_string(),
        other => other.to_string(),
    })
}

/// The credential saved for the registry, as the token exchange takes it: a username and
/// secret, or (no username) the secret as the registry's own bearer token. Never read for
/// plain http to a host that is not loopback.
pub fn lookup(ctx: &Context, target: &Target) -> Outcome<Sourced> {
    if !may_carry(target) {
        return Outcome::Missing("not read for plain http".into());
    }
    let store = match LoginStore::open(&ctx.env) {
        Ok(Some(store)) => store,
        Ok(None) => return Outcome::Missing("no login store (no home directory)".into()),
        Err(e) => return Outcome::Failed(e),
    };
    match store.lookup(ctx.deadline, &target.registry) {
        Ok(Some(saved)) => Outcome::Found(sourced(saved)),
        Ok(None) => Outcome::Missing(format!("no login for {}", target.registry)),
        Err(e) => Outcome::Failed(e),
    }
}

fn sourced(saved: Saved) -> Sourced {
    let credential = match saved.username {
        Some(username) => Credential::from_user_password(&username, saved.secret),
        None => Credential::RegistryToken(saved.secret),
    };
    Sourced {
        credential,
        source: saved.source,
    }
}

/// Whether a login is there, and if its secret is in the keychain, where it is, so the token
/// cache is asked before the keychain (`registry::warm`). `Err(())` without a login.
pub fn locate(ctx: &Context, target: &Target) -> Result<Option<Located>, ()> {
    if !may_carry(target) {
        return Err(());
    }
    let store = LoginStore::open(&ctx.env).ok().flatten().ok_or(())?;
    // A broken file is reported by `lookup`.
    let Ok(Some(entry)) = store.entry(&target.registry) else {
        return Err(());
    };
    if entry.held != Held::Keychain {
        return Ok(None);
    }
    let source = format!(
        "credential-helper login ({})",
        store.describe(crate::kernel::login_store::Backend::Keychain)
    );
    let version = store.version().ok_or(())?;
    let identity = [
        "login",
        &store.path().display().to_string(),
        &target.registry,
        entry.username.as_deref().unwrap_or(""),
        &version,
    ]
    .join("\0");
    Ok(Some(Located { source, identity }))
}

fn may_carry(target: &Target) -> bool {
    url::Url::parse(&target.base_url()).is_ok_and(|url| require_secure(&url, false).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keys_follow_docker() {
        let table = [
            ("ghcr.io", "ghcr.io"),
            ("https://GHCR.io/v2/", "ghcr.io"),
            ("http://localhost:5000", "localhost:5000"),
            ("https://host:443/path", "host"),
            ("host:8443", "host:8443"),
            ("docker.io", "index.docker.io"),
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("registry-1.docker.io", "index.docker.io"),
            (" [::1]:5000 ", "[::1]:5000"),
        ];
        for (input, want) in table {
            assert_eq!(host_key(input).unwrap(), want, "{input}");
        }
        for bad in ["", "https://", ":443", "a b", "user@host", "a\tb"] {
            let err = host_key(bad).unwrap_err().to_string();
            assert!(err.contains("is not a host name"), "{bad:?}: {err}");
        }
    }
}

//! The pure planning step: request URL + config + environment (+ which hosts have a saved
//! login) → what to do. No I/O happens here, so every routing decision is unit-testable.

use crate::config::{Config, Entry};
use crate::helpers::{HelperConfig, oci};
use crate::kernel::env::Env;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::login_store::LoginStore;
use crate::kernel::transport::{NotSecure, is_presigned, require_secure};
use crate::registry::reference::Target;
use crate::registry::stores::{env_keychain, login};

/// What `get` will do for one URL.
#[derive(Debug)]
pub struct Plan<'c> {
    /// The entry that matched, if any.
    pub entry: Option<&'c Entry>,
    pub action: Action<'c>,
}

#[derive(Debug)]
pub enum Action<'c> {
    /// Answer `{"headers":{}}`, for the reason given.
    NoHeaders(String),
    /// Run a helper that needs no planning of its own.
    Run(&'c HelperConfig),
    Oci(oci::Plan<'c>),
    /// No entry matched, but `credential-helper login` saved this host: send its credential.
    Login(String),
}

/// Whether `credential-helper login` saved a host (a `login::host_key`); asked only for URLs
/// no entry matches.
pub type Logins<'a> = &'a dyn Fn(&str) -> bool;

/// Whether `login` saved `host`, for [`Logins`]. A store that cannot be read counts as saved,
/// so the login helper reports why rather than the request going out bare.
pub fn has_login(env: &Env, host: &str) -> bool {
    match LoginStore::open(env) {
        Ok(Some(store)) => store.entry(host).map_or(true, |e| e.is_some()),
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Whether a host no entry matches is a registry (for its registry API URLs, and for docker's
/// protocol and bare-host requests): it has a login, or, with the built-in defaults in force,
/// the environment keychain names it or the user says to guess.
pub fn unknown_host_is_registry(
    config: &Config,
    env: &Env,
    target: &Target,
    has_login: bool,
) -> Result<bool> {
    Ok(has_login
        || config.builtin_in_force()
            && (env.var(vars::GUESS_OCI_REGISTRY) == Some("1")
                || env_keychain::names_registry(env, target)?))
}

/// `raw_path` is the request's path as Bazel sent it (`protocol::raw_path`), for path globs.
pub fn plan<'c>(
    url: &url::Url,
    raw_path: &str,
    config: &'c Config,
    guessed: &'c oci::Config,
    env: &Env,
    logins: Logins,
) -> Result<Plan<'c>> {
    let Some(entry) = config.find(url, raw_path) else {
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let login = login::host_key(&authority).ok().filter(|h| logins(h));
        if let Some(target) = Target::from_url(url)
            && unknown_host_is_registry(config, env, &target, login.is_some())?
            && let Some(p) = oci::plan(url, guessed)?
        {
            let action = Action::Oci(p);
            return Ok(Plan {
                entry: None,
                action,
            });
        }
        let mut why = unmatched(url, raw_path, config);
        if let Some(host) = login {
            if require_secure(url, false).is_ok() {
                return Ok(Plan {
                    entry: None,
                    action: Action::Login(host),
                });
            }
            why.push_str(&format!(
                "; the login for {host} is not sent over plain http"
            ));
        }
        return Ok(Plan {
            entry: None,
            action: Action::NoHeaders(why),
        });
    };
    let action = match &entry.helper {
        HelperConfig::Null => Action::NoHeaders("the null helper sends no headers".into()),
        HelperConfig::Oci(c) => match oci::plan(url, c)? {
            Some(p) => Action::Oci(p),
            None => Action::NoHeaders("not a registry manifest, blob or tag-list URL".into()),
        },
        other if other.signed_urls_need_nothing() && is_presigned(url) => {
            Action::NoHeaders("the URL carries its own signature".into())
        }
        other => {
            // The transport rule, for every helper that sends a credential (oci applies it
            // in its own plan, above): before any helper runs, so none can skip it.
            require_secure(url, other.insecure()).map_err(|refused| refuse(url, other, refused))?;
            Action::Run(other)
        }
    };
    Ok(Plan {
        entry: Some(entry),
        action,
    })
}

/// Why nothing matched; for a file that replaces the defaults, the default it hides, if any.
fn unmatched(url: &url::Url, raw_path: &str, config: &Config) -> String {
    let why = format!("no entry in {} matches", config.origin);
    if config.builtin_in_force() {
        return why;
    }
    match Config::defaults().ok().and_then(|d| {
        d.find(url, raw_path)
            .map(|e| (e.describe(), e.helper.name()))
    }) {
        Some((entry, helper)) => format!(
            "{why}; the built-in defaults would use {helper} ({entry}), but this config replaces them: add \"defaults\": \"extend\" to keep them"
        ),
        None => why,
    }
}

fn refuse(url: &url::Url, helper: &HelperConfig, refused: NotSecure) -> Error {
    let error = Error::new(format!(
        "refusing to send {} credentials for {} over {}://",
        helper.name(),
        url.host_str().unwrap_or_default(),
        refused.scheme
    ));
    if helper.has_insecure_option() {
        error.hint("use https, or mark the entry's config \"insecure\": true for a server you trust on a private network")
    } else {
        error.hint("use an https:// URL; plain http is allowed only to loopback")
    }
}

#[cfg(test)]
mod tests;

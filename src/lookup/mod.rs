//! The config's lookup chain: an ordered list of sources (env, file, static, keyring), each
//! bound to a name the helper reads.

use serde::Deserialize;

use crate::kernel::context::Context;
use crate::kernel::error::Error;
use crate::kernel::outcome::{Chain, Outcome};
use crate::kernel::secret::Secret;
use crate::note;

pub mod env;
pub mod file;
pub mod keyring;
pub mod static_value;

/// One lookup-chain source, as written in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase", deny_unknown_fields)]
pub enum Source {
    Env {
        name: String,
        #[serde(default = "default_binding")]
        binding: String,
    },
    File {
        path: String,
        #[serde(default = "default_binding")]
        binding: String,
    },
    Static {
        value: Secret,
        #[serde(default = "default_binding")]
        binding: String,
    },
    Keyring {
        service: String,
        #[serde(default)]
        account: Option<String>,
        #[serde(default = "default_binding")]
        binding: String,
    },
}

pub const DEFAULT_BINDING: &str = "default";

fn default_binding() -> String {
    DEFAULT_BINDING.to_string()
}

impl Source {
    pub fn binding(&self) -> &str {
        match self {
            Source::Env { binding, .. }
            | Source::File { binding, .. }
            | Source::Static { binding, .. }
            | Source::Keyring { binding, .. } => binding,
        }
    }

    /// `env GH_TOKEN`, `file ~/x`: for messages.
    pub fn describe(&self) -> String {
        match self {
            Source::Env { name, .. } => format!("env {name}"),
            Source::File { path, .. } => format!("file {path}"),
            Source::Static { .. } => "static value".to_string(),
            Source::Keyring { service, .. } => format!("keyring service {service:?}"),
        }
    }

    fn fetch(&self, ctx: &Context) -> Outcome {
        match self {
            Source::Env { name, .. } => env::fetch(&ctx.env, name),
            Source::File { path, .. } => file::fetch(&ctx.env, path),
            Source::Static { value, .. } => static_value::fetch(value),
            Source::Keyring {
                service, account, ..
            } => keyring::fetch(ctx, service, account.as_deref()),
        }
    }
}

/// An ordered list of sources; the first that yields a value wins.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct LookupChain(pub Vec<Source>);

/// A value found by a lookup chain, and which source gave it.
#[derive(Debug, Clone)]
pub struct Found {
    pub secret: Secret,
    pub source: String,
}

/// Nothing found: what was tried and what failed, for the error message.
#[derive(Debug, Default)]
pub struct NotFound {
    pub tried: Vec<String>,
    pub failures: Vec<Error>,
}

impl NotFound {
    /// "no secret found (tried env A, file b; file b: permission denied)".
    pub fn into_error(self, what: &str) -> Error {
        let tried = if self.tried.is_empty() {
            "no sources configured".to_string()
        } else {
            format!("tried {}", self.tried.join(", "))
        };
        match self.failures.first() {
            Some(f) => Error::new(format!("no {what} found: {f}")).hint(tried),
            None => Error::new(format!("no {what} found")).hint(tried),
        }
    }
}

impl LookupChain {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every source's binding must be one the helper reads: a typo would never be looked up.
    pub fn check_bindings(&self, allowed: &[&str]) -> Result<(), String> {
        match self.0.iter().find(|s| !allowed.contains(&s.binding())) {
            Some(source) => Err(format!(
                "lookup_chain: binding {:?} of {} is not one of: {} ({}a binding names the value a source provides)",
                source.binding(),
                source.describe(),
                allowed.join(", "),
                crate::kernel::suggest::did_you_mean(source.binding(), allowed.iter().copied())
            )),
            None => Ok(()),
        }
    }

    pub fn has_binding(&self, binding: &str) -> bool {
        self.0.iter().any(|s| s.binding() == binding)
    }

    /// Looks `binding` up through the sources that provide it, in order.
    pub fn lookup(&self, ctx: &Context, binding: &str) -> Result<Found, NotFound> {
        let mut chain = Chain::new(&ctx.trace);
        let mut tried = Vec::new();
        for source in self.0.iter().filter(|s| s.binding() == binding) {
            let what = source.describe();
            tried.push(what.clone());
            let outcome = match source.fetch(ctx) {
                Outcome::Failed(e) => Outcome::Failed(e.context(&what)),
                other => other,
            };
            if let Some(secret) = chain.consider(&format!("lookup {binding}: {what}"), outcome) {
                note!(ctx.trace, "lookup {binding}: {what}: found");
                return Ok(Found {
                    secret,
                    source: what,
                });
            }
        }
        Err(NotFound {
            tried,
            failures: chain.into_failures(),
        })
    }
}

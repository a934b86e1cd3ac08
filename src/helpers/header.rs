//! `header`: one header whose value comes from a lookup chain. For remote caches, BES
//! endpoints and artifact servers.
//!
//! ```json
//! {"header_name": "x-api-key", "prefix": "", "lookup_chain": [{"source": "env", "name": "KEY"}]}
//! {"auth_method": "basic", "lookup_chain": [{"source": "file", "path": "~/.artifactory"}]}
//! ```

use base64::Engine;
use serde::Deserialize;

use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::lookup::{DEFAULT_BINDING, LookupChain};
use crate::note;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The header to send; `Authorization` when `auth_method` is set and this is not.
    #[serde(default)]
    pub header_name: Option<String>,
    /// Put before the secret, e.g. `"Bearer "`.
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub auth_method: Option<AuthMethod>,
    pub lookup_chain: LookupChain,
    /// No secret found is an error (default); `false` answers no headers instead, for
    /// services that also work anonymously.
    #[serde(default = "yes")]
    pub required: bool,
    /// Allow plain http off loopback (a server you trust on a private network).
    #[serde(default)]
    pub insecure: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// The secret is `user:password`; sent as `Basic base64(user:password)`.
    Basic,
    /// Sent as `Bearer <secret>`.
    Bearer,
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        match (&self.header_name, self.auth_method) {
            (None, None) => return Err("set header_name (or auth_method)".into()),
            (Some(name), _) if !is_header_name(name) => {
                return Err("header_name is not a valid HTTP header name".into());
            }
            _ => {}
        }
        if self.auth_method.is_some() && !self.prefix.is_empty() {
            return Err("prefix cannot be combined with auth_method".into());
        }
        if !self.lookup_chain.has_binding(DEFAULT_BINDING) {
            return Err("lookup_chain needs at least one source (with binding \"default\")".into());
        }
        Ok(())
    }

    pub fn header_name(&self) -> &str {
        self.header_name.as_deref().unwrap_or("Authorization")
    }
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub fn run(ctx: &Context, config: &Config) -> Result<Response> {
    let name = config.header_name();
    let found = match config.lookup_chain.lookup(ctx, DEFAULT_BINDING) {
        Ok(found) => found,
        Err(nf) if !config.required && nf.failures.is_empty() => {
            note!(
                ctx.trace,
                "header {name}: no secret, and it is optional: no headers"
            );
            return Ok(Response::empty());
        }
        Err(nf) => return Err(nf.into_error(&format!("secret for header {name}"))),
    };
    note!(ctx.trace, "header {name}: secret from {}", found.source);
    let value = match config.auth_method {
        Some(AuthMethod::Basic) => {
            if !found.secret.expose().contains(':') {
                return Err(Error::new(format!(
                    "the secret from {} is not of the form user:password",
                    found.source
                ))
                .hint("auth_method \"basic\" needs user:password"));
            }
            let b64 = base64::engine::general_purpose::STANDARD.encode(found.secret.expose());
            Secret::new(format!("Basic {b64}"))
        }
        Some(AuthMethod::Bearer) => Secret::new(format!("Bearer {}", found.secret.expose())),
        None => Secret::new(format!("{}{}", config.prefix, found.secret.expose())),
    };
    Response::empty().secret_header(name, value, &format!("the secret from {}", found.source))
}

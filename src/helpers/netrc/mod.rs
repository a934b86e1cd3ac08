//! `netrc`: `Authorization: Basic` from `.netrc`. Bazel reads `.netrc` itself only for hosts
//! without a credential helper, so a helper configured for every host must do it too.

pub mod file;

use serde::Deserialize;

use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::protocol::Response;
use crate::note;
use crate::registry::Credential;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A netrc file other than `$NETRC` / `~/.netrc`.
    #[serde(default)]
    pub path: Option<String>,
    /// Allow plain http off loopback (a server you trust on a private network).
    #[serde(default)]
    pub insecure: bool,
}

pub fn run(ctx: &Context, config: &Config, url: &url::Url) -> Result<Response> {
    let path = match (config.path.as_deref(), ctx.env.var(vars::NETRC)) {
        (Some(p), _) | (None, Some(p)) => ctx.env.expand_path(p),
        (None, None) => match ctx.env.home() {
            Some(home) => home.join(".netrc"),
            None => return Ok(Response::empty()),
        },
    };
    let Some(text) = files::read_text(&path)? else {
        note!(ctx.trace, "netrc: {} does not exist", path.display());
        return Ok(Response::empty());
    };
    let parsed = file::parse(&text).map_err(|why| {
        Error::new(format!(
            "{} is not a valid netrc file: {why}",
            path.display()
        ))
    })?;
    let host = url.host_str().unwrap_or_default();
    match parsed.find(host) {
        Some(file::Entry {
            machine,
            login: Some(login),
            password: Some(password),
        }) => {
            let which = machine.as_deref().unwrap_or("default");
            note!(
                ctx.trace,
                "netrc: {} entry {which} for {host}",
                path.display()
            );
            Response::empty().secret_header(
                "Authorization",
                Credential::basic_header(login, password),
                &format!("the login and password of {} entry {which}", path.display()),
            )
        }
        _ => {
            note!(
                ctx.trace,
                "netrc: no login and password for {host} in {}",
                path.display()
            );
            Ok(Response::empty())
        }
    }
}

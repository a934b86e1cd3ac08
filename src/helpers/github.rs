//! `github`: GitHub downloads (release assets, archives, the API, raw files).
//!
//! `github.com`, `api.github.com` and `*.github.com` take `Authorization: Bearer <token>`;
//! `raw.githubusercontent.com` needs `Basic base64(<token>:)` for Actions tokens. Redirect
//! targets that carry their own signature get nothing: an extra `Authorization` header makes
//! their storage backend refuse the request.

use base64::Engine;
use serde::Deserialize;

use crate::cloud::github;
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::outcome::Outcome;
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::lookup::{DEFAULT_BINDING, LookupChain};
use crate::note;

/// Hosts that GitHub redirects to with credentials of their own in the URL.
const SIGNED_HOSTS: &[&str] = &[
    "objects.githubusercontent.com",
    "release-assets.githubusercontent.com",
    "github-releases.githubusercontent.com",
    "codeload.github.com",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the token comes from; default `GH_TOKEN`, then `GITHUB_TOKEN`.
    #[serde(default)]
    pub lookup_chain: LookupChain,
    /// Fall back to the gh CLI: its `hosts.yml`, then `gh auth token` (the token gh keeps in
    /// the OS keyring).
    #[serde(default = "yes")]
    pub parse_gh_config: bool,
    /// No token is an error instead of an anonymous download.
    #[serde(default)]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// What a URL needs.
#[derive(Debug, PartialEq, Eq)]
enum Scheme {
    Bearer,
    BasicTokenColon,
    Nothing(&'static str),
}

fn scheme_for(url: &url::Url) -> Scheme {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    // A URL with a signature in its query never gets here: the plan answers it without
    // headers (`kernel::transport::is_presigned`).
    if SIGNED_HOSTS.contains(&host.as_str()) {
        return Scheme::Nothing("a pre-signed redirect target");
    }
    if host == "raw.githubusercontent.com" {
        return Scheme::BasicTokenColon;
    }
    Scheme::Bearer
}

pub fn run(ctx: &Context, config: &Config, url: &url::Url) -> Result<Response> {
    let scheme = scheme_for(url);
    if let Scheme::Nothing(why) = scheme {
        note!(ctx.trace, "github: no header: {why}");
        return Ok(Response::empty());
    }
    let Some((token, source)) = find_token(ctx, config)? else {
        if config.required {
            return Err(Error::new("no GitHub token found")
                .hint("set GH_TOKEN or GITHUB_TOKEN, or run `gh auth login`"));
        }
        note!(ctx.trace, "github: no token, downloading anonymously");
        return Ok(Response::empty());
    };
    note!(ctx.trace, "github: token from {source}");
    let value = match scheme {
        Scheme::BasicTokenColon => {
            let raw = format!("{}:", token.expose());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        }
        _ => format!("Bearer {}", token.expose()),
    };
    Response::empty().secret_header(
        "Authorization",
        Secret::new(value),
        &format!("the token from {source}"),
    )
}

fn find_token(ctx: &Context, config: &Config) -> Result<Option<(Secret, String)>> {
    if !config.lookup_chain.is_empty() {
        match config.lookup_chain.lookup(ctx, DEFAULT_BINDING) {
            Ok(found) => return Ok(Some((found.secret, found.source))),
            Err(nf) => {
                if let Some(e) = nf.failures.into_iter().next() {
                    return Err(e);
                }
            }
        }
    }
    let env_names: &[&str] = if config.lookup_chain.is_empty() {
        &[vars::GH_TOKEN, vars::GITHUB_TOKEN]
    } else {
        &[]
    };
    if !config.parse_gh_config {
        return Ok(env_names
            .iter()
            .find_map(|n| ctx.env.var(n).map(|v| (Secret::new(v), format!("env {n}")))));
    }
    match github::token_or_gh(ctx, env_names, "github.com") {
        Outcome::Found(t) => Ok(Some((t.token, t.source))),
        Outcome::Missing(why) => {
            note!(ctx.trace, "github: {why}");
            Ok(None)
        }
        Outcome::Failed(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_urls_get_what() {
        let table = [
            (
                "https://github.com/o/r/releases/download/v1/x.tgz",
                Scheme::Bearer,
            ),
            (
                "https://api.github.com/repos/o/r/tarball/v1",
                Scheme::Bearer,
            ),
            ("https://uploads.github.com/x", Scheme::Bearer),
            (
                "https://raw.githubusercontent.com/o/r/main/f",
                Scheme::BasicTokenColon,
            ),
        ];
        for (u, want) in table {
            assert_eq!(scheme_for(&url::Url::parse(u).unwrap()), want, "{u}");
        }
        for u in [
            "https://objects.githubusercontent.com/github-production-release-asset/1?X-Amz-Algorithm=x",
            "https://release-assets.githubusercontent.com/github-production-release-asset/1",
        ] {
            assert!(
                matches!(scheme_for(&url::Url::parse(u).unwrap()), Scheme::Nothing(_)),
                "{u}"
            );
        }
    }
}

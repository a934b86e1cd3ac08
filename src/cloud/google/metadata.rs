//! The GCE metadata server: a token for the machine's service account, probed for at most a
//! second and remembered as absent.

use std::time::Duration;

use super::oauth::{AccessToken, cached};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::Error;
use crate::kernel::http::Request;
use crate::kernel::outcome::Outcome;
use crate::kernel::token::parse_response;

const METADATA_HOST: &str = "metadata.google.internal";

/// Off Google Cloud the metadata host does not resolve or answer; do not wait for it.
const METADATA_TIMEOUT: Duration = Duration::from_millis(1000);

/// The metadata server's default service account. Unreachable means "not on Google Cloud".
pub(super) fn token(ctx: &Context, scopes: &[String]) -> Outcome<AccessToken> {
    if ctx
        .env
        .var(vars::NO_GCE_CHECK)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    {
        return Outcome::Missing(format!("metadata server skipped ({})", vars::NO_GCE_CHECK));
    }
    let host = ctx
        .env
        .var(vars::GCE_METADATA_HOST)
        .unwrap_or(METADATA_HOST);
    let raw = format!(
        "http://{host}/computeMetadata/v1/instance/service-accounts/default/token?scopes={}",
        scopes.join(",")
    );
    let Ok(url) = url::Url::parse(&raw) else {
        return Outcome::Failed(Error::new(format!(
            "{} {host:?} is not a host[:port]",
            vars::GCE_METADATA_HOST
        )));
    };
    let key = Key::new(&["google-metadata", host, &scopes.join(" ")]);
    // An unreachable server is remembered, so the processes of a build probe it once, not
    // once each.
    let here = ["google-metadata", host];
    let now = ctx.env.now();
    if let Some(why) = ctx.cache().absent(&here, now) {
        return Outcome::Missing(format!("{why} (remembered)"));
    }
    let what = format!("GCE metadata server {host}");
    let mut absent = None;
    let result = cached(ctx, &key, what.clone(), || {
        let request = Request::get(url.clone())
            .header("Metadata-Flavor", "Google")
            .probe(METADATA_TIMEOUT);
        let response = match ctx.http.send(&request) {
            Ok(r) => r,
            Err(e) => {
                absent = Some(format!("no metadata server at {host} ({e})"));
                return Err(e);
            }
        };
        if !response.is_success() {
            return Err(
                Error::new(format!("{what} answered {} for a token", response.status))
                    .hint("check that the instance has a service account with these scopes"),
            );
        }
        let token = parse_response(&response.body, ctx.env.now())
            .map_err(|why| Error::new(format!("{what} {why}")))?;
        Ok((token.token, token.expires))
    });
    match (result, absent) {
        (Ok(t), _) => Outcome::Found(t),
        (Err(_), Some(why)) => {
            ctx.cache().remember_absent(&here, now, &why);
            Outcome::Missing(why)
        }
        (Err(e), None) => Outcome::Failed(e),
    }
}

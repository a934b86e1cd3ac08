//! The token cache's door by source: a bearer token found by where its credential comes from
//! ([`Located`]), before the credential is fetched, for sources whose credential costs a
//! process (docker credential helpers).
//!
//! The token itself stays keyed by the credential's fingerprint (`helpers::oci`): this entry is
//! written only after the source was asked and its credential exchanged (or found in the
//! cache under its fingerprint), with that token's expiry. So a credential the source now
//! answers differently gets a new token as soon as it is read, on the first miss here; and a
//! new identity (another helper, an edited config) misses here.

use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::error::Result;
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::note;
use crate::registry::reference::Target;
use crate::registry::sources::Sources;
use crate::registry::{Located, bearer};

/// Registry, repository and scope, like the token's own key, and the source's identity.
pub fn key(target: &Target, scope: &str, located: &Located) -> Key {
    Key::new(&[
        "token-by-source",
        &target.base_url(),
        scope,
        &located.identity,
    ])
}

/// Answers a request whose credential would come from a helper (see [`Sources::locate`]) with
/// the token kept by the helper's identity; anything else, and a miss, with `answer`. On a
/// miss one process per key answers, and the others wait, then read the token it kept:
/// `answer` keeps it under [`key`] once it knows the token was made with this source's
/// credential. When no token comes of it (the helper has nothing for this registry, a Basic
/// challenge, a failure), that is remembered for a while, so gets no longer queue for it.
pub fn answer(
    ctx: &Context,
    cache_on: bool,
    sources: &Sources,
    target: &Target,
    scope: &str,
    response: Response,
    answer: impl Fn(Response, Option<&Located>) -> Result<Response>,
) -> Result<Response> {
    let cache = ctx.cache().only_if(cache_on);
    let Some(located) = (!cache.is_off())
        .then(|| sources.locate(ctx, target))
        .flatten()
    else {
        return answer(response, None);
    };
    let located = &located;
    let (key, now) = (key(target, scope, located), ctx.env.now());
    let tokenless = ["token-by-source", &target.base_url(), &located.identity];
    let kept = match cache.get::<Secret>(&key, now) {
        Some((token, expires)) => {
            note!(
                ctx.trace,
                "cache: hit by source, {} not run",
                located.source
            );
            Ok((token, Some(expires)))
        }
        None if cache.absent(&tokenless, now).is_some() => Err(None),
        None => {
            let what = format!("{} by {}", target.registry, located.source);
            cache.fill_once(&key, now, &what, || {
                // Another process found no token here while we waited.
                if cache.absent(&tokenless, now).is_some() {
                    return Err(None);
                }
                let answered = answer(response.clone(), Some(located));
                if cache.get::<Secret>(&key, now).is_none() {
                    let why = format!("no token came of {}", located.source);
                    cache.remember_absent(&tokenless, now, &why);
                }
                Err(Some(answered))
            })
        }
    };
    match kept {
        Ok((token, expires)) => {
            let what = format!("the authorization for {}", target.registry);
            let what = format!("{what} made with {}", located.source);
            Ok(response
                .secret_header("Authorization", bearer(&token), &what)?
                .expires(expires))
        }
        Err(Some(answered)) => answered,
        Err(None) => answer(response, Some(located)),
    }
}

//! `oci`: container registries. Finds a credential (lookup chain, credential files, docker
//! config, podman auth.json), performs the token exchange the registry's challenge asks for,
//! and answers `Authorization` (plus `Accept` for manifests, which Bazel's downloader does not
//! send).

use serde::{Deserialize, Serialize};

pub use crate::helpers::oci_config::Config;

use crate::kernel::cache::{Entry, Key};
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::http::{self, Request};
use crate::kernel::protocol::Response;
use crate::kernel::secret::Secret;
use crate::kernel::transport::require_secure;
use crate::note;
use crate::registry::challenge::{self, Challenge};
use crate::registry::reference::{ResourceKind, Target};
use crate::registry::sources::Sources;
use crate::registry::token::Exchange;
use crate::registry::{Credential, Located, Resolved, Sourced, bearer, warm};

/// Manifest and index media types, OCI and Docker, so any image resolves.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// The registry request to answer.
#[derive(Debug)]
pub struct Plan<'c> {
    pub target: Target,
    pub config: &'c Config,
}

/// Pure: which registry resource the URL is, and whether its scheme is allowed. `None` for
/// other paths on a registry host (`/v2/`, `/token`, CDN redirects), which get no headers.
pub fn plan<'c>(url: &url::Url, config: &'c Config) -> Result<Option<Plan<'c>>> {
    let Some(target) = Target::from_url(url) else {
        return Ok(None);
    };
    if let Err(refused) = require_secure(url, config.insecure) {
        return Err(Error::new(format!(
            "refusing to send registry credentials for {} over {}://",
            target.registry, refused.scheme
        ))
        .hint("use https, or mark the entry \"insecure\": true for a registry you trust"));
    }
    Ok(Some(Plan { target, config }))
}

pub fn run(ctx: &Context, plan: &Plan) -> Result<Response> {
    let Plan { target, config } = plan;
    let mut response = Response::empty();
    if target.kind == ResourceKind::Manifest && config.accept_header {
        response = response.public_header("Accept", MANIFEST_ACCEPT, "the Accept header")?;
    }
    if let Some(ca) = &config.ca_cert_path {
        ctx.http.trust(ctx.env.expand_path(ca));
    }
    let sources = config.sources();
    let scope = target.scope(&config.scope_actions());
    let answer = |response, located: Option<&_>| answer(ctx, plan, &sources, response, located);
    warm::answer(
        ctx,
        config.cache,
        &sources,
        target,
        &scope,
        response,
        answer,
    )
}

/// The credential an entry has for a registry as a whole, found in the one source order and
/// never exchanged: what docker's credential protocol and rules_img's bare-host requests get.
pub fn stored_credential(
    ctx: &Context,
    config: &Config,
    target: &Target,
) -> Result<Option<Resolved>> {
    if let Some(ca) = &config.ca_cert_path {
        ctx.http.trust(ctx.env.expand_path(ca));
    }
    find(ctx, &config.sources(), target)
}

/// The first credential the sources have for the registry; one with a control character in it
/// is an error naming its source.
fn find(ctx: &Context, sources: &Sources, target: &Target) -> Result<Option<Resolved>> {
    let found = sources.find(ctx, target)?;
    match &found {
        Some(Resolved::Credential(c)) if c.credential.has_control_character() => {
            return Err(Error::new(format!(
                "the {} from {} contains a control character",
                c.credential.kind(),
                c.source
            ))
            .hint("remove the line break or other control character from it"));
        }
        Some(Resolved::Credential(c)) => {
            let kind = c.credential.kind();
            note!(ctx.trace, "credential: {kind} from {}", c.source);
        }
        Some(Resolved::Authorization { source, .. }) => {
            note!(ctx.trace, "authorization from {source}, no exchange needed");
        }
        None => note!(ctx.trace, "credential: none found"),
    }
    Ok(found)
}

/// Finds the credential and answers with it, or anonymously.
fn answer(
    ctx: &Context,
    plan: &Plan,
    sources: &Sources,
    mut response: Response,
    located: Option<&Located>,
) -> Result<Response> {
    let Plan { target, config } = plan;
    let credential = match find(ctx, sources, target)? {
        Some(Resolved::Authorization {
            value,
            expires,
            source,
        }) => {
            // A finished answer (ECR): no exchange with the registry.
            let what = format!("the authorization from {source}");
            return Ok(response
                .secret_header("Authorization", value, &what)?
                .expires(expires));
        }
        Some(Resolved::Credential(c)) => Some(c),
        None => {
            note!(ctx.trace, "trying anonymous access");
            None
        }
    };
    if let Some(Sourced {
        credential: Credential::RegistryToken(token),
        source,
    }) = &credential
    {
        // Used as the bearer token directly; no exchange, so no network.
        let what = format!("the registry token from {source}");
        return response.secret_header("Authorization", bearer(token), &what);
    }
    let (header, expires) = authorize(ctx, target, config, credential.as_ref(), located)?;
    if let Some(header) = header {
        // From the token realm, the cache, or (Basic) the credential itself.
        let what = match &credential {
            Some(c) => format!(
                "the authorization for {} made with {}",
                target.registry, c.source
            ),
            None => format!("the anonymous token for {}", target.registry),
        };
        response = response.secret_header("Authorization", header, &what)?;
    }
    Ok(response.expires(expires))
}

/// What a registry's `/v2/` said about authentication.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "lowercase")]
enum Auth {
    /// 200: no authentication.
    Open,
    Basic,
    Bearer {
        challenge: Challenge,
    },
}

/// How long a registry's challenge is remembered; a stale one is forgotten on failure anyway.
const CHALLENGE_TTL: i64 = 24 * 3600;

/// Answers the registry's challenge, remembered or from a `/v2/` ping; bearer tokens come from
/// the cache when possible, and concurrent processes share one exchange.
fn authorize(
    ctx: &Context,
    target: &Target,
    config: &Config,
    credential: Option<&Sourced>,
    located: Option<&Located>,
) -> Result<(Option<Secret>, Option<i64>)> {
    let cache = ctx.cache().only_if(config.cache);
    if cache.is_off() {
        note!(ctx.trace, "cache: bypass");
    }
    let now = ctx.env.now();
    let scope = target.scope(&config.scope_actions());
    let asking = Asking {
        target,
        config,
        credential,
        scope: scope.clone(),
    };
    // A remembered challenge is held to the rule a fresh one meets at the exchange: its realm
    // must be one this credential (or an anonymous request) may go to.
    let valid = |auth: &Auth| match auth {
        Auth::Bearer { challenge } => asking.exchange(challenge).realm().is_ok(),
        Auth::Open | Auth::Basic => true,
    };
    let challenge_key = Key::new(&["challenge", &target.base_url()]);
    let remembered = cache.get_if(&challenge_key, now, valid).map(|(a, _)| a);
    if let Some(auth @ (Auth::Open | Auth::Basic)) = &remembered {
        note!(ctx.trace, "challenge: remembered {auth:?}, no ping");
        return answer_static(ctx, target, auth, credential);
    }

    let fingerprint = credential.map_or("anonymous".to_string(), |c| c.credential.fingerprint());
    let token_key = Key::new(&["token", &target.base_url(), &scope, &fingerprint]);
    let what = format!("{} {scope}", target.registry);
    let filled = cache.fill_once(&token_key, now, &what, || {
        let (auth, was_remembered) = match remembered {
            Some(auth) => {
                note!(ctx.trace, "challenge: remembered, no ping");
                (auth, true)
            }
            None => {
                let fresh = |(auth, _)| (auth, false);
                let what = format!("challenge of {}", target.registry);
                let pinged = cache.fill_once_if(&challenge_key, now, &what, valid, || {
                    Ok((ping(ctx, target)?, Some(now + CHALLENGE_TTL)))
                });
                pinged.map(fresh).map_err(Unfilled::Failed)?
            }
        };
        let Auth::Bearer { challenge } = &auth else {
            return Err(Unfilled::Static(auth));
        };
        let token = match asking.exchange(challenge).run(ctx) {
            Ok(t) => t,
            // A refusal of our credential is final; anything else may mean the registry moved
            // its realm: forget the challenge, ping again, retry once.
            Err(failure) if was_remembered && !failure.refused => {
                note!(
                    ctx.trace,
                    "exchange with the remembered challenge failed ({}); pinging again",
                    failure.error
                );
                cache.remove(&challenge_key);
                let auth = ping(ctx, target).map_err(Unfilled::Failed)?;
                cache.put(&challenge_key, &auth, now, now + CHALLENGE_TTL);
                match &auth {
                    Auth::Bearer { challenge } => asking
                        .exchange(challenge)
                        .run(ctx)
                        .map_err(|f| Unfilled::Failed(f.error))?,
                    _ => return Err(Unfilled::Static(auth)),
                }
            }
            Err(failure) => return Err(Unfilled::Failed(failure.error)),
        };
        Ok((token.token, Some(token.expires)))
    });
    match filled {
        Ok((token, expires)) => {
            // Kept by source too, when made with the located helper's credential.
            if let (Some(l), Some(c), Some(until)) = (located, credential, expires)
                && c.source == l.source
            {
                cache.put(&warm::key(target, &scope, l), &token, now, until);
            }
            Ok((Some(bearer(&token)), expires))
        }
        Err(Unfilled::Static(auth)) => answer_static(ctx, target, &auth, credential),
        Err(Unfilled::Failed(e)) => Err(e),
    }
}

/// What an exchange for this request needs besides the challenge.
struct Asking<'a> {
    target: &'a Target,
    config: &'a Config,
    credential: Option<&'a Sourced>,
    scope: String,
}

impl Asking<'_> {
    fn exchange<'c>(&'c self, challenge: &'c Challenge) -> Exchange<'c> {
        Exchange {
            target: self.target,
            challenge,
            scope: self.scope.clone(),
            credential: self.credential,
            method: self.config.token_exchange_method,
            insecure: self.config.insecure,
            allowed_realm_hosts: &self.config.realm_patterns,
        }
    }
}

/// Why no token was cached: the registry needs none (open, Basic), or the exchange failed.
enum Unfilled {
    Static(Auth),
    Failed(Error),
}

impl Entry for Auth {
    const MAX_LIFETIME: i64 = CHALLENGE_TTL;
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
    fn from_json(value: serde_json::Value) -> Option<Auth> {
        serde_json::from_value(value).ok()
    }
    /// A Bearer challenge's realm is judged per request, as at the exchange (`authorize`).
    fn is_valid(&self) -> bool {
        true
    }
}

/// Open registries get nothing; Basic challenges get the credential itself.
fn answer_static(
    ctx: &Context,
    target: &Target,
    auth: &Auth,
    credential: Option<&Sourced>,
) -> Result<(Option<Secret>, Option<i64>)> {
    match (auth, credential.map(|c| &c.credential)) {
        (Auth::Basic, Some(Credential::Basic { username, password })) => {
            note!(
                ctx.trace,
                "Basic challenge: answering with the credential directly"
            );
            Ok((Some(Credential::basic_header(username, password)), None))
        }
        (Auth::Basic, Some(other)) => Err(Error::new(format!(
            "registry {} asks for Basic auth, but the credential from {} is an {}",
            target.registry,
            credential.map(|c| c.source.as_str()).unwrap_or(""),
            other.kind()
        ))
        .hint("store a username and password for this registry")),
        _ => {
            note!(
                ctx.trace,
                "registry {} needs no credential here",
                target.registry
            );
            Ok((None, None))
        }
    }
}

/// `GET /v2/`: open, or its first Bearer or Basic challenge.
fn ping(ctx: &Context, target: &Target) -> Result<Auth> {
    let url = url::Url::parse(&format!("{}/v2/", target.base_url())).map_err(|e| {
        Error::new(format!(
            "invalid registry address {}: {e}",
            target.authority
        ))
    })?;
    note!(ctx.trace, "ping GET {url}");
    let response = ctx
        .http
        .send(&Request::get(url.clone()))
        .map_err(|e| e.context(format!("registry {}", target.registry)))?;
    note!(ctx.trace, "ping answered {}", response.status);
    if response.is_success() {
        return Ok(Auth::Open);
    }
    if response.status != 401 {
        return Err(Error::new(format!(
            "registry {} answered {} to GET {}",
            target.registry,
            response.status,
            http::redact_url(&url)
        ))
        .hint("check that the URL points at a container registry"));
    }
    let challenges = challenge::parse_all(response.header_values("www-authenticate"));
    match challenges
        .into_iter()
        .find(|c| c.scheme == "bearer" || c.scheme == "basic")
    {
        Some(c) if c.scheme == "basic" => Ok(Auth::Basic),
        Some(challenge) => Ok(Auth::Bearer { challenge }),
        None => Err(Error::new(format!(
            "registry {} answered 401 without a Bearer or Basic challenge",
            target.registry
        ))),
    }
}

//! Microsoft Entra ID (Azure AD) access tokens, for the azure keychain (ACR) and the `azblob`
//! helper.
//!
//! The identity is found the way the Azure SDKs' `DefaultAzureCredential` finds it (of the
//! developer tools, only the Azure CLI):
//! 1. client secret: `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` + `AZURE_TENANT_ID`;
//! 2. workload identity: `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` + `AZURE_TENANT_ID`
//!    (AKS workload identity, OIDC federation from CI);
//! 3. managed identity: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service, Functions,
//!    Container Apps), else the instance metadata service (VMs, scale sets, AKS nodes), probed
//!    with a short timeout so that a machine off Azure moves on quickly;
//! 4. off Azure, the Azure CLI's login: `az account get-access-token`.
//!
//! Tokens go through the cache, keyed by identity and resource, with the registry tokens'
//! safety margin.

mod cli;
mod entra;
mod identity;
mod managed;

pub use cli::parse_cli_token;

use identity::Identity;

use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::note;
use std::convert::Infallible;

/// Azure Resource Manager: the audience ACR's `/oauth2/exchange` accepts.
pub const ARM_RESOURCE: &str = "https://management.azure.com";

/// Azure Storage (Blob, Data Lake, Queue...).
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com";

/// An access token, and which identity it belongs to.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    /// Unix seconds, safety margin applied.
    pub expires: i64,
    /// The identity, for messages: `client secret of AZURE_CLIENT_ID ...`.
    pub source: String,
    /// The tenant, when the identity names it.
    pub tenant: Option<String>,
    /// Identifies the identity in cache keys without revealing any secret.
    pub identity: String,
}

/// An access token for `resource` (`https://storage.azure.com`), from the cache or the first
/// identity the environment configures. `Missing` only when nothing is configured and no
/// managed identity answers; a configured identity that fails is `Failed`.
pub fn token(ctx: &Context, resource: &str) -> Outcome<AccessToken> {
    let identity = match Identity::from_env(&ctx.env) {
        Ok(i) => i,
        Err(e) => return Outcome::Failed(e),
    };
    let managed = matches!(identity, Identity::Imds { .. });
    match token_from(ctx, &identity, resource) {
        // Off Azure, a developer's `az login` comes next, as in `DefaultAzureCredential`.
        Outcome::Missing(why) if managed => match Identity::azure_cli(&ctx.env) {
            Some(cli) => {
                note!(ctx.trace, "azure: {why}; trying the Azure CLI");
                azure_cli_token(ctx, &cli, resource, &why)
            }
            None => Outcome::Missing(format!("{why}; no az (Azure CLI) on PATH")),
        },
        other => other,
    }
}

/// The Azure CLI's token. An `az` that is installed but not logged in is not an error, as in
/// `DefaultAzureCredential`: the keychain steps aside (for `az acr login`'s entry in docker's
/// config, say). That is remembered (`cache::ABSENCE_TTL`), so that the processes of one build
/// do not each wait for `az`.
fn azure_cli_token(
    ctx: &Context,
    cli: &Identity,
    resource: &str,
    before: &str,
) -> Outcome<AccessToken> {
    let identity = cli.cache_identity();
    let absent = ["azure-cli", identity.as_str(), resource];
    let now = ctx.env.now();
    if let Some(why) = ctx.cache().absent(&absent, now) {
        return Outcome::Missing(format!("{before}; {why} (remembered from a recent run)"));
    }
    match token_from(ctx, cli, resource) {
        Outcome::Failed(e) => {
            let why = e.to_string();
            ctx.cache().remember_absent(&absent, now, &why);
            Outcome::Missing(format!("{before}; {why}"))
        }
        other => other,
    }
}

/// A token of one identity, through the cache.
fn token_from(ctx: &Context, identity: &Identity, resource: &str) -> Outcome<AccessToken> {
    let source = identity.describe();
    let id = identity.cache_identity();
    let key = Key::new(&["azure-token", &id, resource]);
    let what = format!("azure token for {resource} ({source})");
    let filled = ctx.cache().fill_once(&key, ctx.env.now(), &what, || {
        note!(
            ctx.trace,
            "azure: requesting a token for {resource} ({source})"
        );
        match identity.fetch(ctx, resource) {
            Outcome::Found((t, expires)) => Ok((t, Some(expires))),
            Outcome::Missing(why) => Err(Outcome::<Infallible>::Missing(why)),
            Outcome::Failed(e) => Err(Outcome::Failed(e)),
        }
    });
    match filled {
        Ok((token, expires)) => Outcome::Found(AccessToken {
            token,
            expires: expires.unwrap_or_default(),
            source: source.clone(),
            tenant: identity.tenant().map(str::to_string),
            identity: id.clone(),
        }),
        Err(Outcome::Failed(e)) => Outcome::Failed(e.context(&source)),
        Err(Outcome::Missing(why)) => Outcome::Missing(why),
        Err(Outcome::Found(never)) => match never {},
    }
}

//! Azure Container Registry: an Entra ID token for Azure Resource Manager, traded at the
//! registry's `/oauth2/exchange` for an ACR refresh token. The refresh token is an identity
//! token: the normal OAuth2 exchange at the registry's realm turns it into an access token.

use serde::Deserialize;

use crate::cloud::azure::{self, ARM_RESOURCE};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::error::{Error, describe_json};
use crate::kernel::http::{self, Request};
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::{Secret, has_control_character};
use crate::note;
use crate::registry::reference::Target;
use crate::registry::{Credential, Resolved, Sourced};

/// The username ACR expects with a refresh token (what `az acr login` stores).
pub const USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// Registry domains of the Azure clouds: public, China, Germany, US Government.
const DOMAINS: &[&str] = &[".azurecr.io", ".azurecr.cn", ".azurecr.de", ".azurecr.us"];

/// Whether `host` (no port) is an Azure container registry.
pub fn is_acr_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    DOMAINS
        .iter()
        .any(|d| host.strip_suffix(d).is_some_and(|name| !name.is_empty()))
}

pub fn lookup(ctx: &Context, target: &Target) -> Outcome<Resolved> {
    let aad = match azure::token(ctx, ARM_RESOURCE) {
        Outcome::Found(t) => t,
        Outcome::Missing(why) => return Outcome::Missing(why),
        Outcome::Failed(e) => return Outcome::Failed(e.context("azure keychain")),
    };
    match refresh_token(ctx, target, &aad) {
        Ok(token) => Outcome::Found(Resolved::Credential(Sourced {
            credential: Credential::IdentityToken {
                username: Some(USERNAME.to_string()),
                // ACR's GET endpoint takes the refresh token as this username's password
                // (what docker-credential-acr-env answers).
                password: Some(token.clone()),
                token,
            },
            source: format!("azure keychain ({})", aad.source),
        })),
        Err(e) => Outcome::Failed(e.context(format!("azure keychain: {}", aad.source))),
    }
}

/// The registry's refresh token for this identity: cached, or exchanged by one process for
/// all the processes of a build.
fn refresh_token(
    ctx: &Context,
    target: &Target,
    aad: &azure::AccessToken,
) -> Result<Secret, Error> {
    let key = Key::new(&["acr-refresh", &target.base_url(), &aad.identity]);
    let what = format!("acr refresh token for {}", target.registry);
    let (token, _) = ctx.cache().fill_once(&key, ctx.env.now(), &what, || {
        // ACR refresh tokens outlive the Entra token they came from, so its expiry is a safe
        // bound without reading the token.
        exchange(ctx, target, aad).map(|token| (token, Some(aad.expires)))
    })?;
    Ok(token)
}

#[derive(Deserialize)]
struct ExchangeAnswer {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `POST <registry>/oauth2/exchange`: Entra access token in, ACR refresh token out. The scheme
/// is the registry's own, which the oci plan has already held to https (or `insecure`).
fn exchange(ctx: &Context, target: &Target, aad: &azure::AccessToken) -> Result<Secret, Error> {
    let url = url::Url::parse(&format!("{}/oauth2/exchange", target.base_url())).map_err(|e| {
        Error::new(format!(
            "invalid registry address {}: {e}",
            target.authority
        ))
    })?;
    let mut fields = vec![
        ("grant_type", "access_token"),
        ("service", target.registry.as_str()),
        ("access_token", aad.token.expose()),
    ];
    if let Some(tenant) = &aad.tenant {
        fields.push(("tenant", tenant));
    }
    note!(ctx.trace, "azure keychain: POST {url}");
    let response = ctx.http.send(&Request::form(url.clone(), &fields))?;
    let shown = http::redact_url(&url);
    note!(
        ctx.trace,
        "azure keychain: {shown} answered {}",
        response.status
    );
    if !response.is_success() {
        let e = Error::new(format!("{shown} answered {}", response.status));
        return Err(match response.status {
            401 | 403 => e.hint("give the identity a pull role (AcrPull) on the registry"),
            _ => e,
        });
    }
    let answer: ExchangeAnswer = serde_json::from_slice(&response.body).map_err(|e| {
        Error::new(format!(
            "{shown} answered invalid JSON ({})",
            describe_json(&e)
        ))
    })?;
    match answer.refresh_token {
        Some(t) if !t.is_empty() && !has_control_character(&t) => Ok(Secret::new(t)),
        _ => Err(Error::new(format!(
            "{shown} answered without a refresh_token"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_hosts() {
        for (host, want) in [
            ("myreg.azurecr.io", true),
            ("MyReg.AzureCR.io", true),
            ("myreg.azurecr.cn", true),
            ("myreg.azurecr.de", true),
            ("myreg.azurecr.us", true),
            ("a.b.azurecr.io", true),
            ("azurecr.io", false),
            (".azurecr.io", false),
            ("myreg.azurecr.io.evil.com", false),
            ("myregazurecr.io", false),
            ("myreg.azurecr.com", false),
            ("ghcr.io", false),
        ] {
            assert_eq!(is_acr_host(host), want, "{host}");
        }
    }
}

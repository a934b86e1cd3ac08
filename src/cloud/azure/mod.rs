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

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::Error;
use crate::kernel::http::{self, Request};
use crate::kernel::outcome::Outcome;
use crate::kernel::process;
use crate::kernel::secret::{Secret, has_control_character};
use crate::kernel::token::{self, safety_margin};
use crate::kernel::transport::require_secure;
use crate::note;

/// Azure Resource Manager: the audience ACR's `/oauth2/exchange` accepts.
pub const ARM_RESOURCE: &str = "https://management.azure.com";
/// Azure Storage (Blob, Data Lake, Queue...).
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com";

const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_IMDS: &str = "http://169.254.169.254";
const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
const IMDS_API_VERSION: &str = "2018-02-01";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
/// Off Azure the metadata address leads nowhere; the SDKs also give up on it after a second.
const IMDS_PROBE_TIMEOUT: Duration = Duration::from_millis(1000);
/// Entra tokens live at least an hour; an older Azure CLI's answer states the expiry only in
/// local time, so its token is kept for a conservative five minutes.
const CLI_LIFETIME_WITHOUT_EXPIRY: i64 = 300;

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

/// Where the token comes from.
#[derive(Debug)]
enum Identity {
    ClientSecret {
        authority: url::Url,
        tenant: String,
        client_id: String,
        secret: Secret,
    },
    Federated {
        authority: url::Url,
        tenant: String,
        client_id: String,
        token_file: PathBuf,
    },
    AppService {
        endpoint: url::Url,
        header: Secret,
        client_id: Option<String>,
    },
    Imds {
        base: url::Url,
        client_id: Option<String>,
    },
    AzureCli {
        program: PathBuf,
        tenant: Option<String>,
        /// Who is logged in (`azureProfile.json`), fingerprinted: another `az login` must not
        /// reuse the previous account's token.
        account: String,
    },
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

impl Identity {
    /// The first identity the environment configures. A half-configured one (a secret without
    /// its tenant) is an error rather than a silent fall-through to managed identity.
    fn from_env(env: &Env) -> Result<Identity, Error> {
        let client_id = env.var(vars::AZURE_CLIENT_ID).map(str::to_string);
        // The secret wins over the token file, as in the SDKs.
        let proof = [vars::AZURE_CLIENT_SECRET, vars::AZURE_FEDERATED_TOKEN_FILE]
            .into_iter()
            .find_map(|name| Some((name, env.var(name)?)));
        if let Some((via, value)) = proof {
            let need = |name: &str| {
                env.var(name).map(str::to_string).ok_or_else(|| {
                    Error::new(format!("{via} is set but {name} is not")).hint(format!(
                        "set {}, {} and {via} together",
                        vars::AZURE_CLIENT_ID,
                        vars::AZURE_TENANT_ID
                    ))
                })
            };
            let client_id = need(vars::AZURE_CLIENT_ID)?;
            let tenant = need(vars::AZURE_TENANT_ID)?;
            if !is_tenant(&tenant) {
                return Err(Error::new(format!(
                    "{} {tenant:?} is not a tenant ID or domain",
                    vars::AZURE_TENANT_ID
                )));
            }
            let authority = authority(env)?;
            return Ok(if via == vars::AZURE_CLIENT_SECRET {
                Identity::ClientSecret {
                    authority,
                    tenant,
                    client_id,
                    secret: Secret::new(value),
                }
            } else {
                Identity::Federated {
                    authority,
                    tenant,
                    client_id,
                    token_file: env.expand_path(value),
                }
            });
        }
        if let (Some(endpoint), Some(header)) = (
            env.var(vars::IDENTITY_ENDPOINT),
            env.var(vars::IDENTITY_HEADER),
        ) {
            let endpoint = url::Url::parse(endpoint).map_err(|e| {
                Error::new(format!("{} is not a URL ({e})", vars::IDENTITY_ENDPOINT))
            })?;
            return Ok(Identity::AppService {
                endpoint,
                header: Secret::new(header),
                client_id,
            });
        }
        let base = env
            .var(vars::AZURE_POD_IDENTITY_AUTHORITY_HOST)
            .unwrap_or(DEFAULT_IMDS);
        let base = url::Url::parse(base).map_err(|e| {
            Error::new(format!(
                "{} is not a URL ({e})",
                vars::AZURE_POD_IDENTITY_AUTHORITY_HOST
            ))
        })?;
        Ok(Identity::Imds { base, client_id })
    }

    /// The Azure CLI, when it is on PATH.
    fn azure_cli(env: &Env) -> Option<Identity> {
        let program = env.which("az")?;
        let dir = match env.var(vars::AZURE_CONFIG_DIR) {
            Some(d) => Some(env.expand_path(d)),
            None => env.home().map(|h| h.join(".azure")),
        };
        let profile = dir
            .map(|d| std::fs::read(d.join("azureProfile.json")).unwrap_or_default())
            .unwrap_or_default();
        Some(Identity::AzureCli {
            program,
            tenant: env.var(vars::AZURE_TENANT_ID).map(str::to_string),
            account: Secret::new(String::from_utf8_lossy(&profile)).fingerprint(),
        })
    }

    fn describe(&self) -> String {
        let user_assigned = |id: &Option<String>| match id {
            Some(id) => format!(" ({} {id})", vars::AZURE_CLIENT_ID),
            None => String::new(),
        };
        match self {
            Identity::ClientSecret {
                tenant, client_id, ..
            } => format!(
                "client secret of {} {client_id} (tenant {tenant})",
                vars::AZURE_CLIENT_ID
            ),
            Identity::Federated {
                tenant,
                client_id,
                token_file,
                ..
            } => format!(
                "workload identity {} {} for {} {client_id} (tenant {tenant})",
                vars::AZURE_FEDERATED_TOKEN_FILE,
                token_file.display(),
                vars::AZURE_CLIENT_ID
            ),
            Identity::AppService {
                endpoint,
                client_id,
                ..
            } => format!(
                "managed identity at {} {}{}",
                vars::IDENTITY_ENDPOINT,
                http::redact_url(endpoint),
                user_assigned(client_id)
            ),
            Identity::Imds { base, client_id } => format!(
                "managed identity at the instance metadata service {}{}",
                http::redact_url(base),
                user_assigned(client_id)
            ),
            Identity::AzureCli { tenant, .. } => match tenant {
                Some(t) => format!("the Azure CLI's login (tenant {t})"),
                None => "the Azure CLI's login".to_string(),
            },
        }
    }

    /// Cache-key material: who the identity is, and a fingerprint of its secret, so that a
    /// rotated secret never reuses an old token.
    fn cache_identity(&self) -> String {
        match self {
            Identity::ClientSecret {
                authority,
                tenant,
                client_id,
                secret,
            } => format!(
                "secret\0{authority}\0{tenant}\0{client_id}\0{}",
                secret.fingerprint()
            ),
            Identity::Federated {
                authority,
                tenant,
                client_id,
                ..
            } => format!("federated\0{authority}\0{tenant}\0{client_id}"),
            Identity::AppService {
                endpoint,
                client_id,
                ..
            } => format!(
                "app-service\0{endpoint}\0{}",
                client_id.as_deref().unwrap_or("")
            ),
            Identity::Imds { base, client_id } => {
                format!("imds\0{base}\0{}", client_id.as_deref().unwrap_or(""))
            }
            Identity::AzureCli {
                tenant, account, ..
            } => format!("az-cli\0{}\0{account}", tenant.as_deref().unwrap_or("")),
        }
    }

    fn tenant(&self) -> Option<&str> {
        match self {
            Identity::ClientSecret { tenant, .. } | Identity::Federated { tenant, .. } => {
                Some(tenant)
            }
            Identity::AzureCli { tenant, .. } => tenant.as_deref(),
            _ => None,
        }
    }

    /// The token and its expiry (margin applied).
    fn fetch(&self, ctx: &Context, resource: &str) -> Outcome<(Secret, i64)> {
        match self {
            Identity::ClientSecret {
                authority,
                tenant,
                client_id,
                secret,
            } => entra(
                ctx,
                authority,
                tenant,
                client_id,
                resource,
                &[("client_secret", secret.expose())],
            ),
            Identity::Federated {
                authority,
                tenant,
                client_id,
                token_file,
            } => {
                let assertion = match std::fs::read_to_string(token_file) {
                    Ok(t) if !t.trim().is_empty() => Secret::new(t.trim()),
                    Ok(_) => {
                        return Outcome::Failed(Error::new(format!(
                            "{} is empty",
                            token_file.display()
                        )));
                    }
                    Err(e) => {
                        return Outcome::Failed(Error::new(format!(
                            "cannot read {}: {e}",
                            token_file.display()
                        )));
                    }
                };
                entra(
                    ctx,
                    authority,
                    tenant,
                    client_id,
                    resource,
                    &[
                        (
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        ),
                        ("client_assertion", assertion.expose()),
                    ],
                )
            }
            Identity::AppService {
                endpoint,
                header,
                client_id,
            } => app_service(ctx, endpoint, header, client_id.as_deref(), resource),
            Identity::Imds { base, client_id } => imds(ctx, base, client_id.as_deref(), resource),
            Identity::AzureCli {
                program, tenant, ..
            } => azure_cli(ctx, program, tenant.as_deref(), resource),
        }
    }
}

/// `az account get-access-token`: the CLI refreshes its own login.
fn azure_cli(
    ctx: &Context,
    program: &Path,
    tenant: Option<&str>,
    resource: &str,
) -> Outcome<(Secret, i64)> {
    let mut args = vec![
        "account",
        "get-access-token",
        "--output",
        "json",
        "--resource",
        resource,
    ];
    if let Some(tenant) = tenant {
        args.extend(["--tenant", tenant]);
    }
    note!(ctx.trace, "azure: running az account get-access-token");
    let label = "az account get-access-token";
    let out = match process::run(ctx, label, program, &args, b"", process::DEFAULT_TIMEOUT) {
        Ok(out) => out,
        Err(e) => return Outcome::Failed(e),
    };
    if !out.success() {
        return Outcome::Failed(out.failure().hint(
            "run `az login`, or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET",
        ));
    }
    match parse_cli_token(&out.stdout, ctx.env.now()) {
        Ok(t) => Outcome::Found(t),
        Err(why) => Outcome::Failed(Error::new(format!("az account get-access-token {why}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: Option<Secret>,
    /// Unix seconds (Azure CLI 2.54 and later).
    #[serde(default, rename = "expires_on")]
    expires_on: Option<serde_json::Value>,
}

/// The CLI's answer. Older CLIs give only `expiresOn` in local time, which cannot be read
/// without the time zone: their tokens are kept for `CLI_LIFETIME_WITHOUT_EXPIRY`. Public for
/// the fuzz harness.
pub fn parse_cli_token(stdout: &[u8], now: i64) -> Result<(Secret, i64), String> {
    let parsed: CliToken = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "printed unexpected output (line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    let token = parsed
        .access_token
        .filter(|t| !t.is_empty() && !has_control_character(t.expose()))
        .ok_or("printed no accessToken")?;
    let lifetime = match parsed.expires_on.as_ref().and_then(token::seconds) {
        Some(on) if on > now => (on - now).min(86400),
        Some(_) => return Err("printed an expired token".into()),
        None => CLI_LIFETIME_WITHOUT_EXPIRY,
    };
    Ok((token, now + lifetime - safety_margin(lifetime)))
}

/// `POST {authority}/{tenant}/oauth2/v2.0/token` with the client-credentials grant.
fn entra(
    ctx: &Context,
    authority: &url::Url,
    tenant: &str,
    client_id: &str,
    resource: &str,
    proof: &[(&str, &str)],
) -> Outcome<(Secret, i64)> {
    let url = match authority.join(&format!("{tenant}/oauth2/v2.0/token")) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(Error::new(format!("invalid token URL: {e}"))),
    };
    let scope = format!("{resource}/.default");
    let mut fields = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", scope.as_str()),
    ];
    fields.extend_from_slice(proof);
    note!(ctx.trace, "azure: POST {url} (scope {scope})");
    let hint = if proof[0].0 == "client_secret" {
        "check AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET; the secret may have expired"
    } else {
        "check the app's federated credential: its issuer, subject and audience (api://AzureADTokenExchange) must match the token in the file, which may also have expired"
    };
    answer(ctx, &Request::form(url, &fields), hint)
}

/// The query both managed-identity endpoints take.
fn identity_query(
    mut url: url::Url,
    api_version: &str,
    resource: &str,
    client_id: Option<&str>,
) -> url::Url {
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("api-version", api_version);
        q.append_pair("resource", resource);
        if let Some(id) = client_id {
            q.append_pair("client_id", id);
        }
    }
    url
}

/// App Service, Functions, Container Apps: `GET {IDENTITY_ENDPOINT}` with the secret header.
fn app_service(
    ctx: &Context,
    endpoint: &url::Url,
    header: &Secret,
    client_id: Option<&str>,
    resource: &str,
) -> Outcome<(Secret, i64)> {
    let url = identity_query(
        endpoint.clone(),
        APP_SERVICE_API_VERSION,
        resource,
        client_id,
    );
    note!(ctx.trace, "azure: GET {}", http::redact_url(&url));
    let request = Request::get(url).header("X-IDENTITY-HEADER", header.clone());
    answer(
        ctx,
        &request,
        "check that a managed identity is assigned to the app",
    )
}

/// The instance metadata service, after a short probe: off Azure it is `Missing`, quickly.
fn imds(
    ctx: &Context,
    base: &url::Url,
    client_id: Option<&str>,
    resource: &str,
) -> Outcome<(Secret, i64)> {
    let url = match base.join(IMDS_PATH) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(Error::new(format!("invalid metadata URL: {e}"))),
    };
    let shown = http::redact_url(base);
    let absent = ["azure-imds", base.as_str()];
    let now = ctx.env.now();
    let not_here = |why: &str| {
        format!(
            "no Azure identity: {}, {} and {} are not set, and no instance metadata service at {shown} ({why})",
            vars::AZURE_CLIENT_SECRET,
            vars::AZURE_FEDERATED_TOKEN_FILE,
            vars::IDENTITY_ENDPOINT
        )
    };
    if ctx.cache().absent(&absent, now).is_some() {
        return Outcome::Missing(not_here("remembered from a recent probe"));
    }
    // Any answer, even an error, means the service is there (the SDKs probe the same way).
    note!(ctx.trace, "azure: probing {shown}");
    let probe = Request::get(url.clone()).probe(IMDS_PROBE_TIMEOUT);
    if let Err(e) = ctx.http.send(&probe) {
        note!(ctx.trace, "azure: {e}");
        ctx.cache()
            .remember_absent(&absent, now, "not reachable: not on Azure?");
        return Outcome::Missing(not_here("not reachable: not on Azure?"));
    }
    let url = identity_query(url, IMDS_API_VERSION, resource, client_id);
    note!(ctx.trace, "azure: GET {}", http::redact_url(&url));
    let request = Request::get(url).header("Metadata", "true");
    let response = match ctx.http.send(&request) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e),
    };
    // 400 is the service's "no identity assigned": nothing here, not a failure.
    if response.status == 400 {
        return Outcome::Missing(format!(
            "the instance metadata service at {shown} has no managed identity for this machine"
        ));
    }
    read(
        ctx,
        &request.url,
        response,
        "assign a managed identity to the machine, or set AZURE_CLIENT_ID to a user-assigned one",
    )
}

/// Sends a token request and reads the token out of the answer.
fn answer(ctx: &Context, request: &Request, hint: &str) -> Outcome<(Secret, i64)> {
    match ctx.http.send(request) {
        Ok(response) => read(ctx, &request.url, response, hint),
        Err(e) => Outcome::Failed(e),
    }
}

/// The token out of an answer; a failure names the endpoint, the status and the error code.
fn read(
    ctx: &Context,
    url: &url::Url,
    response: http::Response,
    hint: &str,
) -> Outcome<(Secret, i64)> {
    let shown = http::redact_url(url);
    note!(ctx.trace, "azure: {shown} answered {}", response.status);
    if !response.is_success() {
        let code = token::error_code(&response.body).map_or(String::new(), |c| format!(" {c}"));
        let e = Error::new(format!("{shown} answered {}{code}", response.status));
        return Outcome::Failed(match response.status {
            400 | 401 | 403 => e.hint(hint),
            _ => e,
        });
    }
    match token::parse_answer(&response.body, ctx.env.now(), &token::ENTRA) {
        Ok(t) => Outcome::Found((t.token, t.expires)),
        Err(why) => Outcome::Failed(Error::new(format!("{shown} {why}"))),
    }
}

/// `$AZURE_AUTHORITY_HOST` as a base URL ending in `/`: https, or http on loopback (tests).
fn authority(env: &Env) -> Result<url::Url, Error> {
    let raw = env
        .var(vars::AZURE_AUTHORITY_HOST)
        .unwrap_or(DEFAULT_AUTHORITY);
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    // The value is not quoted: it may carry userinfo.
    let mut url = url::Url::parse(&with_scheme)
        .map_err(|e| Error::new(format!("{} is not a URL ({e})", vars::AZURE_AUTHORITY_HOST)))?;
    if require_secure(&url, false).is_err() {
        return Err(Error::new(format!(
            "{} is not https; refusing to send credentials there",
            vars::AZURE_AUTHORITY_HOST
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// A tenant GUID or domain (`contoso.onmicrosoft.com`): safe to put in a URL path.
fn is_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 256
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !t.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    fn describe(pairs: &[(&str, &str)]) -> String {
        match Identity::from_env(&test_env(pairs)) {
            Ok(i) => i.describe(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn identity_selection_follows_the_sdk_order() {
        let secret = [
            ("AZURE_CLIENT_ID", "app"),
            ("AZURE_TENANT_ID", "tid"),
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:4141/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ];
        let table: &[(&[(&str, &str)], &str)] = &[
            (&secret, "client secret of AZURE_CLIENT_ID app (tenant tid)"),
            (
                &secret[..2]
                    .iter()
                    .chain(&secret[3..])
                    .copied()
                    .collect::<Vec<_>>(),
                "workload identity AZURE_FEDERATED_TOKEN_FILE /var/run/token for AZURE_CLIENT_ID app (tenant tid)",
            ),
            (
                &secret[4..],
                "managed identity at IDENTITY_ENDPOINT http://127.0.0.1:4141/msi/token",
            ),
            (
                &[("AZURE_CLIENT_ID", "mi")],
                "managed identity at the instance metadata service http://169.254.169.254/ (AZURE_CLIENT_ID mi)",
            ),
            (
                &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1")],
                "managed identity at the instance metadata service http://127.0.0.1:1/",
            ),
            (
                &[("AZURE_CLIENT_SECRET", "s"), ("AZURE_CLIENT_ID", "a")],
                "error: AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID is not (set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET together)",
            ),
            (
                &[
                    ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
                    ("AZURE_TENANT_ID", "t"),
                ],
                "error: AZURE_FEDERATED_TOKEN_FILE is set but AZURE_CLIENT_ID is not (set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE together)",
            ),
            (
                &[
                    ("AZURE_CLIENT_SECRET", "s"),
                    ("AZURE_CLIENT_ID", "a"),
                    ("AZURE_TENANT_ID", "../x"),
                ],
                "error: AZURE_TENANT_ID \"../x\" is not a tenant ID or domain",
            ),
        ];
        for (env, want) in table {
            assert_eq!(describe(env), *want, "{env:?}");
        }
    }

    #[test]
    fn azure_cli_answers() {
        let now = 1_000_000;
        let parse = |json: &str| parse_cli_token(json.as_bytes(), now);
        let (token, expires) =
            parse(r#"{"accessToken":"t","expires_on":1003600,"expiresOn":"x"}"#).unwrap();
        assert_eq!((token.expose(), expires), ("t", 1_003_600 - 360));
        // As a string, as some versions print it.
        let (_, expires) = parse(r#"{"accessToken":"t","expires_on":"1003600"}"#).unwrap();
        assert_eq!(expires, 1_003_600 - 360);
        // Only the local-time `expiresOn`: five minutes.
        let (_, expires) =
            parse(r#"{"accessToken":"t","expiresOn":"2026-11-23 14:00:00"}"#).unwrap();
        assert_eq!(expires, now + 300 - 30);
        assert!(parse(r#"{"accessToken":"t","expires_on":999999}"#).is_err());
        assert!(parse(r#"{"expires_on":1003600}"#).is_err());
        let e = parse(r#"{"accessToken":"hunter2"#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn authority_is_https_or_loopback_and_ends_in_a_slash() {
        let a = |v: &str| {
            authority(&test_env(&[("AZURE_AUTHORITY_HOST", v)]))
                .map(|u| u.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            authority(&test_env(&[])).unwrap().as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(
            a("login.chinacloudapi.cn").unwrap(),
            "https://login.chinacloudapi.cn/"
        );
        assert_eq!(
            a("http://127.0.0.1:8080/base").unwrap(),
            "http://127.0.0.1:8080/base/"
        );
        assert!(a("http://login.example").unwrap_err().contains("not https"));
    }
}

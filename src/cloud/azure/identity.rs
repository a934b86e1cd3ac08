//! Which identity the environment configures, in the Azure SDKs' order, and how each one
//! gets a token.

use std::path::PathBuf;

use super::cli::azure_cli;
use super::entra::{authority, entra, is_tenant};
use super::managed::{DEFAULT_IMDS, app_service, imds};
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::Error;
use crate::kernel::files;
use crate::kernel::http;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::kernel::transport::{is_link_local_host, require_secure};

/// Where the token comes from.
#[derive(Debug)]
pub(super) enum Identity {
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

impl Identity {
    /// The first identity the environment configures. A half-configured one (a secret without
    /// its tenant) is an error rather than a silent fall-through to managed identity.
    pub(super) fn from_env(env: &Env) -> Result<Identity, Error> {
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
                    "{} is not a tenant ID or domain",
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
            // App Service and Container Apps serve it on loopback; the header is a secret.
            require_secure(&endpoint, false).map_err(|_| {
                Error::new(format!(
                    "{} must be https, or http on loopback",
                    vars::IDENTITY_ENDPOINT
                ))
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
        // The metadata service is plain http on its link-local address, as on every cloud.
        let link_local = base.host_str().is_some_and(is_link_local_host);
        require_secure(&base, link_local).map_err(|_| {
            Error::new(format!(
                "{} must be https, or http on loopback or a link-local address",
                vars::AZURE_POD_IDENTITY_AUTHORITY_HOST
            ))
        })?;
        Ok(Identity::Imds { base, client_id })
    }

    /// The Azure CLI, when it is on PATH.
    pub(super) fn azure_cli(env: &Env) -> Option<Identity> {
        let program = env.which("az")?;
        let dir = match env.var(vars::AZURE_CONFIG_DIR) {
            Some(d) => Some(env.expand_path(d)),
            None => env.home().map(|h| h.join(".azure")),
        };
        let profile = dir
            .and_then(|d| {
                files::read_capped(&d.join("azureProfile.json"))
                    .ok()
                    .flatten()
            })
            .unwrap_or_default();
        Some(Identity::AzureCli {
            program,
            tenant: env.var(vars::AZURE_TENANT_ID).map(str::to_string),
            account: Secret::new(String::from_utf8_lossy(&profile)).fingerprint(),
        })
    }

    pub(super) fn describe(&self) -> String {
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
    pub(super) fn cache_identity(&self) -> String {
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

    pub(super) fn tenant(&self) -> Option<&str> {
        match self {
            Identity::ClientSecret { tenant, .. } | Identity::Federated { tenant, .. } => {
                Some(tenant)
            }
            Identity::AzureCli { tenant, .. } => tenant.as_deref(),
            _ => None,
        }
    }

    /// The token and its expiry (margin applied).
    pub(super) fn fetch(&self, ctx: &Context, resource: &str) -> Outcome<(Secret, i64)> {
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
                let assertion =
                    match files::read_required_text(token_file, vars::AZURE_FEDERATED_TOKEN_FILE) {
                        Ok(t) if !t.trim().is_empty() => Secret::new(t.trim()),
                        Ok(_) => {
                            return Outcome::Failed(Error::new(format!(
                                "{} is empty",
                                token_file.display()
                            )));
                        }
                        Err(e) => return Outcome::Failed(e),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    pub(super) fn describe(pairs: &[(&str, &str)]) -> String {
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
                "error: AZURE_TENANT_ID is not a tenant ID or domain",
            ),
        ];
        for (env, want) in table {
            assert_eq!(describe(env), *want, "{env:?}");
        }
    }
}

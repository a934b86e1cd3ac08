//! The TLS configuration of https requests: who verifies a server's certificate chain, and
//! against which roots ([`tls_roots`]), plus the extra CA bundles a user trusts
//! (`CREDENTIAL_HELPER_CA_CERT`, an oci entry's `ca_cert_path`), which count with either
//! verifier.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;

use crate::kernel::deadline::Deadline;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::platform::Platform;
use crate::kernel::tls_roots::{self, Roots};

mod verifier;
use verifier::OnDemand;

/// What [`tls_roots::roots`] decides from, kept until a TLS client is built.
pub struct Trust {
    platform: Platform,
    cert_file: Option<String>,
    cert_dir: Option<String>,
}

impl Trust {
    pub fn from_env(env: &Env) -> Trust {
        Trust {
            platform: env.platform(),
            cert_file: env.var(vars::SSL_CERT_FILE).map(str::to_string),
            cert_dir: env.var(vars::SSL_CERT_DIR).map(str::to_string),
        }
    }

    /// A client configuration trusting the platform's roots and the PEM bundles `extra`. On
    /// Linux the roots are still being read when it returns.
    pub fn client_config(&self, extra: &[PathBuf], deadline: &Deadline) -> Result<Config> {
        let roots = tls_roots::roots(
            self.platform,
            self.cert_file.as_deref(),
            self.cert_dir.as_deref(),
        );
        client_config(roots, extra, deadline)
    }
}

/// A TLS client configuration, and what its roots' reading went through.
pub struct Config {
    pub rustls: ClientConfig,
    on_demand: Option<Arc<OnDemand>>,
}

impl Config {
    /// Why the roots could not be read, if a handshake found that out: the words to give
    /// instead of the TLS library's (which only knows verification failed).
    pub fn roots_failure(&self) -> Option<Error> {
        self.on_demand.as_ref()?.failure()
    }
}

/// A client configuration trusting `roots` and the PEM bundles `extra`.
fn client_config(roots: Roots, extra: &[PathBuf], deadline: &Deadline) -> Result<Config> {
    // Read first, in order: the user's own CAs are small, and a mistake in them is said now.
    let mut extra_certs = Vec::new();
    for path in extra {
        let pem = files::read_required(path, "CA certificate")?;
        let mut certs = Vec::new();
        tls_roots::parse_pem(path, &pem, &mut certs)?;
        if certs.is_empty() {
            return Err(Error::new(format!(
                "no certificate in CA file {}",
                path.display()
            )));
        }
        extra_certs.extend(certs.into_iter().map(|c| (c, path)));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    if roots == Roots::Os {
        let extra = extra_certs.into_iter().map(|(c, _)| c).collect();
        return Ok(Config {
            rustls: os_verified(provider, extra)?,
            on_demand: None,
        });
    }
    let mut store = rustls::RootCertStore::empty();
    for (cert, path) in extra_certs {
        store.add(cert).map_err(|e| {
            Error::new(format!(
                "a certificate in CA file {} cannot be a trust root: {e}",
                path.display()
            ))
        })?;
    }
    let loading = tls_roots::start(&roots, deadline);
    let on_demand = Arc::new(OnDemand::new(Arc::clone(&provider), store, roots, loading));
    let rustls = builder(provider)?
        .dangerous()
        .with_custom_certificate_verifier(on_demand.clone())
        .with_no_client_auth();
    Ok(Config {
        rustls,
        on_demand: Some(on_demand),
    })
}

fn builder(
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>> {
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(format!("cannot set up TLS: {e}")))
}

/// macOS and Windows: the OS verifies, with `extra` as further roots.
#[cfg(any(target_os = "macos", windows))]
fn os_verified(
    provider: Arc<CryptoProvider>,
    extra: Vec<CertificateDer<'static>>,
) -> Result<ClientConfig> {
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| Error::new(format!("cannot use the extra CA certificates: {e}")))?;
    Ok(builder(provider)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// Only macOS and Windows builds have an OS verifier; the decision never picks it elsewhere.
#[cfg(not(any(target_os = "macos", windows)))]
fn os_verified(
    _provider: Arc<CryptoProvider>,
    _extra: Vec<CertificateDer<'static>>,
) -> Result<ClientConfig> {
    Err(Error::new(
        "this build has no operating-system certificate verifier",
    ))
}

#[cfg(test)]
mod tests;

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

    /// A client configuration trusting the platform's roots and the PEM bundles `extra`.
    pub fn client_config(&self, extra: &[PathBuf], deadline: &Deadline) -> Result<ClientConfig> {
        let roots = tls_roots::roots(
            self.platform,
            self.cert_file.as_deref(),
            self.cert_dir.as_deref(),
        );
        client_config(roots, extra, deadline)
    }
}

/// A client configuration trusting `roots` and the PEM bundles `extra`.
fn client_config(roots: Roots, extra: &[PathBuf], deadline: &Deadline) -> Result<ClientConfig> {
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
    match roots {
        Roots::Os => os_verified(provider, extra_certs.into_iter().map(|(c, _)| c).collect()),
        roots => {
            let loaded = tls_roots::load(&roots, deadline)?;
            if loaded.roots.is_empty() && extra_certs.is_empty() {
                return Err(no_roots(&roots, &loaded.from));
            }
            let mut store = loaded.roots;
            for (cert, path) in extra_certs {
                store.add(cert).map_err(|e| {
                    Error::new(format!(
                        "a certificate in CA file {} cannot be a trust root: {e}",
                        path.display()
                    ))
                })?;
            }
            Ok(builder(provider)?
                .with_root_certificates(store)
                .with_no_client_auth())
        }
    }
}

fn builder(
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>> {
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(format!("cannot set up TLS: {e}")))
}

fn no_roots(roots: &Roots, read: &[PathBuf]) -> Error {
    let where_ = match read {
        [] => format!("nothing found in {}", tls_roots::describe(roots)),
        read => format!(
            "no certificate in {}",
            read.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Error::new(format!("no trusted TLS root certificates: {where_}")).hint(format!(
        "install the ca-certificates package, or set {} or {} to a PEM CA bundle",
        vars::SSL_CERT_FILE,
        vars::CA_CERT
    ))
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
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::kernel::tls_roots::Source;

    fn soon() -> Deadline {
        Deadline::after(Duration::from_secs(1))
    }

    #[test]
    fn extra_cas_count_and_nothing_at_all_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(vec!["ca".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, ca.pem()).unwrap();
        let none = || Roots::FirstOf(vec![Source::Bundle(dir.path().join("missing.pem"))]);

        // No system roots, but an extra CA: a working configuration.
        assert!(client_config(none(), std::slice::from_ref(&ca_path), &soon()).is_ok());

        let err = client_config(none(), &[], &soon()).unwrap_err().to_string();
        assert!(
            err.contains("no trusted TLS root certificates")
                && err.contains("missing.pem")
                && err.contains("install the ca-certificates package"),
            "{err}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let err = client_config(none(), &[empty], &soon())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no certificate in CA file"), "{err}");
    }
}

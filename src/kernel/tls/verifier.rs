//! Verifying a server's chain against roots still being read: the reading started with the
//! client ([`tls_roots::start`]) and is waited for when the first certificate arrives. Only
//! the roots whose subject issued a certificate of the chain become trust anchors, which is
//! every anchor webpki could use: it matches an anchor by that name, byte for byte.

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::kernel::error::Error;
use crate::kernel::tls_roots::{self, Index, Loading, Roots};

/// A [`ServerCertVerifier`] over an [`Index`] being read.
#[derive(Debug)]
pub struct OnDemand {
    provider: Arc<CryptoProvider>,
    /// The user's extra CAs, always trusted (already checked to be usable anchors).
    extra: RootCertStore,
    state: Mutex<State>,
    /// Where the roots come from, for messages.
    roots: Roots,
}

#[derive(Debug)]
enum State {
    Loading(Loading),
    Ready(Arc<Index>),
    Failed(Error),
    /// Only while [`OnDemand::index`] takes the loading out.
    Taken,
}

impl OnDemand {
    pub fn new(
        provider: Arc<CryptoProvider>,
        extra: RootCertStore,
        roots: Roots,
        loading: Loading,
    ) -> OnDemand {
        OnDemand {
            provider,
            extra,
            state: Mutex::new(State::Loading(loading)),
            roots,
        }
    }

    /// Why the roots could not be read, once that was found out.
    pub fn failure(&self) -> Option<Error> {
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }

    fn index(&self) -> Result<Arc<Index>, rustls::Error> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let State::Loading(_) = &*state {
            let State::Loading(loading) = std::mem::replace(&mut *state, State::Taken) else {
                unreachable!()
            };
            *state = match loading.wait() {
                Ok(loaded) if loaded.index.is_empty() && self.extra.is_empty() => {
                    State::Failed(tls_roots::nothing_trusted(&self.roots, &loaded.from))
                }
                Ok(loaded) => State::Ready(Arc::new(loaded.index)),
                Err(e) => State::Failed(e),
            };
        }
        match &*state {
            State::Ready(index) => Ok(Arc::clone(index)),
            // The words reach the user through `failure`.
            _ => Err(rustls::Error::General("no TLS roots".into())),
        }
    }
}

impl ServerCertVerifier for OnDemand {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let index = self.index()?;
        let issuers: Vec<&[u8]> = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(|cert| tls_roots::names(cert).ok())
            .map(|names| names.issuer)
            .collect();
        let mut roots = self.extra.clone();
        for cert in index.issued_to(&issuers) {
            // A bundle may hold a certificate webpki cannot use; the others still count.
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ));
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&self.provider))
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

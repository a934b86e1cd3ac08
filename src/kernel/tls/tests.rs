//! Trust through the verifier the Linux client uses: roots read on demand, the user's extra
//! CAs, chains with intermediates, and the messages when nothing can be trusted.

use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{ServerName, UnixTime};

use super::*;
use crate::kernel::tls_roots::Source;

fn soon() -> Deadline {
    Deadline::after(Duration::from_secs(1))
}

/// A CA, an intermediate it signed, and leaves for `localhost` signed by each.
struct Pki {
    root_pem: String,
    intermediate: CertificateDer<'static>,
    /// Signed by the root.
    leaf: CertificateDer<'static>,
    /// Signed by the intermediate.
    deep_leaf: CertificateDer<'static>,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
}

fn pki(name: &str) -> Pki {
    let root_key = KeyPair::generate().unwrap();
    let root = ca_params(name).self_signed(&root_key).unwrap();
    let mid_key = KeyPair::generate().unwrap();
    let mid = ca_params(&format!("{name} intermediate"))
        .signed_by(&mid_key, &root, &root_key)
        .unwrap();
    let leaf = |issuer: &rcgen::Certificate, key: &KeyPair| {
        CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&KeyPair::generate().unwrap(), issuer, key)
            .unwrap()
            .der()
            .clone()
    };
    Pki {
        root_pem: root.pem(),
        leaf: leaf(&root, &root_key),
        deep_leaf: leaf(&mid, &mid_key),
        intermediate: mid.der().clone(),
    }
}

/// What the handshake would decide for `chain` (leaf first), and the words said for a
/// failure to read the roots.
fn verify(config: &Config, chain: &[CertificateDer<'static>]) -> Result<(), String> {
    let verifier = config.on_demand.as_ref().expect("roots read on demand");
    verifier
        .verify_server_cert(
            &chain[0],
            &chain[1..],
            &ServerName::try_from("localhost").unwrap(),
            &[],
            UnixTime::now(),
        )
        .map(drop)
        .map_err(|e| match config.roots_failure() {
            Some(failure) => failure.to_string(),
            None => e.to_string(),
        })
}

#[test]
fn roots_from_a_bundle_verify_chains_with_and_without_intermediates() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, other) = (pki("ours"), pki("other"));
    let bundle = dir.path().join("bundle.pem");
    // The root among others, as in a distribution's bundle.
    std::fs::write(&bundle, other.root_pem.clone() + &ours.root_pem).unwrap();
    let roots = || Roots::FirstOf(vec![Source::Bundle(bundle.clone())]);
    let config = client_config(roots(), &[], &soon()).unwrap();
    assert_eq!(verify(&config, std::slice::from_ref(&ours.leaf)), Ok(()));
    assert_eq!(
        verify(
            &config,
            &[ours.deep_leaf.clone(), ours.intermediate.clone()]
        ),
        Ok(())
    );
    assert_eq!(verify(&config, std::slice::from_ref(&other.leaf)), Ok(()));
    // Without its intermediate the chain names an issuer the bundle does not hold.
    let err = verify(&config, std::slice::from_ref(&ours.deep_leaf)).unwrap_err();
    assert!(err.contains("UnknownIssuer"), "{err}");
    // A chain from a CA the bundle does not hold.
    let stranger = pki("stranger");
    let err = verify(&config, std::slice::from_ref(&stranger.leaf)).unwrap_err();
    assert!(err.contains("UnknownIssuer"), "{err}");
    // A leaf from another key claiming our root's name as issuer: found by name, refused by key.
    let forged_key = KeyPair::generate().unwrap();
    let forged_root = ca_params("ours").self_signed(&forged_key).unwrap();
    let forged = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&KeyPair::generate().unwrap(), &forged_root, &forged_key)
        .unwrap();
    let err = verify(&config, &[forged.der().clone()]).unwrap_err();
    assert!(err.contains("BadSignature"), "{err}");
}

#[test]
fn extra_cas_count_and_nothing_at_all_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let ours = pki("corp");
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, &ours.root_pem).unwrap();
    let none = || Roots::FirstOf(vec![Source::Bundle(dir.path().join("missing.pem"))]);

    // No system roots, but an extra CA: chains from it verify.
    let config = client_config(none(), std::slice::from_ref(&ca_path), &soon()).unwrap();
    assert_eq!(verify(&config, std::slice::from_ref(&ours.leaf)), Ok(()));

    // Nothing at all: the handshake fails with what to do, not the TLS library's words.
    let config = client_config(none(), &[], &soon()).unwrap();
    let err = verify(&config, std::slice::from_ref(&ours.leaf)).unwrap_err();
    assert!(
        err.contains("no trusted TLS root certificates")
            && err.contains("missing.pem")
            && err.contains("install the ca-certificates package"),
        "{err}"
    );
    // A named bundle that is missing: the variable is named.
    let named = Roots::Named {
        var: vars::SSL_CERT_FILE,
        sources: vec![Source::Bundle(dir.path().join("gone.pem"))],
    };
    let config = client_config(named, &[], &soon()).unwrap();
    let err = verify(&config, std::slice::from_ref(&ours.leaf)).unwrap_err();
    assert!(err.contains("SSL_CERT_FILE names"), "{err}");

    // The user's own CA files are read at once: a mistake in them is said before connecting.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let err = client_config(none(), &[empty], &soon())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("no certificate in CA file"), "{err}");
}

#[test]
fn roots_still_unread_at_the_deadline_fail_the_handshake_in_time() {
    let leaf = pki("late").leaf;
    let gone = Deadline::after(Duration::ZERO);
    let roots = Roots::FirstOf(vec![Source::Bundle(PathBuf::from("/nonexistent.pem"))]);
    let config = client_config(roots, &[], &gone).unwrap();
    let err = verify(&config, &[leaf]).unwrap_err();
    assert!(err.contains("did not finish in time"), "{err}");
}

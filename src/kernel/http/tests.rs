//! The client against a real TLS server on 127.0.0.1: what a request says when the roots
//! cannot be read, and that a later plain-http failure is told as itself.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::kernel::env::test_env_on;
use crate::kernel::platform::Platform;

/// A TLS server for 127.0.0.1 (its certificate trusted by nothing) answering one connection,
/// on its own thread; the URL of its `/v2/`.
fn tls_server() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf = [0u8; 1024];
        // The client gives up during the handshake; nothing more to do.
        if tls.read(&mut buf).is_ok() {
            let _ = tls.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        }
    });
    format!("https://{addr}/v2/")
}

#[test]
fn unreadable_roots_are_said_for_https_and_only_for_https() {
    let env = test_env_on(
        Platform::Linux,
        &[(vars::SSL_CERT_FILE, "/nonexistent/ca-bundle.pem")],
    );
    let trace = Rc::new(Trace::default());
    let http = Http::new(&env, Deadline::after(Duration::from_secs(5)), trace);

    let url = url::Url::parse(&tls_server()).unwrap();
    let err = http.send(&Request::get(url)).unwrap_err().to_string();
    assert!(
        err.contains("SSL_CERT_FILE names /nonexistent/ca-bundle.pem, which does not exist"),
        "{err}"
    );

    // Plain http goes through the same client now; its failure is its own.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = url::Url::parse(&format!("http://{closed}/v2/")).unwrap();
    let err = http.send(&Request::get(url)).unwrap_err().to_string();
    assert!(!err.contains("SSL_CERT_FILE"), "{err}");
    assert!(
        err.contains(&format!("request to http://{closed}/v2/ failed")),
        "{err}"
    );
}

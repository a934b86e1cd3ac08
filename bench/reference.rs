//! What an https exchange costs any client on this machine: the cold `get`'s `/v2/` ping
//! alone, from a rustls client set up before the clock starts (the registry's CA its only
//! root, nothing to read), over https and over plain http through the same proxies. The
//! difference is the server's TLS, the handshake's cryptography and its extra round trip;
//! what the helper's own https difference adds on top is the helper's share.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};

use crate::setup::Servers;

#[derive(Default)]
pub struct Reference {
    pub http: Vec<Duration>,
    pub https: Vec<Duration>,
    config: Option<Arc<rustls::ClientConfig>>,
}

impl Reference {
    /// One ping of each kind (call it once per round of the cases, so noise hits all alike).
    pub fn run(&mut self, servers: &Servers, record: bool) {
        let config = self
            .config
            .get_or_insert_with(|| client_config(servers))
            .clone();
        let http = ping(&servers.token_proxy.host(), None);
        let https = ping(&servers.tls_proxy.host(), Some(config));
        if record {
            self.http.push(http);
            self.https.push(https);
        }
    }
}

fn client_config(servers: &Servers) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_file(servers.tls.ca_pem_path()).expect("the registry's CA");
    roots.add(ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// `GET /v2/` on a new connection to `host` (`127.0.0.1:<port>`), until the answer's head.
fn ping(host: &str, tls: Option<Arc<rustls::ClientConfig>>) -> Duration {
    let request = format!("GET /v2/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let started = Instant::now();
    let tcp = TcpStream::connect(host).expect("connect to the proxy");
    tcp.set_nodelay(true).unwrap();
    let mut stream: Box<dyn ReadWrite> = match tls {
        Some(config) => {
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let conn = rustls::ClientConnection::new(config, name).unwrap();
            Box::new(rustls::StreamOwned::new(conn, tcp))
        }
        None => Box::new(tcp),
    };
    stream.write_all(request.as_bytes()).expect("send the ping");
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("read the answer");
        assert!(n > 0, "the registry closed before answering");
        head.extend_from_slice(&buf[..n]);
    }
    let elapsed = started.elapsed();
    assert!(
        head.starts_with(b"HTTP/1.1 401"),
        "a /v2/ ping without credentials is refused"
    );
    elapsed
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

//! What an https exchange costs any new process on this machine: the benchmark binary run
//! again as `--ping <host:port> [<CA file>]` sends the cold `get`'s `/v2/` ping alone, with
//! rustls (the registry's CA its only root: nothing to read but that file), over https and
//! over plain http through the same proxies, and exits. Its https difference is the server's
//! TLS, the handshake and its round trip, and what a new process pays to run TLS code the
//! first time; what the helper's https difference adds on top is the helper's own.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};

/// The argument that makes the benchmark binary this program.
pub const PING: &str = "--ping";

/// `--ping <host:port> [<CA file>]`: prints the answer's status line.
pub fn ping_main(args: &[String]) -> ExitCode {
    let [host, ca @ ..] = args else {
        eprintln!("usage: {PING} <host:port> [<CA file>]");
        return ExitCode::from(2);
    };
    // The request on stdin, as every case gets it; read to the end as a helper would.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    let tcp = TcpStream::connect(host).expect("connect to the proxy");
    tcp.set_nodelay(true).unwrap();
    let mut stream: Box<dyn ReadWrite> = match ca.first() {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_file(ca).expect("the CA file"))
                .unwrap();
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
            Box::new(rustls::StreamOwned::new(conn, tcp))
        }
        None => Box::new(tcp),
    };
    let request = format!("GET /v2/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send the ping");
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("read the answer");
        assert!(n > 0, "the registry closed before answering");
        head.extend_from_slice(&buf[..n]);
    }
    let status = String::from_utf8_lossy(&head);
    println!("{}", status.lines().next().unwrap_or_default());
    ExitCode::SUCCESS
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

//! A counting TCP proxy in front of a registry.
//!
//! The registry's own access log is written after it answers, so a count read from it right
//! after the helper exits can be short. The proxy counts a request when its head arrives,
//! before forwarding it: once the helper has exited, every request it made is counted.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

pub struct CountingProxy {
    addr: SocketAddr,
    /// Request lines (`GET /v2/ HTTP/1.1`) in arrival order.
    seen: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    /// Listens on `127.0.0.1:<random port>` and relays every connection to `upstream`. The
    /// threads are detached and end with the benchmark process.
    pub fn start(upstream: &str) -> CountingProxy {
        CountingProxy::listen(upstream, false)
    }

    /// [`CountingProxy::start`] for a TLS upstream, whose request heads it cannot read: it
    /// counts connections (the helper sends each registry one request per connection).
    pub fn start_tls(upstream: &str) -> CountingProxy {
        CountingProxy::listen(upstream, true)
    }

    fn listen(upstream: &str, tls: bool) -> CountingProxy {
        let upstream: SocketAddr = upstream.parse().expect("upstream is host:port");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&seen);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = Arc::clone(&shared);
                if tls {
                    seen.lock().unwrap().push("TLS connection".to_owned());
                }
                thread::spawn(move || relay(client, upstream, &seen, !tls));
            }
        });
        CountingProxy { addr, seen }
    }

    /// `127.0.0.1:<port>`: the registry address the helper is given.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    seen: &Mutex<Vec<String>>,
    count_heads: bool,
) {
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(mut from_server), Ok(mut to_client)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    let back = thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut heads = Heads::default();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let lines = if count_heads {
            heads.feed(&buf[..n])
        } else {
            Vec::new()
        };
        if !lines.is_empty() {
            seen.lock().unwrap().extend(lines);
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = back.join();
}

/// Splits a client's byte stream into HTTP/1.1 requests: a head up to the blank line, then
/// `Content-Length` bytes of body (the helper never sends chunked bodies).
#[derive(Default)]
struct Heads {
    pending: Vec<u8>,
    body_left: usize,
}

impl Heads {
    /// Takes the next bytes; returns the request lines of the heads they completed.
    fn feed(&mut self, data: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(data);
        let mut lines = Vec::new();
        loop {
            let skip = self.body_left.min(self.pending.len());
            self.pending.drain(..skip);
            self.body_left -= skip;
            if self.body_left > 0 {
                break;
            }
            let Some(end) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                break;
            };
            let head = String::from_utf8_lossy(&self.pending[..end]).into_owned();
            self.pending.drain(..end + 4);
            self.body_left = content_length(&head);
            lines.push(head.lines().next().unwrap_or_default().to_owned());
        }
        lines
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

//! A tiny threaded HTTP/1.1 server for fake token endpoints and fault tests.
//!
//! std only: one accept thread, one thread per connection, one request per
//! connection (every answer carries `Connection: close`). Every request is
//! recorded before the handler runs, so even requests that hang are counted.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A connection that sends nothing is dropped after this long, so that no
/// thread outlives its test by much.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One parsed request.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent: path plus query, e.g. `/token?scope=x`.
    pub path: String,
    /// Header names as sent; look them up with [`Request::header`].
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// First value of a header, name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path_only(&self) -> &str {
        self.path.split_once('?').map_or(&self.path, |(p, _)| p)
    }

    /// Decoded query parameters, in order, repeated keys kept.
    pub fn query(&self) -> Vec<(String, String)> {
        self.path
            .split_once('?')
            .map(|(_, q)| parse_urlencoded(q))
            .unwrap_or_default()
    }

    /// Decoded `application/x-www-form-urlencoded` body parameters.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_urlencoded(&String::from_utf8_lossy(&self.body))
    }

    /// `(user, password)` from an `Authorization: Basic` header.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, pass) = decoded.split_once(':')?;
        Some((user.to_owned(), pass.to_owned()))
    }
}

/// Values of `key` in decoded `pairs`.
pub fn values<'a>(pairs: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// First value of `key` in decoded `pairs`.
pub fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    values(pairs, key).into_iter().next()
}

/// What the server does with a request after the handler has run.
#[derive(Clone, Debug)]
enum Behaviour {
    /// Send the response and close.
    Answer,
    /// Send nothing; hold the connection open until the server is dropped.
    Hang,
    /// Close the connection without sending anything.
    Drop,
    /// Send the head at once, then the body one byte per interval.
    Trickle(Duration),
    /// Send the head (with the full Content-Length) and only this many body bytes, then close.
    Truncate(usize),
}

/// A response; build it with the constructors and chained setters.
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    behaviour: Behaviour,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            behaviour: Behaviour::Answer,
        }
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status)
            .header("Content-Type", "application/json")
            .body(value.to_string())
    }

    /// A plain-text body.
    pub fn text(status: u16, body: &str) -> Self {
        Response::new(status)
            .header("Content-Type", "text/plain")
            .body(body)
    }

    /// Never answer; the client sees a read that blocks until it gives up
    /// (or the server is dropped).
    pub fn hang() -> Self {
        Response {
            behaviour: Behaviour::Hang,
            ..Response::new(0)
        }
    }

    /// Close the connection without answering.
    pub fn drop_connection() -> Self {
        Response {
            behaviour: Behaviour::Drop,
            ..Response::new(0)
        }
    }

    /// Send this response's body one byte per `interval` (a slow server).
    pub fn trickle(mut self, interval: Duration) -> Self {
        self.behaviour = Behaviour::Trickle(interval);
        self
    }

    /// Cut the connection after `bytes` of the body (a reset mid-body).
    pub fn truncated_after(mut self, bytes: usize) -> Self {
        self.behaviour = Behaviour::Truncate(bytes);
        self
    }

    /// Add a header (repeatable; `Content-Length` and `Connection` are set
    /// by the server).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync + 'static;

/// Shared between the server handle and its threads.
struct Shared {
    handler: Box<Handler>,
    requests: Mutex<Vec<Request>>,
    stopping: AtomicBool,
    /// Wakes hanging and trickling connections when the server stops.
    stop_signal: (Mutex<bool>, Condvar),
}

impl Shared {
    /// Sleep up to `timeout`; returns true if the server is stopping.
    fn wait_for_stop(&self, timeout: Option<Duration>) -> bool {
        let (lock, cvar) = &self.stop_signal;
        let mut stopped = lock.lock().unwrap();
        match timeout {
            None => {
                while !*stopped {
                    stopped = cvar.wait(stopped).unwrap();
                }
            }
            Some(timeout) => {
                stopped = cvar
                    .wait_timeout_while(stopped, timeout, |s| !*s)
                    .unwrap()
                    .0;
            }
        }
        *stopped
    }
}

/// A running server on `127.0.0.1:<random port>`; stops on drop.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind test server");
        Self::serve_on(listener, handler)
    }

    /// The same on `[::1]:<random port>`; `None` where IPv6 loopback is unavailable.
    pub fn start_v6(
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> Option<Self> {
        let listener = TcpListener::bind("[::1]:0").ok()?;
        Some(Self::serve_on(listener, handler))
    }

    fn serve_on(
        listener: TcpListener,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            stop_signal: (Mutex::new(false), Condvar::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accept_shared);
                // Connection threads are detached: each ends after one request,
                // after READ_TIMEOUT, or when the stop signal wakes it.
                thread::spawn(move || serve(&shared, stream));
            }
        });
        TestServer {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let (lock, cvar) = &self.shared.stop_signal;
        *lock.lock().unwrap() = true;
        cvar.notify_all();
        // Wake the blocking accept() so the accept thread sees `stopping`.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    let Some(request) = read_request(&mut reader, &mut writer) else {
        return;
    };
    shared.requests.lock().unwrap().push(request.clone());
    let response = (shared.handler)(&request);
    let head_only = request.method.eq_ignore_ascii_case("HEAD");
    match response.behaviour {
        Behaviour::Hang => {
            shared.wait_for_stop(None);
        }
        Behaviour::Drop => {}
        Behaviour::Answer => {
            let _ = writer.write_all(&head(&response));
            if !head_only {
                let _ = writer.write_all(&response.body);
            }
        }
        Behaviour::Truncate(bytes) => {
            let _ = writer.write_all(&head(&response));
            let _ = writer.write_all(&response.body[..bytes.min(response.body.len())]);
        }
        Behaviour::Trickle(interval) => {
            let _ = writer.write_all(&head(&response));
            if !head_only {
                for byte in &response.body {
                    if writer.write_all(&[*byte]).is_err() || shared.wait_for_stop(Some(interval)) {
                        break;
                    }
                }
            }
        }
    }
    let _ = writer.flush();
    let _ = writer.shutdown(Shutdown::Both);
}

fn head(response: &Response) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        reason(response.status),
        response.body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Reads one request; `None` on a closed, timed-out or malformed connection.
fn read_request(reader: &mut impl BufRead, writer: &mut impl Write) -> Option<Request> {
    let request_line = read_line(reader)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();

    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };

    // curl and some HTTP stacks wait for this before sending a body.
    if request
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }

    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        request.body = read_chunked(reader)?;
    } else if let Some(len) = request.header("content-length") {
        let len: usize = len.parse().ok()?;
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some(request)
}

/// A `Transfer-Encoding: chunked` body (as skopeo sends OAuth2 forms).
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(reader)?;
        // Chunk extensions (`;name=value`) are allowed and ignored.
        let size = size_line.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        if size == 0 {
            // Trailers, then the empty line that ends the message.
            while !read_line(reader)?.is_empty() {}
            return Some(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).ok()?;
        if !read_line(reader)?.is_empty() {
            return None;
        }
    }
}

/// One CRLF- (or LF-) terminated line without its terminator.
fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    Some(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Parses `a=1&b=x%20y` (also `+` as space), keeping order and repeats.
pub fn parse_urlencoded(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A registry stand-in whose `/v2/` challenges for a bearer token at `realm`.
pub fn fake_registry(realm: String) -> TestServer {
    TestServer::start(move |req| {
        if req.path_only() == "/v2/" {
            Response::new(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{realm}",service="fake""#),
            )
        } else {
            Response::new(404)
        }
    })
}

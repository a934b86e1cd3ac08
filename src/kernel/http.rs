//! The HTTP client, built on first use only.
//!
//! Building a client starts a runtime, and for https sets up TLS ([`tls`]: on Linux reading one
//! CA bundle); most `get`s need no network at all, so nothing here happens until a helper
//! actually sends a request. Plain `http` (loopback registries, the cloud metadata services)
//! gets its own client without TLS roots. On Linux names are resolved by the helper's own
//! resolver (`kernel::resolve`), never through NSS; elsewhere by the OS (`getaddrinfo`, which
//! knows macOS's per-domain resolvers and Windows' per-adapter ones).
//!
//! Every request has connect and total timeouts cut to the call's deadline (which also bound
//! name resolution, done on the same runtime), follows no redirects (a redirect could carry
//! credentials to another host), reads at most [`MAX_BODY`] bytes, and is retried at most once
//! on a transient failure.

use std::cell::{OnceCell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use crate::kernel::deadline::Deadline;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::http_error::describe;
#[cfg(target_os = "linux")]
use crate::kernel::resolve::SystemResolver;
use crate::kernel::tls;
use crate::kernel::trace::Trace;
use crate::note;

mod message;
pub use message::{Method, Request, Response};

/// Largest response body read; a token answer is a few KiB.
pub const MAX_BODY: usize = 1024 * 1024;
/// Default total time for one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(4);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Http {
    timeout: Duration,
    deadline: Deadline,
    proxies: Proxies,
    trust: tls::Trust,
    ca_certs: RefCell<Vec<PathBuf>>,
    #[cfg(target_os = "linux")]
    resolver: SystemResolver,
    runtime: OnceCell<tokio::runtime::Runtime>,
    /// For `https` (and anything through an `https://` proxy): with the TLS roots, and
    /// what their reading went through. Plain `http` uses it too once it exists.
    tls: OnceCell<(reqwest::Client, tls::Config)>,
    /// For plain `http` before any https: no TLS roots read.
    plain: OnceCell<reqwest::Client>,
    requests: std::cell::Cell<u32>,
    /// The call's trace: a retry is a request no caller sees, so it is noted here.
    trace: Rc<Trace>,
}

#[derive(Default)]
struct Proxies {
    https: Option<String>,
    http: Option<String>,
    no_proxy: Option<String>,
}

impl Http {
    pub fn new(env: &Env, deadline: Deadline, trace: Rc<Trace>) -> Http {
        let timeout = env
            .var(vars::HTTP_TIMEOUT_MS)
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_TIMEOUT);
        let pick = |upper: &str| {
            env.var(upper)
                .or_else(|| env.var(&upper.to_ascii_lowercase()))
                .map(str::to_string)
        };
        let mut ca_certs = Vec::new();
        if let Some(p) = env.var(vars::CA_CERT) {
            ca_certs.push(env.expand_path(p));
        }
        Http {
            timeout,
            deadline,
            proxies: Proxies {
                https: pick(vars::HTTPS_PROXY),
                http: pick(vars::HTTP_PROXY),
                no_proxy: pick(vars::NO_PROXY),
            },
            trust: tls::Trust::from_env(env),
            ca_certs: RefCell::new(ca_certs),
            #[cfg(target_os = "linux")]
            resolver: SystemResolver::default(),
            runtime: OnceCell::new(),
            tls: OnceCell::new(),
            plain: OnceCell::new(),
            requests: std::cell::Cell::new(0),
            trace,
        }
    }

    /// Trusts an extra PEM CA bundle. Must be called before the first request.
    pub fn trust(&self, path: PathBuf) {
        self.ca_certs.borrow_mut().push(path);
    }

    /// Whether a client (and the runtime) was built at all.
    pub fn client_built(&self) -> bool {
        self.runtime.get().is_some()
    }

    /// Whether a TLS client was built (on Linux: the system TLS roots were loaded).
    pub fn tls_roots_loaded(&self) -> bool {
        self.tls.get().is_some()
    }

    /// `https`, or anything through an `https://` proxy.
    fn needs_tls(&self, url: &url::Url) -> bool {
        url.scheme() != "http"
            || self
                .proxies
                .http
                .as_deref()
                .is_some_and(|p| p.to_ascii_lowercase().starts_with("https:"))
    }

    /// Why the TLS roots could not be read, for a request to `url` that needed a handshake
    /// (plain http reuses the TLS client, and its failures are its own).
    fn roots_failure(&self, url: &url::Url) -> Option<Error> {
        if !self.needs_tls(url) {
            return None;
        }
        self.tls.get()?.1.roots_failure()
    }

    /// How many requests this process sent.
    pub fn requests_sent(&self) -> u32 {
        self.requests.get()
    }

    /// The runtime and the client for `url`, built on first use.
    fn client_for(&self, url: &url::Url) -> Result<(&tokio::runtime::Runtime, &reqwest::Client)> {
        let runtime = match self.runtime.get() {
            Some(r) => r,
            None => {
                let r = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
                self.runtime.get_or_init(|| r)
            }
        };
        let tls = self.needs_tls(url);
        if let Some((client, _)) = self.tls.get() {
            return Ok((runtime, client));
        }
        if tls {
            let config = self
                .trust
                .client_config(&self.ca_certs.borrow(), &self.deadline)?;
            let client = self.build_client(Some(config.rustls.clone()))?;
            return Ok((runtime, &self.tls.get_or_init(|| (client, config)).0));
        }
        if let Some(client) = self.plain.get() {
            return Ok((runtime, client));
        }
        let client = self.build_client(None)?;
        Ok((runtime, self.plain.get_or_init(|| client)))
    }

    fn build_client(&self, tls: Option<rustls::ClientConfig>) -> Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("credential-helper/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        #[cfg(target_os = "linux")]
        {
            builder = builder.dns_resolver(std::sync::Arc::new(self.resolver.clone()));
        }
        if let Some(config) = tls {
            builder = builder.use_preconfigured_tls(config);
        }
        let no_proxy =
            reqwest::NoProxy::from_string(self.proxies.no_proxy.as_deref().unwrap_or(""));
        for (url, https) in [(&self.proxies.https, true), (&self.proxies.http, false)] {
            if let Some(url) = url {
                let proxy = if https {
                    reqwest::Proxy::https(url)
                } else {
                    reqwest::Proxy::http(url)
                }
                // Named by its variable, never shown: a proxy URL may carry a password.
                .map_err(|e| {
                    let var = if https {
                        vars::HTTPS_PROXY
                    } else {
                        vars::HTTP_PROXY
                    };
                    let why = std::error::Error::source(&e)
                        .map_or("not a URL".to_string(), |s| s.to_string());
                    Error::new(format!("{var} is not a valid proxy URL ({why})"))
                })?;
                builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
            }
        }
        builder
            .build()
            .map_err(|e| Error::new(format!("cannot build the HTTP client: {e}")))
    }

    /// Sends a request, retrying once on a transient failure (connection error, 429, 5xx) when
    /// time allows.
    pub fn send(&self, req: &Request) -> Result<Response> {
        let first = self.send_once(req);
        if req.timeout.is_some() {
            return first.map_err(|e| e.error);
        }
        let transient = match &first {
            Ok(r) => r.status == 429 || r.status >= 500,
            Err(e) => e.transient,
        };
        let remaining = self.deadline.remaining();
        if transient && remaining > Duration::from_millis(1000) {
            let first = match &first {
                Ok(r) => format!("answered HTTP {}", r.status),
                Err(e) => format!("failed: {}", e.error),
            };
            note!(
                self.trace,
                "retrying {} {} once: the first attempt {first}",
                match req.method {
                    Method::Get => "GET",
                    Method::Post => "POST",
                    Method::Put => "PUT",
                },
                redact_url(&req.url)
            );
            std::thread::sleep(Duration::from_millis(100));
            return self.send_once(req).map_err(|e| e.error);
        }
        first.map_err(|e| e.error)
    }

    fn send_once(&self, req: &Request) -> Result<Response, SendError> {
        let (runtime, client) = self.client_for(&req.url).map_err(SendError::fatal)?;
        let remaining = self.deadline.remaining();
        if remaining.is_zero() {
            return Err(SendError::fatal(Error::new(
                "out of time for network requests",
            )));
        }
        let timeout = req
            .timeout
            .map_or(self.timeout, |t| t.min(self.timeout))
            .min(remaining);
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
        };
        let mut builder = client.request(method, req.url.clone()).timeout(timeout);
        for (name, value) in &req.headers {
            let mut value =
                reqwest::header::HeaderValue::from_str(value.expose()).map_err(|_| {
                    SendError::fatal(Error::new(format!("invalid value for header {name}")))
                })?;
            value.set_sensitive(true);
            builder = builder.header(name.as_str(), value);
        }
        if let Some((content_type, body)) = &req.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                .body(body.clone());
        }
        self.requests.set(self.requests.get() + 1);
        let url = redact_url(&req.url);
        runtime.block_on(async {
            let mut resp =
                builder
                    .send()
                    .await
                    .map_err(|e| match self.roots_failure(&req.url) {
                        // The handshake found the roots unreadable: say that, not "invalid certificate".
                        Some(error) => SendError::fatal(error),
                        None => SendError {
                            transient: e.is_connect() || e.is_request() && !e.is_timeout(),
                            error: describe(&e, &url, timeout),
                        },
                    })?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            loop {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        if body.len() + chunk.len() > MAX_BODY {
                            return Err(SendError::fatal(Error::new(format!(
                                "{url} answered with a body larger than {} KiB",
                                MAX_BODY / 1024
                            ))));
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        return Err(SendError {
                            transient: !e.is_timeout(),
                            error: describe(&e, &url, timeout),
                        });
                    }
                }
            }
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }
}

impl Drop for Http {
    /// Dropping a runtime waits for its blocking threads, and a resolver thread stuck in
    /// `getaddrinfo` (a DNS server that drops queries) would hold the process seconds past the
    /// deadline after its request timed out. Such a thread holds nothing of ours: let it go.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

struct SendError {
    transient: bool,
    error: Error,
}

impl SendError {
    fn fatal(error: Error) -> SendError {
        SendError {
            transient: false,
            error,
        }
    }
}

/// The URL without userinfo or query, for messages.
pub fn redact_url(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

#[cfg(test)]
mod tests;

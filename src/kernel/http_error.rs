//! A failed request, told to a person: reqwest's error chain in one line, with what to do for
//! the failures that have a usual cause (a slow server, a name that does not resolve).

use std::time::Duration;

use crate::kernel::env::vars;
use crate::kernel::error::Error;

/// reqwest's error chain, flattened, without the URL's query (which may carry a token).
pub fn describe(e: &reqwest::Error, url: &str, timeout: Duration) -> Error {
    if e.is_timeout() {
        return Error::new(format!(
            "request to {url} timed out after {} ms",
            timeout.as_millis()
        ))
        .hint(format!(
            "raise {} if the server is slow",
            vars::HTTP_TIMEOUT_MS
        ));
    }
    let mut msg = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
        source = s.source();
    }
    if msg.is_empty() {
        msg = "request failed".into();
    }
    let error = Error::new(format!("request to {url} failed: {msg}"));
    // reqwest 0.12 gives TLS an IPv6 literal with its brackets through a proxy tunnel
    // (seanmonstar/reqwest#3094), so such a request cannot succeed yet.
    if msg.contains("Invalid Server Name") && url.contains("://[") {
        return error.hint("https through a proxy fails for IPv6 addresses: add the address, without brackets, to NO_PROXY");
    }
    // hyper-util's resolver says `dns error`; the name did not resolve to an address.
    if msg.contains("dns error") {
        return error.hint("the host name does not resolve: check its spelling, your network and DNS, or the proxy settings (HTTPS_PROXY, NO_PROXY)");
    }
    error
}

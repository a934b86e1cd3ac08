//! The Bazel credential-helper protocol: the request read from stdin and the answer written to
//! stdout.
//!
//! Bazel is stricter than the written spec: the answer must be exactly one JSON object, header
//! values must be arrays of strings, and `expires` must be whole seconds (`null` and fractional
//! seconds are rejected), so it is omitted when unknown.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;

use crate::kernel::error::{Error, Result};
use crate::kernel::secret::Secret;
use crate::kernel::token::format_rfc3339;

/// Requests larger than this are refused; a real one is a single URL.
pub const MAX_REQUEST_BYTES: u64 = 1024 * 1024;

/// `{"uri": "..."}`; other fields are ignored, as the spec asks.
#[derive(Debug, Deserialize)]
pub struct Request {
    pub uri: String,
}

impl Request {
    /// Reads and parses the request; `serde_json` decodes Gson's `\u003d`-style escapes.
    pub fn read_from(mut input: impl Read) -> Result<Request> {
        let mut buf = Vec::new();
        input
            .by_ref()
            .take(MAX_REQUEST_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::new(format!("cannot read the request from stdin: {e}")))?;
        if buf.len() as u64 > MAX_REQUEST_BYTES {
            return Err(Error::new("request on stdin is larger than 1 MiB")
                .hint("Bazel sends {\"uri\": \"...\"}; check what is piped into `get`"));
        }
        Request::parse(&buf)
    }

    pub fn parse(bytes: &[u8]) -> Result<Request> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::new("no request on stdin")
                .hint("`get` expects {\"uri\": \"https://...\"} on stdin, as Bazel sends it"));
        }
        serde_json::from_slice(bytes).map_err(|e| {
            Error::new(format!("invalid request on stdin: {e}"))
                .hint("expected a JSON object like {\"uri\": \"https://...\"}")
        })
    }

    /// The URI as a URL; anything without a host is refused.
    pub fn url(&self) -> Result<url::Url> {
        let url = url::Url::parse(&self.uri).map_err(|e| {
            Error::new(format!("the request's uri is not a URL ({e})"))
                .hint("expected an absolute URL such as https://example.com/path")
        })?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::new("the request's uri has no host")
                .hint("expected an absolute URL such as https://example.com/path"));
        }
        Ok(url)
    }
}

/// One header value: public (`Accept`) or a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    Public(String),
    Secret(Secret),
}

impl HeaderValue {
    fn expose(&self) -> &str {
        match self {
            HeaderValue::Public(s) => s,
            HeaderValue::Secret(s) => s.expose(),
        }
    }

    /// What a person may see: public values as they are, secrets redacted.
    pub fn redacted(&self) -> String {
        match self {
            HeaderValue::Public(s) => s.clone(),
            HeaderValue::Secret(s) => redact_credential(s.expose()),
        }
    }
}

/// Keeps an auth scheme word (`Bearer`, `Basic`) visible, hides the rest.
fn redact_credential(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if matches!(scheme, "Bearer" | "Basic" | "token") => {
            format!("{scheme} <redacted>")
        }
        _ => "<redacted>".to_string(),
    }
}

/// The answer: headers in name order (deterministic output) and an optional expiry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub headers: BTreeMap<String, Vec<HeaderValue>>,
    /// Unix seconds.
    pub expires: Option<i64>,
}

impl Response {
    /// `{"headers":{}}`: no credentials for this URL.
    pub fn empty() -> Response {
        Response::default()
    }

    pub fn secret_header(mut self, name: &str, value: Secret) -> Response {
        self.headers
            .entry(name.to_string())
            .or_default()
            .push(HeaderValue::Secret(value));
        self
    }

    pub fn public_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers
            .entry(name.to_string())
            .or_default()
            .push(HeaderValue::Public(value.into()));
        self
    }

    pub fn expires(mut self, expires: Option<i64>) -> Response {
        self.expires = expires;
        self
    }

    /// The compact JSON Bazel reads. The only place secrets are written out.
    pub fn to_json(&self) -> String {
        let headers: BTreeMap<&str, Vec<&str>> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.iter().map(HeaderValue::expose).collect()))
            .collect();
        #[derive(serde::Serialize)]
        struct Answer<'a> {
            headers: BTreeMap<&'a str, Vec<&'a str>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            expires: Option<String>,
        }
        let answer = Answer {
            headers,
            expires: self.expires.map(format_rfc3339),
        };
        // Serializing maps of strings cannot fail.
        serde_json::to_string(&answer).unwrap_or_else(|_| r#"{"headers":{}}"#.to_string())
    }

    /// The headers as `name: value` lines with secrets redacted, for `explain` and logs.
    pub fn redacted_lines(&self) -> Vec<String> {
        self.headers
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}: {}", v.redacted())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gson_escaped_request_and_ignores_extra_fields() {
        let r =
            Request::parse(br#"{"uri":"https://x/a?b\u003dc\u0026d\u003de","other":1}"#).unwrap();
        assert_eq!(r.uri, "https://x/a?b=c&d=e");
    }

    #[test]
    fn rejects_bad_requests() {
        for input in [&b""[..], b"  ", b"{", b"[]", b"{\"uri\":1}", b"{}", b"null"] {
            assert!(Request::parse(input).is_err(), "{input:?}");
        }
        let r = Request::parse(br#"{"uri":"not a url"}"#).unwrap();
        assert!(r.url().is_err());
        let big = vec![b' '; (MAX_REQUEST_BYTES + 10) as usize];
        assert!(Request::read_from(&big[..]).is_err());
    }

    #[test]
    fn answer_is_compact_sorted_and_whole_seconds() {
        let r = Response::empty()
            .secret_header("b", Secret::new("2"))
            .public_header("a", "1")
            .expires(Some(1_795_000_000));
        assert_eq!(
            r.to_json(),
            r#"{"headers":{"a":["1"],"b":["2"]},"expires":"2026-11-18T11:06:40Z"}"#
        );
        assert_eq!(Response::empty().to_json(), r#"{"headers":{}}"#);
    }

    #[test]
    fn redaction_keeps_scheme_only() {
        let r = Response::empty()
            .secret_header("Authorization", Secret::new("Bearer abc"))
            .secret_header("x-api-key", Secret::new("abc"));
        assert_eq!(
            r.redacted_lines(),
            ["Authorization: Bearer <redacted>", "x-api-key: <redacted>"]
        );
    }
}

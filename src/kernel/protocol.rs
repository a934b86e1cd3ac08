//! The Bazel credential-helper protocol: the request read from stdin and the answer written to
//! stdout.
//!
//! Bazel is stricter than the written spec: the answer must be exactly one JSON object, header
//! values must be arrays of strings, and `expires` must be whole seconds (`null` and fractional
//! seconds are rejected), so it is omitted when unknown.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;

use crate::kernel::error::{Error, Result, describe_json};
use crate::kernel::secret::{Secret, has_control_character};
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
            // The request is not quoted: its URI may carry a token.
            Error::new(format!("invalid request on stdin: {}", describe_json(&e)))
                .hint("expected a JSON object like {\"uri\": \"https://...\"}")
        })
    }

    /// The path exactly as Bazel sent it: what path globs match (see [`raw_path`]).
    pub fn raw_path(&self) -> &str {
        raw_path(&self.uri)
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

/// The path of `uri` as written, without the query or fragment. The URL parser resolves `..`
/// (also `%2e%2e`), treats `\` as `/` and drops tabs and line breaks, so its path can differ
/// from what the server reads; path globs must judge the path as sent. Splits where the parser
/// does for `http(s)`: the authority follows the scheme and any slashes or backslashes, and
/// ends at the first `/`, `\`, `?` or `#`.
pub fn raw_path(uri: &str) -> &str {
    let uri = uri.trim_matches(|c: char| c <= ' ');
    let after_scheme = uri.split_once(':').map_or(uri, |(_, rest)| rest);
    let authority_on = after_scheme.trim_start_matches(['/', '\\']);
    let path_on = authority_on
        .find(['/', '\\', '?', '#'])
        .map_or("", |i| &authority_on[i..]);
    let end = path_on.find(['?', '#']).unwrap_or(path_on.len());
    &path_on[..end]
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

    /// Adds a credential header. `what` names where the value came from ("the token from env
    /// GH_TOKEN"): a value with a control character is an error that says so, never the value.
    pub fn secret_header(self, name: &str, value: Secret, what: &str) -> Result<Response> {
        self.header(name, HeaderValue::Secret(value), what)
    }

    /// Adds a header whose value is not secret, under the same rule.
    pub fn public_header(
        self,
        name: &str,
        value: impl Into<String>,
        what: &str,
    ) -> Result<Response> {
        self.header(name, HeaderValue::Public(value.into()), what)
    }

    fn header(mut self, name: &str, value: HeaderValue, what: &str) -> Result<Response> {
        if has_control_character(value.expose()) {
            return Err(Error::new(format!(
                "{what} contains a control character; refusing to send it as header {name}"
            ))
            .hint("remove the line break or other control character from it"));
        }
        self.headers
            .entry(name.to_string())
            .or_default()
            .push(value);
        Ok(self)
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
            .secret_header("b", Secret::new("2"), "b")
            .and_then(|r| r.public_header("a", "1", "a"))
            .unwrap()
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
            .secret_header("Authorization", Secret::new("Bearer abc"), "a")
            .and_then(|r| r.secret_header("x-api-key", Secret::new("abc"), "k"))
            .unwrap();
        assert_eq!(
            r.redacted_lines(),
            ["Authorization: Bearer <redacted>", "x-api-key: <redacted>"]
        );
    }

    #[test]
    fn header_values_with_control_characters_are_refused_without_quoting() {
        for bad in [
            "canary\r\nX-Evil: 1",
            "canary\n",
            "can\rary",
            "a\0b",
            "a\u{7f}",
            "a\tb",
            "a\u{85}",
        ] {
            let err = Response::empty()
                .secret_header("Authorization", Secret::new(bad), "the token from env T")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("the token from env T contains a control character"),
                "{err}"
            );
            assert!(!err.contains("canary") && !err.contains("X-Evil"), "{err}");
            assert!(Response::empty().public_header("a", bad, "x").is_err());
        }
        assert!(
            Response::empty()
                .secret_header("a", Secret::new("Bearer ok ünïcode"), "x")
                .is_ok()
        );
    }

    #[test]
    fn raw_path_is_the_path_as_sent() {
        let table = [
            ("https://h/a/b?q=1#f", "/a/b"),
            ("https://h", ""),
            ("https://h?q", ""),
            ("https://h:443/my-bucket", "/my-bucket"),
            ("https://u:p@h/x", "/x"),
            ("http://[::1]:5000/v2/", "/v2/"),
            ("https://h/private//../public/x", "/private//../public/x"),
            ("https://h/private/..%2fpublic/x", "/private/..%2fpublic/x"),
            ("https://h/private/%2e%2e/x", "/private/%2e%2e/x"),
            ("https:\\\\h\\a\\..\\b", "\\a\\..\\b"),
            ("https:///h/a", "/a"),
            ("  https://h/a b\n", "/a b"),
        ];
        for (uri, want) in table {
            assert_eq!(raw_path(uri), want, "{uri:?}");
        }
    }
}

//! What a request is and what came back: the values the helpers build and read, apart from
//! how the client sends them.

use std::time::Duration;

use crate::kernel::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// Only the EC2 metadata service's session-token request needs it.
    Put,
}

/// One request. Header values are secrets so they never show up in `Debug` output.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub url: url::Url,
    pub headers: Vec<(String, Secret)>,
    pub body: Option<(String, Vec<u8>)>,
    /// A shorter total timeout, for probes; such requests are never retried.
    pub timeout: Option<Duration>,
}

impl Request {
    pub fn get(url: url::Url) -> Request {
        Request {
            method: Method::Get,
            url,
            headers: Vec::new(),
            body: None,
            timeout: None,
        }
    }

    pub fn post(url: url::Url, content_type: &str, body: Vec<u8>) -> Request {
        Request {
            method: Method::Post,
            url,
            headers: Vec::new(),
            body: Some((content_type.to_string(), body)),
            timeout: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<Secret>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// A body-less `PUT`.
    pub fn put(url: url::Url) -> Request {
        Request {
            method: Method::Put,
            ..Request::get(url)
        }
    }

    /// A probe of an endpoint that exists only on some machines (a cloud metadata server):
    /// at most `timeout`, and no retry, so its absence costs little.
    pub fn probe(mut self, timeout: Duration) -> Request {
        self.timeout = Some(timeout);
        self
    }

    /// `application/x-www-form-urlencoded` body.
    pub fn form(url: url::Url, fields: &[(&str, &str)]) -> Request {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        Request::post(url, "application/x-www-form-urlencoded", body.into_bytes())
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

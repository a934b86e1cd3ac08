//! Patterns that can never match a URL Bazel sends: what `check-config` reports about
//! entries that would silently never apply.
//!
//! What a request looks like is decided elsewhere: Bazel asks only for `http` and `https` URLs
//! (gRPC caches and BES as `https://<authority>/<service>`), the URL parser lowercases the
//! scheme, gives the host without scheme, path or brackets-less IPv6, drops the scheme's
//! default port, and [`crate::kernel::pattern`] matches hosts case-insensitively and paths
//! only when they are unambiguous.

use crate::kernel::pattern::is_unambiguous_path;

/// Why a pattern does not match what it seems to, and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub what: String,
    pub fix: String,
    /// `false`: it matches, but only rarely what was meant (a warning, not an error).
    pub never: bool,
}

fn never(what: impl Into<String>, fix: impl Into<String>) -> Option<Finding> {
    Some(Finding {
        what: what.into(),
        fix: fix.into(),
        never: true,
    })
}

/// A `scheme` no request has.
pub fn scheme(scheme: &str) -> Option<Finding> {
    match scheme {
        "http" | "https" => None,
        s if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => never(
            "never matches: URL schemes are compared in lowercase",
            format!("write \"{}\"", s.to_ascii_lowercase()),
        ),
        _ => never(
            "never matches: Bazel asks a credential helper only for http and https URLs (gRPC caches and BES too, as https)",
            "write \"https\", or leave \"scheme\" out",
        ),
    }
}

const GLOB: &[char] = &['*', '?', '{', '}', '\\', '!'];

/// A `host` pattern no request's host (with `:port` when the pattern has one) can match.
pub fn host(pattern: &str, scheme: Option<&str>) -> Option<Finding> {
    if pattern.is_empty() {
        return never(
            "never matches: it is empty",
            "leave \"host\" out to match every host",
        );
    }
    if let Some((given, rest)) = pattern.split_once("://") {
        let host = rest.split('/').next().unwrap_or_default();
        return never(
            "never matches: a host pattern has no scheme",
            format!("write \"scheme\": \"{given}\", \"host\": \"{host}\""),
        );
    }
    if let Some((host, path)) = pattern.split_once('/') {
        return never(
            "never matches: a host pattern has no path",
            format!("write \"host\": \"{host}\", \"path\": \"/{path}*\""),
        );
    }
    if pattern.chars().any(|c| c.is_whitespace() || c == '@') {
        return never(
            "never matches: a host has no spaces or user name",
            "write the host name alone",
        );
    }
    if !pattern.is_ascii() {
        return never(
            "never matches: URLs carry international names in their ASCII (punycode) form",
            "write the xn-- form of the name",
        );
    }
    let port = if let Some(rest) = pattern.strip_prefix('[') {
        match rest.split_once(']') {
            Some((_, "")) => None,
            Some((_, after)) => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => {
                    return never(
                        "never matches: after `]` comes only `:port`",
                        "write [address]:port",
                    );
                }
            },
            None => {
                return never(
                    "never matches: `[` without `]`",
                    "write an IPv6 address as [address]",
                );
            }
        }
    } else {
        match pattern.matches(':').count() {
            0 => None,
            1 => pattern.rsplit_once(':').map(|(_, p)| p),
            _ => {
                return never(
                    "never matches: URLs write an IPv6 address in brackets",
                    format!("write \"[{pattern}]\""),
                );
            }
        }
    };
    let port = port?;
    if port.contains(GLOB) {
        return None;
    }
    let number = match port.parse::<u16>() {
        Ok(n) if n > 0 => n,
        _ => {
            return never(
                "never matches: a port is a number from 1 to 65535",
                "write host:port, e.g. registry.example.com:5000",
            );
        }
    };
    let name = &pattern[..pattern.len() - port.len() - 1];
    let default = |s: &str| match s {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    match scheme {
        Some(s) if default(s) == Some(number) => never(
            format!(
                "never matches: {s} URLs drop their default port {number}, so the host is compared without it"
            ),
            format!("write \"{name}\""),
        ),
        None if number == 443 || number == 80 => {
            let (kept, dropped) = if number == 443 {
                ("http", "https")
            } else {
                ("https", "http")
            };
            Some(Finding {
                what: format!(
                    "matches only {kept}://{name}:{number}/ URLs: {dropped} URLs drop their default port {number} and are compared without it"
                ),
                fix: format!("write \"{name}\" to match the host on any port"),
                never: false,
            })
        }
        _ => None,
    }
}

/// A `path` glob no request's path can match.
pub fn path(pattern: &str) -> Option<Finding> {
    if !pattern.starts_with(['/', '*', '?', '[', '{']) {
        return never(
            "never matches: a URL path starts with /",
            format!("write \"/{pattern}\""),
        );
    }
    // A literal path with dot segments or encoded slashes: such a request path never matches.
    if !pattern.contains(['*', '?', '[', '{']) && !is_unambiguous_path(pattern) {
        return never(
            "never matches: a path with dot segments, encoded slashes or backslashes is never matched, so no request can reach this entry",
            "write the path as the server names it, without . or .. segments",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        for (s, bad) in [
            ("https", false),
            ("http", false),
            ("HTTPS", true),
            ("Http", true),
            ("grpcs", true),
            ("ftp", true),
        ] {
            assert_eq!(scheme(s).is_some(), bad, "{s}");
        }
        assert!(scheme("HTTPS").unwrap().fix.contains("\"https\""));
    }

    #[test]
    fn hosts() {
        // (pattern, scheme, Some(never) or None when fine)
        let table: &[(&str, Option<&str>, Option<bool>)] = &[
            ("example.com", None, None),
            ("Example.COM", None, None),
            ("*.example.com", Some("https"), None),
            ("example.com:8443", Some("https"), None),
            ("example.com:*", None, None),
            ("[::1]", None, None),
            ("[::1]:5000", None, None),
            ("127.0.0.1:5000", Some("http"), None),
            ("https://example.com", None, Some(true)),
            ("https://example.com/v2/", Some("https"), Some(true)),
            ("x.com/", None, Some(true)),
            ("x.com/v2", None, Some(true)),
            ("", None, Some(true)),
            ("a b.com", None, Some(true)),
            ("user@x.com", None, Some(true)),
            ("bücher.example", None, Some(true)),
            ("::1", None, Some(true)),
            ("[::1", None, Some(true)),
            ("[::1]5000", None, Some(true)),
            ("x.com:", None, Some(true)),
            ("x.com:http", None, Some(true)),
            ("x.com:0", None, Some(true)),
            ("x.com:70000", None, Some(true)),
            ("x.com:443", Some("https"), Some(true)),
            ("x.com:80", Some("http"), Some(true)),
            ("x.com:443", Some("http"), None),
            ("x.com:443", None, Some(false)),
        ];
        for (pattern, s, want) in table {
            assert_eq!(host(pattern, *s).map(|f| f.never), *want, "{pattern} {s:?}");
        }
        let fix = host("https://x.com/v2", None).unwrap().fix;
        assert_eq!(fix, "write \"scheme\": \"https\", \"host\": \"x.com\"");
        assert_eq!(
            host("x.com/", None).unwrap().fix,
            "write \"host\": \"x.com\", \"path\": \"/*\""
        );
    }

    #[test]
    fn paths() {
        for (p, bad) in [
            ("/v2/*", false),
            ("*", false),
            ("{/a,/b}/*", false),
            ("/", false),
            ("v2/*", true),
            ("", true),
            ("/a/../b", true),
            ("/a/%2fb", true),
        ] {
            assert_eq!(path(p).is_some(), bad, "{p}");
        }
    }
}

//! Access tokens and their lifetimes: the token-answer parser every exchange uses, the safety
//! margin, and RFC 3339 dates.

use serde::Deserialize;

use crate::kernel::error::describe_json;
use crate::kernel::secret::{Secret, has_control_character};

/// Token lifetime when the server does not say (the registry spec's default, and Entra's).
pub const DEFAULT_LIFETIME: i64 = 60;

/// A bearer token and when to stop using it.
#[derive(Debug, Clone)]
pub struct Token {
    pub token: Secret,
    /// Unix seconds, already shortened by [`safety_margin`].
    pub expires: i64,
}

/// Bazel must never hold a token past its end: max(10 s, 10 % of the lifetime), but never more
/// than half of it, so a very short-lived token still expires in the future.
pub fn safety_margin(lifetime: i64) -> i64 {
    (lifetime / 10).max(10).min(lifetime.max(0) / 2)
}

/// How one kind of token endpoint words its answer. The parsing is the same for all.
pub struct Dialect {
    /// Whether the registry spec's `token` field is read (after a non-empty `access_token`).
    pub token_field: bool,
    /// The longest lifetime believed.
    pub max_lifetime: i64,
}

/// Registry token servers (the distribution token spec) and Google's OAuth2 endpoints.
pub const REGISTRY: Dialect = Dialect {
    token_field: true,
    max_lifetime: 86400 * 365,
};

/// Microsoft Entra ID and the Azure managed identity endpoints.
pub const ENTRA: Dialect = Dialect {
    token_field: false,
    max_lifetime: 86400,
};

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    /// Seconds; a number, or (managed identity endpoints) a string holding one.
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    /// Unix seconds, when `expires_in` is absent (App Service).
    #[serde(default)]
    expires_on: Option<serde_json::Value>,
    #[serde(default)]
    issued_at: Option<String>,
}

/// The registry dialect of [`parse_answer`].
pub fn parse_response(body: &[u8], now: i64) -> Result<Token, String> {
    parse_answer(body, now, &REGISTRY)
}

/// Parses a token endpoint's answer. The error says what was wrong, never what was there:
/// serde's own message quotes values (a bare JSON string could be a token), so only the kind
/// of problem and its position are kept.
pub fn parse_answer(body: &[u8], now: i64, dialect: &Dialect) -> Result<Token, String> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("answered invalid JSON ({})", describe_json(&e)))?;
    let token = answer
        .access_token
        .filter(|t| !t.is_empty())
        .or(answer
            .token
            .filter(|t| dialect.token_field && !t.is_empty()))
        .ok_or("answered without a token")?;
    if has_control_character(&token) {
        return Err("answered a token with control characters".into());
    }
    let lifetime = answer
        .expires_in
        .as_ref()
        .and_then(seconds)
        .or_else(|| {
            answer
                .expires_on
                .as_ref()
                .and_then(seconds)
                // A far-past `expires_on` (i64::MIN, or -1e300 cast) must not wrap to a future.
                .map(|on| on.saturating_sub(now))
        })
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIFETIME)
        .min(dialect.max_lifetime);
    let issued = answer
        .issued_at
        .as_deref()
        .and_then(parse_rfc3339)
        // A server clock far off ours must not produce an expiry in the past or far future.
        .filter(|t| (t - now).abs() < 3600)
        .unwrap_or(now);
    Ok(Token {
        token: Secret::new(token),
        expires: issued + lifetime - safety_margin(lifetime),
    })
}

/// Seconds: a number, or a string holding one.
pub fn seconds(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `(invalid_client AADSTS7000215)`: an OAuth2 error answer's code (a fixed vocabulary) and
/// Entra's error number, for messages. Only these: a description could quote what was sent.
pub fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v
        .get("error")
        .and_then(|e| e.as_str())
        .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let aadsts = v
        .get("error_description")
        .and_then(|d| d.as_str())
        .and_then(|d| d.split(|c: char| !c.is_ascii_alphanumeric()).next())
        .filter(|w| {
            w.strip_prefix("AADSTS")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
    let parts: Vec<&str> = code.into_iter().chain(aadsts).collect();
    (!parts.is_empty()).then(|| format!("({})", parts.join(" ")))
}

/// `2026-11-23T10:00:00Z`: whole seconds, UTC, as Bazel requires.
pub fn format_rfc3339(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an RFC 3339 timestamp (fractions and offsets allowed) to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_rules() {
        let now = 1_000_000;
        let t =
            parse_response(br#"{"token":"a","access_token":"b","expires_in":300}"#, now).unwrap();
        assert_eq!(t.token.expose(), "b");
        assert_eq!(t.expires, now + 300 - 30);
        let t = parse_response(br#"{"token":"a","access_token":""}"#, now).unwrap();
        assert_eq!(t.token.expose(), "a");
        assert_eq!(t.expires, now + 60 - 10);
        let t = parse_response(
            br#"{"token":"a","expires_in":100,"issued_at":"1970-01-12T13:46:30Z"}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.expires, 999_990 + 100 - 10);
        for bad in [
            &b"{}"[..],
            b"[]",
            b"garbage",
            br#"{"token":""}"#,
            br#"{"token":"a\nb"}"#,
        ] {
            assert!(parse_response(bad, now).is_err());
        }
    }

    #[test]
    fn token_response_errors_never_quote_the_answer() {
        for body in [
            &br#""eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9canary""#[..],
            br#"{"token": 1234567890123456789}"#,
            br#"{"access_token": ["canary"], "token": "a"}"#,
        ] {
            let err = parse_response(body, 1_000_000).err().unwrap_or_default();
            assert!(err.starts_with("answered invalid JSON ("), "{err}");
            assert!(
                !err.contains("canary") && !err.contains("123456789"),
                "{err}"
            );
        }
    }

    #[test]
    fn margin_is_ten_seconds_or_ten_percent() {
        assert_eq!(safety_margin(60), 10);
        assert_eq!(safety_margin(300), 30);
        assert_eq!(safety_margin(43200), 4320);
        // Short lifetimes keep half: an expiry in the past would be useless to Bazel.
        assert_eq!(safety_margin(12), 6);
        assert_eq!(safety_margin(5), 2);
        assert_eq!(safety_margin(0), 0);
        let t = parse_response(br#"{"token":"a","expires_in":5}"#, 1000).unwrap();
        assert!(t.expires > 1000, "{}", t.expires);
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(parse_rfc3339("2026-11-18T11:06:40Z"), Some(1_795_000_000));
        assert_eq!(
            parse_rfc3339("2026-11-18T12:06:40.123+01:00"),
            Some(1_795_000_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn entra_answers_of_every_endpoint() {
        let now = 1_000_000;
        let p = |body: &[u8]| parse_answer(body, now, &ENTRA);
        // Entra ID: numbers.
        let t = p(br#"{"access_token":"a","expires_in":3599}"#).unwrap();
        assert_eq!((t.token.expose(), t.expires), ("a", now + 3599 - 359));
        // IMDS: strings; expires_in wins.
        let t = p(br#"{"access_token":"a","expires_in":"600","expires_on":"99"}"#).unwrap();
        assert_eq!(t.expires, now + 600 - 60);
        // App Service 2019-08-01: expires_on only, epoch seconds as a string.
        let t = p(br#"{"access_token":"a","expires_on":"1000300"}"#).unwrap();
        assert_eq!(t.expires, now + 300 - 30);
        assert_eq!(
            p(br#"{"access_token":"a"}"#).unwrap().expires,
            now + 60 - 10
        );
        assert_eq!(
            p(br#"{"access_token":"a","expires_in":9999999}"#)
                .unwrap()
                .expires,
            now + 86400 - 8640
        );
        for bad in [
            &b"{}"[..],
            b"nope",
            br#"{"access_token":""}"#,
            br#"{"token":"registry-only"}"#,
            br#"{"access_token":"a\nb"}"#,
        ] {
            assert!(p(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        for body in [
            &br#"{"access_token": "a", "expires_in": 1, "access_token": true}"#[..],
            br#"{"access_token": 1234567890123456789}"#,
        ] {
            let err = p(body).unwrap_err();
            assert!(err.starts_with("answered invalid JSON ("), "{err}");
            assert!(!err.contains("123456789"), "{err}");
        }
    }

    #[test]
    fn a_far_past_expires_on_is_no_lifetime() {
        let now = 1_000_000;
        for body in [
            &br#"{"access_token":"a","expires_on":-9223372036854775808}"#[..],
            br#"{"access_token":"a","expires_on":-1e300}"#,
            br#"{"access_token":"a","expires_on":"-9223372036854775808"}"#,
        ] {
            let t = parse_answer(body, now, &ENTRA).unwrap();
            assert_eq!(
                t.expires,
                now + DEFAULT_LIFETIME - safety_margin(DEFAULT_LIFETIME)
            );
        }
    }

    #[test]
    fn error_codes_never_quote_descriptions() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. s3cret"}"#;
        assert_eq!(
            error_code(body).as_deref(),
            Some("(invalid_client AADSTS7000215)")
        );
        assert_eq!(
            error_code(br#"{"error":"invalid_grant","error_description":"x"}"#).as_deref(),
            Some("(invalid_grant)")
        );
        assert_eq!(error_code(br#"{"error":"has spaces s3cret"}"#), None);
        assert_eq!(error_code(br#"{"error":"Bad JWT eyJhbGc"}"#), None);
        assert_eq!(error_code(b"<html>"), None);
    }
}

//! Access tokens and their lifetimes: the token-answer parser every exchange uses, the safety
//! margin, and RFC 3339 dates.

use serde::Deserialize;

use crate::kernel::error::describe_json;
use crate::kernel::secret::{Secret, has_control_character};

/// Token lifetime when the server does not say (the spec's default).
const DEFAULT_EXPIRES_IN: i64 = 60;
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

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    issued_at: Option<String>,
}

/// Parses a token server's answer; `now` is used when `issued_at` is absent or unreadable.
pub fn parse_response(body: &[u8], now: i64) -> Result<Token, String> {
    // serde's message quotes values (a bare JSON string, which could be a token): keep only
    // the kind of problem and its position.
    let r: TokenResponse = serde_json::from_slice(body)
        .map_err(|e| format!("answered invalid JSON ({})", describe_json(&e)))?;
    // A non-empty access_token wins over token (the spec's rule).
    let token = r
        .access_token
        .filter(|t| !t.is_empty())
        .or(r.token.filter(|t| !t.is_empty()))
        .ok_or("answered without a token")?;
    if has_control_character(&token) {
        return Err("answered a token with control characters".into());
    }
    let lifetime = match r.expires_in {
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(DEFAULT_EXPIRES_IN),
        _ => DEFAULT_EXPIRES_IN,
    };
    let lifetime = if lifetime <= 0 {
        DEFAULT_EXPIRES_IN
    } else {
        lifetime.min(86400 * 365)
    };
    let issued = r
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
}

//! What the cache stores and how a stored value is judged on the way back in: the file format,
//! the [`Entry`] trait every kind of value implements, and the one opt-in through which a
//! [`Secret`] is ever serialized.

use serde::{Deserialize, Serialize};

use crate::kernel::secret::{Secret, has_control_character};

/// Bumped when the file format changes; other versions are ignored and rewritten.
pub const VERSION: u32 = 2;
/// No fresh answer is kept longer (registry tokens are capped at a year).
pub const MAX_LIFETIME: i64 = 366 * 86400;
/// How long "this metadata service / CLI is not here" is remembered, everywhere.
pub const ABSENCE_TTL: i64 = 600;
/// A process reads with the clock it started with; another may have written a minute later
/// (after a lock wait and a slow fetch).
const CLOCK_SLACK: i64 = 60;

/// A value the cache may hold, checked on the way back in.
pub trait Entry: Sized {
    /// The longest lifetime a fresh answer of this kind is given; an entry claiming more was
    /// not written by us and is removed.
    const MAX_LIFETIME: i64 = MAX_LIFETIME;
    fn to_json(&self) -> Option<serde_json::Value>;
    fn from_json(value: serde_json::Value) -> Option<Self>;
    /// Whether a fresh answer could have been this value.
    fn is_valid(&self) -> bool;
}

/// Tokens: what every fresh answer is held to (non-empty, no control characters, so a valid
/// header value).
impl Entry for Secret {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.expose().to_string()))
    }
    fn from_json(value: serde_json::Value) -> Option<Secret> {
        match value {
            serde_json::Value::String(s) => Some(Secret::new(s)),
            _ => None,
        }
    }
    fn is_valid(&self) -> bool {
        is_token(self.expose())
    }
}

/// A token, a key id, a session token: non-empty, no control characters.
pub fn is_token(value: &str) -> bool {
    !value.is_empty() && !has_control_character(value)
}

/// Serde for the [`Secret`] fields of an [`Entry`] (`#[serde(with = "...::cache::secret")]`):
/// secrets are written out only here, and only where a field opts in.
pub mod secret {
    use crate::kernel::secret::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Secret, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(s.expose())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        Secret::deserialize(d)
    }

    pub mod option {
        use crate::kernel::secret::Secret;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(s: &Option<Secret>, out: S) -> Result<S::Ok, S::Error> {
            match s {
                Some(s) => out.serialize_some(s.expose()),
                None => out.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
            Option::<Secret>::deserialize(d)
        }
    }
}

/// "Not here", and why (shown in messages).
#[derive(Serialize, Deserialize)]
pub struct Absence {
    pub why: String,
}

impl Entry for Absence {
    const MAX_LIFETIME: i64 = ABSENCE_TTL;
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
    fn from_json(value: serde_json::Value) -> Option<Absence> {
        serde_json::from_value(value).ok()
    }
    fn is_valid(&self) -> bool {
        is_token(&self.why) && self.why.len() <= 1024
    }
}

/// An entry as written: `{"version":2,"expires":<unix seconds>,"value":...}`.
#[derive(Serialize, Deserialize)]
pub struct Stored {
    pub version: u32,
    /// Unix seconds; the entry is served only before this.
    pub expires: i64,
    pub value: serde_json::Value,
}

/// A stored entry, if it could be ours and is still good at `now`; else why not.
pub fn decode<T: Entry>(
    bytes: &[u8],
    now: i64,
    accept: &dyn Fn(&T) -> bool,
) -> Result<(T, i64), String> {
    let stored: Stored =
        serde_json::from_slice(bytes).map_err(|_| "not an entry of this cache".to_string())?;
    if stored.version != VERSION {
        return Err(format!("format version {}", stored.version));
    }
    if stored.expires <= now {
        return Err("expired".into());
    }
    if stored.expires > now.saturating_add(T::MAX_LIFETIME + CLOCK_SLACK) {
        return Err("its expiry is further away than any answer's".into());
    }
    match T::from_json(stored.value) {
        Some(value) if value.is_valid() && accept(&value) => Ok((value, stored.expires)),
        _ => Err("a value no fresh answer could be".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, now: i64) -> Result<String, String> {
        decode::<Secret>(text.as_bytes(), now, &|_| true).map(|(s, _)| s.expose().to_string())
    }

    #[test]
    fn a_value_read_back_is_judged_as_a_fresh_one() {
        let now = 1_000_000;
        let entry = |expires: i64, value: &str| {
            format!(r#"{{"version":{VERSION},"expires":{expires},"value":{value}}}"#)
        };
        assert_eq!(read(&entry(now + 60, r#""tok""#), now).unwrap(), "tok");
        for (text, why) in [
            (entry(now, r#""tok""#), "expired"),
            (entry(4_102_444_800, r#""tok""#), "further away"),
            (
                entry(now + 60, r#""tok\r\nX-Injected: 1""#),
                "no fresh answer",
            ),
            (entry(now + 60, r#""""#), "no fresh answer"),
            (entry(now + 60, "42"), "no fresh answer"),
            (
                entry(now + 60, r#""tok""#).replace(&format!(":{VERSION},"), ":1,"),
                "version 1",
            ),
            (r#"{"version":2,"exp"#.to_string(), "not an entry"),
        ] {
            let e = read(&text, now).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
        let absent = |expires| entry(expires, r#"{"why":"x"}"#);
        let read_absent = |text: String| decode::<Absence>(text.as_bytes(), now, &|_| true);
        assert!(read_absent(absent(now + ABSENCE_TTL + CLOCK_SLACK + 1)).is_err());
        // Written by a process whose clock read a little later than ours.
        assert!(read_absent(absent(now + ABSENCE_TTL + CLOCK_SLACK)).is_ok());
        let refused = decode::<Secret>(entry(now + 60, r#""t""#).as_bytes(), now, &|_| false);
        assert!(refused.is_err(), "and to what its reader accepts");
    }

    #[test]
    fn secrets_are_written_only_through_the_opt_in() {
        #[derive(Serialize, Deserialize)]
        struct Pair {
            #[serde(with = "secret")]
            a: Secret,
            #[serde(with = "secret::option")]
            b: Option<Secret>,
        }
        let json = serde_json::to_string(&Pair {
            a: Secret::new("x"),
            b: Some(Secret::new("y")),
        })
        .unwrap();
        assert_eq!(json, r#"{"a":"x","b":"y"}"#);
        let back: Pair = serde_json::from_str(r#"{"a":"x","b":null}"#).unwrap();
        assert_eq!((back.a.expose(), back.b), ("x", None));
    }
}

//! `.netrc` (`$NETRC`, else `~/.netrc`): `machine`/`default` entries with `login` and
//! `password`, as curl and Bazel read them.

use crate::secret::Secret;

/// One `machine` (or `default`) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `None` for `default`.
    pub machine: Option<String>,
    pub login: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Netrc {
    pub entries: Vec<Entry>,
}

impl Netrc {
    /// The entry for `host`: the first `machine` with that name (case-insensitive), else
    /// `default`.
    pub fn find(&self, host: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| {
                e.machine
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(host))
            })
            .or_else(|| self.entries.iter().find(|e| e.machine.is_none()))
    }
}

/// Tokens separated by whitespace; `"quoted strings"` with `\` escapes are one token (curl's
/// extension, so passwords may contain spaces).
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut token = String::new();
        if c == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(n) = chars.next() {
                            token.push(n);
                        }
                    }
                    _ => token.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                token.push(c);
                chars.next();
            }
        }
        out.push(token);
    }
    out
}

/// Parses a netrc file. `macdef` bodies (up to a blank line) are skipped; unknown keywords are
/// an error naming the keyword only, never a value.
pub fn parse(text: &str) -> Result<Netrc, String> {
    let mut netrc = Netrc::default();
    // macdef bodies end at the first empty line; drop them before tokenizing.
    let mut kept = String::new();
    let mut in_macro = false;
    for line in text.lines() {
        if in_macro {
            in_macro = !line.trim().is_empty();
            continue;
        }
        let first = line.split_whitespace().next();
        if first == Some("macdef") {
            in_macro = true;
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    let tokens = tokens(&kept);
    let mut i = 0;
    let value = |i: usize, key: &str| -> Result<String, String> {
        tokens
            .get(i + 1)
            .cloned()
            .ok_or_else(|| format!("`{key}` without a value"))
    };
    while i < tokens.len() {
        match tokens[i].as_str() {
            "machine" => {
                netrc.entries.push(Entry {
                    machine: Some(value(i, "machine")?),
                    login: None,
                    password: None,
                });
                i += 2;
            }
            "default" => {
                netrc.entries.push(Entry {
                    machine: None,
                    login: None,
                    password: None,
                });
                i += 1;
            }
            key @ ("login" | "password" | "account") => {
                let v = value(i, key)?;
                let entry = netrc
                    .entries
                    .last_mut()
                    .ok_or_else(|| format!("`{key}` before any `machine`"))?;
                match key {
                    "login" => entry.login = Some(v),
                    "password" => entry.password = Some(Secret::new(v)),
                    _ => {}
                }
                i += 2;
            }
            other => {
                let shown: String = other.chars().take(20).collect();
                return Err(format!("unexpected token {shown:?}"));
            }
        }
    }
    Ok(netrc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_machines_default_and_macdef() {
        let n = parse(
            "machine a.example login alice password s3cret\n\
             machine B.example\n  login bob\n  password \"with space\"\n\
             macdef init\ncd /pub\nmachine not.real login x\n\n\
             default login anon password anon@\n",
        )
        .unwrap();
        let a = n.find("a.example").unwrap();
        assert_eq!(
            (a.login.as_deref(), a.password.as_ref().map(Secret::expose)),
            (Some("alice"), Some("s3cret"))
        );
        assert_eq!(
            n.find("b.EXAMPLE")
                .unwrap()
                .password
                .as_ref()
                .unwrap()
                .expose(),
            "with space"
        );
        assert_eq!(
            n.find("not.real").unwrap().login.as_deref(),
            Some("anon"),
            "macdef body skipped"
        );
        assert_eq!(n.find("other").unwrap().machine, None);
    }

    #[test]
    fn errors_never_quote_secrets() {
        assert!(
            parse("login x")
                .unwrap_err()
                .contains("before any `machine`")
        );
        assert!(parse("machine").unwrap_err().contains("without a value"));
        let err = parse("machine a password p4ss extra-token").unwrap_err();
        assert!(
            err.contains("extra-token") && !err.contains("p4ss"),
            "{err}"
        );
        assert_eq!(parse("").unwrap(), Netrc::default());
    }
}

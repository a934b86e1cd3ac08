//! `.netrc` (`$NETRC`, else `~/.netrc`): `machine`/`default` entries with `login` and
//! `password`, as curl and Bazel read them.

use crate::kernel::secret::Secret;

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
/// extension, so passwords may contain spaces). Each comes with its 1-based line, for errors
/// that must not quote the file.
fn tokens(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            if c == '\n' {
                line += 1;
            }
            chars.next();
            continue;
        }
        let start = line;
        let mut token = String::new();
        if c == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\n' {
                    line += 1;
                }
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
        out.push((token, start));
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
        // Skipped lines stay as empty ones so line numbers in errors remain right.
        if in_macro {
            in_macro = !line.trim().is_empty();
            kept.push('\n');
            continue;
        }
        let first = line.split_whitespace().next();
        if first == Some("macdef") {
            in_macro = true;
            kept.push('\n');
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
            .map(|(t, _)| t.clone())
            .ok_or_else(|| format!("`{key}` without a value on line {}", tokens[i].1))
    };
    while i < tokens.len() {
        let (token, line) = (&tokens[i].0, tokens[i].1);
        match token.as_str() {
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
                    .ok_or_else(|| format!("`{key}` before any `machine` on line {line}"))?;
                match key {
                    "login" => entry.login = Some(v),
                    "password" => entry.password = Some(Secret::new(v)),
                    _ => {}
                }
                i += 2;
            }
            // Never quote the word: it may be the second half of an unquoted password.
            _ => {
                return Err(format!(
                    "unexpected word on line {line} (expected machine, default, login, password, account or macdef; quote values that contain spaces)"
                ));
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
        let err = parse("machine a\nlogin u password p4ss tail9").unwrap_err();
        assert!(
            err.contains("line 2") && !err.contains("p4ss") && !err.contains("tail9"),
            "{err}"
        );
        let err = parse("macdef x\nbody\n\nmachine b bogus").unwrap_err();
        assert!(err.contains("line 4"), "{err}");
        assert_eq!(parse("").unwrap(), Netrc::default());
    }
}

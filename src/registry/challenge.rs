//! `WWW-Authenticate` challenges (RFC 7235): `Bearer realm="...",service="..."`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Challenge {
    /// Lower-cased: `bearer`, `basic`, ...
    pub scheme: String,
    /// Parameter names lower-cased; values unquoted and unescaped.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Parses every challenge in one header value. Malformed trailing input is ignored, never a
/// panic: the value comes from a server we do not control.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip_separators();
        let Some(word) = p.token() else { break };
        p.skip_ws();
        // `word=` starts a parameter of the current challenge; a bare word starts a new one.
        if p.peek() == Some(b'=') && !out.is_empty() && !p.is_token68_padding() {
            p.i += 1;
            p.skip_ws();
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            if let Some(c) = out.last_mut() {
                c.params.insert(word.to_ascii_lowercase(), value);
            }
        } else {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
            // token68 credentials after the scheme (`Negotiate abc==`) are skipped.
            if p.peek().is_some_and(|c| c != b',') {
                let save = p.i;
                if let Some(_t) = p.token() {
                    p.skip_ws();
                    if p.peek() == Some(b'=') && !p.is_token68_padding() {
                        p.i = save; // it was a parameter name
                    } else {
                        while p.peek() == Some(b'=') {
                            p.i += 1;
                        }
                    }
                }
            }
        }
    }
    out
}

/// Every challenge across several `WWW-Authenticate` headers.
pub fn parse_all<'a>(headers: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    headers.into_iter().flat_map(parse).collect()
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
        // Skip garbage up to the next plausible token start.
        while self.peek().is_some_and(|c| !is_tchar(c) && c != b',') {
            self.i += 1;
        }
    }

    /// `=` followed by `=`/`,`/end: base64 padding of a token68, not a parameter.
    fn is_token68_padding(&self) -> bool {
        matches!(self.s.get(self.i + 1), None | Some(b'=' | b','))
    }

    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn quoted(&mut self) -> String {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(h: &str) -> Challenge {
        let mut v = parse(h);
        assert_eq!(v.len(), 1, "{h}: {v:?}");
        v.remove(0)
    }

    #[test]
    fn docker_hub_challenge() {
        let c = one(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("service"), Some("registry.docker.io"));
        assert_eq!(c.param("scope"), Some("repository:library/ubuntu:pull"));
    }

    #[test]
    fn grammar_variants() {
        let c = one(r#"BASIC Realm = "a \"quoted\" \\ realm" , charset=UTF-8"#);
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.param("realm"), Some(r#"a "quoted" \ realm"#));
        assert_eq!(c.param("charset"), Some("UTF-8"));
        let c = one("Bearer realm=https://r/token,service=svc");
        assert_eq!(c.param("realm"), Some("https://r/token"));
        assert_eq!(c.param("service"), Some("svc"));
    }

    #[test]
    fn several_challenges() {
        let v = parse(r#"Negotiate abc==, Basic realm="x", Bearer realm="https://t",service="s""#);
        let schemes: Vec<_> = v.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["negotiate", "basic", "bearer"]);
        assert_eq!(v[2].param("service"), Some("s"));
        let v = parse_all(["Basic realm=\"a\"", "Bearer realm=\"b\""]);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn garbage_never_panics() {
        for h in [
            "",
            "=",
            "\"",
            "Bearer realm=\"unterminated",
            ",,,",
            "Bearer =x",
            "é ü",
            "a=b=c",
        ] {
            let _ = parse(h);
        }
        assert_eq!(
            one("Bearer realm=\"unterminated").param("realm"),
            Some("unterminated")
        );
    }
}

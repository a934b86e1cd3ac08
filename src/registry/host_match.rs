//! Credential keys with per-label host globs, as Kubernetes' keyring and imgpkg's environment
//! keychain match them.
//!
//! A key is normalised first: a scheme is optional and ignored, a leading `/v1/` or `/v2/` is
//! dropped, and what remains is `host[:port][/path]`. It matches a registry and repository when
//! - the ports are equal (no port matches only no port);
//! - the hosts have the same number of dot-separated labels and each key label, a glob (`*`
//!   any run of characters, `?` one character), matches the registry's label: `*.docker.io`
//!   matches `foo.docker.io` but not `docker.io`, `*.*.docker.io` matches `bar.foo.docker.io`;
//! - the repository starts with the key's path, at a `/` boundary: `gcr.io/repo` matches
//!   `gcr.io/repo/image`. (Kubernetes compares plain strings, so its `gcr.io/repo` also takes
//!   `gcr.io/repository`; a credential for one namespace is not meant for its neighbour.)
//!
//! Among matching keys an exact host beats a glob, then a longer path beats a shorter one.
//! Docker Hub's host names are one registry here as everywhere else in the helper.

use super::reference::DOCKER_HUB;

/// Docker Hub's names, which all stand for [`DOCKER_HUB`].
const HUB_ALIASES: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];

/// One normalised key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    /// Lowercase host labels, each a glob.
    labels: Vec<String>,
    port: Option<String>,
    /// The repository prefix, without leading or trailing `/`; empty for the whole registry.
    path: String,
}

impl KeyPattern {
    /// Normalises a key (`https://gcr.io/v2/`, `*.azurecr.io`, `registry.io:8080/team`); `None`
    /// when it names no host.
    pub fn parse(key: &str) -> Option<KeyPattern> {
        let key = key.trim();
        let rest = key
            .strip_prefix("https://")
            .or_else(|| key.strip_prefix("http://"))
            .unwrap_or(key);
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let path = ["/v1", "/v2"]
            .iter()
            .find_map(|v| {
                path.strip_prefix(v)
                    .filter(|p| p.is_empty() || p.starts_with('/'))
            })
            .unwrap_or(path);
        let (host, port) = split_port(authority);
        let host = host.to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        let host = if port.is_none() && HUB_ALIASES.contains(&host.as_str()) {
            DOCKER_HUB.to_string()
        } else {
            host
        };
        Some(KeyPattern {
            labels: host.split('.').map(str::to_string).collect(),
            port: port.map(str::to_string),
            path: path.trim_matches('/').to_string(),
        })
    }

    /// [`KeyPattern::parse`] for a key a user wrote as a registry name (an environment
    /// keychain `HOSTNAME`), refusing what imgpkg's URL parsing refuses instead of matching
    /// nothing: the reason is returned, never the key (it is the user's text).
    pub fn parse_strict(key: &str) -> Result<KeyPattern, &'static str> {
        let key = key.trim();
        let rest = key
            .strip_prefix("https://")
            .or_else(|| key.strip_prefix("http://"))
            .unwrap_or(key);
        let authority = rest.split('/').next().unwrap_or_default();
        if rest.contains("://") {
            return Err("only http:// and https:// may precede the host");
        }
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("it contains spaces or control characters");
        }
        if authority.contains('@') {
            return Err("a user name has no place in the host");
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (address, after) = v6
                .split_once(']')
                .ok_or("an IPv6 literal lacks its \"]\"")?;
            if address.parse::<std::net::Ipv6Addr>().is_err() {
                return Err("the IPv6 literal is not an IPv6 address");
            }
            match after {
                "" => (address, None),
                _ => (
                    address,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or("junk after the IPv6 literal")?,
                    ),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err("it names no host");
        }
        if !authority.starts_with('[')
            && !host.split('.').all(|l| {
                !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || "-_*?".contains(c))
            })
        {
            return Err(
                "a host label is empty or holds a character other than letters, digits, \"-\", \"_\" or the globs \"*\" and \"?\"",
            );
        }
        if port.is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_err()) {
            return Err("the port is not a number from 0 to 65535");
        }
        KeyPattern::parse(key).ok_or("it names no host")
    }

    /// Whether the key names `registry` (`host[:port]`), whatever repository path it has.
    pub fn matches_host(&self, registry: &str) -> bool {
        KeyPattern {
            path: String::new(),
            ..self.clone()
        }
        .matches(registry, "")
    }

    /// Whether the key covers `repository` on `registry` (`host[:port]`, Hub as
    /// `index.docker.io`).
    pub fn matches(&self, registry: &str, repository: &str) -> bool {
        let (host, port) = split_port(registry);
        let host = host.to_ascii_lowercase();
        let labels: Vec<&str> = host.split('.').collect();
        self.port.as_deref() == port
            && self.labels.len() == labels.len()
            && self
                .labels
                .iter()
                .zip(&labels)
                .all(|(pattern, label)| glob_match(pattern.as_bytes(), label.as_bytes()))
            && (self.path.is_empty()
                || repository
                    .strip_prefix(self.path.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
    }

    /// True when a host label holds a wildcard.
    pub fn is_glob(&self) -> bool {
        self.labels.iter().any(|l| l.contains(['*', '?']))
    }

    /// Higher is more specific: an exact host first, then a longer path.
    fn rank(&self) -> (bool, usize) {
        (!self.is_glob(), self.path.len())
    }
}

/// The most specific of `keys` that matches `repository` on `registry`, with its value. Keys
/// that name no host never match; equally specific keys are ordered as Kubernetes orders them
/// (reverse string order), so the answer does not depend on the input order.
pub fn best_match<'k, T>(
    keys: impl IntoIterator<Item = (&'k str, T)>,
    registry: &str,
    repository: &str,
) -> Option<(&'k str, T)> {
    keys.into_iter()
        .filter_map(|(key, value)| {
            let pattern = KeyPattern::parse(key)?;
            pattern
                .matches(registry, repository)
                .then(|| (pattern.rank(), key, value))
        })
        .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
        .map(|(_, key, value)| (key, value))
}

/// `host:port` → (`host`, `Some(port)`); `[v6]:port` keeps the brackets off.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':').filter(|p| !p.is_empty())),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port).filter(|p| !p.is_empty())),
        _ => (authority, None),
    }
}

/// A glob over one host label: `*` any run of bytes, `?` one byte, anything else itself.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative with one backtrack point: linear enough for host labels, never recursive.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imgpkg_and_kubernetes_examples() {
        // (key, registry, repository, matches)
        let table: &[(&str, &str, &str, bool)] = &[
            ("*.docker.io", "foo.docker.io", "x", true),
            ("*.docker.io", "docker.io", "x", false),
            ("*.docker.io", "not.right.io", "x", false),
            ("*.*.docker.io", "bar.foo.docker.io", "x", true),
            ("*.*.docker.io", "foo.docker.io", "x", false),
            ("*.io", "k8s.gcr.io", "x", false),
            ("k8s.*.io", "k8s.gcr.io", "x", true),
            ("k8s.*", "k8s.io", "x", true),
            ("app*.k8s.io", "app1.k8s.io", "x", true),
            ("app*.k8s.io", "web.k8s.io", "x", false),
            ("reg?.io", "reg1.io", "x", true),
            ("gcr.io/repo", "gcr.io", "repo/image", true),
            ("gcr.io/repo", "gcr.io", "repo", true),
            ("gcr.io/repo", "gcr.io", "repository/image", false),
            ("gcr.io/repo", "gcr.io", "other/image", false),
            ("gcr.io/repo/", "gcr.io", "repo/image", true),
            ("https://gcr.io/v2/repo", "gcr.io", "repo/image", true),
            ("https://gcr.io/v1/", "gcr.io", "a/b", true),
            ("gcr.io/v2", "gcr.io", "a/b", true),
            ("gcr.io/v2x/a", "gcr.io", "v2x/a", true),
            ("http://GCR.io", "gcr.io", "a", true),
            ("registry.io:8080/path", "registry.io:8080", "path/x", true),
            ("registry.io:8080", "registry.io", "x", false),
            ("registry.io", "registry.io:8080", "x", false),
            ("registry.io:8080", "registry.io:9090", "x", false),
            ("*.io:5000", "reg.io:5000", "x", true),
            ("127.0.0.1:5000", "127.0.0.1:5000", "team/app", true),
            ("[::1]:5000", "[::1]:5000", "a", true),
            (
                "https://index.docker.io/v1/",
                "index.docker.io",
                "library/x",
                true,
            ),
            ("docker.io", "index.docker.io", "library/x", true),
            (
                "registry-1.docker.io/library",
                "index.docker.io",
                "library/x",
                true,
            ),
            (
                "123456789.dkr.ecr.us-east-1.amazonaws.com",
                "123456789.dkr.ecr.us-east-1.amazonaws.com",
                "a",
                true,
            ),
            (
                "*.dkr.ecr.*.amazonaws.com",
                "123456789.dkr.ecr.us-east-1.amazonaws.com",
                "a",
                true,
            ),
            ("ghcr.io.evil.com", "ghcr.io", "a", false),
            ("", "gcr.io", "a", false),
        ];
        for (key, registry, repository, want) in table {
            let got = KeyPattern::parse(key).is_some_and(|k| k.matches(registry, repository));
            assert_eq!(got, *want, "{key:?} vs {registry}/{repository}");
        }
    }

    #[test]
    fn strict_parsing_refuses_what_imgpkg_refuses() {
        // imgpkg's own cases first (`url.Parse` errors), then ours.
        for (key, why) in [
            ("http://[::1]:namedport", "port"),
            ("http://[%10::1]", "IPv6"),
            ("http://%41:8080/", "host label"),
            ("", "no host"),
            ("https://", "no host"),
            ("https:///v2/", "no host"),
            (":5000", "no host"),
            ("ftp://reg.io", "http://"),
            ("reg.io:99999", "port"),
            ("user@reg.io", "user name"),
            ("reg io", "spaces"),
            ("reg..io", "host label"),
            ("[::1", "\"]\""),
            ("[::1]x", "junk"),
        ] {
            let err = KeyPattern::parse_strict(key).unwrap_err();
            assert!(err.contains(why), "{key:?}: {err}");
        }
        for key in [
            "localhost:9999",
            "http://localhost:9999",
            "https://localhost:9999",
            "localhost:9999/v1/",
            "localhost:9999/v2/",
            "*:9999/v2/",
            "local*:9999/v2/",
            "*.localhost:9999/v2/",
            "localhost:9999/imgpkg_test",
            "[::1]:5000",
            "[::1]",
            "reg_1.example:5000/team/app",
            "bücher.example",
            "localhost:",
        ] {
            assert!(KeyPattern::parse_strict(key).is_ok(), "{key:?}");
        }
        let k = KeyPattern::parse_strict("reg.io:5000/team").unwrap();
        assert!(k.matches_host("reg.io:5000") && !k.matches("reg.io:5000", "other"));
        assert!(!k.matches_host("reg.io") && !k.matches_host("x.reg.io:5000"));
    }

    #[test]
    fn most_specific_key_wins() {
        let pick = |keys: &[&'static str], registry: &str, repo: &str| {
            best_match(keys.iter().map(|k| (*k, ())), registry, repo).map(|(k, _)| k)
        };
        // An exact host beats a glob, whatever the order.
        for keys in [
            ["*.docker.io", "foo.docker.io"],
            ["foo.docker.io", "*.docker.io"],
        ] {
            assert_eq!(pick(&keys, "foo.docker.io", "a/b"), Some("foo.docker.io"));
        }
        // A longer path beats a shorter one.
        assert_eq!(
            pick(
                &["gcr.io", "gcr.io/repo", "gcr.io/repo/image"],
                "gcr.io",
                "repo/image/x"
            ),
            Some("gcr.io/repo/image")
        );
        assert_eq!(
            pick(
                &["gcr.io", "gcr.io/repo", "gcr.io/repo/image"],
                "gcr.io",
                "repo/other"
            ),
            Some("gcr.io/repo")
        );
        // Exact host first, even with a shorter path than a glob's.
        assert_eq!(
            pick(
                &["*.example.com/team/app", "reg.example.com"],
                "reg.example.com",
                "team/app"
            ),
            Some("reg.example.com")
        );
        assert_eq!(
            pick(&["quay.io/coreos", "quay.io"], "gcr.io", "coreos/etcd"),
            None
        );
        // Equal rank: a stable answer.
        assert_eq!(
            pick(&["https://gcr.io", "gcr.io"], "gcr.io", "a"),
            pick(&["gcr.io", "https://gcr.io"], "gcr.io", "a")
        );
    }

    #[test]
    fn label_globs() {
        for (pattern, text, want) in [
            ("*", "", true),
            ("*", "abc", true),
            ("a*c", "abbbc", true),
            ("a*c", "abcd", false),
            ("*b*", "abc", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("**", "x", true),
            ("abc", "abc", true),
            ("abc", "ab", false),
        ] {
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes()),
                want,
                "{pattern} {text}"
            );
        }
    }
}

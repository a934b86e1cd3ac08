//! URL patterns: globs where `*` also crosses `.` and `/`, as config entries and allow-lists
//! write them.

use globset::{GlobBuilder, GlobMatcher};

/// A glob where `*` also crosses `.` and `/`.
///
/// `get` runs once per URL, so matching must not cost a regex compilation per entry: plain
/// literals and the common `*suffix` / `prefix*` shapes are compared directly, and only other
/// globs are compiled (by `globset`, on first use). The syntax of every pattern is still
/// checked when the config loads.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    fast: Fast,
    case_insensitive: bool,
}

#[derive(Debug, Clone)]
enum Fast {
    Literal(String),
    /// `*` followed by a literal.
    Suffix(String),
    /// A literal followed by `*`.
    Prefix(String),
    /// Anything else, compiled on first use.
    Glob(globset::Glob, std::sync::OnceLock<GlobMatcher>),
}

const GLOB_META: &[char] = &['*', '?', '[', ']', '{', '}', '\\', '!'];

impl Pattern {
    /// A host pattern: case-insensitive, and `[`/`]` are literal (IPv6 brackets).
    pub fn host(source: &str) -> Result<Pattern, String> {
        let escaped = source.replace('[', "\\[").replace(']', "\\]");
        Pattern::build(source, &escaped, true)
    }

    /// A path pattern: case-sensitive, full glob syntax.
    pub fn path(source: &str) -> Result<Pattern, String> {
        Pattern::build(source, source, false)
    }

    fn build(source: &str, glob: &str, case_insensitive: bool) -> Result<Pattern, String> {
        // Hosts treat brackets literally, so only the other metacharacters matter there.
        let meta: &[char] = if case_insensitive {
            &['*', '?', '{', '}', '\\', '!']
        } else {
            GLOB_META
        };
        let fold = |s: &str| {
            if case_insensitive {
                s.to_ascii_lowercase()
            } else {
                s.to_string()
            }
        };
        // The simple shapes cannot be invalid globs, so only the rest is parsed (which is
        // where a syntax error is found) and, when first needed, compiled.
        let fast = if !source.contains(meta) {
            Fast::Literal(fold(source))
        } else if let Some(rest) = source.strip_prefix('*').filter(|r| !r.contains(meta)) {
            Fast::Suffix(fold(rest))
        } else if let Some(rest) = source.strip_suffix('*').filter(|r| !r.contains(meta)) {
            Fast::Prefix(fold(rest))
        } else {
            let parsed = GlobBuilder::new(glob)
                .case_insensitive(case_insensitive)
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("invalid glob ({})", e.kind()))?;
            Fast::Glob(parsed, std::sync::OnceLock::new())
        };
        Ok(Pattern {
            source: source.to_string(),
            fast,
            case_insensitive,
        })
    }

    pub fn is_match(&self, s: &str) -> bool {
        let folded;
        let s = if self.case_insensitive {
            folded = s.to_ascii_lowercase();
            folded.as_str()
        } else {
            s
        };
        match &self.fast {
            Fast::Literal(l) => s == l,
            Fast::Suffix(suffix) => s.ends_with(suffix.as_str()),
            Fast::Prefix(prefix) => s.starts_with(prefix.as_str()),
            Fast::Glob(glob, compiled) => {
                compiled.get_or_init(|| glob.compile_matcher()).is_match(s)
            }
        }
    }

    /// A path glob against the request's path exactly as Bazel sent it (see
    /// `protocol::raw_path`). A path a server may read as another path never matches, so its
    /// entry is skipped: see [`is_unambiguous_path`].
    pub fn is_path_match(&self, raw_path: &str) -> bool {
        let path = if raw_path.is_empty() { "/" } else { raw_path };
        is_unambiguous_path(path) && self.is_match(path)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// False for a path that servers and proxies may resolve to another path than the one a glob
/// sees: dot segments (`.`, `..`, also percent-encoded as `%2e`), encoded slashes (`%2f`,
/// `%5c`), backslashes (read as `/` by URL parsers) and control characters (dropped by them).
pub fn is_unambiguous_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains('\\') {
        return false;
    }
    if path.chars().any(char::is_control) {
        return false;
    }
    !lower
        .split('/')
        .map(|segment| segment.replace("%2e", "."))
        .any(|segment| segment == "." || segment == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_globs_see_only_unambiguous_paths() {
        let private = Pattern::path("/private/*").unwrap();
        let exact = Pattern::path("/private/x").unwrap();
        let glob = Pattern::path("/private/{a,b}/*").unwrap();
        // (path as sent, matches /private/*)
        let table = [
            ("/private/x", true),
            ("/private//x", true),
            ("/private/x.tgz", true),
            ("/private/.x", true),
            ("/private/x..y", true),
            ("/private/%2e%2ex", true),
            ("/private//../public/x", false),
            ("/private/../public/x", false),
            ("/private/./x", false),
            ("/private/..%2fpublic/x", false),
            ("/private/..%2Fpublic/x", false),
            ("/private/%2e%2e/x", false),
            ("/private/%2E%2e/x", false),
            ("/private/.%2e/x", false),
            ("/private/%2e/x", false),
            ("/private/x/..", false),
            ("/private/a%5cb", false),
            ("/private\\..\\x", false),
            ("/private/a\tb", false),
            ("/public/x", false),
        ];
        for (path, want) in table {
            assert_eq!(private.is_path_match(path), want, "{path}");
        }
        assert!(exact.is_path_match("/private/x"));
        assert!(!exact.is_path_match("/private/./x"));
        assert!(glob.is_path_match("/private/a/x"));
        assert!(!glob.is_path_match("/private/a/../b/x"));
        assert!(Pattern::path("/").unwrap().is_path_match(""));
        assert!(Pattern::path("*").unwrap().is_path_match("/anything"));
        assert!(!Pattern::path("*").unwrap().is_path_match("/a/../b"));
    }
}

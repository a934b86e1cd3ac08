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
                .map_err(|e| format!("invalid glob {source:?}: {}", e.kind()))?;
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

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

//! The config file: where it is, what it says, and which entry a URL matches.
//!
//! ```json
//! {"urls": [{"scheme": "https", "host": "*.example.com", "path": "/v2/*",
//!            "helper": "header", "config": {...}}]}
//! ```
//! The first entry whose `scheme`, `host` and `path` all match wins. Every problem is reported
//! with the file, the entry index and the field, so a typo never silently drops credentials.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

mod describe;

use crate::helpers::HelperConfig;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::pattern::Pattern;

/// The name looked up in the working directory (the workspace root under Bazel).
pub const FILE_NAME: &str = ".credential-helper.json";

/// The routing used when there is no config file.
const DEFAULTS: &str = include_str!("config/defaults.json");

/// Where the config came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Defaults,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Defaults => f.write_str("built-in defaults"),
        }
    }
}

#[derive(Debug)]
pub struct Config {
    pub origin: Origin,
    pub entries: Vec<Entry>,
}

/// One `urls[]` entry.
#[derive(Debug)]
pub struct Entry {
    pub index: usize,
    pub scheme: Option<String>,
    pub host: Option<Pattern>,
    pub path: Option<Pattern>,
    pub helper: HelperConfig,
}

/// Every problem found in one config document.
#[derive(Debug)]
pub struct Problems {
    pub origin: Origin,
    pub list: Vec<String>,
}

impl Problems {
    /// The first problem, as the one-line error `get` reports.
    pub fn into_error(self) -> Error {
        let first = self.list.into_iter().next().unwrap_or_default();
        Error::new(format!("config {}: {first}", self.origin))
            .hint("run `credential-helper check-config` to see every problem")
    }
}

impl Config {
    /// Finds and loads the config: `$CREDENTIAL_HELPER_CONFIG_FILE`, else
    /// `./.credential-helper.json`, else the built-in defaults.
    pub fn load(env: &Env) -> Result<Config> {
        match Config::locate(env) {
            Some(path) => Config::load_file(&path),
            None => Config::defaults(),
        }
    }

    /// The config file that [`Config::load`] reads, if any.
    pub fn locate(env: &Env) -> Option<PathBuf> {
        if let Some(p) = env.var(vars::CONFIG_FILE) {
            return Some(env.expand_path(p));
        }
        let local = env.cwd().join(FILE_NAME);
        local.is_file().then_some(local)
    }

    pub fn load_file(path: &Path) -> Result<Config> {
        let fix = || {
            format!(
                "fix the path, or unset {} to use ./{FILE_NAME}",
                vars::CONFIG_FILE
            )
        };
        let text = files::read_text(path)
            .map_err(|e| e.context("config").hint(fix()))?
            .ok_or_else(|| {
                Error::new(format!("cannot read config {}: not found", path.display())).hint(fix())
            })?;
        Config::parse(&text, Origin::File(path.to_path_buf())).map_err(Problems::into_error)
    }

    pub fn defaults() -> Result<Config> {
        Config::parse(DEFAULTS, Origin::Defaults).map_err(Problems::into_error)
    }

    /// Parses and validates a whole document, collecting every problem.
    pub fn parse(text: &str, origin: Origin) -> Result<Config, Problems> {
        let mut list = Vec::new();
        let entries = match serde_json::from_str::<Value>(text) {
            Ok(doc) => parse_document(&doc, &mut list),
            Err(e) => {
                list.push(format!("invalid JSON: {e}"));
                Vec::new()
            }
        };
        if list.is_empty() {
            Ok(Config { origin, entries })
        } else {
            Err(Problems { origin, list })
        }
    }

    /// The first entry matching the URL; `raw_path` is its path as Bazel sent it
    /// (`protocol::raw_path`), which path globs match.
    pub fn find(&self, url: &url::Url, raw_path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.matches(url, raw_path))
    }
}

impl Entry {
    pub fn matches(&self, url: &url::Url, raw_path: &str) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != url.scheme()) {
            return false;
        }
        if let Some(host) = &self.host {
            let name = url.host_str().unwrap_or_default().to_ascii_lowercase();
            // A pattern with a port compares `host:port`; `url` already dropped a default port,
            // so `https://host:443/` (Bazel's HTTP cache) matches like `https://host/`.
            let subject = match url.port() {
                Some(port) if host.as_str().contains(':') && !name.starts_with('[') => {
                    format!("{name}:{port}")
                }
                Some(port) if host.as_str().contains("]:") => format!("{name}:{port}"),
                _ => name,
            };
            if !host.is_match(&subject) {
                return false;
            }
        }
        if let Some(path) = &self.path
            && !path.is_path_match(raw_path)
        {
            return false;
        }
        true
    }

    /// `urls[N] (host "x", helper "oci")`, for logs.
    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if let Some(s) = &self.scheme {
            parts.push(format!("scheme {s:?}"));
        }
        if let Some(h) = &self.host {
            parts.push(format!("host {:?}", h.as_str()));
        }
        if let Some(p) = &self.path {
            parts.push(format!("path {:?}", p.as_str()));
        }
        parts.push(format!("helper {:?}", self.helper.name()));
        format!("urls[{}] ({})", self.index, parts.join(", "))
    }
}

const ENTRY_FIELDS: &[&str] = &["scheme", "host", "path", "helper", "config"];

fn parse_document(doc: &Value, problems: &mut Vec<String>) -> Vec<Entry> {
    let Some(obj) = doc.as_object() else {
        problems.push("the top level must be a JSON object with a \"urls\" list".into());
        return Vec::new();
    };
    for key in obj.keys() {
        if key != "urls" && key != "$schema" {
            problems.push(format!(
                "unknown top-level field {key:?} (expected \"urls\")"
            ));
        }
    }
    let urls = match obj.get("urls") {
        Some(Value::Array(urls)) if urls.is_empty() => {
            problems.push("\"urls\" is empty (add at least one entry)".into());
            return Vec::new();
        }
        Some(Value::Array(urls)) => urls,
        Some(_) => {
            problems.push("\"urls\" must be a list of entries".into());
            return Vec::new();
        }
        None => {
            problems.push("missing field \"urls\"".into());
            return Vec::new();
        }
    };
    urls.iter()
        .enumerate()
        .filter_map(|(index, v)| parse_entry(index, v, problems))
        .collect()
}

fn parse_entry(index: usize, value: &Value, problems: &mut Vec<String>) -> Option<Entry> {
    let at = |field: &str| format!("urls[{index}].{field}");
    let Some(obj) = value.as_object() else {
        problems.push(format!("urls[{index}]: an entry must be a JSON object"));
        return None;
    };
    let before = problems.len();
    for key in obj.keys() {
        if !ENTRY_FIELDS.contains(&key.as_str()) {
            problems.push(format!(
                "{}: unknown field (expected one of: {})",
                at(key),
                ENTRY_FIELDS.join(", ")
            ));
        }
    }
    let scheme = string_field(obj, "scheme", &at, problems);
    if let Some(s) = &scheme
        && (!s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            || s.is_empty())
    {
        problems.push(format!(
            "{}: not a URL scheme (letters, digits, \"+\", \"-\", \".\")",
            at("scheme")
        ));
    }
    let host = pattern_field(obj, "host", Pattern::host, &at, problems);
    let path = pattern_field(obj, "path", Pattern::path, &at, problems);
    let helper = match string_field(obj, "helper", &at, problems) {
        None if !obj.contains_key("helper") => {
            problems.push(format!(
                "{}: missing (one of: {})",
                at("helper"),
                HelperConfig::NAMES.join(", ")
            ));
            None
        }
        None => None,
        Some(name) => {
            let config = obj
                .get("config")
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            match HelperConfig::parse(&name, config) {
                Ok(h) => Some(h),
                Err(HelperConfigError::UnknownHelper) => {
                    problems.push(format!(
                        "{}: unknown helper (one of: {})",
                        at("helper"),
                        HelperConfig::NAMES.join(", ")
                    ));
                    None
                }
                Err(HelperConfigError::Invalid(msg)) => {
                    problems.push(format!("{}: {msg}", at("config")));
                    None
                }
            }
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(Entry {
        index,
        scheme,
        host,
        path,
        helper: helper?,
    })
}

/// Why a helper's `config` was refused.
pub enum HelperConfigError {
    UnknownHelper,
    Invalid(String),
}

/// Deserializes a helper's `config` object; a problem names the field, never the value.
pub fn helper_config<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, HelperConfigError> {
    T::deserialize(&value)
        .map_err(|e| HelperConfigError::Invalid(describe::serde_problem::<T>(&e, &value)))
}

fn string_field(
    obj: &Map<String, Value>,
    field: &str,
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> Option<String> {
    match obj.get(field)? {
        Value::String(s) => Some(s.clone()),
        _ => {
            problems.push(format!("{}: must be a string", at(field)));
            None
        }
    }
}

fn pattern_field(
    obj: &Map<String, Value>,
    field: &str,
    compile: fn(&str) -> Result<Pattern, String>,
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> Option<Pattern> {
    let source = string_field(obj, field, at, problems)?;
    match compile(&source) {
        Ok(p) => Some(p),
        Err(msg) => {
            problems.push(format!("{}: {msg}", at(field)));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Config {
        Config::parse(json, Origin::File("c.json".into())).unwrap()
    }

    /// The entry `get` would pick for `uri`, as the request gives it.
    fn find<'c>(c: &'c Config, uri: &str) -> Option<&'c Entry> {
        let url = url::Url::parse(uri).unwrap();
        c.find(&url, crate::kernel::protocol::raw_path(uri))
    }

    fn problems(json: &str) -> Vec<String> {
        Config::parse(json, Origin::File("c.json".into()))
            .unwrap_err()
            .list
    }

    #[test]
    fn url_matching_table() {
        // (entry fields, url, matches)
        let table: &[(&str, &str, bool)] = &[
            (r#""host":"example.com""#, "https://example.com/x", true),
            (r#""host":"example.com""#, "https://EXAMPLE.com/x", true),
            (r#""host":"example.com""#, "https://example.com:443/x", true),
            (r#""host":"example.com""#, "http://example.com:80/x", true),
            (
                r#""host":"example.com""#,
                "https://example.com:8443/x",
                true,
            ),
            (
                r#""host":"example.com:8443""#,
                "https://example.com:8443/x",
                true,
            ),
            (
                r#""host":"example.com:8443""#,
                "https://example.com/x",
                false,
            ),
            (
                r#""host":"example.com""#,
                "https://www.example.com/x",
                false,
            ),
            (
                r#""host":"*.example.com""#,
                "https://a.b.example.com/x",
                true,
            ),
            (r#""host":"*.example.com""#, "https://example.com/x", false),
            (r#""host":"*example.com""#, "https://example.com/x", true),
            (r#""host":"*""#, "https://anything.at.all/x", true),
            (
                r#""host":"10.0.0.5""#,
                "https://10.0.0.5:9092/build.bazel.remote.execution.v2.Execution",
                true,
            ),
            (r#""host":"[::1]""#, "http://[::1]:5000/v2/", true),
            (r#""scheme":"https""#, "http://example.com/", false),
            (r#""scheme":"https""#, "https://example.com/", true),
            (r#""path":"/v2/*""#, "https://r/v2/a/b/manifests/c", true),
            (r#""path":"/v2/*""#, "https://r/v1/a", false),
            (
                r#""path":"/org/*/releases/*""#,
                "https://r/org/repo/releases/download/v1/x.tgz",
                true,
            ),
            (r#""path":"/a""#, "https://r/a?x=y", true),
            // Path globs see the path as sent: a path the parser would resolve never matches.
            (
                r#""path":"/private/*""#,
                "https://r/private//../public/x",
                false,
            ),
            (
                r#""path":"/private/*""#,
                "https://r/private/..%2fpublic/x",
                false,
            ),
            (
                r#""path":"/private/*""#,
                "https://r/private/%2e%2e/x",
                false,
            ),
            (
                r#""path":"/public/*""#,
                "https://r/private/../public/x",
                false,
            ),
            (r#""path":"/a b/*""#, "https://r/a b/x", true),
            (r#""host":"r""#, "https://r/private/../x", true),
            (r#""path":"/A""#, "https://r/a", false),
            (
                r#""host":"storage.googleapis.com","path":"/my-bucket*""#,
                "https://storage.googleapis.com:443/my-bucket",
                true,
            ),
        ];
        for (fields, url, want) in table {
            let c = config(&format!(r#"{{"urls":[{{{fields},"helper":"null"}}]}}"#));
            assert_eq!(find(&c, url).is_some(), *want, "{fields} vs {url}");
        }
    }

    #[test]
    fn first_match_wins() {
        let c = config(
            r#"{"urls":[{"host":"a.com","path":"/x/*","helper":"null"},{"host":"a.com","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"env","name":"T"}]}}]}"#,
        );
        let find = |u: &str| find(&c, u).unwrap().index;
        assert_eq!(find("https://a.com/x/y"), 0);
        assert_eq!(find("https://a.com/z"), 1);
    }

    #[test]
    fn every_problem_names_index_and_field() {
        let cases: &[(&str, &str)] = &[
            ("{", "invalid JSON"),
            ("[]", "top level must be a JSON object"),
            (r#"{"urls":[]}"#, "\"urls\" is empty"),
            (r#"{}"#, "missing field \"urls\""),
            (r#"{"urls":{}}"#, "\"urls\" must be a list"),
            (r#"{"url":[]}"#, "unknown top-level field \"url\""),
            (r#"{"urls":[1]}"#, "urls[0]: an entry must be a JSON object"),
            (r#"{"urls":[{"host":"a"}]}"#, "urls[0].helper: missing"),
            (
                r#"{"urls":[{"helper":"null"},{"helper":"nope"}]}"#,
                "urls[1].helper: unknown helper (one of: azblob,",
            ),
            (
                r#"{"urls":[{"helper":"null","hots":"a"}]}"#,
                "urls[0].hots: unknown field",
            ),
            (
                r#"{"urls":[{"helper":"null","host":1}]}"#,
                "urls[0].host: must be a string",
            ),
            (
                r#"{"urls":[{"helper":"null","host":"a{b"}]}"#,
                "urls[0].host: invalid glob",
            ),
            (
                r#"{"urls":[{"helper":"null","path":"/a[b"}]}"#,
                "urls[0].path: invalid glob",
            ),
            (
                r#"{"urls":[{"helper":"null","scheme":"ht tp"}]}"#,
                "urls[0].scheme: not a URL scheme",
            ),
            (
                r#"{"urls":[{"helper":"header","config":{"lookup_chain":[],"colour":1}}]}"#,
                "urls[0].config: unknown field `colour`",
            ),
            (
                r#"{"urls":[{"helper":"null","config":{"x":1}}]}"#,
                "urls[0].config: unknown field `x`",
            ),
        ];
        for (json, want) in cases {
            let list = problems(json);
            assert!(
                list.iter().any(|p| p.contains(want)),
                "{json}: expected {want:?} in {list:?}"
            );
        }
        let err = Config::parse("{", Origin::File("/w/c.json".into()))
            .unwrap_err()
            .into_error()
            .to_string();
        assert!(err.starts_with("config /w/c.json: invalid JSON"), "{err}");
    }

    #[test]
    fn defaults_parse() {
        let c = Config::defaults().unwrap();
        assert!(!c.entries.is_empty());
    }

    /// A small deterministic generator for property tests: no dependency, same cases every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }

        fn label(&mut self) -> String {
            let len = 1 + self.next() % 6;
            (0..len)
                .map(|_| b"abcxyz019-"[(self.next() % 10) as usize] as char)
                .collect::<String>()
                .trim_matches('-')
                .to_string()
        }

        fn host(&mut self) -> String {
            let labels = 1 + self.next() % 4;
            // A letter first: all-digit hosts are IPv4 addresses to a URL parser.
            let host: Vec<String> = (0..labels).map(|_| format!("h{}", self.label())).collect();
            host.join(".")
        }

        fn path(&mut self) -> String {
            let segs = self.next() % 4;
            let mut p = String::new();
            for _ in 0..segs {
                p.push('/');
                p.push_str(self.pick(&["v2", "a", "b", "manifests", "x.tgz", "c-d"]));
            }
            if p.is_empty() { "/".into() } else { p }
        }
    }

    fn entry(fields: &str) -> Config {
        config(&format!(r#"{{"urls":[{{{fields},"helper":"null"}}]}}"#))
    }

    fn matches(c: &Config, url: &str) -> bool {
        find(c, url).is_some()
    }

    #[test]
    fn property_host_globs_and_default_ports() {
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        for _ in 0..2000 {
            let host = rng.host();
            let path = rng.path();
            let other = rng.host();
            let scheme = rng.pick(&["https", "http"]);
            let port = if scheme == "https" { 443 } else { 80 };
            let plain = format!("{scheme}://{host}{path}");
            let with_port = format!("{scheme}://{host}:{port}{path}");

            // An explicit default port never changes whether an entry matches.
            for pattern in [host.as_str(), other.as_str(), "*", "*.a"] {
                let c = entry(&format!(r#""host":"{pattern}""#));
                assert_eq!(
                    matches(&c, &plain),
                    matches(&c, &with_port),
                    "{pattern} {plain}"
                );
            }
            // An exact host matches itself in any case, and only hosts equal to it.
            let c = entry(&format!(r#""host":"{}""#, host.to_uppercase()));
            assert!(matches(&c, &plain), "{host}");
            let other_url = format!("{scheme}://{other}{path}");
            assert_eq!(
                matches(&c, &other_url),
                other.eq_ignore_ascii_case(&host),
                "{host} vs {other}"
            );
            // `*.suffix` matches exactly the strict subdomains of suffix.
            let c = entry(&format!(r#""host":"*.{other}""#));
            let sub = format!("{scheme}://{host}.{other}{path}");
            assert!(matches(&c, &sub), "{host}.{other}");
            assert!(
                !matches(&c, &format!("{scheme}://{other}{path}")),
                "{other} itself"
            );
            assert_eq!(
                matches(&c, &plain),
                host.ends_with(&format!(".{other}")),
                "{host} under {other}"
            );
            // `scheme` is an exact match.
            let c = entry(r#""scheme":"https""#);
            assert_eq!(matches(&c, &plain), scheme == "https");
        }
    }

    #[test]
    fn property_path_prefix_globs() {
        let mut rng = Rng(0x0bad_cafe_0000_0042);
        for _ in 0..2000 {
            let prefix = rng.path();
            let path = rng.path();
            let c = entry(&format!(r#""path":"{}*""#, prefix));
            let url = format!("https://h{path}?q=1");
            assert_eq!(
                matches(&c, &url),
                path.starts_with(&prefix),
                "{prefix}* vs {path}"
            );
        }
    }
}

//! The config file: where it is, what it says, and which entry a URL matches.
//!
//! ```json
//! {"urls": [{"scheme": "https", "host": "*.example.com", "path": "/v2/*",
//!            "helper": "header", "config": {...}}]}
//! ```
//! The first entry whose `scheme`, `host` and `path` all match wins. Every problem is reported
//! with the file, the entry index and the field, so a typo never silently drops credentials.
//!
//! A config file replaces the built-in defaults unless it says `"defaults": "extend"`: then its
//! own entries come first and the defaults after them.
//!
//! Configs written for tweag/credential-helper work too ([`tweag`]): its file is read when ours
//! is absent, and its helper names and options are rewritten onto ours.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::helpers::{HelperConfig, HelperConfigError};
use crate::kernel::describe;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::pattern::Pattern;
use crate::kernel::suggest;

mod label;
pub use label::entry_label;

mod tweag;

/// The name looked up in the working directory (the workspace root under Bazel).
pub const FILE_NAME: &str = ".credential-helper.json";

/// tweag/credential-helper's file name, looked up when [`FILE_NAME`] is absent.
pub const TWEAG_FILE_NAME: &str = tweag::FILE_NAME;

/// The routing used when there is no config file (and after a file that extends it).
pub const DEFAULTS: &str = include_str!("config/defaults.json");

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

/// What a config file does with the built-in defaults: its top-level `"defaults"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DefaultsMode {
    /// Only the file's entries route (the default): a host it does not list gets no headers.
    #[default]
    Replace,
    /// The file's entries first, then the built-in defaults.
    Extend,
}

#[derive(Debug)]
pub struct Config {
    pub origin: Origin,
    pub defaults: DefaultsMode,
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
    /// The tweag/credential-helper name the entry's helper was written as (`remoteapis`).
    pub alias: Option<&'static str>,
    /// One of the built-in defaults (after the entries of a file that extends them).
    pub builtin: bool,
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
    /// `./.credential-helper.json`, else `./.tweag-credential-helper.json`, else the built-in
    /// defaults.
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
        // tweag/credential-helper's name and variable are the same, so a workspace moved from
        // it keeps working until its file is renamed.
        [FILE_NAME, TWEAG_FILE_NAME]
            .into_iter()
            .map(|name| env.cwd().join(name))
            .find(|p| p.is_file())
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

    /// Parses and validates a whole document, collecting every problem. A file that extends
    /// the built-in defaults gets them appended here, so every reader sees the same routing.
    pub fn parse(text: &str, origin: Origin) -> Result<Config, Problems> {
        let mut list = Vec::new();
        let (defaults, mut entries) = match serde_json::from_str::<Value>(text) {
            Ok(doc) => parse_document(&doc, &mut list),
            Err(e) => {
                list.push(format!("invalid JSON: {e}"));
                (DefaultsMode::Replace, Vec::new())
            }
        };
        if defaults == DefaultsMode::Extend {
            if origin == Origin::Defaults {
                list.push("\"defaults\" belongs in a config file, not the defaults".into());
            } else if list.is_empty() {
                let builtin = Config::parse(DEFAULTS, Origin::Defaults).map_err(|p| Problems {
                    origin: origin.clone(),
                    list: p.list,
                })?;
                entries.extend(builtin.entries.into_iter().map(|mut e| {
                    e.builtin = true;
                    e
                }));
            }
        }
        if list.is_empty() {
            Ok(Config {
                origin,
                defaults,
                entries,
            })
        } else {
            Err(Problems { origin, list })
        }
    }

    /// Whether the built-in defaults route anything: no config file, or one that extends them.
    pub fn builtin_in_force(&self) -> bool {
        self.origin == Origin::Defaults || self.defaults == DefaultsMode::Extend
    }

    /// Where the routing comes from and which rule applies, for `explain` and `check-config`.
    pub fn describe(&self) -> String {
        let own = self.entries.iter().filter(|e| !e.builtin).count();
        let described = match (&self.origin, self.defaults) {
            (Origin::Defaults, _) => "built-in defaults (no config file)".into(),
            (origin, DefaultsMode::Extend) => format!(
                "{origin}: extends the built-in defaults (\"defaults\": \"extend\"): its own entries ({own}) are matched first, then the built-in ones ({})",
                self.entries.len() - own
            ),
            (origin, DefaultsMode::Replace) => format!(
                "{origin}: replaces the built-in defaults: only its own entries ({own}) route (add \"defaults\": \"extend\" to keep the defaults after them)"
            ),
        };
        match &self.origin {
            Origin::File(p) if p.file_name().is_some_and(|n| n == TWEAG_FILE_NAME) => format!(
                "{described}; tweag/credential-helper's file, read because ./{FILE_NAME} is absent (rename it to keep it when tweag's helper is gone)"
            ),
            _ => described,
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
        let alias = self.alias.map(|t| format!(", written as tweag's {t:?}"));
        let alias = alias.unwrap_or_default();
        parts.push(format!("helper {:?}{alias}", self.helper.name()));
        let from = if self.builtin {
            "built-in defaults "
        } else {
            ""
        };
        format!("{from}urls[{}] ({})", self.index, parts.join(", "))
    }
}

const ENTRY_FIELDS: &[&str] = &["scheme", "host", "path", "helper", "config"];
const TOP_FIELDS: &[&str] = &["urls", "defaults", "$schema"];

fn parse_document(doc: &Value, problems: &mut Vec<String>) -> (DefaultsMode, Vec<Entry>) {
    let Some(obj) = doc.as_object() else {
        problems.push("the top level must be a JSON object with a \"urls\" list".into());
        return (DefaultsMode::Replace, Vec::new());
    };
    for key in obj.keys() {
        if !TOP_FIELDS.contains(&key.as_str()) {
            problems.push(describe::unknown_field(key, TOP_FIELDS));
        }
    }
    // The value is not quoted back: it is the user's text.
    let defaults = match obj.get("defaults") {
        None => DefaultsMode::Replace,
        Some(Value::String(s)) if s == "replace" => DefaultsMode::Replace,
        Some(Value::String(s)) if s == "extend" => DefaultsMode::Extend,
        Some(_) => {
            problems.push("\"defaults\": must be \"replace\" or \"extend\"".into());
            DefaultsMode::Replace
        }
    };
    (defaults, parse_urls(obj, problems))
}

fn parse_urls(obj: &Map<String, Value>, problems: &mut Vec<String>) -> Vec<Entry> {
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
    let Some(obj) = value.as_object() else {
        problems.push(format!("entry {index}: an entry must be a JSON object"));
        return None;
    };
    let label = entry_label(index, obj);
    let at = |field: &str| format!("{label}: {field}");
    let before = problems.len();
    for key in obj.keys() {
        if !ENTRY_FIELDS.contains(&key.as_str()) {
            problems.push(format!(
                "{label}: {}",
                describe::unknown_field(key, ENTRY_FIELDS)
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
    let mut alias = None;
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
            let mut config = obj
                .get("config")
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            let host = obj.get("host").and_then(Value::as_str);
            match tweag::translate(&name, host, &mut config) {
                Err(msg) => {
                    problems.push(format!("{}: {msg}", at("config")));
                    None
                }
                Ok(translated) => {
                    alias = translated.alias;
                    helper_config(&translated.helper, config, &at, problems)
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
        alias,
        builtin: false,
    })
}

fn helper_config(
    name: &str,
    config: Value,
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> Option<HelperConfig> {
    match HelperConfig::parse(name, config) {
        Ok(h) => Some(h),
        Err(HelperConfigError::UnknownHelper) => {
            problems.push(format!(
                "{}: unknown helper ({}one of: {})",
                at("helper"),
                suggest::did_you_mean(name, HelperConfig::NAMES.iter().copied()),
                HelperConfig::NAMES.join(", ")
            ));
            None
        }
        Err(HelperConfigError::Invalid(list)) => {
            problems.extend(list.iter().map(|msg| format!("{}: {msg}", at("config"))));
            None
        }
    }
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
mod tests;

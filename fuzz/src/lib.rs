//! One harness function per parser, shared by the fuzz targets in `fuzz/fuzz_targets/` and by
//! `tests/it/fuzz_regressions.rs`, which includes this file with `#[path]` and replays every
//! file under `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` through [`TARGETS`].
//!
//! Each function feeds arbitrary bytes to a parser the way the program does, then pushes what
//! parsed through the code that uses it next. Nothing may panic; the `assert!`s are properties
//! every accepted input must have.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use credential_helper::config::{Config, Origin, Pattern};
use credential_helper::helpers::{HelperConfig, oci};
use credential_helper::protocol::Request;
use credential_helper::registry::reference::{Target, host_of, is_loopback_host};
use credential_helper::registry::{challenge, token};
use credential_helper::sources::auth_json::find_namespaced;
use credential_helper::sources::docker_config::{
    AuthEntry, DockerConfig, find_auth, normalize_key,
};
use credential_helper::sources::netrc;

/// A harness: takes the raw input, panics only on a bug.
pub type Harness = fn(&[u8]);

/// Every harness, by the name of its fuzz target and of its folders under `fuzz/seeds/` and
/// `fuzz/regressions/`.
pub const TARGETS: &[(&str, Harness)] = &[
    ("request", request),
    ("config", config),
    ("docker_config", docker_config),
    ("www_authenticate", www_authenticate),
    ("token_response", token_response),
    ("registry_url", registry_url),
    ("netrc", netrc),
    ("pattern", pattern),
];

/// The clock the token harness runs at (2026-11-18T11:06:40Z); seeds put `issued_at` near it.
pub const NOW: i64 = 1_795_000_000;

/// URLs every parsed config is matched against, beside URLs made from its own patterns.
const URLS: &[&str] = &[
    "https://ghcr.io/v2/owner/repo/manifests/latest",
    "https://index.docker.io/v2/library/ubuntu/blobs/sha256:0123",
    "http://localhost:5000/v2/a/b/tags/list",
    "https://[::1]:5000/v2/a/manifests/1",
    "https://cache.example.com:443/ac/0123",
    "https://cache.example.com:8443/cas/0123",
    "https://a.b.buildbuddy.io/",
    "http://127.0.0.1/v2/",
    "grpcs://remote.example.com:443/",
];

/// Registries the docker config harness looks credentials up for.
const REGISTRY_URLS: &[&str] = &[
    "https://index.docker.io/v2/library/ubuntu/manifests/latest",
    "https://ghcr.io/v2/owner/repo/manifests/latest",
    "https://quay.io/v2/org/team/app/blobs/sha256:0123",
    "http://localhost:5000/v2/a/tags/list",
];

fn defaults() -> &'static Config {
    static DEFAULTS: OnceLock<Config> = OnceLock::new();
    DEFAULTS.get_or_init(|| Config::defaults().expect("the built-in config parses"))
}

fn default_oci() -> &'static oci::Config {
    static OCI: OnceLock<oci::Config> = OnceLock::new();
    OCI.get_or_init(oci::Config::default)
}

fn registry_targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        REGISTRY_URLS
            .iter()
            .map(|u| Target::from_url(&url::Url::parse(u).unwrap()).unwrap())
            .collect()
    })
}

/// Where a URL goes once routed: the matching entry, and for `oci` entries the registry plan.
fn route(config: &Config, url: &url::Url) {
    let Some(entry) = config.find(url) else {
        return;
    };
    assert!(entry.matches(url));
    let _ = entry.describe();
    if let HelperConfig::Oci(c) = &entry.helper {
        let _ = oci::plan(url, c);
    }
}

/// The request Bazel writes to stdin: `{"uri": "..."}`.
pub fn request(data: &[u8]) {
    let Ok(request) = Request::read_from(data) else {
        return;
    };
    let Ok(url) = request.url() else {
        return;
    };
    assert!(url.host_str().is_some_and(|h| !h.is_empty()));
    route(defaults(), &url);
    let _ = oci::plan(&url, default_oci());
    let _ = Target::from_url(&url);
}

/// The config file, `.credential-helper.json`.
pub fn config(data: &[u8]) {
    // The file is read with `read_to_string`: anything else never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = match Config::parse(text, Origin::Defaults) {
        Ok(config) => config,
        Err(problems) => {
            assert!(!problems.list.is_empty());
            let _ = problems.into_error().to_string();
            return;
        }
    };
    let mut urls: Vec<url::Url> = URLS
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .collect();
    // URLs made from the entries' own patterns, so matching is exercised, not only parsing.
    let concrete = |s: &str| s.replace(['*', '?'], "a");
    for entry in &config.entries {
        let scheme = entry.scheme.as_deref().unwrap_or("https");
        let host = entry
            .host
            .as_ref()
            .map_or("example.com".into(), |h| concrete(h.as_str()));
        let path = entry
            .path
            .as_ref()
            .map_or("/v2/a/manifests/b".into(), |p| concrete(p.as_str()));
        urls.extend(url::Url::parse(&format!("{scheme}://{host}{path}")).ok());
        let _ = entry.describe();
    }
    for url in &urls {
        route(&config, url);
    }
}

/// docker's `config.json` / `$DOCKER_AUTH_CONFIG`, podman's `auth.json` (same shape), and the
/// legacy `~/.dockercfg` (the `auths` map at the top level).
pub fn docker_config(data: &[u8]) {
    let targets = registry_targets();
    if let Ok(config) = serde_json::from_slice::<DockerConfig>(data) {
        auths(&config.auths, targets);
        for host in config.cred_helpers.keys() {
            normalized(host);
        }
    }
    if let Ok(legacy) = serde_json::from_slice::<BTreeMap<String, AuthEntry>>(data) {
        auths(&legacy, targets);
    }
    if let Ok(key) = std::str::from_utf8(data) {
        normalized(key);
    }
}

fn auths(auths: &BTreeMap<String, AuthEntry>, targets: &[Target]) {
    for (key, entry) in auths {
        normalized(key);
        if let Ok(Some(credential)) = entry.credential() {
            let _ = credential.kind();
            let _ = credential.fingerprint();
        }
    }
    for target in targets {
        if let Some((_, entry)) = find_auth(auths, target) {
            let _ = entry.credential();
        }
        if let Some((_, entry)) = find_namespaced(auths, target) {
            let _ = entry.credential();
        }
    }
}

/// `normalize_key` gives a lowercase host with no path, and is idempotent.
fn normalized(key: &str) {
    let host = normalize_key(key);
    assert!(!host.contains('/'), "{key:?} -> {host:?}");
    assert!(
        !host.bytes().any(|b| b.is_ascii_uppercase()),
        "{key:?} -> {host:?}"
    );
    assert_eq!(normalize_key(&host), host, "{key:?}");
}

/// `WWW-Authenticate` values from a registry's 401: one value per line.
pub fn www_authenticate(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let all = challenge::parse_all(text.split('\n'));
    let one = challenge::parse(&text);
    for c in all.iter().chain(&one) {
        assert!(!c.scheme.is_empty());
        assert!(!c.scheme.bytes().any(|b| b.is_ascii_uppercase()), "{c:?}");
        assert!(
            c.params
                .keys()
                .all(|k| !k.bytes().any(|b| b.is_ascii_uppercase())),
            "{c:?}"
        );
        let _ = c.param("realm");
    }
}

/// A token server's JSON answer.
pub fn token_response(data: &[u8]) {
    let Ok(t) = token::parse_response(data, NOW) else {
        return;
    };
    let secret = t.token.expose();
    assert!(!secret.is_empty());
    assert!(!secret.chars().any(char::is_control));
    // `issued_at` is trusted only within an hour of now; the lifetime is capped at a year.
    assert!(t.expires > NOW - 3600 - 10, "{}", t.expires);
    assert!(t.expires <= NOW + 3600 + 86400 * 365, "{}", t.expires);
}

/// A registry URL (as in a request), and the host helpers on the raw text.
pub fn registry_url(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = is_loopback_host(host_of(text));
    let Ok(url) = url::Url::parse(text) else {
        return;
    };
    let Some(target) = Target::from_url(&url) else {
        return;
    };
    assert!(!target.repository.is_empty());
    assert!(!target.registry.is_empty());
    let _ = target.is_docker_hub();
    let _ = target.is_loopback();
    let _ = target.base_url();
    let _ = target.pull_scope();
    let _ = oci::plan(&url, default_oci());
}

/// `~/.netrc`.
pub fn netrc(data: &[u8]) {
    // The file is read as text: anything else never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = match netrc::parse(text) {
        Ok(parsed) => parsed,
        Err(why) => {
            assert!(!why.is_empty());
            return;
        }
    };
    for entry in &parsed.entries {
        // A machine finds an entry of the same name (the first one), never `default`.
        if let Some(machine) = &entry.machine {
            let found = parsed.find(machine).expect("a listed machine is found");
            assert!(
                found
                    .machine
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(machine))
            );
        }
    }
    // An unlisted host gets the first `default`, if there is one.
    let unlisted = "unlisted.invalid";
    let listed = |e: &netrc::Entry| {
        e.machine
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(unlisted))
    };
    if !parsed.entries.iter().any(listed) {
        let default = parsed.entries.iter().find(|e| e.machine.is_none());
        assert_eq!(parsed.find(unlisted), default);
    }
}

/// The config's host and path patterns, checked against `globset`, which defines them: the
/// fast paths (literal, `*suffix`, `prefix*`) must agree with the glob. Input: `h` or `p`
/// (host or path pattern), the pattern, a newline, then the string to match.
pub fn pattern(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some((kind, rest)) = text.split_at_checked(1) else {
        return;
    };
    let Some((source, subject)) = rest.split_once('\n') else {
        return;
    };
    let (parsed, glob, case_insensitive) = match kind {
        "h" => (
            Pattern::host(source),
            source.replace('[', "\\[").replace(']', "\\]"),
            true,
        ),
        "p" => (Pattern::path(source), source.to_string(), false),
        _ => return,
    };
    let reference = globset::GlobBuilder::new(&glob)
        .case_insensitive(case_insensitive)
        .literal_separator(false)
        .backslash_escape(true)
        .build();
    assert_eq!(parsed.is_ok(), reference.is_ok(), "{text:?}");
    let (Ok(parsed), Ok(reference)) = (parsed, reference) else {
        return;
    };
    assert_eq!(parsed.as_str(), source);
    assert_eq!(
        parsed.is_match(subject),
        reference.compile_matcher().is_match(subject),
        "{text:?}"
    );
}

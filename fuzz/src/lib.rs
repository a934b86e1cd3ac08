//! One harness function per parser, shared by the fuzz targets in `fuzz/fuzz_targets/` and by
//! `tests/it/fuzz_regressions.rs`, which includes this file with `#[path]` and replays every
//! file under `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` through [`TARGETS`].
//!
//! Each function feeds arbitrary bytes to a parser the way the program does, then pushes what
//! parsed through the code that uses it next. Nothing may panic; the `assert!`s are properties
//! every accepted input must have.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use credential_helper::facade::{
    AuthEntry, AuthJsonQuery, Config, DockerConfig, HelperConfig, Origin, Pattern, Request, Target,
    azure, challenge, find_auth, find_key, google, host_match, host_of, ini, is_loopback_host,
    kubernetes, mesos, netrc, normalize_key, oci, parse_rfc3339, rkt, token,
};
use serde_json::Value;

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
    ("kubernetes_secret", kubernetes_secret),
    ("rkt_auth", rkt_auth),
    ("mesos_archive", mesos_archive),
    ("aws_ini", aws_ini),
    ("google_credentials", google_credentials),
    ("azure_token", azure_token),
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
fn route(config: &Config, url: &url::Url, raw_path: &str) {
    let Some(entry) = config.find(url, raw_path) else {
        return;
    };
    assert!(entry.matches(url, raw_path));
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
    route(defaults(), &url, request.raw_path());
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
        route(&config, url, url.path());
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
        let query = AuthJsonQuery::for_target(target);
        for legacy in [false, true] {
            if let Some((key, entry)) = find_key(auths, &query, legacy) {
                assert!(auths.contains_key(key), "{key:?}");
                let _ = entry.credential();
            }
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
    let t = match token::parse_response(data, NOW) {
        Ok(t) => t,
        Err(why) => {
            assert_no_secret(&why, &token_answer_runs(data));
            return;
        }
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
    let _ = target.scope("pull");
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

/// Secret material shorter than this is not looked for in messages: shorter runs could be words
/// of the message itself (the longest in the parsers' messages is `dockerconfigjson`, 16).
const MIN_SECRET_RUN: usize = 20;

/// The long alphanumeric runs (what keys and tokens are made of) of `secrets` that appear in
/// none of `public` (what a message may name by design: a `kind`, a `type`, a domain): a
/// message holding one quoted secret material.
fn secret_runs<'a>(secrets: impl IntoIterator<Item = &'a str>, public: &[&str]) -> Vec<String> {
    let mut runs = Vec::new();
    for secret in secrets {
        for run in secret.split(|c: char| !c.is_ascii_alphanumeric()) {
            if run.len() >= MIN_SECRET_RUN && !public.iter().any(|p| p.contains(run)) {
                runs.push(run.to_string());
            }
        }
    }
    runs
}

/// The secret runs of a token answer: any of its strings may be the token (or the whole text,
/// when it is not JSON); its keys are not secret.
fn token_answer_runs(data: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<Value>(data) {
        Ok(doc) => {
            let (mut strings, mut keys) = (Vec::new(), Vec::new());
            split_strings(&doc, &[], true, &mut strings, &mut keys);
            secret_runs(strings, &keys)
        }
        Err(_) => secret_runs([String::from_utf8_lossy(data).as_ref()], &[]),
    }
}

/// An error message (or anything else printed) quotes none of `runs`.
fn assert_no_secret(message: &str, runs: &[String]) {
    for run in runs {
        assert!(
            !message.contains(run.as_str()),
            "{message:?} quotes {run:?}"
        );
    }
}

/// The strings of a JSON document, split into secret ones (those under any key in
/// `secret_keys`, at any depth) and public ones (every other string, and every key).
fn split_strings<'a>(
    v: &'a Value,
    secret_keys: &[&str],
    under_secret: bool,
    secret: &mut Vec<&'a str>,
    public: &mut Vec<&'a str>,
) {
    match v {
        Value::String(s) if under_secret => secret.push(s),
        Value::String(s) => public.push(s),
        Value::Array(items) => {
            for item in items {
                split_strings(item, secret_keys, under_secret, secret, public);
            }
        }
        Value::Object(map) => {
            for (key, value) in map {
                public.push(key);
                let under = under_secret || secret_keys.contains(&key.as_str());
                split_strings(value, secret_keys, under, secret, public);
            }
        }
        _ => {}
    }
}

/// The secret runs of a JSON document; of all the text when it is not JSON (a parser's message
/// about invalid input then has nothing to quote by design).
fn json_secret_runs(data: &[u8], secret_keys: &[&str]) -> Vec<String> {
    match serde_json::from_slice::<Value>(data) {
        Ok(doc) => {
            let (mut secret, mut public) = (Vec::new(), Vec::new());
            split_strings(&doc, secret_keys, false, &mut secret, &mut public);
            secret_runs(secret, &public)
        }
        Err(_) => secret_runs([String::from_utf8_lossy(data).as_ref()], &[]),
    }
}

/// Where a docker `auths` entry keeps a credential.
const AUTH_ENTRY_SECRETS: &[&str] = &["auth", "password", "identitytoken", "registrytoken"];

/// What parsed `auths` go through next: each entry's credential, and the best key for each
/// registry as Kubernetes matches keys. A credential's error names no secret material.
fn use_auths(auths: &BTreeMap<String, AuthEntry>, runs: &[String]) {
    for (key, entry) in auths {
        let _ = normalize_key(key);
        match entry.credential() {
            Ok(Some(credential)) => {
                let _ = credential.kind();
                let _ = credential.fingerprint();
            }
            Ok(None) => {}
            Err(why) => assert_no_secret(&why, runs),
        }
    }
    for target in registry_targets() {
        let keys = auths.iter().map(|(k, v)| (k.as_str(), v));
        if let Some((key, _)) = host_match::best_match(keys, &target.registry, &target.repository) {
            assert!(auths.contains_key(key));
        }
        let _ = find_auth(auths, target);
    }
}

/// A Kubernetes registry secret as `kind: kubernetes` reads it: a `.dockerconfigjson` or
/// `.dockercfg` file, or a Secret manifest in YAML or JSON (`data` base64, or `stringData`).
pub fn kubernetes_secret(data: &[u8]) {
    let path = Path::new("/var/run/secrets/regcred/.dockerconfigjson");
    let runs = kubernetes_secret_runs(data);
    match kubernetes::parse(path, data) {
        Ok((name, auths)) => {
            assert_no_secret(&name, &runs);
            use_auths(&auths, &runs);
        }
        Err(e) => assert_no_secret(&e.to_string(), &runs),
    }
}

/// A manifest's secrets are everything under `data` (base64-decoded too) and `stringData`; its
/// `kind` and `type` are named in messages. A bare docker config's are its entries' credentials.
fn kubernetes_secret_runs(data: &[u8]) -> Vec<String> {
    use base64::Engine;
    let text = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let is_json = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let doc: Option<Value> = if is_json {
        serde_json::from_slice(text).ok()
    } else {
        serde_yaml_ng::from_slice(text).ok()
    };
    let Some(doc) = doc else {
        return secret_runs([String::from_utf8_lossy(text).as_ref()], &[]);
    };
    if doc.get("kind").is_none() && doc.get("apiVersion").is_none() {
        return json_secret_runs(text, AUTH_ENTRY_SECRETS);
    }
    let (mut secret, mut public) = (Vec::new(), Vec::new());
    split_strings(
        &doc,
        &["data", "stringData"],
        false,
        &mut secret,
        &mut public,
    );
    let decoded: Vec<String> = secret
        .iter()
        .filter_map(|s| {
            let compact: String = s.split_ascii_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();
    secret.extend(decoded.iter().map(String::as_str));
    secret_runs(secret, &public)
}

/// rkt's `auth.d`: one or more `*.json` files, separated by a line `---` (which no JSON
/// document holds), added to one directory in order.
pub fn rkt_auth(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let files: Vec<&str> = text.split("\n---\n").take(8).collect();
    let docs: Vec<Option<Value>> = files
        .iter()
        .map(|f| serde_json::from_str::<Value>(f).ok())
        .collect();
    // A file that is not JSON is all secret; what any file names by design (a kind, a type, a
    // domain) is public for every file's message.
    let (mut secret, mut public) = (Vec::new(), Vec::new());
    for (file, doc) in files.iter().zip(&docs) {
        match doc {
            Some(doc) => split_strings(doc, &["credentials"], false, &mut secret, &mut public),
            None => secret.push(*file),
        }
    }
    let runs = secret_runs(secret, &public);
    let mut dir = rkt::AuthDir::default();
    for (i, file) in files.iter().enumerate() {
        let path = format!("/etc/rkt/auth.d/{i}.json");
        if let Err(e) = rkt::add_file(&mut dir, Path::new(&path), file.as_bytes()) {
            assert_no_secret(&e.to_string(), &runs);
        }
    }
}

/// A Mesos/Marathon `docker.tar.gz`. Input starting with gzip's magic is the archive; anything
/// else is taken as the tar inside it and gzipped here first, so the tar and JSON parsing get
/// coverage that random compressed bytes would rarely reach.
pub fn mesos_archive(data: &[u8]) {
    let path = Path::new("/mnt/mesos/sandbox/docker.tar.gz");
    let gzipped;
    let archive = if data.starts_with(&[0x1f, 0x8b]) {
        data
    } else {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).unwrap();
        gzipped = gz.finish().unwrap();
        &gzipped
    };
    // The archive's members are never printed: no run of the input may appear in a message.
    let runs = secret_runs([String::from_utf8_lossy(data).as_ref()], &[]);
    match mesos::read_archive(path, archive) {
        Ok((member, auths)) => {
            assert!(member == ".docker/config.json" || member == ".dockercfg");
            use_auths(&auths, &runs);
        }
        Err(e) => assert_no_secret(&e.to_string(), &runs),
    }
}

/// The AWS shared `config` and `credentials` files. The parser never fails; what it gives has
/// trimmed, lower-case keys, section names with single spaces, and values without comments.
pub fn aws_ini(data: &[u8]) {
    // The files are read as text: anything else never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (name, keys) in ini::parse(text) {
        assert_eq!(
            name,
            name.split_whitespace().collect::<Vec<_>>().join(" "),
            "{text:?}"
        );
        for (key, value) in keys {
            assert_eq!(key, key.trim(), "{text:?}");
            assert!(!key.bytes().any(|b| b.is_ascii_uppercase()), "{key:?}");
            assert!(!key.contains('=') && !key.contains('\n'), "{key:?}");
            assert_eq!(value, value.trim(), "{text:?}");
            assert!(!value.contains('\n'), "{value:?}");
            for comment in [" #", "\t#", " ;", "\t;"] {
                assert!(!value.contains(comment), "{value:?}");
            }
        }
    }
}

/// Where Google credential files keep secrets.
const GOOGLE_SECRETS: &[&str] = &[
    "private_key",
    "client_secret",
    "refresh_token",
    "access_token",
    "headers",
];

/// Google credential files (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file): the `type`
/// dispatch and each type's shape, then the endpoints they name, as read before any request;
/// and the same bytes as `gcloud config config-helper` output and as an OAuth2 error body.
pub fn google_credentials(data: &[u8]) {
    let what = "/home/u/.config/gcloud/application_default_credentials.json (gcloud application default credentials)";
    let runs = json_secret_runs(data, GOOGLE_SECRETS);
    if let Err(e) = google::check_file(data, what) {
        // An unsupported `type` is named by design. serde reads it even where a field it skips
        // is not valid UTF-8 (and the document then no `Value`), so it is cut from the message
        // rather than found in the input.
        let message = e.to_string();
        let shown = match (
            message.find(" has credential type "),
            message.find(", which is not supported"),
        ) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &message[..a], &message[b..]),
            _ => message,
        };
        assert_no_secret(&shown, &runs);
    }
    if let Ok(doc) = serde_json::from_slice::<Value>(data) {
        let fields = [
            "token_uri",
            "token_url",
            "service_account_impersonation_url",
        ];
        let urls = fields
            .iter()
            .map(|f| (*f, doc.get(f)))
            .chain([(
                "credential_source url",
                doc.pointer("/credential_source/url"),
            )])
            .chain([("token_uri", doc.pointer("/source_credentials/token_uri"))]);
        for (field, value) in urls {
            let Some(uri) = value.and_then(Value::as_str) else {
                continue;
            };
            match google::endpoint(uri, field, what) {
                Ok(url) => assert!(
                    url.scheme() == "https" || url.host_str().is_some_and(is_loopback_host),
                    "{url}"
                ),
                Err(e) => assert_no_secret(&e.to_string(), &runs),
            }
        }
        if let Some(expiry) = doc
            .pointer("/credential/token_expiry")
            .and_then(Value::as_str)
        {
            let _ = parse_rfc3339(expiry);
        }
    }
    match google::parse_config_helper(data, NOW) {
        Ok((t, expires)) => {
            assert!(!t.is_empty() && !t.expose().chars().any(char::is_control));
            assert!(expires > NOW - 3600, "{expires}");
        }
        Err(why) => assert_no_secret(&why, &runs),
    }
    if let Some(code) = token::error_code(data) {
        assert!(code.starts_with('(') && code.ends_with(')'), "{code:?}");
    }
}

/// An Entra ID or managed identity token answer, the Azure CLI's `get-access-token` output, and
/// an error answer's code. Nothing in a token answer may be quoted in a message; an error code
/// is the `error` value and the `AADSTS` number, never the rest of the description.
pub fn azure_token(data: &[u8]) {
    let runs = token_answer_runs(data);
    match token::parse_answer(data, NOW, &token::ENTRA) {
        Ok(token::Token { token: t, expires }) => {
            assert!(!t.is_empty() && !t.expose().chars().any(char::is_control));
            assert!(expires > NOW && expires <= NOW + 86400, "{expires}");
        }
        Err(why) => assert_no_secret(&why, &runs),
    }
    match azure::parse_cli_token(data, NOW) {
        Ok((t, expires)) => {
            assert!(!t.is_empty() && !t.expose().chars().any(char::is_control));
            assert!(expires > NOW && expires <= NOW + 86400, "{expires}");
        }
        Err(why) => assert_no_secret(&why, &runs),
    }
    if let Some(code) = token::error_code(data) {
        let doc: Value = serde_json::from_slice(data).expect("a code comes from JSON");
        let error = doc.get("error").and_then(Value::as_str).unwrap_or("");
        let inner = code.strip_prefix('(').and_then(|c| c.strip_suffix(')'));
        let parts: Vec<&str> = inner.expect("(code)").split(' ').collect();
        assert!(!parts.is_empty() && parts.len() <= 2, "{code:?}");
        for part in parts {
            assert!(
                part == error
                    || part
                        .strip_prefix("AADSTS")
                        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())),
                "{code:?}"
            );
        }
    }
}

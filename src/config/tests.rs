//! Config parsing and URL matching: tables, problems, and property tests.

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
        (
            r#"{"url":[]}"#,
            "url: unknown field (did you mean `urls`? expected one of: urls, defaults, $schema)",
        ),
        (r#"{"urls":[1]}"#, "entry 0: an entry must be a JSON object"),
        (r#"{"urls":[{"host":"a"}]}"#, "): helper: missing"),
        (
            r#"{"urls":[{"helper":"null"},{"helper":"nope"}]}"#,
            "entry 1 (every URL): helper: unknown helper (one of: azblob,",
        ),
        (
            r#"{"urls":[{"helper":"null","hots":"a"}]}"#,
            "entry 0 (every URL): hots: unknown field (did you mean `host`?",
        ),
        (
            r#"{"urls":[{"helper":"null","host":1}]}"#,
            "): host: must be a string",
        ),
        (
            r#"{"urls":[{"helper":"null","host":"a{b"}]}"#,
            "): host: invalid glob",
        ),
        (
            r#"{"urls":[{"helper":"null","path":"/a[b"}]}"#,
            "): path: invalid glob",
        ),
        (
            r#"{"urls":[{"helper":"null","scheme":"ht tp"}]}"#,
            "): scheme: not a URL scheme",
        ),
        (
            r#"{"urls":[{"helper":"header","config":{"lookup_chain":[],"colour":1}}]}"#,
            "entry 0 (every URL): config: colour: unknown field (expected one of:",
        ),
        (
            r#"{"urls":[{"helper":"null","config":{"x":1}}]}"#,
            "entry 0 (every URL): config: x: unknown field (this object takes no fields)",
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

#[test]
fn a_file_replaces_or_extends_the_built_in_defaults() {
    let own = r#"{"host":"github.com","helper":"null"}"#;
    let builtin = Config::defaults().unwrap().entries.len();
    for (mode, want) in [
        ("", DefaultsMode::Replace),
        (r#""defaults":"replace","#, DefaultsMode::Replace),
        (r#""defaults":"extend","#, DefaultsMode::Extend),
    ] {
        let c = config(&format!(r#"{{{mode}"urls":[{own}]}}"#));
        assert_eq!(c.defaults, want, "{mode}");
        assert_eq!(c.builtin_in_force(), want == DefaultsMode::Extend);
        let extended = want == DefaultsMode::Extend;
        assert_eq!(c.entries.len(), 1 + if extended { builtin } else { 0 });
        // Its own entries first: github.com stays null; the defaults route the rest.
        assert_eq!(
            find(&c, "https://github.com/o/r").unwrap().helper.name(),
            "null"
        );
        let api = find(&c, "https://api.github.com/repos/o/r/tarball/v1");
        assert_eq!(api.map(|e| e.helper.name()), extended.then_some("github"));
        if let Some(e) = api {
            assert!(e.builtin && e.describe().starts_with("built-in defaults urls["));
        }
        let says = c.describe();
        assert!(
            says.contains(if extended { "extends" } else { "replaces" }),
            "{says}"
        );
    }
    assert!(Config::defaults().unwrap().builtin_in_force());
    let bad = problems(r#"{"defaults":"extnd-ghp_canary","urls":[{"helper":"null"}]}"#);
    assert_eq!(bad, ["\"defaults\": must be \"replace\" or \"extend\""]);
    let in_defaults = Config::parse(
        r#"{"defaults":"extend","urls":[{"helper":"null"}]}"#,
        Origin::Defaults,
    );
    assert!(in_defaults.unwrap_err().list[0].contains("belongs in a config file"));
}

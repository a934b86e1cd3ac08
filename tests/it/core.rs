//! The protocol edge, the config file, lookup chains and the header/null helpers, driven
//! through the real binary the way Bazel runs it.

use crate::support::Bazel;

/// The three kinds of URI Bazel sends: downloader, HTTP cache (explicit :443), gRPC.
const URIS: [&str; 3] = [
    "https://cache.example.com/some/file.tar.gz?token=a&b=c",
    "https://cache.example.com:443/ac/0123abcd",
    "https://cache.example.com/build.bazel.remote.execution.v2.Execution",
];

fn header_config(chain: &str) -> String {
    format!(
        r#"{{"urls":[{{"host":"cache.example.com","helper":"header","config":{{"header_name":"x-api-key","lookup_chain":{chain}}}}}]}}"#
    )
}

#[test]
fn no_arguments_prints_usage_and_exits_2() {
    let out = Bazel::new().run(&[], None);
    assert_eq!(out.status, Some(2), "{out}");
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("Usage:"), "{out}");
}

#[test]
fn help_version_and_unknown_command() {
    let bazel = Bazel::new();
    let help = bazel.run(&["--help"], None);
    assert!(help.ok().contains("credential-helper get"));
    assert!(bazel.run(&["-h"], None).ok().contains("Usage:"));
    let version = bazel.run(&["--version"], None);
    assert_eq!(
        version.ok().lines().next(),
        Some(format!("credential-helper {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let unknown = bazel.run(&["store"], None);
    assert_eq!(unknown.status, Some(2));
    assert!(
        unknown.stderr.contains("unknown command \"store\""),
        "{unknown}"
    );
    assert!(unknown.stderr.contains("--help"), "{unknown}");
    let extra = bazel.run(&["get", "x"], Some("{}"));
    assert_eq!(extra.status, Some(2), "{extra}");
}

#[test]
fn header_helper_answers_every_kind_of_bazel_uri() {
    let mut bazel = Bazel::new();
    bazel
        .config(&header_config(r#"[{"source":"env","name":"CACHE_KEY"}]"#))
        .env("CACHE_KEY", "s3cr3t-value");
    for uri in URIS {
        let answer = bazel.get(uri).success();
        assert_eq!(answer.header("x-api-key"), Some("s3cr3t-value"), "{uri}");
        assert_eq!(answer.headers.len(), 1);
        assert_eq!(
            answer.expires, None,
            "no expiry is known for a static secret"
        );
    }
    let raw = bazel.get(URIS[0]);
    assert_eq!(
        raw.stdout.trim_end(),
        r#"{"headers":{"x-api-key":["s3cr3t-value"]}}"#
    );
}

#[test]
fn lookup_chain_order_and_sources() {
    let mut bazel = Bazel::new();
    bazel.write("home/secret.txt", "  from-file\n\n");
    bazel.config(&header_config(
        r#"[{"source":"env","name":"UNSET"},{"source":"file","path":"~/missing.txt"},{"source":"file","path":"~/secret.txt"},{"source":"static","value":"from-static"}]"#,
    ));
    assert_eq!(
        bazel.get(URIS[0]).success().header("x-api-key"),
        Some("from-file")
    );

    bazel.env("UNSET", "from-env");
    assert_eq!(
        bazel.get(URIS[0]).success().header("x-api-key"),
        Some("from-env")
    );

    let mut bazel = Bazel::new();
    bazel.config(&header_config(
        r#"[{"source":"static","value":"only-static"}]"#,
    ));
    assert_eq!(
        bazel.get(URIS[0]).success().header("x-api-key"),
        Some("only-static")
    );
}

#[test]
fn workspace_relative_file_source() {
    let mut bazel = Bazel::new();
    bazel.write("workspace/tools/key", "ws-key");
    bazel.config(&header_config(
        r#"[{"source":"file","path":"%workspace%/tools/key"}]"#,
    ));
    assert_eq!(
        bazel.get(URIS[1]).success().header("x-api-key"),
        Some("ws-key")
    );
}

#[test]
fn bindings_other_than_default_are_ignored_by_header() {
    let mut bazel = Bazel::new();
    bazel.config(&header_config(
        r#"[{"source":"static","value":"wrong","binding":"other"},{"source":"static","value":"right"}]"#,
    ));
    assert_eq!(
        bazel.get(URIS[0]).success().header("x-api-key"),
        Some("right")
    );
}

#[test]
fn missing_secret_names_every_source_tried() {
    let mut bazel = Bazel::new();
    bazel.config(&header_config(
        r#"[{"source":"env","name":"NOPE"},{"source":"file","path":"~/nope.txt"}]"#,
    ));
    let err = bazel.get(URIS[0]).failure();
    assert!(
        err.contains("no secret for header x-api-key found"),
        "{err}"
    );
    assert!(
        err.contains("env NOPE") && err.contains("file ~/nope.txt"),
        "{err}"
    );
}

#[test]
fn failing_source_is_reported_when_nothing_is_found() {
    let mut bazel = Bazel::new();
    // A directory cannot be read as a file, even by root.
    std::fs::create_dir_all(bazel.home().join("keydir")).unwrap();
    bazel.config(&header_config(
        r#"[{"source":"file","path":"~/keydir"},{"source":"env","name":"NOPE"}]"#,
    ));
    let err = bazel.get(URIS[0]).failure();
    assert!(
        err.contains("cannot read") && err.contains("keydir"),
        "{err}"
    );

    // ...but a later source that has the value wins over the broken one.
    bazel.env("NOPE", "found");
    assert_eq!(
        bazel.get(URIS[0]).success().header("x-api-key"),
        Some("found")
    );
}

#[test]
fn keyring_source_without_the_feature_says_so() {
    if cfg!(feature = "keyring") {
        return;
    }
    let mut bazel = Bazel::new();
    bazel.config(&header_config(
        r#"[{"source":"keyring","service":"my-cache"}]"#,
    ));
    let err = bazel.get(URIS[0]).failure();
    assert!(err.contains("not built into this binary"), "{err}");
    assert!(err.contains("`keyring` feature"), "{err}");
}

#[test]
fn basic_and_bearer_auth_methods() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[
          {"host":"basic.example.com","helper":"header","config":{"auth_method":"basic","lookup_chain":[{"source":"env","name":"CREDS"}]}},
          {"host":"bearer.example.com","helper":"header","config":{"auth_method":"bearer","lookup_chain":[{"source":"env","name":"CREDS"}]}},
          {"host":"prefix.example.com","helper":"header","config":{"header_name":"Authorization","prefix":"Token ","lookup_chain":[{"source":"env","name":"CREDS"}]}}
        ]}"#,
    );
    bazel.env("CREDS", "user:pa:ss");
    let basic = bazel.get("https://basic.example.com/a").success();
    // base64("user:pa:ss")
    assert_eq!(
        basic.header("Authorization"),
        Some("Basic dXNlcjpwYTpzcw==")
    );
    let bearer = bazel.get("https://bearer.example.com/a").success();
    assert_eq!(bearer.header("Authorization"), Some("Bearer user:pa:ss"));
    let prefix = bazel.get("https://prefix.example.com/a").success();
    assert_eq!(prefix.header("Authorization"), Some("Token user:pa:ss"));

    bazel.env("CREDS", "no-colon");
    let err = bazel.get("https://basic.example.com/a").failure();
    assert!(err.contains("not of the form user:password"), "{err}");
    assert!(
        !err.contains("no-colon"),
        "the secret must not be echoed: {err}"
    );
}

#[test]
fn null_helper_and_unmatched_urls_get_empty_headers() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","path":"/public/*","helper":"null"},
                    {"host":"cache.example.com","helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"static","value":"v"}]}}]}"#,
    );
    for uri in [
        "https://cache.example.com/public/x",
        "https://other.example.com/x",
    ] {
        let out = bazel.get(uri);
        assert_eq!(out.stdout.trim_end(), r#"{"headers":{}}"#, "{uri}");
        assert!(out.success().headers.is_empty());
    }
    assert_eq!(
        bazel
            .get("https://cache.example.com/private")
            .success()
            .header("k"),
        Some("v")
    );
}

#[test]
fn scheme_host_and_path_matching_through_the_binary() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"scheme":"https","host":"*.corp.example","path":"/v2/*","helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"static","value":"v"}]}}]}"#,
    );
    assert_eq!(
        bazel
            .get("https://a.b.corp.example/v2/x/y")
            .success()
            .header("k"),
        Some("v")
    );
    assert_eq!(
        bazel
            .get("https://a.corp.example:443/v2/x")
            .success()
            .header("k"),
        Some("v")
    );
    assert!(
        bazel
            .get("http://a.corp.example/v2/x")
            .success()
            .headers
            .is_empty()
    );
    assert!(
        bazel
            .get("https://a.corp.example/v1/x")
            .success()
            .headers
            .is_empty()
    );
    assert!(
        bazel
            .get("https://corp.example/v2/x")
            .success()
            .headers
            .is_empty()
    );
}

#[test]
fn config_file_location() {
    let header = |value: &str| {
        format!(
            r#"{{"urls":[{{"host":"cache.example.com","helper":"header","config":{{"header_name":"k","lookup_chain":[{{"source":"static","value":"{value}"}}]}}}}]}}"#
        )
    };
    let mut bazel = Bazel::new();
    bazel.config(&header("workspace"));
    bazel.write("workspace/conf/alt.json", header("workspace-relative"));
    bazel.write("home/alt.json", header("home-relative"));
    assert_eq!(bazel.get(URIS[0]).success().header("k"), Some("workspace"));

    bazel.env("CREDENTIAL_HELPER_CONFIG_FILE", "%workspace%/conf/alt.json");
    assert_eq!(
        bazel.get(URIS[0]).success().header("k"),
        Some("workspace-relative")
    );
    bazel.env("CREDENTIAL_HELPER_CONFIG_FILE", "~/alt.json");
    assert_eq!(
        bazel.get(URIS[0]).success().header("k"),
        Some("home-relative")
    );
    let abs = bazel.home().join("alt.json");
    bazel.env("CREDENTIAL_HELPER_CONFIG_FILE", &abs);
    assert_eq!(
        bazel.get(URIS[0]).success().header("k"),
        Some("home-relative")
    );

    bazel.env("CREDENTIAL_HELPER_CONFIG_FILE", "~/does-not-exist.json");
    let err = bazel.get(URIS[0]).failure();
    assert!(
        err.contains("cannot read config") && err.contains("does-not-exist.json"),
        "{err}"
    );
    assert!(err.contains("CREDENTIAL_HELPER_CONFIG_FILE"), "{err}");
}

#[test]
fn without_a_config_file_built_in_defaults_apply() {
    let mut bazel = Bazel::new();
    bazel.env("BUILDBUDDY_API_KEY", "bb-key");
    let answer = bazel
        .get("https://remote.buildbuddy.io/build.bazel.remote.execution.v2.Execution")
        .success();
    assert_eq!(answer.header("x-buildbuddy-api-key"), Some("bb-key"));
    assert!(
        bazel
            .get("https://example.com/file.tgz")
            .success()
            .headers
            .is_empty()
    );
}

#[test]
fn config_errors_name_file_entry_and_field() {
    let cases = [
        ("{not json", "invalid JSON"),
        (r#"{"urls":[]}"#, "\"urls\" is empty"),
        (
            r#"{"urls":[{"helper":"nope"}]}"#,
            "entry 0 (every URL): helper: unknown helper (one of:",
        ),
        (
            r#"{"urls":[{"helper":"null"},{"helper":"null","hots":"x"}]}"#,
            "entry 1 (every URL): hots: unknown field (did you mean `host`?",
        ),
        (
            r#"{"urls":[{"helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"env","nam":"X"}]}}]}"#,
            "entry 0 (every URL): config:",
        ),
        (
            r#"{"urls":[{"helper":"header","config":{"lookup_chain":[{"source":"env","name":"X"}]}}]}"#,
            "entry 0 (every URL): config: set header_name",
        ),
        (
            r#"{"urls":[{"helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"vault","name":"X"}]}}]}"#,
            "lookup_chain: unknown variant, expected one of",
        ),
    ];
    for (json, want) in cases {
        let mut bazel = Bazel::new();
        bazel.bad_config(json);
        let err = bazel.get(URIS[0]).failure();
        let file = bazel.workspace().join(".credential-helper.json");
        assert!(
            err.contains(&format!("config {}", file.display())),
            "{json}: {err}"
        );
        assert!(err.contains(want), "{json}: expected {want:?} in {err}");
    }
}

#[test]
fn bad_requests_fail_cleanly() {
    let bazel = Bazel::new();
    for (stdin, want) in [
        ("", "no request on stdin"),
        ("{\"uri\":", "invalid request on stdin"),
        ("[1,2]", "invalid request on stdin"),
        ("{\"url\":\"https://x\"}", "missing field `uri`"),
        ("{\"uri\":\"not a url\"}", "not a URL"),
        ("{\"uri\":\"mailto:someone\"}", "no host"),
        (
            "{\"uri\":\"https://x/\"} trailing",
            "invalid request on stdin",
        ),
    ] {
        let err = bazel.run(&["get"], Some(stdin)).failure();
        assert!(err.contains(want), "{stdin:?}: {err}");
    }
    let huge = format!("{{\"uri\":\"https://x/{}\"}}", "a".repeat(2 * 1024 * 1024));
    let err = bazel.run(&["get"], Some(&huge)).failure();
    assert!(err.contains("larger than 1 MiB"), "{err}");
}

#[test]
fn gson_escaped_uris_are_decoded() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","path":"/a*","helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"static","value":"v"}]}}]}"#,
    );
    // The harness escapes = & < > ' exactly as Gson does.
    let out = bazel.get("https://cache.example.com/a?x=1&y='<>'");
    assert_eq!(out.success().header("k"), Some("v"));
    let raw = bazel.run(
        &["get"],
        Some(r#"{"uri":"https://cache.example.com/a?x\u003d1\u0026y\u003d2","extra":true}"#),
    );
    assert_eq!(raw.success().header("k"), Some("v"));
}

#[test]
fn debug_log_explains_without_revealing_secrets() {
    let mut bazel = Bazel::new();
    bazel
        .config(&header_config(
            r#"[{"source":"env","name":"NOPE"},{"source":"env","name":"CACHE_KEY"}]"#,
        ))
        .env("CACHE_KEY", "very-secret-canary")
        .env("CREDENTIAL_HELPER_LOG", "debug");
    let out = bazel.get(URIS[0]);
    assert_eq!(
        out.success().header("x-api-key"),
        Some("very-secret-canary")
    );
    for want in [
        "urls[0]",
        "helper \"header\"",
        "env NOPE: not set",
        "env CACHE_KEY: found",
        "x-api-key: <redacted>",
    ] {
        assert!(out.stderr.contains(want), "missing {want:?}\n{out}");
    }
    assert!(!out.stderr.contains("very-secret-canary"), "{out}");
}

#[test]
fn bundled_example_config_works_as_written() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.credential-helper.json.example"
    );
    let mut bazel = Bazel::new();
    bazel
        .env("CREDENTIAL_HELPER_CONFIG_FILE", example)
        .env("EXAMPLE_CACHE_KEY", "demo-key");
    let answer = bazel.get("https://cache.example.com/ac/0123").success();
    assert_eq!(answer.header("x-api-key"), Some("demo-key"));
    assert!(
        bazel
            .get("https://public.example.com/x")
            .success()
            .headers
            .is_empty()
    );
    // The README's quick start uses this file and variable.
    let readme = include_str!("../../README.md");
    assert!(readme.contains("CREDENTIAL_HELPER_CONFIG_FILE=.credential-helper.json.example"));
    let bazelrc = include_str!("../../examples/bazelrc");
    assert!(
        bazelrc.contains("--credential_helper=") && bazelrc.contains("OCI_GET_TOKEN_ALLOW_FAIL=1")
    );
}

#[test]
fn schema_accepts_the_example_and_rejects_broken_configs() {
    let example = include_str!("../../.credential-helper.json.example");
    crate::support::schema::validate(example).unwrap();
    let defaults = include_str!("../../src/config/defaults.json");
    crate::support::schema::validate(defaults).unwrap();
    for bad in [
        r#"{"urls":[]}"#,
        r#"{}"#,
        r#"{"urls":[{"helper":"nope"}]}"#,
        r#"{"urls":[{"helper":"null","hots":"x"}]}"#,
        r#"{"urls":[{"helper":"null","config":{"x":1}}]}"#,
        r#"{"urls":[{"helper":"header","config":{"lookup_chain":[{"source":"env","name":"X"}]}}]}"#,
        r#"{"urls":[{"helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"env","nam":"X"}]}}]}"#,
        r#"{"urls":[{"helper":"oci","config":{"token_exchange_method":"magic"}}]}"#,
        r#"{"urls":[{"helper":"oci","config":{"parse_docker":true}}]}"#,
    ] {
        assert!(
            crate::support::schema::validate(bad).is_err(),
            "schema accepted {bad}"
        );
    }
}

//! Helpers beyond containers: github, netrc and the remote-execution header presets.

use crate::support::{Bazel, b64};

#[test]
fn github_downloads_with_built_in_defaults() {
    let mut bazel = Bazel::new();
    bazel
        .env("GITHUB_TOKEN", "ghs_actions")
        .env("GH_TOKEN", "gho_user");
    let release = bazel
        .get("https://github.com/o/r/releases/download/v1/x.tar.gz")
        .success();
    assert_eq!(
        release.header("Authorization"),
        Some("Bearer gho_user"),
        "GH_TOKEN first"
    );
    let api = bazel
        .get("https://api.github.com/repos/o/r/tarball/v1")
        .success();
    assert_eq!(api.header("Authorization"), Some("Bearer gho_user"));
    let raw = bazel
        .get("https://raw.githubusercontent.com/o/r/main/BUILD")
        .success();
    assert_eq!(
        raw.header("Authorization").unwrap(),
        format!("Basic {}", b64("gho_user:"))
    );
    for signed in [
        "https://objects.githubusercontent.com/github-production-release-asset-2e65be/1?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc",
        "https://release-assets.githubusercontent.com/github-production-release-asset/1?sp=r&sig=abc",
        "https://github.com/o/r/releases/download/v1/x?X-Amz-Signature=abc",
    ] {
        let out = bazel.get(signed);
        assert_eq!(out.stdout.trim_end(), r#"{"headers":{}}"#, "{signed}");
    }
}

#[test]
fn github_token_from_gh_cli_and_anonymous_fallback() {
    let mut bazel = Bazel::new();
    let public = bazel.get("https://github.com/o/r/archive/v1.tar.gz");
    assert_eq!(
        public.stdout.trim_end(),
        r#"{"headers":{}}"#,
        "no token: anonymous"
    );

    bazel.write(
        "home/.config/gh/hosts.yml",
        "github.com:\n    git_protocol: https\n    user: octo\n    oauth_token: gho_from_gh\n",
    );
    let answer = bazel
        .get("https://github.com/o/r/archive/v1.tar.gz")
        .success();
    assert_eq!(answer.header("Authorization"), Some("Bearer gho_from_gh"));

    bazel.config(r#"{"urls":[{"host":"github.com","helper":"github","config":{"parse_gh_config":false,"required":true}}]}"#);
    let err = bazel
        .get("https://github.com/o/r/archive/v1.tar.gz")
        .failure();
    assert!(
        err.contains("no GitHub token found") && err.contains("GH_TOKEN"),
        "{err}"
    );

    bazel.config(r#"{"urls":[{"host":"github.com","helper":"github","config":{"lookup_chain":[{"source":"env","name":"MY_PAT"}]}}]}"#);
    bazel.env("MY_PAT", "ghp_custom");
    let answer = bazel
        .get("https://github.com/o/r/archive/v1.tar.gz")
        .success();
    assert_eq!(answer.header("Authorization"), Some("Bearer ghp_custom"));
}

#[test]
fn netrc_answers_basic_for_its_machines() {
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"*","path":"/artifacts/*","helper":"netrc"}]}"#);
    bazel.write(
        "home/.netrc",
        "machine files.corp.example\n  login alice\n  password \"p a s s\"\n\nmachine other.example login bob password x\n",
    );
    let answer = bazel
        .get("https://files.corp.example/artifacts/a.tgz")
        .success();
    assert_eq!(
        answer.header("Authorization").unwrap(),
        format!("Basic {}", b64("alice:p a s s"))
    );
    let none = bazel.get("https://unknown.example/artifacts/a.tgz");
    assert_eq!(none.stdout.trim_end(), r#"{"headers":{}}"#);

    // $NETRC wins over ~/.netrc, and `default` covers everything else.
    let other = bazel.write("elsewhere/netrc", "default login anon password guest\n");
    bazel.env("NETRC", &other);
    let answer = bazel
        .get("https://unknown.example/artifacts/a.tgz")
        .success();
    assert_eq!(
        answer.header("Authorization").unwrap(),
        format!("Basic {}", b64("anon:guest"))
    );

    bazel.write(
        "elsewhere/netrc",
        "machine a.example password secret-pw bogus\n",
    );
    let err = bazel.get("https://a.example/artifacts/x").failure();
    assert!(
        err.contains("not a valid netrc file") && err.contains("line 1"),
        "{err}"
    );
    assert!(!err.contains("secret-pw"), "{err}");
}

#[test]
fn buildbuddy_preset_for_grpc_and_bes() {
    let mut bazel = Bazel::new();
    for uri in [
        "https://remote.buildbuddy.io/build.bazel.remote.execution.v2.Execution",
        "https://remote.buildbuddy.io/google.devtools.build.v1.PublishBuildEvent",
        "https://remote.buildbuddy.io/google.bytestream.ByteStream",
        "https://acme.buildbuddy.io:443/build.bazel.remote.execution.v2.ContentAddressableStorage",
    ] {
        let out = bazel.get(uri);
        assert_eq!(
            out.stdout.trim_end(),
            r#"{"headers":{}}"#,
            "no key: anonymous: {uri}"
        );
    }
    bazel.env("BUILDBUDDY_API_KEY", "bb-key");
    let answer = bazel
        .get("https://remote.buildbuddy.io/google.devtools.build.v1.PublishBuildEvent")
        .success();
    assert_eq!(answer.headers.len(), 1);
    assert_eq!(answer.header("x-buildbuddy-api-key"), Some("bb-key"));
}

#[test]
fn any_grpc_endpoint_by_host_with_a_configured_header() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"10.0.0.5:9092","helper":"header","config":{"header_name":"authorization","prefix":"Bearer ","lookup_chain":[{"source":"env","name":"RBE_TOKEN"}]}},
                    {"host":"bes.example.com","helper":"header","config":{"header_name":"x-api-key","required":false,"lookup_chain":[{"source":"env","name":"BES_KEY"}]}}]}"#,
    );
    bazel.env("RBE_TOKEN", "rbe");
    let rbe = bazel
        .get("https://10.0.0.5:9092/build.bazel.remote.execution.v2.Capabilities")
        .success();
    assert_eq!(rbe.header("authorization"), Some("Bearer rbe"));
    let bes = bazel.get("https://bes.example.com/google.devtools.build.v1.PublishBuildEvent");
    assert_eq!(
        bes.stdout.trim_end(),
        r#"{"headers":{}}"#,
        "optional and missing"
    );
}

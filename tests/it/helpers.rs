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

/// A fake gh that logs its arguments to `home/gh-runs` and answers `auth token` with `answer`
/// (a shell snippet).
fn fake_gh(bazel: &Bazel, answer: &str) {
    bazel.script(
        "gh",
        &format!(
            "echo \"$*\" >> \"$HOME/gh-runs\"\n\
             [ \"$*\" = \"auth token --hostname github.com\" ] || exit 2\n{answer}"
        ),
    );
}

fn gh_runs(bazel: &Bazel) -> usize {
    std::fs::read_to_string(bazel.home().join("gh-runs"))
        .unwrap_or_default()
        .lines()
        .count()
}

const ARCHIVE: &str = "https://github.com/o/r/archive/v1.tar.gz";

#[test]
fn github_token_from_gh_auth_token_when_hosts_yml_has_none() {
    let mut bazel = Bazel::new();
    fake_gh(&bazel, "echo gho_from_keychain");
    // No hosts.yml at all (a fresh gh that keeps its token in the keychain).
    let answer = bazel.get(ARCHIVE).success();
    assert_eq!(
        answer.header("Authorization"),
        Some("Bearer gho_from_keychain")
    );
    assert_eq!(gh_runs(&bazel), 1);

    // gh 2.24+ on macOS: hosts.yml names the user, the Keychain holds the token.
    bazel.write(
        "home/.config/gh/hosts.yml",
        "github.com:\n    users:\n        octo:\n    git_protocol: https\n    user: octo\n",
    );
    let answer = bazel.get(ARCHIVE).success();
    assert_eq!(
        answer.header("Authorization"),
        Some("Bearer gho_from_keychain")
    );
    assert_eq!(gh_runs(&bazel), 2);
    let raw = bazel
        .get("https://raw.githubusercontent.com/o/r/main/BUILD")
        .success();
    assert_eq!(
        raw.header("Authorization").unwrap(),
        format!("Basic {}", b64("gho_from_keychain:"))
    );
    assert_eq!(gh_runs(&bazel), 3);

    // A token in hosts.yml, or in the environment, wins without running gh.
    bazel.write(
        "home/.config/gh/hosts.yml",
        "github.com:\n    user: octo\n    oauth_token: gho_from_file\n",
    );
    let answer = bazel.get(ARCHIVE).success();
    assert_eq!(answer.header("Authorization"), Some("Bearer gho_from_file"));
    std::fs::remove_file(bazel.home().join(".config/gh/hosts.yml")).unwrap();
    bazel.env("GH_TOKEN", "gho_env");
    let answer = bazel.get(ARCHIVE).success();
    assert_eq!(answer.header("Authorization"), Some("Bearer gho_env"));
    assert_eq!(gh_runs(&bazel), 3);
    bazel.env_remove("GH_TOKEN");

    // A broken hosts.yml is an error of its own; gh is not asked to paper over it.
    bazel
        .config(r#"{"urls":[{"host":"github.com","helper":"github","config":{"required":true}}]}"#);
    bazel.write("home/.config/gh/hosts.yml", "github.com: [unclosed\n");
    let err = bazel.get(ARCHIVE).failure();
    assert!(err.contains("not valid gh hosts.yml"), "{err}");
    assert_eq!(gh_runs(&bazel), 3);
    std::fs::remove_file(bazel.home().join(".config/gh/hosts.yml")).unwrap();

    // `parse_gh_config: false` turns gh off altogether.
    bazel.config(
        r#"{"urls":[{"host":"github.com","helper":"github","config":{"parse_gh_config":false}}]}"#,
    );
    let out = bazel.get(ARCHIVE);
    assert_eq!(out.stdout.trim_end(), r#"{"headers":{}}"#, "{out}");
    assert_eq!(gh_runs(&bazel), 3);

    // gh's config directory is GH_CONFIG_DIR when set; gh is still asked when it has no token.
    bazel.config(r#"{"urls":[{"host":"github.com","helper":"github"}]}"#);
    bazel.write(
        "home/gh-elsewhere/hosts.yml",
        "github.com:\n    user: octo\n",
    );
    bazel.env("GH_CONFIG_DIR", "~/gh-elsewhere");
    let answer = bazel.get(ARCHIVE).success();
    assert_eq!(
        answer.header("Authorization"),
        Some("Bearer gho_from_keychain")
    );
    assert_eq!(gh_runs(&bazel), 4);
}

#[test]
fn a_logged_out_or_failing_gh_is_no_token_and_never_quoted() {
    const CANARY: &str = "CANARY-gh-7f3a-do-not-print";
    let mut bazel = Bazel::new();
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    for answer in [
        // Logged out: gh's own message on stderr, exit 1.
        format!("echo \"no oauth token found for github.com {CANARY}\" >&2\nexit 1"),
        // A failure after printing something.
        format!("echo {CANARY}\necho \"token: {CANARY}\" >&2\nexit 3"),
        // Success, but not a token.
        format!("echo \"two words {CANARY}\""),
        "exit 0".to_string(),
    ] {
        fake_gh(&bazel, &answer);
        bazel.config(r#"{"urls":[{"host":"github.com","helper":"github"}]}"#);
        let out = bazel.get(ARCHIVE);
        assert_eq!(
            out.stdout.trim_end(),
            r#"{"headers":{}}"#,
            "{answer}: {out}"
        );
        assert!(out.stderr.contains("gh auth token"), "{answer}: {out}");
        assert!(!out.stderr.contains(CANARY), "{answer}: {out}");

        bazel.config(
            r#"{"urls":[{"host":"github.com","helper":"github","config":{"required":true}}]}"#,
        );
        bazel.env_remove("CREDENTIAL_HELPER_LOG");
        let out = bazel.get(ARCHIVE);
        bazel.env("CREDENTIAL_HELPER_LOG", "debug");
        let err = out.failure();
        assert!(err.contains("no GitHub token found"), "{answer}: {err}");
        assert!(
            !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
            "{answer}: {out}"
        );
    }
    assert_eq!(gh_runs(&bazel), 8);
}

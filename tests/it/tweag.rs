//! Configs written for tweag/credential-helper: its file name and the examples from its own
//! documentation (fixtures/tweag/, with where each came from), answered as tweag answers them.

use crate::support::{Bazel, b64};

const README: &str = include_str!("fixtures/tweag/readme.json");
const BUILDBUDDY: &str = include_str!("fixtures/tweag/remoteapis-buildbuddy.json");
const BUILDBARN: &str = include_str!("fixtures/tweag/remoteapis-buildbarn.json");
const BAZEL_REMOTE: &str = include_str!("fixtures/tweag/remoteapis-bazel-remote.json");

const TWEAG_FILE: &str = "workspace/.tweag-credential-helper.json";

/// A gRPC call's URL as Bazel hands it to a helper for a remote cache.
const CAS: &str =
    "https://bazel-remote.acme.com/build.bazel.remote.execution.v2.ContentAddressableStorage";

#[test]
fn readme_example_is_read_from_tweags_file_name() {
    let mut bazel = Bazel::new();
    bazel.write(TWEAG_FILE, README);
    let check = bazel.run(&["check-config"], None);
    let out = check.ok();
    assert!(
        out.contains(".tweag-credential-helper.json: ok (4 entries)"),
        "{out}"
    );
    assert!(out.contains("tweag/credential-helper's file"), "{out}");

    // remoteapis with basic_auth: `Basic base64(secret)`, as tweag sends it to bazel-remote.
    bazel.env("CREDENTIAL_HELPER_REMOTEAPIS_SECRET", "alice:s3cret");
    let answer = bazel.get(CAS).success();
    let basic = format!("Basic {}", b64("alice:s3cret"));
    assert_eq!(answer.header("Authorization"), Some(basic.as_str()));

    let explain = bazel.run(&["explain", CAS], None);
    let trail = explain.ok();
    assert!(
        trail.contains("written as tweag's \"remoteapis\""),
        "{trail}"
    );
    assert!(trail.contains(".tweag-credential-helper.json"), "{trail}");
    assert!(
        !trail.contains("s3cret") && !trail.contains(&b64("alice:s3cret")),
        "{trail}"
    );
}

#[test]
fn readme_example_github_and_s3_entries() {
    let mut bazel = Bazel::new();
    bazel.write(TWEAG_FILE, README);
    // `read_config_file: false`: gh's hosts.yml is not read, the environment is.
    bazel.write(
        "home/.config/gh/hosts.yml",
        "github.com:\n    oauth_token: gho_from_hosts_file\n",
    );
    let tarball = "https://github.com/tweag/rules_nixpkgs/archive/v1.tar.gz";
    let anonymous = bazel.get(tarball);
    assert_eq!(
        anonymous.stdout.trim_end(),
        r#"{"headers":{}}"#,
        "{anonymous}"
    );
    bazel.env("GH_TOKEN", "gho_env");
    assert_eq!(
        bazel.get(tarball).success().header("Authorization"),
        Some("Bearer gho_env")
    );
    // Outside /tweag/* no entry matches, and the file replaces the defaults.
    let other = bazel.get("https://github.com/other/repo/archive/v1.tar.gz");
    assert_eq!(other.stdout.trim_end(), r#"{"headers":{}}"#, "{other}");

    // s3 on a custom host, region from the entry, only for *.tar.gz.
    bazel.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE").env(
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    );
    let signed = bazel
        .get("https://files.acme.corp/releases/tool-1.0.tar.gz")
        .success();
    let auth = signed.header("Authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/us-east-1/s3/aws4_request"),
        "{auth}"
    );
    let zip = bazel.get("https://files.acme.corp/releases/tool-1.0.zip");
    assert_eq!(zip.stdout.trim_end(), r#"{"headers":{}}"#, "{zip}");
}

#[test]
fn remoteapis_examples_from_tweags_docs() {
    let mut bazel = Bazel::new();
    bazel.write(TWEAG_FILE, BUILDBUDDY);
    bazel.run(&["check-config"], None).ok();
    bazel.env("BUILDBUDDY_API_KEY", "bb-key");
    let answer = bazel
        .get("https://buildbuddy.acme.com/build.bazel.remote.execution.v2.Execution")
        .success();
    assert_eq!(answer.header("x-buildbuddy-api-key"), Some("bb-key"));

    bazel.write(TWEAG_FILE, BAZEL_REMOTE);
    bazel.run(&["check-config"], None).ok();
    bazel.env("CREDENTIAL_HELPER_REMOTEAPIS_SECRET", "u:p");
    let basic = format!("Basic {}", b64("u:p"));
    assert_eq!(
        bazel.get(CAS).success().header("Authorization"),
        Some(basic.as_str())
    );

    // BuildBarn's example ends its chain with tweag's `google` source: no equivalent here,
    // and check-config says so for that source, nothing else.
    bazel.write(TWEAG_FILE, BUILDBARN);
    let check = bazel.run(&["check-config"], None);
    assert_eq!(check.status, Some(1), "{check}");
    assert!(
        check
            .stdout
            .contains("): config: lookup_chain[2]: the \"google\" source of tweag/credential-helper has no equivalent here"),
        "{check}"
    );
    assert!(check.stdout.contains("1 problem(s) found"), "{check}");
    let err = bazel
        .get("https://buildbarn.acme.com/build.bazel.remote.execution.v2.Execution")
        .failure();
    assert!(
        err.contains("\"google\" source") && err.contains("check-config"),
        "{err}"
    );
}

#[test]
fn remoteapis_defaults_follow_tweag() {
    let mut bazel = Bazel::new();
    // No config: tweag's per-service defaults (BuildBuddy's header and variable).
    bazel.write(
        TWEAG_FILE,
        r#"{"urls":[{"host":"*.buildbuddy.io","helper":"remoteapis"},{"host":"cache.acme.com","helper":"remoteapis","config":{"header_name":"x-api-key"}}]}"#,
    );
    bazel
        .env("BUILDBUDDY_API_KEY", "bb")
        .env("CREDENTIAL_HELPER_REMOTEAPIS_SECRET", "plain");
    let bb = bazel
        .get("https://remote.buildbuddy.io/build.bazel.remote.execution.v2.Execution")
        .success();
    assert_eq!(bb.header("x-buildbuddy-api-key"), Some("bb"));
    let cache = bazel
        .get("https://cache.acme.com/build.bazel.remote.execution.v2.ActionCache")
        .success();
    assert_eq!(cache.header("x-api-key"), Some("plain"));

    // auth_method "header" with no header_name is an error in tweag too; an unknown method
    // names the two it has.
    bazel.write(
        TWEAG_FILE,
        r#"{"urls":[{"host":"a.acme.com","helper":"remoteapis"},{"host":"b.acme.com","helper":"remoteapis","config":{"auth_method":"mtls","header_name":"x"}}]}"#,
    );
    let check = bazel.run(&["check-config"], None);
    assert!(
        check
            .stdout
            .contains("entry 0 (host \"a.acme.com\"): config: header_name: missing"),
        "{check}"
    );
    assert!(
        check
            .stdout
            .contains("entry 1 (host \"b.acme.com\"): config: auth_method: must be \"header\" or \"basic_auth\""),
        "{check}"
    );
}

#[test]
fn tweag_names_in_our_file_and_which_file_wins() {
    let mut bazel = Bazel::new();
    // tweag's static source keeps its value in "name"; azstorage is azblob; s3 bindings.
    bazel.write(
        "workspace/.credential-helper.json",
        r#"{"urls":[
          {"host":"cache.acme.com","helper":"remoteapis","config":{"header_name":"x-k","lookup_chain":[{"source":"static","name":"static-k"}]}},
          {"host":"*.blob.core.windows.net","helper":"azstorage"},
          {"host":"files.acme.corp","helper":"s3","config":{"region":"eu-west-1","lookup_chain":[
            {"source":"env","name":"K_ID","binding":"aws-access-key-id"},
            {"source":"env","name":"K_SECRET","binding":"aws-secret-access-key"}]}}]}"#,
    );
    bazel.write(
        TWEAG_FILE,
        r#"{"urls":[{"host":"cache.acme.com","helper":"remoteapis","config":{"header_name":"x-k","lookup_chain":[{"source":"static","name":"from-tweag-file"}]}}]}"#,
    );
    // Ours wins when both exist.
    let answer = bazel.get("https://cache.acme.com/ac/1").success();
    assert_eq!(answer.header("x-k"), Some("static-k"));
    let check = bazel.run(&["check-config"], None);
    assert!(
        check
            .ok()
            .contains("/.credential-helper.json: ok (3 entries)"),
        "{check}"
    );
    assert!(
        !check.stdout.contains("tweag/credential-helper's file"),
        "{check}"
    );

    bazel.env("K_ID", "AKIDEXAMPLE").env("K_SECRET", "secret");
    let signed = bazel.get("https://files.acme.corp/x.tar.gz").success();
    assert!(
        signed
            .header("Authorization")
            .unwrap()
            .contains("AKIDEXAMPLE/"),
        "{signed:?}"
    );
    let explain = bazel.run(
        &[
            "explain",
            "https://x.blob.core.windows.net/c/b?sv=2022-11-02&sig=abc",
        ],
        None,
    );
    let trail = explain.ok();
    assert!(
        trail.contains("helper \"azblob\", written as tweag's \"azstorage\""),
        "{trail}"
    );

    // The variable both tools read wins over either file.
    let elsewhere = bazel.write(
        "elsewhere.json",
        r#"{"urls":[{"host":"cache.acme.com","helper":"header","config":{"header_name":"x-k","lookup_chain":[{"source":"static","value":"from-variable"}]}}]}"#,
    );
    bazel.env("CREDENTIAL_HELPER_CONFIG_FILE", &elsewhere);
    let answer = bazel.get("https://cache.acme.com/ac/1").success();
    assert_eq!(answer.header("x-k"), Some("from-variable"));
}

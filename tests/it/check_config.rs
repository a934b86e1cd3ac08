//! `check-config` reports every problem, entries that can never match among them, in one
//! style; `explain` and `check-config` find the workspace's config from a subdirectory.

use std::io::Write;

use crate::support::{Answer, Bazel};

/// Runs the binary in `dir` (a subdirectory of the workspace), as a person would, with
/// `stdin` as its input.
fn run_in(bazel: &Bazel, dir: &std::path::Path, args: &[&str], stdin: &str) -> Answer {
    let mut child = bazel.command(args).current_dir(dir).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Answer::from_output(args, child.wait_with_output().unwrap())
}

#[test]
fn entries_that_can_never_match_are_errors_with_their_fix() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[
            {"scheme":"HTTPS","host":"a.example","helper":"null"},
            {"host":"https://b.example","helper":"null"},
            {"host":"x.com/","helper":"null"},
            {"host":"c.example","path":"v2/*","helper":"null"},
            {"scheme":"https","host":"d.example:443","helper":"null"},
            {"host":"e.example:443","helper":"null"},
            {"host":"Fine.Example","path":"/v2/*","helper":"null"}
        ]}"#,
    );
    let file = bazel.workspace().join(".credential-helper.json");
    let file = file.display();
    let out = bazel.run(&["check-config"], None);
    assert_eq!(out.status, Some(1), "{out}");
    for want in [
        format!(
            "{file}: entry 0 (scheme \"HTTPS\", host \"a.example\"): scheme: never matches: URL schemes are compared in lowercase (write \"https\")"
        ),
        format!(
            "{file}: entry 1 (host \"https://b.example\"): host: never matches: a host pattern has no scheme (write \"scheme\": \"https\", \"host\": \"b.example\")"
        ),
        format!(
            "{file}: entry 2 (host \"x.com/\"): host: never matches: a host pattern has no path (write \"host\": \"x.com\", \"path\": \"/*\")"
        ),
        format!(
            "{file}: entry 3 (host \"c.example\", path \"v2/*\"): path: never matches: a URL path starts with / (write \"/v2/*\")"
        ),
        format!(
            "{file}: entry 4 (scheme \"https\", host \"d.example:443\"): host: never matches: https URLs drop their default port 443"
        ),
        format!(
            "warning: {file}: entry 5 (host \"e.example:443\"): host: matches only http://e.example:443/ URLs: https URLs drop their default port 443"
        ),
        "5 problem(s) found".to_string(),
        "1 warning(s)".to_string(),
    ] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(&want)),
            "missing {want:?}\n{out}"
        );
    }
    assert!(!out.stdout.contains("entry 6"), "{out}");
    // `get` still routes by the entries that can match.
    assert!(
        bazel
            .get("https://fine.example/v2/x")
            .success()
            .headers
            .is_empty()
    );
}

#[test]
fn every_problem_of_every_entry_is_reported_with_did_you_mean() {
    let mut bazel = Bazel::new();
    bazel.bad_config(
        r#"{"url":[],"urls":[
            {"hots":"a.example","helper":"oic"},
            {"host":"b.example","helper":"oci","config":{"insecur":true,"lookup_chain":"x","token_exchange_method":"gte"}},
            {"host":"c.example","helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"evn","name":"K"}]}}
        ]}"#,
    );
    let out = bazel.run(&["check-config"], None);
    assert_eq!(out.status, Some(1), "{out}");
    for want in [
        ": url: unknown field (did you mean `urls`? expected one of: urls, defaults, $schema)",
        ": entry 0 (every URL): hots: unknown field (did you mean `host`? expected one of: scheme, host, path, helper, config)",
        ": entry 0 (every URL): helper: unknown helper (did you mean `oci`? one of:",
        ": entry 1 (host \"b.example\"): config: insecur: unknown field (did you mean `insecure`? expected one of:",
        ": entry 1 (host \"b.example\"): config: lookup_chain: invalid type: a string, expected a sequence",
        ": entry 1 (host \"b.example\"): config: token_exchange_method: unknown variant, expected one of",
        ": entry 2 (host \"c.example\"): config: lookup_chain: unknown variant, expected one of `env`",
        "(did you mean `env`?)",
        "7 problem(s) found",
    ] {
        assert!(out.stdout.contains(want), "missing {want:?}\n{out}");
    }
    // `get` reports the first, and says where to see them all.
    let err = bazel.get("https://c.example/x").failure();
    assert!(
        err.contains("url: unknown field") && err.contains("check-config"),
        "{err}"
    );
}

#[test]
fn environment_keychain_typos_are_warnings_with_did_you_mean() {
    let mut bazel = Bazel::new();
    bazel
        .config(r#"{"urls":[{"host":"a.example","helper":"null"}]}"#)
        .env("IMGPKG_REGISTRY_HOSTNAME_1", "reg.example")
        .env("IMGPKG_REGISTRY_USERNMAE_1", "u")
        .env("IMGPKG_REGISTRY_PASSWORD_1", "keychain-canary")
        .env("IMGPKG_REGISTRY_HOSTNAME_2", "other.example");
    let out = bazel.run(&["check-config"], None);
    assert_eq!(out.status, Some(0), "warnings alone pass: {out}");
    for want in [
        "warning: environment: IMGPKG_REGISTRY_USERNMAE_1: not a variable the environment keychain reads",
        "(did you mean `IMGPKG_REGISTRY_USERNAME_1`?",
        "warning: environment: IMGPKG_REGISTRY_HOSTNAME_1: names a registry but no credential for it",
        "warning: environment: IMGPKG_REGISTRY_HOSTNAME_2: names a registry but no credential for it, so lookups for it fail (set IMGPKG_REGISTRY_USERNAME_2 and IMGPKG_REGISTRY_PASSWORD_2, or",
        "3 environment warning(s)",
        ": ok (1 entries)",
    ] {
        assert!(out.stdout.contains(want), "missing {want:?}\n{out}");
    }
    assert!(!out.stdout.contains("canary"), "{out}");
}

#[test]
fn a_keyring_source_is_checked_against_this_build() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"a.example","helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"keyring","service":"s"}]}}]}"#,
    );
    let out = bazel.run(&["check-config"], None);
    let version = bazel.run(&["--version"], None);
    // The binary under test may be built either way (CI runs the suite with `--features keyring`).
    if version.ok().contains("keyring") {
        assert_eq!(out.status, Some(0), "{out}");
    } else {
        assert_eq!(out.status, Some(1), "{out}");
        assert!(
            out.stdout.contains(": entry 0 (host \"a.example\"): config.lookup_chain[0]: a keyring source, but keyring support is not built into this binary (rebuild with"),
            "{out}"
        );
    }
}

#[test]
fn explain_and_check_config_use_the_workspace_config_from_a_subdirectory() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"file","path":"%workspace%/key.txt"}]}}]}"#,
    );
    bazel.write("workspace/key.txt", "from-the-root");
    let root = bazel.workspace();
    let sub = root.join("pkg/sub");
    std::fs::create_dir_all(&sub).unwrap();
    let file = root.join(".credential-helper.json");

    // Without a marker the working directory is the root, as before: no config there.
    let out = run_in(&bazel, &sub, &["check-config"], "");
    assert!(out.stdout.contains("no config file"), "{out}");

    for marker in ["MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel"] {
        let made = bazel.write(format!("workspace/{marker}"), "");
        let out = run_in(&bazel, &sub, &["check-config"], "");
        assert_eq!(out.status, Some(0), "{marker}: {out}");
        assert!(
            out.stdout.contains(&format!(
                "workspace root: {} (Bazel runs the helper there)",
                root.display()
            )) && out
                .stdout
                .contains(&format!("{}: ok (1 entries)", file.display())),
            "{marker}: {out}"
        );
        let out = run_in(
            &bazel,
            &sub,
            &["explain", "https://cache.example.com/x"],
            "",
        );
        assert_eq!(out.status, Some(0), "{marker}: {out}");
        assert!(
            out.stdout.contains(&format!("config: {}", file.display())),
            "{marker}: {out}"
        );
        assert!(out.stdout.contains("k: <redacted>"), "{marker}: {out}");
        std::fs::remove_file(made).unwrap();
    }

    // `get` keeps using its working directory: Bazel runs it at the root.
    bazel.write("workspace/MODULE.bazel", "");
    let out = run_in(
        &bazel,
        &sub,
        &["get"],
        r#"{"uri":"https://cache.example.com/x"}"#,
    );
    assert_eq!(out.stdout.trim(), r#"{"headers":{}}"#, "{out}");
}

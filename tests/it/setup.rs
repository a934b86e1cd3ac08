//! `credential-helper setup` through the binary, on a machine made of a fake HOME: a docker
//! config with credHelpers and auths, gh's hosts.yml, a gcloud ADC file, ~/.aws and imgpkg
//! variables. Registries are local stand-ins; everything else goes to a dead local proxy, so
//! nothing leaves the machine.

use std::path::Path;

use crate::support::http_server::{Response, TestServer};
use crate::support::{Answer, Bazel, b64};

/// Every secret the fake machine holds; none may appear in any output or written file.
const SECRETS: &[&str] = &[
    "helper-secret-1",
    "docker-auth-secret-2",
    "imgpkg-secret-3",
    "gho_secret_4",
    "adc-refresh-secret-5",
    "aws-secret-6",
];

const LINES: &[&str] = &[
    "common --enable_platform_specific_config",
    "common:linux --credential_helper=%workspace%/tools/credential-helper",
    "common:macos --credential_helper=%workspace%/tools/credential-helper",
    "common:windows --credential_helper=%workspace%/tools/credential-helper.exe",
    "common --repo_env=OCI_GET_TOKEN_ALLOW_FAIL=1",
];

/// A registry whose `/v2/` asks for Basic auth.
fn basic_registry() -> TestServer {
    TestServer::start(|req| {
        if req.path_only() == "/v2/" {
            Response::new(401).header("WWW-Authenticate", r#"Basic realm="fake""#)
        } else {
            Response::new(404)
        }
    })
}

struct Machine {
    bazel: Bazel,
    /// Named by the docker config's credHelpers.
    helper_registry: TestServer,
    /// Named by IMGPKG_REGISTRY_HOSTNAME_1.
    imgpkg_registry: TestServer,
}

fn machine() -> Machine {
    let helper_registry = basic_registry();
    let imgpkg_registry = basic_registry();
    let mut bazel = Bazel::new();
    let helper_host = helper_registry.addr().to_string();
    bazel.write("workspace/MODULE.bazel", "module(name = \"app\")\n");
    bazel.write(
        "home/.docker/config.json",
        serde_json::json!({
            "auths": {"https://index.docker.io/v1/": {"auth": b64("bob:docker-auth-secret-2")}},
            "credHelpers": {helper_host.clone(): "fake", "registry.corp.example": "fake"},
        })
        .to_string(),
    );
    bazel.script(
        "docker-credential-fake",
        r#"read url; echo "{\"ServerURL\":\"$url\",\"Username\":\"alice\",\"Secret\":\"helper-secret-1\"}""#,
    );
    bazel.write(
        "home/.config/gh/hosts.yml",
        "github.com:\n    user: octo\n    oauth_token: gho_secret_4\n",
    );
    bazel.write(
        "home/.config/gcloud/application_default_credentials.json",
        r#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"adc-refresh-secret-5"}"#,
    );
    bazel.write("home/.aws/config", "[default]\nregion = eu-west-1\n");
    bazel.write(
        "home/.aws/credentials",
        "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = aws-secret-6\n",
    );
    bazel
        .env(
            "IMGPKG_REGISTRY_HOSTNAME_1",
            imgpkg_registry.addr().to_string(),
        )
        .env("IMGPKG_REGISTRY_USERNAME_1", "carol")
        .env("IMGPKG_REGISTRY_PASSWORD_1", "imgpkg-secret-3")
        // Docker Hub and registry.corp.example: a dead local proxy, never the internet.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("CREDENTIAL_HELPER_CACHE", "off");
    Machine {
        bazel,
        helper_registry,
        imgpkg_registry,
    }
}

/// No secret (nor Docker's base64 form of one) in the output or in any workspace file.
fn assert_no_secret(bazel: &Bazel, answer: &Answer) {
    let mut texts = vec![answer.stdout.clone(), answer.stderr.clone()];
    for entry in std::fs::read_dir(bazel.workspace()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            texts.push(std::fs::read_to_string(&path).unwrap());
        }
    }
    for secret in SECRETS {
        for text in &texts {
            assert!(!text.contains(secret), "{secret} leaked\n{answer}");
            assert!(!text.contains(&b64(&format!("bob:{secret}"))), "{answer}");
            assert!(!text.contains(&b64(&format!("alice:{secret}"))), "{answer}");
        }
    }
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

#[test]
fn dry_run_prints_the_lines_and_a_starter_config_and_writes_nothing() {
    let m = machine();
    let answer = m.bazel.run(&["setup", "--dry-run"], None);
    let out = answer.ok();
    for line in LINES {
        assert!(out.contains(&format!("  {line}\n")), "{line}\n{answer}");
    }
    assert!(out.contains(".bazelrc: would add 5 lines"), "{answer}");
    let helper_host = m.helper_registry.addr().to_string();
    let imgpkg_host = m.imgpkg_registry.addr().to_string();
    // Entries for the registries the defaults do not route; not Hub, not the keychain's.
    assert!(out.contains("config: would write"), "{answer}");
    assert!(
        out.contains(&format!(
            "{{\"host\": \"{helper_host}\", \"helper\": \"oci\"}}"
        )),
        "{answer}"
    );
    assert!(
        out.contains("{\"host\": \"registry.corp.example\", \"helper\": \"oci\"}"),
        "{answer}"
    );
    assert!(!out.contains("{\"host\": \"index.docker.io\""), "{answer}");
    assert!(
        !out.contains(&format!("{{\"host\": \"{imgpkg_host}\"")),
        "{answer}"
    );
    assert!(out.contains("\"defaults\": \"extend\""), "{answer}");
    for found in [
        "found: docker config ",
        "credHelpers docker-credential-fake for",
        "found: environment keychain IMGPKG_REGISTRY_HOSTNAME_1",
        "found: gh CLI login ",
        "found: Google application default credentials ",
        "found: AWS file ",
    ] {
        assert!(out.contains(found), "{found}\n{answer}");
    }
    assert!(out.contains("dry run: nothing written"), "{answer}");
    // One explanation per registry found, with the credential redacted.
    for host in [
        helper_host.as_str(),
        imgpkg_host.as_str(),
        "index.docker.io",
        "registry.corp.example",
    ] {
        assert!(out.contains(&format!("://{host}/v2/")), "{host}\n{answer}");
    }
    assert!(
        out.contains(
            "credential: username/password from environment keychain IMGPKG_REGISTRY_PASSWORD_1"
        ),
        "{answer}"
    );
    assert!(out.contains("Authorization: Basic <redacted>"), "{answer}");
    assert!(read(m.bazel.workspace().join(".bazelrc")).is_none());
    assert!(read(m.bazel.workspace().join(".credential-helper.json")).is_none());
    assert_no_secret(&m.bazel, &answer);
}

#[test]
fn writes_from_a_subdirectory_then_a_second_run_changes_nothing() {
    let m = machine();
    let sub = m.bazel.workspace().join("pkg/sub");
    std::fs::create_dir_all(&sub).unwrap();
    m.bazel.write("workspace/.bazelrc", "build --jobs=4");
    let run = || {
        let out = m
            .bazel
            .command(&["setup"])
            .current_dir(&sub)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let answer = Answer::from_output(&["setup"], out);
        answer.ok();
        answer
    };
    let first = run();
    assert!(first.stdout.contains(".bazelrc: added 5 lines"), "{first}");
    assert!(
        first
            .stdout
            .contains("changed: .bazelrc, .credential-helper.json"),
        "{first}"
    );
    let bazelrc = read(m.bazel.workspace().join(".bazelrc")).unwrap();
    assert!(bazelrc.starts_with("build --jobs=4\n"), "{bazelrc}");
    let config = read(m.bazel.workspace().join(".credential-helper.json")).unwrap();
    assert!(!sub.join(".bazelrc").exists() && !sub.join(".credential-helper.json").exists());
    assert_no_secret(&m.bazel, &first);

    // The written config routes the credHelpers registry: `get` answers from the helper.
    m.bazel.run(&["check-config"], None).ok();
    let uri = format!(
        "http://{}/v2/team/app/manifests/v1",
        m.helper_registry.addr()
    );
    let answer = m.bazel.get(&uri).success();
    let basic = format!("Basic {}", b64("alice:helper-secret-1"));
    assert_eq!(answer.header("Authorization"), Some(basic.as_str()));
    // And the explanation after writing says so, redacted.
    assert!(
        first.stdout.contains("result: `get` would succeed"),
        "{first}"
    );

    let second = run();
    assert!(
        second
            .stdout
            .contains(".bazelrc: has the credential-helper lines already, unchanged"),
        "{second}"
    );
    assert!(
        second
            .stdout
            .contains("routes every registry found, left as it is"),
        "{second}"
    );
    assert!(
        second
            .stdout
            .contains("nothing changed: this workspace is set up already"),
        "{second}"
    );
    assert_eq!(read(m.bazel.workspace().join(".bazelrc")).unwrap(), bazelrc);
    assert_eq!(
        read(m.bazel.workspace().join(".credential-helper.json")).unwrap(),
        config
    );
    for line in LINES {
        assert_eq!(bazelrc.lines().filter(|l| l == line).count(), 1, "{line}");
    }
    assert_no_secret(&m.bazel, &second);
}

#[test]
fn an_existing_config_and_bazelrc_lines_are_kept() {
    let m = machine();
    let own = r#"{"urls":[{"host":"registry.corp.example","helper":"oci"}]}"#;
    m.bazel.write("workspace/.credential-helper.json", own);
    let partial = format!("{}\nbuild --jobs=4\n", LINES[1]);
    m.bazel.write("workspace/.bazelrc", &partial);
    let answer = m.bazel.run(&["setup"], None);
    let out = answer.ok();
    assert_eq!(
        read(m.bazel.workspace().join(".credential-helper.json")).unwrap(),
        own
    );
    assert!(out.contains("left as it is; to route"), "{answer}");
    let helper_host = m.helper_registry.addr().to_string();
    // It replaces the defaults, so Hub and the keychain's registry need entries too.
    for host in [
        helper_host.as_str(),
        "index.docker.io",
        &m.imgpkg_registry.addr().to_string(),
    ] {
        assert!(
            out.contains(&format!("  {{\"host\": \"{host}\", \"helper\": \"oci\"}},")),
            "{host}\n{answer}"
        );
    }
    assert!(
        !out.contains("{\"host\": \"registry.corp.example\""),
        "{answer}"
    );
    assert!(out.contains(".bazelrc: added 4 lines"), "{answer}");
    let bazelrc = read(m.bazel.workspace().join(".bazelrc")).unwrap();
    assert!(bazelrc.starts_with(&partial), "{bazelrc}");
    for line in LINES {
        assert_eq!(
            bazelrc.lines().filter(|l| l == line).count(),
            1,
            "{line}\n{bazelrc}"
        );
    }
    assert_no_secret(&m.bazel, &answer);
}

#[test]
fn defaults_covering_everything_write_no_config() {
    let mut bazel = Bazel::new();
    bazel.write("workspace/WORKSPACE.bazel", "");
    bazel.write(
        "home/.docker/config.json",
        r#"{"auths":{"ghcr.io":{},"quay.io":{}},"credsStore":"desktop"}"#,
    );
    bazel
        .env("GH_TOKEN", "gho_secret_4")
        .env("HTTPS_PROXY", "http://127.0.0.1:9");
    let answer = bazel.run(&["setup"], None);
    let out = answer.ok();
    assert!(
        out.contains("config: none needed, the built-in defaults route everything found"),
        "{answer}"
    );
    assert!(out.contains("found: GitHub token in GH_TOKEN"), "{answer}");
    assert!(
        out.contains("credsStore docker-credential-desktop"),
        "{answer}"
    );
    assert!(out.contains("changed: .bazelrc\n"), "{answer}");
    assert!(!bazel.workspace().join(".credential-helper.json").exists());
    assert_no_secret(&bazel, &answer);
}

#[test]
fn without_a_workspace_it_fails_with_a_hint() {
    let bazel = Bazel::new();
    let err = bazel.run(&["setup"], None).failure();
    assert!(err.contains("no Bazel workspace at or above"), "{err}");
    assert!(
        err.contains("(run `credential-helper setup` in your workspace"),
        "{err}"
    );
    assert!(!bazel.workspace().join(".bazelrc").exists());
    let usage = bazel.run(&["setup", "--force"], None);
    assert_eq!(usage.status, Some(2), "{usage}");
}

#[test]
fn a_workspace_moving_from_tweag_keeps_its_file_and_is_told_what_to_replace() {
    let mut bazel = Bazel::new();
    bazel.write("workspace/MODULE.bazel", "");
    let tweag = include_str!("fixtures/tweag/readme.json");
    bazel.write("workspace/.tweag-credential-helper.json", tweag);
    // tweag's stub and its README's scoped lines, which point where our launcher goes.
    bazel.write(
        "workspace/tools/credential-helper",
        "#!/usr/bin/env bash\n# ${HOME}/.cache/tweag-credential-helper/bin/credential-helper\n",
    );
    let tweag_line = "common --credential_helper=github.com=%workspace%/tools/credential-helper";
    let other_line = "common --credential_helper=*.corp.example=/opt/other-helper";
    bazel.write(
        "workspace/.bazelrc",
        format!("{tweag_line}\n{other_line}\n"),
    );
    bazel.write(
        "home/.docker/config.json",
        r#"{"auths":{"registry.corp.example":{}}}"#,
    );
    bazel.env("HTTPS_PROXY", "http://127.0.0.1:9");
    let answer = bazel.run(&["setup"], None);
    let out = answer.ok();
    assert!(
        out.contains("tools/credential-helper is tweag/credential-helper's stub"),
        "{answer}"
    );
    assert!(
        out.contains(".tweag-credential-helper.json is tweag/credential-helper's file"),
        "{answer}"
    );
    assert!(
        !bazel.workspace().join(".credential-helper.json").exists(),
        "{answer}"
    );
    assert_eq!(
        read(bazel.workspace().join(".tweag-credential-helper.json")).unwrap(),
        tweag
    );
    // Only the line for another program is worth a note.
    assert!(
        out.contains(&format!("note: .bazelrc also has `{other_line}`")),
        "{answer}"
    );
    assert!(!out.contains(&format!("`{tweag_line}`")), "{answer}");
    assert!(
        out.contains("{\"host\": \"registry.corp.example\", \"helper\": \"oci\"},"),
        "{answer}"
    );
}

//! What the binary says about itself and its failures: `--version`, `CREDENTIAL_HELPER_LOG`
//! values, retries in the debug log, and the "(what to do)" of DNS and docker config errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::http_server::{Response, TestServer, fake_registry};
use crate::support::{Bazel, binary, docker_auths};

/// Whether an ELF file asks for a dynamic loader (has a `PT_INTERP` program header).
fn elf_has_interpreter(bytes: &[u8]) -> bool {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "a 64-bit ELF");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = phoff + i * size;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) == 3
    })
}

#[test]
fn version_says_what_was_built() {
    let out = Bazel::new().run(&["--version"], None);
    let text = out.ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[0],
        format!("credential-helper {}", env!("CARGO_PKG_VERSION"))
    );

    // The commit of this checkout (the binary under test was built from it).
    let commit = lines[1].strip_prefix("commit: ").expect("a commit line");
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(head) => assert!(
            commit == head || commit == format!("{head}-dirty"),
            "{commit} vs HEAD {head}"
        ),
        None => assert_eq!(commit, "unknown"),
    }

    let features = lines[2]
        .strip_prefix("features: ")
        .expect("a features line");
    assert!(
        features == "none"
            || features
                .split(',')
                .all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '-')),
        "{features}"
    );

    // The link mode is the truth about the binary under test: its ELF has an interpreter
    // exactly when it is dynamically linked.
    let link = lines[3].strip_prefix("link: ").expect("a link line");
    let (mode, target) = link.split_once(' ').unwrap();
    assert!(target.contains(std::env::consts::ARCH), "{link}");
    if cfg!(target_os = "linux") {
        let elf = std::fs::read(binary()).unwrap();
        let want = if elf_has_interpreter(&elf) {
            "dynamic"
        } else {
            "static"
        };
        assert_eq!(mode, want, "{link}");
    } else {
        assert!(mode == "static" || mode == "dynamic", "{link}");
    }
}

#[test]
fn log_accepts_debug_in_any_case_and_warns_once_about_an_unknown_value() {
    let uri = "https://cache.example.com/x";
    let config = r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"k","lookup_chain":[{"source":"static","value":"v"}]}}]}"#;
    for (value, debug, warning) in [
        ("debug", true, false),
        ("DEBUG", true, false),
        ("Trace", true, false),
        ("1", true, false),
        ("true", true, false),
        ("off", false, false),
        ("info", false, false),
        ("verbose-canary", false, true),
    ] {
        let mut bazel = Bazel::new();
        bazel.config(config).env("CREDENTIAL_HELPER_LOG", value);
        let out = bazel.get(uri);
        assert_eq!(out.success().header("k"), Some("v"), "{value}");
        let debug_lines = out
            .stderr
            .lines()
            .filter(|l| l.contains(": debug: "))
            .count();
        assert_eq!(debug_lines > 0, debug, "{value}: {out}");
        let warnings: Vec<_> = out
            .stderr
            .lines()
            .filter(|l| l.contains("warning"))
            .collect();
        if warning {
            assert_eq!(warnings.len(), 1, "{out}");
            assert!(
                warnings[0].contains("CREDENTIAL_HELPER_LOG") && warnings[0].contains("`debug`"),
                "{out}"
            );
            assert!(
                !out.stderr.contains("canary"),
                "the value is not quoted: {out}"
            );
        } else {
            assert!(warnings.is_empty(), "{value}: {out}");
        }
    }
}

/// A token endpoint that fails once with 503, then answers.
#[test]
fn the_debug_log_shows_the_retry() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let tokens = TestServer::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Response::new(503)
        } else {
            Response::json(200, &serde_json::json!({"token": "t-after-retry"}))
        }
    });
    let realm = format!("{}/token", tokens.url());
    let registry = fake_registry(realm);
    let mut bazel = Bazel::new();
    bazel
        .config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#)
        .env("CREDENTIAL_HELPER_LOG", "debug")
        .env("CREDENTIAL_HELPER_CACHE", "off");
    let host = registry.url().trim_start_matches("http://").to_string();
    bazel.write("home/.docker/config.json", docker_auths(&host, "u:pw"));
    let out = bazel.get(&format!("{}/v2/team/app/manifests/v1", registry.url()));
    assert_eq!(
        out.success().header("Authorization"),
        Some("Bearer t-after-retry")
    );
    assert_eq!(tokens.count(), 2);
    let retry = format!(
        "retrying GET {}/token once: the first attempt answered HTTP 503",
        tokens.url()
    );
    assert!(out.stderr.contains(&retry), "missing {retry:?}\n{out}");
    assert!(out.stderr.contains("network: 3 request(s)"), "{out}");
}

#[test]
fn a_name_that_does_not_resolve_says_what_to_check() {
    let host = "credential-helper-test.invalid";
    // Only where this machine's resolver answers promptly that the name does not exist.
    let started = std::time::Instant::now();
    let resolves = std::net::ToSocketAddrs::to_socket_addrs(&(host, 443)).is_ok();
    if resolves || started.elapsed() > std::time::Duration::from_secs(2) {
        eprintln!("SKIPPED: this resolver does not fail {host} promptly");
        return;
    }
    let mut bazel = Bazel::new();
    bazel.config(&format!(
        r#"{{"urls":[{{"host":"{host}","helper":"oci"}}]}}"#
    ));
    let err = bazel
        .get(&format!("https://{host}/v2/a/manifests/1"))
        .failure();
    assert!(
        err.contains("the host name does not resolve: check its spelling, your network"),
        "{err}"
    );
}

#[test]
fn a_broken_docker_config_says_what_to_do() {
    let registry =
        TestServer::start(|_| Response::new(401).header("WWW-Authenticate", "Basic realm=\"r\""));
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    let path = bazel.write("home/.docker/config.json", r#"{"auths": {"x": "#);
    let err = bazel
        .get(&format!("{}/v2/team/app/manifests/v1", registry.url()))
        .failure();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(
        err.contains("fix or remove it (`docker login` rewrites it)"),
        "{err}"
    );
}

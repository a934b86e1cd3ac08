//! `credential-helper launcher`: the sh launcher it prints, run as Bazel runs a helper, against
//! a fake release served by a local HTTP server; and the DotSlash file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::http_server::{Response, TestServer};
use crate::support::sigv4::sha256_hex;
use crate::support::{Answer, Bazel, bazel_request, binary};

const VERSION: &str = "0.1.0";

/// The asset the launcher picks on this machine, named as the release workflow names it.
fn asset() -> String {
    let os = match std::env::consts::OS {
        "macos" => "macos",
        _ => "linux",
    };
    format!("credential-helper-{os}-{}", std::env::consts::ARCH)
}

/// Serves `<root>/<path>` as it is on disk when asked (so a test can swap a file), 404 else.
fn serve(root: PathBuf) -> TestServer {
    TestServer::start(move |request| {
        match std::fs::read(root.join(request.path_only().trim_start_matches('/'))) {
            Ok(bytes) => Response::new(200).body(bytes),
            Err(_) => Response::text(404, "not found"),
        }
    })
}

/// A `SHA256SUMS` in `release/` listing `digest` for this machine's asset (plus a Windows
/// line, which the sh launcher must leave out).
fn sums(bazel: &Bazel, digest: &str) -> PathBuf {
    let windows = "0".repeat(64);
    bazel.write(
        "release/SHA256SUMS",
        format!(
            "{digest}  {}\n{windows}  credential-helper-windows-x86_64.exe\n",
            asset()
        ),
    )
}

/// The launcher printed by the binary, checked in as `workspace/tools/credential-helper`.
fn launcher(bazel: &Bazel, sums: &Path) -> PathBuf {
    let sums = sums.to_str().unwrap();
    let text = bazel
        .run(
            &[
                "launcher",
                "--version",
                VERSION,
                "--checksums",
                sums,
                "--download-url",
                "https://releases.example.com/credential-helper",
            ],
            None,
        )
        .ok()
        .to_owned();
    assert!(text.starts_with("#!/bin/sh\n"), "{text}");
    assert!(!text.contains("windows"), "{text}");
    // Regenerating takes the same flags, the download location included.
    assert!(
        text.contains(
            "--checksums SHA256SUMS --download-url https://releases.example.com/credential-helper`"
        ),
        "{text}"
    );
    let path = bazel.write("workspace/tools/credential-helper", text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn cache_dir(bazel: &Bazel) -> PathBuf {
    bazel
        .home()
        .join(".cache/credential-helper/bin")
        .join(VERSION)
}

/// The launcher's failure: exit 1, nothing on stdout, one line on stderr with its prefix.
fn launcher_failure(answer: &Answer) -> String {
    assert_eq!(answer.status, Some(1), "{answer}");
    assert!(answer.stdout.is_empty(), "{answer}");
    let line = answer.stderr.strip_suffix('\n').unwrap_or(&answer.stderr);
    assert!(
        line.starts_with("credential-helper launcher: ") && !line.contains('\n'),
        "expected one `credential-helper launcher: ` line\n{answer}"
    );
    line.to_owned()
}

fn files_in(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// First run: one download, verified, cached, exec'd with Bazel's arguments and stdin.
/// Later runs download nothing.
#[test]
fn launcher_downloads_verifies_caches_and_execs() {
    let mut bazel = Bazel::new();
    let real = std::fs::read(binary()).unwrap();
    bazel.write(format!("release/v{VERSION}/{}", asset()), &real);
    let launcher = launcher(&bazel, &sums(&bazel, &sha256_hex(&real)));
    let server = serve(bazel.root().join("release"));
    bazel
        .env("CREDENTIAL_HELPER_DOWNLOAD_URL", server.url())
        // `$HOME/.cache` is the cache without XDG_CACHE_HOME.
        .env_remove("XDG_CACHE_HOME")
        .env("LAUNCHER_CACHE_KEY", "k-123")
        .config(
            r#"{"urls": [{"host": "cache.example.com", "helper": "header",
                "config": {"header_name": "x-api-key",
                           "lookup_chain": [{"source": "env", "name": "LAUNCHER_CACHE_KEY"}]}}]}"#,
        );
    let request = bazel_request("https://cache.example.com/ac/0123");

    let first = bazel.run_program(&launcher, &["get"], Some(&request));
    assert_eq!(
        first.success().header("x-api-key"),
        Some("k-123"),
        "{first}"
    );
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, [format!("/v{VERSION}/{}", asset())]);
    // Cached under its asset name, nothing else left behind (no temp file).
    assert_eq!(files_in(&cache_dir(&bazel)), [asset()]);
    assert_eq!(
        std::fs::read(cache_dir(&bazel).join(asset())).unwrap(),
        real
    );

    let second = bazel.run_program(&launcher, &["get"], Some(&request));
    assert_eq!(
        second.success().header("x-api-key"),
        Some("k-123"),
        "{second}"
    );
    let version = bazel.run_program(&launcher, &["--version"], None);
    assert_eq!(
        version.ok().lines().next(),
        Some(format!("credential-helper {VERSION}").as_str())
    );
    assert_eq!(server.count(), 1, "later runs must not download");
}

/// An asset whose bytes differ from SHA256SUMS is refused, removed and never run.
#[test]
fn launcher_refuses_a_tampered_asset() {
    let mut bazel = Bazel::new();
    let marker = bazel.root().join("tampered-asset-ran");
    let tampered = format!("#!/bin/sh\ntouch {}\n", marker.display());
    bazel.write(format!("release/v{VERSION}/{}", asset()), &tampered);
    let real = std::fs::read(binary()).unwrap();
    let launcher = launcher(&bazel, &sums(&bazel, &sha256_hex(&real)));
    let server = serve(bazel.root().join("release"));
    bazel.env(
        "CREDENTIAL_HELPER_DOWNLOAD_URL",
        format!("{}/", server.url()),
    );
    let request = bazel_request("https://cache.example.com/ac/0123");

    for attempt in 1..=2 {
        let answer = bazel.run_program(&launcher, &["get"], Some(&request));
        let line = launcher_failure(&answer);
        assert!(
            line.contains("checksum mismatch")
                && line.contains(&sha256_hex(&real))
                && line.contains(&sha256_hex(tampered.as_bytes()))
                && line.contains("removed the download"),
            "{line}"
        );
        assert!(files_in(&cache_dir(&bazel)).is_empty(), "{attempt}");
        assert!(!marker.exists(), "the tampered asset ran");
        // Nothing was kept: every attempt downloads again (and is refused again).
        assert_eq!(server.count(), attempt);
    }
}

/// No server, or a release without the asset: one clear line, nothing cached.
#[test]
fn launcher_fails_with_one_line_when_the_download_fails() {
    let mut bazel = Bazel::new();
    let launcher = launcher(&bazel, &sums(&bazel, &"ab".repeat(32)));
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    bazel.env("CREDENTIAL_HELPER_DOWNLOAD_URL", &url);
    let answer = bazel.run_program(&launcher, &["get"], Some("{}"));
    let line = launcher_failure(&answer);
    let expected = format!("cannot download {url}/v{VERSION}/{}: curl: (7)", asset());
    assert!(
        line.starts_with(&format!("credential-helper launcher: {expected}")),
        "{line}"
    );

    let server = serve(bazel.root().join("empty-release"));
    bazel.env("CREDENTIAL_HELPER_DOWNLOAD_URL", server.url());
    let answer = bazel.run_program(&launcher, &["get"], Some("{}"));
    assert!(launcher_failure(&answer).contains("404"), "{answer}");
    assert!(files_in(&cache_dir(&bazel)).is_empty());
}

/// The DotSlash file: every asset of SHA256SUMS with its size from `--assets`, its digest and
/// its URL; an asset that does not match its checksum is refused.
#[test]
fn launcher_dotslash_file_describes_the_release() {
    let bazel = Bazel::new();
    let linux = b"linux binary".as_slice();
    let windows = b"windows binary, longer".as_slice();
    bazel.write("release/credential-helper-linux-aarch64", linux);
    bazel.write("release/credential-helper-windows-x86_64.exe", windows);
    let sums = bazel.write(
        "release/SHA256SUMS",
        format!(
            "{}  credential-helper-linux-aarch64\n{} *credential-helper-windows-x86_64.exe\n{}  notes.txt\n",
            sha256_hex(linux),
            sha256_hex(windows),
            "1".repeat(64)
        ),
    );
    let sums = sums.to_str().unwrap().to_owned();
    let release = bazel.root().join("release").to_str().unwrap().to_owned();
    let mirror = "https://mirror.example.com/ch";
    let run = |extra: &[&str]| {
        let mut args = vec!["launcher", "--version", "v0.2.0", "--checksums", &sums];
        args.extend_from_slice(&["--download-url", mirror]);
        args.extend_from_slice(extra);
        bazel.run(&args, None)
    };
    let dotslash = run(&["--dotslash", "--assets", &release]);
    let text = dotslash.ok();
    let json = text.strip_prefix("#!/usr/bin/env dotslash\n").unwrap();
    let file: serde_json::Value = serde_json::from_str(json).unwrap();
    let entry = |size: usize, bytes: &[u8], asset: &str| {
        serde_json::json!({"size": size, "hash": "sha256", "digest": sha256_hex(bytes),
            "providers": [{"url": format!("{mirror}/v0.2.0/{asset}")}]})
    };
    assert_eq!(
        file,
        serde_json::json!({"name": "credential-helper", "platforms": {
            "linux-aarch64": entry(linux.len(), linux, "credential-helper-linux-aarch64"),
            "windows-x86_64": entry(windows.len(), windows, "credential-helper-windows-x86_64.exe"),
        }})
    );

    // Where releases live is known to release builds only (the workflow names its repository);
    // any other build asks for the URL instead of printing a launcher that points nowhere.
    let default = bazel.run(
        &["launcher", "--version", "v0.2.0", "--checksums", &sums],
        None,
    );
    match option_env!("CREDENTIAL_HELPER_RELEASE_REPOSITORY").filter(|r| !r.is_empty()) {
        None => {
            assert_eq!(default.status, Some(2), "{default}");
            let err = default.failure();
            assert!(
                err.contains("does not know where its releases are published")
                    && err.contains("--download-url"),
                "{err}"
            );
        }
        Some(repo) => {
            let url = format!("https://github.com/{repo}/releases/download");
            assert!(default.ok().contains(&url), "{default}");
        }
    }

    // Without the assets there are no sizes: a usage error, not an invented size.
    assert_eq!(run(&["--dotslash"]).status, Some(2));
    // An asset that is not the file its checksum describes.
    bazel.write("release/credential-helper-linux-aarch64", b"other bytes");
    let refused = run(&["--dotslash", "--assets", &release]);
    assert!(
        refused
            .failure()
            .contains("does not match its SHA256SUMS line"),
        "{refused}"
    );
    // A line that is not sha256sum's format names its line.
    bazel.write(
        "release/SHA256SUMS",
        "deadbeef credential-helper-linux-aarch64\n",
    );
    let bad = run(&[]);
    assert!(bad.failure().contains("line 1 is not"), "{bad}");
}

//! Files on disk are read as regular files of bounded size: a FIFO, a device or a huge file
//! planted where a credential file is expected never hangs a `get` or fills its memory.

use std::time::{Duration, Instant};

use crate::support::Bazel;

fn mkfifo(path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// A failing `get` that ends quickly, naming the path.
fn fails_fast(bazel: &Bazel, uri: &str, path_part: &str) -> String {
    let started = Instant::now();
    let err = bazel.get(uri).failure();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}: {err}");
    assert!(err.contains(path_part), "{err}");
    err
}

#[test]
fn fifos_and_devices_where_credential_files_belong_never_hang() {
    // A lookup-chain file that is a FIFO (a blocking open would wait for a writer forever).
    let mut bazel = Bazel::new();
    mkfifo(&bazel.home().join("key.fifo"));
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"x-api-key","lookup_chain":[{"source":"file","path":"~/key.fifo"}]}}]}"#,
    );
    let err = fails_fast(&bazel, "https://cache.example.com/x", "key.fifo");
    assert!(err.contains("not a regular file"), "{err}");

    // A lookup-chain file that never ends.
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"x-api-key","lookup_chain":[{"source":"file","path":"/dev/zero"}]}}]}"#,
    );
    fails_fast(&bazel, "https://cache.example.com/x", "/dev/zero");

    // docker's config.json as a FIFO: the oci helper reports it instead of waiting.
    let mut bazel = Bazel::new();
    mkfifo(&bazel.home().join(".docker/config.json"));
    bazel.config(r#"{"urls":[{"host":"registry.example.com","helper":"oci"}]}"#);
    fails_fast(
        &bazel,
        "https://registry.example.com/v2/team/app/manifests/v1",
        "config.json",
    );

    // A netrc that is a FIFO.
    let mut bazel = Bazel::new();
    mkfifo(&bazel.home().join(".netrc"));
    bazel.config(r#"{"urls":[{"host":"files.example.com","helper":"netrc"}]}"#);
    fails_fast(&bazel, "https://files.example.com/a.tgz", ".netrc");
}

#[test]
fn oversized_credential_files_are_refused_without_reading_them_whole() {
    let mut bazel = Bazel::new();
    let big = bazel.home().join("big.txt");
    let file = std::fs::File::create(&big).unwrap();
    // Sparse: 64 MiB on paper, nothing on disk.
    file.set_len(64 << 20).unwrap();
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"x-api-key","lookup_chain":[{"source":"file","path":"~/big.txt"}]}}]}"#,
    );
    let err = fails_fast(&bazel, "https://cache.example.com/x", "big.txt");
    assert!(err.contains("larger than 16 MiB"), "{err}");
}

//! The process edge on Linux: nothing asks the user database, so a statically linked binary
//! run as a uid without a passwd entry and without `HOME` (a container started with `--user`)
//! never loads an NSS module, and answers as usual.

use crate::support::Bazel;

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "runs the helper as other uids (Linux, as root)"
)]
fn an_unknown_uid_without_home_gets_its_answer() {
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"cache.example.com","helper":"header","config":{"header_name":"x-api-key","lookup_chain":[{"source":"env","name":"KEY"},{"source":"file","path":"~/key"}]}}]}"#,
    );
    bazel.env("KEY", "from-env");
    bazel.env_remove("HOME");
    bazel.env_remove("XDG_CACHE_HOME");
    bazel.env_remove("XDG_CONFIG_HOME");
    // No passwd entry has this uid.
    bazel.as_user(4646);
    let answer = bazel.get("https://cache.example.com/ac/0123");
    assert_eq!(
        answer.success().header("x-api-key"),
        Some("from-env"),
        "{answer}"
    );
    // A source that needs the home directory is a clear error, not a crash.
    bazel.env_remove("KEY");
    let err = bazel.get("https://cache.example.com/ac/0123").failure();
    assert!(err.contains("x-api-key"), "{err}");
}

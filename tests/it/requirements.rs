//! The suite says what it needs: with the registry server and htpasswd missing, the tests
//! that need them fail, and each missing tool is named once, with what to install.

use std::process::Command;

use crate::support::tools::{MISSING, TOOLS_PATH_VAR};

#[test]
fn a_missing_tool_is_named_once_with_what_to_install() {
    // The run below, of this same binary, finds no tools; it runs only the `oci` module.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["oci::", "--test-threads=2"])
        .env(TOOLS_PATH_VAR, empty.path())
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "the tests that need a tool fail:\n{text}"
    );
    let failed = text.lines().filter(|l| l.ends_with("... FAILED")).count();
    assert!(failed >= 5, "{failed} failed\n{text}");
    let messages: Vec<&str> = text.lines().filter(|l| l.contains(MISSING)).collect();
    assert!(!messages.is_empty(), "{text}");
    for tool in [
        "docker-registry or registry is not on PATH",
        "htpasswd is not on PATH",
    ] {
        let n = messages.iter().filter(|l| l.contains(tool)).count();
        assert!(n <= 1, "{tool}: said {n} times\n{text}");
    }
    assert!(
        messages.iter().all(|l| l.contains("apt-get install")),
        "{messages:?}"
    );
    // Per failed test: its result line and its name in the summary; the rest is a few lines.
    let lines = text.lines().count();
    assert!(
        lines <= 2 * failed + 40,
        "{lines} lines for {failed} failures:\n{text}"
    );
    eprintln!("{failed} tests failed in {lines} lines of output");
}

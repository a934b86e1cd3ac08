//! Links the Linux binary as a fixed-position executable, and records what was built for
//! `--version`.
//!
//! A position-independent executable applies ~17,000 relocations at every start, which is a
//! third of the cost of a `get` answered from a file or the cache (Bazel runs one process per
//! URL). Go-built credential helpers are not position-independent on Linux either. Measured in
//! `bench/README.md`.
//!
//! `scripts/build-release` links statically instead (`crt-static` with the static relocation
//! model), where rustc chooses the right flags itself: `-no-pie` on top of a static-pie link
//! would produce a binary that crashes at start.
use std::path::Path;
use std::process::Command;

/// Set by the release workflow (or a packager) when the source has no git checkout.
const COMMIT_VAR: &str = "CREDENTIAL_HELPER_BUILD_COMMIT";
/// Set by the release workflow to `owner/name`: where `launcher` points generated launchers.
const REPOSITORY_VAR: &str = "CREDENTIAL_HELPER_RELEASE_REPOSITORY";

fn main() {
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .unwrap_or_default()
        .split(',')
        .any(|f| f == "crt-static");
    if linux && !crt_static {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={COMMIT_VAR}");
    println!("cargo:rerun-if-env-changed={REPOSITORY_VAR}");
    let repository = std::env::var(REPOSITORY_VAR).unwrap_or_default();
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    if !repository.is_empty()
        && !repository
            .split_once('/')
            .is_some_and(|(o, n)| plain(o) && plain(n))
    {
        panic!("{REPOSITORY_VAR}={repository:?} is not `owner/name`");
    }
    println!("cargo:rustc-env={REPOSITORY_VAR}={repository}");

    let commit = git_commit()
        .or_else(|| {
            let full = std::env::var(COMMIT_VAR).ok().filter(|c| !c.is_empty())?;
            Some(full.chars().take(12).collect())
        })
        .unwrap_or_else(|| "unknown".into());
    let mut features: Vec<String> = std::env::vars()
        .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(str::to_owned))
        .filter(|f| f != "DEFAULT")
        .map(|f| f.to_ascii_lowercase().replace('_', "-"))
        .collect();
    features.sort();
    let link = if crt_static { "static" } else { "dynamic" };
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=CREDENTIAL_HELPER_COMMIT={commit}");
    println!(
        "cargo:rustc-env=CREDENTIAL_HELPER_FEATURES={}",
        features.join(",")
    );
    println!("cargo:rustc-env=CREDENTIAL_HELPER_LINK={link}");
    println!("cargo:rustc-env=CREDENTIAL_HELPER_TARGET={target}");
}

/// The checkout's short commit, `-dirty` with uncommitted changes to tracked files; `None`
/// without git, or when this crate is not the top of the repository git finds (a vendored copy).
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let here = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    if Path::new(&top).canonicalize().ok()? != Path::new(&here).canonicalize().ok()? {
        return None;
    }
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Rerun when HEAD or its branch moves, and when sources change (the crate is rebuilt then
    // anyway, and the tree may have become dirty): one `git status`, a few milliseconds, never
    // on a build with nothing to do.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        // A missing file would make cargo rerun this script on every build.
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    for tracked in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={tracked}");
    }
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

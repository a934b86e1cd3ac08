//! Links the Linux binary as a fixed-position executable.
//!
//! A position-independent executable applies ~17,000 relocations at every start, which is a
//! third of the cost of a `get` answered from a file or the cache (Bazel runs one process per
//! URL). Go-built credential helpers are not position-independent on Linux either. Measured in
//! `bench/README.md`.
//!
//! `scripts/build-release` links statically instead (`crt-static` with the static relocation
//! model), where rustc chooses the right flags itself: `-no-pie` on top of a static-pie link
//! would produce a binary that crashes at start.
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
}

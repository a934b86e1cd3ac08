//! Links the Linux binary as a fixed-position executable.
//!
//! A position-independent executable applies ~17,000 relocations at every start, which is a
//! third of the cost of a `get` answered from a file or the cache (Bazel runs one process per
//! URL). Go-built credential helpers are not position-independent on Linux either. Measured in
//! `bench/README.md`.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

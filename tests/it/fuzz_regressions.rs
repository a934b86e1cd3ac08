//! Replays the fuzz corpora kept in the repository, `fuzz/seeds/<target>/` and
//! `fuzz/regressions/<target>/` (every crash a fuzzer found), through the fuzz targets' own
//! harness, so CI checks them without a fuzzing engine. See fuzz/README.md.

use std::panic;
use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
mod harness;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files in `dir`, sorted; none if it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_seeds_and_regressions_do_not_panic() {
    let root = fuzz_dir();
    let mut failed = Vec::new();
    let mut replayed = 0;
    for &(name, harness) in harness::TARGETS {
        let seeds = inputs(&root.join("seeds").join(name));
        assert!(!seeds.is_empty(), "no seeds in fuzz/seeds/{name}");
        for path in seeds
            .iter()
            .chain(&inputs(&root.join("regressions").join(name)))
        {
            let data = std::fs::read(path).unwrap();
            if panic::catch_unwind(|| harness(&data)).is_err() {
                failed.push(path.clone());
            }
            replayed += 1;
        }
    }
    assert!(failed.is_empty(), "these fuzz inputs panic: {failed:#?}");
    eprintln!("replayed {replayed} fuzz inputs");
}

/// A crash saved for a target without a harness here would never be replayed.
#[test]
fn every_fuzz_regression_has_a_harness() {
    let Ok(dirs) = std::fs::read_dir(fuzz_dir().join("regressions")) else {
        return;
    };
    for dir in dirs {
        let name = dir.unwrap().file_name();
        let name = name.to_string_lossy();
        assert!(
            harness::TARGETS.iter().any(|(t, _)| *t == name),
            "fuzz/regressions/{name} has no harness in fuzz/src/lib.rs TARGETS"
        );
    }
}

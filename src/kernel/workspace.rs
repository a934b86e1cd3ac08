//! The Bazel workspace root: the nearest directory at or above the working directory with a
//! `MODULE.bazel`, `REPO.bazel`, `WORKSPACE.bazel` or `WORKSPACE` file (Bazel's own rule).

use std::path::PathBuf;

use crate::kernel::env::Env;

/// The files that mark a workspace root, in Bazel's order.
pub const MARKERS: &[&str] = &["MODULE.bazel", "REPO.bazel", "WORKSPACE.bazel", "WORKSPACE"];

/// The workspace root for `env`'s working directory, if there is one.
pub fn root(env: &Env) -> Option<PathBuf> {
    env.cwd()
        .ancestors()
        .find(|dir| MARKERS.iter().any(|m| dir.join(m).is_file()))
        .map(|dir| dir.to_path_buf())
}

/// `env` moved to the workspace root (`explain` and `check-config` look from where Bazel runs
/// `get`), and a line saying so when that is not where it was.
pub fn at_root(env: Env) -> (Env, Option<String>) {
    match root(&env) {
        Some(dir) if dir != env.cwd() => {
            let note = format!(
                "workspace root: {} (Bazel runs the helper there)",
                dir.display()
            );
            (env.with_cwd(dir), Some(note))
        }
        _ => (env, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_marker_at_or_above() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join("a/b")).unwrap();
        let at = |cwd: PathBuf| root(&Env::new(Default::default(), cwd, 0));
        assert_eq!(at(ws.join("a/b")), None);
        for marker in ["MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel"] {
            std::fs::write(ws.join(marker), "").unwrap();
            assert_eq!(at(ws.join("a/b")), Some(ws.clone()), "{marker}");
            assert_eq!(at(ws.clone()), Some(ws.clone()), "{marker}");
            std::fs::remove_file(ws.join(marker)).unwrap();
        }
        // A directory named like a marker does not count.
        std::fs::create_dir(ws.join("MODULE.bazel")).unwrap();
        assert_eq!(at(ws.join("a")), None);
    }
}

//! The Bazel workspace a command was run in. Bazel runs `get` at the workspace root, so
//! `explain` and `check-config`, run by a person anywhere inside it, look from there too.

use std::path::{Path, PathBuf};

use crate::kernel::env::Env;

/// The files whose directory Bazel takes as the workspace root, in the order it checks them.
pub const MARKERS: [&str; 4] = ["MODULE.bazel", "REPO.bazel", "WORKSPACE.bazel", "WORKSPACE"];

/// The nearest directory at or above `start` holding one of [`MARKERS`], and which.
pub fn root(start: &Path) -> Option<(PathBuf, &'static str)> {
    start.ancestors().find_map(|dir| {
        MARKERS
            .iter()
            .find(|m| dir.join(m).is_file())
            .map(|m| (dir.to_path_buf(), *m))
    })
}

/// `env` moved to the workspace root, and a line saying so when that is not where it was.
pub fn at_root(env: Env) -> (Env, Option<String>) {
    match root(env.cwd()) {
        Some((dir, _)) if dir == env.cwd() => (env, None),
        Some((dir, marker)) => {
            let note = format!(
                "workspace root: {} (it has {marker}; Bazel runs the helper there)",
                dir.display()
            );
            (env.with_cwd(dir), Some(note))
        }
        None => (env, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_marker_wins() {
        let dir = tempfile::tempdir().unwrap();
        let outer = dir.path().join("outer");
        let inner = outer.join("pkg/sub");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(root(&inner), None);
        std::fs::write(outer.join("WORKSPACE"), "").unwrap();
        assert_eq!(root(&inner), Some((outer.clone(), "WORKSPACE")));
        std::fs::write(outer.join("MODULE.bazel"), "").unwrap();
        assert_eq!(root(&inner), Some((outer.clone(), "MODULE.bazel")));
        std::fs::write(outer.join("pkg/REPO.bazel"), "").unwrap();
        assert_eq!(root(&inner), Some((outer.join("pkg"), "REPO.bazel")));
        // A directory named like a marker is not one.
        std::fs::create_dir_all(inner.join("WORKSPACE.bazel")).unwrap();
        assert_eq!(root(&inner), Some((outer.join("pkg"), "REPO.bazel")));
    }
}

//! The `.bazelrc` lines `setup` adds: the checked-in launcher on Linux and macOS, a real `.exe`
//! beside it on Windows (Bazel starts nothing else there), and rules_oci's switch to the
//! helper's token. A line already in the file is never added twice.

/// Put above the lines `setup` appends.
pub const COMMENT: &str = "# credential-helper: Bazel asks it for the headers of every download (added by `credential-helper setup`)";

/// The helper, relative to the workspace root, as the launcher docs recommend checking it in.
pub const LAUNCHER: &str = "tools/credential-helper";

/// The lines, in order.
pub fn lines() -> Vec<String> {
    vec![
        "common --enable_platform_specific_config".into(),
        format!("common:linux --credential_helper=%workspace%/{LAUNCHER}"),
        format!("common:macos --credential_helper=%workspace%/{LAUNCHER}"),
        format!("common:windows --credential_helper=%workspace%/{LAUNCHER}.exe"),
        "common --repo_env=OCI_GET_TOKEN_ALLOW_FAIL=1".into(),
    ]
}

/// What a `.bazelrc` needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Merge {
    /// Lines it lacks, in order.
    pub missing: Vec<String>,
    /// Its other `--credential_helper` lines (a host-scoped one wins over ours for its hosts).
    pub other_helpers: Vec<String>,
}

pub fn merge(existing: &str) -> Merge {
    let have: Vec<&str> = existing.lines().map(str::trim).collect();
    let ours = lines();
    let other_helpers = have
        .iter()
        .filter(|l| !l.starts_with('#') && l.contains("--credential_helper="))
        .filter(|l| !ours.iter().any(|o| o == *l))
        .map(|l| l.to_string())
        .collect();
    Merge {
        missing: ours
            .into_iter()
            .filter(|l| !have.contains(&l.as_str()))
            .collect(),
        other_helpers,
    }
}

/// The file with `missing` appended under [`COMMENT`], keeping what is there.
pub fn appended(existing: &str, missing: &[String]) -> String {
    let mut text = existing.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(COMMENT);
    text.push('\n');
    for line in missing {
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_table() {
        let all = lines().join("\n");
        // (existing, missing count, other helper lines)
        let table = [
            ("", 5, 0),
            (all.as_str(), 0, 0),
            (
                "build --jobs=4\ncommon --enable_platform_specific_config\n",
                4,
                0,
            ),
            (
                "common --credential_helper=github.com=%workspace%/tools/credential-helper\n  common --repo_env=OCI_GET_TOKEN_ALLOW_FAIL=1  \n",
                4,
                1,
            ),
            ("# common --credential_helper=x\n", 5, 0),
        ];
        for (existing, missing, others) in table {
            let m = merge(existing);
            assert_eq!(
                (m.missing.len(), m.other_helpers.len()),
                (missing, others),
                "{existing:?}"
            );
        }
    }

    #[test]
    fn appending_keeps_the_file_and_is_idempotent() {
        let before = "build --jobs=4";
        let after = appended(before, &merge(before).missing);
        assert!(after.starts_with("build --jobs=4\n\n# credential-helper"));
        assert!(after.ends_with("common --repo_env=OCI_GET_TOKEN_ALLOW_FAIL=1\n"));
        assert!(merge(&after).missing.is_empty());
        assert!(
            appended("", &lines()).starts_with(COMMENT),
            "a new file starts with the comment"
        );
    }
}

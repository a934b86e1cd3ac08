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
    /// Its `--credential_helper` lines for another program (for the hosts a line names, Bazel
    /// asks that program instead).
    pub other_helpers: Vec<String>,
}

pub fn merge(existing: &str) -> Merge {
    let have: Vec<&str> = existing.lines().map(str::trim).collect();
    let ours = lines();
    let other_helpers = have
        .iter()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| helper_of(l).is_some_and(|p| !is_launcher(p)))
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

/// The program a `--credential_helper=[host=]program` line names.
fn helper_of(line: &str) -> Option<&str> {
    let value = line.split("--credential_helper=").nth(1)?;
    let value = value.split_whitespace().next().unwrap_or_default();
    value.rsplit('=').next()
}

/// Ours, or the same path tweag/credential-helper's docs use for its stub (replaced by ours).
fn is_launcher(program: &str) -> bool {
    let program = program.replace('\\', "/");
    program.ends_with(LAUNCHER) || program.ends_with(&format!("{LAUNCHER}.exe"))
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
                0,
            ),
            ("# common --credential_helper=x\n", 5, 0),
            (
                "common --credential_helper=*.corp.example=/usr/bin/other-helper\n",
                5,
                1,
            ),
            (
                "common:windows --credential_helper=ghcr.io=%workspace%\\tools\\credential-helper.exe\n",
                5,
                0,
            ),
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

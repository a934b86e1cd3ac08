//! `Env`: path expansion and variable lookup.

use super::*;

#[test]
fn expands_workspace_and_home() {
    let env = test_env(&[("HOME", "/home/u")]);
    assert_eq!(env.expand_path("~/x"), PathBuf::from("/home/u/x"));
    assert_eq!(
        env.expand_path("%workspace%/a/b"),
        PathBuf::from("/workspace/a/b")
    );
    assert_eq!(env.expand_path("rel"), PathBuf::from("/workspace/rel"));
    assert_eq!(env.expand_path("/abs"), PathBuf::from("/abs"));
}

#[test]
fn empty_is_unset_and_prefix_scan_is_ordered() {
    let env = test_env(&[("A_1", "x"), ("A_2", ""), ("B", "y"), ("A_0", "z")]);
    assert_eq!(env.var("A_2"), None);
    let names: Vec<_> = env.vars_with_prefix("A_").map(|(k, _)| k).collect();
    assert_eq!(names, ["A_0", "A_1", "A_2"]);
}

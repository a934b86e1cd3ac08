//! imgpkg's environment keychain as imgpkg reads it, half credentials from a lookup chain, and
//! configs that extend the built-in defaults, through the binary.

use crate::support::registry::{self, Registry, TokenServerConfig};
use crate::support::{Bazel, docker_auths};

/// An oci entry for 127.0.0.1 with `extra` in its config.
fn oci_config(extra: &str) -> String {
    format!(r#"{{"urls":[{{"host":"127.0.0.1","helper":"oci","config":{{{extra}}}}}]}}"#)
}

/// The status a registry gives the manifest with the headers `get` answered.
fn pull_status(bazel: &Bazel, registry: &Registry, repo: &str) -> u16 {
    let uri = registry.manifest_uri(repo, "v1");
    let answer = bazel.get(&uri).success();
    let fetched = registry.fetch(&uri, &answer.headers);
    if fetched.status == 200 {
        assert_eq!(registry::sha256(&fetched.body).len(), 71);
    }
    fetched.status
}

#[test]
fn a_username_without_a_password_is_an_error_naming_its_source() {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    let image = registry.push_image("team/app", "v1");
    let uri = registry.manifest_uri(&image.repo, "v1");
    let chain = r#""lookup_chain":[{"source":"env","name":"REG_USER","binding":"username"},{"source":"env","name":"REG_PASS","binding":"password"}]"#;
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(chain)).env("REG_USER", "bob");
    let err = bazel.get(&uri).failure();
    assert!(
        err.contains("lookup_chain found a username (env REG_USER) but no password"),
        "{err}"
    );
    assert!(err.contains("tried env REG_PASS"), "{err}");
    assert!(!err.contains("bob"), "the username is a value: {err}");
    assert_eq!(registry.token_server().count(), 0, "no anonymous exchange");

    // A chain with no password source at all says what to add.
    let mut bazel = Bazel::new();
    bazel
        .config(&oci_config(
            r#""lookup_chain":[{"source":"env","name":"REG_USER","binding":"username"}]"#,
        ))
        .env("REG_USER", "bob");
    let err = bazel.get(&uri).failure();
    assert!(err.contains("but no password"), "{err}");
    assert!(err.contains("\"binding\": \"password\""), "{err}");

    // A password source that fails (a directory is no file) is named too.
    let mut bazel = Bazel::new();
    let dir = bazel.root().display().to_string();
    bazel
        .config(&oci_config(&format!(
            r#""lookup_chain":[{{"source":"env","name":"REG_USER","binding":"username"}},{{"source":"file","path":"{dir}","binding":"password"}}]"#
        )))
        .env("REG_USER", "bob");
    let err = bazel.get(&uri).failure();
    assert!(
        err.contains("found a username (env REG_USER) but no password: file"),
        "{err}"
    );
    assert!(err.contains("not a regular file"), "{err}");

    // As with every broken source, a later source's credential still wins.
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(chain)).env("REG_USER", "bob");
    bazel.write(
        "home/.docker/config.json",
        docker_auths(registry.host(), "bob:bob-pw"),
    );
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);

    // The whole pair works.
    let mut bazel = Bazel::new();
    bazel
        .config(&oci_config(chain))
        .env("REG_USER", "bob")
        .env("REG_PASS", "bob-pw");
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);
}

#[test]
fn a_static_username_is_a_default_not_half_a_credential() {
    // The ghcr.io default's shape: tokens as passwords, then usernames ending in a static one.
    let registry = Registry::token(TokenServerConfig::new().public_repo("pub/app"));
    let image = registry.push_image("pub/app", "v1");
    let mut bazel = Bazel::new();
    bazel
        .config(&oci_config(
            r#""lookup_chain":[{"source":"env","name":"TOKEN","binding":"password"},{"source":"env","name":"ACTOR","binding":"username"},{"source":"static","value":"any","binding":"username"}]"#,
        ))
        .env("ACTOR", "someone");
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);
    assert_eq!(registry.token_server().count(), 1);
}

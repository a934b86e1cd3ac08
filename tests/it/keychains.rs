//! The environment keychain (imgpkg-compatible) and cloud keychains, through the binary.

use crate::support::registry::{Registry, TokenServerConfig};
use crate::support::{Bazel, docker_auths, pull_status};

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn pull_with_credentials_only_from_imgpkg_variables() {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel
        .env(
            "IMGPKG_REGISTRY_HOSTNAME_0",
            format!("{}/team", registry.host()),
        )
        .env("IMGPKG_REGISTRY_USERNAME_0", "bob")
        .env("IMGPKG_REGISTRY_PASSWORD_0", "bob-pw");
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);
    let blob = registry.blob_uri(&image.repo, &image.layer_digest);
    let answer = bazel.get(&blob).success();
    assert_eq!(registry.fetch(&blob, &answer.headers).status, 200);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn environment_beats_docker_config_and_our_prefix_works() {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel.write(
        "home/.docker/config.json",
        docker_auths(registry.host(), "bob:wrong"),
    );
    bazel
        .env(
            "CREDENTIAL_HELPER_REGISTRY_HOSTNAME",
            format!("http://{}/v2/", registry.host()),
        )
        .env("CREDENTIAL_HELPER_REGISTRY_USERNAME", "bob")
        .env("CREDENTIAL_HELPER_REGISTRY_PASSWORD", "bob-pw")
        .env("CREDENTIAL_HELPER_LOG", "debug");
    let out = bazel.get(&registry.manifest_uri(&image.repo, "v1"));
    assert!(
        out.stderr
            .contains("environment keychain CREDENTIAL_HELPER_REGISTRY_PASSWORD"),
        "{out}"
    );
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn identity_token_from_the_environment_goes_through_oauth2() {
    let registry = Registry::token(TokenServerConfig::new().identity_token("refresh-9", "bob"));
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel
        .env("IMGPKG_REGISTRY_HOSTNAME", registry.host())
        .env("IMGPKG_REGISTRY_IDENTITY_TOKEN", "refresh-9");
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);
    assert_eq!(registry.token_server().posts(), 1);
}

#[test]
fn typos_and_incomplete_groups_are_errors() {
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel.env("IMGPKG_REGISTRY_PASSWROD", "x");
    let err = bazel.get("http://127.0.0.1:1/v2/a/manifests/1").failure();
    assert!(
        err.contains("unknown environment variable IMGPKG_REGISTRY_PASSWROD"),
        "{err}"
    );

    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel.env("CREDENTIAL_HELPER_REGISTRY_USERNAME_CI", "u");
    let err = bazel.get("http://127.0.0.1:1/v2/a/manifests/1").failure();
    assert!(
        err.contains("without CREDENTIAL_HELPER_REGISTRY_HOSTNAME_CI"),
        "{err}"
    );
}

#[test]
fn unknown_keychain_names_are_errors() {
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    bazel.env("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "github,nope");
    let err = bazel.get("http://127.0.0.1:1/v2/a/manifests/1").failure();
    assert!(err.contains("unknown keychain \"nope\""), "{err}");
}

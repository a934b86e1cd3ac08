// The harness (support/) runs the helper as Bazel does on Unix: `#!/bin/sh` fakes of other
// tools, process groups, modes and uids. On Windows only the modules that need none of it are
// built; porting the harness (PATHEXT, `.cmd` fakes, USERPROFILE) is still to do. Tests that
// need Linux itself (Debian's docker-registry, other uids as root, `unshare`) carry
// `#[cfg_attr(not(target_os = "linux"), ignore = "...")]` with the reason.
#[cfg(unix)]
mod support;

#[cfg(unix)]
mod auth_json;
#[cfg(unix)]
mod aws;
#[cfg(unix)]
mod azure;
#[cfg(unix)]
mod cache;
#[cfg(unix)]
mod cache_trust;
#[cfg(unix)]
mod check_config;
#[cfg(unix)]
mod core;
#[cfg(unix)]
mod credential_files;
#[cfg(unix)]
mod deadline;
#[cfg(unix)]
mod docker_config;
#[cfg(unix)]
mod docker_credential;
mod docs;
#[cfg(unix)]
mod env_keychain;
#[cfg(unix)]
mod files;
mod fuzz_regressions;
#[cfg(unix)]
mod google;
#[cfg(unix)]
mod helpers;
#[cfg(unix)]
mod keychains;
#[cfg(unix)]
mod launcher;
mod layers;
#[cfg(unix)]
mod login;
#[cfg(unix)]
mod messages;
#[cfg(unix)]
mod nss;
#[cfg(unix)]
mod oci;
#[cfg(unix)]
mod platform;
#[cfg(unix)]
mod requirements;
#[cfg(unix)]
mod setup;
#[cfg(unix)]
mod tls;
#[cfg(unix)]
mod transport;
#[cfg(unix)]
mod trust;
#[cfg(unix)]
mod tweag;
#[cfg(unix)]
mod warm;

#[cfg(unix)]
use std::collections::BTreeMap;
#[cfg(unix)]
use std::time::Instant;

#[cfg(unix)]
use support::Bazel;
#[cfg(unix)]
use support::registry::{ADMIN_PASSWORD, ADMIN_USER, Auth, Registry, TokenServerConfig};

/// The fixtures work end to end without the helper: each registry setup
/// starts, takes a push, and serves a pull to admin credentials.
#[cfg(unix)]
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn support_smoke() {
    let started = Instant::now();
    let basic = Registry::basic("alice", "secret");
    let token = Registry::token(TokenServerConfig::new().user("bob", "pw"));
    let tls = Registry::tls(Auth::basic("carol", "pw"));
    eprintln!("three registries up in {:?}", started.elapsed());

    for registry in [&basic, &token, &tls] {
        let image = registry.push_image("team/app", "v1");
        let admin = registry.admin_headers("team/app");
        let pulled = registry.pull_with_accept(&admin, "team/app", "v1").unwrap();
        assert_eq!(pulled.manifest_digest, image.manifest_digest);
        assert_eq!(
            pulled.blobs,
            [image.config_digest.clone(), image.layer_digest.clone()]
        );
        // Without an Accept listing the OCI type the registry hides the manifest.
        let hidden = registry.pull(&admin, "team/app", "v1").unwrap_err();
        assert_eq!(hidden.status, 404, "{hidden:?}");
        // By digest, too; and anonymous access is refused.
        registry
            .pull_with_accept(&admin, "team/app", &image.manifest_digest)
            .unwrap();
        let anonymous = registry.pull_with_accept(&BTreeMap::new(), "team/app", "v1");
        assert_eq!(anonymous.unwrap_err().status, 401);
    }

    // The token server's own endpoints: GET with Basic, OAuth2 POST.
    let server = token.token_server();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let scope = "repository:team/app:pull";
    let get = client
        .get(server.realm())
        .query(&[("service", support::registry::SERVICE), ("scope", scope)])
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let post = client
        .post(server.realm())
        .form(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", "pw"),
            ("service", support::registry::SERVICE),
            ("scope", scope),
            ("client_id", "smoke"),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap();
    for answer in [get, post] {
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let bearer = format!("Bearer {}", answer["access_token"].as_str().unwrap());
        let headers = BTreeMap::from([("Authorization".to_owned(), vec![bearer])]);
        token.pull_with_accept(&headers, "team/app", "v1").unwrap();
    }
    let bad = client
        .get(server.realm())
        .basic_auth("bob", Some("wrong"))
        .send()
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!((server.gets(), server.posts(), server.count()), (2, 1, 3));

    // The Bazel harness runs the binary with the request on stdin.
    let bazel = Bazel::new();
    let answer = bazel.get(&basic.manifest_uri("team/app", "v1"));
    assert!(answer.status.is_some(), "{answer}");
    eprintln!("smoke test took {:?}", started.elapsed());
}

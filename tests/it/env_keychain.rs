//! imgpkg's environment keychain as imgpkg reads it, half credentials from a lookup chain, and
//! configs that extend the built-in defaults, through the binary.

use crate::support::registry::{Registry, TokenServerConfig};
use crate::support::{Bazel, docker_auths, pull_status};

/// An oci entry for 127.0.0.1 with `extra` in its config.
fn oci_config(extra: &str) -> String {
    format!(r#"{{"urls":[{{"host":"127.0.0.1","helper":"oci","config":{{{extra}}}}}]}}"#)
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
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
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
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

#[test]
fn a_config_replaces_the_defaults_unless_it_extends_them() {
    let release = "https://github.com/o/r/releases/download/v1/x.tgz";
    let own = r#"{"host":"registry.example.com","helper":"oci"}"#;
    let mut bazel = Bazel::new();
    bazel.env("GH_TOKEN", "ghp_canary");

    // Replace (the default): GitHub downloads lose their header, and both commands say why.
    bazel.config(&format!(r#"{{"urls":[{own}]}}"#));
    assert!(bazel.get(release).success().headers.is_empty());
    let out = bazel.run(&["explain", release], None);
    let text = out.ok();
    assert!(text.contains("replaces the built-in defaults"), "{out}");
    assert!(
        text.contains("the built-in defaults would use github")
            && text.contains("add \"defaults\": \"extend\""),
        "{out}"
    );
    let out = bazel.run(&["check-config"], None);
    assert!(out.ok().contains("ok (1 entries)"), "{out}");
    assert!(
        out.stdout
            .contains("replaces the built-in defaults: only its own entries (1) route"),
        "{out}"
    );

    // Extend: its own entries first, then the defaults.
    bazel.config(&format!(
        r#"{{"defaults":"extend","urls":[{own},{{"host":"api.github.com","helper":"null"}}]}}"#
    ));
    let answer = bazel.get(release).success();
    assert_eq!(answer.header("Authorization"), Some("Bearer ghp_canary"));
    let api = "https://api.github.com/repos/o/r/tarball/v1";
    assert!(
        bazel.get(api).success().headers.is_empty(),
        "own entry first"
    );
    let out = bazel.run(&["explain", release], None);
    assert!(out.ok().contains("extends the built-in defaults"), "{out}");
    assert!(
        out.stdout.contains("matched built-in defaults urls[")
            && !out.stdout.contains("ghp_canary"),
        "{out}"
    );
    let out = bazel.run(&["check-config"], None);
    assert!(
        out.ok().contains("its own entries (2) are matched first"),
        "{out}"
    );

    // A misspelt mode is an error, the value unquoted.
    bazel.bad_config(r#"{"defaults":"extnd","urls":[{"host":"a.example","helper":"null"}]}"#);
    let err = bazel.get(release).failure();
    assert!(
        err.contains("\"defaults\": must be \"replace\" or \"extend\""),
        "{err}"
    );
    assert!(!err.contains("extnd"), "{err}");
}

#[test]
fn the_defaults_command_prints_the_built_in_defaults() {
    let mut bazel = Bazel::new();
    let out = bazel.run(&["defaults"], None);
    let json = out.ok().to_string();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let count = doc["urls"].as_array().unwrap().len();
    assert!(count > 30, "{count}");
    // A config of its own: it matches the schema and routes as no config does.
    bazel.config(&json);
    let out = bazel.run(&["check-config"], None);
    assert!(out.ok().contains(&format!("ok ({count} entries)")), "{out}");
    bazel.env("GH_TOKEN", "t");
    let release = "https://github.com/o/r/releases/download/v1/x.tgz";
    assert_eq!(
        bazel.get(release).success().header("Authorization"),
        Some("Bearer t")
    );
    assert!(
        bazel
            .run(&["--help"], None)
            .ok()
            .contains("credential-helper defaults")
    );
    assert_eq!(bazel.run(&["defaults", "x"], None).status, Some(2));
}

#[test]
fn the_example_config_keeps_the_github_defaults() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.credential-helper.json.example"
    );
    let mut bazel = Bazel::new();
    bazel
        .env("CREDENTIAL_HELPER_CONFIG_FILE", example)
        .env("GH_TOKEN", "gh-t");
    let release = "https://github.com/o/r/releases/download/v1/x.tgz";
    let answer = bazel.get(release).success();
    assert_eq!(answer.header("Authorization"), Some("Bearer gh-t"));
    let out = bazel.run(&["check-config"], None);
    assert!(out.ok().contains("extends the built-in defaults"), "{out}");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn with_no_config_at_all_a_host_the_keychain_names_is_a_registry() {
    // The README's CI recipe: only variables, no config file.
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel
        .env("IMGPKG_REGISTRY_HOSTNAME_CI_REG", registry.host())
        .env("IMGPKG_REGISTRY_USERNAME_CI_REG", "bob")
        .env("IMGPKG_REGISTRY_PASSWORD_CI_REG", "bob-pw");
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);
    let blob = registry.blob_uri(&image.repo, &image.layer_digest);
    let answer = bazel.get(&blob).success();
    assert_eq!(registry.fetch(&blob, &answer.headers).status, 200);
    // Only registry API URLs: anything else on the host stays unrouted.
    let other = format!("{}/file.tgz", registry.base_url());
    assert!(bazel.get(&other).success().headers.is_empty());
    let out = bazel.run(
        &["explain", &registry.manifest_uri(&image.repo, "v1")],
        None,
    );
    assert!(
        out.ok()
            .contains("environment keychain IMGPKG_REGISTRY_PASSWORD_CI_REG"),
        "{out}"
    );

    // A config that extends the defaults keeps this; one that replaces them routes only its
    // own entries (as it does for every host).
    bazel.config(r#"{"defaults":"extend","urls":[{"host":"a.example","helper":"null"}]}"#);
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);
    bazel.config(r#"{"urls":[{"host":"a.example","helper":"null"}]}"#);
    let uri = registry.manifest_uri(&image.repo, "v1");
    assert!(bazel.get(&uri).success().headers.is_empty());
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn imgpkg_azure_setting_is_passed_over_and_bad_hostnames_are_errors() {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    let image = registry.push_image("team/app", "v1");
    let uri = registry.manifest_uri(&image.repo, "v1");
    let mut bazel = Bazel::new();
    bazel
        .config(&oci_config(""))
        .env("IMGPKG_REGISTRY_AZURE_CR_CONFIG", "/some/path")
        .env("IMGPKG_REGISTRY_HOSTNAME", registry.host())
        .env("IMGPKG_REGISTRY_USERNAME", "bob")
        .env("IMGPKG_REGISTRY_PASSWORD", "bob-pw");
    assert_eq!(pull_status(&bazel, &registry, &image.repo), 200);

    // imgpkg's unparseable hostnames, and ours, are errors naming the variable, not a silent
    // anonymous pull; with no config the same holds for any registry URL.
    for config in [true, false] {
        for bad in [
            "http://[::1]:namedport",
            "http://[%10::1]",
            "http://%41:8080/",
            "registry.example.com:port",
            "user@registry.example.com",
        ] {
            let mut bazel = Bazel::new();
            if config {
                bazel.config(&oci_config(""));
            }
            bazel
                .env("IMGPKG_REGISTRY_HOSTNAME_0", bad)
                .env("IMGPKG_REGISTRY_USERNAME_0", "bob")
                .env("IMGPKG_REGISTRY_PASSWORD_0", "bob-pw");
            let err = bazel.get(&uri).failure();
            assert!(
                err.contains("IMGPKG_REGISTRY_HOSTNAME_0 is not a registry"),
                "{bad}: {err}"
            );
            assert!(!err.contains(bad), "the value is not quoted: {err}");
        }
    }
    assert_eq!(registry.token_server().count(), 1, "only the good pull");
}

#[test]
fn a_realm_on_the_same_ipv6_registry_host_gets_the_credential() {
    use crate::support::http_server::{Response, TestServer};
    use std::sync::{Arc, OnceLock};
    // The realm as the registry writes it: `[::1]` or the same address spelt out.
    for spelling in ["[::1]", "[0:0:0:0:0:0:0:1]"] {
        let port = Arc::new(OnceLock::<u16>::new());
        let own = Arc::clone(&port);
        let realm = move || format!("http://{spelling}:{}/token", own.get().unwrap());
        let Some(server) = TestServer::start_v6(move |req| match req.path_only() {
            "/v2/" => Response::new(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{}",service="v6""#, realm()),
            ),
            "/token" if req.basic_auth().is_some() => {
                Response::json(200, &serde_json::json!({"token": "v6-token"}))
            }
            _ => Response::new(401),
        }) else {
            eprintln!("IPv6 loopback unavailable: skipped");
            return;
        };
        port.set(server.addr().port()).unwrap();
        let mut bazel = Bazel::new();
        bazel
            .config(r#"{"urls":[{"host":"[::1]*","helper":"oci"}]}"#)
            .env("CREDENTIAL_HELPER_CACHE", "off")
            .env("IMGPKG_REGISTRY_HOSTNAME", server.addr().to_string())
            .env("IMGPKG_REGISTRY_USERNAME", "bob")
            .env("IMGPKG_REGISTRY_PASSWORD", "pw");
        let uri = format!("{}/v2/team/app/manifests/v1", server.url());
        let answer = bazel.get(&uri).success();
        assert_eq!(answer.header("Authorization"), Some("Bearer v6-token"));
        assert_eq!(server.count(), 2, "ping and token");
    }
}

//! The oci helper against Debian's real registry server: credentials from every source, the
//! token exchange in all its forms, TLS with a private CA, and where credentials must not go.

use crate::support::http_server::{Response, TestServer, fake_registry};
use crate::support::registry::{self, Auth, Image, Registry, TokenServerConfig};
use crate::support::{Bazel, b64, docker_auths};

const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// An oci entry for every host (the registries run on 127.0.0.1).
fn oci_config(extra: &str) -> String {
    let sep = if extra.is_empty() { "" } else { "," };
    format!(
        r#"{{"urls":[{{"host":"127.0.0.1","helper":"oci","config":{{{extra}{sep}"parse_podman_config":true}}}}]}}"#
    )
}

fn docker_auth(bazel: &Bazel, registry: &Registry, entry: &str) {
    bazel.write(
        "home/.docker/config.json",
        format!(r#"{{"auths":{{"{}":{entry}}}}}"#, registry.host()),
    );
}

/// Pulls the image the way Bazel's downloader does: one helper call per URL, sending exactly
/// the headers each answer gave. Returns the manifest answer.
fn pull(bazel: &Bazel, registry: &Registry, image: &Image) -> crate::support::Parsed {
    let uri = registry.manifest_uri(&image.repo, &image.tag);
    let manifest_answer = bazel.get(&uri).success();
    let fetched = registry.fetch(&uri, &manifest_answer.headers);
    assert_eq!(fetched.status, 200, "manifest: {fetched:?}");
    assert_eq!(registry::sha256(&fetched.body), image.manifest_digest);
    for digest in [&image.config_digest, &image.layer_digest] {
        let uri = registry.blob_uri(&image.repo, digest);
        let answer = bazel.get(&uri).success();
        assert!(answer.header("Accept").is_none(), "no Accept for blobs");
        let fetched = registry.fetch(&uri, &answer.headers);
        assert_eq!(fetched.status, 200, "blob: {fetched:?}");
        assert_eq!(&registry::sha256(&fetched.body), digest);
    }
    manifest_answer
}

fn token_registry() -> (Registry, Image) {
    let registry = Registry::token(
        TokenServerConfig::new()
            .user("bob", "bob-password")
            .identity_token("refresh-123", "bob")
            .public_repo("public/app"),
    );
    let image = registry.push_image("team/app", "v1");
    (registry, image)
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn basic_auth_registry_with_docker_config_auth() {
    let registry = Registry::basic("alice", "alice-pw");
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel
        .config(&oci_config(""))
        .env("CREDENTIAL_HELPER_LOG", "debug");
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("alice:alice-pw")),
    );
    // The first get pings the plain-http registry: a client, but no TLS roots.
    let out = bazel.get(&registry.manifest_uri(&image.repo, &image.tag));
    assert!(
        out.stderr.contains(
            "network: 1 request(s); HTTP client built for plain http only (no TLS roots loaded)"
        ),
        "{out}"
    );
    let answer = pull(&bazel, &registry, &image);
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Basic {}", b64("alice:alice-pw")).as_str())
    );
    let accept = answer.header("Accept").unwrap();
    for t in MANIFEST_TYPES {
        assert!(accept.contains(t), "{accept}");
    }
    assert_eq!(answer.expires, None, "a static credential has no known end");

    // The Basic challenge is remembered: later answers need no network and no HTTP client.
    let mut bazel = bazel;
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let out = bazel.get(&registry.manifest_uri(&image.repo, &image.tag));
    assert!(
        out.stderr
            .contains("network: 0 request(s); HTTP client not built"),
        "{out}"
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn token_auth_with_username_and_password() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    docker_auth(
        &bazel,
        &registry,
        r#"{"username":"bob","password":"bob-password"}"#,
    );
    let answer = pull(&bazel, &registry, &image);
    assert!(
        answer
            .header("Authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
    // expires_in 300 minus the 10 % safety margin, counted from issued_at.
    let expires = answer.expires_at().expect("a token answer carries expires");
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(
        left.whole_seconds() > 250 && left.whole_seconds() <= 270,
        "{left}"
    );
    let server = registry.token_server();
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "auto + password = GET"
    );
    let first = &server.requests()[0];
    assert_eq!(
        first.basic_auth(),
        Some(("bob".into(), "bob-password".into()))
    );
    let query = first.query();
    assert_eq!(
        crate::support::http_server::value(&query, "scope"),
        Some("repository:team/app:pull")
    );
    assert_eq!(
        crate::support::http_server::value(&query, "service"),
        Some(registry::SERVICE)
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn identity_token_uses_oauth2_post() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    docker_auth(
        &bazel,
        &registry,
        r#"{"auth":"","identitytoken":"refresh-123"}"#,
    );
    pull(&bazel, &registry, &image);
    let server = registry.token_server();
    assert_eq!(server.gets(), 0);
    assert!(server.posts() >= 1);
    let form = server.requests()[0].form();
    let value = |k| crate::support::http_server::value(&form, k).map(str::to_owned);
    assert_eq!(value("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(value("refresh_token").as_deref(), Some("refresh-123"));
    assert_eq!(value("scope").as_deref(), Some("repository:team/app:pull"));
    assert_eq!(value("service").as_deref(), Some(registry::SERVICE));
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn oauth2_method_with_password_falls_back_to_get_on_404() {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "pw").oauth2(false));
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(r#""token_exchange_method":"oauth2""#));
    docker_auth(&bazel, &registry, r#"{"username":"bob","password":"pw"}"#);
    pull(&bazel, &registry, &image);
    let server = registry.token_server();
    assert_eq!(server.requests()[0].method, "POST");
    assert_eq!(server.requests()[1].method, "GET");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn oauth2_password_grant() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(r#""token_exchange_method":"oauth2""#));
    docker_auth(
        &bazel,
        &registry,
        r#"{"username":"bob","password":"bob-password"}"#,
    );
    pull(&bazel, &registry, &image);
    let form = registry.token_server().requests()[0].form();
    assert_eq!(
        crate::support::http_server::value(&form, "grant_type"),
        Some("password")
    );
    assert_eq!(
        crate::support::http_server::value(&form, "username"),
        Some("bob")
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn registry_token_is_used_directly() {
    let (registry, image) = token_registry();
    let token = registry
        .token_server()
        .mint("bob", &["repository:team/app:pull"]);
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"registrytoken":"{token}"}}"#),
    );
    let answer = pull(&bazel, &registry, &image);
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(
        registry.token_server().count(),
        0,
        "no exchange for a registry token"
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn docker_credential_helper_from_creds_store() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    bazel.write(
        "home/.docker/config.json",
        r#"{"credsStore":"teststore","auths":{}}"#,
    );
    // Records what it was asked, answers with the protocol's JSON.
    bazel.script(
        "docker-credential-teststore",
        &format!(
            r#"[ "$1" = get ] || exit 3
read server; echo "$server" >> "{log}"
[ "$server" = "{host}" ] || {{ echo "credentials not found in native keychain"; exit 1; }}
printf '{{"ServerURL":"%s","Username":"bob","Secret":"bob-password"}}' "$server""#,
            log = bazel.root().join("helper.log").display(),
            host = registry.host()
        ),
    );
    pull(&bazel, &registry, &image);
    let asked = std::fs::read_to_string(bazel.root().join("helper.log")).unwrap();
    assert!(asked.lines().all(|l| l == registry.host()), "{asked}");

    // `<token>` as the username means an identity token.
    let mut other = Bazel::new();
    other.config(&oci_config(""));
    other.write("home/.docker/config.json", r#"{"credsStore":"teststore"}"#);
    other.script(
        "docker-credential-teststore",
        r#"read server; printf '{"ServerURL":"x","Username":"<token>","Secret":"refresh-123"}'"#,
    );
    let posts_before = registry.token_server().posts();
    pull(&other, &registry, &image);
    assert!(
        registry.token_server().posts() > posts_before,
        "identity token goes through POST"
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn cred_helpers_entry_wins_and_not_found_moves_on() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    bazel.write(
        "home/.docker/config.json",
        format!(
            r#"{{"credsStore":"broken","credHelpers":{{"{}":"empty"}},"auths":{{}}}}"#,
            registry.host()
        ),
    );
    bazel.script(
        "docker-credential-broken",
        "echo 'broken was called'; exit 1",
    );
    // Like Debian's docker-credential-pass: exit 0 and empty fields for an unknown server.
    bazel.script(
        "docker-credential-empty",
        r#"printf '{"ServerURL":"","Username":"","Secret":""}'"#,
    );
    bazel.write(
        "home/.config/containers/auth.json",
        docker_auths(registry.host(), "bob:bob-password"),
    );
    // credHelpers found nothing, so podman's auth.json supplies the credential.
    pull(&bazel, &registry, &image);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn missing_or_failing_credential_helper_is_a_clear_error() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    bazel.write(
        "home/.docker/config.json",
        r#"{"credsStore":"nosuchstore"}"#,
    );
    let err = bazel
        .get(&registry.manifest_uri(&image.repo, &image.tag))
        .failure();
    assert!(
        err.contains("docker-credential-nosuchstore is not on PATH"),
        "{err}"
    );
    assert!(err.contains("credsStore 'nosuchstore'"), "{err}");

    bazel.script("docker-credential-nosuchstore", "sleep 30");
    let started = std::time::Instant::now();
    let err = bazel
        .get(&registry.manifest_uri(&image.repo, &image.tag))
        .failure();
    assert!(err.contains("did not finish within 5000 ms"), "{err}");
    assert!(started.elapsed().as_secs() < 8);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn podman_auth_json_namespaced_keys_most_specific_wins() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    let host = registry.host();
    bazel.write(
        "runtime/containers/auth.json",
        format!(
            r#"{{"auths":{{
              "{host}":{{"auth":"{wrong}"}},
              "{host}/team":{{"auth":"{right}"}},
              "{host}/other":{{"auth":"{wrong}"}}
            }}}}"#,
            wrong = b64("bob:wrong"),
            right = b64("bob:bob-password")
        ),
    );
    pull(&bazel, &registry, &image);

    // $REGISTRY_AUTH_FILE comes first.
    let file = bazel.write(
        "elsewhere/auth.json",
        format!(
            r#"{{"auths":{{"{host}/team/app":{{"auth":"{}"}}}}}}"#,
            b64("bob:wrong")
        ),
    );
    bazel.env("REGISTRY_AUTH_FILE", &file);
    let err = bazel
        .get(&registry.manifest_uri("team/app", "v1"))
        .failure();
    assert!(err.contains("401 from token realm"), "{err}");
    assert!(
        err.contains(&file.display().to_string()),
        "names the source: {err}"
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn legacy_dockercfg_and_docker_auth_config() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    bazel.write(
        "home/.dockercfg",
        format!(
            r#"{{"https://{}":{{"auth":"{}","email":"x@y"}}}}"#,
            registry.host(),
            b64("bob:bob-password")
        ),
    );
    pull(&bazel, &registry, &image);

    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("bob:wrong")),
    );
    bazel.env(
        "DOCKER_AUTH_CONFIG",
        docker_auths(registry.host(), "bob:bob-password"),
    );
    pull(&bazel, &registry, &image);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn docker_config_env_var_is_honoured() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("bob:wrong")),
    );
    let dir = bazel.root().join("dockercfg");
    bazel.write(
        "dockercfg/config.json",
        docker_auths(registry.host(), "bob:bob-password"),
    );
    bazel.env("DOCKER_CONFIG", &dir);
    pull(&bazel, &registry, &image);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn lookup_chain_env_variables_come_first() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(
        r#""lookup_chain":[{"source":"env","name":"REG_USER","binding":"username"},{"source":"env","name":"REG_PASS","binding":"password"}]"#,
    ));
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("bob:wrong")),
    );
    bazel.env("REG_USER", "bob").env("REG_PASS", "bob-password");
    pull(&bazel, &registry, &image);

    // An `auth` binding is really decoded.
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(
        r#""lookup_chain":[{"source":"env","name":"REG_AUTH","binding":"auth"}]"#,
    ));
    bazel.env("REG_AUTH", b64("bob:bob-password"));
    pull(&bazel, &registry, &image);

    // Nothing in the chain: docker config is next.
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(
        r#""lookup_chain":[{"source":"env","name":"UNSET","binding":"password"}]"#,
    ));
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("bob:bob-password")),
    );
    pull(&bazel, &registry, &image);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn sources_can_be_switched_off() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"parse_docker_config":false}}]}"#,
    );
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("bob:bob-password")),
    );
    // Anonymous: the token server refuses a private repository's pull, so the pull fails.
    let answer = bazel
        .get(&registry.manifest_uri(&image.repo, &image.tag))
        .success();
    let fetched = registry.fetch(
        &registry.manifest_uri(&image.repo, &image.tag),
        &answer.headers,
    );
    assert_eq!(fetched.status, 401, "{fetched:?}");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn anonymous_pull_of_a_public_repository() {
    let (registry, _) = token_registry();
    let image = registry.push_image("public/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    let answer = pull(&bazel, &registry, &image);
    assert!(
        answer
            .header("Authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
    assert!(
        registry
            .token_server()
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn wrong_password_is_a_clear_error_without_the_secret() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    docker_auth(
        &bazel,
        &registry,
        r#"{"username":"bob","password":"not-the-password-canary"}"#,
    );
    let err = bazel
        .get(&registry.manifest_uri(&image.repo, &image.tag))
        .failure();
    assert!(err.contains("401 from token realm"), "{err}");
    assert!(err.contains("for repository team/app"), "{err}");
    assert!(err.contains("docker config"), "{err}");
    assert!(!err.contains("not-the-password-canary"), "{err}");

    let basic = Registry::basic("alice", "pw");
    let image = basic.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    docker_auth(
        &bazel,
        &basic,
        &format!(r#"{{"auth":"{}"}}"#, b64("alice:wrong")),
    );
    // A Basic registry checks the password itself: the helper answers, the pull is refused.
    let answer = bazel
        .get(&basic.manifest_uri(&image.repo, &image.tag))
        .success();
    assert_eq!(
        basic
            .fetch(
                &basic.manifest_uri(&image.repo, &image.tag),
                &answer.headers
            )
            .status,
        401
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn tls_registry_with_private_ca() {
    let registry = Registry::tls(Auth::basic("carol", "carol-pw"));
    let image = registry.push_image("team/app", "v1");
    let ca = registry.ca_pem_path().display().to_string();
    let mut bazel = Bazel::new();
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("carol:carol-pw")),
    );

    // Without the CA the ping fails certificate verification.
    bazel.config(&oci_config(""));
    let err = bazel
        .get(&registry.manifest_uri(&image.repo, &image.tag))
        .failure();
    assert!(
        err.contains("certificate") || err.contains("UnknownIssuer"),
        "{err}"
    );

    bazel
        .config(&oci_config(&format!(r#""ca_cert_path":"{ca}""#)))
        .env("CREDENTIAL_HELPER_LOG", "debug");
    let out = bazel.get(&registry.manifest_uri(&image.repo, &image.tag));
    assert!(
        out.stderr
            .contains("network: 1 request(s); HTTP client built, TLS roots loaded"),
        "{out}"
    );
    pull(&bazel, &registry, &image);

    // The environment variable works too.
    let mut bazel = Bazel::new();
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("carol:carol-pw")),
    );
    bazel
        .config(&oci_config(""))
        .env("CREDENTIAL_HELPER_CA_CERT", &ca);
    pull(&bazel, &registry, &image);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn accept_header_only_for_manifests_and_can_be_turned_off() {
    let registry = Registry::basic("alice", "pw");
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("alice:pw")),
    );
    bazel.config(&oci_config(r#""accept_header":false"#));
    let answer = bazel
        .get(&registry.manifest_uri(&image.repo, &image.tag))
        .success();
    assert!(answer.header("Accept").is_none());
    assert!(answer.header("Authorization").is_some());
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn non_api_paths_on_a_registry_get_no_headers() {
    let registry = Registry::basic("alice", "pw");
    let mut bazel = Bazel::new();
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("alice:pw")),
    );
    bazel.config(&oci_config(""));
    for path in [
        "/v2/",
        "/token?scope=x",
        "/v2/team/app/blobs/uploads/1",
        "/sha256/abc",
    ] {
        let out = bazel.get(&format!("{}{path}", registry.base_url()));
        assert_eq!(out.stdout.trim_end(), r#"{"headers":{}}"#, "{path}");
    }
}

#[test]
fn plain_http_only_for_loopback_or_insecure() {
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"registry.example.com","helper":"oci"}]}"#);
    let err = bazel
        .get("http://registry.example.com/v2/team/app/manifests/v1")
        .failure();
    assert!(
        err.contains("refusing to send registry credentials for registry.example.com over http://"),
        "{err}"
    );
    assert!(err.contains("\"insecure\": true"), "{err}");
}

#[test]
fn realm_on_another_host_receives_no_credentials() {
    let token_server =
        TestServer::start(|_| Response::json(200, &serde_json::json!({"token": "t"})));
    // Same machine, different host name: `localhost` is not `127.0.0.1`.
    let realm = format!("http://localhost:{}/token", token_server.addr().port());
    let fake = fake_registry(realm.clone());
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(""));
    bazel.write(
        "home/.docker/config.json",
        docker_auths(fake.url().trim_start_matches("http://"), "u:leak-canary"),
    );
    let err = bazel
        .get(&format!("{}/v2/team/app/manifests/v1", fake.url()))
        .failure();
    assert!(err.contains("refusing to send credentials"), "{err}");
    assert!(err.contains(&realm), "{err}");
    assert!(err.contains("allowed_realm_hosts"), "{err}");
    assert_eq!(
        token_server.count(),
        0,
        "the foreign realm was never contacted"
    );

    // Listing the host explicitly allows it.
    bazel.config(&oci_config(r#""allowed_realm_hosts":["localhost"]"#));
    let answer = bazel
        .get(&format!("{}/v2/team/app/manifests/v1", fake.url()))
        .success();
    assert_eq!(answer.header("Authorization"), Some("Bearer t"));
    assert_eq!(token_server.count(), 1);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn credentials_from_a_lookup_chain_need_a_username() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel.config(&oci_config(
        r#""lookup_chain":[{"source":"env","name":"REG_PASS","binding":"password"}]"#,
    ));
    bazel.env("REG_PASS", "bob-password");
    let err = bazel
        .get(&registry.manifest_uri(&image.repo, &image.tag))
        .failure();
    assert!(
        err.contains("found a password") && err.contains("no username"),
        "{err}"
    );
}

#[test]
fn oci_config_errors() {
    for (config, want) in [
        (
            r#"{"token_exchange_method":"magic"}"#,
            "token_exchange_method: unknown variant, expected one of",
        ),
        (
            r#"{"lookup_chain":[{"source":"env","name":"X","binding":"pasword"}]}"#,
            "binding \"pasword\"",
        ),
        (r#"{"allowed_realm_hosts":["a{b"]}"#, "allowed_realm_hosts"),
        (
            r#"{"parse_docker":true}"#,
            "parse_docker: unknown field (expected one of:",
        ),
    ] {
        let mut bazel = Bazel::new();
        bazel.bad_config(&format!(
            r#"{{"urls":[{{"helper":"oci","config":{config}}}]}}"#
        ));
        let err = bazel.get("https://r.example/v2/a/manifests/1").failure();
        assert!(
            err.contains("entry 0 (every URL): config") && err.contains(want),
            "{config}: {err}"
        );
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn cache_disabled_still_works() {
    let (registry, image) = token_registry();
    let mut bazel = Bazel::new();
    bazel
        .config(&oci_config(""))
        .env("CREDENTIAL_HELPER_CACHE", "off");
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("bob:bob-password")),
    );
    pull(&bazel, &registry, &image);
    assert_eq!(
        registry.token_server().count(),
        3,
        "one exchange per call without a cache"
    );
    assert!(!bazel.home().join(".cache/credential-helper").exists());
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn without_config_unknown_registries_only_when_guessing_is_on() {
    let registry = Registry::basic("alice", "pw");
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    docker_auth(
        &bazel,
        &registry,
        &format!(r#"{{"auth":"{}"}}"#, b64("alice:pw")),
    );
    let uri = registry.manifest_uri(&image.repo, &image.tag);
    assert!(
        bazel.get(&uri).success().headers.is_empty(),
        "127.0.0.1 is no well-known registry"
    );
    bazel.env("CREDENTIAL_HELPER_GUESS_OCI_REGISTRY", "1");
    pull(&bazel, &registry, &image);
}

/// A registry on a private network over plain http (`"insecure": true`), by name, with its
/// token realm on the same host: the one case where a non-loopback realm may be http. The fake
/// registry is reached through `HTTP_PROXY`, so it sees the requests as sent to that name.
#[test]
fn insecure_registry_on_a_private_network_with_an_http_realm() {
    const HOST: &str = "registry.corp.example";
    let server = TestServer::start(|req| {
        let token_ok = req.header("authorization")
            == Some(format!("Basic {}", b64("alice:alice-pw")).as_str());
        match req.path_only() {
            "http://registry.corp.example/v2/" => Response::new(401).header(
                "WWW-Authenticate",
                r#"Bearer realm="http://registry.corp.example/token",service="registry.corp.example""#,
            ),
            "http://registry.corp.example/token" if token_ok => {
                Response::json(200, &serde_json::json!({"token": "corp-token", "expires_in": 300}))
            }
            _ => Response::new(404),
        }
    });
    let mut bazel = Bazel::new();
    bazel.env("HTTP_PROXY", server.url());
    bazel.write(
        "home/.docker/config.json",
        docker_auths(HOST, "alice:alice-pw"),
    );
    let uri = format!("http://{HOST}/v2/team/app/manifests/v1");
    let entry = |extra: &str| {
        format!(r#"{{"urls":[{{"host":"{HOST}","helper":"oci","config":{{{extra}}}}}]}}"#)
    };

    // Plain http to a host that is not loopback: refused before any request.
    bazel.config(&entry(""));
    let err = bazel.get(&uri).failure();
    assert!(err.contains("insecure"), "{err}");
    assert_eq!(server.count(), 0);

    bazel.config(&entry(r#""insecure":true"#));
    let answer = bazel.get(&uri).success();
    assert_eq!(answer.header("Authorization"), Some("Bearer corp-token"));
    let token = server
        .requests()
        .into_iter()
        .find(|r| r.path_only() == "http://registry.corp.example/token")
        .expect("a token request");
    assert!(
        token.path.contains("scope=repository%3Ateam%2Fapp%3Apull"),
        "{}",
        token.path
    );
}

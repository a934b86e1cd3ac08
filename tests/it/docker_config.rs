//! docker's `config.json` and `$DOCKER_AUTH_CONFIG` read as docker/cli reads them, and the
//! token exchange's fallbacks as go-containerregistry's transport does them, through the binary
//! against Debian's real registry and the fake token server.

use crate::support::registry::{Image, Registry, TokenServerConfig};
use crate::support::{Bazel, b64, docker_auths};

/// An oci entry for the registries on 127.0.0.1, with podman's files read too.
const CONFIG: &str =
    r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"parse_podman_config":true}}]}"#;

fn token_registry(config: TokenServerConfig) -> (Registry, Image) {
    let registry = Registry::token(
        config
            .user("bob", "bob-password")
            .identity_token("refresh-123", "bob")
            .public_repo("public/app"),
    );
    let image = registry.push_image("team/app", "v1");
    registry.push_image("public/app", "v1");
    (registry, image)
}

fn bazel() -> Bazel {
    let mut bazel = Bazel::new();
    bazel.config(CONFIG);
    bazel
}

fn docker_entry(bazel: &Bazel, registry: &Registry, entry: &str) {
    bazel.write(
        "home/.docker/config.json",
        format!(r#"{{"auths":{{"{}":{entry}}}}}"#, registry.host()),
    );
}

/// The manifest of `repo:v1` fetched with exactly the headers the helper answered.
fn fetch_status(bazel: &Bazel, registry: &Registry, repo: &str) -> u16 {
    let uri = registry.manifest_uri(repo, "v1");
    let answer = bazel.get(&uri).success();
    registry.fetch(&uri, &answer.headers).status
}

fn explain(bazel: &Bazel, registry: &Registry, repo: &str) -> String {
    let uri = registry.manifest_uri(repo, "v1");
    bazel.run(&["explain", &uri], None).ok().to_owned()
}

/// Issue 4: an optional Kubernetes secret mount leaves `config.json` as a directory. docker
/// warns and uses an empty config; go-containerregistry's `fileExists` says no file.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn config_json_that_is_a_directory_is_no_docker_config() {
    let (registry, image) = token_registry(TokenServerConfig::new());
    let mut bazel = bazel();
    std::fs::create_dir_all(bazel.home().join(".docker/config.json")).unwrap();
    // Anonymous access still works...
    assert_eq!(fetch_status(&bazel, &registry, "public/app"), 200);
    let trail = explain(&bazel, &registry, "public/app");
    assert!(trail.contains("is a directory"), "{trail}");
    // ...and a later source still supplies the credential.
    bazel.write(
        "home/.config/containers/auth.json",
        docker_auths(registry.host(), "bob:bob-password"),
    );
    assert_eq!(fetch_status(&bazel, &registry, &image.repo), 200);

    // The same through $DOCKER_CONFIG.
    let dir = bazel.root().join("mounted");
    std::fs::create_dir_all(dir.join("config.json")).unwrap();
    bazel.env("DOCKER_CONFIG", &dir);
    assert_eq!(fetch_status(&bazel, &registry, &image.repo), 200);
}

/// Issue 5: docker warns about a `DOCKER_AUTH_CONFIG` its `parseEnvConfig` refuses and uses
/// the files. Here the warning is a line of the trace (`explain`), naming the variable only.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn broken_docker_auth_config_is_a_note_and_the_file_is_used() {
    let (registry, image) = token_registry(TokenServerConfig::new());
    let host = registry.host();
    let secret = b64("bob:env-secret-value");
    let broken = [
        // Two JSON objects.
        format!(r#"{{"auths":{{"{host}":{{"auth":"{secret}"}}}}}}{{"auths":{{}}}}"#),
        // Fields docker does not allow there.
        format!(r#"{{"auths":{{"{host}":{{"auth":"{secret}","identitytoken":"x"}}}}}}"#),
        format!(r#"{{"credsStore":"pass","auths":{{"{host}":{{"auth":"{secret}"}}}}}}"#),
        // An entry without `auth`, an `auth` that is not base64, truncated JSON.
        format!(r#"{{"auths":{{"{host}":{{}},"other":{{"auth":"{secret}"}}}}}}"#),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{secret}!"}}}}}}"#),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{secret}"#),
    ];
    for value in broken {
        let mut bazel = bazel();
        docker_entry(
            &bazel,
            &registry,
            &format!(r#"{{"auth":"{}"}}"#, b64("bob:bob-password")),
        );
        bazel.env("DOCKER_AUTH_CONFIG", &value);
        assert_eq!(fetch_status(&bazel, &registry, &image.repo), 200, "{value}");
        let trail = explain(&bazel, &registry, &image.repo);
        assert!(
            trail.contains("DOCKER_AUTH_CONFIG ignored, as docker does"),
            "{value}\n{trail}"
        );
        assert!(
            !trail.contains(&secret) && !trail.contains("env-secret-value"),
            "{trail}"
        );
    }
}

/// docker's memory store answers only for the registry's exact key; a well-formed variable is
/// still layered over the file.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn docker_auth_config_keys_match_exactly_and_win_over_the_file() {
    let (registry, image) = token_registry(TokenServerConfig::new());
    let wrong = format!(r#"{{"auth":"{}"}}"#, b64("bob:wrong"));
    let right = format!(r#"{{"auth":"{}"}}"#, b64("bob:bob-password"));

    let mut bazel = bazel();
    docker_entry(&bazel, &registry, &wrong);
    bazel.env(
        "DOCKER_AUTH_CONFIG",
        docker_auths(registry.host(), "bob:bob-password"),
    );
    assert_eq!(fetch_status(&bazel, &registry, &image.repo), 200);

    // `https://<host>` is not the key docker looks up: the file's entry is used.
    let mut bazel = bazel_with_file(&registry, &right);
    bazel.env(
        "DOCKER_AUTH_CONFIG",
        docker_auths(&format!("https://{}", registry.host()), "bob:wrong"),
    );
    assert_eq!(fetch_status(&bazel, &registry, &image.repo), 200);
    let trail = explain(&bazel, &registry, &image.repo);
    assert!(trail.contains("DOCKER_AUTH_CONFIG has no auths"), "{trail}");
}

fn bazel_with_file(registry: &Registry, entry: &str) -> Bazel {
    let bazel = bazel();
    docker_entry(&bazel, registry, entry);
    bazel
}

/// Issue 6: `auth` of `<token>:` beside `identitytoken` (what registry login tools write):
/// the `identitytoken` field is the refresh token.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn token_placeholder_auth_beside_an_identity_token() {
    let (registry, image) = token_registry(TokenServerConfig::new());
    let bazel = bazel_with_file(
        &registry,
        &format!(
            r#"{{"auth":"{}","identitytoken":"refresh-123"}}"#,
            b64("<token>:")
        ),
    );
    assert_eq!(fetch_status(&bazel, &registry, &image.repo), 200);
    let posts: Vec<_> = registry
        .token_server()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert!(!posts.is_empty());
    for post in posts {
        let form = post.form();
        let value = |k| crate::support::http_server::value(&form, k).map(str::to_owned);
        assert_eq!(value("grant_type").as_deref(), Some("refresh_token"));
        assert_eq!(value("refresh_token").as_deref(), Some("refresh-123"));
    }
    assert_eq!(registry.token_server().gets(), 0);
}

/// Issue 7: a docker entry with a password and an identity token. go-containerregistry sends
/// the identity token in the refresh grant and, when the realm has no OAuth2 endpoint (404),
/// Basic username:password on the GET.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn oauth2_404_fallback_sends_the_stored_password() {
    let (registry, image) = token_registry(TokenServerConfig::new().oauth2(false));
    let bazel = bazel_with_file(
        &registry,
        &format!(
            r#"{{"auth":"{}","identitytoken":"refresh-123"}}"#,
            b64("bob:bob-password")
        ),
    );
    assert_eq!(fetch_status(&bazel, &registry, &image.repo), 200);
    let requests = registry.token_server().requests();
    assert_eq!(requests[0].method, "POST");
    let form = requests[0].form();
    assert_eq!(
        crate::support::http_server::value(&form, "refresh_token"),
        Some("refresh-123")
    );
    assert_eq!(requests[1].method, "GET");
    assert_eq!(
        requests[1].basic_auth(),
        Some(("bob".to_owned(), "bob-password".to_owned()))
    );
}

/// Without a password beside it the identity token is not sent on the fallback GET: it is
/// anonymous, as in go-containerregistry (a refresh token is no password).
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn identity_token_is_never_sent_on_the_get_fallback() {
    let (registry, _) = token_registry(TokenServerConfig::new().oauth2(false));
    let bazel = bazel_with_file(&registry, r#"{"identitytoken":"refresh-123"}"#);
    assert_eq!(fetch_status(&bazel, &registry, "public/app"), 200);
    let requests = registry.token_server().requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[1].method, "GET");
    assert_eq!(requests[1].header("authorization"), None);
}

/// docker's native store: a configured helper has the last word. When it knows nothing, the
/// `auths` entry beside it is not used (docker would pull anonymously too).
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn a_configured_helper_has_the_last_word() {
    let (registry, image) = token_registry(TokenServerConfig::new());
    let bazel = bazel();
    bazel.write(
        "home/.docker/config.json",
        format!(
            r#"{{"credsStore":"teststore","auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            registry.host(),
            b64("bob:bob-password")
        ),
    );
    bazel.script(
        "docker-credential-teststore",
        r#"echo "credentials not found in native keychain"; exit 1"#,
    );
    assert_eq!(fetch_status(&bazel, &registry, &image.repo), 401);
    assert!(
        registry
            .token_server()
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "anonymous"
    );
    let trail = explain(&bazel, &registry, &image.repo);
    assert!(trail.contains("credsStore 'teststore'"), "{trail}");
}

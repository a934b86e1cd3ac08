//! docker's credential-helper protocol (`docker-credential-<name> get`), rules_img's bare-host
//! requests, and the oci option `actions` (the scope of exchanged tokens), through the binary;
//! and skopeo, a real client of the protocol, pulling from Debian's real registry.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::http_server::{Response, TestServer, fake_registry, value};
use crate::support::registry::{Image, Registry, TokenServerConfig};
use crate::support::{Answer, Bazel, b64, binary};

const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// `bin/docker-credential-<name>`, a symlink to the binary under test (on `PATH`).
fn link(bazel: &Bazel, name: &str) -> PathBuf {
    let path = bazel
        .root()
        .join("bin")
        .join(format!("docker-credential-{name}"));
    std::os::unix::fs::symlink(binary(), &path).unwrap();
    path
}

/// `docker-credential-self <args>` with `stdin`, as docker runs a helper.
fn helper(bazel: &Bazel, args: &[&str], stdin: &str) -> Answer {
    let program = bazel.root().join("bin/docker-credential-self");
    if !program.exists() {
        link(bazel, "self");
    }
    bazel.run_program(&program, args, Some(stdin))
}

/// `get` for `server`: exit 0 and the protocol's JSON, parsed; nothing on stderr.
fn get_ok(bazel: &Bazel, server: &str) -> serde_json::Value {
    let answer = helper(bazel, &["get"], server);
    assert_eq!(answer.status, Some(0), "{answer}");
    assert!(answer.stderr.is_empty(), "{answer}");
    assert!(
        answer.stdout.ends_with('\n') && answer.stdout.lines().count() == 1,
        "{answer}"
    );
    serde_json::from_str(&answer.stdout).unwrap()
}

/// `get` for `server` fails: exit 1, one line on stdout (nothing on stderr); the line.
fn get_err(bazel: &Bazel, server: &str) -> String {
    let answer = helper(bazel, &["get"], server);
    assert_eq!(answer.status, Some(1), "{answer}");
    assert!(answer.stderr.is_empty(), "{answer}");
    assert_eq!(answer.stdout.lines().count(), 1, "{answer}");
    answer.stdout
}

fn static_entry(host: &str, user: &str, password: &str) -> String {
    format!(
        r#"{{"urls":[{{"host":"{host}","helper":"oci","config":{{"lookup_chain":[
            {{"source":"static","value":"{user}","binding":"username"}},
            {{"source":"static","value":"{password}","binding":"password"}}]}}}}]}}"#
    )
}

#[test]
fn get_answers_the_configured_credential() {
    let mut bazel = Bazel::new();
    bazel.config(&static_entry("registry.example.com", "ci-bot", "s3cret"));
    let answer = get_ok(&bazel, "registry.example.com\n");
    assert_eq!(
        answer,
        serde_json::json!({"ServerURL": "registry.example.com", "Username": "ci-bot", "Secret": "s3cret"})
    );
    // The spellings docker and podman use; ServerURL is what was asked, trimmed.
    for server in [
        "https://registry.example.com",
        "https://registry.example.com/v1/",
        "REGISTRY.example.com",
        "registry.example.com/team/app",
    ] {
        let answer = get_ok(&bazel, server);
        assert_eq!(answer["ServerURL"], server, "{server}");
        assert_eq!(answer["Secret"], "s3cret", "{server}");
    }
    // Another registry has nothing.
    assert_eq!(get_err(&bazel, "other.example.com"), NOT_FOUND);
    // The debug trace names the decisions, never the credential.
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let traced = helper(&bazel, &["get"], "registry.example.com");
    assert_eq!(traced.status, Some(0), "{traced}");
    assert!(traced.stderr.contains("lookup_chain"), "{traced}");
    assert!(
        !traced.stderr.contains("s3cret") && !traced.stderr.contains("ci-bot"),
        "{traced}"
    );
    bazel.env_remove("CREDENTIAL_HELPER_LOG");
    // The subcommand speaks the same protocol.
    let answer = bazel.run(&["docker-credential", "get"], Some("registry.example.com"));
    assert_eq!(answer.status, Some(0), "{answer}");
    assert!(answer.stdout.contains(r#""Username":"ci-bot""#), "{answer}");
}

#[test]
fn get_answers_the_environment_keychain_and_docker_hub_by_any_name() {
    let mut bazel = Bazel::new();
    bazel
        .env("IMGPKG_REGISTRY_HOSTNAME_0", "reg.corp.example:5000")
        .env("IMGPKG_REGISTRY_USERNAME_0", "kapp")
        .env("IMGPKG_REGISTRY_PASSWORD_0", "env-pw");
    let answer = get_ok(&bazel, "reg.corp.example:5000");
    assert_eq!(
        (answer["Username"].as_str(), answer["Secret"].as_str()),
        (Some("kapp"), Some("env-pw"))
    );

    bazel.write(
        "home/.docker/config.json",
        serde_json::json!({"auths": {"https://index.docker.io/v1/": {"auth": b64("hubuser:hub-pw")}}})
            .to_string(),
    );
    for server in [
        "https://index.docker.io/v1/",
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
    ] {
        let answer = get_ok(&bazel, server);
        assert_eq!(answer["Username"], "hubuser", "{server}");
        assert_eq!(answer["Secret"], "hub-pw", "{server}");
    }
}

#[test]
fn identity_tokens_use_the_token_username() {
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"reg.example","helper":"oci"}]}"#);
    bazel.write(
        "home/.docker/config.json",
        r#"{"auths":{"reg.example":{"identitytoken":"refresh-abc"}}}"#,
    );
    let answer = get_ok(&bazel, "reg.example");
    assert_eq!(
        (answer["Username"].as_str(), answer["Secret"].as_str()),
        (Some("<token>"), Some("refresh-abc"))
    );
}

#[test]
fn nothing_for_a_registry_is_the_protocols_not_found() {
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"reg.example","helper":"oci"},{"host":"files.example","helper":"null"}]}"#);
    // Covered but nothing stored; not covered; not a registry entry.
    for server in ["reg.example", "other.example", "files.example"] {
        assert_eq!(get_err(&bazel, server), NOT_FOUND, "{server}");
    }
    // With a registry token the protocol has no form for: an error without the token.
    bazel.write(
        "home/.docker/config.json",
        r#"{"auths":{"reg.example":{"registrytoken":"rt-canary"}}}"#,
    );
    let err = get_err(&bazel, "reg.example");
    assert!(
        err.starts_with("credential-helper: ") && err.contains("registry token"),
        "{err}"
    );
    assert!(!err.contains("rt-canary"), "{err}");
}

#[test]
fn a_helper_that_is_this_program_is_never_asked() {
    // docker's config sends every registry to docker-credential-self: this program.
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"reg.example","helper":"oci"}]}"#);
    bazel.write(
        "home/.docker/config.json",
        r#"{"credsStore":"self","credHelpers":{"reg.example":"self"}}"#,
    );
    let started = Instant::now();
    assert_eq!(get_err(&bazel, "reg.example"), NOT_FOUND);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // Bazel's own requests skip it too.
    let answer = bazel.get("https://reg.example/v2/team/app/manifests/v1");
    assert!(
        !answer.stderr.contains("docker-credential-self failed"),
        "{answer}"
    );

    // A wrapper script is another program: the variable set for children stops the loop.
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"reg.example","helper":"oci"}]}"#);
    bazel.script(
        "docker-credential-wrap",
        &format!("exec {} docker-credential \"$@\"", binary()),
    );
    bazel.write(
        "home/.docker/config.json",
        r#"{"credHelpers":{"reg.example":"wrap"}}"#,
    );
    let started = Instant::now();
    assert_eq!(get_err(&bazel, "reg.example"), NOT_FOUND);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn bad_input_is_one_line_on_stdout() {
    let bazel = Bazel::new();
    let cases: &[(&[&str], &str, &str)] = &[
        (&["get"], "", "no credentials server URL"),
        (&["get"], "  \n", "no credentials server URL"),
        (&["get"], "ftp://reg.example", "not a registry"),
        (
            &["get"],
            "https://user:pw-canary@reg.example",
            "not a registry",
        ),
        (&["get"], "{\"uri\":\"https://x\"}", "not a registry"),
        (
            &["frobnicate"],
            "",
            "Unknown credential action `frobnicate`",
        ),
        (
            &[],
            "",
            "Usage: docker-credential-self <store|get|erase|list|version>",
        ),
        (&["get", "extra"], "", "Usage: docker-credential-self"),
        // No keychain reachable (no session bus here): what to do instead.
        (
            &["store"],
            r#"{"ServerURL":"r","Username":"u","Secret":"canary"}"#,
            "CREDENTIAL_HELPER_STORE=file",
        ),
    ];
    for (args, stdin, want) in cases {
        let answer = helper(&bazel, args, stdin);
        assert_eq!(answer.status, Some(1), "{args:?} {stdin:?}\n{answer}");
        assert!(answer.stdout.contains(want), "{args:?} {stdin:?}\n{answer}");
        assert_eq!(answer.stdout.lines().count(), 1, "{answer}");
        assert!(answer.stderr.is_empty(), "{answer}");
        assert!(!answer.stdout.contains("canary"), "{answer}");
    }
    let version = helper(&bazel, &["version"], "");
    assert_eq!(version.status, Some(0), "{version}");
    assert!(
        version
            .stdout
            .starts_with("docker-credential-self (credential-helper) "),
        "{version}"
    );
    // Under its own name the binary is still the Bazel helper.
    assert_eq!(
        bazel.run(&["version"], None).ok().lines().next(),
        Some(format!("credential-helper {}", env!("CARGO_PKG_VERSION")).as_str())
    );
}

#[test]
fn bare_hosts_get_the_stored_credential_for_rules_img() {
    let mut bazel = Bazel::new();
    bazel.config(&static_entry("registry.example.com", "pusher", "push-pw"));
    let answer = bazel.get("registry.example.com").success();
    let basic = format!("Basic {}", b64("pusher:push-pw"));
    assert_eq!(answer.header("Authorization"), Some(basic.as_str()));
    assert!(answer.expires_at().is_none());
    let explained = bazel.run(&["explain", "registry.example.com"], None);
    assert!(
        explained.ok().contains("Authorization: Basic <redacted>"),
        "{explained}"
    );
    assert!(!explained.stdout.contains("push-pw"), "{explained}");

    // host:port, from the environment keychain, with the defaults in force.
    let mut bazel = Bazel::new();
    bazel
        .env(
            "CREDENTIAL_HELPER_REGISTRY_HOSTNAME",
            "reg.corp.example:5000",
        )
        .env("CREDENTIAL_HELPER_REGISTRY_REGISTRY_TOKEN", "rt-1");
    let answer = bazel.get("reg.corp.example:5000").success();
    assert_eq!(answer.header("Authorization"), Some("Bearer rt-1"));

    // Covered, nothing stored: no headers (anonymous).
    bazel.config(r#"{"urls":[{"host":"reg.example","helper":"oci"}]}"#);
    assert!(bazel.get("reg.example").success().headers.is_empty());
    // An identity token cannot travel as Basic: a clear error without it.
    bazel.write(
        "home/.docker/config.json",
        r#"{"auths":{"reg.example":{"identitytoken":"id-canary"}}}"#,
    );
    let err = bazel.get("reg.example").failure();
    assert!(
        err.contains("identity token") && !err.contains("id-canary"),
        "{err}"
    );
    // A host nothing covers is still no URL.
    let err = bazel.get("elsewhere.example").failure();
    assert!(err.contains("bare host that no oci entry covers"), "{err}");
    assert!(
        err.contains(r#"{"host": "elsewhere.example", "helper": "oci"}"#),
        "{err}"
    );
    assert!(bazel.get("not a url").failure().contains("not a URL"));
}

/// A registry whose realm (another server) records each token request's scope and answers
/// `token-for-<scope>`.
fn scope_recording_registry() -> (TestServer, TestServer) {
    let realm = TestServer::start(|req| {
        let query = req.query();
        let scope = value(&query, "scope").unwrap_or("none").to_string();
        Response::json(
            200,
            &serde_json::json!({"token": format!("token-for-{scope}"), "expires_in": 300}),
        )
    });
    let registry = fake_registry(format!("{}/token", realm.url()));
    (registry, realm)
}

#[test]
fn tokens_are_exchanged_for_the_configured_actions() {
    let (registry, realm) = scope_recording_registry();
    let uri = format!("{}/v2/team/app/manifests/v1", registry.url());
    let config = |actions: &str| {
        format!(
            r#"{{"urls":[{{"host":"127.0.0.1","helper":"oci","config":{{{actions}"lookup_chain":[
                {{"source":"static","value":"u","binding":"username"}},
                {{"source":"static","value":"p","binding":"password"}}]}}}}]}}"#
        )
    };
    let mut bazel = Bazel::new();
    bazel.config(&config(""));
    let pull = bazel.get(&uri).success();
    assert_eq!(
        pull.header("Authorization"),
        Some("Bearer token-for-repository:team/app:pull")
    );
    // The pull token is cached; a push-scoped entry never gets it.
    bazel.config(&config(r#""actions":["push","pull"],"#));
    let push = bazel.get(&uri).success();
    assert_eq!(
        push.header("Authorization"),
        Some("Bearer token-for-repository:team/app:pull,push")
    );
    let scopes: Vec<String> = realm
        .requests()
        .iter()
        .filter_map(|r| value(&r.query(), "scope").map(str::to_string))
        .collect();
    assert_eq!(
        scopes,
        ["repository:team/app:pull", "repository:team/app:pull,push"]
    );
    // Each from the cache now.
    assert_eq!(
        bazel.get(&uri).success().header("Authorization"),
        push.header("Authorization")
    );
    bazel.config(&config(""));
    assert_eq!(
        bazel.get(&uri).success().header("Authorization"),
        pull.header("Authorization")
    );
    assert_eq!(realm.count(), 2);
    // Unknown actions are a config error.
    bazel.bad_config(&config(r#""actions":["delete"],"#));
    assert!(bazel.get(&uri).failure().contains("actions"));
}

/// skopeo succeeded and printed the manifest `image` was pushed with.
fn assert_pulled(answer: &Answer, image: &Image) {
    assert_eq!(answer.status, Some(0), "{answer}");
    assert_eq!(
        crate::support::registry::sha256(answer.stdout.as_bytes()),
        image.manifest_digest
    );
}

/// Runs skopeo in the sandbox's environment: `REGISTRY_AUTH_FILE` sends `registry`'s host to
/// `docker-credential-<name>`, a link to this binary on skopeo's `PATH`.
fn skopeo_inspect(bazel: &mut Bazel, registry: &Registry, name: &str) -> Answer {
    link(bazel, name);
    let auth = bazel.write(
        "home/auth.json",
        serde_json::json!({"credHelpers": {registry.host(): name}}).to_string(),
    );
    bazel.env("REGISTRY_AUTH_FILE", &auth);
    let image = format!("docker://{}/team/app:v1", registry.host());
    bazel.run_program(
        &crate::support::tools::require("skopeo"),
        &["inspect", "--tls-verify=false", "--raw", &image],
        None,
    )
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry, htpasswd and skopeo: runs on Linux"
)]
fn skopeo_pulls_with_a_static_credential() {
    let registry = Registry::basic("alice", "alice-pw");
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(&static_entry("127.0.0.1", "alice", "alice-pw"));
    let answer = skopeo_inspect(&mut bazel, &registry, "credential-helper");
    assert_pulled(&answer, &image);
    // Without the credential, skopeo is refused: the answer above made the difference.
    let refused = skopeo_inspect(&mut Bazel::new(), &registry, "credential-helper");
    assert_ne!(refused.status, Some(0), "{refused}");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry, htpasswd and skopeo: runs on Linux"
)]
fn skopeo_pulls_with_an_environment_keychain_credential() {
    let registry = Registry::basic("kapp", "env-pw");
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel
        .env("IMGPKG_REGISTRY_HOSTNAME_0", registry.host())
        .env("IMGPKG_REGISTRY_USERNAME_0", "kapp")
        .env("IMGPKG_REGISTRY_PASSWORD_0", "env-pw");
    let answer = skopeo_inspect(&mut bazel, &registry, "mine");
    assert_pulled(&answer, &image);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry, htpasswd and skopeo: runs on Linux"
)]
fn skopeo_pulls_from_a_token_registry() {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "bob-pw"));
    let image = registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(&static_entry("127.0.0.1", "bob", "bob-pw"));
    let answer = skopeo_inspect(&mut bazel, &registry, "credential-helper");
    assert_pulled(&answer, &image);
    // skopeo made the exchange with the username and password this helper answered.
    assert!(registry.token_server().count() >= 1);
}

/// `get` for `server` with the cloud keychain `keychain` on: the answer's username and secret.
fn cloud_answer(bazel: &mut Bazel, keychain: &str, server: &str) -> (String, String) {
    bazel.env("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", keychain);
    let answer = get_ok(bazel, server);
    let field = |k: &str| answer[k].as_str().unwrap().to_string();
    (field("Username"), field("Secret"))
}

#[test]
fn cloud_keychains_answer_the_usernames_of_their_own_helpers() {
    // ECR: `AWS` and the password, as amazon-ecr-credential-helper answers.
    let ecr = TestServer::start(|_| {
        let entry = serde_json::json!({"authorizationToken": b64("AWS:ecr-pw"), "expiresAt": 4_000_000_000u64});
        Response::new(200)
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(serde_json::json!({"authorizationData": [entry]}).to_string())
    });
    let mut bazel = Bazel::new();
    bazel
        .env("AWS_ENDPOINT_URL_ECR", ecr.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "aws-secret");
    let host = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
    assert_eq!(
        cloud_answer(&mut bazel, "ecr", host),
        ("AWS".into(), "ecr-pw".into())
    );
    // For rules_img, ECR's finished Basic value, with its expiry.
    let answer = bazel.get(host).success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Basic {}", b64("AWS:ecr-pw")).as_str())
    );
    assert!(answer.expires_at().is_some());

    // Google: the access token as the password of `oauth2accesstoken`.
    let metadata = TestServer::start(|_| {
        Response::json(
            200,
            &serde_json::json!({"access_token": "ya29.gcp", "expires_in": 3599, "token_type": "Bearer"}),
        )
    });
    let mut bazel = Bazel::new();
    bazel.env("GCE_METADATA_HOST", metadata.addr().to_string());
    bazel.script("gcloud", "exit 1");
    assert_eq!(
        cloud_answer(&mut bazel, "gcp", "us-docker.pkg.dev"),
        ("oauth2accesstoken".into(), "ya29.gcp".into())
    );

    // Azure: ACR's refresh token under its all-zero username, as docker-credential-acr-env
    // answers (the registry is reached through a proxy, so over plain http).
    let authority = TestServer::start(|_| {
        Response::json(
            200,
            &serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "aad-arm"}),
        )
    });
    let acr = TestServer::start(|req| match req.path_only() {
        "http://myreg.azurecr.io/oauth2/exchange" => {
            Response::json(200, &serde_json::json!({"refresh_token": "acr-refresh"}))
        }
        _ => Response::new(404),
    });
    let mut bazel = Bazel::new();
    bazel
        .config(r#"{"urls":[{"host":"*.azurecr.io","helper":"oci","config":{"insecure":true}}]}"#)
        .env("HTTP_PROXY", acr.url())
        .env("NO_PROXY", "127.0.0.1")
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1")
        .env("AZURE_AUTHORITY_HOST", authority.url())
        .env("AZURE_TENANT_ID", "tenant-1")
        .env("AZURE_CLIENT_ID", "client-1")
        .env("AZURE_CLIENT_SECRET", "azure-secret");
    bazel.script("az", "exit 1");
    let (username, secret) = cloud_answer(&mut bazel, "azure", "http://myreg.azurecr.io");
    assert_eq!(
        (username.as_str(), secret.as_str()),
        ("00000000-0000-0000-0000-000000000000", "acr-refresh")
    );
}

#[test]
fn store_list_get_erase_round_trip_on_the_login_store() {
    // docker as a `credsStore` user: `docker login` stores, `docker logout` erases.
    let mut bazel = Bazel::new();
    bazel.env("CREDENTIAL_HELPER_STORE", "file");
    let stored = helper(
        &bazel,
        &["store"],
        r#"{"ServerURL":"https://registry.example.com","Username":"ci-bot","Secret":"s3cret"}"#,
    );
    assert_eq!(stored.status, Some(0), "{stored}");
    assert!(
        stored.stdout.is_empty() && stored.stderr.is_empty(),
        "{stored}"
    );

    let listed = helper(&bazel, &["list"], "");
    assert_eq!(listed.status, Some(0), "{listed}");
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(
        listed,
        serde_json::json!({"registry.example.com": "ci-bot"})
    );

    // What was stored is what `get` answers, with no config at all.
    let answer = get_ok(&bazel, "registry.example.com");
    assert_eq!(answer["Username"], "ci-bot");
    assert_eq!(answer["Secret"], "s3cret");

    let erased = helper(&bazel, &["erase"], "https://registry.example.com\n");
    assert_eq!(erased.status, Some(0), "{erased}");
    assert_eq!(get_err(&bazel, "registry.example.com"), NOT_FOUND);
    // Erasing again: one line, exit 1, as docker's own helpers answer.
    let again = helper(&bazel, &["erase"], "registry.example.com");
    assert_eq!(again.status, Some(1), "{again}");
    assert_eq!(again.stdout.lines().count(), 1, "{again}");
    // The secret never shows in anything but `get`'s answer.
    for answer in [&stored, &erased, &again] {
        assert!(!answer.stdout.contains("s3cret") && !answer.stderr.contains("s3cret"));
    }
    let bad = helper(&bazel, &["store"], r#"{"ServerURL":"x","Secret":"s3cret""#);
    assert_eq!(bad.status, Some(1), "{bad}");
    assert!(!bad.stdout.contains("s3cret"), "{bad}");
}

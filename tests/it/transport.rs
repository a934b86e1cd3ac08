//! Where credentials may travel, through the binary: one plain-http rule for every helper that
//! sends a credential, realms kept off the local network (also anonymously), header values
//! without control characters, path globs that see the path as sent, and errors that name the
//! source and the field, never the value.

use crate::support::http_server::{Response, TestServer, fake_registry};
use crate::support::{Bazel, b64, docker_auths};

const CANARY: &str = "canary-5e1f0d";

fn assert_no_canary(err: &str) {
    assert!(!err.contains(CANARY), "the value leaked: {err}");
}

/// Plain `http://` off loopback: refused before any helper runs (no request is needed), with
/// one line that says how to fix it and never shows the secret.
#[test]
fn plain_http_off_loopback_is_refused_for_every_helper_that_sends_a_credential() {
    let header = |extra: &str| {
        format!(
            r#"{{"urls":[{{"host":"cache.example","helper":"header","config":{{"header_name":"x-api-key",{extra}"lookup_chain":[{{"source":"env","name":"KEY"}}]}}}}]}}"#
        )
    };
    let netrc = |extra: &str| {
        format!(r#"{{"urls":[{{"host":"cache.example","helper":"netrc","config":{{{extra}}}}}]}}"#)
    };
    // (helper, config or None for the built-in defaults, uri)
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        (
            "github",
            None,
            "http://github.com/o/r/releases/download/v1/x.tgz",
        ),
        (
            "github",
            None,
            "http://raw.githubusercontent.com/o/r/main/f",
        ),
        ("gcs", None, "http://storage.googleapis.com/bucket/o"),
        ("gar", None, "http://us-python.pkg.dev/p/r/simple/pkg/"),
        ("header", Some(header("")), "http://cache.example/ac/1"),
        ("netrc", Some(netrc("")), "http://cache.example/file.tgz"),
        ("s3", None, "http://bucket.s3.us-east-1.amazonaws.com/key"),
        ("azblob", None, "http://acct.blob.core.windows.net/c/b"),
        (
            "oci",
            Some(r#"{"urls":[{"host":"registry.example.com","helper":"oci"}]}"#.into()),
            "http://registry.example.com/v2/team/app/manifests/v1",
        ),
        // Private and link-local addresses are not loopback.
        (
            "header",
            Some(header("").replace("cache.example", "*")),
            "http://10.0.0.5:8080/x",
        ),
        (
            "header",
            Some(header("").replace("cache.example", "*")),
            "http://169.254.169.254/x",
        ),
        (
            "header",
            Some(header("").replace("cache.example", "*")),
            "http://[fd00::1]/x",
        ),
    ];
    for (helper, config, uri) in cases {
        let mut bazel = Bazel::new();
        bazel
            .env("GH_TOKEN", CANARY)
            .env("KEY", CANARY)
            .env("AWS_ACCESS_KEY_ID", "AKIDCANARY")
            .env("AWS_SECRET_ACCESS_KEY", CANARY)
            .env("AZURE_CLIENT_ID", "id")
            .env("AZURE_TENANT_ID", "tenant")
            .env("AZURE_CLIENT_SECRET", CANARY)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        bazel.write(
            "home/.netrc",
            format!("machine cache.example login u password {CANARY}\n"),
        );
        bazel.write(
            "home/.docker/config.json",
            docker_auths("registry.example.com", &format!("u:{CANARY}")),
        );
        if let Some(config) = &config {
            bazel.config(config);
        }
        let out = bazel.get(uri);
        let err = out.failure();
        assert!(
            err.contains("refusing to send") && err.contains("over http://"),
            "{helper} {uri}: {err}"
        );
        assert!(
            err.contains("https"),
            "{helper} {uri}: the fix is named: {err}"
        );
        assert_no_canary(&err);
        for form in [b64(&format!("u:{CANARY}")), b64(&format!("{CANARY}:"))] {
            assert!(!out.stderr.contains(&form), "{out}");
        }
    }
}

/// The way out for a server on a trusted private network, and loopback, where nothing on the
/// network sees the traffic.
#[test]
fn plain_http_works_on_loopback_and_where_the_entry_says_insecure() {
    let mut bazel = Bazel::new();
    bazel.env("KEY", "k-1").env("GH_TOKEN", "gh-1");
    bazel.write(
        "home/.netrc",
        "machine 127.0.0.1 login u password p\nmachine lan.example login u password p\n",
    );
    bazel.config(
        r#"{"urls":[
            {"host":"lan.example","path":"/ac/*","helper":"header","config":{"header_name":"x-api-key","insecure":true,"lookup_chain":[{"source":"env","name":"KEY"}]}},
            {"host":"lan.example","helper":"netrc","config":{"insecure":true}},
            {"host":"127.0.0.1:8080","helper":"header","config":{"header_name":"x-api-key","lookup_chain":[{"source":"env","name":"KEY"}]}},
            {"host":"[::1]:8080","helper":"header","config":{"header_name":"x-api-key","lookup_chain":[{"source":"env","name":"KEY"}]}},
            {"host":"localhost","helper":"github"},
            {"host":"127.0.0.1","helper":"netrc"}
        ]}"#,
    );
    let basic = format!("Basic {}", b64("u:p"));
    for (uri, header, want) in [
        ("http://lan.example/ac/1", "x-api-key", "k-1"),
        ("http://lan.example/file", "Authorization", basic.as_str()),
        ("http://127.0.0.1:8080/ac/1", "x-api-key", "k-1"),
        ("http://[::1]:8080/ac/1", "x-api-key", "k-1"),
        (
            "http://localhost:9000/o/r/x",
            "Authorization",
            "Bearer gh-1",
        ),
        ("http://127.0.0.1:9000/x", "Authorization", basic.as_str()),
    ] {
        let answer = bazel.get(uri).success();
        assert_eq!(answer.header(header), Some(want), "{uri}");
    }
}

/// `http://` URLs that get no credential anyway still answer `{"headers":{}}`.
#[test]
fn plain_http_without_a_credential_to_send_answers_no_headers() {
    let mut bazel = Bazel::new();
    bazel.env("GH_TOKEN", CANARY);
    for uri in [
        "http://example.com/file.tgz",
        "http://bcr.bazel.build/modules/x/1/MODULE.bazel",
        "http://objects.githubusercontent.com/github-production-release-asset/1",
        "http://github.com/o/r/releases/download/v1/x?X-Amz-Signature=abc",
        "http://bucket.s3.us-east-1.amazonaws.com/key?X-Amz-Signature=abc",
        "http://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=abc",
        "http://registry-1.docker.io/v2/",
        "http://ghcr.io/token?scope=x",
    ] {
        assert_eq!(
            bazel.get(uri).stdout.trim_end(),
            r#"{"headers":{}}"#,
            "{uri}"
        );
    }
    bazel.config(r#"{"urls":[{"host":"mirror.example","helper":"null"}]}"#);
    assert_eq!(
        bazel.get("http://mirror.example/x").stdout.trim_end(),
        r#"{"headers":{}}"#
    );
}

/// A recording stand-in for every host reached through `HTTP_PROXY`: it answers a token to
/// any request, so a fetch the helper should not have made would succeed and be counted.
fn recording_proxy() -> TestServer {
    TestServer::start(|_| {
        Response::json(
            200,
            &serde_json::json!({"token": CANARY, "expires_in": 300}),
        )
    })
}

fn anonymous_pull(
    bazel: &mut Bazel,
    registry: &TestServer,
    proxy: &TestServer,
) -> crate::support::Answer {
    bazel
        .config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"parse_docker_config":false,"parse_podman_config":false}}]}"#)
        .env("CREDENTIAL_HELPER_CACHE", "off")
        .env("HTTP_PROXY", proxy.url())
        .env("NO_PROXY", "127.0.0.1");
    bazel.get(&format!("{}/v2/team/app/manifests/v1", registry.url()))
}

/// With no credential at all, a registry may not point its realm at the local network: the
/// token it would fetch there goes to Bazel for that registry.
#[test]
fn anonymous_exchanges_never_follow_a_realm_into_the_local_network() {
    let token_server =
        TestServer::start(|_| Response::json(200, &serde_json::json!({"token": CANARY})));
    let localhost = format!("http://localhost:{}/token", token_server.addr().port());
    for realm in [
        localhost.as_str(),
        "http://10.1.2.3/token",
        "http://172.20.0.1/token",
        "http://192.168.1.1/token",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00::1]/token",
        "http://[fe80::1]/token",
        "http://0.0.0.0:8080/token",
        "http://127.0.0.2:8080/token",
    ] {
        let proxy = recording_proxy();
        let registry = fake_registry(realm.to_string());
        let mut bazel = Bazel::new();
        let err = anonymous_pull(&mut bazel, &registry, &proxy).failure();
        assert!(err.contains("refusing to fetch a token"), "{realm}: {err}");
        assert!(err.contains("allowed_realm_hosts"), "{realm}: {err}");
        assert_no_canary(&err);
        assert_eq!(proxy.count(), 0, "{realm}: the realm was contacted");
        assert_eq!(registry.count(), 1, "{realm}: only the /v2/ ping");
    }
    assert_eq!(token_server.count(), 0);

    // The proxy does see realms the rule allows: a public name anonymously.
    let proxy = recording_proxy();
    let registry = fake_registry("http://auth.example/token".into());
    let answer = anonymous_pull(&mut Bazel::new(), &registry, &proxy).success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {CANARY}").as_str())
    );
    assert_eq!(proxy.count(), 1);
}

/// A value with a control character is an error naming its source, never the value: it would
/// add headers of its own to Bazel's request.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn header_values_with_control_characters_are_refused() {
    // GH_TOKEN with CR LF.
    let mut bazel = Bazel::new();
    bazel.env("GH_TOKEN", format!("{CANARY}\r\nX-Injected: 1"));
    let err = bazel
        .get("https://github.com/o/r/releases/download/v1/x.tgz")
        .failure();
    assert!(
        err.contains("the token from env GH_TOKEN contains a control character"),
        "{err}"
    );
    assert!(!err.contains("X-Injected"), "{err}");
    assert_no_canary(&err);

    // A docker `registrytoken` with LF, used as the bearer token directly.
    let oci = r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#;
    let uri = "http://127.0.0.1:5999/v2/team/app/manifests/v1";
    let mut bazel = Bazel::new();
    bazel.config(oci);
    bazel.write(
        "home/.docker/config.json",
        serde_json::json!({"auths": {"127.0.0.1:5999": {"registrytoken": format!("{CANARY}\nX-Injected: 1")}}})
            .to_string(),
    );
    let err = bazel.get(uri).failure();
    assert!(err.contains("contains a control character"), "{err}");
    assert!(
        err.contains(".docker/config.json"),
        "names the source: {err}"
    );
    assert_no_canary(&err);

    // The environment keychain's password with CR: the Basic header made from it.
    let registry = crate::support::registry::Registry::basic("alice", "pw");
    let mut bazel = Bazel::new();
    bazel
        .config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#)
        .env(
            "CREDENTIAL_HELPER_REGISTRY_HOSTNAME",
            registry.base_url().trim_start_matches("http://"),
        )
        .env("CREDENTIAL_HELPER_REGISTRY_USERNAME", "alice")
        .env("CREDENTIAL_HELPER_REGISTRY_PASSWORD", format!("{CANARY}\r"));
    let err = bazel
        .get(&format!("{}/v2/team/app/manifests/v1", registry.base_url()))
        .failure();
    assert!(
        err.contains("CREDENTIAL_HELPER_REGISTRY_PASSWORD"),
        "names the source: {err}"
    );
    assert!(err.contains("control character"), "{err}");
    assert_no_canary(&err);
}

/// Path globs see the path exactly as Bazel sent it: one a server may resolve to another path
/// never matches, so the entry is skipped and a later one (or none) applies.
#[test]
fn path_globs_never_match_paths_with_dot_segments_or_encoded_slashes() {
    let mut bazel = Bazel::new();
    bazel
        .env("PRIVATE_KEY", CANARY)
        .env("PUBLIC_KEY", "public-key");
    let entry = |path: &str, var: &str| {
        format!(
            r#"{{"host":"files.example","path":"{path}","helper":"header","config":{{"header_name":"x-key","lookup_chain":[{{"source":"env","name":"{var}"}}]}}}}"#
        )
    };
    bazel.config(&format!(
        r#"{{"urls":[{},{}]}}"#,
        entry("/private/*", "PRIVATE_KEY"),
        entry("/public/*", "PUBLIC_KEY")
    ));
    let key = |uri: &str| bazel.get(uri).success().header("x-key").map(str::to_string);
    assert_eq!(
        key("https://files.example/private/x").as_deref(),
        Some(CANARY)
    );
    assert_eq!(
        key("https://files.example/public/x").as_deref(),
        Some("public-key")
    );
    for uri in [
        "https://files.example/private//../public/x",
        "https://files.example/private/..%2fpublic/x",
        "https://files.example/private/%2e%2e/x",
        "https://files.example/private/%2E%2E/public/x",
        "https://files.example/private/./x",
        "https://files.example/private/a%5c..%5cx",
        "https://files.example/public/../private/x",
    ] {
        assert_eq!(key(uri), None, "{uri}");
    }
}

/// Errors name the source and the field: a proxy URL's password, an STS error code and a
/// config value in the wrong field are never quoted.
#[test]
fn errors_never_quote_proxy_urls_server_codes_or_config_values() {
    // Proxy URLs (the client is built on the first request, to a registry here).
    for (var, proxy, uri) in [
        (
            "HTTPS_PROXY",
            format!("http://user:{CANARY}@[proxy.example:3128"),
            "https://registry.example/v2/a/manifests/1",
        ),
        (
            "HTTP_PROXY",
            format!("http://user:{CANARY}@[proxy.example:3128"),
            "http://127.0.0.1:5999/v2/a/manifests/1",
        ),
    ] {
        let mut bazel = Bazel::new();
        bazel
            .config(r#"{"urls":[{"host":"registry.example","helper":"oci"},{"host":"127.0.0.1","helper":"oci"}]}"#)
            .env(var, &proxy)
            .env("CREDENTIAL_HELPER_CACHE", "off");
        let err = bazel.get(uri).failure();
        assert!(
            err.contains(&format!("{var} is not a valid proxy URL")),
            "{err}"
        );
        assert_no_canary(&err);
    }

    // An STS error whose <Code> is not a code.
    let sts = TestServer::start(|_| {
        Response::text(
            400,
            &format!(
                "<ErrorResponse><Error><Code>{CANARY} token=x</Code><Message>{CANARY}</Message></Error></ErrorResponse>"
            ),
        )
    });
    let mut bazel = Bazel::new();
    let token = bazel.write("oidc-token", "oidc.jwt.token\n");
    bazel
        .env("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "ecr")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:9")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci")
        .env("AWS_ENDPOINT_URL_STS", sts.url());
    let err = bazel
        .get("https://123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/team/app/manifests/v1")
        .failure();
    assert!(err.contains("400 unrecognised error"), "{err}");
    assert_no_canary(&err);

    // A secret typed into a field of another type.
    for config in [
        format!(r#"{{"insecure":"{CANARY}"}}"#),
        format!(r#"{{"token_exchange_method":"{CANARY}"}}"#),
        format!(r#"{{"allowed_realm_hosts":"{CANARY}"}}"#),
    ] {
        let mut bazel = Bazel::new();
        bazel.bad_config(&format!(
            r#"{{"urls":[{{"helper":"oci","config":{config}}}]}}"#
        ));
        let err = bazel.get("https://r.example/v2/a/manifests/1").failure();
        assert!(err.contains("entry 0 (every URL): config: "), "{err}");
        assert!(
            err.contains("invalid type") || err.contains("unknown variant"),
            "{err}"
        );
        assert_no_canary(&err);
    }
}

/// Cloud metadata endpoints named by the environment get their secret header only over https,
/// or plain http on loopback (App Service, Container Apps) or a link-local address (IMDS).
#[test]
fn managed_identity_endpoints_off_the_machine_must_be_https() {
    let uri = "https://acct.blob.core.windows.net/cache/ac/0123";
    for (var, value, extra) in [
        (
            "IDENTITY_ENDPOINT",
            "http://10.1.2.3:8081/msi/token",
            Some(("IDENTITY_HEADER", CANARY)),
        ),
        (
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            "http://metadata.example.com",
            None,
        ),
    ] {
        let mut bazel = Bazel::new();
        bazel.env(var, value);
        if let Some((k, v)) = extra {
            bazel.env(k, v);
        }
        let err = bazel.get(uri).failure();
        assert!(err.contains(var) && err.contains("must be https"), "{err}");
        assert!(
            !err.contains("10.1.2.3") && !err.contains("metadata.example.com"),
            "{err}"
        );
        assert_no_canary(&err);
    }
}

/// https to an IPv6 literal through a proxy cannot work yet (the HTTP library hands TLS the
/// bracketed address); the error says so and what to do, instead of "Invalid Server Name".
#[test]
fn https_to_an_ipv6_literal_through_a_proxy_says_what_to_do() {
    use std::io::{Read, Write};
    // A CONNECT proxy that accepts every tunnel and then holds it open.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                std::thread::sleep(std::time::Duration::from_secs(5));
            });
        }
    });
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"[::1]:5443","helper":"oci","config":{"lookup_chain":[{"source":"static","value":"u","binding":"username"},{"source":"env","name":"PW","binding":"password"}]}}]}"#,
    );
    bazel.env("PW", CANARY);
    bazel.env("HTTPS_PROXY", format!("http://127.0.0.1:{port}"));
    let err = bazel
        .get("https://[::1]:5443/v2/team/app/manifests/v1")
        .failure();
    assert!(err.contains("NO_PROXY"), "{err}");
    assert_no_canary(&err);
}

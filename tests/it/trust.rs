//! explain, check-config, signals, faults from hostile servers, and the secret canary.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::http_server::{Response, TestServer, fake_registry};
use crate::support::registry::{Registry, TokenServerConfig};
use crate::support::{Bazel, b64, bazel_request, binary, docker_auths};

fn logged_in(registry: &TestServer, password: &str) -> Bazel {
    let mut bazel = Bazel::new();
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    let host = registry.url().trim_start_matches("http://").to_string();
    bazel.write(
        "home/.docker/config.json",
        docker_auths(&host, &format!("u:{password}")),
    );
    bazel
}

fn manifest(registry: &TestServer) -> String {
    format!("{}/v2/team/app/manifests/v1", registry.url())
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn explain_shows_every_decision_with_secrets_redacted() {
    let registry = Registry::token(TokenServerConfig::new().user("bob", "explain-canary"));
    registry.push_image("team/app", "v1");
    let mut bazel = Bazel::new();
    bazel.config(
        r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"lookup_chain":[{"source":"env","name":"NOPE","binding":"password"}]}}]}"#,
    );
    bazel.write(
        "home/.docker/config.json",
        docker_auths(registry.host(), "bob:explain-canary"),
    );
    let out = bazel.run(&["explain", &registry.manifest_uri("team/app", "v1")], None);
    let text = out.ok();
    for want in [
        "config: ",
        ".credential-helper.json",
        "matched urls[0] (host \"127.0.0.1\", helper \"oci\")",
        "lookup password: env NOPE: not set",
        "credential: username/password from docker config",
        "cache: miss",
        "ping GET",
        "ping answered 401",
        "token exchange: GET",
        "token realm answered 200",
        "result: `get` would succeed",
        "Authorization: Bearer <redacted>",
        "Accept: application/vnd.oci.image.index.v1+json",
        "expires 20",
    ] {
        assert!(text.contains(want), "missing {want:?}\n{out}");
    }
    assert!(!text.contains("explain-canary") && !out.stderr.contains("explain-canary"));

    // A second explain reads the cache.
    let again = bazel.run(&["explain", &registry.manifest_uri("team/app", "v1")], None);
    assert!(again.ok().contains("cache: hit"), "{again}");

    // Failures exit 1 and say why; unmatched URLs explain that nothing matched.
    let bad = bazel.run(&["explain", "not a url"], None);
    assert_eq!(bad.status, Some(1), "{bad}");
    assert!(bad.stdout.contains("result: `get` would fail"), "{bad}");
    let none = bazel.run(&["explain", "https://elsewhere.example/x"], None);
    assert!(none.ok().contains("no entry matched"), "{none}");
    assert!(
        none.stdout.contains("no headers ({\"headers\":{}})"),
        "{none}"
    );
    assert_eq!(bazel.run(&["explain"], None).status, Some(2));
}

#[test]
fn check_config_lists_every_problem() {
    let mut bazel = Bazel::new();
    let out = bazel.run(&["check-config"], None);
    assert!(out.ok().contains("built-in defaults are in use"), "{out}");

    bazel.config(r#"{"urls":[{"host":"a.example","helper":"null"}]}"#);
    let out = bazel.run(&["check-config"], None);
    assert!(
        out.ok().contains(".credential-helper.json: ok (1 entries)"),
        "{out}"
    );

    bazel.bad_config(
        r#"{"urls":[{"helper":"nope"},{"helper":"null","hots":"x"},{"helper":"header","config":{"lookup_chain":[]}}],"extra":1}"#,
    );
    let out = bazel.run(&["check-config"], None);
    assert_eq!(out.status, Some(1), "{out}");
    for want in [
        "extra: unknown field (expected one of: urls, defaults, $schema)",
        "entry 0 (every URL): helper: unknown helper (one of:",
        "entry 1 (every URL): hots: unknown field (did you mean `host`?",
        "entry 2 (every URL): config: set header_name",
        "4 problem(s) found",
    ] {
        assert!(out.stdout.contains(want), "missing {want:?}\n{out}");
    }

    let file = bazel.write("other.json", "{\"urls\": [}");
    let out = bazel.run(&["check-config", file.to_str().unwrap()], None);
    assert_eq!(out.status, Some(1));
    assert!(
        out.stdout.contains("invalid JSON") && out.stdout.contains("line 1"),
        "{out}"
    );
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.credential-helper.json.example"
    );
    assert_eq!(bazel.run(&["check-config", example], None).status, Some(0));
}

#[test]
fn sigterm_ends_a_waiting_get_promptly_with_no_output() {
    let hanging = TestServer::start(|_| Response::hang());
    let bazel = logged_in(&hanging, "pw");
    let mut child = Command::new(binary())
        .arg("get")
        .current_dir(bazel.workspace())
        .env_clear()
        .env("HOME", bazel.home())
        .env("XDG_CACHE_HOME", bazel.home().join(".cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(bazel_request(&manifest(&hanging)).as_bytes())
        .unwrap();
    // Let it reach the network wait, then do what Bazel does at its timeout.
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "took {:?}",
        sent.elapsed()
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no partial answer");
    assert_eq!(hanging.count(), 1, "it was waiting on the ping");
}

/// Every fault ends within Bazel's deadline with one clear line, exit 1, and nothing on stdout.
#[test]
fn fault_matrix() {
    let big = vec![b'x'; 100 * 1024 * 1024];
    type Respond = Box<dyn Fn() -> Response + Send + Sync>;
    let cases: Vec<(&str, Respond, &str)> = vec![
        (
            "500",
            Box::new(|| Response::text(500, "boom")),
            "500 from token realm",
        ),
        (
            "429",
            Box::new(|| Response::new(429)),
            "429 from token realm",
        ),
        ("hang", Box::new(Response::hang), "timed out after 1000 ms"),
        (
            "trickle",
            Box::new(|| {
                Response::json(200, &serde_json::json!({"token": "t".repeat(100)}))
                    .trickle(Duration::from_millis(50))
            }),
            "timed out",
        ),
        (
            "reset mid-body",
            Box::new(|| {
                Response::json(200, &serde_json::json!({"token": "t".repeat(1000)}))
                    .truncated_after(10)
            }),
            "failed",
        ),
        (
            "invalid JSON",
            Box::new(|| Response::text(200, "<html>not json</html>")),
            "answered invalid JSON",
        ),
        (
            "no token",
            Box::new(|| Response::json(200, &serde_json::json!({"expires_in": 60}))),
            "answered without a token",
        ),
        (
            "100 MB answer",
            Box::new(move || Response::new(200).body(big.clone())),
            "body larger than 1024 KiB",
        ),
        ("drop", Box::new(Response::drop_connection), "failed"),
    ];
    for (name, respond, want) in cases {
        let tokens = TestServer::start(move |_| respond());
        let registry = fake_registry(format!("{}/token", tokens.url()));
        let mut bazel = logged_in(&registry, "pw");
        bazel.env("CREDENTIAL_HELPER_HTTP_TIMEOUT_MS", "1000");
        let started = Instant::now();
        let err = bazel.get(&manifest(&registry)).failure();
        let took = started.elapsed();
        assert!(err.contains(want), "{name}: expected {want:?} in {err}");
        assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
        eprintln!("fault {name}: {took:?}: {err}");
        if matches!(name, "500" | "429" | "drop") {
            assert_eq!(
                tokens.count(),
                2,
                "{name}: transient failures are retried once"
            );
        }
    }
}

#[test]
fn default_timeouts_stay_under_bazels_deadline() {
    let hanging = TestServer::start(|_| Response::hang());
    let bazel = logged_in(&hanging, "pw");
    let started = Instant::now();
    let err = bazel.get(&manifest(&hanging)).failure();
    assert!(err.contains("timed out"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn redirects_are_not_followed_and_foreign_realms_get_nothing() {
    let elsewhere =
        TestServer::start(|_| Response::json(200, &serde_json::json!({"token": "stolen"})));
    let target = format!("http://localhost:{}/token", elsewhere.addr().port());
    let tokens = TestServer::start(move |_| Response::new(302).header("Location", &target));
    let registry = fake_registry(format!("{}/token", tokens.url()));
    let err = logged_in(&registry, "pw")
        .get(&manifest(&registry))
        .failure();
    assert!(
        err.contains("302 from token realm") && err.contains("redirect"),
        "{err}"
    );
    assert_eq!(elsewhere.count(), 0);

    // A registry that redirects its ping somewhere else is an error too, not a followed hop.
    let redirecting =
        TestServer::start(|_| Response::new(307).header("Location", "http://localhost:1/v2/"));
    let err = logged_in(&redirecting, "pw")
        .get(&manifest(&redirecting))
        .failure();
    assert!(err.contains("answered 307"), "{err}");
}

#[test]
fn registry_answering_garbage_challenges() {
    for challenge in [
        "",
        "Negotiate abc",
        "Bearer",
        "Bearer realm=\"not a url\"",
        "Bearer realm=\"ftp://x/t\"",
    ] {
        let registry = TestServer::start(move |_| {
            let r = Response::new(401);
            if challenge.is_empty() {
                r
            } else {
                r.header("WWW-Authenticate", challenge)
            }
        });
        let err = logged_in(&registry, "pw")
            .get(&manifest(&registry))
            .failure();
        assert!(
            err.contains("registry 127.0.0.1:") || err.contains("realm"),
            "{challenge:?}: {err}"
        );
    }
}

#[test]
fn http_proxy_and_no_proxy_are_honoured() {
    let registry = TestServer::start(|_| Response::new(200));
    // A proxy that answers everything itself: seeing the request proves it was used.
    let proxy = TestServer::start(|_| Response::new(200));
    let mut bazel = Bazel::new();
    bazel
        .config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#)
        .env("CREDENTIAL_HELPER_CACHE", "off")
        .env("HTTP_PROXY", proxy.url());
    bazel.get(&manifest(&registry)).success();
    assert_eq!((proxy.count(), registry.count()), (1, 0));
    let seen = &proxy.requests()[0];
    assert_eq!(
        seen.path,
        format!("{}/v2/", registry.url()),
        "absolute-form request"
    );

    bazel.env("NO_PROXY", "127.0.0.1");
    bazel.get(&manifest(&registry)).success();
    assert_eq!((proxy.count(), registry.count()), (1, 1));
}

const CANARY: &str = "CANARY-7f3a9c-do-not-print";

/// Every way the canary could leak, as the helper would encode it.
fn canary_forms() -> Vec<String> {
    let mut forms = vec![CANARY.to_string()];
    for user in ["u", "bob", ""] {
        forms.push(b64(&format!("{user}:{CANARY}")));
    }
    forms.push(b64(CANARY));
    forms
}

fn assert_no_canary(what: &str, out: &crate::support::Answer, success_may_contain: bool) {
    for form in canary_forms() {
        assert!(
            !out.stderr.contains(&form),
            "{what}: canary on stderr\n{out}"
        );
        if !(success_may_contain && out.status == Some(0)) {
            assert!(
                !out.stdout.contains(&form),
                "{what}: canary on stdout\n{out}"
            );
        }
    }
    // `get` prints nothing on failure; `explain` and `check-config` print their report anyway.
    if out.status != Some(0) && !what.starts_with("explain") && !what.starts_with("check-config") {
        assert!(out.stdout.is_empty(), "{what}: stdout on failure\n{out}");
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn the_canary_never_reaches_stderr() {
    let wrong_pw = Registry::token(TokenServerConfig::new().user("bob", "right"));
    wrong_pw.push_image("team/app", "v1");
    let failing_tokens = TestServer::start(|_| Response::text(500, "boom"));
    let failing = fake_registry(format!("{}/token", failing_tokens.url()));
    let garbage_tokens = TestServer::start(|_| Response::text(200, "garbage"));
    let garbage = fake_registry(format!("{}/token", garbage_tokens.url()));
    let hanging_tokens = TestServer::start(|_| Response::hang());
    let hanging = fake_registry(format!("{}/token", hanging_tokens.url()));
    let foreign_tokens =
        TestServer::start(|_| Response::json(200, &serde_json::json!({"token": "t"})));
    let foreign = fake_registry(format!(
        "http://localhost:{}/token",
        foreign_tokens.addr().port()
    ));
    let registries: Vec<(&str, String, String)> = vec![
        (
            "wrong password",
            wrong_pw.host().to_string(),
            wrong_pw.manifest_uri("team/app", "v1"),
        ),
        (
            "500",
            failing.url().replace("http://", ""),
            manifest(&failing),
        ),
        (
            "garbage body",
            garbage.url().replace("http://", ""),
            manifest(&garbage),
        ),
        (
            "timeout",
            hanging.url().replace("http://", ""),
            manifest(&hanging),
        ),
        (
            "foreign realm",
            foreign.url().replace("http://", ""),
            manifest(&foreign),
        ),
    ];

    // Every credential source, each holding the canary.
    type Setup = Box<dyn Fn(&mut Bazel, &str)>;
    let sources: Vec<(&str, Setup)> = vec![
        (
            "docker auth",
            Box::new(|b, host| {
                b.write(
                    "home/.docker/config.json",
                    docker_auths(host, &format!("bob:{CANARY}")),
                );
            }),
        ),
        (
            "docker username/password",
            Box::new(|b, host| {
                b.write(
                    "home/.docker/config.json",
                    format!(
                        r#"{{"auths":{{"{host}":{{"username":"bob","password":"{CANARY}"}}}}}}"#
                    ),
                );
            }),
        ),
        (
            "docker identitytoken",
            Box::new(|b, host| {
                b.write(
                    "home/.docker/config.json",
                    format!(r#"{{"auths":{{"{host}":{{"identitytoken":"{CANARY}"}}}}}}"#),
                );
            }),
        ),
        (
            "DOCKER_AUTH_CONFIG",
            Box::new(|b, host| {
                b.env(
                    "DOCKER_AUTH_CONFIG",
                    docker_auths(host, &format!("bob:{CANARY}")),
                );
            }),
        ),
        (
            "credential helper",
            Box::new(|b, _| {
                b.write("home/.docker/config.json", r#"{"credsStore":"canary"}"#);
                b.script(
                    "docker-credential-canary",
                    &format!(
                        r#"printf '{{"ServerURL":"x","Username":"bob","Secret":"{CANARY}"}}'"#
                    ),
                );
            }),
        ),
        (
            "podman auth.json",
            Box::new(|b, host| {
                b.write(
                    "runtime/containers/auth.json",
                    docker_auths(host, &format!("bob:{CANARY}")),
                );
            }),
        ),
        (
            "lookup chain env",
            Box::new(|b, _| {
                b.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"lookup_chain":[{"source":"static","value":"bob","binding":"username"},{"source":"env","name":"PW","binding":"password"}]}}]}"#);
                b.env("PW", CANARY);
            }),
        ),
        (
            "lookup chain file",
            Box::new(|b, _| {
                b.write("home/pw.txt", CANARY);
                b.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"lookup_chain":[{"source":"static","value":"bob","binding":"username"},{"source":"file","path":"~/pw.txt","binding":"password"}]}}]}"#);
            }),
        ),
        (
            "environment keychain",
            Box::new(|b, host| {
                b.env("IMGPKG_REGISTRY_HOSTNAME_1", host)
                    .env("IMGPKG_REGISTRY_USERNAME_1", "bob")
                    .env("IMGPKG_REGISTRY_PASSWORD_1", CANARY);
            }),
        ),
        (
            "kubernetes secret",
            Box::new(|b, host| {
                let config = docker_auths(host, &format!("bob:{CANARY}"));
                b.write(
                    "secret.yaml",
                    format!(
                        "apiVersion: v1\ndata:\n  .dockerconfigjson: {}\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\n",
                        b64(&config)
                    ),
                );
                let path = b.root().join("secret.yaml");
                b.config(&format!(
                    r#"{{"urls":[{{"host":"127.0.0.1","helper":"oci","config":{{"credential_files":[{{"format":"kubernetes","path":"{}"}}]}}}}]}}"#,
                    path.display()
                ));
            }),
        ),
    ];
    let mut runs = 0;
    for (source, setup) in &sources {
        for (fault, host, uri) in &registries {
            let mut bazel = Bazel::new();
            bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
            bazel
                .env("CREDENTIAL_HELPER_LOG", "debug")
                .env("CREDENTIAL_HELPER_HTTP_TIMEOUT_MS", "500");
            setup(&mut bazel, host);
            let out = bazel.get(uri);
            assert_ne!(out.status, Some(0), "{source} / {fault} should fail\n{out}");
            assert_no_canary(&format!("{source} / {fault}"), &out, false);
            let explain = bazel.run(&["explain", uri], None);
            assert_no_canary(&format!("explain {source} / {fault}"), &explain, false);
            runs += 2;
        }
    }
    assert!(
        foreign_tokens.count() == 0,
        "the foreign realm never saw a request"
    );

    // Other error paths: a bad config holding the canary, a missing helper binary, a failing
    // header lookup, and a success (the canary may appear only inside the answer).
    let mut bazel = Bazel::new();
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    bazel.bad_config(&format!(r#"{{"urls":[{{"helper":"header","config":{{"header_name":"k","lookup_chain":[{{"source":"static","value":"{CANARY}","bindin":"x"}}]}}}}]}}"#));
    assert_no_canary("bad config", &bazel.get("https://a.example/x"), false);
    assert_no_canary(
        "check-config with a bad config",
        &bazel.run(&["check-config"], None),
        false,
    );
    bazel.bad_config(&format!(r#"{{"urls":[{{"helper":"header","config":{{"auth_method":"basic","lookup_chain":[{{"source":"static","value":"{CANARY}"}}]}}}}]}}"#));
    assert_no_canary(
        "not user:password",
        &bazel.get("https://a.example/x"),
        false,
    );
    bazel.write(
        "home/.docker/config.json",
        format!(r#"{{"credsStore":"missing","auths":{{"127.0.0.1:1":{{"auth":"{CANARY}"}}}}}}"#),
    );
    bazel.config(r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#);
    assert_no_canary(
        "missing helper",
        &bazel.get("http://127.0.0.1:1/v2/a/manifests/1"),
        false,
    );
    bazel.write(
        "home/.docker/config.json",
        format!(r#"{{"auths":{{"127.0.0.1:1":{{"auth":"{CANARY}!!"}}}}}}"#),
    );
    assert_no_canary(
        "invalid base64",
        &bazel.get("http://127.0.0.1:1/v2/a/manifests/1"),
        false,
    );
    bazel.write(
        "home/.docker/config.json",
        format!(r#"{{"auths":{{"127.0.0.1:1":{{"auth":"{CANARY}"#),
    );
    assert_no_canary(
        "truncated docker config",
        &bazel.get("http://127.0.0.1:1/v2/a/manifests/1"),
        false,
    );

    bazel.config(&format!(r#"{{"urls":[{{"host":"a.example","helper":"header","config":{{"header_name":"k","lookup_chain":[{{"source":"static","value":"{CANARY}"}}]}}}}]}}"#));
    let ok = bazel.get("https://a.example/x");
    assert_eq!(ok.success().header("k"), Some(CANARY));
    assert_no_canary("success", &ok, true);
    eprintln!("canary checked over {runs} failing runs");
}

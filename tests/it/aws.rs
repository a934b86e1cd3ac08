//! AWS through the binary: the credential chain (environment, profiles, credential_process,
//! web identity, container, instance metadata), the ECR keychain and the s3 helper. Every AWS
//! endpoint is a local server reached through the standard override variables, and every
//! signature is checked by the independent verifier in `support::sigv4`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::support::http_server::{Request, Response, TestServer, value};
use crate::support::registry::Registry;
use crate::support::sigv4::{self, sha256_hex};
use crate::support::{Bazel, b64};

const KEY_ID: &str = "AKIDTESTKEY";
const SECRET: &str = "test-secret/K7MDENG+bPxRfiCYEXAMPLEKEY";
const ECR_URI: &str =
    "https://123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/team/app/manifests/v1";
const TWELVE_HOURS: i64 = 12 * 3600;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rfc3339(t: i64) -> String {
    credential_helper::facade::format_rfc3339(t)
}

/// A fake ECR API: answers GetAuthorizationToken with `AWS:<password>` to requests whose
/// SigV4 signature verifies with `secret`, and 403 to anything else.
fn ecr_server(secret: &str, password: &str) -> TestServer {
    let secret = secret.to_string();
    let token = b64(&format!("AWS:{password}"));
    TestServer::start(move |req| {
        let target = req.header("x-amz-target").unwrap_or_default();
        let private = target == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
        let public = target == "SpencerFrontendService.GetAuthorizationToken";
        let verified = sigv4::verify(&req.method, &req.path, &req.headers, &req.body, &secret);
        if !(private || public) || verified.is_err() || req.body != b"{}" {
            return Response::json(
                403,
                &json!({"__type": "com.amazon.coral.service#InvalidSignatureException",
                        "message": format!("refused: {secret}")}),
            );
        }
        let entry = json!({"authorizationToken": token, "expiresAt": now() + TWELVE_HOURS,
                           "proxyEndpoint": "https://123456789012.dkr.ecr.us-west-2.amazonaws.com"});
        let data = if public { entry } else { json!([entry]) };
        Response::new(200)
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(json!({ "authorizationData": data }).to_string())
    })
}

/// A harness with the ECR keychain on, the ECR API at `ecr`, and no instance metadata.
fn bazel_with(ecr: &TestServer) -> Bazel {
    let mut bazel = Bazel::new();
    bazel
        .env("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "ecr")
        .env("AWS_ENDPOINT_URL_ECR", ecr.url())
        .env("AWS_EC2_METADATA_DISABLED", "true");
    bazel
}

fn env_keys(bazel: &mut Bazel) {
    bazel
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET);
}

/// Checks the one GetAuthorizationToken request independently; returns its scope.
fn check_ecr_request(req: &Request, secret: &str) -> sigv4::Verified {
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert_eq!(req.body, b"{}");
    let verified = sigv4::verify(&req.method, &req.path, &req.headers, &req.body, secret)
        .unwrap_or_else(|e| panic!("{e}"));
    for signed in ["content-type", "host", "x-amz-date", "x-amz-target"] {
        assert!(
            verified.signed_headers.iter().any(|h| h == signed),
            "{verified:?}"
        );
    }
    verified
}

fn answer_basic(answer: &crate::support::Parsed) -> String {
    answer
        .header("Authorization")
        .unwrap_or_default()
        .to_string()
}

/// The verifier itself, against AWS's published SigV4 test suite (`get-vanilla` and
/// `post-x-www-form-urlencoded`), and a tampered request that must fail.
#[test]
fn sigv4_verifier_passes_aws_test_suite_vectors() {
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let h = |k: &str, v: &str| (k.to_string(), v.to_string());
    let vanilla = vec![
        h("Host", "example.amazonaws.com"),
        h("X-Amz-Date", "20150830T123600Z"),
        h(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
    ];
    let v = sigv4::verify("GET", "/", &vanilla, b"", secret).unwrap();
    assert_eq!(
        (v.region.as_str(), v.service.as_str()),
        ("us-east-1", "service")
    );
    assert!(sigv4::verify("GET", "/x", &vanilla, b"", secret).is_err());
    assert!(sigv4::verify("GET", "/", &vanilla, b"", "wrong").is_err());
    let form = vec![
        h("Content-Type", "application/x-www-form-urlencoded"),
        h("Host", "example.amazonaws.com"),
        h("X-Amz-Date", "20150830T123600Z"),
        h(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        ),
    ];
    sigv4::verify("POST", "/", &form, b"Param1=value1", secret).unwrap();
    assert!(sigv4::verify("POST", "/", &form, b"Param1=value2", secret).is_err());
}

#[test]
fn ecr_token_from_environment_keys_is_basic_and_cached() {
    let ecr = ecr_server(SECRET, "ecr-password");
    let mut bazel = bazel_with(&ecr);
    env_keys(&mut bazel);
    bazel.env("AWS_SESSION_TOKEN", "session-token-1");
    let answer = bazel.get(ECR_URI).success();
    assert_eq!(
        answer_basic(&answer),
        format!("Basic {}", b64("AWS:ecr-password"))
    );
    assert!(answer.header("Accept").unwrap().contains("oci.image.index"));
    // expiresAt (12 h) minus the 10 % safety margin.
    let expires = answer.expires_at().unwrap().unix_timestamp();
    let want = now() + TWELVE_HOURS - TWELVE_HOURS / 10;
    assert!((expires - want).abs() <= 3, "{expires} vs {want}");

    let requests = ecr.requests();
    assert_eq!(requests.len(), 1, "no registry ping, one token request");
    let v = check_ecr_request(&requests[0], SECRET);
    assert_eq!(
        (
            v.access_key_id.as_str(),
            v.region.as_str(),
            v.service.as_str()
        ),
        (KEY_ID, "us-west-2", "ecr")
    );
    assert_eq!(
        requests[0].header("x-amz-security-token"),
        Some("session-token-1")
    );
    assert!(v.signed_headers.iter().any(|h| h == "x-amz-security-token"));

    // Another process reuses the token; other credentials do not.
    let again = bazel.get(ECR_URI).success();
    assert_eq!(answer_basic(&again), answer_basic(&answer));
    assert_eq!(ecr.count(), 1);
    bazel.env("AWS_SESSION_TOKEN", "session-token-2");
    bazel.get(ECR_URI).success();
    assert_eq!(ecr.count(), 2);
}

/// The ECR answer works against a real registry (Debian's docker-registry with htpasswd user
/// `AWS`): the helper is asked for an ECR URL, and its headers are sent to the registry, as
/// Bazel would send them to ECR.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn ecr_answer_pulls_from_a_real_registry() {
    let registry = Registry::basic("AWS", "ecr-real-password");
    let image = registry.push_image("team/app", "v1");
    let ecr = ecr_server(SECRET, "ecr-real-password");
    let mut bazel = bazel_with(&ecr);
    env_keys(&mut bazel);
    let answer = bazel.get(ECR_URI).success();
    let fetched = registry.fetch(&registry.manifest_uri(&image.repo, "v1"), &answer.headers);
    assert_eq!(fetched.status, 200);
    let wrong = ecr_server(SECRET, "not-the-password");
    let mut bazel = bazel_with(&wrong);
    env_keys(&mut bazel);
    let answer = bazel.get(ECR_URI).success();
    let fetched = registry.fetch(&registry.manifest_uri(&image.repo, "v1"), &answer.headers);
    assert_eq!(fetched.status, 401);
}

#[test]
fn ecr_hosts_fips_china_eu_dualstack_and_keychain_from_config() {
    let ecr = ecr_server(SECRET, "pw");
    let mut bazel = bazel_with(&ecr);
    bazel.env_remove("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS");
    env_keys(&mut bazel);
    bazel.config(r#"{"urls":[{"host":"*","helper":"oci","config":{"keychains":["ecr"]}}]}"#);
    let cases = [
        (
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
            "eu-central-1",
        ),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            "us-gov-west-1",
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "cn-north-1",
        ),
        (
            "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
            "eusc-de-east-1",
        ),
        ("123456789012.dkr-ecr.ap-south-1.on.aws", "ap-south-1"),
    ];
    for (i, (host, region)) in cases.iter().enumerate() {
        let answer = bazel
            .get(&format!(
                "https://{host}/v2/team/app/blobs/sha256:{EMPTY_SHA256}"
            ))
            .success();
        assert!(answer_basic(&answer).starts_with("Basic "), "{host}");
        let requests = ecr.requests();
        assert_eq!(requests.len(), i + 1, "{host}");
        let v = check_ecr_request(&requests[i], SECRET);
        assert_eq!(
            (v.region.as_str(), v.service.as_str()),
            (*region, "ecr"),
            "{host}"
        );
    }
    // Not ECR: the keychain stays out (anonymous access to a loopback registry).
    let open = TestServer::start(|_| Response::new(200));
    let answer = bazel
        .get(&format!("{}/v2/team/app/manifests/v1", open.url()))
        .success();
    assert_eq!(answer.header("Authorization"), None);
    assert_eq!(ecr.count(), cases.len());
}

/// The built-in defaults route every ECR host form to `oci`.
#[test]
fn ecr_hosts_are_in_the_built_in_defaults() {
    let ecr = ecr_server(SECRET, "pw");
    let mut bazel = bazel_with(&ecr);
    env_keys(&mut bazel);
    for host in [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
        "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
        "123456789012.dkr-ecr.us-east-1.on.aws",
    ] {
        let answer = bazel
            .get(&format!("https://{host}/v2/a/manifests/v1"))
            .success();
        assert!(answer_basic(&answer).starts_with("Basic "), "{host}");
    }
}

/// public.ecr.aws: target `SpencerFrontendService.GetAuthorizationToken`, service
/// `ecr-public`, region us-east-1, one `authorizationData` object. The token then goes into
/// public ECR's Bearer exchange, which needs the internet: a closed proxy stops it here.
#[test]
fn public_ecr_uses_the_public_api() {
    let ecr = ecr_server(SECRET, "public-pw");
    let mut bazel = bazel_with(&ecr);
    env_keys(&mut bazel);
    bazel
        .env("AWS_ENDPOINT_URL_ECR_PUBLIC", ecr.url())
        .env("HTTPS_PROXY", "http://127.0.0.1:9");
    let err = bazel
        .get("https://public.ecr.aws/v2/team/app/manifests/v1")
        .failure();
    assert!(err.contains("public.ecr.aws"), "{err}");
    let requests = ecr.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("x-amz-target"),
        Some("SpencerFrontendService.GetAuthorizationToken")
    );
    let v = check_ecr_request(&requests[0], SECRET);
    assert_eq!(
        (v.region.as_str(), v.service.as_str()),
        ("us-east-1", "ecr-public")
    );
}

#[test]
fn ecr_refusal_names_keychain_source_and_status_never_the_secret() {
    let ecr = ecr_server("a-different-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    env_keys(&mut bazel);
    let err = bazel.get(ECR_URI).failure();
    for want in [
        "ecr keychain",
        "env AWS_ACCESS_KEY_ID",
        "403",
        "InvalidSignatureException",
    ] {
        assert!(err.contains(want), "missing {want:?}: {err}");
    }
    assert!(
        !err.contains(SECRET) && !err.contains("a-different-secret"),
        "{err}"
    );

    // Half a key pair is a clear error too.
    let mut bazel = bazel_with(&ecr);
    bazel.env("AWS_ACCESS_KEY_ID", KEY_ID);
    let err = bazel.get(ECR_URI).failure();
    assert!(err.contains("AWS_SECRET_ACCESS_KEY is not"), "{err}");
}

#[test]
fn ecr_with_profile_static_keys() {
    let ecr = ecr_server("profile-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    bazel.write(
        "home/.aws/credentials",
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = wrong\n\n[ci]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n",
    );
    bazel.env("AWS_PROFILE", "ci");
    let answer = bazel.get(ECR_URI).success();
    assert!(answer_basic(&answer).starts_with("Basic "));
    let v = check_ecr_request(&ecr.requests()[0], "profile-secret");
    assert_eq!(v.access_key_id, "AKIDPROFILE");

    // A missing named profile is an error, not a silent fallback.
    bazel.env("AWS_PROFILE", "nope");
    let err = bazel.get(ECR_URI).failure();
    assert!(err.contains("AWS_PROFILE \"nope\""), "{err}");
}

#[test]
fn ecr_with_credential_process() {
    let ecr = ecr_server("process-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    let expiration = rfc3339(now() + 3600);
    bazel.script(
        "aws-vault-like",
        &format!(
            r#"[ "$1" = "--role" ] || exit 3
echo '{{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "process-secret", "SessionToken": "process-token", "Expiration": "{expiration}"}}'"#
        ),
    );
    let config = bazel.write(
        "aws-config",
        "[profile dev]\ncredential_process = aws-vault-like --role dev\n",
    );
    bazel
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "dev");
    bazel.get(ECR_URI).success();
    let req = &ecr.requests()[0];
    let v = check_ecr_request(req, "process-secret");
    assert_eq!(v.access_key_id, "AKIDPROCESS");
    assert_eq!(req.header("x-amz-security-token"), Some("process-token"));

    bazel.write(
        "aws-config",
        "[profile dev]\ncredential_process = aws-vault-like --wrong\n",
    );
    bazel.env("CREDENTIAL_HELPER_CACHE", "off");
    let err = bazel.get(ECR_URI).failure();
    assert!(
        err.contains("credential_process failed with exit status 3"),
        "{err}"
    );
}

fn sts_answer(action: &str, key_id: &str, secret: &str, token: &str) -> Response {
    let expiration = rfc3339(now() + 3600);
    Response::new(200).header("Content-Type", "text/xml").body(format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>\
         <Credentials><AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>\
         <SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         </{action}Result></{action}Response>"
    ))
}

/// A fake STS for AssumeRoleWithWebIdentity that checks the unsigned form.
fn web_identity_sts(req: &Request) -> Response {
    let form = req.form();
    let ok = req.method == "POST"
        && req.header("authorization").is_none()
        && value(&form, "Action") == Some("AssumeRoleWithWebIdentity")
        && value(&form, "Version") == Some("2011-06-15")
        && value(&form, "RoleArn") == Some("arn:aws:iam::123456789012:role/ci")
        && value(&form, "RoleSessionName") == Some("build-42")
        && value(&form, "WebIdentityToken") == Some("oidc.jwt.token");
    if ok {
        sts_answer(
            "AssumeRoleWithWebIdentity",
            "ASIAWEB",
            "web-secret",
            "web-token",
        )
    } else {
        Response::text(
            400,
            "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad</Message></Error></ErrorResponse>",
        )
    }
}

/// GitHub Actions OIDC / EKS IRSA: the token file goes to STS (unsigned form), and the
/// temporary credentials sign the ECR request.
#[test]
fn ecr_with_web_identity_via_sts() {
    let sts = TestServer::start(web_identity_sts);
    let ecr = ecr_server("web-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    let token = bazel.write("oidc-token", "oidc.jwt.token\n");
    bazel
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci")
        .env("AWS_ROLE_SESSION_NAME", "build-42")
        .env("AWS_ENDPOINT_URL_STS", sts.url());
    bazel.get(ECR_URI).success();
    let req = &ecr.requests()[0];
    assert_eq!(
        check_ecr_request(req, "web-secret").access_key_id,
        "ASIAWEB"
    );
    assert_eq!(req.header("x-amz-security-token"), Some("web-token"));
    assert_eq!(sts.count(), 1);

    // A fresh ECR scope reuses the cached STS credentials.
    bazel
        .get("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/a/manifests/v1")
        .success();
    assert_eq!((sts.count(), ecr.count()), (1, 2));

    // STS refusing the token names the action, status and code.
    bazel.write("oidc-token", "other.jwt\n");
    bazel.env("AWS_ROLE_SESSION_NAME", "build-43");
    let err = bazel.get(ECR_URI).failure();
    for want in ["AssumeRoleWithWebIdentity", "400", "InvalidIdentityToken"] {
        assert!(err.contains(want), "missing {want:?}: {err}");
    }
}

/// A profile with `role_arn` + `source_profile`: AssumeRole signed with the source keys.
#[test]
fn ecr_with_profile_assume_role() {
    let sts = TestServer::start(|req| {
        let form = req.form();
        let verified = sigv4::verify(
            &req.method,
            &req.path,
            &req.headers,
            &req.body,
            "base-secret",
        );
        match verified {
            Ok(v)
                if v.service == "sts"
                    && v.region == "eu-west-1"
                    && v.access_key_id == "AKIDBASE"
                    && value(&form, "Action") == Some("AssumeRole")
                    && value(&form, "RoleArn") == Some("arn:aws:iam::123456789012:role/deploy") =>
            {
                sts_answer("AssumeRole", "ASIAROLE", "role-secret", "role-token")
            }
            _ => Response::text(
                403,
                "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>",
            ),
        }
    });
    let ecr = ecr_server("role-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    bazel.write(
        "home/.aws/credentials",
        "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n",
    );
    bazel.write(
        "home/.aws/config",
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\nregion = eu-west-1\n\
         [profile from-env]\nrole_arn = arn:aws:iam::123456789012:role/deploy\ncredential_source = Environment\nregion = eu-west-1\n\
         [profile oidc]\nrole_arn = arn:aws:iam::123456789012:role/ci\nweb_identity_token_file = ~/oidc-token\nrole_session_name = build-42\n",
    );
    bazel
        .env("AWS_PROFILE", "deploy")
        .env("AWS_ENDPOINT_URL_STS", sts.url());
    bazel.get(ECR_URI).success();
    assert_eq!(sts.count(), 1);
    let req = &ecr.requests()[0];
    assert_eq!(
        check_ecr_request(req, "role-secret").access_key_id,
        "ASIAROLE"
    );
    assert_eq!(req.header("x-amz-security-token"), Some("role-token"));

    // `credential_source = Environment` reads the environment keys, which come first in the
    // chain anyway; without them the profile's error names the source.
    bazel
        .env("AWS_PROFILE", "from-env")
        .env("CREDENTIAL_HELPER_CACHE", "off");
    let err = bazel.get(ECR_URI).failure();
    assert!(
        err.contains("credential_source Environment: AWS_ACCESS_KEY_ID not set"),
        "{err}"
    );
    assert_eq!(sts.count(), 1);

    // `web_identity_token_file` in a profile.
    let web = TestServer::start(web_identity_sts);
    bazel.write("home/oidc-token", "oidc.jwt.token");
    bazel
        .env("AWS_PROFILE", "oidc")
        .env("AWS_ENDPOINT_URL_STS", web.url());
    let ecr_web = ecr_server("web-secret", "pw");
    bazel.env("AWS_ENDPOINT_URL_ECR", ecr_web.url());
    bazel.get(ECR_URI).success();
    assert_eq!((web.count(), ecr_web.count()), (1, 1));
}

/// The file name the AWS CLI gives a cached SSO token: SHA-1 of the session name (or of the
/// legacy profile's start URL), hex.
fn sso_token_file(name: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, name.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("home/.aws/sso/cache/{hex}.json")
}

/// A fake IAM Identity Center portal: GetRoleCredentials for one account, role and token.
fn sso_portal(token: &'static str) -> TestServer {
    TestServer::start(move |req| {
        let query = req.query();
        let ok = req.method == "GET"
            && req.path_only() == "/federation/credentials"
            && value(&query, "account_id") == Some("111122223333")
            && value(&query, "role_name") == Some("Developer")
            && req.header("x-amz-sso_bearer_token") == Some(token);
        if !ok {
            return Response::json(
                401,
                &json!({"message": "Session token not found or invalid"}),
            );
        }
        Response::json(
            200,
            &json!({"roleCredentials": {
                "accessKeyId": "ASIASSO",
                "secretAccessKey": "sso-secret",
                "sessionToken": "sso-session-token",
                "expiration": (now() + 3600) * 1000,
            }}),
        )
    })
}

#[test]
fn ecr_with_sso_profiles() {
    let portal = sso_portal("sso-access-token");
    let ecr = ecr_server("sso-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    bazel.write(
        "home/.aws/config",
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = us-west-2\n\
         [sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n\
         [profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Developer\n\
         [profile lost]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = x\n",
    );
    let token = |access: &str, expires: i64| {
        json!({"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1",
               "accessToken": access, "expiresAt": rfc3339(expires)})
        .to_string()
    };
    bazel.write(
        sso_token_file("corp"),
        token("sso-access-token", now() + 3600),
    );
    bazel
        .env("AWS_PROFILE", "dev")
        .env("AWS_ENDPOINT_URL_SSO", portal.url());
    bazel.get(ECR_URI).success();
    let req = &ecr.requests()[0];
    assert_eq!(
        check_ecr_request(req, "sso-secret").access_key_id,
        "ASIASSO"
    );
    assert_eq!(
        req.header("x-amz-security-token"),
        Some("sso-session-token")
    );
    assert_eq!(portal.count(), 1);
    // The role's credentials and the ECR token are cached: no request the second time.
    bazel.get(ECR_URI).success();
    assert_eq!((portal.count(), ecr.count()), (1, 1));

    // The legacy form: the token file is named after the start URL.
    bazel
        .env("AWS_PROFILE", "legacy")
        .env("CREDENTIAL_HELPER_CACHE", "off");
    let err = bazel.get(ECR_URI).failure();
    assert!(
        err.contains("no SSO token") && err.contains("aws sso login --profile legacy"),
        "{err}"
    );
    bazel.write(
        sso_token_file("https://legacy.awsapps.com/start"),
        token("sso-access-token", now() + 3600),
    );
    bazel.get(ECR_URI).success();
    assert_eq!(portal.count(), 2);

    // An expired token is not sent anywhere; a refused one names the portal. Neither error
    // quotes the token.
    bazel.env("AWS_PROFILE", "dev");
    bazel.write(
        sso_token_file("corp"),
        token("sso-access-token", now() - 60),
    );
    let err = bazel.get(ECR_URI).failure();
    assert!(
        err.contains("expired") && err.contains("aws sso login --profile dev"),
        "{err}"
    );
    assert_eq!(portal.count(), 2);
    bazel.write(
        sso_token_file("corp"),
        token("revoked-access-token", now() + 3600),
    );
    let err = bazel.get(ECR_URI).failure();
    assert!(
        err.contains("refused the token") && err.contains("401"),
        "{err}"
    );
    assert!(!err.contains("revoked-access-token"), "{err}");

    bazel.env("AWS_PROFILE", "lost");
    let err = bazel.get(ECR_URI).failure();
    assert!(err.contains("[sso-session nowhere]"), "{err}");
}

#[test]
fn ecr_with_container_credentials() {
    let expiration = rfc3339(now() + 3600);
    let container = TestServer::start(move |req| {
        if req.header("authorization") != Some("container-auth") || req.path != "/v2/creds" {
            return Response::new(401);
        }
        Response::json(
            200,
            &json!({"AccessKeyId": "ASIAECS", "SecretAccessKey": "ecs-secret",
                    "Token": "ecs-token", "Expiration": expiration}),
        )
    });
    let ecr = ecr_server("ecs-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    bazel
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{}/v2/creds", container.url()),
        )
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth");
    bazel.get(ECR_URI).success();
    let req = &ecr.requests()[0];
    assert_eq!(
        check_ecr_request(req, "ecs-secret").access_key_id,
        "ASIAECS"
    );
    assert_eq!(req.header("x-amz-security-token"), Some("ecs-token"));
    assert_eq!(container.count(), 1);

    // Plain http elsewhere than loopback or the ECS agent is refused before any request.
    bazel.env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://10.1.2.3/creds",
    );
    bazel.env("CREDENTIAL_HELPER_CACHE", "off");
    let err = bazel.get(ECR_URI).failure();
    assert!(
        err.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI must be https"),
        "{err}"
    );
}

/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS tasks, CodeBuild) names a path on the ECS
/// agent's fixed address, 169.254.170.2. The fake agent is reached through `HTTP_PROXY`, which
/// applies to that plain-http request as to any other, so the request it sees is the real one.
#[test]
fn ecr_with_ecs_task_credentials_at_the_agent_address() {
    let expiration = rfc3339(now() + 3600);
    let agent = TestServer::start(move |req| {
        let ok = req.method == "GET"
            && req.path == "http://169.254.170.2/v2/credentials/task-role-id"
            && req.header("authorization").is_none();
        if !ok {
            return Response::new(404);
        }
        Response::json(
            200,
            &json!({"RoleArn": "arn:aws:iam::123456789012:role/task", "AccessKeyId": "ASIATASK",
                    "SecretAccessKey": "task-secret", "Token": "task-token", "Expiration": expiration}),
        )
    });
    let ecr = ecr_server("task-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    bazel
        .env(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/task-role-id",
        )
        .env("HTTP_PROXY", agent.url())
        .env("NO_PROXY", "127.0.0.1");
    bazel.get(ECR_URI).success();
    let req = &ecr.requests()[0];
    assert_eq!(
        check_ecr_request(req, "task-secret").access_key_id,
        "ASIATASK"
    );
    assert_eq!(req.header("x-amz-security-token"), Some("task-token"));
    assert_eq!(agent.count(), 1);
}

/// IMDSv2: PUT a session token, then GET the role name and its credentials with it.
#[test]
fn ecr_with_instance_metadata_v2() {
    let expiration = rfc3339(now() + 3600);
    let imds = TestServer::start(move |req| {
        let token_ok = req.header("x-aws-ec2-metadata-token") == Some("imds-session");
        match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/latest/api/token")
                if req.header("x-aws-ec2-metadata-token-ttl-seconds").is_some() =>
            {
                Response::text(200, "imds-session")
            }
            ("GET", "/latest/meta-data/iam/security-credentials/") if token_ok => {
                Response::text(200, "build-role")
            }
            ("GET", "/latest/meta-data/iam/security-credentials/build-role") if token_ok => {
                Response::json(
                    200,
                    &json!({"Code": "Success", "AccessKeyId": "ASIAIMDS",
                            "SecretAccessKey": "imds-secret", "Token": "imds-token",
                            "Expiration": expiration}),
                )
            }
            _ => Response::new(401),
        }
    });
    let ecr = ecr_server("imds-secret", "pw");
    let mut bazel = bazel_with(&ecr);
    bazel
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url());
    bazel.get(ECR_URI).success();
    let methods: Vec<(String, String)> = imds
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        methods,
        [
            ("PUT".to_string(), "/latest/api/token".to_string()),
            (
                "GET".into(),
                "/latest/meta-data/iam/security-credentials/".into()
            ),
            (
                "GET".into(),
                "/latest/meta-data/iam/security-credentials/build-role".into()
            ),
        ]
    );
    let req = &ecr.requests()[0];
    assert_eq!(
        check_ecr_request(req, "imds-secret").access_key_id,
        "ASIAIMDS"
    );
    assert_eq!(req.header("x-amz-security-token"), Some("imds-token"));

    // No metadata service (a closed port) and nothing else: a clear "no credentials".
    let mut bazel = bazel_with(&ecr);
    bazel
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9");
    let answer = bazel.run(&["explain", ECR_URI], None);
    assert!(answer.stdout.contains("no AWS credentials"), "{answer}");
}

// ---- s3 ----

const S3_SECRET: &str = "s3-secret/abc+def";

/// Verifies an s3 answer as S3 would: the answer's headers plus the `Host` Bazel sends.
fn verify_s3(uri: &str, answer: &crate::support::Parsed, secret: &str) -> sigv4::Verified {
    let url = url::Url::parse(uri).unwrap();
    let mut headers: Vec<(String, String)> = answer
        .headers
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
        .collect();
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap()),
        None => url.host_str().unwrap().to_string(),
    };
    headers.push(("host".into(), host));
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    sigv4::verify("GET", &target, &headers, b"", secret).unwrap_or_else(|e| panic!("{uri}: {e}"))
}

fn s3_bazel() -> Bazel {
    let mut bazel = Bazel::new();
    bazel
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIDS3")
        .env("AWS_SECRET_ACCESS_KEY", S3_SECRET);
    bazel
}

/// S3 signs every download afresh, so a `credential_process` with an `Expiration` is run once
/// per build, not once per download; one without is run every time.
#[test]
fn credential_process_temporary_keys_are_cached() {
    let mut bazel = Bazel::new();
    bazel.env("AWS_EC2_METADATA_DISABLED", "true");
    let runs = bazel.write("runs", "");
    let expiration = rfc3339(now() + 3600);
    bazel.script(
        "creds",
        &format!(
            r#"echo run >> '{runs}'
if [ "$1" = temporary ]; then
  echo '{{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "{S3_SECRET}", "SessionToken": "t", "Expiration": "{expiration}"}}'
else
  echo '{{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "{S3_SECRET}"}}'
fi"#,
            runs = runs.display()
        ),
    );
    bazel.write(
        "home/.aws/config",
        "[profile temporary]\ncredential_process = creds temporary\n[profile long-lived]\ncredential_process = creds long-lived\n",
    );
    let uri = "https://my-bucket.s3.eu-west-1.amazonaws.com/file.tar.gz";
    let count = || std::fs::read_to_string(&runs).unwrap().lines().count();
    bazel.env("AWS_PROFILE", "temporary");
    for _ in 0..2 {
        let answer = bazel.get(uri).success();
        assert_eq!(verify_s3(uri, &answer, S3_SECRET).access_key_id, "ASIAPROC");
    }
    assert_eq!(count(), 1);
    bazel.env("AWS_PROFILE", "long-lived");
    for _ in 0..2 {
        let answer = bazel.get(uri).success();
        assert_eq!(verify_s3(uri, &answer, S3_SECRET).access_key_id, "AKIDPROC");
    }
    assert_eq!(count(), 3, "long-lived keys are never cached");
}

#[test]
fn s3_virtual_hosted_and_path_style_urls_are_signed() {
    let mut bazel = s3_bazel();
    bazel.env("AWS_SESSION_TOKEN", "s3-session");
    let cases = [
        (
            "https://my-bucket.s3.eu-west-1.amazonaws.com/dir/file.tar.gz",
            "eu-west-1",
        ),
        (
            "https://my-bucket.s3.amazonaws.com/file.tar.gz",
            "us-east-1",
        ),
        (
            "https://s3.ap-southeast-2.amazonaws.com/my-bucket/dir/file%20name.zip",
            "ap-southeast-2",
        ),
        (
            "https://s3.amazonaws.com/my-bucket/a.zip?versionId=v1&x-id=GetObject",
            "us-east-1",
        ),
        (
            "https://my.dotted.bucket.s3.dualstack.us-east-2.amazonaws.com/k",
            "us-east-2",
        ),
    ];
    for (uri, region) in cases {
        let before = now();
        let answer = bazel.get(uri).success();
        let v = verify_s3(uri, &answer, S3_SECRET);
        assert_eq!(
            (v.region.as_str(), v.service.as_str()),
            (region, "s3"),
            "{uri}"
        );
        assert_eq!(v.access_key_id, "AKIDS3");
        assert_eq!(answer.header("x-amz-content-sha256"), Some(EMPTY_SHA256));
        assert_eq!(answer.header("x-amz-security-token"), Some("s3-session"));
        for signed in [
            "host",
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-security-token",
        ] {
            assert!(v.signed_headers.iter().any(|h| h == signed), "{uri}: {v:?}");
        }
        let expires = answer.expires_at().unwrap().unix_timestamp();
        assert!(
            expires > before && expires <= now() + 15 * 60,
            "{uri}: {expires}"
        );
    }
    assert_eq!(sha256_hex(b""), EMPTY_SHA256);
}

#[test]
fn s3_region_from_config_for_other_hosts() {
    let mut bazel = s3_bazel();
    bazel.config(
        r#"{"urls":[{"host":"storage.example.com","helper":"s3","config":{"region":"eu-north-1"}},
                    {"host":"nameless.example.com","helper":"s3"}]}"#,
    );
    let uri = "https://storage.example.com/bucket/key";
    let v = verify_s3(uri, &bazel.get(uri).success(), S3_SECRET);
    assert_eq!(v.region, "eu-north-1");
    let err = bazel
        .get("https://nameless.example.com/bucket/key")
        .failure();
    assert!(
        err.contains("cannot tell the region of nameless.example.com"),
        "{err}"
    );
    assert!(err.contains("\"region\""), "{err}");
}

#[test]
fn r2_uses_its_own_variables_and_region_auto() {
    let mut bazel = s3_bazel();
    bazel
        .env("R2_ACCESS_KEY_ID", "R2KEY")
        .env("R2_SECRET_ACCESS_KEY", "r2-secret");
    for uri in [
        "https://0123abcd.r2.cloudflarestorage.com/bucket/file.tar",
        "https://bucket.0123abcd.r2.cloudflarestorage.com/file.tar",
    ] {
        let v = verify_s3(uri, &bazel.get(uri).success(), "r2-secret");
        assert_eq!(
            (
                v.access_key_id.as_str(),
                v.region.as_str(),
                v.service.as_str()
            ),
            ("R2KEY", "auto", "s3")
        );
    }
    bazel.env_remove("R2_SECRET_ACCESS_KEY");
    let err = bazel
        .get("https://0123abcd.r2.cloudflarestorage.com/bucket/file.tar")
        .failure();
    assert!(err.contains("R2_SECRET_ACCESS_KEY"), "{err}");
}

/// Presigned URLs carry their own signature; without any AWS credentials, public buckets
/// still download (no headers), and a broken source is an error.
#[test]
fn s3_presigned_and_anonymous_urls_get_no_headers() {
    let mut bazel = Bazel::new();
    bazel.env("AWS_EC2_METADATA_DISABLED", "true");
    let presigned = "https://b.s3.us-east-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";
    let answer = bazel.get(presigned).success();
    assert!(answer.headers.is_empty(), "{answer:?}");
    let answer = bazel
        .get("https://b.s3.us-east-1.amazonaws.com/k")
        .success();
    assert!(answer.headers.is_empty(), "{answer:?}");
    bazel.env("AWS_PROFILE", "missing");
    let err = bazel
        .get("https://b.s3.us-east-1.amazonaws.com/k")
        .failure();
    assert!(
        err.contains("s3: AWS_PROFILE \"missing\" is not in"),
        "{err}"
    );
}

/// Off EC2 the metadata probe fails fast (1 s at most, no retry) and is remembered, so later
/// downloads skip it.
#[test]
fn missing_instance_metadata_is_probed_once() {
    let imds = TestServer::start(|_| Response::hang());
    let mut bazel = Bazel::new();
    bazel.env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url());
    let uri = "https://b.s3.us-east-1.amazonaws.com/k";
    let started = std::time::Instant::now();
    assert!(bazel.get(uri).success().headers.is_empty());
    let first = started.elapsed();
    assert!(first < std::time::Duration::from_millis(2500), "{first:?}");
    assert_eq!(imds.count(), 1);
    assert!(bazel.get(uri).success().headers.is_empty());
    assert_eq!(imds.count(), 1, "the absence is remembered");
}

/// The s3 defaults never capture ECR hosts, and the ECR defaults never capture S3 hosts.
#[test]
fn s3_and_ecr_defaults_do_not_shadow_each_other() {
    let mut bazel = s3_bazel();
    let ecr = ecr_server(S3_SECRET, "pw");
    bazel
        .env("CREDENTIAL_HELPER_ACTIVE_KEYCHAINS", "ecr")
        .env("AWS_ENDPOINT_URL_ECR", ecr.url());
    let answer = bazel.get(ECR_URI).success();
    assert!(answer_basic(&answer).starts_with("Basic "));
    assert_eq!(answer.header("x-amz-date"), None);
    let s3 = "https://team.s3.us-east-1.amazonaws.com/v2/team/app/manifests/v1";
    let answer = bazel.get(s3).success();
    assert!(answer_basic(&answer).starts_with("AWS4-HMAC-SHA256 "));
    assert_eq!(ecr.count(), 1);
}

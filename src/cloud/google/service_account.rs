//! `service_account` key files: an RS256-signed JWT traded for an access token.

use super::oauth::{AccessToken, DEFAULT_TOKEN_URI, cached, endpoint, exchange};
use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::http::{self, Request};
use crate::kernel::secret::Secret;
use crate::note;
use base64::Engine;
use serde::Deserialize;

const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Lifetime asked for in a service-account JWT (Google's maximum).
const JWT_LIFETIME: i64 = 3600;

#[derive(Debug, Deserialize)]
pub(super) struct ServiceAccount {
    client_email: String,
    private_key: Secret,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

pub(super) fn service_account(
    ctx: &Context,
    sa: &ServiceAccount,
    what: &str,
    scope: &str,
) -> Result<AccessToken> {
    let endpoint = endpoint(
        sa.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI),
        "token_uri",
        what,
    )?;
    let source = format!("service account {} from {what}", sa.client_email);
    let key = Key::new(&[
        "google-service-account",
        &sa.client_email,
        &sa.private_key.fingerprint(),
        endpoint.as_str(),
        scope,
    ]);
    cached(ctx, &key, source, || {
        let now = ctx.env.now();
        let claims = serde_json::json!({
            "iss": sa.client_email,
            "scope": scope,
            "aud": endpoint.as_str(),
            "iat": now,
            "exp": now + JWT_LIFETIME,
        });
        let jwt = sign_rs256(&sa.private_key, sa.private_key_id.as_deref(), &claims)
            .map_err(|why| Error::new(format!("{what}: {why}")))?;
        note!(
            ctx.trace,
            "google: POST {} (JWT bearer grant for {})",
            http::redact_url(&endpoint),
            sa.client_email
        );
        let fields = [
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", jwt.expose()),
        ];
        exchange(ctx, &Request::form(endpoint.clone(), &fields), what)
    })
}

/// A compact JWT signed with RS256 by a PKCS#8 PEM key.
fn sign_rs256(
    pem: &Secret,
    key_id: Option<&str>,
    claims: &serde_json::Value,
) -> Result<Secret, String> {
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject;

    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.expose().as_bytes())
        .map_err(|_| "private_key is not a PEM PKCS#8 key".to_string())?;
    let key = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
        .map_err(|e| format!("private_key is not a usable RSA key ({e})"))?;
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = kid.into();
    }
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let message = format!("{}.{}", b64(&header), b64(claims));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .map_err(|_| "signing the JWT failed".to_string())?;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
    Ok(Secret::new(format!("{message}.{signature}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_is_rs256_signed_and_verifies() {
        let pem = include_str!("../../../tests/it/fixtures/google-test-service-account-key.pem");
        let claims = serde_json::json!({"iss": "a@b", "aud": "https://x/token"});
        let jwt = sign_rs256(&Secret::new(pem), Some("kid-1"), &claims).unwrap();
        let (message, signature) = jwt.expose().rsplit_once('.').unwrap();
        let (header, body) = message.split_once('.').unwrap();
        let decode = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap()
        };
        let header: serde_json::Value = serde_json::from_slice(&decode(header)).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        let body: serde_json::Value = serde_json::from_slice(&decode(body)).unwrap();
        assert_eq!(body, claims);
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap();
        let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            pair.public().as_ref(),
        );
        public
            .verify(message.as_bytes(), &decode(signature))
            .unwrap();
        assert!(sign_rs256(&Secret::new("not a key"), None, &claims).is_err());
    }
}

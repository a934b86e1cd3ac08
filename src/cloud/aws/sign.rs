//! SigV4 request signing, through the `aws-sigv4` crate (AWS's own implementation).

use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

use super::credentials::Credentials;
use crate::kernel::error::{Error, Result};
use crate::kernel::secret::Secret;

/// What to sign. Headers given here are signed along with `host` and `x-amz-date`.
pub struct Signable<'a> {
    pub method: &'a str,
    pub url: &'a url::Url,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// S3 signs the path as sent (no double encoding, no normalisation) and wants the payload hash
/// in `x-amz-content-sha256`; every other service takes the defaults.
fn settings(service: &str) -> SigningSettings {
    let mut settings = SigningSettings::default();
    if service == "s3" {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    settings
}

/// The headers to add: `authorization`, `x-amz-date`, `x-amz-security-token` with temporary
/// credentials, and `x-amz-content-sha256` for S3.
pub fn headers(credentials: &Credentials, req: &Signable) -> Result<Vec<(String, Secret)>> {
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_string(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_string()),
        None,
        "credential-helper",
    )
    .into();
    let time = UNIX_EPOCH + Duration::from_secs(u64::try_from(req.now).unwrap_or(0));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(req.region)
        .name(req.service)
        .time(time)
        .settings(settings(req.service))
        .build()
        .map_err(|e| Error::new(format!("cannot sign the request: {e}")))?
        .into();
    let fail = |e: &dyn std::fmt::Display| {
        Error::new(format!(
            "cannot sign the request to {}: {e}",
            crate::kernel::http::redact_url(req.url)
        ))
    };
    let signable = SignableRequest::new(
        req.method,
        req.url.as_str(),
        req.headers.iter().copied(),
        SignableBody::Bytes(req.body),
    )
    .map_err(|e| fail(&e))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| fail(&e))?.into_parts();
    let (headers, _) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| (h.name().to_string(), Secret::new(h.value())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: token.map(Secret::new),
            expires: None,
            source: "test".into(),
        }
    }

    fn get(headers: &[(String, Secret)], name: &str) -> String {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.expose().to_string())
            .unwrap_or_default()
    }

    /// AWS's published SigV4 test suite, case `get-vanilla`.
    #[test]
    fn get_vanilla_known_answer() {
        let url = url::Url::parse("https://example.amazonaws.com/").unwrap();
        let now = 1_440_938_160; // 2015-08-30T12:36:00Z
        let req = Signable {
            method: "GET",
            url: &url,
            headers: &[],
            body: b"",
            region: "us-east-1",
            service: "service",
            now,
        };
        let h = headers(&creds(None), &req).unwrap();
        assert_eq!(get(&h, "x-amz-date"), "20150830T123600Z");
        assert_eq!(
            get(&h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        let h = headers(&creds(Some("tok")), &req).unwrap();
        assert_eq!(get(&h, "x-amz-security-token"), "tok");
    }

    #[test]
    fn s3_adds_the_payload_hash() {
        let url = url::Url::parse("https://b.s3.us-west-2.amazonaws.com/a%20b/c").unwrap();
        let req = Signable {
            method: "GET",
            url: &url,
            headers: &[],
            body: b"",
            region: "us-west-2",
            service: "s3",
            now: 1_800_000_000,
        };
        let h = headers(&creds(None), &req).unwrap();
        assert_eq!(
            get(&h, "x-amz-content-sha256"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(
            get(&h, "authorization").contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date")
        );
    }
}

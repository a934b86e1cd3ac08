//! An independent SigV4 verifier, written from AWS's specification with ring's HMAC and
//! SHA-256, to check what the helper signs (which uses the `aws-sigv4` crate). It is itself
//! checked against AWS's published test-suite vectors in `aws::sigv4_verifier_*`.

use ring::{digest, hmac};

/// What a verified request said about itself.
#[derive(Debug)]
pub struct Verified {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    hex(&hmac(&k, string_to_sign.as_bytes()))
}

/// RFC 3986 encoding with AWS's unreserved set.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Each path segment encoded once (S3) or twice (every other service).
fn canonical_uri(path: &str, service: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .map(|seg| {
            let once = encode(&decode(seg));
            if service == "s3" { once } else { encode(&once) }
        })
        .collect();
    let uri = segments.join("/");
    if uri.is_empty() { "/".into() } else { uri }
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(&decode(k)), encode(&decode(v)))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks the `Authorization` header of a request against `secret`. `target` is the request
/// target as sent (path and query); header names compare case-insensitively.
pub fn verify(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    secret: &str,
) -> Result<Verified, String> {
    let header = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let auth = *header("authorization")
        .first()
        .ok_or("no Authorization header")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| format!("not a SigV4 Authorization: {auth}"))?;
    let mut credential = None;
    let mut signed = None;
    let mut given = None;
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or("malformed Authorization")?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => given = Some(v),
            _ => return Err(format!("unknown Authorization field {k}")),
        }
    }
    let (credential, signed, given) = (
        credential.ok_or("no Credential")?,
        signed.ok_or("no SignedHeaders")?,
        given.ok_or("no Signature")?,
    );
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, "aws4_request"] = scope[..] else {
        return Err(format!("malformed Credential {credential}"));
    };
    let amz_date = *header("x-amz-date").first().ok_or("no X-Amz-Date")?;
    if !amz_date.starts_with(date) {
        return Err(format!("X-Amz-Date {amz_date} is not on scope date {date}"));
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
    for must in ["host", "x-amz-date"] {
        if !signed_headers.iter().any(|h| h == must) {
            return Err(format!("{must} is not signed"));
        }
    }
    let mut canonical_headers = String::new();
    for name in &signed_headers {
        let values = header(name);
        if values.is_empty() {
            return Err(format!("signed header {name} was not sent"));
        }
        let values: Vec<String> = values
            .iter()
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload = match header("x-amz-content-sha256").first() {
        Some(h) => h.to_string(),
        None => sha256_hex(body),
    };
    if payload != sha256_hex(body) && payload != "UNSIGNED-PAYLOAD" {
        return Err("x-amz-content-sha256 does not match the body".into());
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let canonical_request = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{signed}\n{payload}",
        canonical_uri(path, service),
        canonical_query(query),
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let want = signature(secret, date, region, service, &string_to_sign);
    if want != given {
        return Err(format!(
            "signature mismatch: got {given}, want {want}\ncanonical request:\n{canonical_request}"
        ));
    }
    Ok(Verified {
        access_key_id: key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
    })
}

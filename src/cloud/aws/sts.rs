//! STS: `AssumeRoleWithWebIdentity` (unsigned; GitHub Actions OIDC, EKS IRSA) and `AssumeRole`
//! (SigV4-signed with the source credentials). Both answer XML.

use super::credentials::{Credentials, cached, endpoint_override, region};
use super::sign;
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::http::Request;
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::kernel::token::parse_rfc3339;
use crate::note;

const DEFAULT_SESSION_NAME: &str = "credential-helper";
const API_VERSION: &str = "2011-06-15";

/// A role to assume.
pub struct Role<'a> {
    pub arn: &'a str,
    pub session_name: Option<&'a str>,
    /// From the profile; `AWS_REGION` wins.
    pub region: Option<&'a str>,
}

impl Role<'_> {
    fn session_name(&self) -> &str {
        self.session_name.unwrap_or(DEFAULT_SESSION_NAME)
    }
}

/// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` [+ `AWS_ROLE_SESSION_NAME`].
pub fn web_identity_from_env(ctx: &Context) -> Outcome<Credentials> {
    let env = &ctx.env;
    let (Some(file), Some(arn)) = (
        env.var(vars::AWS_WEB_IDENTITY_TOKEN_FILE),
        env.var(vars::AWS_ROLE_ARN),
    ) else {
        return Outcome::Missing(format!(
            "{} and {} not both set",
            vars::AWS_WEB_IDENTITY_TOKEN_FILE,
            vars::AWS_ROLE_ARN
        ));
    };
    let role = Role {
        arn,
        session_name: env.var(vars::AWS_ROLE_SESSION_NAME),
        region: None,
    };
    match web_identity(ctx, &role, file) {
        Ok(c) => Outcome::Found(c),
        Err(e) => Outcome::Failed(e),
    }
}

/// Exchanges the token in `token_file` for the role's credentials.
pub fn web_identity(ctx: &Context, role: &Role, token_file: &str) -> Result<Credentials> {
    let path = ctx.env.expand_path(token_file);
    let token = files::read_required_text(&path, "web identity token")?;
    let token = Secret::new(token.trim());
    if token.is_empty() {
        return Err(Error::new(format!(
            "web identity token file {} is empty",
            path.display()
        )));
    }
    let url = endpoint(ctx, role.region)?;
    let source = format!("web identity {} ({})", role.arn, path.display());
    let parts = [
        "web-identity",
        url.as_str(),
        role.arn,
        role.session_name(),
        &token.fingerprint(),
    ];
    cached(ctx, &parts, || {
        note!(
            ctx.trace,
            "sts: AssumeRoleWithWebIdentity {} at {url}",
            role.arn
        );
        let request = Request::form(
            url.clone(),
            &[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("Version", API_VERSION),
                ("RoleArn", role.arn),
                ("RoleSessionName", role.session_name()),
                ("WebIdentityToken", token.expose()),
            ],
        );
        call(ctx, &request, &url, "AssumeRoleWithWebIdentity", source)
    })
}

/// `AssumeRole`, signed with `from`.
pub fn assume_role(ctx: &Context, from: &Credentials, role: &Role) -> Result<Credentials> {
    let url = endpoint(ctx, role.region)?;
    let signing_region = signing_region(ctx, role.region);
    let source = format!("role {} assumed with {}", role.arn, from.source);
    let parts = [
        "assume-role",
        url.as_str(),
        role.arn,
        role.session_name(),
        &from.fingerprint(),
    ];
    cached(ctx, &parts, || {
        note!(
            ctx.trace,
            "sts: AssumeRole {} at {url} with {}",
            role.arn,
            from.source
        );
        let form = Request::form(
            url.clone(),
            &[
                ("Action", "AssumeRole"),
                ("Version", API_VERSION),
                ("RoleArn", role.arn),
                ("RoleSessionName", role.session_name()),
            ],
        );
        let (content_type, body) = form.body.clone().unwrap_or_default();
        let signed = sign::headers(
            from,
            &sign::Signable {
                method: "POST",
                url: &url,
                headers: &[("content-type", &content_type)],
                body: &body,
                region: &signing_region,
                service: "sts",
                now: ctx.env.now(),
            },
        )
        .map_err(|e| e.context(format!("sts AssumeRole for {}", role.arn)))?;
        let request = signed
            .into_iter()
            .fold(form, |r, (name, value)| r.header(&name, value));
        call(ctx, &request, &url, "AssumeRole", source)
    })
}

fn call(
    ctx: &Context,
    request: &Request,
    url: &url::Url,
    action: &str,
    source: String,
) -> Result<Credentials> {
    let response = ctx
        .http
        .send(request)
        .map_err(|e| e.context(format!("sts {action}")))?;
    note!(ctx.trace, "sts: {action} answered {}", response.status);
    let body = String::from_utf8_lossy(&response.body);
    if !response.is_success() {
        // Only a well-formed error code is shown; the message may echo what was sent.
        let code = error_code(&body);
        return Err(Error::new(format!(
            "sts {action} at {} answered {} {code} for {source}",
            crate::kernel::http::redact_url(url),
            response.status
        ))
        .hint("check the role's trust policy and the token's audience and subject"));
    }
    parse_credentials(&body, source).map_err(|e| {
        e.context(format!(
            "sts {action} at {}",
            crate::kernel::http::redact_url(url)
        ))
    })
}

/// `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else the regional endpoint (the global one
/// without a region).
fn endpoint(ctx: &Context, profile_region: Option<&str>) -> Result<url::Url> {
    if let Some(url) = endpoint_override(&ctx.env, vars::AWS_ENDPOINT_URL_STS)? {
        return Ok(url);
    }
    let host = match region(&ctx.env).or(profile_region) {
        Some(r) if r.starts_with("cn-") => format!("sts.{r}.amazonaws.com.cn"),
        Some(r) => format!("sts.{r}.amazonaws.com"),
        None => "sts.amazonaws.com".to_string(),
    };
    url::Url::parse(&format!("https://{host}/"))
        .map_err(|e| Error::new(format!("invalid STS endpoint {host}: {e}")))
}

fn signing_region(ctx: &Context, profile_region: Option<&str>) -> String {
    region(&ctx.env)
        .or(profile_region)
        .unwrap_or("us-east-1")
        .to_string()
}

/// `<Credentials><AccessKeyId>..</AccessKeyId>...</Credentials>` of an STS answer.
fn parse_credentials(xml: &str, source: String) -> Result<Credentials> {
    let creds = element(xml, "Credentials")
        .ok_or_else(|| Error::new("answer has no Credentials element"))?;
    let field = |name: &str| {
        element(creds, name)
            .map(unescape)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::new(format!("answer has no {name}")))
    };
    let expiration = field("Expiration")?;
    let expires =
        parse_rfc3339(&expiration).ok_or_else(|| Error::new("answer has an invalid Expiration"))?;
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Secret::new(field("SecretAccessKey")?),
        session_token: Some(Secret::new(field("SessionToken")?)),
        expires: Some(expires),
        source,
    })
}

/// The `<Code>` of an STS error answer when it looks like one (`ExpiredTokenException`,
/// `InvalidIdentityToken`), else "unrecognised error": the server's text is not quoted.
fn error_code(xml: &str) -> &str {
    element(xml, "Code")
        .filter(|c| {
            let mut bytes = c.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                && c.len() <= 64
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'.')
        })
        .unwrap_or("unrecognised error")
}

/// The text inside the first `<name>...</name>` (STS answers have no attributes on these).
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(xml[start..start + len].trim())
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_sts_answer() {
        let xml = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:o/r</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>tok&amp;en</SessionToken>
      <SecretAccessKey>se/cret+</SecretAccessKey>
      <Expiration>2026-11-23T12:00:00Z</Expiration>
      <AccessKeyId>ASIA1</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#;
        let c = parse_credentials(xml, "x".into()).unwrap();
        assert_eq!(c.access_key_id, "ASIA1");
        assert_eq!(c.secret_access_key.expose(), "se/cret+");
        assert_eq!(c.session_token.unwrap().expose(), "tok&en");
        assert_eq!(c.expires, Some(1_795_435_200));
        assert!(parse_credentials("<Credentials></Credentials>", "x".into()).is_err());
        assert!(parse_credentials("nope", "x".into()).is_err());
    }

    #[test]
    fn error_codes_are_shown_only_when_well_formed() {
        let code = |c: &str| {
            error_code(&format!("<ErrorResponse><Error><Code>{c}</Code><Message>canary</Message></Error></ErrorResponse>")).to_string()
        };
        for ok in [
            "InvalidIdentityToken",
            "ExpiredTokenException",
            "Sender.Throttling",
            "A",
        ] {
            assert_eq!(code(ok), ok);
        }
        for bad in [
            "canary token=abc",
            "1Invalid",
            "",
            "Code-With-Dash",
            "Ünïcode",
            &"A".repeat(65),
        ] {
            assert_eq!(code(bad), "unrecognised error", "{bad}");
        }
        assert_eq!(error_code("no xml"), "unrecognised error");
    }
}

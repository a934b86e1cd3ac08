//! Container registries: which repository a URL names, the credentials a registry takes, and
//! the token exchange its `WWW-Authenticate` challenge asks for.

use base64::Engine;

use crate::kernel::secret::{Secret, has_control_character};

pub mod challenge;
pub mod host_match;
pub mod keychains;
pub mod reference;
pub mod sources;
pub mod stores;
pub mod token;
pub mod warm;

/// A registry credential, as docker and podman store them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Username and password (or a personal access token used as password).
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged with a `POST` to the realm.
    /// A docker entry may hold a username and password beside it (go-containerregistry's
    /// `AuthConfig` keeps all three): they are the Basic auth of the `GET` that follows a 404.
    IdentityToken {
        username: Option<String>,
        token: Secret,
        password: Option<Secret>,
    },
    /// A bearer token sent to the registry as it is (docker's `registrytoken`).
    RegistryToken(Secret),
}

impl Credential {
    /// From an `auth` value, with the credential helpers' `<token>` rule applied.
    pub fn from_auth(auth: &Secret) -> Result<Credential, String> {
        let (user, pass) = Credential::decode_auth(auth)?;
        Ok(Credential::from_user_password(&user, pass))
    }

    /// docker's `auth` field as docker/cli's `decodeAuth` reads it: base64 of `user:password`,
    /// split at the first `:`, the username not empty, NULs around the password trimmed.
    pub fn decode_auth(auth: &Secret) -> Result<(String, Secret), String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(auth.expose().trim())
            .map_err(|_| "is not valid base64".to_string())?;
        let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 once decoded".to_string())?;
        match text.split_once(':') {
            Some((user, pass)) if !user.is_empty() => {
                Ok((user.to_string(), Secret::new(pass.trim_matches('\0'))))
            }
            _ => Err("does not decode to user:password".to_string()),
        }
    }

    /// `<token>` as the username means the password is an identity token (docker's rule).
    pub fn from_user_password(username: &str, password: Secret) -> Credential {
        if username == "<token>" {
            Credential::IdentityToken {
                username: None,
                token: password,
                password: None,
            }
        } else {
            Credential::Basic {
                username: username.to_string(),
                password,
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Basic { .. } => "username/password",
            Credential::IdentityToken { .. } => "identity token",
            Credential::RegistryToken(_) => "registry token",
        }
    }

    /// A credential with a control character is never right (a CR LF from a file, a stray
    /// byte in a pasted token): the header-value rule applies to what it is made of, also
    /// where base64 or a token exchange would carry it unseen.
    pub fn has_control_character(&self) -> bool {
        match self {
            Credential::Basic { username, password } => {
                has_control_character(username) || has_control_character(password.expose())
            }
            Credential::IdentityToken {
                username,
                token,
                password,
            } => {
                username.as_deref().is_some_and(has_control_character)
                    || has_control_character(token.expose())
                    || password
                        .as_ref()
                        .is_some_and(|p| has_control_character(p.expose()))
            }
            Credential::RegistryToken(token) => has_control_character(token.expose()),
        }
    }

    /// Identifies the credential in cache keys without revealing it.
    pub fn fingerprint(&self) -> String {
        let material = match self {
            Credential::Basic { username, password } => {
                format!("basic\0{username}\0{}", password.expose())
            }
            Credential::IdentityToken {
                username,
                token,
                password,
            } => format!(
                "identity\0{}\0{}\0{}",
                username.as_deref().unwrap_or(""),
                token.expose(),
                password.as_ref().map_or("", |p| p.expose())
            ),
            Credential::RegistryToken(t) => format!("registry\0{}", t.expose()),
        };
        Secret::new(material).fingerprint()
    }

    /// The username and password this credential sends on a token `GET`. An identity token is
    /// never sent as a password: its entry's own username and password are, when both are
    /// non-empty (go-containerregistry's basic transport), else the `GET` is anonymous.
    pub fn basic_auth(&self) -> Option<(&str, &Secret)> {
        match self {
            Credential::Basic { username, password } => Some((username, password)),
            Credential::IdentityToken {
                username: Some(username),
                password: Some(password),
                ..
            } if !username.is_empty() && !password.is_empty() => Some((username, password)),
            _ => None,
        }
    }

    /// The `Username` and `Secret` docker's credential-helper protocol answers for this
    /// credential, the inverse of [`from_user_password`](Self::from_user_password): an identity
    /// token under the username `<token>`, except in ACR's shape (the refresh token is also the
    /// password of ACR's fixed username), answered as docker-credential-acr-env answers it. A
    /// registry token has no form in that protocol.
    pub fn docker_helper_answer(&self) -> Option<(&str, &Secret)> {
        match self {
            Credential::Basic { username, password } => Some((username, password)),
            Credential::IdentityToken {
                username: Some(username),
                token,
                password: Some(password),
            } if password == token && !username.is_empty() => Some((username, token)),
            Credential::IdentityToken { token, .. } => Some(("<token>", token)),
            Credential::RegistryToken(_) => None,
        }
    }

    /// `Basic base64(user:password)`, for Basic challenges and token GETs.
    pub fn basic_header(username: &str, password: &Secret) -> Secret {
        let raw = format!("{username}:{}", password.expose());
        Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }
}

/// `Bearer <token>`, for exchanged and registry tokens.
pub fn bearer(token: &Secret) -> Secret {
    Secret::new(format!("Bearer {}", token.expose()))
}

/// A credential and where it came from ("docker config credsStore 'pass'").
#[derive(Debug, Clone)]
pub struct Sourced {
    pub credential: Credential,
    pub source: String,
}

/// Where a credential would come from, found without fetching it (a credential helper is not
/// run): `source` is the [`Sourced::source`] it would carry, `identity` what decides its answer
/// (which helper, found where, in which version of its config), for cache keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub source: String,
    pub identity: String,
}

/// What a credential source produced for a registry: a credential to use in the registry's
/// exchange, or (ECR) a finished `Authorization` value that needs no exchange.
#[derive(Debug, Clone)]
pub enum Resolved {
    Credential(Sourced),
    Authorization {
        value: crate::kernel::secret::Secret,
        /// Unix seconds, margin applied.
        expires: Option<i64>,
        source: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_field_decoding() {
        let auth = Secret::new("dXNlcjpwYTpzcw=="); // user:pa:ss
        assert_eq!(
            Credential::from_auth(&auth).unwrap(),
            Credential::Basic {
                username: "user".into(),
                password: Secret::new("pa:ss")
            }
        );
        assert!(Credential::from_auth(&Secret::new("!!")).is_err());
        assert!(Credential::from_auth(&Secret::new("dXNlcg==")).is_err()); // "user"
        let tok = Credential::from_auth(&Secret::new("PHRva2VuPjpyZWZyZXNo")).unwrap(); // <token>:refresh
        assert!(matches!(tok, Credential::IdentityToken { .. }));
    }

    /// go-containerregistry's bearer.go: the refresh grant carries the identity token; the
    /// `GET` (directly, or after a 404) carries username:password only, both non-empty.
    #[test]
    fn what_a_token_get_sends() {
        let identity = |username: Option<&str>, password: Option<&str>| Credential::IdentityToken {
            username: username.map(str::to_string),
            token: Secret::new("refresh"),
            password: password.map(Secret::new),
        };
        let table: &[(Credential, Option<(&str, &str)>)] = &[
            (
                Credential::Basic {
                    username: "u".into(),
                    password: Secret::new("p"),
                },
                Some(("u", "p")),
            ),
            (identity(Some("u"), Some("p")), Some(("u", "p"))),
            (identity(Some("<token>"), Some("p")), Some(("<token>", "p"))),
            (identity(Some("u"), None), None),
            (identity(None, None), None),
            (identity(Some(""), Some("p")), None),
            (identity(Some("u"), Some("")), None),
            (Credential::RegistryToken(Secret::new("r")), None),
        ];
        for (credential, want) in table {
            let got = credential.basic_auth().map(|(u, p)| (u, p.expose()));
            assert_eq!(got, *want, "{credential:?}");
        }
    }

    #[test]
    fn docker_helper_answers() {
        let identity = |username: Option<&str>, password: Option<&str>| Credential::IdentityToken {
            username: username.map(str::to_string),
            token: Secret::new("refresh"),
            password: password.map(Secret::new),
        };
        let basic = Credential::Basic {
            username: "u".into(),
            password: Secret::new("p"),
        };
        let table: &[(Credential, Option<(&str, &str)>)] = &[
            (basic, Some(("u", "p"))),
            (identity(None, None), Some(("<token>", "refresh"))),
            (identity(Some("u"), None), Some(("<token>", "refresh"))),
            (identity(Some("u"), Some("p")), Some(("<token>", "refresh"))),
            // The ACR keychain's shape.
            (
                identity(Some("acr"), Some("refresh")),
                Some(("acr", "refresh")),
            ),
            (Credential::RegistryToken(Secret::new("r")), None),
        ];
        for (credential, want) in table {
            let got = credential
                .docker_helper_answer()
                .map(|(u, s)| (u, s.expose()));
            assert_eq!(got, *want, "{credential:?}");
        }
        // From the answer back, as docker reads it.
        let token = identity(None, None);
        let (u, s) = token.docker_helper_answer().unwrap();
        let back = Credential::from_user_password(u, s.clone());
        assert!(matches!(back, Credential::IdentityToken { .. }));
    }

    #[test]
    fn fingerprint_covers_the_password_beside_an_identity_token() {
        let with = |password: Option<&str>| {
            Credential::IdentityToken {
                username: Some("u".into()),
                token: Secret::new("t"),
                password: password.map(Secret::new),
            }
            .fingerprint()
        };
        assert_ne!(with(None), with(Some("p")));
        assert_ne!(with(Some("p")), with(Some("q")));
    }

    #[test]
    fn decode_auth_follows_docker_cli() {
        let decode = |raw: &str| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
            Credential::decode_auth(&Secret::new(encoded)).map(|(u, p)| (u, p.expose().to_string()))
        };
        assert_eq!(decode("u:p:q"), Ok(("u".into(), "p:q".into())));
        assert_eq!(decode("u:\0p\0"), Ok(("u".into(), "p".into())));
        assert_eq!(decode("u:"), Ok(("u".into(), String::new())));
        assert!(decode(":p").is_err());
        assert!(decode("u").is_err());
    }
}

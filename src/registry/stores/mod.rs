//! Where registry credentials are stored by other tools: docker's config.json and its
//! credential helpers, podman's auth.json, the imgpkg-style environment keychain, what
//! `credential-helper login` saved (and the docker credential-helper protocol on it), and the files
//! container platforms write (Kubernetes secrets, rkt auth.d, Mesos archives).

pub mod auth_json;
pub mod credential_files;
pub mod credential_helper;
pub mod docker_config;
pub mod docker_env;
pub mod docker_locate;
pub mod env_keychain;
pub mod env_keychain_check;
pub mod kubernetes;
pub mod login;
pub mod login_protocol;
pub mod mesos;
pub mod rkt;

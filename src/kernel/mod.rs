//! The kernel: every promise the helper makes has its one owner here (the environment, errors
//! and secrets, the call's deadline, child processes, HTTP and where it may go, the protocol,
//! patterns, the cache, tokens). Nothing in the kernel imports from a layer above it.

pub mod cache;
pub mod context;
pub mod deadline;
pub mod describe;
pub mod digest;
pub mod env;
pub mod error;
pub mod files;
pub mod http;
pub mod http_error;
pub mod keychain;
pub mod login_store;
pub mod outcome;
pub mod owned_files;
pub mod pattern;
pub mod platform;
pub mod process;
pub mod protocol;
#[cfg(target_os = "linux")]
pub mod resolve;
pub mod secret;
pub mod suggest;
pub mod tls;
pub mod tls_roots;
pub mod token;
pub mod trace;
pub mod transport;
pub mod unmatchable;
pub mod workspace;

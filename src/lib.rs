//! `credential-helper`: a Bazel credential helper.
//!
//! The flow of `get`: [`protocol`] reads the request, [`config`] finds the entry, [`plan`]
//! decides what to do without I/O, a helper in [`helpers`] runs it with secrets from
//! [`sources`], and [`protocol`] writes the answer.

pub mod cache;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod context;
pub mod digest;
pub mod env;
pub mod error;
pub mod helpers;
pub mod http;
pub mod plan;
pub mod process;
pub mod protocol;
pub mod registry;
pub mod secret;
pub mod sources;
pub mod trace;

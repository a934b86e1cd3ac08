//! Helpers: what to answer for one kind of URL. One file per helper; each defines its `Config`
//! (the entry's `config` object) and how it runs.

use serde_json::Value;

use crate::config::{HelperConfigError, helper_config};
use crate::context::Context;
use crate::error::Result;
use crate::protocol::Response;

pub mod azblob;
pub mod header;
pub mod null;
pub mod oci;

/// A helper with its validated config.
#[derive(Debug)]
pub enum HelperConfig {
    Null,
    Azblob(azblob::Config),
    Header(header::Config),
    Oci(Box<oci::Config>),
}

impl HelperConfig {
    pub const NAMES: &'static [&'static str] = &["azblob", "header", "null", "oci"];

    pub fn parse(name: &str, config: Value) -> Result<HelperConfig, HelperConfigError> {
        match name {
            "null" => {
                helper_config::<null::Config>(config)?;
                Ok(HelperConfig::Null)
            }
            "azblob" => {
                let c: azblob::Config = helper_config(config)?;
                c.validate().map_err(HelperConfigError::Invalid)?;
                Ok(HelperConfig::Azblob(c))
            }
            "header" => {
                let c: header::Config = helper_config(config)?;
                c.validate().map_err(HelperConfigError::Invalid)?;
                Ok(HelperConfig::Header(c))
            }
            "oci" => {
                let mut c: oci::Config = helper_config(config)?;
                c.validate().map_err(HelperConfigError::Invalid)?;
                Ok(HelperConfig::Oci(Box::new(c)))
            }
            _ => Err(HelperConfigError::UnknownHelper),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            HelperConfig::Null => "null",
            HelperConfig::Azblob(_) => "azblob",
            HelperConfig::Header(_) => "header",
            HelperConfig::Oci(_) => "oci",
        }
    }
}

/// Runs a helper that needs no planning of its own (everything but `oci`, which `plan` handles).
pub fn run(ctx: &Context, helper: &HelperConfig, url: &url::Url) -> Result<Response> {
    match helper {
        HelperConfig::Null => Ok(Response::empty()),
        HelperConfig::Azblob(c) => azblob::run(ctx, c, url),
        HelperConfig::Header(c) => header::run(ctx, c),
        // `plan` normally turns oci entries into `Action::Oci`; this keeps `run` total.
        HelperConfig::Oci(c) => match oci::plan(url, c)? {
            Some(p) => oci::run(ctx, &p),
            None => Ok(Response::empty()),
        },
    }
}

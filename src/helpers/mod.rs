//! Helpers: what to answer for one kind of URL. One file per helper; each defines its `Config`
//! (the entry's `config` object) and how it runs.

use serde_json::Value;

use crate::kernel::context::Context;
use crate::kernel::error::Result;
use crate::kernel::protocol::Response;

pub mod azblob;
pub mod gar;
pub mod gcs;
pub mod github;
pub mod header;
pub mod login;
pub mod netrc;
pub mod null;
pub mod oci;
pub mod oci_config;
pub mod s3;

/// Why a helper's `config` was refused.
pub enum HelperConfigError {
    UnknownHelper,
    /// Every problem found; each names the field, never the value.
    Invalid(Vec<String>),
}

/// Deserializes a helper's `config` object, finding every bad field.
pub fn helper_config<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, HelperConfigError> {
    crate::kernel::describe::serde_problems::<T>(&value).map_err(HelperConfigError::Invalid)
}

/// A `validate` step's one problem.
fn invalid(problem: String) -> HelperConfigError {
    HelperConfigError::Invalid(vec![problem])
}

/// A helper with its validated config.
#[derive(Debug)]
pub enum HelperConfig {
    Null,
    Azblob(azblob::Config),
    Github(github::Config),
    Header(header::Config),
    Gcs(gcs::Config),
    Gar(gar::Config),
    Netrc(netrc::Config),
    Oci(Box<oci::Config>),
    S3(s3::Config),
}

impl HelperConfig {
    pub const NAMES: &'static [&'static str] = &[
        "azblob", "gar", "gcs", "github", "header", "netrc", "null", "oci", "s3",
    ];

    pub fn parse(name: &str, config: Value) -> Result<HelperConfig, HelperConfigError> {
        match name {
            "null" => {
                helper_config::<null::Config>(config)?;
                Ok(HelperConfig::Null)
            }
            "azblob" => {
                let c: azblob::Config = helper_config(config)?;
                c.validate().map_err(invalid)?;
                Ok(HelperConfig::Azblob(c))
            }
            "header" => {
                let c: header::Config = helper_config(config)?;
                c.validate().map_err(invalid)?;
                Ok(HelperConfig::Header(c))
            }
            "gcs" => {
                let c: gcs::Config = helper_config(config)?;
                c.validate().map_err(invalid)?;
                Ok(HelperConfig::Gcs(c))
            }
            "gar" => Ok(HelperConfig::Gar(helper_config(config)?)),
            "github" => Ok(HelperConfig::Github(helper_config(config)?)),
            "netrc" => Ok(HelperConfig::Netrc(helper_config(config)?)),
            "oci" => {
                let mut c: oci::Config = helper_config(config)?;
                c.validate().map_err(invalid)?;
                Ok(HelperConfig::Oci(Box::new(c)))
            }
            "s3" => {
                let c: s3::Config = helper_config(config)?;
                c.validate().map_err(invalid)?;
                Ok(HelperConfig::S3(c))
            }
            _ => Err(HelperConfigError::UnknownHelper),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            HelperConfig::Null => "null",
            HelperConfig::Azblob(_) => "azblob",
            HelperConfig::Github(_) => "github",
            HelperConfig::Header(_) => "header",
            HelperConfig::Gcs(_) => "gcs",
            HelperConfig::Gar(_) => "gar",
            HelperConfig::Netrc(_) => "netrc",
            HelperConfig::Oci(_) => "oci",
            HelperConfig::S3(_) => "s3",
        }
    }
}

impl HelperConfig {
    /// The entry allows plain http off loopback (`"insecure": true`).
    pub fn insecure(&self) -> bool {
        match self {
            HelperConfig::Header(c) => c.insecure,
            HelperConfig::Netrc(c) => c.insecure,
            HelperConfig::Oci(c) => c.insecure,
            _ => false,
        }
    }

    /// Whether the helper's config has an `insecure` option (for the refusal's hint).
    pub fn has_insecure_option(&self) -> bool {
        matches!(
            self,
            HelperConfig::Header(_) | HelperConfig::Netrc(_) | HelperConfig::Oci(_)
        )
    }

    /// Storage helpers whose backends refuse a header credential on a presigned URL
    /// (`kernel::transport::is_presigned`): such a URL gets no headers.
    pub fn signed_urls_need_nothing(&self) -> bool {
        matches!(
            self,
            HelperConfig::S3(_)
                | HelperConfig::Azblob(_)
                | HelperConfig::Gcs(_)
                | HelperConfig::Github(_)
        )
    }
}

/// Runs a helper that needs no planning of its own (everything but `oci`, which `plan` handles).
pub fn run(ctx: &Context, helper: &HelperConfig, url: &url::Url) -> Result<Response> {
    match helper {
        HelperConfig::Null => Ok(Response::empty()),
        HelperConfig::Azblob(c) => azblob::run(ctx, c, url),
        HelperConfig::Github(c) => github::run(ctx, c, url),
        HelperConfig::Header(c) => header::run(ctx, c),
        HelperConfig::Gcs(c) => gcs::run(ctx, c, url),
        HelperConfig::Gar(c) => gar::run(ctx, c, url),
        HelperConfig::Netrc(c) => netrc::run(ctx, c, url),
        HelperConfig::S3(c) => s3::run(ctx, c, url),
        // `plan` normally turns oci entries into `Action::Oci`; this keeps `run` total.
        HelperConfig::Oci(c) => match oci::plan(url, c)? {
            Some(p) => oci::run(ctx, &p),
            None => Ok(Response::empty()),
        },
    }
}

//! The pure planning step: request URL + config + environment → what to do. No I/O happens
//! here, so every routing decision is unit-testable.

use crate::config::Origin;
use crate::config::{Config, Entry};
use crate::env::Env;
use crate::env::vars;
use crate::error::Result;
use crate::helpers::{HelperConfig, header, oci};

/// What `get` will do for one URL.
#[derive(Debug)]
pub struct Plan<'c> {
    /// The entry that matched, if any.
    pub entry: Option<&'c Entry>,
    pub action: Action<'c>,
}

#[derive(Debug)]
pub enum Action<'c> {
    /// Answer `{"headers":{}}`, for the reason given.
    NoHeaders(String),
    Header(&'c header::Config),
    Oci(oci::Plan<'c>),
}

pub fn plan<'c>(
    url: &url::Url,
    config: &'c Config,
    guessed: &'c oci::Config,
    env: &Env,
) -> Result<Plan<'c>> {
    let Some(entry) = config.find(url) else {
        // Without a config file, unknown hosts may still be registries, if the user says so.
        if config.origin == Origin::Defaults
            && env.var(vars::GUESS_OCI_REGISTRY) == Some("1")
            && let Some(p) = oci::plan(url, guessed)?
        {
            return Ok(Plan {
                entry: None,
                action: Action::Oci(p),
            });
        }
        return Ok(Plan {
            entry: None,
            action: Action::NoHeaders(format!("no entry in {} matches", config.origin)),
        });
    };
    let action = match &entry.helper {
        HelperConfig::Null => Action::NoHeaders("the null helper sends no headers".into()),
        HelperConfig::Header(c) => Action::Header(c),
        HelperConfig::Oci(c) => match oci::plan(url, c)? {
            Some(p) => Action::Oci(p),
            None => Action::NoHeaders("not a registry manifest, blob or tag-list URL".into()),
        },
    };
    Ok(Plan {
        entry: Some(entry),
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::test_env;

    #[test]
    fn unmatched_and_null_send_nothing() {
        let config = Config::parse(
            r#"{"urls":[{"host":"a.com","helper":"null"},{"host":"b.com","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"env","name":"K"}]}}]}"#,
            Origin::Defaults,
        )
        .unwrap();
        let env = test_env(&[]);
        let guessed = oci::Config::default();
        let p = |u: &str| plan(&url::Url::parse(u).unwrap(), &config, &guessed, &env).unwrap();
        assert!(matches!(p("https://c.com/").action, Action::NoHeaders(_)));
        assert!(matches!(p("https://a.com/").action, Action::NoHeaders(_)));
        assert!(matches!(p("https://b.com:443/x").action, Action::Header(_)));
    }
}

//! `{"source": "keyring", "service": "...", "account": "..."}`: an item of the OS keychain
//! (`kernel::keychain`: the Secret Service keyring on Linux, the macOS Keychain, Windows
//! Credential Manager). What `credential-helper login <host>` saved is the item of service
//! `credential-helper`, account `<host>`.

use crate::kernel::context::Context;
use crate::kernel::keychain;
use crate::kernel::outcome::Outcome;

pub fn fetch(ctx: &Context, service: &str, account: Option<&str>) -> Outcome {
    match keychain::get(ctx.deadline, service, account) {
        Ok(Some(secret)) if !secret.is_empty() => Outcome::Found(secret),
        Ok(_) => Outcome::Missing("no such item".into()),
        Err(e) => Outcome::Failed(e),
    }
}

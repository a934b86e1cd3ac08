//! A host no config entry covers that `credential-helper login` saved (`kernel::login_store`):
//! `Authorization: Basic` with the saved username, else `Bearer` with the secret alone.
//! Registry API URLs of such a host go to `oci` instead (`plan`), which takes the login as the
//! registry credential.

use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result};
use crate::kernel::login_store::LoginStore;
use crate::kernel::protocol::Response;
use crate::note;
use crate::registry::{Credential, bearer};

pub fn run(ctx: &Context, host: &str) -> Result<Response> {
    let store = LoginStore::from_env(&ctx.env)?;
    let Some(saved) = store.lookup(ctx.deadline, host)? else {
        return Err(Error::new(format!("the login for {host} is gone"))
            .hint(format!("run `credential-helper login {host}` again")));
    };
    note!(ctx.trace, "login for {host}: from {}", saved.source);
    let value = match &saved.username {
        Some(username) => Credential::basic_header(username, &saved.secret),
        None => bearer(&saved.secret),
    };
    let what = format!("the login for {host} from {}", saved.source);
    Response::empty().secret_header("Authorization", value, &what)
}

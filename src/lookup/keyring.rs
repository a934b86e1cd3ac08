//! `{"source": "keyring", "service": "...", "account": "..."}`: the OS keyring.
//!
//! Built only with the `keyring` cargo feature. It asks the platform's own tool
//! (`secret-tool` from libsecret on Linux, `security` on macOS), which keeps the binary free of
//! D-Bus and Security-framework bindings.

use crate::kernel::context::Context;
use crate::kernel::error::Error;
use crate::kernel::outcome::Outcome;

#[cfg(not(feature = "keyring"))]
pub fn fetch(_ctx: &Context, _service: &str, _account: Option<&str>) -> Outcome {
    Outcome::Failed(
        Error::new("keyring support is not built into this binary")
            .hint("rebuild with `cargo install --features keyring`, or use an env or file source"),
    )
}

#[cfg(feature = "keyring")]
pub fn fetch(ctx: &Context, service: &str, account: Option<&str>) -> Outcome {
    use crate::kernel::platform::Platform;
    use crate::kernel::process;
    use crate::kernel::secret::Secret;

    let macos = match ctx.env.platform() {
        Platform::MacOs => true,
        Platform::Linux => false,
        Platform::Windows => {
            return Outcome::Failed(
                Error::new("the keyring source has no Windows support (it asks secret-tool on Linux, security on macOS)")
                    .hint("use an env or file source"),
            );
        }
    };
    let (tool, mut args) = if macos {
        (
            "security",
            vec!["find-generic-password", "-w", "-s", service],
        )
    } else {
        ("secret-tool", vec!["lookup", "service", service])
    };
    if let Some(account) = account {
        args.extend(if macos {
            ["-a", account]
        } else {
            ["account", account]
        });
    }
    let Some(program) = ctx.env.which(tool) else {
        return Outcome::Failed(Error::new(format!("{tool} is not on PATH")));
    };
    match process::run(ctx, tool, &program, &args, b"", process::DEFAULT_TIMEOUT) {
        Ok(out) if out.success() => {
            let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if value.is_empty() {
                Outcome::Missing("no entry".into())
            } else {
                Outcome::Found(Secret::new(value))
            }
        }
        // Both tools exit non-zero with no output when the item does not exist.
        Ok(_) => Outcome::Missing("no entry".into()),
        Err(e) => Outcome::Failed(e),
    }
}

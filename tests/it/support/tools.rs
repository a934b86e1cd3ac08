//! The programs the tests run besides the helper (a real registry server, htpasswd, skopeo, a
//! Secret Service on its own D-Bus), found on
//! the `PATH` the test process inherited, before any test clears the environment of a child.
//!
//! A missing tool fails the first test that needs it with one line naming what to install,
//! and every later one silently (the test still fails, so CI cannot pass without the tool):
//! one message, not one panic per test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, OnceLock};

/// A `PATH` searched instead of the inherited one: the suite's own check of the message for
/// a missing tool points it at an empty directory.
pub const TOOLS_PATH_VAR: &str = "CREDENTIAL_HELPER_TEST_TOOLS_PATH";

/// The words every missing-tool message starts with.
pub const MISSING: &str = "test tool missing:";

struct Tool {
    name: &'static str,
    /// Other distributions' names for the same program.
    also: &'static [&'static str],
    install: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "docker-registry",
        also: &["registry"],
        install: "Debian/Ubuntu: apt-get install docker-registry; Fedora: dnf install docker-distribution; \
                  Nix: nix-env -iA nixpkgs.distribution; elsewhere: go install github.com/distribution/distribution/v3/cmd/registry@latest",
    },
    Tool {
        name: "htpasswd",
        also: &[],
        install: "Debian/Ubuntu/Alpine: apt-get install apache2-utils (apk add apache2-utils); \
                  Fedora: dnf install httpd-tools; Homebrew: brew install httpd",
    },
    Tool {
        name: "skopeo",
        also: &[],
        install: "Debian/Ubuntu: apt-get install skopeo; Fedora: dnf install skopeo; Homebrew: brew install skopeo",
    },
    Tool {
        name: "dbus-daemon",
        also: &[],
        install: "Debian/Ubuntu: apt-get install dbus-daemon; Fedora: dnf install dbus-daemon",
    },
    Tool {
        name: "dbus-send",
        also: &[],
        install: "Debian/Ubuntu: apt-get install dbus-bin; Fedora: dnf install dbus-tools",
    },
    Tool {
        name: "gnome-keyring-daemon",
        also: &[],
        install: "Debian/Ubuntu: apt-get install gnome-keyring; Fedora: dnf install gnome-keyring",
    },
];

/// Raised after a tool's one message was printed; the panic hook prints nothing for it.
struct AlreadyReported;

/// The absolute path of `name` (or of another distribution's name for it); when it is missing,
/// fails the calling test (see the module's comment).
pub fn require(name: &str) -> PathBuf {
    static FOUND: OnceLock<Mutex<BTreeMap<String, Option<PathBuf>>>> = OnceLock::new();
    let tool = TOOLS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("support::tools knows no tool {name:?}"));
    let mut found = FOUND.get_or_init(Default::default).lock().unwrap();
    if let Some(known) = found.get(name) {
        return match known {
            Some(path) => path.clone(),
            None => {
                drop(found);
                quiet_hook();
                std::panic::panic_any(AlreadyReported)
            }
        };
    }
    let search = std::env::var_os(TOOLS_PATH_VAR).or_else(|| std::env::var_os("PATH"));
    let path = search.and_then(|search| {
        std::iter::once(tool.name)
            .chain(tool.also.iter().copied())
            .find_map(|n| {
                std::env::split_paths(&search)
                    .map(|d| d.join(n))
                    .find(|p| is_executable(p))
            })
    });
    found.insert(name.to_owned(), path.clone());
    drop(found);
    match path {
        Some(path) => path,
        None => {
            quiet_hook();
            let names = std::iter::once(tool.name)
                .chain(tool.also.iter().copied())
                .collect::<Vec<_>>()
                .join(" or ");
            panic!(
                "{MISSING} {names} is not on PATH; the tests that need it fail (install it: {})",
                tool.install
            )
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Keeps the default panic output for everything but [`AlreadyReported`].
fn quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<AlreadyReported>().is_none() {
                default(info);
            }
        }));
    });
}

//! What differs between Linux, macOS and Windows, decided in one place.
//!
//! [`Platform::current`] is the only `cfg` here. Every other function takes the platform as a
//! value and the parts of the environment it reads as arguments, so the Windows and macOS rules
//! are unit-tested on Linux like the Linux ones. `kernel::env::Env` carries the platform it was
//! captured on and asks these functions with its variables. Nothing else in the crate branches
//! on the operating system, except where only the host's own APIs can do the work, each behind
//! `cfg(unix)` with a plain branch for the rest:
//! - file modes, owners and `O_NOFOLLOW`/`O_NONBLOCK` (`kernel::files`, `kernel::cache::files`,
//!   the docker config's inode in `registry::stores::docker_locate`): permission hardening is
//!   Unix-only; on Windows the default cache location (`%LOCALAPPDATA%`) is private by its ACL;
//! - process groups, signals and the user id (`kernel::process`, `kernel::env`);
//! - containers/image's own `linux` test (`registry::stores::auth_json`, by `std::env::consts::OS`,
//!   since it tells Linux from the other Unixes, which this module does not).
//!
//! The decisions, each with the tool it follows:
//! - **Variable names** are case-insensitive on Windows (`Path` is `PATH`), and keep the case
//!   they were set in ([`names_ignore_case`]).
//! - **Home**: `HOME`; on Windows, else `USERPROFILE` ([`home_dir`]).
//! - **Executables** ([`executable_candidates`]): `PATH` split on `:`, the name in each entry
//!   (an empty entry is the working directory, as POSIX says). On Windows `PATH` splits on `;`
//!   (an entry may be quoted), and each entry is tried with each `PATHEXT` extension in order
//!   (default `.COM;.EXE;.BAT;.CMD`), so `gcloud` finds `gcloud.cmd` and `docker-credential-desktop`
//!   finds `docker-credential-desktop.exe`; a name already ending in one of them is tried as is.
//! - **Running a program** ([`launch`]): directly; on Windows a `.bat`/`.cmd` file runs through
//!   `cmd.exe /d /s /c`, with a command line built here ([`batch_command_line`]) rather than left
//!   to the standard library's implicit handling, which its documentation says not to rely on.
//! - **Running a command string** ([`shell`], AWS `credential_process`): `/bin/sh -c <command>`;
//!   on Windows `cmd.exe /d /s /c "<command>"` (the AWS SDKs' `cmd.exe /C`, without AutoRun
//!   commands, which would print into the answer).
//! - **Path prefixes** ([`expand_path`]): `~/` and `%workspace%/`; on Windows also `~\` and
//!   `%workspace%\`. Elsewhere a backslash is an ordinary file-name character, so the backslash
//!   forms stay literal there.
//! - **Cache home** ([`cache_home`]): `XDG_CACHE_HOME`, else `~/.cache`, on Linux and on macOS
//!   too (macOS keeps the XDG location the helper has always used, where the other command-line
//!   tools a Bazel user runs keep theirs, rather than moving caches to `~/Library/Caches`). On
//!   Windows `%LOCALAPPDATA%` (the per-user, non-roaming directory; `XDG_CACHE_HOME` is not a
//!   Windows convention and is not read there); without it, no default cache.
//! - **The login store** ([`login_store_dir`], the helper's own): `XDG_CONFIG_HOME`, else
//!   `~/.config`, under `credential-helper`, on Linux and macOS (the cache's reasoning); on
//!   Windows `%APPDATA%\credential-helper`.
//! - **Config locations** have no common rule, so there is no general "config home": each file
//!   is where the tool that writes it puts it. gh: [`gh_config_dir`]. gcloud:
//!   [`gcloud_config_dir`]. containers/image's `auth.json` is under `XDG_CONFIG_HOME` or
//!   `~/.config` on every OS, Windows included (`Env::config_home`). docker (`~/.docker`),
//!   the AWS CLI (`~/.aws`) and the Azure CLI (`~/.azure`) use the home directory everywhere.

use std::path::{Path, PathBuf};

/// The operating system whose conventions apply. Unixes other than macOS follow Linux's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    /// The platform this binary was built for.
    pub fn current() -> Platform {
        if cfg!(windows) {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::MacOs
        } else {
            Platform::Linux
        }
    }

    pub const ALL: [Platform; 3] = [Platform::Linux, Platform::MacOs, Platform::Windows];
}

/// `PATHEXT` when unset: what `cmd.exe` tries, less the rarely installed script hosts.
pub const DEFAULT_PATHEXT: &str = ".COM;.EXE;.BAT;.CMD";

/// Whether variable names are compared without regard to (ASCII) case: on Windows.
pub fn names_ignore_case(platform: Platform) -> bool {
    platform == Platform::Windows
}

/// The home directory: `HOME`, else (Windows only) `USERPROFILE`. Empty is unset.
pub fn home_dir(
    platform: Platform,
    home: Option<&str>,
    user_profile: Option<&str>,
) -> Option<PathBuf> {
    let set = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    set(home).or_else(|| {
        if platform == Platform::Windows {
            set(user_profile)
        } else {
            None
        }
    })
}

/// `~/` (home) and `%workspace%/` (the working directory) at the start of `path`, and on
/// Windows their backslash forms; any other relative path is relative to the working directory.
pub fn expand_path(platform: Platform, home: Option<&Path>, cwd: &Path, path: &str) -> PathBuf {
    let separators: &[char] = if platform == Platform::Windows {
        &['/', '\\']
    } else {
        &['/']
    };
    let after = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(separators))
    };
    if let Some(rest) = after("~")
        && let Some(home) = home
    {
        return home.join(rest);
    }
    if let Some(rest) = after("%workspace%") {
        return cwd.join(rest);
    }
    cwd.join(path)
}

/// The entries of a `PATH`-style list: split on `:`, or on `;` on Windows, where an entry may
/// be quoted (`"C:\a;b"`) and empty entries mean nothing. Independent of the host, unlike
/// `std::env::split_paths`.
pub fn split_path_list(platform: Platform, value: &str) -> Vec<PathBuf> {
    if platform != Platform::Windows {
        return value.split(':').map(PathBuf::from).collect();
    }
    let mut entries = Vec::new();
    let mut entry = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => entries.push(std::mem::take(&mut entry)),
            c => entry.push(c),
        }
    }
    entries.push(entry);
    entries
        .into_iter()
        .filter(|e| !e.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// The extensions `PATHEXT` lists (default [`DEFAULT_PATHEXT`]), each with its leading dot.
fn path_extensions(pathext: Option<&str>) -> Vec<String> {
    let list: Vec<String> = pathext
        .unwrap_or(DEFAULT_PATHEXT)
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e.starts_with('.') {
                e.to_string()
            } else {
                format!(".{e}")
            }
        })
        .collect();
    if list.is_empty() {
        return path_extensions(None);
    }
    list
}

/// The files that may be the program `name`, in the order they are tried: each `PATH` entry
/// with the name; on Windows each entry with the name and each `PATHEXT` extension, or with
/// the name alone when it already ends in one of them.
pub fn executable_candidates(
    platform: Platform,
    name: &str,
    path_var: Option<&str>,
    pathext: Option<&str>,
) -> Vec<PathBuf> {
    let Some(path_var) = path_var.filter(|p| !p.is_empty()) else {
        return Vec::new();
    };
    let dirs = split_path_list(platform, path_var);
    if platform != Platform::Windows {
        return dirs.into_iter().map(|d| d.join(name)).collect();
    }
    let extensions = path_extensions(pathext);
    let lower = name.to_ascii_lowercase();
    let names: Vec<String> = if extensions
        .iter()
        .any(|e| lower.ends_with(&e.to_ascii_lowercase()))
    {
        vec![name.to_string()]
    } else {
        extensions.iter().map(|e| format!("{name}{e}")).collect()
    };
    dirs.iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .collect()
}

/// How a child is started: the program, and its arguments as a list (quoted by the standard
/// library) or, on Windows, as the exact command line after the program's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Args,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Args {
    List(Vec<String>),
    /// Passed verbatim (`raw_arg`): `cmd.exe` does not parse its command line the way
    /// programs do, so the standard library's quoting is not for it.
    WindowsCommandLine(String),
}

/// Whether Windows needs `cmd.exe` to run `program` (a `.bat` or `.cmd` file).
pub fn is_batch_file(platform: Platform, program: &Path) -> bool {
    platform == Platform::Windows
        && program
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("bat") || e.eq_ignore_ascii_case("cmd"))
}

/// How to run `program args...`: directly, or a Windows batch file through `cmd.exe` (under
/// `system_root`, `%SystemRoot%`). The error says why the arguments cannot be passed safely;
/// it quotes none of them.
pub fn launch(
    platform: Platform,
    system_root: Option<&str>,
    program: &Path,
    args: &[&str],
) -> Result<Launch, String> {
    if !is_batch_file(platform, program) {
        return Ok(Launch {
            program: program.to_path_buf(),
            args: Args::List(args.iter().map(|a| a.to_string()).collect()),
        });
    }
    let program = program
        .to_str()
        .ok_or("its path is not valid Unicode, which cmd.exe needs")?;
    let line = batch_command_line(program, args)?;
    Ok(Launch {
        program: cmd_exe(system_root),
        args: Args::WindowsCommandLine(format!("/d /e:ON /v:OFF /s /c \"{line}\"")),
    })
}

/// How to run the command string `command` as its user wrote it: `/bin/sh -c`, or on Windows
/// `cmd.exe /d /s /c "<command>"` (`/s`: the outer quotes go and the rest is taken as typed at
/// a prompt).
pub fn shell(platform: Platform, system_root: Option<&str>, command: &str) -> Launch {
    if platform == Platform::Windows {
        return Launch {
            program: cmd_exe(system_root),
            args: Args::WindowsCommandLine(format!("/d /s /c \"{command}\"")),
        };
    }
    Launch {
        program: PathBuf::from("/bin/sh"),
        args: Args::List(vec!["-c".into(), command.into()]),
    }
}

/// `%SystemRoot%\System32\cmd.exe`, else `cmd.exe` from `PATH`.
fn cmd_exe(system_root: Option<&str>) -> PathBuf {
    match system_root.filter(|r| !r.is_empty()) {
        Some(root) => Path::new(root).join("System32").join("cmd.exe"),
        None => PathBuf::from("cmd.exe"),
    }
}

/// The part of a `cmd.exe /c` line that runs the batch file `program` with `args`: the
/// program quoted, each argument as is when it is made of characters nothing in `cmd.exe` or a
/// batch file's `%1` treats specially, else quoted. What no quoting makes safe in `cmd.exe` is
/// refused: `"`, `%` (variable expansion, even inside quotes), `!`, `^`, `&`, `|`, `<`, `>` and
/// control characters (line breaks end the command).
pub fn batch_command_line(program: &str, args: &[&str]) -> Result<String, String> {
    let unsafe_char = |c: char| "\"%!^&|<>".contains(c) || c.is_control();
    if program.contains(unsafe_char) {
        return Err("its path has a character cmd.exe cannot take (\" % ! ^ & | < >)".into());
    }
    let mut line = format!("\"{program}\"");
    for arg in args {
        if arg.contains(unsafe_char) {
            return Err(
                "an argument has a character a batch file cannot take (\" % ! ^ & | < > or a control character)"
                    .into(),
            );
        }
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:\\@+".contains(c));
        line.push(' ');
        if plain {
            line.push_str(arg);
        } else {
            line.push('"');
            line.push_str(arg);
            line.push('"');
        }
    }
    Ok(line)
}

/// What the location rules read: the home directory and the variables that move it (unset
/// and empty alike are `None`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Homes<'a> {
    pub home: Option<&'a Path>,
    pub xdg_config_home: Option<&'a str>,
    pub xdg_cache_home: Option<&'a str>,
    /// Windows `%APPDATA%`.
    pub app_data: Option<&'a str>,
    /// Windows `%LOCALAPPDATA%`.
    pub local_app_data: Option<&'a str>,
}

/// The directory the token cache goes in: `XDG_CACHE_HOME`, else `~/.cache` (Linux, macOS);
/// `%LOCALAPPDATA%` on Windows.
pub fn cache_home(platform: Platform, homes: &Homes) -> Option<PathBuf> {
    if platform == Platform::Windows {
        return homes.local_app_data.map(PathBuf::from);
    }
    homes
        .xdg_cache_home
        .map(PathBuf::from)
        .or_else(|| homes.home.map(|h| h.join(".cache")))
}

/// The login store's directory (`credentials.json`, written by `credential-helper login`):
/// `$XDG_CONFIG_HOME/credential-helper`, else `~/.config/credential-helper`, on Linux and on
/// macOS too (beside the cache's XDG location); on Windows `%APPDATA%\credential-helper`, the
/// per-user roaming settings directory (no XDG variable is read there).
pub fn login_store_dir(platform: Platform, homes: &Homes) -> Option<PathBuf> {
    const DIR: &str = "credential-helper";
    if platform == Platform::Windows {
        return homes.app_data.map(|d| Path::new(d).join(DIR));
    }
    homes
        .xdg_config_home
        .map(|d| Path::new(d).join(DIR))
        .or_else(|| homes.home.map(|h| h.join(".config").join(DIR)))
}

/// gh's config directory (its `ConfigDir`): `explicit` (`GH_CONFIG_DIR`, expanded), else
/// `$XDG_CONFIG_HOME/gh`, else on Windows `%AppData%\GitHub CLI`, else `~/.config/gh`.
pub fn gh_config_dir(
    platform: Platform,
    homes: &Homes,
    explicit: Option<PathBuf>,
) -> Option<PathBuf> {
    if explicit.is_some() {
        return explicit;
    }
    if let Some(dir) = homes.xdg_config_home {
        return Some(Path::new(dir).join("gh"));
    }
    if platform == Platform::Windows
        && let Some(dir) = homes.app_data
    {
        return Some(Path::new(dir).join("GitHub CLI"));
    }
    homes.home.map(|h| h.join(".config").join("gh"))
}

/// gcloud's config directory (its `_GetGlobalConfigDir`): `explicit` (`CLOUDSDK_CONFIG`,
/// expanded), else on Windows `%APPDATA%\gcloud`, else `~/.config/gcloud` (gcloud reads no
/// `XDG_CONFIG_HOME`).
pub fn gcloud_config_dir(
    platform: Platform,
    homes: &Homes,
    explicit: Option<PathBuf>,
) -> Option<PathBuf> {
    if explicit.is_some() {
        return explicit;
    }
    if platform == Platform::Windows {
        return homes.app_data.map(|d| Path::new(d).join("gcloud"));
    }
    homes.home.map(|h| h.join(".config").join("gcloud"))
}

#[cfg(test)]
mod tests;

//! Every platform decision, for all three platforms, on whatever host runs the tests. Windows
//! paths are written with `/` so that joining them on a Unix host reads the same; on a Windows
//! host, where joining adds `\`, paths are compared with every `\` read as `/`.

use std::path::{Path, PathBuf};

use super::*;
use crate::kernel::env::{Env, test_env_on, vars};

use Platform::{Linux, MacOs, Windows};

/// A path as the tables write it: as is on a Unix host.
fn shown(path: &Path) -> String {
    neutral(path.to_str().unwrap())
}

fn neutral(s: &str) -> String {
    if cfg!(windows) {
        s.replace('\\', "/")
    } else {
        s.to_string()
    }
}

#[test]
fn variable_names_are_case_insensitive_on_windows_only() {
    assert!(names_ignore_case(Windows));
    let set = [
        ("Path", "C:/bin"),
        ("SYSTEMROOT", "C:/Windows"),
        ("Sys_x", "1"),
        ("B", ""),
    ];
    let windows = test_env_on(Windows, &set);
    assert_eq!(windows.var("PATH"), Some("C:/bin"));
    assert_eq!(windows.var("path"), Some("C:/bin"));
    assert_eq!(windows.var(vars::SYSTEM_ROOT), Some("C:/Windows"));
    assert_eq!(windows.var("b"), None);
    // Names keep their case, for messages and children.
    let prefixed: Vec<_> = windows.vars_with_prefix("SYS").collect();
    assert_eq!(prefixed, [("SYSTEMROOT", "C:/Windows"), ("Sys_x", "1")]);
    assert!(windows.vars().contains_key("Path"));
    for p in [Linux, MacOs] {
        assert!(!names_ignore_case(p));
        let env = test_env_on(p, &set);
        assert_eq!(env.var("PATH"), None, "{p:?}");
        assert_eq!(env.var("Path"), Some("C:/bin"), "{p:?}");
        assert_eq!(env.var(vars::SYSTEM_ROOT), None, "{p:?}");
        let prefixed: Vec<_> = env.vars_with_prefix("SYS").collect();
        assert_eq!(prefixed, [("SYSTEMROOT", "C:/Windows")], "{p:?}");
    }
}

#[test]
fn home_directory() {
    type Row<'a> = (Platform, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let table: &[Row] = &[
        (Linux, Some("/home/u"), Some("C:/U/u"), Some("/home/u")),
        (Linux, None, Some("C:/U/u"), None),
        (Linux, Some(""), None, None),
        (MacOs, Some("/Users/u"), None, Some("/Users/u")),
        (MacOs, None, Some("C:/U/u"), None),
        (Windows, Some("D:/h"), Some("C:/U/u"), Some("D:/h")),
        (Windows, None, Some("C:/U/u"), Some("C:/U/u")),
        (Windows, Some(""), Some("C:/U/u"), Some("C:/U/u")),
        (Windows, None, None, None),
    ];
    for &(p, home, profile, want) in table {
        assert_eq!(
            home_dir(p, home, profile),
            want.map(PathBuf::from),
            "{p:?} HOME={home:?} USERPROFILE={profile:?}"
        );
    }
    // Through the environment, names in any case on Windows.
    let env = test_env_on(Windows, &[("UserProfile", "C:/U/u")]);
    assert_eq!(env.home(), Some(Path::new("C:/U/u")));
}

#[test]
fn path_prefixes() {
    let (home, cwd) = (Path::new("/h"), Path::new("/w"));
    // (path, on Linux and macOS, on Windows)
    let table = [
        ("~/x/y", "/h/x/y", "/h/x/y"),
        ("~\\x", "/w/~\\x", "/h/x"),
        ("%workspace%/a/b", "/w/a/b", "/w/a/b"),
        ("%workspace%\\a\\b", "/w/%workspace%\\a\\b", "/w/a\\b"),
        ("rel", "/w/rel", "/w/rel"),
        ("/abs", "/abs", "/abs"),
        ("~", "/w/~", "/w/~"),
        ("~user/x", "/w/~user/x", "/w/~user/x"),
        ("%workspace%x", "/w/%workspace%x", "/w/%workspace%x"),
    ];
    for (path, unix, windows) in table {
        for (p, want) in [(Linux, unix), (MacOs, unix), (Windows, windows)] {
            let got = expand_path(p, Some(home), cwd, path);
            assert_eq!(shown(&got), neutral(want), "{p:?} {path}");
        }
    }
    // Without a home, `~/` is just a relative path.
    assert_eq!(shown(&expand_path(Linux, None, cwd, "~/x")), "/w/~/x");
}

#[test]
fn executable_lookup() {
    let exts = |dir: &str, name: &str| -> String {
        let each = DEFAULT_PATHEXT.split(';');
        let each = each.map(|e| format!("{dir}/{name}{e}"));
        each.collect::<Vec<_>>().join(" | ")
    };
    // dcd: docker-credential-desktop, which Docker Desktop installs as an .exe.
    let both_dirs = format!("{} | {}", exts("C:/d", "dcd"), exts("C:/b", "dcd"));
    let gh_default = exts("C:/b", "gh");
    // (platform, name, PATH, PATHEXT, the candidates in order)
    type Row<'a> = (Platform, &'a str, Option<&'a str>, Option<&'a str>, &'a str);
    let table: &[Row] = &[
        (Linux, "gh", Some("/a:/b"), Some(".EXE"), "/a/gh | /b/gh"),
        // An empty entry is the working directory (POSIX).
        (Linux, "gh", Some("/a::/b"), None, "/a/gh | gh | /b/gh"),
        (MacOs, "gh", Some("/opt/b:/b"), None, "/opt/b/gh | /b/gh"),
        // `;` is an ordinary character in a Unix PATH entry.
        (Linux, "gh", Some("/a;/b"), None, "/a;/b/gh"),
        (Linux, "gh", None, None, ""),
        (Windows, "gh", None, None, ""),
        (Windows, "dcd", Some("C:/d;;C:/b"), None, &both_dirs),
        // A quoted entry may hold `;`.
        (
            Windows,
            "az",
            Some("\"C:/P F;x\";C:/b"),
            Some(".EXE;.CMD"),
            "C:/P F;x/az.EXE | C:/P F;x/az.CMD | C:/b/az.EXE | C:/b/az.CMD",
        ),
        // A name with one of the extensions is tried as is, in any case.
        (Windows, "wc.exe", Some("C:/b"), None, "C:/b/wc.exe"),
        (Windows, "gc.CMD", Some("C:/b"), Some(".cmd"), "C:/b/gc.CMD"),
        // Any other dot is part of the name; a missing dot is added.
        (
            Windows,
            "a.b",
            Some("C:/b"),
            Some("EXE; .Cmd ;"),
            "C:/b/a.b.EXE | C:/b/a.b.Cmd",
        ),
        // An empty PATHEXT is the default.
        (Windows, "gh", Some("C:/b"), Some(";"), &gh_default),
    ];
    for &(p, name, path, pathext, want) in table {
        let got = executable_candidates(p, name, path, pathext);
        let got: Vec<String> = got.iter().map(|c| shown(c)).collect();
        assert_eq!(got.join(" | "), want, "{p:?} {name} {path:?} {pathext:?}");
    }
}

#[test]
fn which_on_disk_follows_the_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        std::fs::create_dir(dir).unwrap();
    }
    let program = |path: &Path| {
        std::fs::write(path, "").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path.to_path_buf()
    };
    let bare = program(&a.join("gcloud"));
    let cmd = program(&b.join("gcloud.cmd"));
    let exe = program(&b.join("docker-credential-desktop.exe"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());

    // Lower-case extensions: the test's file system, unlike Windows', tells case apart.
    let path = format!("{a};{b}");
    let windows = test_env_on(Windows, &[("Path", &path), ("PATHEXT", ".exe;.cmd")]);
    assert_eq!(windows.which("gcloud"), Some(cmd));
    assert_eq!(
        windows.which("docker-credential-desktop"),
        Some(exe.clone())
    );
    assert_eq!(windows.which("docker-credential-wincred"), None);
    // A Unix PATH cannot hold a Windows host's `C:` paths.
    if cfg!(windows) {
        return;
    }
    let unix = test_env_on(Linux, &[("PATH", &format!("{a}:{b}"))]);
    assert_eq!(unix.which("gcloud"), Some(bare));
    assert_eq!(unix.which("docker-credential-desktop"), None);
    assert_eq!(unix.which("docker-credential-desktop.exe"), Some(exe));
}

#[test]
fn how_programs_start() {
    let (windows, bare_windows) = (Some("C:/Windows"), None);
    let cmd_exe = Path::new("C:/Windows").join("System32").join("cmd.exe");
    let direct = |program: &str, args: &[&str]| Launch {
        program: PathBuf::from(program),
        args: Args::List(args.iter().map(|a| a.to_string()).collect()),
    };
    let via_cmd = |program: &Path, line: &str| Launch {
        program: program.to_path_buf(),
        args: Args::WindowsCommandLine(line.to_string()),
    };
    let helper = ["config", "config-helper", "--format=json(credential)"];
    let sdk = "C:/Program Files (x86)/Cloud SDK/gcloud.cmd";
    // (platform, %SystemRoot%, program, args, launch)
    type Row<'a> = (Platform, Option<&'a str>, &'a str, &'a [&'a str], Launch);
    let table: Vec<Row> = vec![
        (
            Linux,
            windows,
            "/sdk/bin/gcloud.cmd",
            &helper,
            direct("/sdk/bin/gcloud.cmd", &helper),
        ),
        (
            MacOs,
            windows,
            "/sdk/bin/gcloud",
            &helper,
            direct("/sdk/bin/gcloud", &helper),
        ),
        (
            Windows,
            windows,
            "C:/bin/docker-credential-desktop.exe",
            &["get"],
            direct("C:/bin/docker-credential-desktop.exe", &["get"]),
        ),
        (
            Windows,
            windows,
            sdk,
            &helper,
            via_cmd(
                &cmd_exe,
                &format!(
                    "/d /e:ON /v:OFF /s /c \"\"{sdk}\" config config-helper \"--format=json(credential)\"\""
                ),
            ),
        ),
        (
            Windows,
            bare_windows,
            "C:/CLI2/wbin/az.BAT",
            &[
                "account",
                "--resource",
                "https://management.azure.com/",
                "",
                "a b",
            ],
            via_cmd(
                Path::new("cmd.exe"),
                "/d /e:ON /v:OFF /s /c \"\"C:/CLI2/wbin/az.BAT\" account --resource https://management.azure.com/ \"\" \"a b\"\"",
            ),
        ),
    ];
    for (p, system_root, program, args, want) in table {
        assert_eq!(
            launch(p, system_root, Path::new(program), args).as_ref(),
            Ok(&want),
            "{p:?} {program}"
        );
    }
    let refused = [
        "a&b", "x\"y", "%TEMP%", "!x!", "a|b", "a>b", "a^b", "a\nb", "a\0b",
    ];
    for bad in refused {
        let e = launch(Windows, windows, Path::new("C:/bin/gh.cmd"), &["auth", bad]).unwrap_err();
        assert!(e.contains("cannot take") && !e.contains(bad), "{bad}: {e}");
        // Run directly, the standard library quotes it.
        assert!(launch(Windows, windows, Path::new("C:/bin/gh.exe"), &[bad]).is_ok());
    }
    let e = launch(Windows, windows, Path::new("C:/100%/gh.cmd"), &[]).unwrap_err();
    assert!(e.contains("path"), "{e}");
    assert!(is_batch_file(Windows, Path::new("x.Cmd")));
    assert!(!is_batch_file(Windows, Path::new("x.cmd.exe")));
    assert!(!is_batch_file(Linux, Path::new("x.bat")));
}

#[test]
fn how_command_strings_run() {
    let command = "aws-vault export --format=json \"my profile\"";
    for p in [Linux, MacOs] {
        assert_eq!(
            shell(p, Some("C:/Windows"), command),
            Launch {
                program: PathBuf::from("/bin/sh"),
                args: Args::List(vec!["-c".into(), command.into()]),
            },
            "{p:?}"
        );
    }
    assert_eq!(
        shell(Windows, Some("C:/Windows"), command),
        Launch {
            program: Path::new("C:/Windows").join("System32").join("cmd.exe"),
            args: Args::WindowsCommandLine(
                "/d /s /c \"aws-vault export --format=json \"my profile\"\"".into()
            ),
        }
    );
}

#[test]
fn cache_and_config_locations() {
    // Through the environment, which reads the variables (in any case on Windows) and
    // expands `GH_CONFIG_DIR` and `CLOUDSDK_CONFIG`.
    type Rule = fn(&Env) -> Option<PathBuf>;
    let rules: [(&str, Rule); 4] = [
        ("cache", Env::cache_home),
        ("gh", Env::gh_config_dir),
        ("gcloud", Env::gcloud_config_dir),
        ("login store", Env::login_store_dir),
    ];
    let home = ("HOME", "/h");
    let xdg = [
        ("XDG_CONFIG_HOME", "/xdg/config"),
        ("XDG_CACHE_HOME", "/xdg/cache"),
    ];
    let appdata = [
        ("APPDATA", "C:/U/AppData/Roaming"),
        ("LocalAppData", "C:/U/AppData/Local"),
    ];
    let own = [
        ("GH_CONFIG_DIR", "~/gh-dir"),
        ("CLOUDSDK_CONFIG", "%workspace%/gcloud"),
    ];
    let all: Vec<_> = [&[home][..], &xdg, &appdata, &own].concat();
    let no_own: Vec<_> = [&[home][..], &xdg, &appdata].concat();
    let no_xdg: Vec<_> = [&[home][..], &appdata].concat();
    // (environment, then per rule: on Linux and macOS, on Windows; "" is none)
    type Row<'a> = (&'a [(&'a str, &'a str)], [[&'a str; 2]; 4]);
    let table: &[Row] = &[
        (
            &all,
            [
                ["/xdg/cache", "C:/U/AppData/Local"],
                ["/h/gh-dir", "/h/gh-dir"],
                ["/workspace/gcloud", "/workspace/gcloud"],
                [
                    "/xdg/config/credential-helper",
                    "C:/U/AppData/Roaming/credential-helper",
                ],
            ],
        ),
        (
            &no_own,
            [
                ["/xdg/cache", "C:/U/AppData/Local"],
                ["/xdg/config/gh", "/xdg/config/gh"],
                ["/h/.config/gcloud", "C:/U/AppData/Roaming/gcloud"],
                [
                    "/xdg/config/credential-helper",
                    "C:/U/AppData/Roaming/credential-helper",
                ],
            ],
        ),
        (
            &no_xdg,
            [
                ["/h/.cache", "C:/U/AppData/Local"],
                ["/h/.config/gh", "C:/U/AppData/Roaming/GitHub CLI"],
                ["/h/.config/gcloud", "C:/U/AppData/Roaming/gcloud"],
                [
                    "/h/.config/credential-helper",
                    "C:/U/AppData/Roaming/credential-helper",
                ],
            ],
        ),
        (
            &[home],
            [
                ["/h/.cache", ""],
                ["/h/.config/gh", "/h/.config/gh"],
                ["/h/.config/gcloud", ""],
                ["/h/.config/credential-helper", ""],
            ],
        ),
        (&[], [["", ""], ["", ""], ["", ""], ["", ""]]),
    ];
    for (vars, wants) in table {
        for ((name, rule), [unix, windows]) in rules.iter().zip(wants) {
            for (p, want) in [(Linux, unix), (MacOs, unix), (Windows, windows)] {
                let env = test_env_on(p, vars);
                assert_eq!(
                    rule(&env).as_deref().map(shown).unwrap_or_default(),
                    *want,
                    "{name} on {p:?} with {vars:?}"
                );
            }
        }
    }
    // containers/image's `auth.json` directory is the XDG one everywhere.
    for p in Platform::ALL {
        let env = test_env_on(p, &no_xdg);
        assert_eq!(
            env.config_home().as_deref().map(shown).as_deref(),
            Some("/h/.config"),
            "{p:?}"
        );
        let env = test_env_on(p, &no_own);
        assert_eq!(
            env.config_home().as_deref().map(shown).as_deref(),
            Some("/xdg/config"),
            "{p:?}"
        );
    }
}

//! A real Secret Service for one test: a private D-Bus session bus (`dbus-daemon`) with
//! gnome-keyring's secrets component on it, its login keyring created and unlocked. Nothing
//! touches the machine's own session bus or keyrings: the bus is a socket in a temporary
//! directory, the keyring lives under it. Both daemons are stopped (by pid) when dropped.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::tools;

pub struct SecretService {
    _dir: tempfile::TempDir,
    bus: Child,
    keyring: Child,
    address: String,
}

impl SecretService {
    pub fn start() -> SecretService {
        let dir = tempfile::Builder::new()
            .prefix("secret-service")
            .tempdir()
            .unwrap();
        let root = dir.path();
        for sub in ["home", "run"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let socket = root.join("bus");
        let mut bus = Command::new(tools::require("dbus-daemon"))
            .args(["--session", "--nofork", "--nosyslog", "--print-address=1"])
            .arg(format!("--address=unix:path={}", socket.display()))
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run dbus-daemon (Debian package dbus)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed {address:?}"
        );
        let mut keyring = Command::new(tools::require("gnome-keyring-daemon"))
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", root.join("home"))
            .env("XDG_DATA_HOME", root.join("home/data"))
            .env("XDG_RUNTIME_DIR", root.join("run"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run gnome-keyring-daemon (Debian package gnome-keyring)");
        // The login keyring's password; `--unlock` reads it until end of input.
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"test-password").unwrap();
        drop(stdin);
        let service = SecretService {
            _dir: dir,
            bus,
            keyring,
            address,
        };
        service.wait_until_served();
        service
    }

    /// The address to give the helper as `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn wait_until_served(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            let out = Command::new(tools::require("dbus-send"))
                .env_clear()
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .expect("run dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("gnome-keyring-daemon did not take org.freedesktop.secrets on the test bus");
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

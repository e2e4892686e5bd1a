//! A tmux server of a test's own, for the dashboard's end-to-end tests: the
//! real binary in a real terminal, driven with send-keys and read with
//! capture-pane.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tmux server of this test's own (its own socket), killed when dropped.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn new(name: &str) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "the dashboard's end-to-end tests drive it in tmux: apt-get install tmux"
        );
        Tmux {
            socket: format!("hako-e2e-{name}-{}", std::process::id()),
        }
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `command` (a shell command line) in a 150x45 window.
    pub fn start(&self, command: &str) {
        self.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "150",
            "-y",
            "45",
            command,
        ]);
    }

    /// Sends keys; the dashboard takes them in order, so whoever needs their
    /// effect waits for it on the screen.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types text literally (no key names).
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "main", "-l", text]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "main"])
    }

    /// Waits until the screen shows `text`; fails with the screen if it never does.
    pub fn wait_for(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the dashboard never showed {text:?}; the screen was:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pane_pid(&self) -> i32 {
        self.run(&["list-panes", "-t", "main", "-F", "#{pane_pid}"])
            .trim()
            .parse()
            .expect("a pane pid")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
        // tmux leaves its socket file behind.
        let dir = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
        let uid = nix::unistd::getuid();
        let _ = std::fs::remove_file(
            std::path::Path::new(&dir).join(format!("tmux-{uid}/{}", self.socket)),
        );
    }
}

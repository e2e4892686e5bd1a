//! Shared set-up for tests that run the real `hako` binary as root.
//!
//! Each `TestEnv` has its own `--root` (a temp dir) and its own cgroup parent,
//! so tests run side by side and never touch each other or the user's
//! containers. `finish()` checks that nothing was left behind; `Drop` removes
//! whatever a failed test left.

#![allow(dead_code)]

pub mod tmux;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const HAKO: &str = env!("CARGO_BIN_EXE_hako");

/// Fails (never skips) when the tests are not run as root.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests create real containers and need root: run them with sudo (or as root in CI)"
    );
}

pub struct TestEnv {
    pub root: tempfile::TempDir,
    pub cgroup_parent: String,
}

/// The output of one hako command, with text already decoded.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl TestEnv {
    /// A fresh root with a `busybox` image imported from the host's busybox-static.
    pub fn new() -> TestEnv {
        require_root();
        let env = TestEnv::empty();
        let rootfs = env.root.path().join("busybox-rootfs");
        build_busybox_rootfs(&rootfs);
        let out = env.hako(&["image", "import", "busybox", rootfs.to_str().unwrap()]);
        assert_eq!(out.code, 0, "importing busybox failed: {}", out.stderr);
        std::fs::remove_dir_all(&rootfs).unwrap();
        env
    }

    /// A fresh root with no image.
    pub fn empty() -> TestEnv {
        require_root();
        let root = tempfile::Builder::new()
            .prefix("hako-test-")
            .tempdir()
            .unwrap();
        let unique = root
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        TestEnv {
            root,
            cgroup_parent: unique,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(Path::new(HAKO), args)
    }

    /// `BINARY --root ROOT ARGS` in this environment: a test's own copy of hako.
    pub fn command_of(&self, binary: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary);
        cmd.arg("--root")
            .arg(self.root.path())
            .args(args)
            .env("HAKO_CGROUP_PARENT", &self.cgroup_parent)
            .env_remove("HAKO_ROOT");
        cmd
    }

    /// Runs `hako ARGS` with stdin from /dev/null.
    pub fn hako(&self, args: &[&str]) -> Run {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("hako runs")
            .into()
    }

    /// Runs `hako ARGS` with `input` on stdin.
    pub fn hako_with_input(&self, args: &[&str], input: &[u8]) -> Run {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hako runs");
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().expect("hako ends").into()
    }

    /// `hako run --rm busybox sh -c SCRIPT` with extra flags before the image.
    pub fn sh(&self, flags: &[&str], script: &str) -> Run {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "sh", "-c", script]);
        self.hako(&args)
    }

    pub fn images_dir(&self) -> PathBuf {
        self.root.path().join("images")
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.root.path().join("containers")
    }

    /// Every cgroup directory of this test's parent, in any hierarchy.
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        let mut found = vec![];
        let mut candidates = vec![PathBuf::from("/sys/fs/cgroup").join(&self.cgroup_parent)];
        if let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") {
            for entry in entries.flatten() {
                candidates.push(entry.path().join(&self.cgroup_parent));
            }
        }
        for c in candidates {
            if c.is_dir() {
                found.push(c);
            }
        }
        found
    }

    /// The container directories that still exist (state, upper dirs).
    pub fn container_dirs(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.containers_dir()) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir() && !p.ends_with(".names"))
                .collect(),
            Err(_) => vec![],
        }
    }

    /// `hako inspect NAME`, which must succeed: the container's state.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let out = self.hako(&["inspect", name]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
    }

    /// Asserts that no container, cgroup or mount of this test is left.
    pub fn assert_clean(&self) {
        assert_eq!(
            self.container_dirs(),
            Vec::<PathBuf>::new(),
            "containers left behind"
        );
        let names: Vec<_> = std::fs::read_dir(self.containers_dir().join(".names"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(names.is_empty(), "container names still claimed: {names:?}");
        assert_eq!(
            self.cgroup_dirs(),
            Vec::<PathBuf>::new(),
            "cgroup dirs left behind"
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = self.root.path().to_string_lossy().into_owned();
        assert!(
            !mounts.contains(&root),
            "mounts left behind under {root}:\n{mounts}"
        );
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        // A failed test may leave containers: remove them all, then any cgroup dir.
        for dir in self.container_dirs() {
            let id = dir.file_name().unwrap().to_string_lossy().into_owned();
            let _ = self.hako(&["rm", "-f", &id]);
        }
        for dir in self.cgroup_dirs() {
            remove_cgroup_tree(&dir);
        }
    }
}

fn remove_cgroup_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                remove_cgroup_tree(&entry.path());
            }
        }
    }
    if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        for pid in procs.lines().filter_map(|l| l.parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    for _ in 0..50 {
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A minimal root filesystem: the host's static busybox and its applets.
pub fn build_busybox_rootfs(rootfs: &Path) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed (apt-get install busybox-static)");
    for dir in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp", "root", "proc", "sys", "dev",
    ] {
        std::fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    let list = Command::new(busybox).arg("--list-full").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let path = rootfs.join(applet);
        if applet != "bin/busybox" && !path.exists() {
            symlink("/bin/busybox", &path).unwrap();
        }
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
}

/// Polls `check` every 50 ms until it holds; fails after `timeout`.
pub fn wait_for(what: &str, timeout: std::time::Duration, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A field of `/proc/<pid>/status` as printed (`CapEff`, `NoNewPrivs` ...).
pub fn status_field(stdout: &str, field: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} missing in {stdout}"))
        .trim()
        .to_string()
}

/// Copies a program that the test then runs. `cp` writes it, not this
/// process: a file this process holds open for writing can be inherited by a
/// child another test thread forks at that moment, and executing the copy
/// then fails with ETXTBSY until that child has exec'd.
#[allow(dead_code)]
pub fn copy_program(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp runs");
    assert!(
        status.success(),
        "cp {} {} failed",
        from.display(),
        to.display()
    );
}

//! The hako process itself under attack from inside a container: the binary
//! (CVE-2019-5736), the operator's keyring, parent death, capabilities.
//! Each test performs the attack as root in a real container. Needs root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]
// The keyring test calls keyctl and add_key, which have no safe wrapper.
#![allow(unsafe_code)]

mod common;

use common::{copy_program, status_field, wait_for, TestEnv, HAKO};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// A copy of the hako binary in a temp dir of the test's own: the hako the
/// attacks are aimed at, so the real one is never at stake.
struct HakoCopy {
    _dir: tempfile::TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl HakoCopy {
    fn new() -> HakoCopy {
        let dir = tempfile::Builder::new()
            .prefix("hako-bin-")
            .tempdir()
            .unwrap();
        let path = dir.path().join("hako");
        copy_program(Path::new(HAKO), &path);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        HakoCopy {
            _dir: dir,
            path,
            bytes,
        }
    }

    /// `COPY --root ROOT ARGS` for the test's environment.
    fn command(&self, env: &TestEnv, args: &[&str]) -> Command {
        env.command_of(&self.path, args)
    }

    /// The copy is as it was: same mode (no setuid bit), same bytes.
    fn assert_untouched(&self) {
        let meta = std::fs::metadata(&self.path).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o7777,
            0o755,
            "the container changed the mode of hako"
        );
        assert!(
            std::fs::read(&self.path).unwrap() == self.bytes,
            "the container changed the hako binary"
        );
    }
}

/// A busybox image that can run hako (its shared libraries are copied in)
/// and whose /bin/sh is `#!/proc/self/exe --cgroup-parent`: whoever executes
/// `sh` runs the binary it is itself running, with the script's path taken
/// as the flag's value, so `sh image import x -` becomes
/// `hako --cgroup-parent /bin/sh image import x -`, which waits on stdin.
fn import_evil_image(env: &TestEnv) {
    let rootfs = env.root.path().join("evil-rootfs");
    common::build_busybox_rootfs(&rootfs);
    let ldd = Command::new("ldd").arg(HAKO).output().expect("ldd runs");
    for lib in String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        let inside = rootfs.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
        std::fs::copy(lib, &inside).unwrap();
    }
    let sh = rootfs.join("bin/sh");
    std::fs::remove_file(&sh).unwrap();
    std::fs::write(&sh, "#!/proc/self/exe --cgroup-parent\n").unwrap();
    std::fs::set_permissions(&sh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.hako(&["image", "import", "evil", rootfs.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::remove_dir_all(&rootfs).unwrap();
}

/// The attacker, as root in the container (busybox sh): finds a process
/// whose /proc/PID/exe it can read and that is not busybox, records what the
/// link says, tries to chmod it setuid and to append to it, holds it open,
/// and says so in /out/ready. With `after`, it then waits for that process
/// to end and writes through the descriptor it held (which worked on the
/// host's binary once nothing executed it any more). /out/done at the end.
/// Each attempt logs its exit status and its error message.
fn attack_script(after: bool) -> String {
    let after = if after {
        "while [ -e $d ]; do usleep 10000; done; \
         { echo x >> /proc/self/fd/3; } 2>> /out/log; \
         echo \"write-after-exit $?\" >> /out/log; "
    } else {
        ""
    };
    format!(
        "while :; do for d in /proc/[0-9]*; do \
           l=$(readlink $d/exe 2>/dev/null) || continue; \
           case \"$l\" in /bin/busybox) continue;; esac; \
           echo \"$l\" > /out/seen; \
           chmod 4755 $d/exe 2>> /out/log; echo \"chmod $?\" >> /out/log; \
           {{ echo x >> $d/exe; }} 2>> /out/log; echo \"append $?\" >> /out/log; \
           exec 3< $d/exe; echo \"hold $?\" >> /out/log; \
           touch /out/ready; {after}touch /out/done; exec sleep 1000; \
         done; usleep 10000; done"
    )
}

/// The exit status the attack script logged for `step`.
fn step_status<'a>(log: &'a str, step: &str) -> Option<&'a str> {
    log.lines()
        .find_map(|line| line.strip_prefix(step)?.strip_prefix(' '))
}

/// The attack ran against the hako process, and failed on a read-only file:
/// the attacker saw hako through the detached overlay (`/hako`, not the
/// host path of the test's copy), held it open, and each of `steps` (chmod,
/// writes) failed with EROFS; the copy on the host is unchanged.
fn assert_attack_failed(hako: &HakoCopy, seen: &str, log: &str, steps: &[&str]) {
    assert_eq!(seen.trim(), "/hako", "the attacker saw {seen:?}");
    assert!(
        !seen.contains(hako.path.to_str().unwrap()),
        "the host path leaked: {seen:?}"
    );
    assert_eq!(step_status(log, "hold"), Some("0"), "{log}");
    for step in steps {
        let status = step_status(log, step);
        assert!(
            status.is_some_and(|s| s != "0"),
            "{step} ran and did not fail: {log}"
        );
    }
    let refusals = log.matches("Read-only file system").count();
    assert_eq!(refusals, steps.len(), "not every step got EROFS: {log}");
    hako.assert_untouched();
}

/// What the attacker saw and did.
fn attack_report(out: &Path) -> (String, String) {
    let seen = std::fs::read_to_string(out.join("seen")).unwrap_or_default();
    let log = std::fs::read_to_string(out.join("log")).unwrap_or_default();
    (seen, log)
}

fn spawn_with_stdin(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hako starts")
}

#[test]
fn exec_of_a_proc_self_exe_script_never_exposes_the_host_binary() {
    let env = TestEnv::new();
    let hako = HakoCopy::new();
    import_evil_image(&env);
    let out = tempfile::tempdir().unwrap();
    let volume = format!("{}:/out", out.path().display());
    let attack = attack_script(true);
    let started = hako
        .command(
            &env,
            &[
                "run",
                "-d",
                "--name",
                "victim",
                "-v",
                &volume,
                "evil",
                "/bin/busybox",
                "sh",
                "-c",
                &attack,
            ],
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(started.status.success(), "{:?}", started);

    // The operator runs `hako exec victim sh ...`: the kernel runs hako again
    // inside the container, reading stdin until the test closes it.
    let mut exec = spawn_with_stdin(hako.command(
        &env,
        &["exec", "-i", "victim", "sh", "image", "import", "x", "-"],
    ));
    wait_for("the attacker to hold hako", WAIT, || {
        out.path().join("ready").exists()
    });
    drop(exec.stdin.take());
    let ended = exec.wait_with_output().unwrap();
    wait_for("the attacker to write after hako ended", WAIT, || {
        out.path().join("done").exists()
    });

    let (seen, log) = attack_report(out.path());
    eprintln!(
        "exec ended: {:?}\nattacker saw {seen:?}; {log}",
        ended.status
    );
    assert_attack_failed(&hako, &seen, &log, &["chmod", "append", "write-after-exit"]);
    let rm = env.hako(&["rm", "-f", "victim"]);
    assert_eq!(rm.code, 0, "{}", rm.stderr);
    env.assert_clean();
}

#[test]
fn run_of_a_proc_self_exe_script_never_exposes_the_host_binary() {
    let env = TestEnv::new();
    let hako = HakoCopy::new();
    import_evil_image(&env);
    let out = tempfile::tempdir().unwrap();
    let volume = format!("{}:/out", out.path().display());
    // The image's command is the script: the container's first process is
    // hako itself, waiting on stdin.
    let mut run = spawn_with_stdin(hako.command(
        &env,
        &[
            "run", "-i", "--rm", "--name", "victim", "-v", &volume, "evil", "sh", "image",
            "import", "x", "-",
        ],
    ));
    wait_for("the container to run", WAIT, || {
        env.hako(&["inspect", "victim"])
            .stdout
            .contains("\"running\"")
    });
    let attack = attack_script(false);
    let mut attacker = hako
        .command(
            &env,
            &["exec", "victim", "/bin/busybox", "sh", "-c", &attack],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the attacker to try", WAIT, || {
        out.path().join("done").exists()
    });
    // The end of input ends the container, and the attacker with it.
    drop(run.stdin.take());
    let ended = run.wait_with_output().unwrap();
    attacker.wait().unwrap();

    let (seen, log) = attack_report(out.path());
    eprintln!(
        "run ended: {:?}\nattacker saw {seen:?}; {log}",
        ended.status
    );
    assert_attack_failed(&hako, &seen, &log, &["chmod", "append"]);
    env.assert_clean();
}

/// Flags for `run` in the keyring test. The default seccomp profile blocks
/// keyctl(2) (tests/security_seccomp.rs), and this test is about the session
/// keyring, the defence behind the filter.
const UNCONFINED: &[&str] = &["--security-opt", "seccomp=unconfined"];

/// keyctl(2) numbers (linux/keyctl.h).
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;

/// The attack program, built by cargo test from examples/.
fn attack_keyring_program() -> PathBuf {
    Path::new(HAKO)
        .parent()
        .unwrap()
        .join("examples/attack_keyring")
}

#[test]
fn a_container_cannot_read_the_operators_session_keyring() {
    let env = TestEnv::new();
    // This test thread gets a session keyring of its own (credentials,
    // keyrings included, are per thread), holding one secret key: it plays
    // the operator's, and every hako it starts inherits it.
    let name = std::ffi::CString::new(format!("hako-test-{}", std::process::id())).unwrap();
    // SAFETY: a NUL-terminated name that outlives the call.
    let joined =
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.as_ptr()) };
    assert!(joined > 0, "keyctl: {}", std::io::Error::last_os_error());
    let secret = format!("secret-{}", std::process::id());
    // SAFETY: C strings and a payload buffer with its true length.
    let key = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            c"user".as_ptr(),
            c"hako-test-secret".as_ptr(),
            secret.as_ptr(),
            secret.len(),
            KEY_SPEC_SESSION_KEYRING,
        )
    };
    assert!(key > 0, "add_key: {}", std::io::Error::last_os_error());
    let key = key.to_string();

    let bin = tempfile::tempdir().unwrap();
    let program = bin.path().join("attack_keyring");
    assert!(
        attack_keyring_program().exists(),
        "examples/attack_keyring is built by `cargo test` (with --test, run `cargo build --examples` first)"
    );
    copy_program(&attack_keyring_program(), &program);

    // The same program outside any container reads the key: the test can fail.
    let host = Command::new(&program).arg(&key).output().unwrap();
    let host = String::from_utf8_lossy(&host.stdout).into_owned();
    assert!(host.contains(&format!("read {secret}")), "{host}");

    let volume = format!("{}:/attack:ro", bin.path().display());
    let run = env.hako(&run_args(&[
        "--rm",
        "-v",
        &volume,
        "host",
        "/attack/attack_keyring",
        &key,
    ]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_key_out_of_reach("run", &run.stdout, &host, &key, &secret);

    let started = env.hako(&run_args(&[
        "-d", "--name", "keys", "-v", &volume, "host", "sleep", "1000",
    ]));
    assert_eq!(started.code, 0, "{}", started.stderr);
    let exec = env.hako(&["exec", "keys", "/attack/attack_keyring", &key]);
    assert_eq!(exec.code, 0, "{}", exec.stderr);
    assert_key_out_of_reach("exec", &exec.stdout, &host, &key, &secret);
    eprintln!("host: {host}run: {}exec: {}", run.stdout, exec.stdout);
    assert_eq!(env.hako(&["rm", "-f", "keys"]).code, 0);
    env.assert_clean();
}

/// `run`, the `UNCONFINED` flags, then `args`.
fn run_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["run"];
    all.extend_from_slice(UNCONFINED);
    all.extend_from_slice(args);
    all
}

/// What attack_keyring printed in a container (`inside`) against what it
/// printed on the host: another session keyring, and the key refused.
fn assert_key_out_of_reach(what: &str, inside: &str, host: &str, key: &str, secret: &str) {
    let session = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("session keyring:"))
            .unwrap_or_default()
            .to_string()
    };
    assert_ne!(
        session(inside),
        session(host),
        "{what} shares the session keyring"
    );
    assert!(!inside.contains(secret), "{what} read the key: {inside}");
    assert!(
        inside.contains(&format!("key {key}: refused")),
        "{what}: {inside}"
    );
}

fn process_gone(pid: i64) -> bool {
    // Gone, or a zombie that nobody reaped yet: either way, not running.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_container_dies_with_its_hako_whatever_its_user() {
    let env = TestEnv::new();
    for (name, user) in [("as-root", "0"), ("as-user", "1000")] {
        let mut hako = env
            .command(&[
                "run", "--rm", "--name", name, "--user", user, "busybox", "sleep", "1000",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut pid = 0;
        wait_for(&format!("{name} to run"), WAIT, || {
            let out = env.hako(&["inspect", name]);
            let state: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
            pid = state[0]["pid"].as_i64().unwrap_or(0);
            pid > 0
        });
        hako.kill().unwrap();
        hako.wait().unwrap();
        wait_for(
            &format!("{name} (pid {pid}) to die with hako"),
            WAIT,
            || process_gone(pid),
        );
    }
    let gc = env.hako(&["gc"]);
    assert_eq!(gc.code, 0, "{}", gc.stderr);
    env.assert_clean();
}

/// The children of `pid`, from /proc (proc(5), /proc/PID/task/TID/children).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn an_exec_command_of_another_user_dies_with_its_joiner() {
    let env = TestEnv::new();
    let out = env.sh(&["-d", "--name", "box"], "sleep 1000");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let caller = env
        .command(&["exec", "-u", "1000", "box", "sleep", "999"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The caller's child is the joiner `A`; its child, the command `B`,
    // runs once it is `sleep`, after its uid switch.
    let (mut joiner, mut command) = (0, 0);
    wait_for("the exec'd command to run", WAIT, || {
        joiner = children(caller.id()).first().copied().unwrap_or(0);
        command = children(joiner).first().copied().unwrap_or(0);
        command != 0 && comm(command) == "sleep"
    });
    let joiner_pid = nix::unistd::Pid::from_raw(joiner as i32);
    nix::sys::signal::kill(joiner_pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_for("the command to die with its joiner", WAIT, || {
        process_gone(command as i64)
    });
    let mut caller = caller;
    caller.wait().unwrap();
    assert_eq!(env.hako(&["rm", "-f", "box"]).code, 0);
    env.assert_clean();
}

#[test]
fn cap_add_all_gets_what_the_host_allows_and_says_what_it_withholds() {
    let env = TestEnv::new();
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    let bounding = status_field(&own, "CapBnd");
    let out = env.sh(&["--cap-add", "ALL"], "cat /proc/self/status");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(status_field(&out.stdout, "CapEff"), bounding);
    assert_eq!(status_field(&out.stdout, "CapInh"), "0000000000000000");
    // This project's machines lack CAP_SYS_RESOURCE in the bounding set.
    if !own_has(&bounding, 24) {
        assert!(out.stderr.contains("CAP_SYS_RESOURCE"), "{}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    env.assert_clean();
}

/// Whether capability number `bit` is in the hex mask of /proc/self/status.
fn own_has(mask: &str, bit: u32) -> bool {
    u64::from_str_radix(mask, 16).unwrap() & (1 << bit) != 0
}

/// The monitor of container `name`: its pid, and its exe as the link reads.
fn monitor_exe(env: &TestEnv, name: &str) -> (i64, PathBuf) {
    let monitor = env.inspect(name)["monitor_pid"].as_i64().unwrap();
    let exe = std::fs::read_link(format!("/proc/{monitor}/exe")).unwrap();
    (monitor, exe)
}

#[test]
fn a_monitor_runs_from_the_read_only_overlay_and_holds_no_copy() {
    let env = TestEnv::new();
    let out = env.sh(&["-d", "--name", "sealed"], "sleep 1000");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (monitor, exe) = monitor_exe(&env, "sealed");
    // The detached overlay's root holds the binary's directory: the link
    // names the file from there, no host path.
    assert_eq!(exe, Path::new("/hako"));
    let link = format!("/proc/{monitor}/exe");
    let fs = nix::sys::statfs::statfs(link.as_str()).unwrap();
    assert_eq!(
        fs.filesystem_type(),
        nix::sys::statfs::OVERLAYFS_SUPER_MAGIC
    );
    let vfs = nix::sys::statvfs::statvfs(link.as_str()).unwrap();
    assert!(vfs.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY));
    let write = std::fs::OpenOptions::new().write(true).open(&link);
    assert_eq!(write.unwrap_err().raw_os_error(), Some(libc::EROFS));
    // No copy of the binary in memory: the monitor maps no memfd at all.
    let maps = std::fs::read_to_string(format!("/proc/{monitor}/maps")).unwrap();
    assert!(!maps.contains("memfd:"), "{maps}");
    assert_eq!(env.hako(&["rm", "-f", "sealed"]).code, 0);
    env.assert_clean();
}

#[test]
fn without_the_overlay_hako_runs_from_a_sealed_memfd() {
    let env = TestEnv::new();
    let out = env
        .command(&["run", "-d", "--name", "memfd", "busybox", "sleep", "1000"])
        .env(hako::runtime::process::sealed_exe::FORCE_MEMFD_ENV, "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (monitor, exe) = monitor_exe(&env, "memfd");
    assert_eq!(exe, Path::new("/memfd:hako (deleted)"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{monitor}/exe"));
    if let Ok(f) = file.as_mut() {
        assert!(f.write_all(b"x").is_err(), "the sealed copy took a write");
    }
    assert_eq!(env.hako(&["rm", "-f", "memfd"]).code, 0);
    env.assert_clean();
}

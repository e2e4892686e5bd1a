//! The cgroup attack of issue 8, finding 1, performed from inside a real container as
//! root in it: make a user namespace with 0 mapped to 0, a mount and a cgroup namespace
//! of its own, mount cgroupfs, then look for the host's cgroups, kill or freeze one,
//! and raise the container's own limits. Each test first runs the same attack from a
//! cgroup namespace rooted where the old layout rooted it (the host's root in the
//! cgroup2, the limit level in v1), to show that it works there, so that it cannot
//! pass because the attack never ran. Needs root and this project's hybrid layout.
//!
//! Busybox's `unshare` has no `-C` (cgroup namespace), and without a cgroup namespace
//! owned by its user namespace a process may not mount cgroupfs at all, so the attack
//! uses util-linux's `unshare` through the built-in `host` image (the host's /usr,
//! read-only).

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::{wait_for, TestEnv};
use hako::runtime::cgroup::{detect_layout, CgroupLayout};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Extra `hako run` arguments for these tests. The default seccomp profile
/// refuses `unshare(CLONE_NEWUSER)` to a container without CAP_SYS_ADMIN
/// (tests/security_seccomp.rs); this attack is about what holds without it:
/// the cgroup layout, the defence behind the filter.
const UNCONFINED: &[&str] = &["--security-opt", "seccomp=unconfined"];

const CGROUP2: &str = "/sys/fs/cgroup/unified";
const MEMORY: &str = "/sys/fs/cgroup/memory";
const PIDS: &str = "/sys/fs/cgroup/pids";

/// The operator's limits on the attacking container.
const MEMORY_LIMIT: &str = "67108864";
const PIDS_LIMIT: &str = "64";

/// The attack, for `sh -c`, run in a new user (0 mapped to 0), mount and cgroup
/// namespace. It prints one line per step that worked. `$1` is the name of the
/// victim's cgroup, looked for anywhere in the cgroup2 it can mount.
const ATTACK: &str = r#"
mkdir -p /tmp/cg2 /tmp/memory /tmp/pids
mount -t cgroup2 none /tmp/cg2 && echo mounted-cgroup2
mount -t cgroup -o memory none /tmp/memory && echo mounted-memory
mount -t cgroup -o pids none /tmp/pids && echo mounted-pids
echo "sees: $(cd /tmp/cg2 && find . -type d | sort | tr '\n' ' ')"
for victim in $(find /tmp/cg2 -type d -name "$1"); do
    echo 1 > "$victim/cgroup.freeze" && echo froze-victim
    echo 1 > "$victim/cgroup.kill" && echo killed-victim
done
echo -1 > /tmp/memory/memory.limit_in_bytes && echo wrote-memory-limit
echo max > /tmp/pids/pids.max && echo wrote-pids-max
echo attack-done
"#;

/// util-linux unshare: user namespace with root mapped to root, mount and cgroup
/// namespaces.
const UNSHARE: [&str; 5] = [
    "unshare",
    "--user",
    "--map-root-user",
    "--mount",
    "--cgroup",
];

fn require_hybrid() {
    common::require_root();
    assert_eq!(
        detect_layout().unwrap(),
        CgroupLayout::Hybrid,
        "these tests need this project's hybrid cgroup layout (cgroup2 at {CGROUP2})"
    );
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

/// A `sleep` the test started, alone in a cgroup of the test's own, named `name`,
/// directly below the cgroup2's root: what a host service looks like to the attack.
struct Victim {
    name: String,
    dir: PathBuf,
    sleep: Child,
}

impl Victim {
    fn start() -> Victim {
        let name = format!("hako-test-victim-{}", uuid::Uuid::new_v4());
        let dir = Path::new(CGROUP2).join(&name);
        fs::create_dir(&dir).unwrap();
        let sleep = Command::new("sleep").arg("300").spawn().unwrap();
        fs::write(dir.join("cgroup.procs"), sleep.id().to_string()).unwrap();
        Victim { name, dir, sleep }
    }

    /// Alive, still in its cgroup, and not frozen.
    fn assert_untouched(&mut self) {
        assert!(
            self.sleep.try_wait().unwrap().is_none(),
            "the victim was killed"
        );
        assert_eq!(
            read(self.dir.join("cgroup.procs")),
            self.sleep.id().to_string()
        );
        let events = read(self.dir.join("cgroup.events"));
        assert!(events.lines().any(|l| l == "frozen 0"), "{events}");
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join("cgroup.freeze"), "0");
        let _ = self.sleep.kill();
        let _ = self.sleep.wait();
        wait_for("the victim's cgroup to go", Duration::from_secs(5), || {
            fs::remove_dir(&self.dir).is_ok() || !self.dir.exists()
        });
    }
}

/// v1 cgroups of the test's own with the operator's limits, for the control run.
struct ControlCgroup {
    memory: PathBuf,
    pids: PathBuf,
}

impl ControlCgroup {
    fn new(name: &str) -> ControlCgroup {
        let control = ControlCgroup {
            memory: Path::new(MEMORY).join(name),
            pids: Path::new(PIDS).join(name),
        };
        fs::create_dir(&control.memory).unwrap();
        fs::create_dir(&control.pids).unwrap();
        fs::write(control.memory.join("memory.limit_in_bytes"), MEMORY_LIMIT).unwrap();
        fs::write(control.pids.join("pids.max"), PIDS_LIMIT).unwrap();
        control
    }
}

impl Drop for ControlCgroup {
    fn drop(&mut self) {
        for dir in [&self.memory, &self.pids] {
            wait_for("the control cgroup to go", Duration::from_secs(5), || {
                fs::remove_dir(dir).is_ok() || !dir.exists()
            });
        }
    }
}

/// The attack run on the host, from a process placed where the old layout placed a
/// container: the cgroup2's root (as hako left it) and v1 cgroups holding limits.
fn control_run(victim: &Victim, control: &ControlCgroup) -> String {
    let join = r#"for f in "$@"; do echo $$ > "$f" || exit 99; done; exec "$0" --user --map-root-user --mount --cgroup sh -c "$ATTACK" sh "$VICTIM""#;
    let out = Command::new("sh")
        .arg("-c")
        .arg(join)
        .arg("unshare")
        .arg(Path::new(CGROUP2).join("cgroup.procs"))
        .arg(control.memory.join("cgroup.procs"))
        .arg(control.pids.join("cgroup.procs"))
        .env("ATTACK", ATTACK)
        .env("VICTIM", &victim.name)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "control run: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Checks that the attack's namespace steps all worked, so that what failed, failed
/// for the defence's sake.
fn assert_attack_ran(output: &str) {
    for step in [
        "mounted-cgroup2",
        "mounted-memory",
        "mounted-pids",
        "attack-done",
    ] {
        assert!(
            output.lines().any(|l| l == step),
            "{step} missing:\n{output}"
        );
    }
}

fn seen(output: &str) -> &str {
    output
        .lines()
        .find_map(|l| l.strip_prefix("sees: "))
        .unwrap_or_else(|| panic!("no `sees:` line in\n{output}"))
}

#[test]
fn the_attack_works_from_a_namespace_rooted_where_the_old_layout_rooted_it() {
    require_hybrid();
    let mut victim = Victim::start();
    let control = ControlCgroup::new(&victim.name);
    let output = control_run(&victim, &control);
    assert_attack_ran(&output);
    assert!(seen(&output).contains(&victim.name), "{output}");
    for step in [
        "froze-victim",
        "killed-victim",
        "wrote-memory-limit",
        "wrote-pids-max",
    ] {
        assert!(output.lines().any(|l| l == step), "{step}:\n{output}");
    }
    let status = victim.sleep.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
    // -1 reads back as the kernel's "no limit".
    assert_eq!(
        read(control.memory.join("memory.limit_in_bytes")),
        "9223372036854771712"
    );
    assert_eq!(read(control.pids.join("pids.max")), "max");
}

/// Starts the attacker container running `command` with the operator's
/// limits; returns its id.
fn start_attacker(env: &TestEnv, command: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--name", "attacker"];
    args.extend_from_slice(UNCONFINED);
    args.extend_from_slice(&["--memory", "64m", "--pids-limit", PIDS_LIMIT, "host"]);
    args.extend_from_slice(command);
    let out = env.hako(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.inspect("attacker")["id"].as_str().unwrap().to_string()
}

/// The limit files of the container's cgroup, as the host sees them.
fn host_limits(env: &TestEnv, id: &str) -> (String, String) {
    let memory = Path::new(MEMORY).join(&env.cgroup_parent).join(id);
    let pids = Path::new(PIDS).join(&env.cgroup_parent).join(id);
    (
        read(memory.join("memory.limit_in_bytes")),
        read(pids.join("pids.max")),
    )
}

fn assert_contained(output: &str, victim: &mut Victim, env: &TestEnv, id: &str) {
    assert_attack_ran(output);
    // Its own cgroup2 subtree is all it sees: nothing of the host's, no victim.
    assert_eq!(seen(output), ". ", "{output}");
    assert!(!output.contains("victim"), "{output}");
    victim.assert_untouched();
    // It wrote its own leaf's files; the limits one level up are the operator's.
    assert_eq!(
        host_limits(env, id),
        (MEMORY_LIMIT.to_string(), PIDS_LIMIT.to_string()),
        "{output}"
    );
}

#[test]
fn a_container_that_mounts_cgroupfs_sees_and_changes_only_its_own_subtree() {
    require_hybrid();
    let env = TestEnv::new();
    let mut victim = Victim::start();
    let id = start_attacker(&env, &["sleep", "300"]);

    // As a process of `hako exec`, which joins the same leaf and namespace.
    let mut args = vec!["exec", "attacker"];
    args.extend_from_slice(&UNSHARE);
    args.extend_from_slice(&["sh", "-c", ATTACK, "sh", &victim.name]);
    let out = env.hako(&args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_contained(&out.stdout, &mut victim, &env, &id);

    // The limits still hold for what it runs: past 64 MiB the kernel kills it.
    let mut args = vec!["exec", "attacker"];
    args.extend_from_slice(&UNSHARE);
    args.extend_from_slice(&["sh", "-c", "tail /dev/zero; echo tail-exit=$?"]);
    let out = env.hako(&args);
    assert!(
        out.stdout.contains("tail-exit=137"),
        "{}{}",
        out.stdout,
        out.stderr
    );

    let out = env.hako(&["rm", "-f", "attacker"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.assert_clean();
}

#[test]
fn a_containers_first_process_that_mounts_cgroupfs_sees_only_its_own_subtree() {
    require_hybrid();
    let env = TestEnv::new();
    let mut victim = Victim::start();
    // The attack from the container's first process's own child, the container still
    // running afterwards so that its limits can be read.
    let script = format!(
        "{} sh -c \"$0\" sh \"$1\"; exec sleep 300",
        UNSHARE.join(" ")
    );
    let id = start_attacker(&env, &["sh", "-c", &script, ATTACK, &victim.name]);
    let mut logs = String::new();
    wait_for("the attack to finish", Duration::from_secs(10), || {
        logs = env.hako(&["logs", "attacker"]).stdout;
        logs.contains("attack-done")
    });
    assert_contained(&logs, &mut victim, &env, &id);
    let out = env.hako(&["rm", "-f", "attacker"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.assert_clean();
}

//! hako's cgroups on this machine's real hierarchies: the v1 controllers of this
//! project's hybrid hosts, and the cgroup2 mount beside them. These tests need root;
//! without it they fail, saying so, rather than pass without checking anything.
//!
//! Every test works under its own `hako-test-<uuid>` parent and checks that nothing
//! with that name is left in any hierarchy afterwards.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

use hako::runtime::cgroup::{detect_layout, Cgroup, CgroupError, CgroupLayout, Manager};
use hako::runtime::limits::{CpuQuota, Limits};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const ROOT: &str = "/sys/fs/cgroup";
const MIB: u64 = 1 << 20;

fn v1_host() -> CgroupLayout {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the cgroup host tests make cgroups under /sys/fs/cgroup and must run as root \
         (for example: sudo -E cargo test --test cgroup_host)"
    );
    let layout = detect_layout().expect("detect the cgroup layout");
    assert!(
        matches!(layout, CgroupLayout::V1 | CgroupLayout::Hybrid),
        "the cgroup host tests need cgroup v1 hierarchies (this project's hosts are \
         hybrid), but this host is {layout:?}"
    );
    layout
}

/// A container cgroup under a parent no other test uses, removed however the test ends.
struct TestCgroup {
    parent: String,
    cgroup: Cgroup,
    children: Vec<Child>,
}

impl TestCgroup {
    fn new(layout: CgroupLayout) -> TestCgroup {
        TestCgroup::at(layout, Path::new(ROOT))
    }

    fn at(layout: CgroupLayout, root: &Path) -> TestCgroup {
        let parent = format!("hako-test-{}", uuid::Uuid::new_v4());
        let cgroup = Cgroup::for_container(layout, root, &parent, "c1").unwrap();
        TestCgroup {
            parent,
            cgroup,
            children: Vec::new(),
        }
    }

    /// The container's directory in the v1 hierarchy mounted at /sys/fs/cgroup/<name>.
    fn dir(&self, hierarchy: &str) -> PathBuf {
        Path::new(ROOT)
            .join(hierarchy)
            .join(&self.parent)
            .join("c1")
    }

    fn read(&self, hierarchy: &str, file: &str) -> String {
        let path = self.dir(hierarchy).join(file);
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// Starts `command` and moves it into the cgroup of every hierarchy.
    fn start_inside(&mut self, command: &mut Command) -> u32 {
        let child = command.spawn().expect("start a child process");
        let pid = child.id();
        self.children.push(child);
        for procs in self.cgroup.procs_files() {
            fs::write(&procs, pid.to_string())
                .unwrap_or_else(|e| panic!("move {pid} into {}: {e}", procs.display()));
        }
        pid
    }

    /// Directories named like this test's parent, in any hierarchy under /sys/fs/cgroup.
    fn leftovers(&self) -> Vec<PathBuf> {
        fs::read_dir(ROOT)
            .unwrap()
            .flatten()
            .map(|hierarchy| hierarchy.path().join(&self.parent))
            .filter(|dir| dir.exists())
            .collect()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // A test that failed with its child paused must not hang in wait() below.
        let _ = fs::write(self.dir("freezer").join("freezer.state"), "THAWED");
        let _ = self.cgroup.remove();
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn limits() -> Limits {
    Limits {
        memory: Some(10 * MIB),
        memory_swap: None,
        cpu: Some(CpuQuota {
            quota_us: 30_000,
            period_us: 100_000,
        }),
        pids: Some(32),
    }
}

#[test]
fn a_container_cgroup_limits_counts_and_is_removed_with_its_processes() {
    let layout = v1_host();
    let mut test = TestCgroup::new(layout);
    test.cgroup.create(&limits()).unwrap();

    assert_eq!(test.read("memory", "memory.limit_in_bytes"), "10485760");
    if test
        .dir("memory")
        .join("memory.memsw.limit_in_bytes")
        .exists()
    {
        assert_eq!(
            test.read("memory", "memory.memsw.limit_in_bytes"),
            "20971520"
        );
    }
    assert_eq!(test.read("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(test.read("cpu", "cpu.cfs_quota_us"), "30000");
    assert_eq!(test.read("pids", "pids.max"), "32");
    let devices = test.read("devices", "devices.list");
    for rule in [
        "c 1:3 rwm",
        "c 5:2 rwm",
        "c 136:* rwm",
        "c *:* m",
        "b *:* m",
    ] {
        assert!(devices.lines().any(|l| l == rule), "{rule} in {devices}");
    }
    assert!(!devices.contains("a *:*"), "{devices}");

    let pid = test.start_inside(Command::new("sleep").arg("30"));
    // The process is one level below the limits, in every hierarchy.
    assert_eq!(test.read("pids", "payload/cgroup.procs"), pid.to_string());
    assert_eq!(test.read("pids", "cgroup.procs"), "");
    // In the hierarchies where hako writes nothing it stays in the container's own
    // cgroup, a namespace root of its own all the same.
    for hierarchy in ["cpuset", "blkio", "systemd", "unified"] {
        assert_eq!(
            test.read(hierarchy, "cgroup.procs"),
            pid.to_string(),
            "{hierarchy}"
        );
    }
    let stats = test.cgroup.stats().unwrap();
    assert_eq!(stats.pids_current, Some(1));
    assert_eq!(stats.pids_limit, Some(32));
    assert_eq!(stats.memory_limit, Some(10 * MIB));
    assert_eq!(stats.cpu_quota, limits().cpu);
    assert!(stats.memory_usage.is_some());
    assert!(stats.cpu_usage_ns.is_some());
    assert_eq!(stats.nr_throttled, Some(0));
    assert_eq!(test.cgroup.oom_kills().unwrap(), 0);

    test.cgroup.remove().unwrap();
    let status = test.children[0].wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
    // Removing again is fine.
    test.cgroup.remove().unwrap();
    assert!(matches!(
        test.cgroup.stats(),
        Err(CgroupError::NotFound { .. })
    ));
}

#[test]
fn a_paused_container_is_removed_too() {
    let mut test = TestCgroup::new(v1_host());
    test.cgroup.create(&limits()).unwrap();
    test.start_inside(Command::new("sleep").arg("30"));
    let state = test.dir("freezer").join("freezer.state");
    fs::write(&state, "FROZEN").unwrap();
    for _ in 0..200 {
        if test.read("freezer", "freezer.state") == "FROZEN" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(test.read("freezer", "freezer.state"), "FROZEN");

    test.cgroup.remove().unwrap();
    let status = test.children[0].wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn update_changes_memory_alone_in_either_direction() {
    let mut test = TestCgroup::new(v1_host());
    test.cgroup
        .create(&Limits {
            memory: Some(64 * MIB),
            ..limits()
        })
        .unwrap();
    test.start_inside(Command::new("sleep").arg("30"));
    let has_memsw = test
        .dir("memory")
        .join("memory.memsw.limit_in_bytes")
        .exists();

    for memory in [32 * MIB, 256 * MIB, 16 * MIB] {
        test.cgroup
            .update(&Limits {
                memory: Some(memory),
                ..Limits::default()
            })
            .unwrap_or_else(|e| panic!("update memory to {memory}: {e}"));
        assert_eq!(
            test.read("memory", "memory.limit_in_bytes"),
            memory.to_string()
        );
        if has_memsw {
            // Raising to 256 MiB must write memsw first, or the kernel refuses.
            assert_eq!(
                test.read("memory", "memory.memsw.limit_in_bytes"),
                (2 * memory).to_string()
            );
        }
    }
    assert_eq!(test.read("cpu", "cpu.cfs_quota_us"), "30000");
    assert_eq!(test.read("pids", "pids.max"), "32");

    test.cgroup.remove().unwrap();
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn a_refused_value_names_the_file_and_the_previous_limits_stay() {
    let test = TestCgroup::new(v1_host());
    test.cgroup.create(&limits()).unwrap();
    let half_ms = Limits {
        cpu: Some(CpuQuota {
            quota_us: 500,
            period_us: 50_000,
        }),
        ..Limits::default()
    };
    let error = test.cgroup.update(&half_ms).unwrap_err().to_string();
    let quota_file = test.dir("cpu").join("cpu.cfs_quota_us");
    let expected = format!(
        "failed to write 500 to {}: Invalid argument",
        quota_file.display()
    );
    assert!(error.starts_with(&expected), "{error}");
    assert!(error.contains("back in place"), "{error}");
    // The period written before the quota was refused is put back.
    assert_eq!(test.read("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(test.read("cpu", "cpu.cfs_quota_us"), "30000");
    test.cgroup.remove().unwrap();
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn a_refused_create_names_the_file_and_leaves_nothing() {
    let test = TestCgroup::new(v1_host());
    let error = test
        .cgroup
        .create(&Limits {
            cpu: Some(CpuQuota {
                quota_us: 500,
                period_us: 100_000,
            }),
            ..limits()
        })
        .unwrap_err()
        .to_string();
    let expected = format!(
        "failed to write 500 to {}: Invalid argument",
        test.dir("cpu").join("cpu.cfs_quota_us").display()
    );
    assert!(error.starts_with(&expected), "{error}");
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn lowering_memory_below_what_is_used_is_refused_and_undone() {
    let mut test = TestCgroup::new(v1_host());
    test.cgroup
        .create(&Limits {
            memory: Some(256 * MIB),
            ..limits()
        })
        .unwrap();
    // The shell joins first, then fills 40 MB it cannot give back (there is no swap),
    // so the charge lands in the container's cgroup.
    let script = "read go; x=$(head -c 40000000 /dev/zero | tr '\\0' a); echo ready; sleep 30";
    let mut shell = Command::new("sh");
    shell
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    test.start_inside(&mut shell);
    let child = &mut test.children[0];
    writeln!(child.stdin.as_mut().unwrap(), "go").unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");

    let error = test
        .cgroup
        .update(&Limits {
            memory: Some(16 * MIB),
            ..Limits::default()
        })
        .unwrap_err()
        .to_string();
    let limit_file = test.dir("memory").join("memory.limit_in_bytes");
    assert!(
        error.starts_with(&format!(
            "failed to write 16777216 to {}: Device or resource busy",
            limit_file.display()
        )),
        "{error}"
    );
    assert!(error.contains("back in place"), "{error}");
    assert_eq!(
        test.read("memory", "memory.limit_in_bytes"),
        (256 * MIB).to_string()
    );
    test.cgroup.remove().unwrap();
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
}

/// The v2 manager on this host's cgroup2 mount, which has only hugetlb: no controller
/// hako uses is there, so the container gets a bare cgroup, and a limit is refused.
#[test]
fn the_v2_manager_works_on_the_unified_mount() {
    let layout = v1_host();
    assert_eq!(
        layout,
        CgroupLayout::Hybrid,
        "this test needs the cgroup2 mount of a hybrid host at /sys/fs/cgroup/unified"
    );
    let unified = Path::new(ROOT).join("unified");
    let mut test = TestCgroup::at(CgroupLayout::V2, &unified);
    let dir = unified.join(&test.parent).join("c1");
    assert_eq!(test.cgroup.paths(), std::slice::from_ref(&dir));

    let error = test.cgroup.create(&limits()).unwrap_err().to_string();
    assert!(
        error.contains("controller is not available in /sys/fs/cgroup/unified/cgroup.controllers"),
        "{error}"
    );
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());

    test.cgroup.create(&Limits::default()).unwrap();
    let pid = test.start_inside(Command::new("sleep").arg("30"));
    assert_eq!(
        fs::read_to_string(dir.join("payload/cgroup.procs"))
            .unwrap()
            .trim(),
        pid.to_string()
    );
    let stats = test.cgroup.stats().unwrap();
    assert!(stats.cpu_usage_ns.is_some());
    assert_eq!(stats.memory_usage, None);
    test.cgroup.remove().unwrap();
    let status = test.children[0].wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn removal_on_cgroup2_kills_with_cgroup_kill() {
    assert_eq!(
        v1_host(),
        CgroupLayout::Hybrid,
        "this test needs the cgroup2 mount of a hybrid host at /sys/fs/cgroup/unified"
    );
    let unified = Path::new(ROOT).join("unified");
    let mut test = TestCgroup::at(CgroupLayout::V2, &unified);
    test.cgroup.create(&Limits::default()).unwrap();
    let dir = unified.join(&test.parent).join("c1");
    let kill_file = dir.join("cgroup.kill");
    assert!(
        kill_file.exists(),
        "{} is missing: cgroup.kill came with Linux 5.14",
        kill_file.display()
    );
    // The shell forks once it is inside: its children are in the cgroup too, and not
    // this test's to wait for.
    let mut child = Command::new("sh")
        .args(["-c", "read go; sleep 30 & sleep 30 & wait"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut go = child.stdin.take().unwrap();
    test.cgroup
        .add_process(nix::unistd::Pid::from_raw(child.id() as i32))
        .unwrap();
    test.children.push(child);
    go.write_all(b"go\n").unwrap();
    let procs = dir.join("payload/cgroup.procs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fs::read_to_string(&procs).unwrap().lines().count() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the shell's children never showed in {}",
            procs.display()
        );
        std::thread::yield_now();
    }
    // The kernel reports every write to a cgroup file as a modification.
    let inotify =
        nix::sys::inotify::Inotify::init(nix::sys::inotify::InitFlags::IN_NONBLOCK).unwrap();
    inotify
        .add_watch(&kill_file, nix::sys::inotify::AddWatchFlags::IN_MODIFY)
        .unwrap();

    test.cgroup.remove().unwrap();
    let modified = inotify
        .read_events()
        .unwrap_or_default()
        .iter()
        .any(|event| {
            event
                .mask
                .contains(nix::sys::inotify::AddWatchFlags::IN_MODIFY)
        });
    assert!(modified, "removal did not write {}", kill_file.display());
    let status = test.children[0].wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert!(!dir.exists());
    assert_eq!(test.leftovers(), Vec::<PathBuf>::new());
}

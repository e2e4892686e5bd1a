//! The cgroup v2 manager: the container's cgroup is `<root>/<parent>/<id>` in the one
//! unified hierarchy, with its limits; every cgroup above it passes the controllers
//! down. Its processes are in the `LEAF` below it, which gets no controller of its own:
//! the limits of `<id>` hold for its whole subtree, and with no controller in the leaf
//! the kernel charges and counts everything (memory.events, pids.events, on every
//! kernel version) in `<id>`, where the limits are. Nor can a container that owns its
//! namespace root write a limit there, with or without `nsdelegate`.

mod controllers;
mod cpu;
mod kill;
mod memory;

use super::controller::{self, Controller};
use super::dirs::{self, REMOVE_WAIT};
use super::files::LimitWriter;
use super::pids::Pids;
use super::{CgroupError, CgroupStats, Manager, LEAF};
use crate::runtime::limits::Limits;
use std::path::{Path, PathBuf};

/// The controllers hako passes down to a container where the host has them, and whose
/// files it writes and reads. Limits are written in this order.
const CONTROLLERS: [&dyn Controller; 3] = [
    &memory::Memory,
    &cpu::Cpu,
    &Pids {
        events_in_leaf: false,
    },
];

/// A container's cgroup in the unified hierarchy.
#[derive(Debug, Clone)]
pub struct V2Cgroup {
    /// The cgroup2 mount, normally /sys/fs/cgroup.
    root: PathBuf,
    /// `<parent>/<id>`, below `root`.
    relative: PathBuf,
}

impl V2Cgroup {
    pub(super) fn new(root: &Path, parent: PathBuf, id: String) -> V2Cgroup {
        V2Cgroup {
            root: root.to_path_buf(),
            relative: parent.join(id),
        }
    }

    fn dir(&self) -> PathBuf {
        self.root.join(&self.relative)
    }

    fn parent(&self) -> &Path {
        self.relative.parent().unwrap_or(Path::new(""))
    }
}

impl Manager for V2Cgroup {
    fn create(&self, limits: &Limits) -> Result<(), CgroupError> {
        let needed = controller::needed_by(&CONTROLLERS, limits);
        let wanted = CONTROLLERS.map(|c| c.name());
        let mut made = Vec::new();
        // What the last parent passes down is what the container's cgroup gets.
        let mut passed_down = Vec::new();
        let mut result = dirs::make_dirs(&self.root, &self.relative, &mut made, &mut |dir| {
            passed_down = controllers::pass_down(dir, &wanted, &needed)?;
            Ok(())
        });
        if result.is_ok() {
            let dir = self.dir();
            let mut files = LimitWriter::fresh();
            result = CONTROLLERS
                .into_iter()
                .filter(|c| passed_down.contains(&c.name()))
                .try_for_each(|c| c.apply(&dir, limits, &mut files));
        }
        if result.is_ok() {
            result = dirs::make_dir(&self.dir().join(LEAF), &mut made);
        }
        if result.is_err() {
            dirs::remove_made(&made);
        }
        result
    }

    fn update(&self, limits: &Limits) -> Result<(), CgroupError> {
        let dir = self.dir();
        if !dir.is_dir() {
            return Err(CgroupError::NotFound { path: dir });
        }
        LimitWriter::remembering().apply_or_undo(|files| {
            CONTROLLERS
                .into_iter()
                .filter(|c| c.limited_by(limits))
                .try_for_each(|c| c.apply(&dir, limits, files))
        })
    }

    fn stats(&self) -> Result<CgroupStats, CgroupError> {
        let dir = self.dir();
        if !dir.is_dir() {
            return Err(CgroupError::NotFound { path: dir });
        }
        let mut stats = CgroupStats::default();
        for controller in CONTROLLERS {
            controller.stats(&dir, &mut stats)?;
        }
        Ok(stats)
    }

    fn oom_kills(&self) -> Result<u64, CgroupError> {
        memory::oom_kills(&self.dir())
    }

    fn paths(&self) -> Vec<PathBuf> {
        vec![self.dir()]
    }

    fn procs_files(&self) -> Vec<PathBuf> {
        vec![self.dir().join(LEAF).join("cgroup.procs")]
    }

    fn kill(&self) -> Result<(), CgroupError> {
        let dir = self.dir();
        // Done only once the kernel says the cgroup is empty; a refused write, a
        // wait that timed out or could not be had all go on to the loop below.
        if let Ok(kill::Killed::Written) = kill::write_kill(&dir) {
            if let Ok(true) = kill::wait_until_empty(&dir, REMOVE_WAIT) {
                return Ok(());
            }
        }
        // A kernel before 5.14 (or no inotify to wait with, or processes still
        // there): one SIGKILL per process found in cgroup.procs, looked up again
        // until none is left.
        dirs::kill_all(std::slice::from_ref(&dir), || {}, || {}).map(drop)
    }

    fn remove(&self) -> Result<(), CgroupError> {
        self.kill()?;
        dirs::remove_tree(&dirs::subtree(&self.dir()))?;
        dirs::remove_empty_parents(&self.root, self.parent());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Cgroup;
    use super::*;
    use crate::runtime::limits::{CpuQuota, MemorySwap};
    use std::fs;
    use tempfile::TempDir;

    /// A temp dir shaped like a cgroup2 root, with `hako` below it as the kernel would
    /// show it once the root passes memory, cpu and pids down.
    fn fake_root() -> TempDir {
        let root = tempfile::tempdir().unwrap();
        let base = root.path();
        fs::write(
            base.join("cgroup.controllers"),
            "cpuset cpu io memory hugetlb pids\n",
        )
        .unwrap();
        fs::write(base.join("cgroup.subtree_control"), "").unwrap();
        fs::create_dir(base.join("hako")).unwrap();
        fs::write(base.join("hako/cgroup.controllers"), "cpu memory pids\n").unwrap();
        fs::write(base.join("hako/cgroup.subtree_control"), "").unwrap();
        root
    }

    fn read(path: impl AsRef<Path>) -> String {
        fs::read_to_string(path).unwrap()
    }

    fn limits() -> Limits {
        Limits {
            memory: Some(10 << 20),
            memory_swap: None,
            cpu: Some(CpuQuota {
                quota_us: 30_000,
                period_us: 100_000,
            }),
            pids: Some(32),
        }
    }

    #[test]
    fn create_passes_controllers_down_and_writes_the_limits() {
        let root = fake_root();
        let base = root.path();
        let cgroup = Cgroup::v2(base, "hako", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        // One controller per write, at every level from the root to the parent.
        assert_eq!(
            read(base.join("cgroup.subtree_control")),
            "+memory\n+cpu\n+pids\n"
        );
        assert_eq!(
            read(base.join("hako/cgroup.subtree_control")),
            "+memory\n+cpu\n+pids\n"
        );
        let dir = base.join("hako/c1");
        assert_eq!(read(dir.join("memory.max")), "10485760");
        assert_eq!(read(dir.join("cpu.max")), "30000 100000");
        assert_eq!(read(dir.join("pids.max")), "32");
        // The leaf gets no controller: the limits and counters of c1 cover it.
        assert!(!dir.join("cgroup.subtree_control").exists());
        assert_eq!(cgroup.paths(), std::slice::from_ref(&dir));
        assert_eq!(cgroup.procs_files(), [dir.join("payload/cgroup.procs")]);
        assert_eq!(fs::read_dir(dir.join("payload")).unwrap().count(), 0);
    }

    #[test]
    fn no_limits_are_written_as_max() {
        let root = fake_root();
        let cgroup = Cgroup::v2(root.path(), "hako", "c1").unwrap();
        cgroup.create(&Limits::default()).unwrap();
        let dir = root.path().join("hako/c1");
        assert_eq!(read(dir.join("memory.max")), "max");
        assert_eq!(read(dir.join("cpu.max")), "max 100000");
        assert_eq!(read(dir.join("pids.max")), "max");
    }

    #[test]
    fn controllers_already_passed_down_are_not_written_again() {
        let root = fake_root();
        let base = root.path();
        fs::write(base.join("cgroup.subtree_control"), "cpu memory pids\n").unwrap();
        let cgroup = Cgroup::v2(base, "hako", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        assert_eq!(
            read(base.join("cgroup.subtree_control")),
            "cpu memory pids\n"
        );
    }

    #[test]
    fn a_missing_controller_is_named_and_nothing_is_left() {
        let root = fake_root();
        let base = root.path();
        fs::write(base.join("hako/cgroup.controllers"), "cpu pids\n").unwrap();
        let cgroup = Cgroup::v2(base, "hako", "c1").unwrap();
        let error = cgroup.create(&limits()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("memory controller"), "{message}");
        assert!(message.contains("hako/cgroup.controllers"), "{message}");
        assert!(message.contains("--cgroup-parent"), "{message}");
        assert!(!base.join("hako/c1").exists());
        // Without a memory limit the container simply goes without the controller.
        cgroup
            .create(&Limits {
                memory: None,
                ..limits()
            })
            .unwrap();
        assert!(!base.join("hako/c1/memory.max").exists());
        assert_eq!(read(base.join("hako/c1/cpu.max")), "30000 100000");
    }

    #[test]
    fn a_parent_that_is_not_a_cgroup_is_named_and_taken_away() {
        let root = fake_root();
        let base = root.path();
        let cgroup = Cgroup::v2(base, "hako/web", "c1").unwrap();
        // A plain dir made here has no cgroup.controllers, unlike a kernel cgroup.
        let error = cgroup.create(&limits()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("hako/web is not a cgroup v2 directory"),
            "{error}"
        );
        assert!(!base.join("hako/web").exists());
        assert!(base.join("hako").is_dir());
    }

    #[test]
    fn swap_alone_goes_to_swap_max() {
        let root = fake_root();
        let dir = root.path().join("hako/c1");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("memory.swap.max"), "max\n").unwrap();
        let cgroup = Cgroup::v2(root.path(), "hako", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        // docker's default memory+swap is twice the memory: 10 MiB of swap.
        assert_eq!(read(dir.join("memory.swap.max")), "10485760");
        cgroup
            .update(&Limits {
                memory: Some(20 << 20),
                memory_swap: Some(MemorySwap::Total(50 << 20)),
                ..Limits::default()
            })
            .unwrap();
        assert_eq!(read(dir.join("memory.max")), "20971520");
        assert_eq!(read(dir.join("memory.swap.max")), "31457280");
        assert_eq!(read(dir.join("pids.max")), "32");
        cgroup
            .update(&Limits {
                memory: Some(20 << 20),
                memory_swap: Some(MemorySwap::Unlimited),
                ..Limits::default()
            })
            .unwrap();
        assert_eq!(read(dir.join("memory.swap.max")), "max");
    }

    #[test]
    fn a_refused_update_puts_back_what_it_wrote() {
        let root = fake_root();
        let cgroup = Cgroup::v2(root.path(), "hako", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        let dir = root.path().join("hako/c1");
        fs::remove_file(dir.join("pids.max")).unwrap();
        fs::create_dir(dir.join("pids.max")).unwrap();
        let error = cgroup
            .update(&Limits {
                cpu: Some(CpuQuota {
                    quota_us: 50_000,
                    period_us: 100_000,
                }),
                pids: Some(64),
                ..Limits::default()
            })
            .unwrap_err();
        assert!(error.to_string().contains("pids.max"), "{error}");
        assert!(error.to_string().contains("back in place"), "{error}");
        assert_eq!(read(dir.join("cpu.max")), "30000 100000");
    }

    #[test]
    fn stats_read_every_counter() {
        let root = fake_root();
        let cgroup = Cgroup::v2(root.path(), "hako", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        let dir = root.path().join("hako/c1");
        for (file, text) in [
            ("memory.current", "8178893\n"),
            ("memory.max", "10485760\n"),
            ("memory.peak", "10485760\n"),
            (
                "memory.events",
                "low 0\nhigh 0\nmax 57\noom 1\noom_kill 1\noom_group_kill 0\n",
            ),
            (
                "cpu.stat",
                "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 40\n\
                 nr_throttled 12\nthrottled_usec 3400\nnr_bursts 0\nburst_usec 0\n",
            ),
            ("cpu.max", "30000 100000\n"),
            ("pids.current", "3\n"),
            ("pids.max", "max\n"),
            ("pids.events", "max 4\n"),
        ] {
            fs::write(dir.join(file), text).unwrap();
        }
        assert_eq!(
            cgroup.stats().unwrap(),
            CgroupStats {
                memory_usage: Some(8178893),
                memory_limit: Some(10 << 20),
                memory_peak: Some(10 << 20),
                memory_limit_hits: Some(57),
                oom_kills: Some(1),
                cpu_usage_ns: Some(1_500_000),
                cpu_quota: Some(CpuQuota {
                    quota_us: 30_000,
                    period_us: 100_000
                }),
                nr_periods: Some(40),
                nr_throttled: Some(12),
                throttled_ns: Some(3_400_000),
                pids_current: Some(3),
                pids_limit: None,
                pids_limit_hits: Some(4),
            }
        );
        assert_eq!(cgroup.oom_kills().unwrap(), 1);
        // A kernel before 5.19 has no memory.peak: not reported, not 0.
        fs::remove_file(dir.join("memory.peak")).unwrap();
        assert_eq!(cgroup.stats().unwrap().memory_peak, None);
    }

    #[test]
    fn kill_writes_cgroup_kill_where_the_kernel_has_it() {
        let root = fake_root();
        let cgroup = Cgroup::v2(root.path(), "hako", "c1").unwrap();
        cgroup.create(&Limits::default()).unwrap();
        let dir = root.path().join("hako/c1");
        // As a kernel before 5.14 shows it: no cgroup.kill, and none is made.
        cgroup.kill().unwrap();
        assert!(!dir.join("cgroup.kill").exists());
        fs::write(dir.join("cgroup.kill"), "").unwrap();
        fs::write(dir.join("cgroup.events"), "populated 0\nfrozen 0\n").unwrap();
        cgroup.kill().unwrap();
        assert_eq!(read(dir.join("cgroup.kill")), "1");
    }

    #[test]
    fn removing_takes_empty_parents_and_is_idempotent() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path();
        fs::write(base.join("cgroup.controllers"), "hugetlb\n").unwrap();
        let cgroup = Cgroup::v2(base, "", "c1").unwrap();
        // No controller is passed down, so nothing is written into the new dir,
        // and a plain rmdir can take it away as the kernel would.
        cgroup.create(&Limits::default()).unwrap();
        assert!(base.join("c1/payload").is_dir());
        cgroup.remove().unwrap();
        assert!(!base.join("c1").exists());
        cgroup.remove().unwrap();
        assert!(cgroup.stats().is_err());
    }
}

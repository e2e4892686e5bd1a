//! The cgroup v1 manager (also used on hybrid hosts): the container gets a directory
//! `<mount>/<parent>/<id>` in every mounted hierarchy (one per mount point when
//! controllers are co-mounted; named hierarchies and a hybrid host's cgroup2 included),
//! so that its cgroup namespace root is its own everywhere.
//!
//! Where hako writes limits or reads counters (`WITH_LEAF`), the processes go one
//! level below, into the `LEAF`, so that the limits and counters stay out of the
//! container's reach. In the other hierarchies (cpuset, blkio, `name=systemd`, the
//! cgroup2 of a hybrid host, ...) hako writes and reads nothing the container could
//! change, so the processes stay in `<id>`, which is already a namespace root of its
//! own: a leaf there would cost a mkdir and an rmdir per hierarchy at every start and
//! removal (0.1 to 0.2 ms per hierarchy on this project's machines, timed in a loop)
//! and keep nothing safer. A limit added later in one of them must add its controller to
//! `WITH_LEAF`.

mod cpu;
mod cpuset;
mod devices;
mod freezer;
mod memory;

use super::controller::{self, Controller};
use super::dirs;
use super::files::LimitWriter;
use super::mountinfo::{Hierarchy, V1Mounts};
use super::pids::Pids;
use super::{CgroupError, CgroupStats, Manager, LEAF};
use crate::runtime::limits::Limits;
use std::path::{Path, PathBuf};

/// The controllers whose files hako writes or reads, each in the hierarchy it is mounted
/// in. Limits are written in this order.
const CONTROLLERS: [&dyn Controller; 6] = [
    &memory::Memory,
    &cpu::Cpu,
    &cpu::CpuAcct,
    &Pids {
        events_in_leaf: true,
    },
    &devices::Devices,
    &cpuset::Cpuset,
];

/// The controllers whose hierarchies get the leaf: hako writes limits in memory, cpu,
/// pids and devices; a container frozen from outside must not thaw itself; and the
/// owner of a namespace root could reset the counters hako reads in cpuacct
/// (`cpuacct.usage` takes a write of 0).
const WITH_LEAF: [&str; 6] = ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"];

/// A container's cgroup in the v1 hierarchies.
#[derive(Debug, Clone)]
pub struct V1Cgroup {
    /// Every mounted hierarchy, with the controllers attached to it.
    hierarchies: Vec<Hierarchy>,
    /// The container's directory below each mount point: `<parent>/<id>`.
    relative: PathBuf,
}

impl V1Cgroup {
    pub(super) fn new(mounts: &V1Mounts, parent: PathBuf, id: String) -> V1Cgroup {
        V1Cgroup {
            hierarchies: mounts.hierarchies().to_vec(),
            relative: parent.join(id),
        }
    }

    /// The container's directory (its limits) in the hierarchy of `controller`, if that
    /// is mounted.
    fn dir(&self, controller: &str) -> Option<PathBuf> {
        self.hierarchies
            .iter()
            .find(|h| has(h, controller))
            .map(|h| h.mount_point.join(&self.relative))
    }

    /// Where the processes go in hierarchy `h`.
    fn procs_dir(&self, h: &Hierarchy) -> PathBuf {
        let dir = h.mount_point.join(&self.relative);
        if has_leaf(h) {
            dir.join(LEAF)
        } else {
            dir
        }
    }

    /// Like `dir`, for a controller a limit cannot do without.
    fn needed_dir(&self, controller: &'static str) -> Result<PathBuf, CgroupError> {
        self.dir(controller)
            .ok_or(CgroupError::ControllerNotMounted { controller })
    }

    fn parent(&self) -> &Path {
        self.relative.parent().unwrap_or(Path::new(""))
    }

    /// Each controller of `CONTROLLERS` that is mounted, with the container's directory
    /// in its hierarchy.
    fn mounted(&self) -> Vec<(&'static dyn Controller, PathBuf)> {
        CONTROLLERS
            .into_iter()
            .filter_map(|c| Some((c, self.dir(c.name())?)))
            .collect()
    }

    /// Makes the container's directories, its limits, then its leaves, pushing each
    /// directory made onto `made`.
    fn make(&self, limits: &Limits, made: &mut Vec<PathBuf>) -> Result<(), CgroupError> {
        for h in &self.hierarchies {
            dirs::make_dirs(&h.mount_point, &self.relative, made, &mut |dir| {
                prepare(h, dir)
            })?;
            prepare(h, &h.mount_point.join(&self.relative))?;
        }
        // The leaves come after the limits: the devices controller refuses to change
        // the default ("a") of a cgroup that has children (EINVAL), and a new cgroup
        // starts with its parent's rules and can never widen them.
        let mut files = LimitWriter::fresh();
        for (controller, dir) in self.mounted() {
            controller.apply(&dir, limits, &mut files)?;
        }
        for h in self.hierarchies.iter().filter(|h| has_leaf(h)) {
            let leaf = self.procs_dir(h);
            dirs::make_dir(&leaf, made)?;
            prepare(h, &leaf)?;
        }
        Ok(())
    }

    /// Kills what is in the cgroups and returns their subtrees, for `remove`.
    fn kill_all(&self) -> Result<Vec<Vec<PathBuf>>, CgroupError> {
        // A frozen v1 process acts on SIGKILL only once thawed, and one still running
        // can fork while the others are being killed: freeze, kill, thaw. Thawing walks
        // the subtree, since the container (with a user namespace and cgroupfs of its
        // own) may have frozen a cgroup of its own below, which its parent's thaw leaves
        // frozen.
        let freezer = self.dir("freezer");
        dirs::kill_all(
            &self.paths(),
            || {
                if let Some(dir) = &freezer {
                    freezer::freeze(dir);
                }
            },
            || {
                if let Some(dir) = &freezer {
                    freezer::thaw_all(dir);
                }
            },
        )
    }
}

/// Readies the directory `dir` of hierarchy `h` for what comes below it (v1 cpuset).
fn prepare(h: &Hierarchy, dir: &Path) -> Result<(), CgroupError> {
    for controller in CONTROLLERS.into_iter().filter(|c| has(h, c.name())) {
        controller.prepare(dir)?;
    }
    Ok(())
}

fn has(h: &Hierarchy, controller: &str) -> bool {
    h.controllers.iter().any(|c| c == controller)
}

/// Whether the container's processes go into a `LEAF` in hierarchy `h`.
fn has_leaf(h: &Hierarchy) -> bool {
    WITH_LEAF.iter().any(|controller| has(h, controller))
}

impl Manager for V1Cgroup {
    fn create(&self, limits: &Limits) -> Result<(), CgroupError> {
        for name in controller::needed_by(&CONTROLLERS, limits) {
            self.needed_dir(name)?;
        }
        let mut made = Vec::new();
        let result = self.make(limits, &mut made);
        if result.is_err() {
            dirs::remove_made(&made);
        }
        result
    }

    fn update(&self, limits: &Limits) -> Result<(), CgroupError> {
        let changed = CONTROLLERS
            .into_iter()
            .filter(|c| c.limited_by(limits))
            .map(|c| Ok((c, self.needed_dir(c.name())?)))
            .collect::<Result<Vec<_>, CgroupError>>()?;
        if let Some((_, dir)) = changed.iter().find(|(_, dir)| !dir.is_dir()) {
            return Err(CgroupError::NotFound { path: dir.clone() });
        }
        LimitWriter::remembering().apply_or_undo(|files| {
            for (controller, dir) in &changed {
                controller.apply(dir, limits, files)?;
            }
            Ok(())
        })
    }

    fn stats(&self) -> Result<CgroupStats, CgroupError> {
        let mounted = self.mounted();
        if let Some((_, dir)) = mounted.iter().find(|(_, dir)| !dir.is_dir()) {
            return Err(CgroupError::NotFound { path: dir.clone() });
        }
        let mut stats = CgroupStats::default();
        for (controller, dir) in &mounted {
            controller.stats(dir, &mut stats)?;
        }
        Ok(stats)
    }

    fn oom_kills(&self) -> Result<u64, CgroupError> {
        memory::oom_kills(&self.needed_dir("memory")?.join(LEAF))
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.hierarchies
            .iter()
            .map(|h| h.mount_point.join(&self.relative))
            .collect()
    }

    fn procs_files(&self) -> Vec<PathBuf> {
        self.hierarchies
            .iter()
            .map(|h| self.procs_dir(h).join("cgroup.procs"))
            .collect()
    }

    fn kill(&self) -> Result<(), CgroupError> {
        self.kill_all().map(drop)
    }

    fn remove(&self) -> Result<(), CgroupError> {
        let trees = self.kill_all()?;
        // One hierarchy refusing should not leave the others behind.
        let mut first_error = None;
        for tree in &trees {
            if let Err(error) = dirs::remove_tree(tree) {
                first_error.get_or_insert(error);
            }
        }
        for h in &self.hierarchies {
            dirs::remove_empty_parents(&h.mount_point, self.parent());
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Cgroup;
    use super::*;
    use crate::runtime::limits::{CpuQuota, MemorySwap};
    use std::fs;
    use tempfile::TempDir;

    const NO_LIMIT: &str = "9223372036854771712";

    /// Temp dirs standing in for the hierarchies of a host that co-mounts
    /// `cpu,cpuacct`, without `devices` unless asked.
    fn fake_mounts(with_devices: bool) -> (TempDir, V1Mounts) {
        let root = tempfile::tempdir().unwrap();
        let mut specs = vec![
            ("memory", vec!["memory"]),
            ("cpu,cpuacct", vec!["cpu", "cpuacct"]),
            ("pids", vec!["pids"]),
            ("freezer", vec!["freezer"]),
        ];
        if with_devices {
            specs.push(("devices", vec!["devices"]));
        }
        let hierarchies = specs
            .into_iter()
            .map(|(name, controllers)| {
                let mount_point = root.path().join(name);
                fs::create_dir(&mount_point).unwrap();
                Hierarchy {
                    mount_point,
                    controllers: controllers.into_iter().map(String::from).collect(),
                }
            })
            .collect();
        (root, V1Mounts::new(hierarchies))
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
    fn co_mounted_hierarchies_get_one_directory() {
        let (root, mounts) = fake_mounts(false);
        let Cgroup::V1(cgroup) = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap() else {
            unreachable!()
        };
        let base = root.path();
        assert_eq!(
            cgroup.paths(),
            [
                base.join("memory/hako/c1"),
                base.join("cpu,cpuacct/hako/c1"),
                base.join("pids/hako/c1"),
                base.join("freezer/hako/c1"),
            ]
        );
        assert_eq!(cgroup.dir("cpuacct"), cgroup.dir("cpu"));
        assert_eq!(cgroup.dir("devices"), None);
    }

    #[test]
    fn create_writes_every_limit_and_the_device_allowlist() {
        let (root, mounts) = fake_mounts(true);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako/web", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        let base = root.path();
        let memory = base.join("memory/hako/web/c1");
        assert_eq!(read(memory.join("memory.limit_in_bytes")), "10485760");
        // No swap accounting in a plain dir: no memsw file, so none is written.
        assert!(!memory.join("memory.memsw.limit_in_bytes").exists());
        let cpu = base.join("cpu,cpuacct/hako/web/c1");
        assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");
        assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "30000");
        assert_eq!(read(base.join("pids/hako/web/c1/pids.max")), "32");
        let devices = base.join("devices/hako/web/c1");
        assert_eq!(read(devices.join("devices.deny")), "a\n");
        assert_eq!(
            read(devices.join("devices.allow")),
            "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:1 rwm\n\
             c 5:2 rwm\nc 136:* rwm\nc *:* m\nb *:* m\n"
        );
        assert!(base.join("freezer/hako/web/c1").is_dir());
        // The processes go one level below the limits, in every hierarchy, and no
        // limit is written there.
        assert_eq!(
            cgroup.procs_files(),
            [
                memory.join("payload/cgroup.procs"),
                cpu.join("payload/cgroup.procs"),
                base.join("pids/hako/web/c1/payload/cgroup.procs"),
                base.join("freezer/hako/web/c1/payload/cgroup.procs"),
                devices.join("payload/cgroup.procs"),
            ]
        );
        for leaf in cgroup.procs_files().iter().map(|f| f.parent().unwrap()) {
            assert!(leaf.is_dir(), "{}", leaf.display());
            assert_eq!(fs::read_dir(leaf).unwrap().count(), 0, "{}", leaf.display());
        }
    }

    #[test]
    fn named_hierarchies_the_cgroup2_and_cpuset_are_joined_without_a_leaf() {
        let root = tempfile::tempdir().unwrap();
        let hierarchy = |name: &str, controllers: &[&str]| {
            let mount_point = root.path().join(name);
            fs::create_dir(&mount_point).unwrap();
            Hierarchy {
                mount_point,
                controllers: controllers.iter().map(|c| c.to_string()).collect(),
            }
        };
        let cpuset = hierarchy("cpuset", &["cpuset"]);
        fs::write(cpuset.mount_point.join("cpuset.cpus"), "0-1\n").unwrap();
        fs::write(cpuset.mount_point.join("cpuset.mems"), "0\n").unwrap();
        // As the kernel makes them: a new cpuset cgroup has empty sets.
        fs::create_dir(cpuset.mount_point.join("hako")).unwrap();
        for file in ["cpuset.cpus", "cpuset.mems"] {
            fs::write(cpuset.mount_point.join("hako").join(file), "\n").unwrap();
        }
        let mounts = V1Mounts::new(vec![
            cpuset,
            hierarchy("systemd", &[]),
            hierarchy("unified", &[]),
            hierarchy("freezer", &["freezer"]),
        ]);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        cgroup.create(&Limits::default()).unwrap();
        let base = root.path();
        assert_eq!(
            cgroup.procs_files(),
            [
                base.join("cpuset/hako/c1/cgroup.procs"),
                base.join("systemd/hako/c1/cgroup.procs"),
                base.join("unified/hako/c1/cgroup.procs"),
                base.join("freezer/hako/c1/payload/cgroup.procs"),
            ]
        );
        assert!(!base.join("systemd/hako/c1/payload").exists());
        assert_eq!(read(base.join("cpuset/hako/cpuset.cpus")), "0-1");
        assert_eq!(read(base.join("cpuset/hako/cpuset.mems")), "0");
        cgroup.remove().unwrap();
        for h in ["systemd", "unified", "freezer"] {
            assert_eq!(fs::read_dir(base.join(h)).unwrap().count(), 0, "{h}");
        }
    }

    #[test]
    fn no_limits_are_written_as_unlimited() {
        let (root, mounts) = fake_mounts(false);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        cgroup.create(&Limits::default()).unwrap();
        let base = root.path();
        assert_eq!(
            read(base.join("memory/hako/c1/memory.limit_in_bytes")),
            "-1"
        );
        assert_eq!(
            read(base.join("cpu,cpuacct/hako/c1/cpu.cfs_quota_us")),
            "-1"
        );
        assert!(!base.join("cpu,cpuacct/hako/c1/cpu.cfs_period_us").exists());
        assert_eq!(read(base.join("pids/hako/c1/pids.max")), "max");
    }

    #[test]
    fn a_limit_without_its_controller_is_refused_and_nothing_is_made() {
        let root = tempfile::tempdir().unwrap();
        let freezer = root.path().join("freezer");
        fs::create_dir(&freezer).unwrap();
        let mounts = V1Mounts::new(vec![Hierarchy {
            mount_point: freezer.clone(),
            controllers: vec!["freezer".into()],
        }]);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        let error = cgroup.create(&limits()).unwrap_err();
        assert!(error.to_string().contains("memory controller"), "{error}");
        assert!(!freezer.join("hako").exists());
        // Without limits, the missing controllers are simply skipped.
        cgroup.create(&Limits::default()).unwrap();
        assert!(freezer.join("hako/c1").is_dir());
        cgroup.remove().unwrap();
        assert!(!freezer.join("hako").exists());
        cgroup.remove().unwrap();
    }

    #[test]
    fn a_failed_create_takes_away_what_it_made() {
        let (root, mounts) = fake_mounts(false);
        // A directory where memory.limit_in_bytes should be makes the first write fail.
        let memory_limit = root.path().join("memory/hako/c1/memory.limit_in_bytes");
        fs::create_dir_all(&memory_limit).unwrap();
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        let error = cgroup.create(&limits()).unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "failed to write 10485760 to {}",
                memory_limit.display()
            )),
            "{error}"
        );
        // Made by this call: gone. The memory dirs were there before: kept.
        for hierarchy in ["cpu,cpuacct", "pids", "freezer"] {
            assert!(!root.path().join(hierarchy).join("hako").exists());
        }
        assert!(memory_limit.is_dir());
    }

    #[test]
    fn update_changes_only_what_is_given() {
        let (root, mounts) = fake_mounts(false);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        cgroup
            .update(&Limits {
                memory: Some(20 << 20),
                ..Limits::default()
            })
            .unwrap();
        let base = root.path();
        assert_eq!(
            read(base.join("memory/hako/c1/memory.limit_in_bytes")),
            "20971520"
        );
        assert_eq!(
            read(base.join("cpu,cpuacct/hako/c1/cpu.cfs_quota_us")),
            "30000"
        );
        assert_eq!(read(base.join("pids/hako/c1/pids.max")), "32");
    }

    #[test]
    fn a_refused_update_puts_back_what_it_wrote() {
        let (root, mounts) = fake_mounts(false);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        cgroup.create(&limits()).unwrap();
        let base = root.path();
        let pids_max = base.join("pids/hako/c1/pids.max");
        fs::remove_file(&pids_max).unwrap();
        fs::create_dir(&pids_max).unwrap();
        let error = cgroup
            .update(&Limits {
                memory: Some(64 << 20),
                cpu: None,
                pids: Some(64),
                memory_swap: None,
            })
            .unwrap_err();
        assert!(matches!(
            error,
            CgroupError::UpdateHalfDone { .. } | CgroupError::UpdateUndone { .. }
        ));
        assert!(error.to_string().contains("pids.max"), "{error}");
        assert_eq!(
            read(base.join("memory/hako/c1/memory.limit_in_bytes")),
            "10485760"
        );
    }

    #[test]
    fn stats_read_every_counter_and_missing_ones_stay_none() {
        let (root, mounts) = fake_mounts(false);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        cgroup.create(&Limits::default()).unwrap();
        let base = root.path();
        let memory = base.join("memory/hako/c1");
        fs::write(memory.join("memory.usage_in_bytes"), "8178893\n").unwrap();
        fs::write(
            memory.join("memory.limit_in_bytes"),
            format!("{NO_LIMIT}\n"),
        )
        .unwrap();
        fs::write(memory.join("memory.max_usage_in_bytes"), "20971520\n").unwrap();
        fs::write(memory.join("memory.failcnt"), "17\n").unwrap();
        // v1 counts OOM kills and refused forks where the processes are.
        fs::write(
            memory.join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
        )
        .unwrap();
        fs::write(
            memory.join("payload/memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        )
        .unwrap();
        let cpu = base.join("cpu,cpuacct/hako/c1");
        fs::write(cpu.join("cpuacct.usage"), "123456789\n").unwrap();
        fs::write(
            cpu.join("cpu.stat"),
            "nr_periods 40\nnr_throttled 12\nthrottled_time 3400000\nnr_bursts 0\nburst_time 0\n",
        )
        .unwrap();
        fs::write(cpu.join("cpu.cfs_period_us"), "100000\n").unwrap();
        fs::write(cpu.join("cpu.cfs_quota_us"), "30000\n").unwrap();
        let pids = base.join("pids/hako/c1");
        fs::write(pids.join("pids.current"), "3\n").unwrap();
        fs::write(pids.join("pids.max"), "32\n").unwrap();
        // No pids.events: that counter is "not reported".
        assert_eq!(
            cgroup.stats().unwrap(),
            CgroupStats {
                memory_usage: Some(8178893),
                memory_limit: None,
                memory_peak: Some(20 << 20),
                memory_limit_hits: Some(17),
                oom_kills: Some(1),
                cpu_usage_ns: Some(123456789),
                cpu_quota: Some(CpuQuota {
                    quota_us: 30_000,
                    period_us: 100_000
                }),
                nr_periods: Some(40),
                nr_throttled: Some(12),
                throttled_ns: Some(3400000),
                pids_current: Some(3),
                pids_limit: Some(32),
                pids_limit_hits: None,
            }
        );
        assert_eq!(cgroup.oom_kills().unwrap(), 1);
    }

    #[test]
    fn stats_of_a_removed_cgroup_say_so() {
        let (_root, mounts) = fake_mounts(false);
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        let error = cgroup.stats().unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
    }

    #[test]
    fn memory_swap_unlimited_is_written_as_minus_one() {
        let (root, mounts) = fake_mounts(false);
        let dir = root.path().join("memory/hako/c1");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("memory.memsw.limit_in_bytes"), NO_LIMIT).unwrap();
        let cgroup = Cgroup::v1_with_mounts(&mounts, "hako", "c1").unwrap();
        let mut limits = limits();
        limits.memory_swap = Some(MemorySwap::Unlimited);
        cgroup.create(&limits).unwrap();
        assert_eq!(read(dir.join("memory.memsw.limit_in_bytes")), "-1");
    }
}

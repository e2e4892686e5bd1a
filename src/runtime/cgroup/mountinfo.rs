//! Where the cgroup hierarchies are mounted, from /proc/self/mountinfo
//! (format: proc(5), "/proc/pid/mountinfo"): every v1 hierarchy, named ones such as
//! `name=systemd` included, and on a hybrid host the cgroup2 beside them.

use super::files;
use std::path::{Path, PathBuf};

/// The v1 controllers the kernel knows. Other super options of a cgroup mount (`rw`,
/// `name=systemd`, `clone_children`, ...) are not controllers.
const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// One mounted hierarchy and the v1 controllers attached to it (several when
/// co-mounted, as `cpu,cpuacct`; none for a named hierarchy or a cgroup2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub mount_point: PathBuf,
    pub controllers: Vec<String>,
}

/// The mounted hierarchies, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1Mounts {
    hierarchies: Vec<Hierarchy>,
}

impl V1Mounts {
    /// The given hierarchies (tests pass temp dirs).
    pub fn new(hierarchies: Vec<Hierarchy>) -> V1Mounts {
        V1Mounts { hierarchies }
    }

    /// The hierarchies this process sees mounted under `root` (normally /sys/fs/cgroup).
    /// Mounts elsewhere, such as a hierarchy bind-mounted into some other tree, are left
    /// out.
    pub fn read(root: &Path) -> Result<V1Mounts, super::CgroupError> {
        let text = files::read(Path::new("/proc/self/mountinfo"))?;
        let mut mounts = V1Mounts::parse(&text);
        mounts
            .hierarchies
            .retain(|h| h.mount_point.starts_with(root));
        Ok(mounts)
    }

    /// The cgroup and cgroup2 mounts listed in mountinfo text. A hierarchy mounted
    /// twice (the same device number) counts once, at its first mount point.
    pub fn parse(mountinfo: &str) -> V1Mounts {
        let mut devices = Vec::new();
        let mut hierarchies = Vec::new();
        for (device, hierarchy) in mountinfo.lines().filter_map(parse_line) {
            if !devices.contains(&device) {
                devices.push(device);
                hierarchies.push(hierarchy);
            }
        }
        V1Mounts { hierarchies }
    }

    pub fn hierarchies(&self) -> &[Hierarchy] {
        &self.hierarchies
    }

    /// Where `controller` is mounted (the first mount, if a hierarchy is mounted twice).
    pub fn mount_point(&self, controller: &str) -> Option<&Path> {
        self.hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
            .map(|h| h.mount_point.as_path())
    }
}

/// A `cgroup` or `cgroup2` mount from one mountinfo line, with its device number:
/// `ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`.
fn parse_line(line: &str) -> Option<(&str, Hierarchy)> {
    let (before, after) = line.split_once(" - ")?;
    let mut before = before.split(' ');
    let device = before.nth(2)?;
    let mount_point = before.nth(1)?;
    let mut after = after.split(' ');
    let controllers = match after.next()? {
        // A named hierarchy (systemd's) lists no controller: it is kept all the same,
        // or the container's cgroup namespace would be rooted at the host's root there.
        "cgroup" => after
            .nth(1)?
            .split(',')
            .filter(|option| V1_CONTROLLERS.contains(option))
            .map(str::to_string)
            .collect(),
        // hako uses no controller of a hybrid host's cgroup2; it only places the
        // container's processes there, for the same reason.
        "cgroup2" => Vec::new(),
        _ => return None,
    };
    Some((
        device,
        Hierarchy {
            mount_point: PathBuf::from(unescape(mount_point)),
            controllers,
        },
    ))
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|digits| bytes[i] == b'\\' && digits.iter().all(|d| (b'0'..=b'7').contains(d)));
        match octal {
            Some(digits) => {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This project's hybrid machines: cpu and cpuacct mounted apart.
    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    /// A systemd v1 host: `cpu,cpuacct` co-mounted (with symlinks `cpu` and `cpuacct`
    /// beside it), optional fields before the separator.
    const CO_MOUNTED: &str = "\
25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 master:3 - cgroup cgroup rw,net_cls,net_prio
34 25 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,pids
";

    #[test]
    fn separate_cpu_and_cpuacct_mounts() {
        let mounts = V1Mounts::parse(HYBRID);
        assert_eq!(
            mounts.mount_point("cpu"),
            Some(Path::new("/sys/fs/cgroup/cpu"))
        );
        assert_eq!(
            mounts.mount_point("cpuacct"),
            Some(Path::new("/sys/fs/cgroup/cpuacct"))
        );
        assert_eq!(
            mounts.mount_point("memory"),
            Some(Path::new("/sys/fs/cgroup/memory"))
        );
        assert_eq!(mounts.mount_point("devices"), None);
        // Not the tmpfs; systemd's named hierarchy and the cgroup2, with no controller.
        let all: Vec<_> = mounts
            .hierarchies()
            .iter()
            .map(|h| &h.mount_point)
            .collect();
        assert_eq!(
            all,
            [
                "/sys/fs/cgroup/cpu",
                "/sys/fs/cgroup/cpuacct",
                "/sys/fs/cgroup/memory",
                "/sys/fs/cgroup/pids",
                "/sys/fs/cgroup/systemd",
                "/sys/fs/cgroup/unified"
            ]
            .map(PathBuf::from)
            .iter()
            .collect::<Vec<_>>()
        );
        assert!(mounts.hierarchies()[4..]
            .iter()
            .all(|h| h.controllers.is_empty()));
    }

    #[test]
    fn co_mounted_cpu_and_cpuacct_share_one_hierarchy() {
        let mounts = V1Mounts::parse(CO_MOUNTED);
        let both = Path::new("/sys/fs/cgroup/cpu,cpuacct");
        assert_eq!(mounts.mount_point("cpu"), Some(both));
        assert_eq!(mounts.mount_point("cpuacct"), Some(both));
        assert_eq!(
            mounts.hierarchies()[1],
            Hierarchy {
                mount_point: both.to_path_buf(),
                controllers: vec!["cpu".into(), "cpuacct".into()],
            }
        );
        assert_eq!(
            mounts.mount_point("net_prio"),
            Some(Path::new("/sys/fs/cgroup/net_cls,net_prio"))
        );
        assert_eq!(mounts.hierarchies().len(), 5);
    }

    #[test]
    fn escaped_mount_points_are_decoded() {
        let line = "50 25 0:40 / /tmp/my\\040cgroups/mem rw - cgroup cgroup rw,memory";
        assert_eq!(
            V1Mounts::parse(line).mount_point("memory"),
            Some(Path::new("/tmp/my cgroups/mem"))
        );
        assert_eq!(unescape("a\\134b\\0"), "a\\b\\0");
    }

    #[test]
    fn a_hierarchy_mounted_twice_counts_once() {
        let text = format!(
            "{HYBRID}60 25 0:32 / /sys/fs/cgroup/memory-again rw - cgroup cgroup rw,memory\n"
        );
        let mounts = V1Mounts::parse(&text);
        assert_eq!(mounts.hierarchies().len(), 6);
        assert_eq!(
            mounts.mount_point("memory"),
            Some(Path::new("/sys/fs/cgroup/memory"))
        );
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let text = "nonsense\n1 2 3\n- cgroup\n";
        assert!(V1Mounts::parse(text).hierarchies().is_empty());
    }
}

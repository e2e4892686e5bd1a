//! What a container is made of, checked before anything is created.
//!
//! `RunRequest` is what a user asks for (the CLI's or the dashboard's words);
//! `ContainerSpec::from_request` validates all of it, so that bad input fails
//! with one clear line before any directory, cgroup or process exists.

use super::oci::{self, Privileges, User};
use crate::runtime::capabilities::{self, CapabilityError};
use crate::runtime::image::{ImageError, ImageStore};
use crate::runtime::limits::{LimitError, Limits};
use crate::runtime::paths::Paths;
use crate::runtime::seccomp::{self, Seccomp, SeccompError};
use oci_spec::runtime::{Linux, LinuxNamespace, LinuxNamespaceType, Mount, Process, Root, Spec};
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SpecError {
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error(transparent)]
    Capability(#[from] CapabilityError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
    #[error(transparent)]
    Config(#[from] super::oci::ConfigError),
    #[error("invalid --volume {0:?}: use HOSTDIR:CTRDIR or HOSTDIR:CTRDIR:ro with absolute paths")]
    BadVolume(String),
    #[error("--volume source {0} does not exist on the host")]
    MissingVolumeSource(PathBuf),
    #[error("invalid --user {0:?}: use UID or UID:GID (numbers), or root")]
    BadUser(String),
    #[error("invalid --network {0:?}: use none or host")]
    BadNetwork(String),
    #[error("invalid -e {0:?}: use KEY=VALUE")]
    BadEnv(String),
    #[error("invalid -w {0:?}: the working directory must be an absolute path")]
    BadWorkdir(String),
    #[error("invalid hostname {0:?}: use letters, digits, '-' and '.', at most 64 characters")]
    BadHostname(String),
    #[error("invalid name {0:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    BadName(String),
    #[error("the container name {0:?} is already in use by container {1}; remove it or choose another name")]
    NameInUse(String, String),
    #[error("the command is empty")]
    EmptyCommand,
}

/// What a user asks for, in their own words.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub image: String,
    pub command: Vec<String>,
    pub name: Option<String>,
    pub hostname: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub volumes: Vec<String>,
    pub network: Option<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub read_only: bool,
    pub interactive: bool,
    pub tty: bool,
    pub auto_remove: bool,
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub cpus: Option<String>,
    pub pids_limit: Option<String>,
    pub cgroup_parent: String,
    /// `--security-opt` values, e.g. `seccomp=unconfined`.
    pub security_opt: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// A new network namespace with only `lo`, brought up.
    None,
    /// The host's network namespace.
    Host,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub host: PathBuf,
    pub container: PathBuf,
    pub read_only: bool,
}

/// A validated container, ready to be created: the OCI runtime Spec, its one
/// description, and what the Spec cannot say. It crosses to the monitor
/// process as JSON (`run -d`) and is kept as `config.json` (the Spec).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub oci: Spec,
    pub record: ContainerRecord,
}

/// What a container is beyond its Spec: who it is, where its image lies,
/// and how hako keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    /// The image's name, as asked for.
    pub image: String,
    /// The image's rootfs: the overlay's read-only lower layer.
    pub lower: PathBuf,
    /// Its stdin is kept open (`-i`).
    pub interactive: bool,
    /// Removed on exit (`--rm`).
    pub auto_remove: bool,
    /// The syscall filter: its profile and compiled program.
    pub seccomp: Seccomp,
}

/// Kernel interfaces a container must not use (masked: files under
/// /dev/null, directories under an empty read-only tmpfs): runc's list plus
/// Docker's two additions (../shared/REFERENCE.md).
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/interrupts",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Kernel interfaces a container may only read.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The device nodes every container gets, bound from the host's /dev.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl ContainerSpec {
    /// Checks every part of the request. Nothing is created here.
    pub fn from_request(paths: &Paths, request: &RunRequest) -> Result<ContainerSpec, SpecError> {
        let limits = Limits::parse(
            request.memory.as_deref(),
            request.memory_swap.as_deref(),
            request.cpus.as_deref(),
            request.pids_limit.as_deref(),
        )?;
        let capabilities = capabilities::compute(&request.cap_add, &request.cap_drop)?;
        let volumes = request
            .volumes
            .iter()
            .map(|v| parse_volume(v))
            .collect::<Result<Vec<_>, _>>()?;
        let user = request
            .user
            .as_deref()
            .map(parse_user)
            .transpose()?
            .unwrap_or(User { uid: 0, gid: 0 });
        let network = match request.network.as_deref() {
            None | Some("none") => Network::None,
            Some("host") => Network::Host,
            Some(other) => return Err(SpecError::BadNetwork(other.into())),
        };
        let workdir = match request.workdir.as_deref() {
            None => PathBuf::from("/"),
            Some(w) if w.starts_with('/') => PathBuf::from(w),
            Some(w) => return Err(SpecError::BadWorkdir(w.into())),
        };
        let command = if request.command.is_empty() {
            vec!["/bin/sh".to_string()]
        } else {
            request.command.clone()
        };
        if command[0].is_empty() {
            return Err(SpecError::EmptyCommand);
        }

        let id = uuid::Uuid::new_v4().to_string();
        let short = short_id(&id);
        let name = match &request.name {
            Some(n) => check_name(n)?,
            None => short.clone(),
        };
        let hostname = match &request.hostname {
            Some(h) => check_hostname(h)?,
            None => short.clone(),
        };
        let env = build_env(&request.env, &hostname, request.tty, user)?;
        let image = ImageStore::new(paths.images()).open(&request.image)?;
        // Checked, then compiled unless cached, once the rest is known good
        // and before anything of the container exists; the program depends
        // on the capabilities.
        let filter = seccomp::prepare(&paths.lib, &request.security_opt, &capabilities)?;

        let mut process = Process::default();
        let mut oci_user = oci_spec::runtime::User::default();
        let privileges = Privileges::for_user(&capabilities, user);
        oci_user.set_uid(user.uid);
        oci_user.set_gid(user.gid);
        oci_user.set_additional_gids(Some(privileges.additional_gids.clone()));
        process
            .set_terminal(Some(request.tty))
            .set_console_size(None)
            .set_user(oci_user)
            .set_args(Some(command))
            .set_env(Some(env))
            .set_cwd(workdir)
            .set_capabilities(Some(oci::linux_capabilities(&privileges)?))
            .set_rlimits(None)
            .set_no_new_privileges(Some(true));

        let mut root = Root::default();
        root.set_path(paths.container(&id).join("rootfs"))
            .set_readonly(Some(request.read_only));

        let mut namespaces = vec![
            LinuxNamespaceType::Mount,
            LinuxNamespaceType::Uts,
            LinuxNamespaceType::Ipc,
            LinuxNamespaceType::Pid,
            LinuxNamespaceType::Cgroup,
        ];
        if network == Network::None {
            namespaces.push(LinuxNamespaceType::Network);
        }
        let namespaces = namespaces
            .into_iter()
            .map(|kind| {
                let mut namespace = LinuxNamespace::default();
                namespace.set_typ(kind);
                namespace
            })
            .collect();
        let mut linux = Linux::default();
        linux
            .set_namespaces(Some(namespaces))
            .set_resources(Some(oci::resources(&limits)))
            .set_cgroups_path(Some(oci::cgroups_path(&request.cgroup_parent, &id)))
            .set_masked_paths(Some(MASKED_PATHS.map(String::from).to_vec()))
            .set_readonly_paths(Some(READONLY_PATHS.map(String::from).to_vec()))
            .set_seccomp(filter.resolved)
            .set_devices(None)
            .set_uid_mappings(None)
            .set_gid_mappings(None);

        let mut oci = Spec::default();
        oci.set_version(OCI_VERSION.to_string())
            .set_process(Some(process))
            .set_hostname(Some(hostname))
            .set_root(Some(root))
            .set_mounts(Some(container_mounts(&image.host_binds, &volumes)))
            .set_linux(Some(linux));

        Ok(ContainerSpec {
            oci,
            record: ContainerRecord {
                id,
                name,
                image: image.name,
                lower: image.rootfs,
                interactive: request.interactive,
                auto_remove: request.auto_remove,
                seccomp: filter.seccomp,
            },
        })
    }
}

/// The version of the runtime spec hako writes.
const OCI_VERSION: &str = "1.0.2";

fn mount(destination: &str, typ: &str, source: &Path, options: &[&str]) -> Mount {
    let mut mount = Mount::default();
    mount
        .set_destination(PathBuf::from(destination))
        .set_typ(Some(typ.to_string()))
        .set_source(Some(source.to_path_buf()))
        .set_options(Some(options.iter().map(|o| o.to_string()).collect()));
    mount
}

/// Every container's mounts, in the order they are made: the `host`
/// image's directories and the volumes first, then the kernel's
/// filesystems over them, as runc makes /proc, /dev and /sys.
///
/// Every bind is `nodev,nosuid` and not recursive: mounts below the host
/// directory are not carried in, so `ro` and `nodev` cover all of it.
fn container_mounts(host_binds: &[PathBuf], volumes: &[Volume]) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for dir in host_binds {
        let destination = dir.to_string_lossy();
        mounts.push(mount(
            &destination,
            "bind",
            dir,
            &["bind", "nodev", "nosuid", "ro"],
        ));
    }
    for volume in volumes {
        let access = if volume.read_only { "ro" } else { "rw" };
        let destination = volume.container.to_string_lossy();
        mounts.push(mount(
            &destination,
            "bind",
            &volume.host,
            &["bind", "nodev", "nosuid", access],
        ));
    }
    let none = Path::new;
    mounts.push(mount(
        "/proc",
        "proc",
        none("proc"),
        &["nosuid", "noexec", "nodev"],
    ));
    // /dev is nodev: a node the container makes there (it keeps CAP_MKNOD)
    // cannot be opened. The real nodes are binds of the host's, each its own
    // mount and so not affected by nodev.
    mounts.push(mount(
        "/dev",
        "tmpfs",
        none("tmpfs"),
        &["nosuid", "strictatime", "nodev", "mode=755", "size=65536k"],
    ));
    for name in DEVICES {
        let node = format!("/dev/{name}");
        mounts.push(mount(&node, "bind", Path::new(&node), &["bind"]));
    }
    mounts.push(mount(
        "/dev/pts",
        "devpts",
        none("devpts"),
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    ));
    mounts.push(mount(
        "/dev/shm",
        "tmpfs",
        none("shm"),
        &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    ));
    mounts.push(mount(
        "/dev/mqueue",
        "mqueue",
        none("mqueue"),
        &["nosuid", "noexec", "nodev"],
    ));
    mounts.push(mount(
        "/sys",
        "sysfs",
        none("sysfs"),
        &["nosuid", "noexec", "nodev", "ro"],
    ));
    mounts
}

/// The first 12 hex digits of a UUID: the default name and hostname.
pub fn short_id(id: &str) -> String {
    id.chars().filter(|c| *c != '-').take(12).collect()
}

fn check_name(name: &str) -> Result<String, SpecError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(SpecError::BadName(name.into()))
    }
}

fn check_hostname(name: &str) -> Result<String, SpecError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(SpecError::BadHostname(name.into()))
    }
}

/// `HOSTDIR:CTRDIR[:ro|:rw]`, both absolute; the container path may not use `..`.
fn parse_volume(text: &str) -> Result<Volume, SpecError> {
    let bad = || SpecError::BadVolume(text.to_string());
    let parts: Vec<&str> = text.split(':').collect();
    let (host, container, read_only) = match parts.as_slice() {
        [h, c] => (*h, *c, false),
        [h, c, "ro"] => (*h, *c, true),
        [h, c, "rw"] => (*h, *c, false),
        _ => return Err(bad()),
    };
    let container = PathBuf::from(container);
    if !host.starts_with('/')
        || !container.is_absolute()
        || container.components().any(|c| c == Component::ParentDir)
        || container == Path::new("/")
    {
        return Err(bad());
    }
    let host = PathBuf::from(host);
    if !host.exists() {
        return Err(SpecError::MissingVolumeSource(host));
    }
    Ok(Volume {
        host,
        container,
        read_only,
    })
}

pub(crate) fn parse_user(text: &str) -> Result<User, SpecError> {
    let bad = || SpecError::BadUser(text.to_string());
    if text == "root" {
        return Ok(User { uid: 0, gid: 0 });
    }
    let (uid, gid) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    let uid: u32 = uid.parse().map_err(|_| bad())?;
    let gid: u32 = match gid {
        Some(g) => g.parse().map_err(|_| bad())?,
        None => uid,
    };
    Ok(User { uid, gid })
}

/// The command's environment: docker's defaults, then the user's `-e`.
/// `-e KEY` alone takes KEY from hako's own environment, as docker does.
fn build_env(
    user_env: &[String],
    hostname: &str,
    tty: bool,
    user: User,
) -> Result<Vec<String>, SpecError> {
    let home = if user.uid == 0 { "/root" } else { "/" };
    let mut env = vec![
        DEFAULT_PATH.to_string(),
        format!("HOSTNAME={hostname}"),
        format!("HOME={home}"),
    ];
    if tty {
        env.push("TERM=xterm".to_string());
    }
    for entry in user_env {
        let entry = match entry.split_once('=') {
            Some(("", _)) => return Err(SpecError::BadEnv(entry.clone())),
            Some(_) => entry.clone(),
            None if entry.is_empty() => return Err(SpecError::BadEnv(entry.clone())),
            None => match std::env::var(entry) {
                Ok(value) => format!("{entry}={value}"),
                Err(_) => continue,
            },
        };
        let key = entry.split('=').next().unwrap_or_default().to_string();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(entry);
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sched::CloneFlags;

    /// A request on the built-in `host` image, unconfined so that no
    /// seccomp program is compiled, in a store under a temporary root.
    fn request() -> RunRequest {
        RunRequest {
            image: "host".into(),
            cgroup_parent: "hako".into(),
            security_opt: vec!["seccomp=unconfined".into()],
            ..RunRequest::default()
        }
    }

    fn convert(request: &RunRequest) -> (tempfile::TempDir, Result<ContainerSpec, SpecError>) {
        let root = tempfile::tempdir().unwrap();
        let spec = ContainerSpec::from_request(&Paths::under(root.path()), request);
        (root, spec)
    }

    fn find_mount<'a>(spec: &'a ContainerSpec, destination: &str) -> &'a Mount {
        oci::mounts(&spec.oci)
            .iter()
            .find(|m| m.destination() == Path::new(destination))
            .unwrap_or_else(|| panic!("no mount on {destination}"))
    }

    fn options(mount: &Mount) -> Vec<&str> {
        mount
            .options()
            .iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn each_flag_lands_in_its_spec_field() {
        let volume = tempfile::tempdir().unwrap();
        let mut asked = request();
        asked.command = vec!["ls".into(), "-l".into()];
        asked.name = Some("web".into());
        asked.hostname = Some("box".into());
        asked.env = vec!["A=1".into()];
        asked.workdir = Some("/srv".into());
        asked.user = Some("1000:50".into());
        asked.volumes = vec![format!("{}:/data:ro", volume.path().display())];
        asked.cap_add = vec!["NET_ADMIN".into()];
        asked.cap_drop = vec!["CHOWN".into()];
        asked.read_only = true;
        asked.tty = true;
        asked.interactive = true;
        asked.auto_remove = true;
        asked.memory = Some("64m".into());
        asked.cpus = Some("0.5".into());
        asked.pids_limit = Some("32".into());
        let (store, spec) = convert(&asked);
        let spec = spec.unwrap();
        let config = &spec.oci;

        assert_eq!(oci::args(config), ["ls", "-l"]);
        assert!(oci::env(config).contains(&"A=1".to_string()));
        assert!(oci::env(config).contains(&"TERM=xterm".to_string()));
        assert_eq!(oci::cwd(config), Path::new("/srv"));
        assert!(oci::terminal(config));
        assert_eq!(config.hostname().as_deref(), Some("box"));
        let process = config.process().as_ref().unwrap();
        assert_eq!(process.no_new_privileges(), Some(true));
        assert_eq!(process.user().additional_gids().as_deref(), Some(&[50][..]));
        let privileges = oci::privileges(config).unwrap();
        assert_eq!((privileges.uid, privileges.gid), (1000, 50));
        assert!(privileges
            .bounding
            .contains(&caps::Capability::CAP_NET_ADMIN));
        assert!(!privileges.bounding.contains(&caps::Capability::CAP_CHOWN));
        // A non-root user keeps no capability in its own sets.
        assert!(privileges.effective.is_empty());
        let sets = process.capabilities().as_ref().unwrap();
        assert_eq!(sets.inheritable().as_ref().map(|s| s.len()), Some(0));
        assert_eq!(sets.ambient().as_ref().map(|s| s.len()), Some(0));

        let id = &spec.record.id;
        let (rootfs, read_only) = oci::root(config);
        assert_eq!(
            rootfs,
            Paths::under(store.path()).container(id).join("rootfs")
        );
        assert!(read_only);
        let data = find_mount(&spec, "/data");
        assert_eq!(data.source().as_deref(), Some(volume.path()));
        assert_eq!(options(data), ["bind", "nodev", "nosuid", "ro"]);
        assert_eq!(
            options(find_mount(&spec, "/usr")),
            ["bind", "nodev", "nosuid", "ro"]
        );
        assert_eq!(options(find_mount(&spec, "/sys")).last(), Some(&"ro"));
        assert_eq!(
            find_mount(&spec, "/dev/pts").typ().as_deref(),
            Some("devpts")
        );

        let limits = oci::limits(config);
        assert_eq!(limits.memory, Some(64 << 20));
        assert_eq!(limits.memory_and_swap(), Some(128 << 20));
        assert_eq!(limits.cpu.map(|c| c.quota_us), Some(50_000));
        assert_eq!(limits.pids, Some(32));
        assert_eq!(
            oci::cgroup_location(config),
            ("hako".to_string(), id.clone())
        );
        assert!(oci::masked_paths(config).contains(&"/proc/kcore".to_string()));
        assert!(oci::readonly_paths(config).contains(&"/proc/sys".to_string()));
        let flags = oci::clone_flags(config);
        assert!(flags.contains(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWPID));
        assert!(!flags.contains(CloneFlags::CLONE_NEWCGROUP));
        assert!(oci::has_namespace(config, LinuxNamespaceType::Cgroup));

        assert_eq!(spec.record.name, "web");
        assert_eq!(spec.record.image, "host");
        assert!(spec.record.interactive && spec.record.auto_remove);
    }

    #[test]
    fn host_network_has_no_network_namespace_and_root_keeps_its_sets() {
        let mut asked = request();
        asked.network = Some("host".into());
        let (_store, spec) = convert(&asked);
        let config = spec.unwrap().oci;
        assert!(!oci::has_namespace(&config, LinuxNamespaceType::Network));
        assert!(!oci::clone_flags(&config).contains(CloneFlags::CLONE_NEWNET));
        let privileges = oci::privileges(&config).unwrap();
        assert_eq!(privileges.bounding.len(), 14);
        assert_eq!(privileges.effective, privileges.bounding);
        assert!(!oci::root(&config).1);
    }

    #[test]
    fn limits_go_to_resources_and_back() {
        for (memory, swap, cpus, pids) in [
            (None, None, None, None),
            (Some("10m"), None, None, None),
            (Some("10m"), Some("-1"), None, None),
            (Some("10m"), Some("15m"), Some("1.5"), Some("7")),
        ] {
            let limits = Limits::parse(memory, swap, cpus, pids).unwrap();
            let mut linux = Linux::default();
            linux.set_resources(Some(oci::resources(&limits)));
            let mut spec = Spec::default();
            spec.set_linux(Some(linux));
            assert_eq!(
                oci::limits(&spec),
                limits,
                "{memory:?} {swap:?} {cpus:?} {pids:?}"
            );
        }
    }

    #[test]
    fn a_bad_value_fails_with_its_message_and_creates_nothing() {
        type Spoil = fn(&mut RunRequest);
        let cases: [(Spoil, &str); 4] = [
            (|r| r.memory = Some("10zz".into()), "invalid size \"10zz\""),
            (|r| r.user = Some("bob".into()), "invalid --user \"bob\""),
            (
                |r| r.network = Some("bridge".into()),
                "invalid --network \"bridge\"",
            ),
            (
                |r| r.volumes = vec!["/does/not/exist:/d".into()],
                "--volume source /does/not/exist",
            ),
        ];
        for (spoil, message) in cases {
            let mut asked = request();
            spoil(&mut asked);
            let (store, spec) = convert(&asked);
            let error = spec.unwrap_err().to_string();
            assert!(error.starts_with(message), "{error}");
            assert!(!Paths::under(store.path()).containers().exists());
        }
    }

    #[test]
    fn volumes_need_absolute_paths() {
        let v = parse_volume("/tmp:/data:ro").unwrap();
        assert_eq!(v.container, PathBuf::from("/data"));
        assert!(v.read_only);
        for bad in [
            "tmp:/data",
            "/tmp:data",
            "/tmp:/a/../b",
            "/tmp",
            "/tmp:/d:xx",
            "/tmp:/",
        ] {
            assert!(parse_volume(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_volume("/does/not/exist:/d"),
            Err(SpecError::MissingVolumeSource(_))
        ));
    }

    #[test]
    fn users_are_numeric() {
        assert_eq!(
            parse_user("1000").unwrap(),
            User {
                uid: 1000,
                gid: 1000
            }
        );
        assert_eq!(parse_user("1000:50").unwrap(), User { uid: 1000, gid: 50 });
        assert_eq!(parse_user("root").unwrap(), User { uid: 0, gid: 0 });
        for bad in ["", "bob", "1000:", ":5", "1:2:3", "-1"] {
            assert!(parse_user(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_overrides_defaults() {
        let env = build_env(
            &["PATH=/x".into(), "A=1".into()],
            "h",
            true,
            User { uid: 0, gid: 0 },
        )
        .unwrap();
        assert!(env.contains(&"PATH=/x".to_string()));
        assert!(!env.iter().any(|e| e.starts_with("PATH=/usr")));
        assert!(env.contains(&"TERM=xterm".to_string()));
        assert!(env.contains(&"HOSTNAME=h".to_string()));
        assert!(build_env(&["=x".into()], "h", false, User { uid: 0, gid: 0 }).is_err());
    }

    #[test]
    fn short_id_is_twelve_hex_digits() {
        assert_eq!(
            short_id("0123abcd-ef01-4234-8567-89abcdef0123"),
            "0123abcdef01"
        );
    }

    #[test]
    fn names_and_hostnames_are_checked() {
        assert!(check_name("web-1.a_b").is_ok());
        assert!(check_name("-x").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_hostname("box.local").is_ok());
        assert!(check_hostname("a b").is_err());
    }
}

//! What a container is made of, checked before anything is created.
//!
//! `RunRequest` is what a user asks for (the CLI's or the dashboard's words);
//! `ContainerSpec::from_request` validates all of it, so that bad input fails
//! with one clear line before any directory, cgroup or process exists.

use crate::runtime::capabilities::{self, CapabilityError};
use crate::runtime::image::{Image, ImageError, ImageStore};
use crate::runtime::limits::{LimitError, Limits};
use crate::runtime::paths::Paths;
use crate::runtime::seccomp::{self, Seccomp, SeccompError};
use caps::CapsHashSet;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

/// A validated container, ready to be created. It crosses to the monitor
/// process as JSON (`run -d`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub id: String,
    pub name: String,
    pub hostname: String,
    pub image: Image,
    pub command: Vec<String>,
    /// The full environment of the command, `KEY=VALUE`.
    pub env: Vec<String>,
    pub workdir: PathBuf,
    pub user: User,
    pub volumes: Vec<Volume>,
    pub network: Network,
    pub capabilities: CapsHashSet,
    /// The syscall filter: its profile and compiled program.
    pub seccomp: Seccomp,
    /// The /proc and /sys paths hidden or made read-only.
    pub kernel_paths: KernelPaths,
    pub read_only: bool,
    pub interactive: bool,
    pub tty: bool,
    pub auto_remove: bool,
    pub limits: Limits,
    pub cgroup_parent: String,
}

/// Kernel interfaces under /proc and /sys that a container must not use
/// (`masked`) or may only read (`read_only`), as paths relative to its root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelPaths {
    pub masked: Vec<PathBuf>,
    pub read_only: Vec<PathBuf>,
}

impl Default for KernelPaths {
    /// runc's lists plus Docker's two additions (../shared/REFERENCE.md).
    fn default() -> KernelPaths {
        let paths = |list: &[&str]| list.iter().map(PathBuf::from).collect();
        KernelPaths {
            masked: paths(&[
                "proc/acpi",
                "proc/asound",
                "proc/kcore",
                "proc/keys",
                "proc/latency_stats",
                "proc/timer_list",
                "proc/timer_stats",
                "proc/sched_debug",
                "proc/scsi",
                "proc/interrupts",
                "sys/firmware",
                "sys/devices/virtual/powercap",
            ]),
            read_only: paths(&[
                "proc/bus",
                "proc/fs",
                "proc/irq",
                "proc/sys",
                "proc/sysrq-trigger",
            ]),
        }
    }
}

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
        let seccomp = seccomp::prepare(&paths.lib, &request.security_opt, &capabilities)?;

        Ok(ContainerSpec {
            id,
            name,
            hostname,
            image,
            command,
            env,
            workdir,
            user,
            volumes,
            network,
            capabilities,
            seccomp,
            kernel_paths: KernelPaths::default(),
            read_only: request.read_only,
            interactive: request.interactive,
            tty: request.tty,
            auto_remove: request.auto_remove,
            limits,
            cgroup_parent: request.cgroup_parent.clone(),
        })
    }
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

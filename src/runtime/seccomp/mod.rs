//! seccomp: which syscalls a container's processes may make.
//!
//! A container gets hako's default profile (`assets/seccomp/default.json`,
//! Docker's rules), none (`--security-opt seccomp=unconfined`), or a profile
//! file in Docker's format (`--security-opt seccomp=PATH`).
//!
//! - `profile`: the format, read and checked, resolved for one container
//!   into OCI's `linux.seccomp` (which goes into its Spec);
//! - `compile`: libseccomp turns that resolved filter into a BPF program;
//! - `program`: the program, read back and installed with seccomp(2).
//!
//! Compiling Docker's profile costs more than the rest of a container's
//! start, so `prepare` compiles once per cache key (the digest of the
//! resolved filter, the architecture, the kernel, hako's and libseccomp's
//! versions) and keeps the program in `ROOT/cache/seccomp/`. A start then
//! reads and resolves the profile, reads a few kilobytes and makes one
//! syscall.

pub mod compile;
pub mod profile;
pub mod program;

pub use program::{BpfProgram, ProgramError};

use caps::CapsHashSet;
use oci_spec::runtime::LinuxSeccomp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// hako's default profile, built into the binary.
pub const DEFAULT_PROFILE: &str = include_str!("../../../assets/seccomp/default.json");

/// Bumped whenever the compiled form changes for the same inputs.
const CACHE_FORMAT: &str = "3";

/// The file in a container's directory that holds its compiled program, for
/// `exec` to install the same filter.
pub const CONTAINER_PROGRAM: &str = "seccomp.bpf";

#[derive(Debug, Error)]
pub enum SeccompError {
    #[error("seccomp profile {profile}: {problem}")]
    Invalid { profile: String, problem: String },
    #[error("failed to read the seccomp profile {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("failed to compile the seccomp profile {profile}: {problem}")]
    Compile { profile: String, problem: String },
    #[error(
        "failed to write the seccomp cache {path}: {error}; check that the store root is writable"
    )]
    Cache {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid --security-opt {0:?}: use seccomp=unconfined or seccomp=PATH")]
    BadOption(String),
    #[error("--security-opt {0:?} is not supported: hako knows only seccomp=unconfined and seccomp=PATH")]
    UnsupportedOption(String),
}

/// Which profile a container has, as `inspect` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompProfile {
    /// hako's built-in profile.
    Default,
    /// No filter at all.
    Unconfined,
    /// A profile file, with the SHA-256 of its contents when the container
    /// was created.
    File { path: PathBuf, digest: String },
}

/// What a container carries: its profile, and the compiled program in the
/// cache (none when unconfined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seccomp {
    pub profile: SeccompProfile,
    pub program: Option<PathBuf>,
}

/// Reads `--security-opt` values: only `seccomp=...` is known. The last
/// `seccomp=` wins, as in Docker.
pub fn parse_security_opts(opts: &[String]) -> Result<Option<String>, SeccompError> {
    let mut choice = None;
    for opt in opts {
        match opt.split_once('=') {
            Some(("seccomp", "")) => return Err(SeccompError::BadOption(opt.clone())),
            Some(("seccomp", value)) => choice = Some(value.to_string()),
            Some((key, _)) => return Err(SeccompError::UnsupportedOption(key.to_string())),
            None => return Err(SeccompError::BadOption(opt.clone())),
        }
    }
    Ok(choice)
}

/// A container's filter, ready: its profile and compiled program (the
/// record's), and the profile resolved for it (the Spec's `linux.seccomp`).
/// Both are none when unconfined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub seccomp: Seccomp,
    pub resolved: Option<LinuxSeccomp>,
}

/// Checks the profile chosen by `security_opts`, resolves it for a
/// container keeping `capabilities` on this architecture and kernel, and
/// makes sure its program is in the cache under `store` (the store root),
/// compiling it if not. Nothing but the cache entry is written, and only
/// once the program is whole.
pub fn prepare(
    store: &Path,
    security_opts: &[String],
    capabilities: &CapsHashSet,
) -> Result<Prepared, SeccompError> {
    let (profile, source, text) = match parse_security_opts(security_opts)?.as_deref() {
        Some("unconfined") => {
            return Ok(Prepared {
                seccomp: Seccomp {
                    profile: SeccompProfile::Unconfined,
                    program: None,
                },
                resolved: None,
            })
        }
        None | Some("default") | Some("builtin") => (
            SeccompProfile::Default,
            "default (built in)".to_string(),
            DEFAULT_PROFILE.to_string(),
        ),
        Some(path) => {
            let path = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
            let text = fs::read_to_string(&path).map_err(|error| SeccompError::Read {
                path: path.clone(),
                error,
            })?;
            let digest = format!("sha256:{}", hex(&Sha256::digest(text.as_bytes())));
            let source = path.display().to_string();
            (SeccompProfile::File { path, digest }, source, text)
        }
    };
    let cap_names = crate::runtime::capabilities::names(capabilities);
    let (native, go_arch) = profile::native_arch();
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    let target = profile::Target {
        capabilities: &cap_names,
        arch: go_arch,
        kernel: profile::parse_kernel_version(release).unwrap_or((0, 0)),
    };
    let resolved = profile::Profile::parse(&text, &source)?.resolve(&target, &source)?;

    let library = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_default();
    let mut key = Sha256::new();
    for part in [
        "hako seccomp cache",
        CACHE_FORMAT,
        env!("CARGO_PKG_VERSION"),
        &library,
        native,
        release,
    ] {
        key.update(part.as_bytes());
        key.update([0]);
    }
    // The resolved filter holds what the capabilities and the profile's
    // text change: two containers whose filters resolve alike share a program.
    let resolved_json = serde_json::to_vec(&resolved).map_err(|e| SeccompError::Invalid {
        profile: source.clone(),
        problem: e.to_string(),
    })?;
    key.update(&resolved_json);
    let dir = cache_dir(store);
    let program = dir.join(format!("{}.bpf", hex(&key.finalize())));

    if !program.exists() {
        write_program(&dir, &program, |file| {
            compile::compile(&resolved, &source, file)
        })?;
    }
    Ok(Prepared {
        seccomp: Seccomp {
            profile,
            program: Some(program),
        },
        resolved: Some(resolved),
    })
}

/// Writes the program the container's first process gets into its
/// directory, so that `exec` installs the same filter even after the cache is
/// cleared or hako is upgraded. The bytes are the ones already read, not the
/// cache file read again.
pub fn keep_for_exec(program: &BpfProgram, container_dir: &Path) -> Result<(), ProgramError> {
    let kept = container_dir.join(CONTAINER_PROGRAM);
    fs::write(&kept, program.to_bytes())
        .map_err(|source| ProgramError::Write { path: kept, source })
}

/// The program `exec` installs in a container with `profile`: none for an
/// unconfined container (or one made before hako had seccomp).
pub fn program_for_exec(
    profile: Option<&SeccompProfile>,
    container_dir: &Path,
) -> Result<Option<BpfProgram>, ProgramError> {
    match profile {
        None | Some(SeccompProfile::Unconfined) => Ok(None),
        Some(_) => BpfProgram::read(&container_dir.join(CONTAINER_PROGRAM)).map(Some),
    }
}

/// Where compiled programs are kept.
pub fn cache_dir(store: &Path) -> PathBuf {
    store.join("cache").join("seccomp")
}

/// Compiles into a temporary file beside `program`, then renames it into
/// place, so a program in the cache is always whole, even when two hakos
/// compile the same one at once.
fn write_program(
    dir: &Path,
    program: &Path,
    compile: impl FnOnce(&fs::File) -> Result<(), SeccompError>,
) -> Result<(), SeccompError> {
    let cache_err = |path: &Path| {
        let path = path.to_path_buf();
        move |error| SeccompError::Cache { path, error }
    };
    // Root's alone: a program here is loaded into every container.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(cache_err(dir))?;
    let temporary = dir.join(format!(".{}.{}", std::process::id(), unique()));
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(cache_err(&temporary))?;
    let written = compile(&file)
        .and_then(|()| file.sync_all().map_err(cache_err(&temporary)))
        .and_then(|()| fs::rename(&temporary, program).map_err(cache_err(program)));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_opts() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_security_opts(&[]).unwrap(), None);
        assert_eq!(
            parse_security_opts(&s(&["seccomp=/a", "seccomp=unconfined"])).unwrap(),
            Some("unconfined".into())
        );
        for bad in [
            "seccomp",
            "seccomp=",
            "apparmor=unconfined",
            "no-new-privileges",
        ] {
            let error = parse_security_opts(&s(&[bad])).unwrap_err().to_string();
            assert!(error.contains("--security-opt"), "{error}");
        }
    }

    #[test]
    fn the_default_profile_compiles_once_into_the_cache() {
        let store = tempfile::tempdir().unwrap();
        let caps = crate::runtime::capabilities::compute(&[], &[]).unwrap();
        let first = prepare(store.path(), &[], &caps).unwrap().seccomp;
        assert_eq!(first.profile, SeccompProfile::Default);
        let path = first.program.clone().unwrap();
        let program = BpfProgram::read(&path).unwrap();
        assert!(program.len() > 100, "{} instructions", program.len());
        let written = fs::metadata(&path).unwrap().modified().unwrap();
        let again = prepare(store.path(), &[], &caps).unwrap().seccomp;
        assert_eq!(again, first);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), written);
        // Another capability set is another program.
        let admin = crate::runtime::capabilities::compute(&["SYS_ADMIN".into()], &[]).unwrap();
        let other = prepare(store.path(), &[], &admin).unwrap().seccomp;
        assert_ne!(other.program, first.program);
        assert_eq!(fs::read_dir(cache_dir(store.path())).unwrap().count(), 2);
        // A capability no rule asks for resolves to the same filter, and so
        // to the same program.
        let no_chown = crate::runtime::capabilities::compute(&[], &["CHOWN".into()]).unwrap();
        let same = prepare(store.path(), &[], &no_chown).unwrap();
        assert_eq!(same.seccomp.program, first.program);
        assert_eq!(
            same.resolved,
            prepare(store.path(), &[], &caps).unwrap().resolved
        );
    }

    #[test]
    fn a_bad_profile_leaves_nothing_in_the_cache() {
        let store = tempfile::tempdir().unwrap();
        let file = store.path().join("bad.json");
        fs::write(&file, r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#).unwrap();
        let caps = CapsHashSet::default();
        let opt = format!("seccomp={}", file.display());
        let error = prepare(store.path(), &[opt], &caps)
            .unwrap_err()
            .to_string();
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(!cache_dir(store.path()).exists());
        let missing = format!("seccomp={}", store.path().join("none.json").display());
        let error = prepare(store.path(), &[missing], &caps)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("failed to read the seccomp profile"),
            "{error}"
        );
    }
}

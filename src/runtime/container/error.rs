//! The container API's one error: each variant names what failed, on which
//! path or value, and keeps its cause; `exit_code` gives the code users see.

use super::oci::ConfigError;
use super::spec::SpecError;
use crate::runtime::cgroup::CgroupError;
use crate::runtime::exit_code;
use crate::runtime::process::clone::CloneError;
use crate::runtime::process::parent::ParentError;
use crate::runtime::process::setup_channel::ChannelError;
use crate::runtime::process::setup_error::SetupError;
use crate::runtime::seccomp::ProgramError;
use crate::runtime::state::StateError;
use nix::sys::signal::Signal;
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Why creating, running, changing or removing a container failed.
#[derive(Debug, Error)]
pub enum ContainerError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    SeccompProgram(#[from] ProgramError),
    #[error(transparent)]
    Clone(#[from] CloneError),
    #[error(transparent)]
    Parent(#[from] ParentError),
    /// The process being set up failed (its code: set-up, or the command's
    /// 126/127), or its report did not come whole.
    #[error(transparent)]
    Setup(#[from] ChannelError),
    #[error("the container's spec asks for no new mount namespace; hako mounts only in one of the container's own")]
    NoMountNamespace,
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    #[error("container {0} is running: stop it first or use `hako rm -f`")]
    Running(String),
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("container {0} did not stop after SIGKILL")]
    DidNotStop(String),
    #[error("failed to send {signal} to {container}: {source}")]
    Signal {
        signal: Signal,
        container: String,
        source: nix::Error,
    },
    #[error("lost track of the command in container {container}: {source}")]
    LostCommand {
        container: String,
        source: io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("container {container}: {source}")]
    BadConfig {
        container: String,
        source: ConfigError,
    },
    #[error("{0:?} contains a NUL byte")]
    NulByte(String),
    #[error("failed to {action} {}: {source}", path.display())]
    Path {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("failed to make {} private: {source}", path.display())]
    MakePrivate { path: PathBuf, source: io::Error },
    #[error("failed to open {}: {source}", path.display())]
    Open { path: PathBuf, source: nix::Error },
    /// A step on no path (a pipe, a fork, signal handling) failed in the kernel.
    #[error("failed to {what}: {source}")]
    Syscall {
        what: &'static str,
        source: nix::Error,
    },
    /// As `Syscall`, for a step that reports through std.
    #[error("failed to {what}: {source}")]
    Io {
        what: &'static str,
        source: io::Error,
    },
    #[error("failed to open a terminal: {0}")]
    OpenTerminal(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("failed to find the name of the new terminal")]
    NoTerminalName,
}

impl ContainerError {
    /// The code hako exits with: the command's 126 or 127 when it could not be
    /// executed, 1 when the container is not in the state asked for (as
    /// hako always answered), 125 for every failure of hako's own.
    pub fn exit_code(&self) -> i32 {
        match self {
            ContainerError::Setup(error) => error.exit_code(),
            ContainerError::NoSuchContainer(_)
            | ContainerError::Running(_)
            | ContainerError::NotRunning(_) => 1,
            _ => exit_code::HAKO_ERROR,
        }
    }

    pub(crate) fn syscall(what: &'static str) -> impl FnOnce(nix::Error) -> ContainerError {
        move |source| ContainerError::Syscall { what, source }
    }

    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> ContainerError {
        move |source| ContainerError::Io { what, source }
    }

    pub(crate) fn path(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> ContainerError {
        let path = path.into();
        move |source| ContainerError::Path {
            action,
            path,
            source,
        }
    }
}

/// The failure as the monitor reports it over the set-up channel: its code
/// and its one line.
impl From<&ContainerError> for SetupError {
    fn from(error: &ContainerError) -> SetupError {
        match error {
            ContainerError::Setup(ChannelError::Failed(setup)) => setup.clone(),
            other => SetupError::with_code(other.exit_code(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAKO: i32 = exit_code::HAKO_ERROR;

    fn io_error() -> io::Error {
        io::Error::from_raw_os_error(libc::EACCES)
    }

    #[test]
    fn each_variant_has_the_code_users_get() {
        let setup = |code| {
            ContainerError::from(ChannelError::from(SetupError::with_code(code, "x".into())))
        };
        let cases: Vec<(ContainerError, i32)> = vec![
            (SpecError::EmptyCommand.into(), HAKO),
            (StateError::NotFound("web".into()).into(), HAKO),
            (
                CgroupError::NotFound {
                    path: "/sys/fs/cgroup/x".into(),
                }
                .into(),
                HAKO,
            ),
            (
                ProgramError::Damaged {
                    path: "/p".into(),
                    problem: "3 bytes".into(),
                }
                .into(),
                HAKO,
            ),
            (CloneError::Clone(nix::Error::EPERM).into(), HAKO),
            (ParentError::Gone.into(), HAKO),
            (setup(exit_code::HAKO_ERROR), HAKO),
            (setup(exit_code::CANNOT_EXECUTE), exit_code::CANNOT_EXECUTE),
            (setup(exit_code::NOT_FOUND), exit_code::NOT_FOUND),
            (
                ChannelError::Closed {
                    from: "the monitor",
                }
                .into(),
                HAKO,
            ),
            (ContainerError::NoSuchContainer("web".into()), 1),
            (ContainerError::Running("web".into()), 1),
            (ContainerError::NotRunning("web".into()), 1),
            (ContainerError::DidNotStop("web".into()), HAKO),
            (
                ContainerError::Signal {
                    signal: Signal::SIGTERM,
                    container: "web".into(),
                    source: nix::Error::ESRCH,
                },
                HAKO,
            ),
            (
                ContainerError::LostCommand {
                    container: "web".into(),
                    source: io_error(),
                },
                HAKO,
            ),
            (
                ContainerError::BadConfig {
                    container: "web".into(),
                    source: ConfigError::UnknownCapability("CAP_X".into()),
                },
                HAKO,
            ),
            (ContainerError::NulByte("a\0b".into()), HAKO),
            (ContainerError::path("create", "/x")(io_error()), HAKO),
            (
                ContainerError::MakePrivate {
                    path: "/x".into(),
                    source: io_error(),
                },
                HAKO,
            ),
            (
                ContainerError::Open {
                    path: "/dev/pts/9".into(),
                    source: nix::Error::ENOENT,
                },
                HAKO,
            ),
            (
                ContainerError::syscall("create a pipe")(nix::Error::EMFILE),
                HAKO,
            ),
            (ContainerError::io("block signals")(io_error()), HAKO),
            (ContainerError::OpenTerminal("no ptys".into()), HAKO),
            (ContainerError::NoTerminalName, HAKO),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code(), code, "{error}");
        }
    }

    #[test]
    fn messages_name_the_value_and_keep_the_cause() {
        let error = ContainerError::path("create", "/var/lib/hako/c1/rootfs")(io_error());
        assert_eq!(
            error.to_string(),
            "failed to create /var/lib/hako/c1/rootfs: Permission denied (os error 13)"
        );
        assert!(std::error::Error::source(&error).is_some());
        let error = ContainerError::Running("web".into());
        assert_eq!(
            error.to_string(),
            "container web is running: stop it first or use `hako rm -f`"
        );
        let wrapped = ContainerError::from(StateError::NotFound("web".into()));
        assert_eq!(wrapped.to_string(), "no such container: web");
    }

    #[test]
    fn the_monitor_reports_the_code_and_the_line_it_got() {
        let not_found = SetupError::with_code(exit_code::NOT_FOUND, "exec: \"x\"".into());
        let error = ContainerError::from(ChannelError::from(not_found.clone()));
        assert_eq!(SetupError::from(&error), not_found);
        let running = SetupError::from(&ContainerError::Running("web".into()));
        assert_eq!(
            (running.exit_code, running.message.as_str()),
            (
                1,
                "container web is running: stop it first or use `hako rm -f`"
            )
        );
    }
}

//! Creating, running and removing containers.
//!
//! - `spec`: what a container is made of, validated before anything exists.
//! - `oci`: the OCI runtime Spec as hako writes and reads it; `config.json`.
//! - `lifecycle`: the parent's side: create (cgroup, dirs, clone), finish, remove.
//! - `init`: the container's first process, its set-up as an ordered list of steps.
//! - `monitor`: the per-container process that keeps a detached container.
//! - `mounts`: root filesystem, special filesystems, masked paths, pivot_root.
//! - `network`: bringing up `lo` in a new network namespace.
//! - `attach_session`: the calling terminal attached to a detached container.
//! - `control`: usage, live limits and signals for a running container.
//! - `exec`: a new process inside a running container (`hako exec`).
//! - `foreground`: waiting for a container while relaying its terminal and signals.
//! - `stdio`: stdin, stdout and stderr as pipes that hako relays (without a terminal).
//! - `fds`: no descriptor of hako's reaches the command; its cwd is inside the container.

pub mod attach_session;
pub mod control;
pub mod exec;
pub mod fds;
pub mod foreground;
pub mod init;
pub mod lifecycle;
pub mod monitor;
pub mod mounts;
pub mod network;
pub mod oci;
pub mod resolve;
pub mod spec;
pub mod stdio;

pub use lifecycle::{
    create_and_start, finish, gc, remove, ContainerIo, ExitOutcome, GcReport, RunError,
    RunningContainer,
};
pub use spec::{ContainerSpec, RunRequest, SpecError};

/// A failure while setting up the container, inside its first process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// The exit code hako reports: 125 for set-up, 126/127 for the command.
    pub exit_code: i32,
    pub message: String,
}

impl SetupError {
    pub fn new(message: String) -> SetupError {
        SetupError {
            exit_code: crate::runtime::exit_code::HAKO_ERROR,
            message,
        }
    }

    pub fn with_code(exit_code: i32, message: String) -> SetupError {
        SetupError { exit_code, message }
    }

    pub fn from_display(error: impl std::fmt::Display) -> SetupError {
        SetupError::new(error.to_string())
    }
}

//! Creating, running and removing containers.
//!
//! - `spec`: what a container is made of, validated before anything exists.
//! - `lifecycle`: the parent's side: create (cgroup, dirs, clone), finish, remove.
//! - `init`: the container's first process, its set-up as an ordered list of steps.
//! - `mounts`: root filesystem, special filesystems, masked paths, pivot_root.
//! - `network`: bringing up `lo` in a new network namespace.
//! - `control`: usage, live limits and signals for a running container.
//! - `foreground`: waiting for a container while relaying its terminal and signals.

pub mod control;
pub mod foreground;
pub mod init;
pub mod lifecycle;
pub mod mounts;
pub mod network;
pub mod spec;

pub use lifecycle::{create_and_start, finish, remove, ExitOutcome, RunError, RunningContainer};
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
            exit_code: 125,
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

//! Creating, running and removing containers.
//!
//! - `spec`: what a container is made of, validated before anything exists.
//! - `oci`: the OCI runtime Spec as hako writes and reads it; `config.json`.
//! - `lifecycle`: the parent's side: create (cgroup, dirs, clone), finish, remove.
//! - `init`: the container's first process, its set-up as an ordered list of steps.
//! - `monitor`: the per-container process that keeps a detached container.
//! - `logs`: a detached container's output log, written by its monitor, read by `hako logs`.
//! - `mounts`: root filesystem, special filesystems, masked paths, pivot_root.
//! - `network`: bringing up `lo` in a new network namespace.
//! - `attach_session`: the calling terminal attached to a detached container.
//! - `control`: usage, live limits and signals for a running container.
//! - `error`: `ContainerError`, what the functions here return, with its exit code.
//! - `exec`: a new process inside a running container (`hako exec`).
//! - `foreground`: waiting for a container in the foreground, relaying its terminal.
//! - `signals`: the signals hako takes over while it waits (forwarded, reaped, resized).
//! - `caller_terminal`: the terminal hako was started from: its size, raw mode.
//! - `inspect`: what `hako inspect` shows (the state and the Spec).
//! - `resolve`: paths inside the container's root, opened by fd (openat2).
//! - `stdio`: stdin, stdout and stderr as pipes that hako relays (without a terminal).
//! - `fds`: no descriptor of hako's reaches the command; its cwd is inside the container.

pub mod attach_session;
pub mod caller_terminal;
pub mod control;
pub mod error;
pub mod exec;
pub mod fds;
pub mod foreground;
pub mod init;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod monitor;
pub mod mounts;
pub mod network;
pub mod oci;
pub mod resolve;
pub mod signals;
pub mod spec;
pub mod stdio;

pub use crate::runtime::process::setup_error::SetupError;
pub use error::ContainerError;
pub use lifecycle::{
    create_and_start, finish, gc, remove, ContainerIo, ExitOutcome, GcReport, RunningContainer,
};
pub use spec::{ContainerSpec, RunRequest, SpecError};

//! The runtime core: everything that touches the kernel lives here.
//!
//! - `attach`: the protocol between a container's monitor and attach clients.
//! - `paths`: where images, containers and runtime state live (`--root`).
//! - `limits`: memory / CPU / pids limits and their docker-style parsing.
//! - `image`: the image store (import, safe extraction, the built-in `host` image).
//! - `cgroup`: cgroup layout detection and one manager per cgroup version.
//! - `capabilities`: the capability set a container keeps.
//! - `seccomp`: the syscall filter: profiles, their compiled cache, installing one.
//! - `process`: process plumbing: the sealed binary, cloning on a guarded
//!   stack, parent death, the session keyring.
//! - `container`: creating and running a container, step by step.
//! - `demo`: the demo's three containers, each tripping one limit.
//! - `state`: the on-disk record of each container.
//! - `text`: text from images and containers, escaped for the terminal.

// The one place for unsafe code (Cargo.toml denies it elsewhere): system
// calls that have no safe wrapper. Each block says why it holds (`// SAFETY:`).
#![allow(unsafe_code)]

pub mod attach;
pub mod capabilities;
pub mod cgroup;
pub mod container;
pub mod demo;
pub mod events;
pub mod exit_code;
pub mod image;
pub mod limits;
pub mod paths;
pub mod process;
pub mod seccomp;
pub mod state;
pub mod text;

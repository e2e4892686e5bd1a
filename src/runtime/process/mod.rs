//! Process plumbing that the container set-up relies on, each piece in a file
//! of its own:
//!
//! - `sealed_exe`: hako re-executes itself from a read-only detached overlay
//!   of its binary (else a sealed memfd copy) before it can run inside a
//!   container's namespaces (CVE-2019-5736).
//! - `clone`: the first process is cloned on an mmap'd stack with a guard
//!   page, and only from a single-threaded process.
//! - `parent`: the parent-death signal, set again after the uid switch, and a
//!   pipe that tells whether the expected parent is still there.
//! - `keyring`: a fresh session keyring for each container process.
//! - `setup_channel`: the one report of a process being set up to the hako
//!   waiting for it (nothing when the command was executed), and
//!   `setup_error`, the failure it carries.
//! - `stdio`: the controlling terminal, or the stdio pipes, of the command.
//! - `command`: the PATH search and execve, with docker's 126 and 127.
//! - `liveness`: whether a process is still alive.

pub mod clone;
pub mod command;
pub mod keyring;
pub mod liveness;
pub mod parent;
pub mod sealed_exe;
pub mod setup_channel;
pub mod setup_error;
pub mod stdio;

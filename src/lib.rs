//! hako: a container manager for Linux operators.
//!
//! `runtime` is the container runtime core (images, cgroups, namespaces, mounts,
//! capabilities, terminals, state). `cli` is the docker-like command line, a thin
//! face over the runtime; `tui` is the dashboard, the other face. The runtime
//! never imports a UI crate.

pub mod cli;
pub mod runtime;
pub mod tui;

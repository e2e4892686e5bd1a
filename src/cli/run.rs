//! `hako run`: create a container, run its command in the foreground, and exit
//! with the command's status.

use super::{fail, fail_with, EXIT_HAKO_ERROR};
use crate::runtime::container::stdio::StdioPipes;
use crate::runtime::container::{
    self, caller_terminal, foreground, monitor, oci, signals, ContainerIo, ContainerSpec,
    RunRequest,
};
use crate::runtime::limits::format_bytes;
use crate::runtime::paths::Paths;
use clap::Args;

/// The limit flags `run` and `update` share, in docker's spelling.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Memory limit, e.g. 10m, 512M, 1g.
    #[arg(short, long, value_name = "SIZE", allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap); default twice --memory.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// CPU quota in CPUs, e.g. 0.3 (30 ms every 100 ms).
    #[arg(long, value_name = "FLOAT", allow_hyphen_values = true)]
    pub cpus: Option<String>,
    /// Maximum number of processes (-1: unlimited).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
}

#[derive(Debug, Args)]
// `-h` is --hostname, as in docker; help stays on --help.
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Name of the container (default: the first 12 hex digits of its id).
    #[arg(long)]
    name: Option<String>,
    /// Keep stdin open and pass it to the container.
    #[arg(short, long)]
    interactive: bool,
    /// Give the container a terminal (PTY).
    #[arg(short, long)]
    tty: bool,
    /// Remove the container when it exits.
    #[arg(long)]
    rm: bool,
    /// Run in the background under a monitor and print the container id.
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    limits: LimitArgs,
    /// Hostname inside the container (default: the short id).
    #[arg(long, short = 'h')]
    hostname: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to copy hako's own).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long, value_name = "DIR")]
    workdir: Option<String>,
    /// User to run as: UID or UID:GID.
    #[arg(short, long, value_name = "UID[:GID]")]
    user: Option<String>,
    /// Bind a host directory: HOSTDIR:CTRDIR[:ro].
    #[arg(short, long = "volume", value_name = "HOSTDIR:CTRDIR[:ro]")]
    volume: Vec<String>,
    /// Network: none (only lo, the default) or host.
    #[arg(long, value_name = "none|host")]
    network: Option<String>,
    /// Add a capability (NAME, CAP_NAME or ALL).
    #[arg(long, value_name = "CAP")]
    cap_add: Vec<String>,
    /// Drop a capability (NAME, CAP_NAME or ALL).
    #[arg(long, value_name = "CAP")]
    cap_drop: Vec<String>,
    /// Security options: seccomp=unconfined (no syscall filter) or
    /// seccomp=PATH (a profile in Docker's JSON format).
    #[arg(long, value_name = "seccomp=unconfined|PATH")]
    security_opt: Vec<String>,
    /// Mount the container's root read-only.
    #[arg(long)]
    read_only: bool,
    /// Image to run (`host` is built in).
    image: String,
    /// Command and arguments (default: /bin/sh).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

impl RunArgs {
    pub(super) fn into_request(self, cgroup_parent: String) -> RunRequest {
        RunRequest {
            image: self.image,
            command: self.command,
            name: self.name,
            hostname: self.hostname,
            env: self.env,
            workdir: self.workdir,
            user: self.user,
            volumes: self.volume,
            network: self.network,
            cap_add: self.cap_add,
            cap_drop: self.cap_drop,
            read_only: self.read_only,
            interactive: self.interactive,
            tty: self.tty,
            auto_remove: self.rm,
            memory: self.limits.memory,
            memory_swap: self.limits.memory_swap,
            cpus: self.limits.cpus,
            pids_limit: self.limits.pids_limit,
            cgroup_parent,
            security_opt: self.security_opt,
        }
    }
}

pub fn run(paths: &Paths, args: RunArgs, cgroup_parent: String) -> i32 {
    let detach = args.detach;
    let request = args.into_request(cgroup_parent);
    let spec = match ContainerSpec::from_request(paths, &request) {
        Ok(spec) => spec,
        Err(e) => return fail(EXIT_HAKO_ERROR, e),
    };
    let withheld = crate::runtime::capabilities::withheld_from_all(&request.cap_add);
    if !withheld.is_empty() {
        eprintln!(
            "hako: --cap-add ALL: this host withholds {} from hako; the container gets every other capability",
            withheld.join(", ")
        );
    }
    if detach {
        return match monitor::run_detached(paths, &spec) {
            Ok(state) => {
                println!("{}", state.id);
                0
            }
            Err(e) => fail_with(&e),
        };
    }
    if let Err(e) = signals::block_signals() {
        return fail(EXIT_HAKO_ERROR, format!("failed to block signals: {e}"));
    }
    // Without a terminal the container gets pipes that hako relays, never
    // hako's own stdin, stdout and stderr.
    let pipes = match (!oci::terminal(&spec.oci)).then(|| StdioPipes::new(spec.record.interactive))
    {
        None => None,
        Some(Ok(pipes)) => Some(pipes),
        Some(Err(e)) => return fail(EXIT_HAKO_ERROR, format!("failed to create pipes: {e}")),
    };
    let io = match &pipes {
        Some(pipes) => ContainerIo::Fds(pipes.container_fds()),
        None => ContainerIo::Terminal,
    };
    let mut running =
        match container::create_and_start(paths, &spec, caller_terminal::terminal_size(), io) {
            Ok(running) => running,
            Err(e) => return fail_with(&e),
        };
    let host_ends = pipes.map(StdioPipes::into_host_ends);
    let exit_code = match foreground::wait(&mut running, spec.record.interactive, host_ends) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hako: lost track of container {}: {e}", running.state.name);
            EXIT_HAKO_ERROR
        }
    };
    let outcome = container::finish(running, exit_code);
    if outcome.oom_killed {
        let limit = oci::limits(&spec.oci)
            .memory
            .map(format_bytes)
            .unwrap_or_else(|| "the host's memory".into());
        eprintln!(
            "hako: container {} was killed by the kernel's OOM killer: it hit its memory limit ({limit})",
            spec.record.name
        );
    }
    outcome.exit_code
}

//! `hako attach` and `hako logs`: a detached container's terminal and output.

use super::{fail, EXIT_HAKO_ERROR};
use crate::runtime::attach::{self, AttachClient};
use crate::runtime::container::attach_session::{attach_terminal, parse_detach_keys, AttachEnd};
use crate::runtime::container::{control, logs};
use crate::runtime::paths::Paths;
use crate::runtime::state;
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Key sequence that detaches and leaves the container running.
    #[arg(long, default_value = "ctrl-p,ctrl-q")]
    detach_keys: String,
    /// Do not send the terminal's input to the container.
    #[arg(long)]
    no_stdin: bool,
    container: String,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new output until the container exits.
    #[arg(short, long)]
    follow: bool,
    /// Print only the last N lines.
    #[arg(long, value_name = "N")]
    tail: Option<usize>,
    container: String,
}

pub fn attach(paths: &Paths, args: AttachArgs) -> i32 {
    let keys = match parse_detach_keys(&args.detach_keys) {
        Ok(k) => k,
        Err(e) => return fail(EXIT_HAKO_ERROR, e),
    };
    let container = match state::resolve(paths, &args.container) {
        Ok(c) => c,
        Err(e) => return fail(1, e),
    };
    if !control::is_running(&container) {
        return fail(
            1,
            format!(
                "container {} is not running: `hako logs {}` shows its output",
                container.name, container.name
            ),
        );
    }
    if container.monitor_pid.is_none() {
        return fail(
            1,
            format!(
                "container {} runs in the foreground of another hako; only containers started with -d can be attached",
                container.name
            ),
        );
    }
    let client = match AttachClient::connect(&attach::socket_path(paths, &container.id)) {
        Ok(c) => c,
        Err(e) => return fail(1, e),
    };
    let forward_input = !args.no_stdin && container.interactive;
    match attach_terminal(client, &keys, forward_input) {
        Ok(AttachEnd::Detached) => {
            eprintln!(
                "\r\nhako: detached from {}; it keeps running",
                container.name
            );
            0
        }
        Ok(AttachEnd::Exited { code, oom_killed }) => {
            if oom_killed {
                eprintln!("hako: container {} was killed by the kernel's OOM killer: it hit its memory limit", container.name);
            }
            code
        }
        Ok(AttachEnd::Lost) => fail(
            EXIT_HAKO_ERROR,
            format!("lost the monitor of {}", container.name),
        ),
        Err(e) => fail(
            EXIT_HAKO_ERROR,
            format!("attach to {} failed: {e}", container.name),
        ),
    }
}

pub fn logs(paths: &Paths, args: LogsArgs) -> i32 {
    let container = match state::resolve(paths, &args.container) {
        Ok(c) => c,
        Err(e) => return fail(1, e),
    };
    let (all, follower) = logs::read(&paths.container(&container.id));
    let start = args.tail.map_or(0, |n| logs::tail_start(&all, n));
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(&all[start..]);
    let _ = stdout.flush();
    if args.follow {
        follower.follow(&container, |new| {
            let _ = stdout.write_all(new);
            let _ = stdout.flush();
        });
    }
    0
}

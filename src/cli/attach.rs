//! `hako attach` and `hako logs`: a detached container's terminal and output.

use super::{fail, EXIT_HAKO_ERROR};
use crate::runtime::attach::{self, AttachClient};
use crate::runtime::container::attach_session::{attach_terminal, parse_detach_keys, AttachEnd};
use crate::runtime::container::control;
use crate::runtime::container::monitor::log_path;
use crate::runtime::paths::Paths;
use crate::runtime::state::{self, ContainerState};
use clap::Args;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

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
    let dir = paths.container(&container.id);
    let log = log_path(&dir);
    let mut all = std::fs::read(log.with_extension("log.1")).unwrap_or_default();
    all.extend(std::fs::read(&log).unwrap_or_default());
    let start = match args.tail {
        Some(n) => tail_start(&all, n),
        None => 0,
    };
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(&all[start..]);
    let _ = stdout.flush();
    if args.follow {
        follow(
            &container,
            &log,
            std::fs::metadata(&log).map_or(0, |m| m.len()),
        );
    }
    0
}

/// Where the last `n` lines of `data` begin.
pub fn tail_start(data: &[u8], n: usize) -> usize {
    if n == 0 {
        return data.len();
    }
    // A final newline ends the last line; it does not start a new one.
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    body.iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == b'\n')
        .nth(n - 1)
        .map_or(0, |(i, _)| i + 1)
}

/// Prints what is appended to the log until the container stops running.
fn follow(container: &ContainerState, log: &std::path::Path, mut offset: u64) {
    let mut stdout = std::io::stdout();
    loop {
        let running = control::is_running(container);
        if let Ok(mut file) = std::fs::File::open(log) {
            let len = file.metadata().map_or(0, |m| m.len());
            if len < offset {
                offset = 0; // rotated
            }
            if file.seek(SeekFrom::Start(offset)).is_ok() {
                let mut new = Vec::new();
                if file.read_to_end(&mut new).is_ok() && !new.is_empty() {
                    offset += new.len() as u64;
                    let _ = stdout.write_all(&new);
                    let _ = stdout.flush();
                }
            }
        }
        if !running {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_counts_lines_from_the_end() {
        let data = b"a\nb\nc\n";
        assert_eq!(&data[tail_start(data, 2)..], b"b\nc\n");
        assert_eq!(&data[tail_start(data, 10)..], data);
        assert_eq!(&data[tail_start(data, 0)..], b"");
        let partial = b"a\nb";
        assert_eq!(&partial[tail_start(partial, 1)..], b"b");
    }
}

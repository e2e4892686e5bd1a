//! `hako stats`, `update`, `inspect`, `kill` and `stop`: acting on containers
//! that are running, through the runtime core.

use super::run::LimitArgs;
use super::{fail, fail_with, EXIT_HAKO_ERROR};
use crate::runtime::container::{control, inspect};
use crate::runtime::limits::{format_bytes, Limits};
use crate::runtime::paths::Paths;
use crate::runtime::state::{self, ContainerState};
use clap::Args;
use nix::sys::signal::Signal;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print one reading and exit.
    #[arg(long)]
    no_stream: bool,
    /// Output format: table or json.
    #[arg(long, default_value = "table")]
    format: String,
    /// Containers (default: all running).
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    limits: LimitArgs,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send: a name (KILL, SIGTERM) or a number.
    #[arg(short, long, default_value = "KILL")]
    signal: String,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait after SIGTERM before SIGKILL.
    #[arg(short = 't', long = "time", default_value_t = 10)]
    time: u64,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    containers: Vec<String>,
}

/// Resolves every name; an unknown one ends the command with exit 1, as
/// docker's "No such container" does.
fn resolve_all(paths: &Paths, keys: &[String]) -> Result<Vec<ContainerState>, i32> {
    keys.iter()
        .map(|k| state::resolve(paths, k).map_err(|e| fail(1, e)))
        .collect()
}

pub fn stats(paths: &Paths, args: StatsArgs) -> i32 {
    let json = match args.format.as_str() {
        "json" => true,
        "table" => false,
        other => {
            return fail(
                EXIT_HAKO_ERROR,
                format!("unknown --format {other:?}: use table or json"),
            )
        }
    };
    loop {
        let containers = if args.containers.is_empty() {
            match state::list(paths) {
                Ok(all) => all,
                Err(e) => return fail(EXIT_HAKO_ERROR, e),
            }
        } else {
            match resolve_all(paths, &args.containers) {
                Ok(c) => c,
                Err(code) => return code,
            }
        };
        let samples = match control::sample_usage(&containers, Duration::from_millis(500)) {
            Ok(s) => s,
            Err(e) => return fail_with(&e),
        };
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&samples).expect("stats serialize")
            );
        } else {
            if !args.no_stream {
                // Clear the screen and go home, as docker stats does.
                print!("\x1b[2J\x1b[H");
            }
            println!(
                "{:<14}{:<16}{:<16}{:<24}{:<8}{:<10}{:<6}THROTTLED",
                "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS", "OOM"
            );
            for s in &samples {
                println!("{}", stats_row(s));
            }
        }
        if args.no_stream {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".into())
}

fn stats_row(s: &control::UsageSample) -> String {
    let c = &s.cgroup;
    let cpu = match (s.cpu_percent, s.cpu_quota_percent) {
        (Some(p), Some(q)) => format!("{p:.1}% ({q:.0}% q)"),
        (Some(p), None) => format!("{p:.1}%"),
        _ => "-".into(),
    };
    let memory = format!(
        "{} / {}",
        or_dash(c.memory_usage.map(format_bytes)),
        c.memory_limit
            .map(format_bytes)
            .unwrap_or_else(|| "no limit".into())
    );
    let pids = format!(
        "{} / {}",
        or_dash(c.pids_current.map(|p| p.to_string())),
        c.pids_limit
            .map(|p| p.to_string())
            .unwrap_or_else(|| "max".into())
    );
    let throttled = match (c.nr_throttled, c.nr_periods) {
        (Some(t), Some(p)) => format!("{t}/{p} periods"),
        _ => "not reported".into(),
    };
    format!(
        "{:<14}{:<16}{:<16}{:<24}{:<8}{:<10}{:<6}{}",
        crate::runtime::container::spec::short_id(&s.id),
        s.name,
        cpu,
        memory,
        or_dash(s.memory_percent.map(|p| format!("{p:.1}%"))),
        pids,
        or_dash(c.oom_kills.map(|n| n.to_string())),
        throttled
    )
}

pub fn update(paths: &Paths, args: UpdateArgs) -> i32 {
    if args.limits.memory.is_none()
        && args.limits.cpus.is_none()
        && args.limits.pids_limit.is_none()
    {
        return fail(
            EXIT_HAKO_ERROR,
            "nothing to update: give --memory, --cpus or --pids-limit",
        );
    }
    let change = match Limits::parse(
        args.limits.memory.as_deref(),
        args.limits.memory_swap.as_deref(),
        args.limits.cpus.as_deref(),
        args.limits.pids_limit.as_deref(),
    ) {
        Ok(l) => l,
        Err(e) => return fail(EXIT_HAKO_ERROR, e),
    };
    let containers = match resolve_all(paths, &args.containers) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut code = 0;
    for c in containers {
        match control::update_limits(paths, &c, &change) {
            Ok(_) => println!("{}", c.id),
            Err(e) => code = fail_with(&e),
        }
    }
    code
}

pub fn inspect(paths: &Paths, args: InspectArgs) -> i32 {
    match resolve_all(paths, &args.containers) {
        Ok(c) => {
            let shown: Vec<serde_json::Value> = c
                .iter()
                .map(|c| inspect::inspect(c, &paths.container(&c.id)))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&shown).expect("state serializes")
            );
            0
        }
        Err(code) => code,
    }
}

/// `KILL`, `SIGKILL`, `kill` or `9`.
pub fn parse_signal(text: &str) -> Option<Signal> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).ok()
}

pub fn kill(paths: &Paths, args: KillArgs) -> i32 {
    let Some(signal) = parse_signal(&args.signal) else {
        return fail(
            EXIT_HAKO_ERROR,
            format!(
                "unknown signal {:?}: use a name such as TERM or a number",
                args.signal
            ),
        );
    };
    let containers = match resolve_all(paths, &args.containers) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut code = 0;
    for c in containers {
        match control::send_signal(paths, &c, signal) {
            Ok(()) => println!("{}", c.id),
            Err(e) => code = fail_with(&e),
        }
    }
    code
}

pub fn stop(paths: &Paths, args: StopArgs) -> i32 {
    let containers = match resolve_all(paths, &args.containers) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut code = 0;
    for c in containers {
        match control::stop(paths, &c, Duration::from_secs(args.time)) {
            Ok(()) => println!("{}", c.id),
            Err(e) => code = fail_with(&e),
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("KILL"), Some(Signal::SIGKILL));
        assert_eq!(parse_signal("sigterm"), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Some(Signal::SIGKILL));
        assert_eq!(parse_signal("HUP"), Some(Signal::SIGHUP));
        assert_eq!(parse_signal("NOPE"), None);
        assert_eq!(parse_signal("999"), None);
    }
}

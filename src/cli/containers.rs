//! `hako ps` and `hako rm`.

use super::{fail, fail_with, EXIT_HAKO_ERROR};
use crate::runtime::container::spec::short_id;
use crate::runtime::container::{self, control};
use crate::runtime::limits::format_bytes;
use crate::runtime::paths::Paths;
use crate::runtime::state::{self, ContainerState, Status};
use crate::runtime::text::escape_control;
use clap::Args;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers, not only running ones.
    #[arg(short, long)]
    all: bool,
    /// Print only ids.
    #[arg(short, long)]
    quiet: bool,
    /// Output format: table or json.
    #[arg(long, default_value = "table")]
    format: String,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Kill a running container before removing it.
    #[arg(short, long)]
    force: bool,
    /// Container ids, id prefixes or names.
    #[arg(required = true)]
    containers: Vec<String>,
}

pub fn ps(paths: &Paths, args: PsArgs) -> i32 {
    let all = match state::list(paths) {
        Ok(all) => all,
        Err(e) => return fail(EXIT_HAKO_ERROR, e),
    };
    // A `running` record whose process is gone (its hako was killed) shows
    // as `unknown` until `hako gc` settles it.
    let observed: Vec<ContainerState> = all
        .into_iter()
        .map(|mut c| {
            if c.status == Status::Running && !control::is_running(&c) {
                c.status = Status::Unknown;
            }
            c
        })
        .collect();
    let shown: Vec<&ContainerState> = observed
        .iter()
        .filter(|c| args.all || c.status == Status::Running)
        .collect();
    match args.format.as_str() {
        "json" => {
            let json = serde_json::to_string_pretty(&shown).expect("state serializes");
            println!("{json}");
        }
        "table" if args.quiet => {
            for c in shown {
                println!("{}", short_id(&c.id));
            }
        }
        "table" => {
            // CPU % needs two readings of the CPU counter; 100 ms apart is
            // enough for a glance and keeps `ps` quick.
            let usage =
                control::sample_usage(&observed, Duration::from_millis(100)).unwrap_or_default();
            println!(
                "{:<14}{:<12}{:<22}{:<28}{:<22}{:<8}NAMES",
                "CONTAINER ID", "IMAGE", "COMMAND", "STATUS", "MEM USAGE / LIMIT", "CPU %"
            );
            let now = state::now();
            for c in shown {
                let sample = usage.iter().find(|u| u.id == c.id);
                let (memory, cpu) = match sample {
                    Some(u) => (
                        format!(
                            "{} / {}",
                            u.cgroup
                                .memory_usage
                                .map(format_bytes)
                                .unwrap_or_else(|| "-".into()),
                            u.cgroup
                                .memory_limit
                                .map(format_bytes)
                                .unwrap_or_else(|| "no limit".into())
                        ),
                        u.cpu_percent
                            .map(|p| format!("{p:.1}%"))
                            .unwrap_or_else(|| "-".into()),
                    ),
                    None => ("-".into(), "-".into()),
                };
                println!(
                    "{:<14}{:<12}{:<22}{:<28}{:<22}{:<8}{}",
                    short_id(&c.id),
                    c.image,
                    quoted_command(&c.command, 20),
                    status_text(c, now),
                    memory,
                    cpu,
                    c.name
                );
            }
        }
        other => {
            return fail(
                EXIT_HAKO_ERROR,
                format!("unknown --format {other:?}: use table or json"),
            )
        }
    }
    0
}

/// The command in quotes, cut to `width` characters as docker does; its
/// control characters are shown escaped, since the container chose them.
pub fn quoted_command(command: &[String], width: usize) -> String {
    let full = format!("\"{}\"", escape_control(&command.join(" ")));
    if full.chars().count() <= width {
        return full;
    }
    let cut: String = full.chars().take(width.saturating_sub(2)).collect();
    format!("{cut}…\"")
}

/// Docker's status words: `Up 5 seconds`, `Exited (137) 2 minutes ago`.
pub fn status_text(c: &ContainerState, now: u64) -> String {
    match c.status {
        Status::Running => format!(
            "Up {}",
            human_duration(now.saturating_sub(c.started.unwrap_or(c.created)))
        ),
        Status::Exited => format!(
            "Exited ({}) {} ago{}",
            c.exit_code.unwrap_or(-1),
            human_duration(now.saturating_sub(c.finished.unwrap_or(c.created))),
            if c.oom_killed { ", OOM killed" } else { "" }
        ),
        Status::Created => "Created".into(),
        Status::Unknown => "Unknown".into(),
    }
}

/// `5 seconds`, `3 minutes`, `2 hours`, `4 days`.
pub fn human_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "Less than a second".into();
    }
    let (value, unit) = match seconds {
        0..=59 => (seconds, "second"),
        60..=3599 => (seconds / 60, "minute"),
        3600..=86399 => (seconds / 3600, "hour"),
        _ => (seconds / 86400, "day"),
    };
    if value == 1 {
        format!("1 {unit}")
    } else {
        format!("{value} {unit}s")
    }
}

pub fn rm(paths: &Paths, args: RmArgs) -> i32 {
    let mut code = 0;
    for key in &args.containers {
        let result = state::resolve(paths, key)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                container::remove(paths, &c, args.force)
                    .map(|()| c.id)
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(id) => println!("{id}"),
            Err(message) => code = fail(1, message),
        }
    }
    code
}

pub fn gc(paths: &Paths) -> i32 {
    match container::gc(paths) {
        Ok(report) => {
            for name in &report.recovered {
                println!("recovered {name}: its hako had died; cgroup removed, marked exited");
            }
            for name in &report.removed {
                println!("removed {name}: its hako had died");
            }
            if report.recovered.is_empty() && report.removed.is_empty() {
                println!("nothing to clean up");
            }
            0
        }
        Err(e) => fail_with(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_commands_are_cut_on_character_boundaries() {
        let cmd = vec![
            "sh".to_string(),
            "-c".to_string(),
            "echo ééééééééééééééé".to_string(),
        ];
        let q = quoted_command(&cmd, 20);
        assert_eq!(q.chars().count(), 20);
        assert!(q.starts_with("\"sh -c echo é") && q.ends_with("…\""));
        assert_eq!(quoted_command(&["true".to_string()], 20), "\"true\"");
    }

    #[test]
    fn durations_read_like_docker() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(42), "42 seconds");
        assert_eq!(human_duration(120), "2 minutes");
        assert_eq!(human_duration(7200), "2 hours");
        assert_eq!(human_duration(86400 * 3), "3 days");
    }
}

//! The docker-like command line: parses arguments and calls the runtime core.
//! Nothing here touches the kernel directly.
//!
//! Exit codes follow docker's: 125 when hako itself fails (bad flag, unknown
//! image, a limit the kernel refuses), otherwise the container's own status.

// The command line only parses and calls the runtime: no unsafe code, ever.
#![forbid(unsafe_code)]

mod attach;
mod containers;
mod control;
mod demo;
mod events;
mod exec;
mod image;
mod run;

use crate::runtime::paths::Paths;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit code for errors of hako itself, as docker uses.
pub use crate::runtime::exit_code::HAKO_ERROR as EXIT_HAKO_ERROR;

#[derive(Debug, Parser)]
#[command(
    name = "hako",
    version,
    about = "A container manager for Linux operators: run limited, isolated containers and watch their limits",
    disable_help_subcommand = true
)]
struct Cli {
    /// Keep images, containers and their state under DIR instead of /var/lib/hako.
    #[arg(long, global = true, env = "HAKO_ROOT", value_name = "DIR")]
    root: Option<PathBuf>,

    /// Parent cgroup of the containers hako starts (run, the dashboard, the demo).
    #[arg(
        long,
        global = true,
        env = "HAKO_CGROUP_PARENT",
        default_value = "hako",
        value_name = "PATH"
    )]
    cgroup_parent: String,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create and run a container from an image.
    Run(Box<run::RunArgs>),
    /// Manage images: import, ls, rm.
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// List containers.
    Ps(containers::PsArgs),
    /// Remove one or more containers.
    Rm(containers::RmArgs),
    /// Show live memory, CPU and pids usage against the limits.
    Stats(control::StatsArgs),
    /// Change the limits of running containers.
    Update(control::UpdateArgs),
    /// Show the state and configuration of containers as JSON.
    Inspect(control::InspectArgs),
    /// Send a signal to containers (default KILL).
    Kill(control::KillArgs),
    /// Stop containers: SIGTERM, then SIGKILL after a grace period.
    Stop(control::StopArgs),
    /// Show lifecycle events and limit trips (OOM kills, throttling), merged by time.
    Events(events::EventsArgs),
    /// Run a command inside a running container.
    Exec(exec::ExecArgs),
    /// Attach the terminal to a detached container (Ctrl-P Ctrl-Q detaches).
    Attach(attach::AttachArgs),
    /// Print a detached container's output.
    Logs(attach::LogsArgs),
    /// Clean up after hako processes that died while holding containers.
    Gc,
    /// Open the dashboard (the same as `hako` with no command).
    Tui(TuiArgs),
    /// Start three demo containers that each trip a limit within a minute.
    Demo,
    /// The per-container monitor (started by `run -d`; not for people).
    #[command(name = "__monitor", hide = true)]
    Monitor { root: PathBuf },
}

/// The dashboard's default tick.
const DEFAULT_TICK_MS: u64 = 1000;

#[derive(Debug, clap::Args)]
struct TuiArgs {
    /// How often usage is read, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TICK_MS, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    tick: u64,
}

fn dashboard(paths: Paths, args: TuiArgs, cgroup_parent: String) -> i32 {
    crate::tui::run(crate::tui::Options {
        paths,
        tick: std::time::Duration::from_millis(args.tick),
        cgroup_parent,
    })
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => EXIT_HAKO_ERROR,
            };
            let _ = e.print();
            return code;
        }
    };
    // Anything that may run hako inside a container's namespaces runs it
    // from a sealed view of itself, never from the host's file
    // (CVE-2019-5736; see runtime::process::sealed_exe). Parsing above
    // touched nothing.
    if may_enter_containers(cli.command.as_ref()) {
        if let Err(e) = crate::runtime::process::sealed_exe::reexec_from_sealed_exe() {
            return fail(EXIT_HAKO_ERROR, e);
        }
    }
    let paths = cli
        .root
        .as_deref()
        .map(Paths::under)
        .unwrap_or_else(Paths::system);
    // Commands that only print end quietly when their reader goes away
    // (`hako ps | head`), as other command-line tools do.
    if matches!(
        cli.command,
        Some(
            Command::Ps(_)
                | Command::Inspect(_)
                | Command::Events(_)
                | Command::Logs(_)
                | Command::Stats(_)
                | Command::Image(_)
        )
    ) {
        crate::runtime::container::foreground::default_sigpipe();
    }
    match cli.command {
        Some(Command::Run(args)) => run::run(&paths, *args, cli.cgroup_parent),
        Some(Command::Image(cmd)) => image::image(&paths, cmd),
        Some(Command::Ps(args)) => containers::ps(&paths, args),
        Some(Command::Rm(args)) => containers::rm(&paths, args),
        Some(Command::Stats(args)) => control::stats(&paths, args),
        Some(Command::Update(args)) => control::update(&paths, args),
        Some(Command::Inspect(args)) => control::inspect(&paths, args),
        Some(Command::Kill(args)) => control::kill(&paths, args),
        Some(Command::Stop(args)) => control::stop(&paths, args),
        Some(Command::Events(args)) => events::events(&paths, args),
        Some(Command::Exec(args)) => exec::exec(&paths, args),
        Some(Command::Attach(args)) => attach::attach(&paths, args),
        Some(Command::Logs(args)) => attach::logs(&paths, args),
        Some(Command::Gc) => containers::gc(&paths),
        Some(Command::Monitor { root }) => {
            crate::runtime::container::monitor::monitor_main(&Paths::under(&root))
        }
        Some(Command::Tui(args)) => dashboard(paths, args, cli.cgroup_parent),
        Some(Command::Demo) => demo::demo(&paths, &cli.cgroup_parent),
        None => dashboard(
            paths,
            TuiArgs {
                tick: DEFAULT_TICK_MS,
            },
            cli.cgroup_parent,
        ),
    }
}

/// The commands that start processes inside containers, themselves or
/// through a child hako: run (and its monitor), exec, the dashboard, the demo.
fn may_enter_containers(command: Option<&Command>) -> bool {
    matches!(
        command,
        None | Some(
            Command::Run(_)
                | Command::Exec(_)
                | Command::Tui(_)
                | Command::Demo
                | Command::Monitor { .. }
        )
    )
}

/// Prints one line for an error of hako's and returns its exit code. The
/// message may quote an image's or a container's text: its control
/// characters are escaped, whatever built it.
pub(crate) fn fail(code: i32, message: impl std::fmt::Display) -> i32 {
    let message = message.to_string();
    eprintln!("hako: {}", crate::runtime::text::escape_control(&message));
    code
}

/// Prints a failure of the container API and returns its exit code.
pub(crate) fn fail_with(error: &crate::runtime::container::ContainerError) -> i32 {
    fail(error.exit_code(), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn run_takes_docker_style_flags_and_a_trailing_command() {
        let cli = Cli::try_parse_from([
            "hako",
            "run",
            "-it",
            "--rm",
            "--memory",
            "10m",
            "--cpus",
            "0.3",
            "-h",
            "box",
            "busybox",
            "sh",
            "-c",
            "echo -n hi",
        ])
        .unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("not a run");
        };
        let request = args.into_request("hako".into());
        assert!(request.interactive && request.tty && request.auto_remove);
        assert_eq!(request.hostname.as_deref(), Some("box"));
        assert_eq!(request.command, ["sh", "-c", "echo -n hi"]);
    }
}

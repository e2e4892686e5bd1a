//! The worker: a thread that carries out the dashboard's actions through the
//! runtime core (stop can take seconds, create starts a monitor) and reports
//! each result back, so the dashboard never waits on a container.

use super::format::describe_limits;
use super::runtime_calls;
use crate::runtime::container::RunRequest;
use crate::runtime::limits::Limits;
use crate::runtime::paths::Paths;
use crate::runtime::state::ContainerState;
use std::sync::mpsc::Receiver;

/// An action for the runtime, with everything it needs.
#[derive(Debug, Clone)]
pub enum Job {
    Gc,
    Stop(ContainerState),
    Kill(ContainerState),
    Remove(ContainerState),
    Update {
        container: ContainerState,
        change: Limits,
    },
    Create(Box<RunRequest>),
    Demo {
        cgroup_parent: String,
    },
}

/// Which action a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Gc,
    Stop,
    Kill,
    Remove,
    Update,
    Create,
    Demo,
}

/// The result of one job: a line for the status bar, or the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub kind: JobKind,
    pub result: Result<String, String>,
    /// The container the job made or acted on, to select it.
    pub container_id: Option<String>,
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Job::Gc => JobKind::Gc,
            Job::Stop(_) => JobKind::Stop,
            Job::Kill(_) => JobKind::Kill,
            Job::Remove(_) => JobKind::Remove,
            Job::Update { .. } => JobKind::Update,
            Job::Create(_) => JobKind::Create,
            Job::Demo { .. } => JobKind::Demo,
        }
    }

    /// What the status line says while the job runs.
    pub fn describe(&self) -> String {
        match self {
            Job::Gc => "cleaning up after dead containers".into(),
            Job::Stop(c) => format!("stopping {} (SIGTERM, then SIGKILL after 10 s)", c.name),
            Job::Kill(c) => format!("killing {}", c.name),
            Job::Remove(c) => format!("removing {}", c.name),
            Job::Update { container, .. } => format!("updating the limits of {}", container.name),
            Job::Create(r) => format!("starting a container on image {}", r.image),
            Job::Demo { .. } => "starting the three demo containers".into(),
        }
    }
}

/// Carries out one job.
pub fn perform(paths: &Paths, job: Job) -> Report {
    let kind = job.kind();
    let mut container_id = None;
    let result = match job {
        Job::Gc => runtime_calls::gc(paths).map(|done| {
            if done.is_empty() {
                "ready".to_string()
            } else {
                format!("cleaned up: {done}")
            }
        }),
        Job::Stop(c) => {
            container_id = Some(c.id.clone());
            runtime_calls::stop(paths, &c).map(|()| format!("stopped {}", c.name))
        }
        Job::Kill(c) => {
            container_id = Some(c.id.clone());
            runtime_calls::kill(paths, &c).map(|()| format!("sent SIGKILL to {}", c.name))
        }
        Job::Remove(c) => runtime_calls::remove(paths, &c).map(|()| format!("removed {}", c.name)),
        Job::Update { container, change } => {
            container_id = Some(container.id.clone());
            runtime_calls::update_limits(paths, &container, &change)
                .map(|s| format!("{}: limits now {}", s.name, describe_limits(&s.limits)))
        }
        Job::Create(request) => runtime_calls::validate(paths, &request)
            .and_then(|spec| runtime_calls::run_detached(paths, &spec))
            .map(|s| {
                container_id = Some(s.id.clone());
                format!("started {} ({})", s.name, describe_limits(&s.limits))
            }),
        Job::Demo { cgroup_parent } => {
            runtime_calls::start_demo(paths, &cgroup_parent).map(|names| {
                format!(
                    "demo started: {} (watch the alerts: each trips a limit within a minute)",
                    names.join(", ")
                )
            })
        }
    };
    Report {
        kind,
        result,
        container_id,
    }
}

/// Receives jobs until `jobs` closes, carrying out each on its own thread so
/// that a slow stop never holds up a kill or a create.
pub fn spawn(
    paths: Paths,
    jobs: Receiver<Job>,
    sink: impl Fn(Report) + Send + Sync + 'static,
) -> std::thread::JoinHandle<()> {
    let sink = std::sync::Arc::new(sink);
    std::thread::Builder::new()
        .name("hako-worker".into())
        .spawn(move || {
            for job in jobs {
                let (paths, job_sink, kind) = (paths.clone(), sink.clone(), job.kind());
                let spawned = std::thread::Builder::new()
                    .name("hako-job".into())
                    .spawn(move || job_sink(perform(&paths, job)));
                if let Err(e) = spawned {
                    sink(Report {
                        kind,
                        result: Err(format!("failed to start a thread for the action: {e}")),
                        container_id: None,
                    });
                }
            }
        })
        .expect("spawn the worker thread")
}

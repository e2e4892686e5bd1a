//! The demo: three containers on the built-in `host` image, each running a
//! workload from `assets/demo/` that trips one kind of limit within a minute.
//! `hako demo` and the dashboard's `D` both start it here.

use crate::runtime::container::monitor::{self, MonitorStderr};
use crate::runtime::container::ContainerError;
use crate::runtime::container::RunRequest;
use crate::runtime::container::{self, control, ContainerSpec};
use crate::runtime::paths::Paths;
use crate::runtime::state::{self, StateError};
use thiserror::Error;

/// Why the demo could not be started.
#[derive(Debug, Error)]
pub enum DemoError {
    #[error(transparent)]
    List(#[from] StateError),
    /// One demo container could not be replaced or started.
    #[error("{name}: {source}")]
    Container {
        name: &'static str,
        #[source]
        source: ContainerError,
    },
}

/// One demo container: its name, workload and the one limit it trips.
pub struct Workload {
    pub name: &'static str,
    pub script: &'static str,
    pub memory: Option<&'static str>,
    pub cpus: Option<&'static str>,
    pub pids: Option<&'static str>,
}

pub const WORKLOADS: [Workload; 3] = [
    Workload {
        name: "demo-memory-hog",
        script: include_str!("../../assets/demo/memory-hog.sh"),
        memory: Some("32m"),
        cpus: None,
        pids: None,
    },
    Workload {
        name: "demo-cpu-burner",
        script: include_str!("../../assets/demo/cpu-burner.sh"),
        memory: None,
        cpus: Some("0.2"),
        pids: None,
    },
    Workload {
        name: "demo-fork-loop",
        script: include_str!("../../assets/demo/fork-loop.sh"),
        memory: None,
        cpus: None,
        pids: Some("20"),
    },
];

impl Workload {
    /// The container's request: detached, with a terminal so the pane can attach.
    pub fn request(&self, cgroup_parent: &str) -> RunRequest {
        RunRequest {
            image: "host".into(),
            command: vec!["sh".into(), "-c".into(), self.script.into()],
            name: Some(self.name.into()),
            hostname: Some(self.name.into()),
            interactive: true,
            tty: true,
            memory: self.memory.map(Into::into),
            cpus: self.cpus.map(Into::into),
            pids_limit: self.pids.map(Into::into),
            cgroup_parent: cgroup_parent.into(),
            ..RunRequest::default()
        }
    }
}

/// What `start` did with one demo container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoContainer {
    Started(&'static str),
    /// Kept as it was: it still runs.
    AlreadyRunning(&'static str),
}

/// Starts the demo containers, their monitors' stderr as `stderr` says. A
/// demo container that still runs is kept; one that has exited is removed
/// and started again.
pub fn start(
    paths: &Paths,
    cgroup_parent: &str,
    stderr: MonitorStderr,
) -> Result<Vec<DemoContainer>, DemoError> {
    let existing = state::list(paths)?;
    let mut done = vec![];
    for workload in &WORKLOADS {
        let failed = |source: ContainerError| DemoError::Container {
            name: workload.name,
            source,
        };
        if let Some(old) = existing.iter().find(|c| c.name == workload.name) {
            if control::is_running(old) {
                done.push(DemoContainer::AlreadyRunning(workload.name));
                continue;
            }
            container::remove(paths, old, true).map_err(failed)?;
        }
        let spec = ContainerSpec::from_request(paths, &workload.request(cgroup_parent))
            .map_err(|e| failed(e.into()))?;
        monitor::run_detached_with(paths, &spec, stderr).map_err(failed)?;
        done.push(DemoContainer::Started(workload.name));
    }
    Ok(done)
}

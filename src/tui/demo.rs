//! `hako demo`: three containers on the built-in `host` image, each running a
//! workload from `assets/demo/` that trips one kind of limit within a minute.

use super::runtime_calls;
use crate::runtime::container::RunRequest;
use crate::runtime::paths::Paths;

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

/// Starts the demo containers. A demo container that still runs is kept; one
/// that has exited is removed and started again. Returns their names.
pub fn start(paths: &Paths, cgroup_parent: &str) -> Result<Vec<String>, String> {
    let existing = runtime_calls::list(paths)?;
    let mut names = vec![];
    for workload in &WORKLOADS {
        if let Some(old) = existing.iter().find(|c| c.name == workload.name) {
            if runtime_calls::is_running(old) {
                names.push(format!("{} (already running)", workload.name));
                continue;
            }
            runtime_calls::remove(paths, old)?;
        }
        let spec = runtime_calls::validate(paths, &workload.request(cgroup_parent))
            .map_err(|e| format!("{}: {e}", workload.name))?;
        runtime_calls::run_detached(paths, &spec).map_err(|e| format!("{}: {e}", workload.name))?;
        names.push(workload.name.to_string());
    }
    Ok(names)
}

/// The `hako demo` command: starts the containers and says what to do next.
pub fn main(paths: &Paths, cgroup_parent: &str) -> i32 {
    match start(paths, cgroup_parent) {
        Ok(names) => {
            for name in names {
                println!("started {name}");
            }
            println!("open the dashboard with `hako` to watch each one trip its limit");
            0
        }
        Err(e) => {
            eprintln!("hako: {e}");
            crate::runtime::exit_code::HAKO_ERROR
        }
    }
}

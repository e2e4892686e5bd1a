//! The two forms: a new container, and the limits of a running one.
//! Checking what can be checked without the runtime happens here, on submit;
//! the worker checks the rest (`ContainerSpec::from_request`) and an error
//! comes back into the form.

use super::format::split_command;
use super::runtime_calls;
use super::worker::Job;
use crate::runtime::container::RunRequest;
use crate::runtime::limits::{Limits, CPU_PERIOD_US};
use crate::runtime::state::ContainerState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    pub hint: &'static str,
}

impl Field {
    fn new(label: &'static str, value: impl Into<String>, hint: &'static str) -> Field {
        Field {
            label,
            value: value.into(),
            hint,
        }
    }
}

#[derive(Debug, Clone)]
pub enum FormKind {
    NewContainer { cgroup_parent: String },
    Limits { container: Box<ContainerState> },
}

#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
    /// Submitted; waiting for the worker's answer.
    pub submitting: bool,
}

// Field order of the new-container form.
const IMAGE: usize = 0;
const COMMAND: usize = 1;
const NAME: usize = 2;
const MEMORY: usize = 3;
const CPUS: usize = 4;
const PIDS: usize = 5;

/// A memory limit as the user would type it: `32m`, `1g`, or bytes.
pub fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if bytes.is_multiple_of(GIB) {
        format!("{}g", bytes / GIB)
    } else if bytes.is_multiple_of(MIB) {
        format!("{}m", bytes / MIB)
    } else {
        bytes.to_string()
    }
}

fn non_empty(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty()).then_some(text)
}

impl Form {
    pub fn new_container(cgroup_parent: &str) -> Form {
        Form {
            kind: FormKind::NewContainer {
                cgroup_parent: cgroup_parent.into(),
            },
            fields: vec![
                Field::new("Image", "host", "an imported image, or host (built in)"),
                Field::new("Command", "sh", "quotes as in a shell: sh -c 'echo hi'"),
                Field::new("Name", "", "empty: the short id"),
                Field::new("Memory", "", "e.g. 10m, 1g; empty: no limit"),
                Field::new("CPUs", "", "e.g. 0.5; empty: no limit"),
                Field::new("Pids limit", "", "e.g. 64; empty: no limit"),
            ],
            focus: 0,
            error: None,
            submitting: false,
        }
    }

    pub fn edit_limits(container: &ContainerState) -> Form {
        let limits = &container.limits;
        Form {
            kind: FormKind::Limits {
                container: Box::new(container.clone()),
            },
            fields: vec![
                Field::new(
                    "Memory",
                    limits.memory.map(size_text).unwrap_or_default(),
                    "e.g. 10m, 1g; empty: unchanged",
                ),
                Field::new(
                    "CPUs",
                    limits
                        .cpu
                        .map(|q| format!("{}", q.quota_us as f64 / CPU_PERIOD_US as f64))
                        .unwrap_or_default(),
                    "e.g. 0.5; empty: unchanged",
                ),
                Field::new(
                    "Pids limit",
                    limits.pids.map(|p| p.to_string()).unwrap_or_default(),
                    "e.g. 64; empty: unchanged",
                ),
            ],
            focus: 0,
            error: None,
            submitting: false,
        }
    }

    pub fn title(&self) -> String {
        match &self.kind {
            FormKind::NewContainer { .. } => "New container".into(),
            FormKind::Limits { container } => format!("Limits of {} (live)", container.name),
        }
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len();
    }

    pub fn previous(&mut self) {
        self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
    }

    pub fn input(&mut self, c: char) {
        self.fields[self.focus].value.push(c);
        self.error = None;
    }

    pub fn backspace(&mut self) {
        self.fields[self.focus].value.pop();
        self.error = None;
    }

    pub fn clear(&mut self) {
        self.fields[self.focus].value.clear();
        self.error = None;
    }

    /// The job this form asks for, or what is wrong with it.
    pub fn job(&self) -> Result<Job, String> {
        let value = |i: usize| non_empty(&self.fields[i].value);
        match &self.kind {
            FormKind::NewContainer { cgroup_parent } => {
                let limits_of = (value(MEMORY), value(CPUS), value(PIDS));
                runtime_calls::parse_limits(limits_of.0, limits_of.1, limits_of.2)
                    .map_err(|e| e.to_string())?;
                let image = value(IMAGE).ok_or("the image is empty: host is built in")?;
                let command = split_command(&self.fields[COMMAND].value)?;
                Ok(Job::Create(Box::new(RunRequest {
                    image: image.into(),
                    command,
                    name: value(NAME).map(Into::into),
                    interactive: true,
                    tty: true,
                    memory: limits_of.0.map(Into::into),
                    cpus: limits_of.1.map(Into::into),
                    pids_limit: limits_of.2.map(Into::into),
                    cgroup_parent: cgroup_parent.clone(),
                    ..RunRequest::default()
                })))
            }
            FormKind::Limits { container } => {
                let change: Limits = runtime_calls::parse_limits(value(0), value(1), value(2))
                    .map_err(|e| e.to_string())?;
                if change == Limits::default() {
                    return Err("no limit given: type a memory, CPU or pids limit".into());
                }
                Ok(Job::Update {
                    container: container.as_ref().clone(),
                    change,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(form: &mut Form, values: &[&str]) {
        for (field, value) in form.fields.iter_mut().zip(values) {
            field.value = value.to_string();
        }
    }

    #[test]
    fn a_new_container_form_becomes_a_detached_request_with_a_terminal() {
        let mut form = Form::new_container("hako");
        fill(
            &mut form,
            &["host", "sh -c 'echo hi'", "web", "10m", "0.5", "64"],
        );
        let Ok(Job::Create(request)) = form.job() else {
            panic!("not a create");
        };
        assert_eq!(request.image, "host");
        assert_eq!(request.command, ["sh", "-c", "echo hi"]);
        assert_eq!(request.name.as_deref(), Some("web"));
        assert_eq!(request.memory.as_deref(), Some("10m"));
        assert_eq!(request.cpus.as_deref(), Some("0.5"));
        assert_eq!(request.pids_limit.as_deref(), Some("64"));
        assert!(request.tty && request.interactive && !request.auto_remove);
    }

    #[test]
    fn bad_limits_are_refused_in_the_form() {
        let mut form = Form::new_container("hako");
        fill(&mut form, &["host", "sh", "", "10zz"]);
        let error = form.job().unwrap_err();
        assert!(error.contains("10zz"), "{error}");
        fill(&mut form, &["host", "sh", "", "1m"]);
        assert!(form.job().unwrap_err().contains("too small"));
        fill(&mut form, &["", "sh", "", "", "", ""]);
        assert!(form.job().unwrap_err().contains("image"));
        fill(&mut form, &["host", "sh -c 'oops", "", "", "", ""]);
        assert!(form.job().unwrap_err().contains("quote"));
    }

    #[test]
    fn the_limits_form_changes_only_what_is_given() {
        let mut state: ContainerState = serde_json::from_str(SAMPLE_STATE).unwrap();
        state.limits = runtime_calls::parse_limits(Some("32m"), Some("0.2"), Some("20")).unwrap();
        let mut form = Form::edit_limits(&state);
        let values: Vec<&str> = form.fields.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(values, ["32m", "0.2", "20"]);
        fill(&mut form, &["64m", "", ""]);
        let Ok(Job::Update { change, .. }) = form.job() else {
            panic!("not an update");
        };
        assert_eq!(change.memory, Some(64 << 20));
        assert_eq!(change.cpu, None);
        assert_eq!(change.pids, None);
        fill(&mut form, &["", "", ""]);
        assert!(form.job().is_err());
    }

    #[test]
    fn sizes_are_written_back_as_typed() {
        assert_eq!(size_text(32 << 20), "32m");
        assert_eq!(size_text(1 << 30), "1g");
        assert_eq!(size_text(1000), "1000");
    }

    const SAMPLE_STATE: &str = r#"{
        "id": "0123456789abcdef", "name": "web", "image": "host", "command": ["sh"],
        "hostname": "web", "status": "running", "pid": 1, "exit_code": null,
        "oom_killed": false, "created": 0, "started": 0, "finished": null,
        "limits": {"memory": null, "memory_swap": null, "cpu": null, "pids": null},
        "cgroup_layout": "V1", "cgroup_parent": "hako", "capabilities": [],
        "auto_remove": false
    }"#;
}

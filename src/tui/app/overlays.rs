//! What is drawn over the dashboard and takes the keyboard while it is
//! there: the help, the two forms, and the question before a remove.

use super::super::form::Form;
use super::super::keys::Action;
use super::super::worker::{Job, JobKind, Report};
use super::alerts::AlertsView;
use super::logs::LogView;
use super::{App, Effect, Tone};
use crate::runtime::state::ContainerState;

pub enum Overlay {
    None,
    Help,
    Form(Form),
    ConfirmRemove(Box<ContainerState>),
    /// The alerts view, over the middle of the dashboard.
    Alerts(AlertsView),
    /// A container's log, over the middle of the dashboard.
    Log(Box<LogView>),
}

impl App {
    /// The overlays' reducer.
    pub(super) fn apply_overlay(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::ToggleHelp => {
                self.overlay = match self.overlay {
                    Overlay::Help => Overlay::None,
                    _ => Overlay::Help,
                };
                vec![]
            }
            Action::CloseOverlay => {
                match self.overlay {
                    // Esc on the bare dashboard clears the filter.
                    Overlay::None => {
                        self.table.clear_filter(&self.samples);
                    }
                    Overlay::Alerts(_) => self.alerts.mark_seen(),
                    _ => {}
                }
                // A log's reader stops as its view goes.
                self.overlay = Overlay::None;
                vec![]
            }
            Action::OpenAlerts => {
                self.alerts.mark_seen();
                self.overlay = Overlay::Alerts(AlertsView::default());
                self.say(
                    Tone::Info,
                    "every limit trip since the start: k kind, / container, Esc closes",
                );
                vec![]
            }
            Action::OpenLog => self.open_log(),
            Action::AskRemove => {
                match self.selected_state() {
                    Some(c) => self.overlay = Overlay::ConfirmRemove(Box::new(c)),
                    None => self.say(Tone::Error, "no container selected to remove"),
                }
                vec![]
            }
            Action::Confirm => match std::mem::replace(&mut self.overlay, Overlay::None) {
                Overlay::ConfirmRemove(c) => {
                    self.panes.sessions.retain(|key, _| key.id != c.id);
                    self.start_job(Job::Remove(*c))
                }
                other => {
                    self.overlay = other;
                    vec![]
                }
            },
            Action::Cancel => {
                if let Overlay::ConfirmRemove(c) = &self.overlay {
                    let text = format!("kept {}", c.name);
                    self.say(Tone::Info, text);
                }
                self.overlay = Overlay::None;
                vec![]
            }
            Action::EditLimits => {
                if let Some(c) = self.selected_running("edit the limits of") {
                    self.overlay = Overlay::Form(Form::edit_limits(&c));
                }
                vec![]
            }
            Action::NewContainer => {
                self.overlay = Overlay::Form(Form::new_container(&self.cgroup_parent));
                vec![]
            }
            Action::FormNext
            | Action::FormPrevious
            | Action::FormInput(_)
            | Action::FormBackspace
            | Action::FormClear => {
                if let Overlay::Form(form) = &mut self.overlay {
                    if !form.submitting {
                        match action {
                            Action::FormNext => form.next(),
                            Action::FormPrevious => form.previous(),
                            Action::FormInput(c) => form.input(c),
                            Action::FormBackspace => form.backspace(),
                            _ => form.clear(),
                        }
                    }
                }
                vec![]
            }
            Action::FormSubmit => {
                let Overlay::Form(form) = &mut self.overlay else {
                    return vec![];
                };
                if form.submitting {
                    return vec![];
                }
                match form.job() {
                    Ok(job) => {
                        form.submitting = true;
                        form.error = None;
                        self.start_job(job)
                    }
                    Err(e) => {
                        form.error = Some(e);
                        vec![]
                    }
                }
            }
            _ => vec![],
        }
    }

    /// `l`, and Enter where there is no terminal: the selected container's
    /// log in its view, read and followed by a reader the event loop starts.
    pub(super) fn open_log(&mut self) -> Vec<Effect> {
        let Some(sample) = self.selected_sample() else {
            self.say(Tone::Error, "no container selected to show the log of");
            return vec![];
        };
        let container = Box::new(sample.state.clone());
        let running = sample.running;
        self.log_serial += 1;
        let mut view = LogView::new(&container.name, self.log_serial);
        view.foreground = container.monitor_pid.is_none();
        self.overlay = Overlay::Log(Box::new(view));
        let how = if running {
            "following"
        } else {
            "it has exited"
        };
        self.say(
            Tone::Info,
            format!(
                "log of {} ({how}): / searches, f follows, Esc closes",
                container.name
            ),
        );
        vec![Effect::OpenLog {
            container,
            serial: self.log_serial,
        }]
    }

    /// A form waiting for its job's answer takes it: an error stays in the
    /// form, success closes it. True when the report was a form's error.
    pub(super) fn form_takes_report(&mut self, report: &Report) -> bool {
        if report.kind == JobKind::Create {
            if let Overlay::Form(form) = &mut self.overlay {
                match &report.result {
                    Err(e) => {
                        form.submitting = false;
                        form.error = Some(e.clone());
                        self.say(Tone::Error, format!("not started: {e}"));
                        return true;
                    }
                    Ok(_) => self.overlay = Overlay::None,
                }
            }
        }
        if let Overlay::Form(form) = &mut self.overlay {
            if report.kind == JobKind::Update && form.submitting {
                match &report.result {
                    Err(e) => {
                        form.submitting = false;
                        form.error = Some(e.clone());
                    }
                    Ok(_) => self.overlay = Overlay::None,
                }
            }
        }
        false
    }

    /// Pasted text goes into the form's field.
    pub(super) fn paste_into_form(&mut self, text: &str) {
        if let Overlay::Form(form) = &mut self.overlay {
            text.chars()
                .filter(|c| !c.is_control())
                .for_each(|c| form.input(c));
        }
    }
}

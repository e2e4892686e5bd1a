//! The table's own state: which container is selected, the sort and the
//! filter, and how the table's actions change them. The rows themselves are
//! the latest snapshot's samples, owned by the `App`.

use super::super::collector::{status_word, Sample};
use super::super::keys::{Action, Move};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Created,
    Name,
    Status,
    Cpu,
    Memory,
    Pids,
    OomKills,
    Throttled,
}

impl SortColumn {
    const ALL: [SortColumn; 8] = [
        SortColumn::Created,
        SortColumn::Name,
        SortColumn::Status,
        SortColumn::Cpu,
        SortColumn::Memory,
        SortColumn::Pids,
        SortColumn::OomKills,
        SortColumn::Throttled,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Created => "created",
            SortColumn::Name => "name",
            SortColumn::Status => "status",
            SortColumn::Cpu => "cpu",
            SortColumn::Memory => "memory",
            SortColumn::Pids => "pids",
            SortColumn::OomKills => "oom kills",
            SortColumn::Throttled => "throttled",
        }
    }

    fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }

    /// Numbers sort biggest first, as top does; names, age and status in
    /// their natural order.
    pub fn descending_by_default(self) -> bool {
        matches!(
            self,
            SortColumn::Cpu
                | SortColumn::Memory
                | SortColumn::Pids
                | SortColumn::OomKills
                | SortColumn::Throttled
        )
    }
}

/// When a container was created, finer than the state's whole seconds: the
/// time of its `create` event, which the timeline keeps first.
fn created_ms(sample: &Sample) -> u64 {
    sample
        .events
        .first()
        .filter(|e| e.kind == "create")
        .map_or(sample.state.created * 1000, |e| e.time_ms)
}

/// Selection, sort and filter of the container table.
#[derive(Debug, Clone)]
pub struct Table {
    pub selected: Option<String>,
    pub sort: SortColumn,
    pub sort_descending: bool,
    pub filter: String,
    pub filter_editing: bool,
}

impl Default for Table {
    fn default() -> Table {
        Table {
            selected: None,
            sort: SortColumn::Created,
            sort_descending: false,
            filter: String::new(),
            filter_editing: false,
        }
    }
}

impl Table {
    /// The rows of the table: filtered, then sorted.
    pub fn visible<'a>(&self, samples: &'a [Sample]) -> Vec<&'a Sample> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&Sample> = samples
            .iter()
            .filter(|s| {
                needle.is_empty()
                    || s.state.name.to_lowercase().contains(&needle)
                    || s.state.id.starts_with(&needle)
                    || s.state.image.to_lowercase().contains(&needle)
                    || status_word(s).to_string().contains(&needle)
            })
            .collect();
        let key_f64 = |v: Option<f64>| v.unwrap_or(-1.0);
        rows.sort_by(|a, b| {
            let (sa, sb) = (a.stats.as_ref(), b.stats.as_ref());
            let order = match self.sort {
                SortColumn::Created => created_ms(a).cmp(&created_ms(b)),
                SortColumn::Name => a.state.name.cmp(&b.state.name),
                SortColumn::Status => status_word(a).to_string().cmp(&status_word(b).to_string()),
                SortColumn::Cpu => key_f64(a.cpu_percent).total_cmp(&key_f64(b.cpu_percent)),
                SortColumn::Memory => sa
                    .and_then(|s| s.memory_usage)
                    .cmp(&sb.and_then(|s| s.memory_usage)),
                SortColumn::Pids => sa
                    .and_then(|s| s.pids_current)
                    .cmp(&sb.and_then(|s| s.pids_current)),
                SortColumn::OomKills => sa
                    .and_then(|s| s.oom_kills)
                    .cmp(&sb.and_then(|s| s.oom_kills)),
                SortColumn::Throttled => {
                    key_f64(a.throttled_percent).total_cmp(&key_f64(b.throttled_percent))
                }
            };
            let order = if self.sort_descending {
                order.reverse()
            } else {
                order
            };
            // Equals stay in creation order whichever way the column goes.
            order
                .then_with(|| created_ms(a).cmp(&created_ms(b)))
                .then_with(|| a.state.id.cmp(&b.state.id))
        });
        rows
    }

    /// Keeps a valid selection after the list changed.
    pub fn keep_selection(&mut self, samples: &[Sample]) {
        let visible = self.visible(samples);
        let still_there = self
            .selected
            .as_ref()
            .is_some_and(|id| visible.iter().any(|s| &s.state.id == id));
        if !still_there {
            self.selected = visible.first().map(|s| s.state.id.clone());
        }
    }

    /// Clears the filter; true if there was one.
    pub fn clear_filter(&mut self, samples: &[Sample]) -> bool {
        if self.filter.is_empty() {
            return false;
        }
        self.filter.clear();
        self.keep_selection(samples);
        true
    }

    fn move_selection(&mut self, samples: &[Sample], movement: Move, page: usize) {
        let visible = self.visible(samples);
        if visible.is_empty() {
            return;
        }
        let last = visible.len() - 1;
        let current = self
            .selected
            .as_ref()
            .and_then(|id| visible.iter().position(|s| &s.state.id == id))
            .unwrap_or(0);
        let page = page.max(1);
        let target = match movement {
            Move::Up => current.saturating_sub(1),
            Move::Down => (current + 1).min(last),
            Move::PageUp => current.saturating_sub(page),
            Move::PageDown => (current + page).min(last),
            Move::First => 0,
            Move::Last => last,
        };
        self.selected = Some(visible[target].state.id.clone());
    }

    /// The table's reducer: selection, sort and filter actions, over the
    /// current rows (`page` of them fit on screen). What to say on the
    /// status line, if anything.
    pub fn apply(&mut self, action: &Action, samples: &[Sample], page: usize) -> Option<String> {
        match action {
            Action::Select(movement) => self.move_selection(samples, *movement, page),
            Action::SortNext => {
                self.sort = self.sort.next();
                self.sort_descending = self.sort.descending_by_default();
                return Some(self.sort_text());
            }
            Action::SortReverse => {
                self.sort_descending = !self.sort_descending;
                return Some(self.sort_text());
            }
            Action::SortBy(column) => {
                // A second press of the same column's key reverses it.
                if self.sort == *column {
                    self.sort_descending = !self.sort_descending;
                } else {
                    self.sort = *column;
                    self.sort_descending = column.descending_by_default();
                }
                return Some(self.sort_text());
            }
            Action::StartFilter => self.filter_editing = true,
            Action::FilterInput(c) => {
                self.filter.push(*c);
                self.keep_selection(samples);
            }
            Action::FilterBackspace => {
                self.filter.pop();
                self.keep_selection(samples);
            }
            Action::FilterAccept => self.filter_editing = false,
            Action::FilterCancel => {
                self.filter_editing = false;
                self.clear_filter(samples);
            }
            _ => {}
        }
        None
    }

    /// `sorted by cpu, biggest first (C again reverses)`.
    fn sort_text(&self) -> String {
        let way = match (self.sort, self.sort_descending) {
            (SortColumn::Created, false) => "oldest first",
            (SortColumn::Created, true) => "newest first",
            (SortColumn::Name | SortColumn::Status, false) => "A to Z",
            (SortColumn::Name | SortColumn::Status, true) => "Z to A",
            (_, true) => "biggest first",
            (_, false) => "smallest first",
        };
        format!("sorted by {}, {way} (O reverses)", self.sort.label())
    }

    /// Pasted text goes into the filter being typed.
    pub fn paste(&mut self, text: &str) {
        self.filter.extend(text.chars().filter(|c| !c.is_control()));
    }
}

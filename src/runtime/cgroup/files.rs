//! Reading and writing cgroup files, the same on both versions.
//!
//! The kernel's cgroup files always exist; writes here nevertheless create a missing
//! file, so that a plain directory can stand in for a cgroup in tests. On a real cgroup
//! a missing file fails with EACCES, and the error then says the file does not exist.

use super::CgroupError;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Limits at or above this are the kernel's way of writing "no limit" in v1
/// (`9223372036854771712`, the largest page-aligned i64).
const NO_LIMIT_FROM: u64 = 1 << 62;

/// Writes `value` into a cgroup file in one write, replacing what was there.
pub(super) fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    fs::write(path, value).map_err(|error| write_error(path, value, error))
}

/// Adds one entry to a list-like file (`devices.allow`, `cgroup.subtree_control`).
/// The kernel ignores the offset of a cgroup write, so appending means the same to it
/// as replacing; a plain file standing in for it keeps every entry, in order.
pub(super) fn append(path: &Path, entry: &str) -> Result<(), CgroupError> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut file| file.write_all(format!("{entry}\n").as_bytes()))
        .map_err(|error| write_error(path, entry, error))
}

fn write_error(path: &Path, value: &str, error: io::Error) -> CgroupError {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let hint = write_hint(file_name, error.raw_os_error(), path.exists());
    CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        error,
        hint,
    }
}

/// What to tell the user after the kernel refused a write to `file_name`.
fn write_hint(file_name: &str, errno: Option<i32>, file_exists: bool) -> &'static str {
    match (file_name, errno) {
        // Creating a file in cgroupfs fails with EACCES, which misleads without this.
        (_, Some(libc::EACCES)) if !file_exists => {
            " (the file does not exist: is its controller enabled for this cgroup?)"
        }
        ("cgroup.subtree_control", Some(libc::EBUSY)) => {
            " (that cgroup holds processes itself, and cgroup v2 lets only cgroups without \
             processes pass controllers to their children: pick a cgroup parent hako may use \
             with --cgroup-parent or HAKO_CGROUP_PARENT)"
        }
        ("cgroup.subtree_control", Some(libc::EACCES | libc::EPERM | libc::EROFS)) => {
            " (hako may not change that cgroup: pick a cgroup parent hako may use with \
             --cgroup-parent or HAKO_CGROUP_PARENT)"
        }
        ("memory.limit_in_bytes" | "memory.max", Some(libc::EBUSY)) => {
            " (the container already uses more memory than that, and the kernel could not \
             reclaim enough)"
        }
        ("memory.memsw.limit_in_bytes", Some(libc::EINVAL)) => {
            " (memory+swap must not be below the memory limit)"
        }
        ("memory.limit_in_bytes", Some(libc::EINVAL)) => {
            " (the memory limit must not be above memory+swap)"
        }
        ("cpu.cfs_quota_us" | "cpu.cfs_period_us" | "cpu.max", Some(libc::EINVAL)) => {
            " (the kernel wants a quota of at least 1 ms, a period from 1 ms to 1 s, and no \
             more CPU than the parent cgroup allows)"
        }
        _ => "",
    }
}

/// What to tell the user after mkdir failed on a cgroup directory.
pub(super) fn create_dir_hint(error: &io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(libc::EACCES | libc::EPERM | libc::EROFS) => {
            " (hako may not make cgroups there: pick a cgroup parent hako may use with \
             --cgroup-parent or HAKO_CGROUP_PARENT)"
        }
        _ => "",
    }
}

/// The contents of a cgroup file.
pub(super) fn read(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(|error| CgroupError::Read {
        path: path.to_path_buf(),
        error,
    })
}

/// The contents of a cgroup file, or `None` when this kernel or controller has no
/// such file.
pub(super) fn read_if_present(path: &Path) -> Result<Option<String>, CgroupError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        // ENODEV: the cgroup is being removed at this moment (by another hako).
        Err(error)
            if error.kind() == io::ErrorKind::NotFound
                || error.raw_os_error() == Some(libc::ENODEV) =>
        {
            Ok(None)
        }
        Err(error) => Err(CgroupError::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}

fn parse_error(path: &Path, text: &str) -> CgroupError {
    CgroupError::Parse {
        path: path.to_path_buf(),
        text: text.to_string(),
    }
}

/// A file holding one number (`memory.current`, `cpuacct.usage`), or `None` if missing.
pub(super) fn counter(path: &Path) -> Result<Option<u64>, CgroupError> {
    read_if_present(path)?
        .map(|text| text.trim().parse().map_err(|_| parse_error(path, &text)))
        .transpose()
}

/// A file holding a limit: a number, `max`, `-1`, or v1's huge "no limit" number all
/// read as `None`, as does a missing file.
pub(super) fn limit(path: &Path) -> Result<Option<u64>, CgroupError> {
    let Some(text) = read_if_present(path)? else {
        return Ok(None);
    };
    parse_limit(&text).ok_or_else(|| parse_error(path, &text))
}

/// A limit as the cgroup2-style files (and v1's pids.max) take it: the number, or
/// `max` for none; the writing side of `limit`.
pub(super) fn limit_text(limit: Option<u64>) -> String {
    limit.map_or_else(|| "max".to_string(), |n| n.to_string())
}

/// `Some(limit)` for a well-formed limit (`Some(None)` meaning "no limit").
pub(super) fn parse_limit(text: &str) -> Option<Option<u64>> {
    match text.trim() {
        "max" | "-1" => Some(None),
        number => match number.parse::<u64>().ok()? {
            n if n >= NO_LIMIT_FROM => Some(None),
            n => Some(Some(n)),
        },
    }
}

/// A flat keyed file (`cpu.stat`, `memory.events`, `memory.oom_control`),
/// read once: a reading that needs several of its keys opens it once.
pub(super) struct KeyedFile {
    path: PathBuf,
    text: String,
}

impl KeyedFile {
    /// `None` if the file is missing.
    pub(super) fn read(path: &Path) -> Result<Option<KeyedFile>, CgroupError> {
        Ok(read_if_present(path)?.map(|text| KeyedFile {
            path: path.to_path_buf(),
            text,
        }))
    }

    /// The value of `key`, or `None` if the key is missing.
    pub(super) fn get(&self, key: &str) -> Result<Option<u64>, CgroupError> {
        for line in self.text.lines() {
            let mut words = line.split_whitespace();
            if words.next() == Some(key) {
                return match (words.next().map(str::parse::<u64>), words.next()) {
                    (Some(Ok(value)), None) => Ok(Some(value)),
                    _ => Err(parse_error(&self.path, line)),
                };
            }
        }
        Ok(None)
    }
}

/// The value of `key` in a flat keyed file, or `None` if the file or the key
/// is missing.
pub(super) fn keyed_counter(path: &Path, key: &str) -> Result<Option<u64>, CgroupError> {
    match KeyedFile::read(path)? {
        Some(file) => file.get(key),
        None => Ok(None),
    }
}

/// Several keys of one keyed file, read once; `None` for each when the file is missing.
pub(super) fn keyed_counters<const N: usize>(
    path: &Path,
    keys: [&str; N],
) -> Result<[Option<u64>; N], CgroupError> {
    let mut values = [None; N];
    if let Some(file) = KeyedFile::read(path)? {
        for (value, key) in values.iter_mut().zip(keys) {
            *value = file.get(key)?;
        }
    }
    Ok(values)
}

/// Writes limit files one after another. For a live cgroup it remembers what each file
/// held, so that a change the kernel refuses half-way can be undone.
pub(super) struct LimitWriter {
    written: Option<Vec<(PathBuf, String)>>,
}

impl LimitWriter {
    /// For a new cgroup: a failure removes the whole cgroup, so nothing is remembered.
    pub(super) fn fresh() -> LimitWriter {
        LimitWriter { written: None }
    }

    /// For a live cgroup, whose previous values `undo` can put back.
    pub(super) fn remembering() -> LimitWriter {
        LimitWriter {
            written: Some(Vec::new()),
        }
    }

    pub(super) fn write(&mut self, path: &Path, value: &str) -> Result<(), CgroupError> {
        let Some(written) = &mut self.written else {
            return write(path, value);
        };
        let previous = read(path)?;
        write(path, value)?;
        written.push((path.to_path_buf(), previous.trim().to_string()));
        Ok(())
    }

    /// The names of the files written so far, in order.
    #[cfg(test)]
    pub(super) fn written_files(&self) -> Vec<String> {
        self.written
            .iter()
            .flatten()
            .filter_map(|(path, _)| path.file_name()?.to_str().map(String::from))
            .collect()
    }

    /// Puts back what the files held, newest first: undoing in the reverse order keeps
    /// every step valid when one limit must stay below another (v1 memory and memsw).
    pub(super) fn undo(self) -> Result<(), CgroupError> {
        let mut first_error = None;
        for (path, previous) in self.written.into_iter().flatten().rev() {
            if let Err(error) = write(&path, &previous) {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Runs `change`; if it fails, undoes what it wrote and says whether that worked.
    pub(super) fn apply_or_undo(
        mut self,
        change: impl FnOnce(&mut LimitWriter) -> Result<(), CgroupError>,
    ) -> Result<(), CgroupError> {
        let Err(error) = change(&mut self) else {
            return Ok(());
        };
        let error = Box::new(error);
        match self.undo() {
            Ok(()) => Err(CgroupError::UpdateUndone { error }),
            Err(undo_error) => Err(CgroupError::UpdateHalfDone {
                error,
                undo_error: Box::new(undo_error),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_max_and_huge_numbers_as_none() {
        assert_eq!(parse_limit("max\n"), Some(None));
        assert_eq!(parse_limit("-1\n"), Some(None));
        assert_eq!(parse_limit("9223372036854771712\n"), Some(None));
        assert_eq!(parse_limit("10485760\n"), Some(Some(10 << 20)));
        assert_eq!(parse_limit("lots"), None);
    }

    #[test]
    fn keyed_counters_come_from_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("memory.oom_control");
        fs::write(&file, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n").unwrap();
        assert_eq!(keyed_counter(&file, "oom_kill").unwrap(), Some(3));
        assert_eq!(keyed_counter(&file, "oom_kill_disable").unwrap(), Some(0));
        assert_eq!(keyed_counter(&file, "nothing").unwrap(), None);
        let missing = dir.path().join("memory.events");
        assert_eq!(keyed_counter(&missing, "oom_kill").unwrap(), None);
        fs::write(&file, "oom_kill many\n").unwrap();
        assert!(keyed_counter(&file, "oom_kill").is_err());
    }

    #[test]
    fn missing_counters_are_none_not_zero() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(counter(&dir.path().join("memory.peak")).unwrap(), None);
        assert_eq!(limit(&dir.path().join("pids.max")).unwrap(), None);
    }

    #[test]
    fn undo_puts_back_the_previous_values_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&a, "1\n").unwrap();
        fs::write(&b, "2\n").unwrap();
        let mut writer = LimitWriter::remembering();
        writer.write(&a, "10").unwrap();
        writer.write(&b, "20").unwrap();
        writer.write(&a, "100").unwrap();
        writer.undo().unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "1");
        assert_eq!(fs::read_to_string(&b).unwrap(), "2");
    }

    #[test]
    fn a_failed_change_is_undone_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        fs::write(&a, "1").unwrap();
        let in_missing_dir = dir.path().join("gone").join("b");
        let error = LimitWriter::remembering()
            .apply_or_undo(|w| {
                w.write(&a, "10")?;
                w.write(&in_missing_dir, "20")
            })
            .unwrap_err();
        assert!(matches!(error, CgroupError::UpdateUndone { .. }), "{error}");
        assert!(error.to_string().contains("previous limits are back"));
        assert_eq!(fs::read_to_string(&a).unwrap(), "1");
    }

    #[test]
    fn hints_explain_the_common_refusals() {
        assert!(write_hint("memory.limit_in_bytes", Some(libc::EBUSY), true).contains("uses more"));
        assert!(
            write_hint("cgroup.subtree_control", Some(libc::EBUSY), true)
                .contains("--cgroup-parent")
        );
        assert!(write_hint("memory.max", Some(libc::EACCES), false).contains("does not exist"));
        assert_eq!(write_hint("pids.max", Some(libc::EINVAL), true), "");
        assert!(create_dir_hint(&io::Error::from_raw_os_error(libc::EROFS))
            .contains("HAKO_CGROUP_PARENT"));
    }
}

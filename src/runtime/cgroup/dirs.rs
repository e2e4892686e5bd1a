//! Making and removing cgroup directories, the same on both versions.

use super::files::{self, create_dir_hint};
use super::CgroupError;
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long `remove` waits for killed processes to leave, and then for rmdir to
/// stop failing with EBUSY (the kernel frees a cgroup a moment after its last exit).
pub(super) const REMOVE_WAIT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(10);

/// Another hako removing an empty parent between two of our mkdirs makes the second
/// fail with ENOENT; starting again from the top a few times gets past it.
const MKDIR_ATTEMPTS: usize = 5;

/// Makes `base/relative` one level at a time, pushing each directory it makes onto
/// `made` (so the caller can take them away again). `prepare_parent` runs on `base` and
/// on every level above the last, before the next level is made (v2 enables
/// controllers there).
pub(super) fn make_dirs(
    base: &Path,
    relative: &Path,
    made: &mut Vec<PathBuf>,
    prepare_parent: &mut dyn FnMut(&Path) -> Result<(), CgroupError>,
) -> Result<(), CgroupError> {
    let levels: Vec<_> = relative.components().collect();
    let mut attempt = 1;
    'again: loop {
        prepare_parent(base)?;
        let mut dir = base.to_path_buf();
        for (index, level) in levels.iter().enumerate() {
            dir.push(level);
            match fs::create_dir(&dir) {
                Ok(()) => made.push(dir.clone()),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(error)
                    if error.kind() == io::ErrorKind::NotFound && attempt < MKDIR_ATTEMPTS =>
                {
                    attempt += 1;
                    continue 'again;
                }
                Err(error) => {
                    let hint = create_dir_hint(&error);
                    return Err(CgroupError::CreateDir {
                        path: dir,
                        error,
                        hint,
                    });
                }
            }
            if index + 1 < levels.len() {
                prepare_parent(&dir)?;
            }
        }
        return Ok(());
    }
}

/// Makes the one directory `dir` (its parent exists), pushing it onto `made`; one left
/// by an earlier hako is fine.
pub(super) fn make_dir(dir: &Path, made: &mut Vec<PathBuf>) -> Result<(), CgroupError> {
    match fs::create_dir(dir) {
        Ok(()) => {
            made.push(dir.to_path_buf());
            Ok(())
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => {
            let hint = create_dir_hint(&error);
            Err(CgroupError::CreateDir {
                path: dir.to_path_buf(),
                error,
                hint,
            })
        }
    }
}

/// Takes away the directories `make_dirs` made, deepest first, after a later step
/// failed. The first error is what the user needs; this one is only tidying up.
pub(super) fn remove_made(made: &[PathBuf]) {
    for dir in made.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// Kills every process in the cgroups `dirs` and their sub-cgroups, and waits (at most
/// `REMOVE_WAIT`) until none is left. Processes that outlive the wait make the rmdir
/// that follows fail, with an error naming the cgroup. Returns the subtree of each of
/// `dirs` as the last look found it, for `remove_tree`: walking the trees again costs
/// a directory read per cgroup at every removal.
///
/// When a look finds processes, `freeze` runs, the processes are looked up again and
/// killed, and `thaw` runs (v1 freezes so that nothing forks meanwhile; v2 without
/// cgroup.kill passes no-ops). The looks are repeated, since a container may freeze a
/// sub-cgroup again after one thaw, or fork before the freeze took.
pub(super) fn kill_all(
    dirs: &[PathBuf],
    freeze: impl Fn(),
    thaw: impl Fn(),
) -> Result<Vec<Vec<PathBuf>>, CgroupError> {
    let deadline = Instant::now() + REMOVE_WAIT;
    loop {
        let trees: Vec<Vec<PathBuf>> = dirs.iter().map(|dir| subtree(dir)).collect();
        if !any_process_in(&trees)? || Instant::now() >= deadline {
            return Ok(trees);
        }
        freeze();
        let killed = kill_every_process_in(&trees);
        thaw();
        killed?;
        sleep(POLL);
    }
}

/// Whether the cgroups of `trees` hold a process other than this one. hako itself never
/// runs inside a container's cgroup; if it somehow did, killing it would leave the
/// cgroup behind anyway.
fn any_process_in(trees: &[Vec<PathBuf>]) -> Result<bool, CgroupError> {
    let this_process = std::process::id() as i32;
    for dir in trees.iter().flatten() {
        if pids_in(dir)?.into_iter().any(|pid| pid != this_process) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn kill_every_process_in(trees: &[Vec<PathBuf>]) -> Result<(), CgroupError> {
    let this_process = std::process::id() as i32;
    for dir in trees.iter().flatten() {
        for pid in pids_in(dir)?.into_iter().filter(|&pid| pid != this_process) {
            match kill(Pid::from_raw(pid), Signal::SIGKILL) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(error) => {
                    return Err(CgroupError::Kill {
                        pid,
                        path: dir.clone(),
                        error,
                    })
                }
            }
        }
    }
    Ok(())
}

/// The pids in `dir/cgroup.procs`; none when the cgroup is already gone.
fn pids_in(dir: &Path) -> Result<Vec<i32>, CgroupError> {
    let procs = dir.join("cgroup.procs");
    let text = files::read_if_present(&procs)?.unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            line.trim().parse().map_err(|_| CgroupError::Parse {
                path: procs.clone(),
                text: line.to_string(),
            })
        })
        .collect()
}

/// `dir` and every cgroup below it, deepest first (the order rmdir needs). A container
/// may have made sub-cgroups of its own.
pub(super) fn subtree(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                found.extend(subtree(&entry.path()));
            }
        }
    }
    found.push(dir.to_path_buf());
    found
}

/// Removes the cgroups of one `subtree`, deepest first. Already gone is fine; EBUSY
/// (the kernel still tearing down the last process) is retried for up to `REMOVE_WAIT`.
pub(super) fn remove_tree(subtree: &[PathBuf]) -> Result<(), CgroupError> {
    let deadline = Instant::now() + REMOVE_WAIT;
    for cgroup in subtree.iter().cloned() {
        loop {
            match fs::remove_dir(&cgroup) {
                Ok(()) => break,
                Err(error) if error.kind() == io::ErrorKind::NotFound => break,
                Err(error)
                    if error.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline =>
                {
                    sleep(POLL)
                }
                Err(error) => {
                    let hint = match error.raw_os_error() {
                        Some(libc::EBUSY) => " (processes are still in it)",
                        _ => "",
                    };
                    return Err(CgroupError::RemoveDir {
                        path: cgroup,
                        error,
                        hint,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Removes `base/relative` and its ancestors up to (not including) `base` while they
/// are empty, so no empty `hako` directory stays on the host. A parent that still has
/// other containers (ENOTEMPTY, EBUSY) stops the climb; one already gone is skipped.
pub(super) fn remove_empty_parents(base: &Path, relative: &Path) {
    let mut dir = base.join(relative);
    while dir != base && dir.starts_with(base) {
        match fs::remove_dir(&dir) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            // Parents are tidied on a best-effort basis; the container itself is gone.
            Err(_) => return,
        }
        if !dir.pop() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_dirs_reports_what_it_made_and_prepares_each_parent() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path();
        fs::create_dir(base.join("hako")).unwrap();
        let mut made = Vec::new();
        let mut prepared = Vec::new();
        make_dirs(base, Path::new("hako/web/c1"), &mut made, &mut |dir| {
            prepared.push(dir.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert_eq!(made, [base.join("hako/web"), base.join("hako/web/c1")]);
        assert_eq!(
            prepared,
            [base.to_path_buf(), base.join("hako"), base.join("hako/web")]
        );
        remove_made(&made);
        assert!(base.join("hako").is_dir());
        assert!(!base.join("hako/web").exists());
    }

    #[test]
    fn make_dirs_names_the_directory_it_could_not_make() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("hako"), "a file, not a dir").unwrap();
        let error = make_dirs(
            root.path(),
            Path::new("hako/c1"),
            &mut Vec::new(),
            &mut |_| Ok(()),
        )
        .unwrap_err();
        assert!(error.to_string().contains("hako/c1"), "{error}");
    }

    #[test]
    fn removing_a_gone_cgroup_is_fine_and_empty_parents_go_too() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path();
        fs::create_dir_all(base.join("hako/web/c1")).unwrap();
        fs::create_dir_all(base.join("hako/other")).unwrap();
        fs::create_dir(base.join("hako/web/c1/payload")).unwrap();
        let trees = kill_all(&[base.join("hako/web/c1")], || {}, || {}).unwrap();
        assert_eq!(
            trees,
            [[base.join("hako/web/c1/payload"), base.join("hako/web/c1")]]
        );
        remove_tree(&trees[0]).unwrap();
        remove_tree(&trees[0]).unwrap();
        remove_empty_parents(base, Path::new("hako/web"));
        assert!(!base.join("hako/web").exists());
        // `hako` still holds another container's parent, so it stays.
        assert!(base.join("hako/other").is_dir());
        fs::remove_dir(base.join("hako/other")).unwrap();
        remove_empty_parents(base, Path::new("hako/web"));
        assert!(!base.join("hako").exists());
        assert!(base.is_dir());
    }
}

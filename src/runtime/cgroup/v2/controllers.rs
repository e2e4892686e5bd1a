//! Passing controllers down: on v2 a cgroup can use a controller only when its parent
//! lists it in `cgroup.subtree_control` (cgroup-v2.rst, "Enabling and Disabling").

use super::super::files;
use super::super::CgroupError;
use std::path::Path;

/// Enables in `dir`'s `cgroup.subtree_control` each of `wanted` that `dir` has,
/// one per write (a single write of several fails as a whole when one is refused), and
/// returns the controllers `dir`'s children get. A controller in `needed` that `dir`
/// does not have is an error naming it.
pub(super) fn pass_down(
    dir: &Path,
    wanted: &[&'static str],
    needed: &[&'static str],
) -> Result<Vec<&'static str>, CgroupError> {
    let controllers = dir.join("cgroup.controllers");
    let available =
        files::read_if_present(&controllers)?.ok_or_else(|| CgroupError::NotCgroup2 {
            path: dir.to_path_buf(),
        })?;
    let subtree_control = dir.join("cgroup.subtree_control");
    let enabled = files::read_if_present(&subtree_control)?.unwrap_or_default();
    let plan = plan(&available, &enabled, wanted, needed).map_err(|controller| {
        CgroupError::ControllerUnavailable {
            controller,
            path: controllers.clone(),
            listed: available.trim().to_string(),
        }
    })?;
    for controller in &plan.to_enable {
        files::append(&subtree_control, &format!("+{controller}"))?;
    }
    Ok(plan.passed_down)
}

#[derive(Debug, PartialEq, Eq)]
struct Plan {
    /// What the children will have.
    passed_down: Vec<&'static str>,
    /// What must still be written to subtree_control. Those already there are left
    /// alone, so an ancestor hako may not write to (a delegated tree) is fine when it
    /// passes them down already.
    to_enable: Vec<&'static str>,
}

/// From the texts of `cgroup.controllers` and `cgroup.subtree_control`; `Err` names the
/// first needed controller that is not available.
fn plan(
    available: &str,
    enabled: &str,
    wanted: &[&'static str],
    needed: &[&'static str],
) -> Result<Plan, &'static str> {
    let listed = |text: &str, name: &str| text.split_whitespace().any(|word| word == name);
    if let Some(missing) = needed.iter().find(|name| !listed(available, name)) {
        return Err(missing);
    }
    let passed_down: Vec<_> = wanted
        .iter()
        .copied()
        .filter(|name| listed(available, name))
        .collect();
    let to_enable = passed_down
        .iter()
        .copied()
        .filter(|name| !listed(enabled, name))
        .collect();
    Ok(Plan {
        passed_down,
        to_enable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &str = "cpuset cpu io memory hugetlb pids\n";
    const WANTED: [&str; 3] = ["memory", "cpu", "pids"];

    #[test]
    fn wanted_controllers_the_dir_has_are_passed_down() {
        assert_eq!(
            plan(ALL, "", &WANTED, &[]),
            Ok(Plan {
                passed_down: vec!["memory", "cpu", "pids"],
                to_enable: vec!["memory", "cpu", "pids"],
            })
        );
        assert_eq!(
            plan(ALL, "cpu io\n", &WANTED, &["cpu"]),
            Ok(Plan {
                passed_down: vec!["memory", "cpu", "pids"],
                to_enable: vec!["memory", "pids"],
            })
        );
    }

    #[test]
    fn a_missing_controller_is_an_error_only_when_needed() {
        // This project's hybrid machines: the unified hierarchy has only hugetlb.
        assert_eq!(
            plan("hugetlb\n", "", &WANTED, &[]),
            Ok(Plan {
                passed_down: vec![],
                to_enable: vec![],
            })
        );
        assert_eq!(
            plan("hugetlb\n", "", &WANTED, &["pids", "memory"]),
            Err("pids")
        );
        // "cpuset" must not pass for "cpu".
        assert_eq!(plan("cpuset memory\n", "", &WANTED, &["cpu"]), Err("cpu"));
    }
}

//! The capability set a container keeps.
//!
//! hako keeps Docker's default 14 capabilities (see ../shared/REFERENCE.md),
//! changed by `--cap-add` / `--cap-drop` with Docker's rules: names with or
//! without `CAP_`, any case, and `ALL` (every capability hako itself may
//! hold: a host can withhold some from its bounding set). The same set goes
//! into the bounding, permitted and effective sets; the inheritable and
//! ambient sets stay empty, as in Docker since CVE-2022-24769 (an inheritable
//! set let a program with inheritable file capabilities gain them at exec).

use caps::{CapSet, Capability, CapsHashSet};
use std::str::FromStr;
use thiserror::Error;

/// Docker's default capabilities.
pub const DOCKER_DEFAULT: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

#[derive(Debug, Error)]
pub enum CapabilityError {
    #[error("unknown capability {0:?}: use a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL")]
    Unknown(String),
    #[error("failed to {action} capability set: {source}")]
    Apply {
        action: &'static str,
        source: caps::errors::CapsError,
    },
}

/// Parses one `--cap-add`/`--cap-drop` name. `None` means `ALL`.
fn parse_name(name: &str) -> Result<Option<Capability>, CapabilityError> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(None);
    }
    let canonical = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    Capability::from_str(&canonical)
        .map(Some)
        .map_err(|_| CapabilityError::Unknown(name.to_string()))
}

/// Computes the kept set from Docker's default and the user's additions and
/// removals. As in Docker, `--cap-drop ALL` empties the set before the
/// additions, and `--cap-add ALL` fills it, with `available()`, before the
/// removals.
pub fn compute(add: &[String], drop: &[String]) -> Result<CapsHashSet, CapabilityError> {
    compute_from(add, drop, &available())
}

/// The capabilities hako may pass on: its own bounding set. A capability
/// outside it can never be regained, so `--cap-add ALL` means these.
pub fn available() -> CapsHashSet {
    caps::read(None, CapSet::Bounding).unwrap_or_else(|_| caps::all())
}

/// With `--cap-add ALL`, the capabilities hako knows that this host
/// withholds from it (not in its bounding set), sorted by name.
pub fn withheld_from_all(add: &[String]) -> Vec<String> {
    if !add.iter().any(|n| n.trim().eq_ignore_ascii_case("ALL")) {
        return vec![];
    }
    let available = available();
    names(&caps::all().difference(&available).copied().collect())
}

fn compute_from(
    add: &[String],
    drop: &[String],
    all: &CapsHashSet,
) -> Result<CapsHashSet, CapabilityError> {
    let add: Vec<Option<Capability>> = add
        .iter()
        .map(|n| parse_name(n))
        .collect::<Result<_, _>>()?;
    let drop: Vec<Option<Capability>> = drop
        .iter()
        .map(|n| parse_name(n))
        .collect::<Result<_, _>>()?;

    let mut set: CapsHashSet = DOCKER_DEFAULT.iter().copied().collect();
    if drop.contains(&None) {
        set.clear();
    }
    if add.contains(&None) {
        set = all.clone();
    }
    for cap in drop.iter().flatten() {
        set.remove(cap);
    }
    for cap in add.iter().flatten() {
        set.insert(*cap);
    }
    Ok(set)
}

/// The names of a set, sorted, for state files and messages.
pub fn names(set: &CapsHashSet) -> Vec<String> {
    let mut names: Vec<String> = set.iter().map(|c| c.to_string()).collect();
    names.sort();
    names
}

/// Limits the calling process to `keep`: drops everything else from the
/// bounding set first (that needs CAP_SETPCAP, which we still hold), then sets
/// inheritable, permitted and effective, and clears ambient.
///
/// Called in the container's process after all mounts are made (they need
/// CAP_SYS_ADMIN) and just before the user's command is executed.
pub fn restrict_bounding_set(keep: &CapsHashSet) -> Result<(), CapabilityError> {
    // Only the capabilities this kernel knows can be dropped; asking for a
    // newer one gives EINVAL.
    for cap in caps::runtime::thread_all_supported() {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).map_err(|source| CapabilityError::Apply {
                action: "drop from the bounding",
                source,
            })?;
        }
    }
    Ok(())
}

/// Sets permitted and effective to `keep`, and empties inheritable and
/// ambient. For a non-root user the kernel has already emptied permitted and
/// effective at setuid; `keep` must then be empty, as Docker does for
/// non-root users.
pub fn set_process_sets(keep: &CapsHashSet) -> Result<(), CapabilityError> {
    let apply = |set, to: &CapsHashSet, action| {
        caps::set(None, set, to).map_err(|source| CapabilityError::Apply { action, source })
    };
    // Effective must shrink before permitted; inheritable empty, as Docker
    // since CVE-2022-24769.
    apply(CapSet::Effective, keep, "set the effective")?;
    apply(
        CapSet::Inheritable,
        &CapsHashSet::new(),
        "empty the inheritable",
    )?;
    apply(CapSet::Permitted, keep, "set the permitted")?;
    apply(CapSet::Effective, keep, "set the effective")?;
    caps::clear(None, CapSet::Ambient).map_err(|source| CapabilityError::Apply {
        action: "clear the ambient",
        source,
    })
}

/// The capability mask as `/proc/self/status` prints it (CapBnd, CapEff).
pub fn mask(set: &CapsHashSet) -> u64 {
    set.iter().fold(0u64, |m, c| m | c.bitmask())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn default_is_dockers_fourteen() {
        let set = compute(&[], &[]).unwrap();
        assert_eq!(set.len(), 14);
        // The mask Docker containers show in /proc/self/status as CapEff.
        assert_eq!(mask(&set), 0x00000000a80425fb);
    }

    #[test]
    fn names_with_or_without_prefix_in_any_case() {
        let set = compute(&s(&["sys_admin", "CAP_NET_ADMIN"]), &s(&["Sys_Chroot"])).unwrap();
        assert!(set.contains(&Capability::CAP_SYS_ADMIN));
        assert!(set.contains(&Capability::CAP_NET_ADMIN));
        assert!(!set.contains(&Capability::CAP_SYS_CHROOT));
        assert_eq!(set.len(), 15);
    }

    #[test]
    fn drop_all_then_add() {
        let set = compute(&s(&["KILL"]), &s(&["ALL"])).unwrap();
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            vec![Capability::CAP_KILL]
        );
    }

    #[test]
    fn add_all_then_drop() {
        let set = compute_from(&s(&["all"]), &s(&["SYS_ADMIN"]), &caps::all()).unwrap();
        assert!(!set.contains(&Capability::CAP_SYS_ADMIN));
        assert_eq!(set.len(), caps::all().len() - 1);
    }

    #[test]
    fn add_all_means_what_the_host_leaves_hako() {
        let mut host = caps::all();
        host.remove(&Capability::CAP_SYS_RESOURCE);
        let set = compute_from(&s(&["ALL"]), &[], &host).unwrap();
        assert_eq!(set, host);
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(matches!(
            compute(&s(&["FLY"]), &[]),
            Err(CapabilityError::Unknown(name)) if name == "FLY"
        ));
    }
}

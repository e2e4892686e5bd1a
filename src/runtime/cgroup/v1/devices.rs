//! v1 devices controller: deny every device, then allow the few a container needs.
//! (On v2 device access is kept in check by mounting /dev nodev, elsewhere.)

use super::super::controller::Controller;
use super::super::files::{self, LimitWriter};
use super::super::CgroupError;
use crate::runtime::limits::Limits;
use std::path::Path;

/// `TYPE MAJOR:MINOR ACCESS` rules, as devices.allow takes them (r read, w write,
/// m mknod): the nodes every runtime gives a container, and mknod of any node, which
/// is harmless while opening it stays denied.
const ALLOWED: [&str; 11] = [
    "c 1:3 rwm",   // null
    "c 1:5 rwm",   // zero
    "c 1:7 rwm",   // full
    "c 1:8 rwm",   // random
    "c 1:9 rwm",   // urandom
    "c 5:0 rwm",   // tty
    "c 5:1 rwm",   // console
    "c 5:2 rwm",   // ptmx
    "c 136:* rwm", // the container's ptys (devpts)
    "c *:* m",
    "b *:* m",
];

pub(super) struct Devices;

impl Controller for Devices {
    fn name(&self) -> &'static str {
        "devices"
    }

    /// The allowlist is the same for every container, so `limits` has no say in it, and
    /// an update (which writes only what `limits` sets) leaves it alone.
    fn apply(
        &self,
        dir: &Path,
        _limits: &Limits,
        _files: &mut LimitWriter,
    ) -> Result<(), CgroupError> {
        files::append(&dir.join("devices.deny"), "a")?;
        for rule in ALLOWED {
            files::append(&dir.join("devices.allow"), rule)?;
        }
        Ok(())
    }
}

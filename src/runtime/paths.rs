//! Where hako keeps its files.
//!
//! By default images and containers live under `/var/lib/hako` and runtime
//! state (sockets, locks) under `/run/hako`, as Docker and Podman split them.
//! `--root DIR` (or `HAKO_ROOT`) puts everything under one directory so that
//! tests and experiments run side by side without touching each other.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Persistent data: `images/`, `containers/`.
    pub lib: PathBuf,
    /// Runtime data that must not survive a reboot.
    pub run: PathBuf,
}

impl Paths {
    /// The system-wide default locations.
    pub fn system() -> Paths {
        Paths {
            lib: PathBuf::from("/var/lib/hako"),
            run: PathBuf::from("/run/hako"),
        }
    }

    /// Everything under one directory (`--root`).
    pub fn under(root: &Path) -> Paths {
        Paths {
            lib: root.to_path_buf(),
            run: root.join("run"),
        }
    }

    pub fn images(&self) -> PathBuf {
        self.lib.join("images")
    }

    pub fn containers(&self) -> PathBuf {
        self.lib.join("containers")
    }

    /// The directory of one container: its state file, upper and work dirs.
    pub fn container(&self, id: &str) -> PathBuf {
        self.containers().join(id)
    }
}

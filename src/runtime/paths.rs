//! Where hako keeps its files.
//!
//! By default images and containers (with their state, logs and attach
//! sockets) live under `/var/lib/hako`. `--root DIR` (or `HAKO_ROOT`) puts
//! everything under another directory, so that tests and experiments run
//! side by side without touching each other.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Everything: `images/`, `containers/`.
    pub lib: PathBuf,
}

impl Paths {
    /// The system-wide default locations.
    pub fn system() -> Paths {
        Paths {
            lib: PathBuf::from("/var/lib/hako"),
        }
    }

    /// Everything under another directory (`--root`).
    pub fn under(root: &Path) -> Paths {
        Paths {
            lib: root.to_path_buf(),
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

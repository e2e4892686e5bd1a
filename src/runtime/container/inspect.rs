//! What `hako inspect` shows of a container.

use super::oci;
use crate::runtime::state::ContainerState;
use std::path::Path;

/// A container as `hako inspect` shows it: its state, and its Spec under
/// `config` (null when the container has no config.json).
pub fn inspect(state: &ContainerState, dir: &Path) -> serde_json::Value {
    let mut shown = serde_json::to_value(state).unwrap_or_default();
    if let Some(fields) = shown.as_object_mut() {
        let config = oci::read_config(dir)
            .ok()
            .and_then(|spec| serde_json::to_value(spec).ok());
        fields.insert("config".into(), config.unwrap_or_default());
    }
    shown
}

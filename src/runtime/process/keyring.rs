//! A fresh session keyring for each container process.
//!
//! A process inherits its parent's session keyring (keyrings(7)), so without
//! this a container would share the operator's: it could read the keys hako's
//! caller holds there and add its own. runc joins a new anonymous session
//! keyring for each container for that reason. Keyrings are not namespaced:
//! the user keyring (`@u`) of uid 0 in the container is host root's, which
//! only a seccomp filter that refuses keyctl (or a user namespace) stops.

use thiserror::Error;

/// keyctl(2) operation: join (here, create) a new anonymous session keyring.
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;

#[derive(Debug, Error)]
#[error("failed to join a new session keyring: {0}")]
pub struct KeyringError(nix::Error);

/// Replaces this process's session keyring with a new, empty one. Must run
/// before the seccomp filter (which refuses keyctl) and the uid switch.
pub fn join_new_session_keyring() -> Result<(), KeyringError> {
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING with a NULL name reads no memory.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    match nix::Error::result(serial) {
        Ok(_) => Ok(()),
        // A kernel without keyrings has nothing to share.
        Err(nix::Error::ENOSYS) => Ok(()),
        Err(e) => Err(KeyringError(e)),
    }
}

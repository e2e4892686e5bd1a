//! The exit codes users see, named once, as docker gives them: the command's
//! own status, 128 + N when it was killed by signal N (137 for SIGKILL, which
//! an OOM kill is), and three of hako's own.

/// hako itself failed: a bad flag, an unknown image, a limit the kernel
/// refused, a set-up step.
pub const HAKO_ERROR: i32 = 125;
/// The command was found but cannot be executed.
pub const CANNOT_EXECUTE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;

/// The status of a process killed by `signal`, as a shell reports it.
pub const fn killed_by(signal: i32) -> i32 {
    128 + signal
}

/// The status of a process killed by SIGKILL, which an OOM kill is.
pub const KILLED_BY_SIGKILL: i32 = killed_by(libc::SIGKILL);

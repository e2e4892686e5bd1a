//! A failure in a process that was to become a container's command (its
//! first process, an exec) or the monitor that starts one, before `execve`.

use crate::runtime::exit_code;
use thiserror::Error;

/// What failed, in one line, and the exit code hako reports for it: set-up
/// (`HAKO_ERROR`), or the command itself (`CANNOT_EXECUTE`, `NOT_FOUND`).
/// It is text because it crosses a process boundary (the set-up channel):
/// the typed cause stays in the process where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct SetupError {
    pub exit_code: i32,
    pub message: String,
}

impl SetupError {
    pub fn new(message: String) -> SetupError {
        SetupError::with_code(exit_code::HAKO_ERROR, message)
    }

    pub fn with_code(exit_code: i32, message: String) -> SetupError {
        SetupError { exit_code, message }
    }

    pub fn from_display(error: impl std::fmt::Display) -> SetupError {
        SetupError::new(error.to_string())
    }
}

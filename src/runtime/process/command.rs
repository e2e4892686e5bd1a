//! The last step of the container's first process and of an exec: find the
//! command as a shell would and execute it, with docker's exit codes when
//! that fails.

use super::setup_error::SetupError;
use crate::runtime::exit_code;
use nix::errno::Errno;
use nix::unistd::execve;
use std::convert::Infallible;
use std::ffi::CString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The PATH a shell uses when the environment has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Finds `command` in the PATH of `env` (`KEY=VALUE` entries). A name with a
/// slash is taken as it is. A match that is not executable is returned when
/// nothing better is found, so that its execve gives the reason (126).
pub fn find_executable(command: &str, env: &[String]) -> Result<PathBuf, SetupError> {
    if command.contains('/') {
        return Ok(PathBuf::from(command));
    }
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let mut not_executable = None;
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(command);
        if let Ok(meta) = fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
            not_executable.get_or_insert(candidate);
        }
    }
    not_executable.ok_or_else(|| {
        SetupError::with_code(
            exit_code::NOT_FOUND,
            format!("exec: {command:?}: executable file not found in $PATH"),
        )
    })
}

/// Executes `command` (found in the PATH of `env`) with `args` and the
/// environment `env_c` (the same entries as `env`). Returns only on failure.
pub fn execute(
    command: &str,
    args: &[CString],
    env: &[String],
    env_c: &[CString],
) -> Result<Infallible, SetupError> {
    let program = find_executable(command, env)?;
    let path = CString::new(program.as_os_str().as_encoded_bytes())
        .map_err(|_| SetupError::new(format!("{} contains a NUL byte", program.display())))?;
    let errno = match execve(&path, args, env_c) {
        Ok(never) => match never {},
        Err(errno) => errno,
    };
    Err(SetupError::with_code(
        exec_failure_code(errno),
        format!("exec {}: {}", program.display(), errno.desc()),
    ))
}

/// Docker's codes: 127 when the file is missing, 126 when it cannot run.
fn exec_failure_code(errno: Errno) -> i32 {
    if errno == Errno::ENOENT {
        exit_code::NOT_FOUND
    } else {
        exit_code::CANNOT_EXECUTE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_path_is_searched_in_order_and_a_missing_command_is_127() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        fs::create_dir(&first).unwrap();
        fs::create_dir(&second).unwrap();
        fs::write(first.join("tool"), "").unwrap();
        fs::write(second.join("tool"), "").unwrap();
        fs::set_permissions(second.join("tool"), fs::Permissions::from_mode(0o755)).unwrap();
        let env = [format!("PATH={}:{}", first.display(), second.display())];
        // The first match is not executable: the executable one wins.
        assert_eq!(find_executable("tool", &env).unwrap(), second.join("tool"));
        fs::set_permissions(second.join("tool"), fs::Permissions::from_mode(0o644)).unwrap();
        // Nothing executable: the first match, for execve to refuse (126).
        assert_eq!(find_executable("tool", &env).unwrap(), first.join("tool"));
        let missing = find_executable("nope", &env).unwrap_err();
        assert_eq!(missing.exit_code, exit_code::NOT_FOUND);
        assert_eq!(
            missing.message,
            "exec: \"nope\": executable file not found in $PATH"
        );
        assert_eq!(find_executable("./x", &env).unwrap(), PathBuf::from("./x"));
    }

    #[test]
    fn a_failed_execve_is_127_when_missing_and_126_otherwise() {
        assert_eq!(exec_failure_code(Errno::ENOENT), exit_code::NOT_FOUND);
        for errno in [Errno::EACCES, Errno::ENOEXEC, Errno::ETXTBSY] {
            assert_eq!(exec_failure_code(errno), exit_code::CANNOT_EXECUTE);
        }
    }
}

//! Whether a process recorded in a container's state is still there.

use nix::sys::signal::kill;
use nix::unistd::Pid;

/// Whether a process exists and is not a zombie waiting to be reaped.
pub fn process_alive(pid: i32) -> bool {
    let pid = Pid::from_raw(pid);
    kill(pid, None).is_ok() && !is_zombie(pid)
}

fn is_zombie(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(process_alive(std::process::id() as i32));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert!(!process_alive(pid));
    }
}

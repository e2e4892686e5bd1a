//! A compiled BPF program and its installation with seccomp(2).
//!
//! The program is libseccomp's export: `struct sock_filter` records of 8
//! bytes in the machine's byte order. Installing it is one syscall, so a
//! container's start pays no compile: the parent reads the cached program
//! before clone, and the container's process only hands it to the kernel.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// The kernel's limit on one filter (BPF_MAXINSNS in linux/bpf_common.h).
const MAX_INSTRUCTIONS: usize = 4096;

/// A ready BPF program, checked to be whole instructions within the
/// kernel's limit.
#[derive(Debug, Clone)]
pub struct BpfProgram {
    filters: Vec<libc::sock_filter>,
}

/// A compiled program that cannot be read back or kept.
#[derive(Debug, Error)]
pub enum ProgramError {
    #[error("failed to read the seccomp program {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the seccomp program {} is damaged ({problem}); remove it and run again", path.display())]
    Damaged { path: PathBuf, problem: String },
    #[error("failed to write the seccomp program {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl BpfProgram {
    /// Reads a program exported by libseccomp from `path`.
    pub fn read(path: &Path) -> Result<BpfProgram, ProgramError> {
        let bytes = std::fs::read(path).map_err(|source| ProgramError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        BpfProgram::from_bytes(&bytes).map_err(|problem| ProgramError::Damaged {
            path: path.to_path_buf(),
            problem,
        })
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<BpfProgram, String> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(8) {
            return Err(format!("{} bytes is not whole instructions", bytes.len()));
        }
        let filters: Vec<libc::sock_filter> = bytes
            .chunks_exact(8)
            .map(|i| libc::sock_filter {
                code: u16::from_ne_bytes([i[0], i[1]]),
                jt: i[2],
                jf: i[3],
                k: u32::from_ne_bytes([i[4], i[5], i[6], i[7]]),
            })
            .collect();
        if filters.len() > MAX_INSTRUCTIONS {
            return Err(format!(
                "{} instructions, more than the kernel's {MAX_INSTRUCTIONS}",
                filters.len()
            ));
        }
        Ok(BpfProgram { filters })
    }

    /// The program as `from_bytes` reads it.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.filters
            .iter()
            .flat_map(|f| {
                let mut insn = [0u8; 8];
                insn[..2].copy_from_slice(&f.code.to_ne_bytes());
                insn[2] = f.jt;
                insn[3] = f.jf;
                insn[4..].copy_from_slice(&f.k.to_ne_bytes());
                insn
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.filters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Installs the program on the calling thread (seccomp(2),
    /// SECCOMP_SET_MODE_FILTER). The caller has set no_new_privs, which the
    /// kernel requires of a process without CAP_SYS_ADMIN, and is
    /// single-threaded, so the filter covers every thread of the command.
    /// Allocates nothing: safe between fork and execve.
    pub fn install(&self) -> Result<(), std::io::Error> {
        let prog = libc::sock_fprog {
            len: self.filters.len() as libc::c_ushort,
            filter: self.filters.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: `prog` points at `self.filters`, alive for the call; the
        // kernel copies the program and keeps no pointer to it.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_whole_instructions() {
        assert!(BpfProgram::from_bytes(&[]).is_err());
        assert!(BpfProgram::from_bytes(&[0; 12]).is_err());
        assert!(BpfProgram::from_bytes(&[0; 8 * 4097]).is_err());
        let program = BpfProgram::from_bytes(&[0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
        assert_eq!(program.len(), 1);
        assert_eq!(program.filters[0].code, 0x06);
        assert_eq!(program.filters[0].k, 0x7fff_0000);
        assert_eq!(program.to_bytes(), [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);
    }
}

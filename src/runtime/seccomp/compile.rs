//! A container's resolved filter (OCI's `linux.seccomp`, narrowed from its
//! profile) compiled by libseccomp into a classic BPF program
//! (seccomp_export_bpf(3)). This runs in hako's parent process, at most once
//! per cache key, never in a container's process.

use super::SeccompError;
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompOperator};
use std::io::Write;
use std::os::fd::AsFd;

const ERRNO_EPERM: u32 = libc::EPERM as u32;

/// Compiles `seccomp` and writes the BPF program into `out`; `source` names
/// the profile in errors.
pub fn compile(seccomp: &LinuxSeccomp, source: &str, out: impl AsFd) -> Result<(), SeccompError> {
    let failed = |what: String, e: libseccomp::error::SeccompError| SeccompError::Compile {
        profile: source.to_string(),
        problem: format!("{what}: {e}"),
    };
    let refused = |problem: String| SeccompError::Compile {
        profile: source.to_string(),
        problem,
    };
    let default =
        to_scmp(seccomp.default_action(), seccomp.default_errno_ret()).map_err(refused)?;
    let mut filter =
        ScmpFilterContext::new(default).map_err(|e| failed("create a filter".into(), e))?;
    // hako sets no_new_privs itself, just before it loads the program.
    filter
        .set_ctl_nnp(false)
        .map_err(|e| failed("turn off libseccomp's no_new_privs".into(), e))?;
    for arch in seccomp.architectures().iter().flatten() {
        let token = arch_token(arch);
        let arch: ScmpArch = token
            .parse()
            .map_err(|e| failed(format!("read architecture {token}"), e))?;
        let present = filter
            .is_arch_present(arch)
            .map_err(|e| failed(format!("check architecture {token}"), e))?;
        if !present {
            filter
                .add_arch(arch)
                .map_err(|e| failed(format!("add architecture {token}"), e))?;
        }
    }

    for rule in seccomp.syscalls().iter().flatten() {
        let action = to_scmp(rule.action(), rule.errno_ret()).map_err(refused)?;
        // libseccomp refuses a rule that does what the default does; it
        // would change nothing.
        if action == default {
            continue;
        }
        let args = rule.args().as_deref().unwrap_or(&[]);
        let conditions: Vec<ScmpArgCompare> = args.iter().map(to_scmp_condition).collect();
        // Conditions on distinct arguments must all hold (one rule); two on
        // the same argument are alternatives (one rule each), as runc reads
        // Docker's profiles.
        let mut indexes: Vec<usize> = args.iter().map(|a| a.index()).collect();
        indexes.sort_unstable();
        let repeated = indexes.windows(2).any(|w| w[0] == w[1]);
        for name in rule.names() {
            // A name this libseccomp does not know (newer than it, or of
            // another architecture) is skipped, as runc and crun do: the
            // default action covers it.
            let Ok(syscall) = ScmpSyscall::from_name(name) else {
                continue;
            };
            let added = if conditions.is_empty() {
                filter.add_rule(action, syscall).map(|_| ())
            } else if repeated {
                conditions.iter().try_for_each(|c| {
                    filter
                        .add_rule_conditional(action, syscall, &[*c])
                        .map(|_| ())
                })
            } else {
                filter
                    .add_rule_conditional(action, syscall, &conditions)
                    .map(|_| ())
            };
            added.map_err(|e| failed(format!("add the rule for {name}"), e))?;
        }
    }
    if needs_socketcall_guard(seccomp) {
        std::fs::File::from(out.as_fd().try_clone_to_owned().map_err(|e| {
            SeccompError::Compile {
                profile: source.to_string(),
                problem: format!("write the socketcall guard: {e}"),
            }
        })?)
        .write_all(&SOCKETCALL_GUARD)
        .map_err(|e| SeccompError::Compile {
            profile: source.to_string(),
            problem: format!("write the socketcall guard: {e}"),
        })?;
    }
    filter
        .export_bpf(out)
        .map_err(|e| failed("export the BPF program".into(), e))
}

/// The OCI spelling of an architecture is libseccomp's (`SCMP_ARCH_X86_64`).
fn arch_token(arch: &oci_spec::runtime::Arch) -> String {
    serde_json::to_value(arch)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Whether the program needs `SOCKETCALL_GUARD`: the filter allows `socket`
/// only for some families (a condition on argument 0, as the default
/// profile's refusal of AF_VSOCK) and covers i386, where
/// `socketcall(SYS_SOCKET, args)` makes the same socket with its family in
/// memory, out of the filter's sight. libseccomp turns such a `socket` rule
/// into an unconditional socketcall(SYS_SOCKET) for i386, so the rules
/// alone cannot close it (found in review: a 64-bit program made an
/// AF_VSOCK socket through `int $0x80`).
fn needs_socketcall_guard(seccomp: &LinuxSeccomp) -> bool {
    cfg!(target_arch = "x86_64")
        && seccomp
            .architectures()
            .iter()
            .flatten()
            .any(|a| *a == oci_spec::runtime::Arch::ScmpArchX86)
        && seccomp.syscalls().iter().flatten().any(|rule| {
            rule.names().iter().any(|n| n == "socket")
                && rule.args().iter().flatten().any(|a| a.index() == 0)
        })
}

/// Classic BPF put before libseccomp's program (its jumps are relative, so
/// it runs unchanged after this): on i386, socketcall(SYS_SOCKET, ...) fails
/// with EPERM; anything else goes on to the profile's program. 32-bit
/// programs make sockets with the direct socket(2) (i386 nr 359, Linux
/// 4.3+), whose family the profile's rule sees. Each instruction is
/// `struct sock_filter` {u16 code, u8 jt, u8 jf, u32 k}, little-endian.
const SOCKETCALL_GUARD: [u8; 7 * 8] = {
    const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET: u16 = 0x06; // BPF_RET | BPF_K
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const I386_SOCKETCALL: u32 = 102;
    const SYS_SOCKET: u32 = 1;
    const RET_EPERM: u32 = 0x0005_0000 | 1; // SECCOMP_RET_ERRNO | EPERM
                                            // seccomp_data: nr at 0, arch at 4, args[0] (low half) at 16.
    let program: [(u16, u8, u8, u32); 7] = [
        (LD_ABS, 0, 0, 4),
        (JEQ, 0, 5, AUDIT_ARCH_I386), // not i386: to the profile (insn 7)
        (LD_ABS, 0, 0, 0),
        (JEQ, 0, 3, I386_SOCKETCALL),
        (LD_ABS, 0, 0, 16),
        (JEQ, 0, 1, SYS_SOCKET),
        (RET, 0, 0, RET_EPERM),
    ];
    let mut bytes = [0u8; 7 * 8];
    let mut i = 0;
    while i < 7 {
        let (code, jt, jf, k) = program[i];
        let c = code.to_le_bytes();
        let k = k.to_le_bytes();
        let insn = [c[0], c[1], jt, jf, k[0], k[1], k[2], k[3]];
        let mut j = 0;
        while j < 8 {
            bytes[i * 8 + j] = insn[j];
            j += 1;
        }
        i += 1;
    }
    bytes
};

fn to_scmp(action: LinuxSeccompAction, errno_ret: Option<u32>) -> Result<ScmpAction, String> {
    let errno = errno_ret.unwrap_or(ERRNO_EPERM);
    Ok(match action {
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno as i32),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno as u16),
        LinuxSeccompAction::ScmpActNotify => return Err(
            "SCMP_ACT_NOTIFY needs a listener process, which hako does not run; use another action"
                .into(),
        ),
    })
}

/// A masked comparison reads as runc reads it: `value` is the mask,
/// `valueTwo` what the masked argument must equal.
fn to_scmp_condition(arg: &LinuxSeccompArg) -> ScmpArgCompare {
    let op = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        LinuxSeccompOperator::ScmpCmpMaskedEq => {
            let datum = arg.value_two().unwrap_or(0);
            return ScmpArgCompare::new(
                arg.index() as u32,
                ScmpCompareOp::MaskedEqual(arg.value()),
                datum,
            );
        }
    };
    ScmpArgCompare::new(arg.index() as u32, op, arg.value())
}

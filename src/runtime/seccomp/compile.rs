//! A checked profile, narrowed for one container, compiled by libseccomp into
//! a classic BPF program (seccomp_export_bpf(3)). This runs in hako's parent
//! process, at most once per cache key, never in a container's process.

use super::profile::{Action, Compare, Profile, Target};
use super::SeccompError;
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use std::os::fd::AsFd;

/// Compiles `profile` for `target` and writes the BPF program into `out`.
pub fn compile(
    profile: &Profile,
    target: &Target,
    source: &str,
    out: impl AsFd,
) -> Result<(), SeccompError> {
    let failed = |what: String, e: libseccomp::error::SeccompError| SeccompError::Compile {
        profile: source.to_string(),
        problem: format!("{what}: {e}"),
    };
    let default = to_scmp(profile.default_action);
    let mut filter =
        ScmpFilterContext::new(default).map_err(|e| failed("create a filter".into(), e))?;
    // hako sets no_new_privs itself, just before it loads the program.
    filter
        .set_ctl_nnp(false)
        .map_err(|e| failed("turn off libseccomp's no_new_privs".into(), e))?;
    for token in &profile.architectures {
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

    for rule in profile.rules_for(target) {
        let action = to_scmp(rule.action);
        // libseccomp refuses a rule that does what the default does; it
        // would change nothing.
        if action == default {
            continue;
        }
        let conditions: Vec<ScmpArgCompare> = rule
            .args
            .iter()
            .map(|a| ScmpArgCompare::new(a.index, to_scmp_op(a.compare), a.value))
            .collect();
        // Conditions on distinct arguments must all hold (one rule); two on
        // the same argument are alternatives (one rule each), as runc reads
        // Docker's profiles.
        let mut indexes: Vec<u32> = rule.args.iter().map(|a| a.index).collect();
        indexes.sort_unstable();
        let repeated = indexes.windows(2).any(|w| w[0] == w[1]);
        for name in &rule.names {
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
    filter
        .export_bpf(out)
        .map_err(|e| failed("export the BPF program".into(), e))
}

fn to_scmp(action: Action) -> ScmpAction {
    match action {
        Action::Allow => ScmpAction::Allow,
        Action::Errno(errno) => ScmpAction::Errno(errno as i32),
        Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Trap => ScmpAction::Trap,
        Action::Log => ScmpAction::Log,
        Action::Trace(msg) => ScmpAction::Trace(msg as u16),
    }
}

fn to_scmp_op(compare: Compare) -> ScmpCompareOp {
    match compare {
        Compare::NotEqual => ScmpCompareOp::NotEqual,
        Compare::Less => ScmpCompareOp::Less,
        Compare::LessOrEqual => ScmpCompareOp::LessOrEqual,
        Compare::Equal => ScmpCompareOp::Equal,
        Compare::GreaterOrEqual => ScmpCompareOp::GreaterEqual,
        Compare::Greater => ScmpCompareOp::Greater,
        Compare::MaskedEqual { mask } => ScmpCompareOp::MaskedEqual(mask),
    }
}

//! Docker's seccomp profile format, read and checked, then narrowed to the
//! rules that apply to one container.
//!
//! The format is moby's `profiles/seccomp` (also podman's
//! `/usr/share/containers/seccomp.json`): a default action, the architectures
//! (a flat `architectures` list, or an `archMap` from the native architecture
//! to its sub-architectures), and `syscalls[]` entries with an action, argument
//! conditions, and `includes`/`excludes` by capability, architecture and
//! kernel version. Fields hako does not use (`comment`, podman's `errno`
//! names) are ignored, as Docker's Go decoder ignores them.

use super::SeccompError;
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;

/// What a matched syscall does (seccomp(2), "Filter return values").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Errno(u32),
    KillThread,
    KillProcess,
    Trap,
    Log,
    Trace(u32),
}

/// A comparison of one syscall argument (seccomp_rule_add(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    NotEqual,
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
    /// `(arg & mask) == value`: in the profile, `value` is the mask and
    /// `valueTwo` the value, as runc reads it.
    MaskedEqual {
        mask: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCondition {
    pub index: u32,
    pub compare: Compare,
    pub value: u64,
}

/// One rule of a profile, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<ArgCondition>,
    includes: Filter,
    excludes: Filter,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Filter {
    caps: Vec<String>,
    arches: Vec<String>,
    min_kernel: Option<(u32, u32)>,
}

/// A whole profile, checked: every action, operator, architecture and
/// kernel version in it is one hako can compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub default_action: Action,
    /// libseccomp architecture tokens (`SCMP_ARCH_X86_64`, ...), for the
    /// native architecture only when the profile has an `archMap`.
    pub architectures: Vec<String>,
    pub rules: Vec<Rule>,
}

/// The container a profile is narrowed for.
pub struct Target<'a> {
    /// Capability names as in profiles (`CAP_SYS_ADMIN`): the container's
    /// bounding set, as Docker matches them.
    pub capabilities: &'a [String],
    /// Go's name for the architecture (`amd64`), as profiles spell it.
    pub arch: &'a str,
    /// The running kernel's major and minor version.
    pub kernel: (u32, u32),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    default_action: String,
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    arch_map: Option<Vec<RawArchMap>>,
    #[serde(default)]
    syscalls: Option<Vec<RawSyscall>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArchMap {
    architecture: String,
    #[serde(default)]
    sub_architectures: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSyscall {
    #[serde(default)]
    names: Option<Vec<String>>,
    /// The older single-name form.
    #[serde(default)]
    name: Option<String>,
    action: String,
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<RawArg>>,
    #[serde(default)]
    includes: Option<RawFilter>,
    #[serde(default)]
    excludes: Option<RawFilter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArg {
    index: u32,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawFilter {
    #[serde(default)]
    caps: Option<Vec<String>>,
    #[serde(default)]
    arches: Option<Vec<String>>,
    #[serde(default)]
    min_kernel: Option<String>,
}

/// The libseccomp token of the architecture hako was built for, and Go's
/// name for it (the names profiles use in `includes.arches`).
pub fn native_arch() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "x86_64" => ("SCMP_ARCH_X86_64", "amd64"),
        "x86" => ("SCMP_ARCH_X86", "386"),
        "aarch64" => ("SCMP_ARCH_AARCH64", "arm64"),
        "arm" => ("SCMP_ARCH_ARM", "arm"),
        "s390x" => ("SCMP_ARCH_S390X", "s390x"),
        "riscv64" => ("SCMP_ARCH_RISCV64", "riscv64"),
        "powerpc64" => ("SCMP_ARCH_PPC64LE", "ppc64le"),
        "loongarch64" => ("SCMP_ARCH_LOONGARCH64", "loong64"),
        other => (other, other),
    }
}

const ERRNO_EPERM: u32 = libc::EPERM as u32;

impl Profile {
    /// Reads `text` (from `source`, named in errors) and checks all of it.
    pub fn parse(text: &str, source: &str) -> Result<Profile, SeccompError> {
        let bad = |problem: String| SeccompError::Invalid {
            profile: source.to_string(),
            problem,
        };
        let raw: RawProfile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let default_action = parse_action(&raw.default_action, raw.default_errno_ret)
            .map_err(|p| bad(format!("defaultAction: {p}")))?;

        let (native, _) = native_arch();
        let mut architectures = vec![];
        if let Some(list) = &raw.architectures {
            architectures.extend(list.iter().cloned());
        }
        if let Some(map) = &raw.arch_map {
            // Docker adds the native architecture's entry with its
            // sub-architectures (x86 and x32 beside x86_64), and no other.
            for entry in map {
                check_arch(&entry.architecture).map_err(&bad)?;
                for sub in entry.sub_architectures.iter().flatten() {
                    check_arch(sub).map_err(&bad)?;
                }
                if entry.architecture == native {
                    architectures.push(entry.architecture.clone());
                    architectures.extend(entry.sub_architectures.iter().flatten().cloned());
                }
            }
        }
        for arch in &architectures {
            check_arch(arch).map_err(&bad)?;
        }
        architectures.dedup();

        let mut rules = vec![];
        for (i, raw) in raw.syscalls.into_iter().flatten().enumerate() {
            let mut names = raw.names.unwrap_or_default();
            names.extend(raw.name);
            let at = |p: String| bad(format!("syscalls[{i}] ({}): {p}", names.join(", ")));
            let action = parse_action(&raw.action, raw.errno_ret).map_err(&at)?;
            let args = raw
                .args
                .into_iter()
                .flatten()
                .map(parse_arg)
                .collect::<Result<Vec<_>, _>>()
                .map_err(&at)?;
            let includes = parse_filter(raw.includes).map_err(&at)?;
            let excludes = parse_filter(raw.excludes).map_err(&at)?;
            rules.push(Rule {
                names,
                action,
                args,
                includes,
                excludes,
            });
        }
        Ok(Profile {
            default_action,
            architectures,
            rules,
        })
    }

    /// The rules that apply to `target`, in the profile's order, with
    /// Docker's reading of `includes` (every listed capability held, the
    /// architecture listed, the kernel at least `minKernel`) and `excludes`
    /// (any listed capability held, the architecture listed, or the kernel at
    /// least `minKernel`, drops the rule).
    pub fn rules_for<'p>(&'p self, target: &'p Target) -> impl Iterator<Item = &'p Rule> + 'p {
        self.rules.iter().filter(move |rule| {
            let inc = &rule.includes;
            let exc = &rule.excludes;
            let has = |cap: &String| target.capabilities.contains(cap);
            let included = inc.caps.iter().all(has)
                && (inc.arches.is_empty() || inc.arches.iter().any(|a| a == target.arch))
                && inc.min_kernel.is_none_or(|k| target.kernel >= k);
            let excluded = exc.caps.iter().any(has)
                || exc.arches.iter().any(|a| a == target.arch)
                || exc.min_kernel.is_some_and(|k| target.kernel >= k);
            included && !excluded
        })
    }
}

impl Profile {
    /// The profile narrowed for `target`, as OCI's `linux.seccomp` says it:
    /// what a runtime given this container's config.json compiles, with no
    /// `includes` or `excludes` left to read.
    pub fn resolve(&self, target: &Target, source: &str) -> Result<LinuxSeccomp, SeccompError> {
        let architectures =
            self.architectures
                .iter()
                .map(|token| {
                    serde_json::from_value::<Arch>(serde_json::Value::String(token.clone()))
                        .map_err(|_| SeccompError::Invalid {
                            profile: source.to_string(),
                            problem: format!("architecture {token} has no OCI name"),
                        })
                })
                .collect::<Result<Vec<Arch>, _>>()?;
        let syscalls = self
            .rules_for(target)
            .map(|rule| {
                let (action, errno_ret) = to_oci_action(rule.action);
                let args = rule
                    .args
                    .iter()
                    .map(to_oci_arg)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|problem| SeccompError::Invalid {
                        profile: source.to_string(),
                        problem,
                    })?;
                let mut syscall = LinuxSyscall::default();
                syscall
                    .set_names(rule.names.clone())
                    .set_action(action)
                    .set_errno_ret(errno_ret)
                    .set_args((!args.is_empty()).then_some(args));
                Ok(syscall)
            })
            .collect::<Result<Vec<_>, SeccompError>>()?;
        let (default_action, default_errno_ret) = to_oci_action(self.default_action);
        let mut resolved = LinuxSeccomp::default();
        resolved
            .set_default_action(default_action)
            .set_default_errno_ret(default_errno_ret)
            .set_architectures(Some(architectures))
            .set_syscalls(Some(syscalls));
        Ok(resolved)
    }
}

fn to_oci_action(action: Action) -> (LinuxSeccompAction, Option<u32>) {
    match action {
        Action::Allow => (LinuxSeccompAction::ScmpActAllow, None),
        Action::Errno(errno) => (LinuxSeccompAction::ScmpActErrno, Some(errno)),
        Action::KillThread => (LinuxSeccompAction::ScmpActKillThread, None),
        Action::KillProcess => (LinuxSeccompAction::ScmpActKillProcess, None),
        Action::Trap => (LinuxSeccompAction::ScmpActTrap, None),
        Action::Log => (LinuxSeccompAction::ScmpActLog, None),
        Action::Trace(message) => (LinuxSeccompAction::ScmpActTrace, Some(message)),
    }
}

/// OCI's masked comparison reads as runc's: `value` is the mask and
/// `valueTwo` what the masked argument must equal.
fn to_oci_arg(condition: &ArgCondition) -> Result<LinuxSeccompArg, String> {
    let (op, value, value_two) = match condition.compare {
        Compare::NotEqual => (LinuxSeccompOperator::ScmpCmpNe, condition.value, None),
        Compare::Less => (LinuxSeccompOperator::ScmpCmpLt, condition.value, None),
        Compare::LessOrEqual => (LinuxSeccompOperator::ScmpCmpLe, condition.value, None),
        Compare::Equal => (LinuxSeccompOperator::ScmpCmpEq, condition.value, None),
        Compare::GreaterOrEqual => (LinuxSeccompOperator::ScmpCmpGe, condition.value, None),
        Compare::Greater => (LinuxSeccompOperator::ScmpCmpGt, condition.value, None),
        Compare::MaskedEqual { mask } => (
            LinuxSeccompOperator::ScmpCmpMaskedEq,
            mask,
            Some(condition.value),
        ),
    };
    let arg = LinuxSeccompArgBuilder::default()
        .index(condition.index as usize)
        .value(value)
        .op(op);
    match value_two {
        Some(value_two) => arg.value_two(value_two),
        None => arg,
    }
    .build()
    .map_err(|e| e.to_string())
}

fn parse_action(name: &str, errno: Option<u32>) -> Result<Action, String> {
    Ok(match name {
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_ERRNO" => Action::Errno(errno.unwrap_or(ERRNO_EPERM)),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_TRACE" => Action::Trace(errno.unwrap_or(ERRNO_EPERM)),
        "SCMP_ACT_NOTIFY" => {
            return Err(
                "SCMP_ACT_NOTIFY needs a listener process, which hako does not run; use another action"
                    .into(),
            )
        }
        other => {
            return Err(format!(
                "unknown action {other:?} (use SCMP_ACT_ALLOW, _ERRNO, _KILL, _KILL_PROCESS, _KILL_THREAD, _TRAP, _LOG or _TRACE)"
            ))
        }
    })
}

fn parse_arg(raw: RawArg) -> Result<ArgCondition, String> {
    // A syscall has at most six arguments (seccomp_data.args[6]).
    if raw.index > 5 {
        return Err(format!(
            "argument index {} is out of range (0 to 5)",
            raw.index
        ));
    }
    let (compare, value) = match raw.op.as_str() {
        "SCMP_CMP_NE" => (Compare::NotEqual, raw.value),
        "SCMP_CMP_LT" => (Compare::Less, raw.value),
        "SCMP_CMP_LE" => (Compare::LessOrEqual, raw.value),
        "SCMP_CMP_EQ" => (Compare::Equal, raw.value),
        "SCMP_CMP_GE" => (Compare::GreaterOrEqual, raw.value),
        "SCMP_CMP_GT" => (Compare::Greater, raw.value),
        "SCMP_CMP_MASKED_EQ" => (Compare::MaskedEqual { mask: raw.value }, raw.value_two),
        other => {
            return Err(format!(
                "unknown argument operator {other:?} (use SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT or _MASKED_EQ)"
            ))
        }
    };
    Ok(ArgCondition {
        index: raw.index,
        compare,
        value,
    })
}

fn parse_filter(raw: Option<RawFilter>) -> Result<Filter, String> {
    let raw = raw.unwrap_or_default();
    let min_kernel = raw
        .min_kernel
        .as_deref()
        .map(|text| {
            parse_kernel_version(text)
                .ok_or_else(|| format!("minKernel {text:?} is not a version such as 4.8"))
        })
        .transpose()?;
    Ok(Filter {
        caps: raw.caps.unwrap_or_default(),
        arches: raw.arches.unwrap_or_default(),
        min_kernel,
    })
}

/// `4.8`, `5.10.0-26-amd64`: the major and minor numbers.
pub fn parse_kernel_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

fn check_arch(token: &str) -> Result<(), String> {
    token
        .parse::<libseccomp::ScmpArch>()
        .map(|_| ())
        .map_err(|_| format!("unknown architecture {token:?} (use SCMP_ARCH_X86_64 and the like)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../../assets/seccomp/default.json");

    fn target<'a>(caps: &'a [String]) -> Target<'a> {
        Target {
            capabilities: caps,
            arch: "amd64",
            kernel: (6, 1),
        }
    }

    fn actions_for(profile: &Profile, caps: &[String], name: &str) -> Vec<(Action, usize)> {
        let t = target(caps);
        profile
            .rules_for(&t)
            .filter(|r| r.names.iter().any(|n| n == name))
            .map(|r| (r.action, r.args.len()))
            .collect()
    }

    #[test]
    fn the_default_profile_parses() {
        let profile = Profile::parse(DEFAULT, "default").unwrap();
        assert_eq!(profile.default_action, Action::Errno(1));
        if std::env::consts::ARCH == "x86_64" {
            assert_eq!(
                profile.architectures,
                ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
            );
        }
    }

    #[test]
    fn the_resolved_filter_says_what_the_rules_for_the_target_say() {
        let profile = Profile::parse(DEFAULT, "default").unwrap();
        let rules_named = |resolved: &LinuxSeccomp, name: &str| -> Vec<LinuxSyscall> {
            resolved
                .syscalls()
                .iter()
                .flatten()
                .filter(|r| r.names().iter().any(|n| n == name))
                .cloned()
                .collect()
        };
        let admin = vec!["CAP_SYS_ADMIN".to_string()];
        let resolved = profile.resolve(&target(&admin), "default").unwrap();
        assert_eq!(resolved.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(resolved.default_errno_ret(), Some(libc::EPERM as u32));
        assert!(resolved
            .architectures()
            .iter()
            .flatten()
            .any(|a| *a == Arch::ScmpArchX86_64));
        assert_eq!(
            resolved.syscalls().as_ref().map(|s| s.len()),
            Some(profile.rules_for(&target(&admin)).count())
        );
        assert_eq!(
            rules_named(&resolved, "mount")[0].action(),
            LinuxSeccompAction::ScmpActAllow
        );

        let none = profile.resolve(&target(&[]), "default").unwrap();
        assert!(rules_named(&none, "mount").is_empty());
        let clone3 = &rules_named(&none, "clone3")[0];
        assert_eq!(
            (clone3.action(), clone3.errno_ret()),
            (LinuxSeccompAction::ScmpActErrno, Some(38))
        );
        // clone's namespace flags: OCI's masked comparison, the mask in value.
        let arg = rules_named(&none, "clone")[0].args().as_ref().unwrap()[0];
        assert_eq!(arg.op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
        assert_eq!((arg.value(), arg.value_two()), (0x7E02_0000, Some(0)));
    }

    #[test]
    fn namespaces_and_mounts_need_cap_sys_admin() {
        let profile = Profile::parse(DEFAULT, "default").unwrap();
        let none: Vec<String> = vec![];
        let admin = vec!["CAP_SYS_ADMIN".to_string()];
        for name in [
            "unshare",
            "setns",
            "mount",
            "umount2",
            "bpf",
            "perf_event_open",
        ] {
            assert!(actions_for(&profile, &none, name).is_empty(), "{name}");
            assert_eq!(
                actions_for(&profile, &admin, name),
                [(Action::Allow, 0)],
                "{name}"
            );
        }
        // clone: only without namespace flags; clone3: ENOSYS, so libc falls back.
        assert_eq!(actions_for(&profile, &none, "clone"), [(Action::Allow, 1)]);
        assert_eq!(
            actions_for(&profile, &none, "clone3"),
            [(Action::Errno(38), 0)]
        );
        assert_eq!(
            actions_for(&profile, &admin, "clone3"),
            [(Action::Allow, 0)]
        );
    }

    #[test]
    fn some_calls_are_never_allowed() {
        let profile = Profile::parse(DEFAULT, "default").unwrap();
        let all: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
        for name in [
            "keyctl",
            "add_key",
            "request_key",
            "io_uring_setup",
            "io_uring_enter",
            "userfaultfd",
            "kexec_load",
            "kexec_file_load",
            "swapon",
        ] {
            assert!(actions_for(&profile, &all, name).is_empty(), "{name}");
        }
    }

    #[test]
    fn includes_and_excludes_follow_docker() {
        let text = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_X","CAP_Y"]}},
            {"names":["b"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_X","CAP_Z"]}},
            {"names":["c"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6.2"}},
            {"names":["d"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"6.1"}},
            {"names":["e"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}},
            {"name":"f","action":"SCMP_ACT_TRACE","errnoRet":7}
        ]}"#;
        let profile = Profile::parse(text, "t").unwrap();
        let caps = vec!["CAP_X".to_string()];
        let t = target(&caps);
        let names: Vec<&str> = profile.rules_for(&t).map(|r| r.names[0].as_str()).collect();
        assert_eq!(names, ["f"]);
        assert_eq!(profile.rules[5].action, Action::Trace(7));
        assert_eq!(profile.default_action, Action::Errno(1));
    }

    #[test]
    fn bad_profiles_name_the_problem() {
        let cases = [
            ("{", "EOF"),
            (r#"{"defaultAction":"SCMP_ACT_BOGUS"}"#, "unknown action"),
            (r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#, "SCMP_ACT_NOTIFY"),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}"#,
                "syscalls[0] (x): unknown argument operator",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
                "out of range",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}"#,
                "unknown architecture",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"new"}}]}"#,
                "minKernel",
            ),
        ];
        for (text, expected) in cases {
            let error = Profile::parse(text, "/p.json").unwrap_err().to_string();
            assert!(error.starts_with("seccomp profile /p.json: "), "{error}");
            assert!(error.contains(expected), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn the_forms_of_mobys_default_json_parse() {
        // As moby writes them: a null subArchitectures, args without
        // valueTwo, rules with comments, includes and excludes together.
        let text = r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
            "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]},
                       {"architecture":"SCMP_ARCH_RISCV64","subArchitectures":null}],
            "syscalls":[
              {"names":["read"],"action":"SCMP_ACT_ALLOW"},
              {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":40,"op":"SCMP_CMP_NE"}]},
              {"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}],
               "comment":"s390","includes":{"arches":["s390","s390x"]},"excludes":{"caps":["CAP_SYS_ADMIN"]}},
              {"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}}
            ]}"#;
        let profile = Profile::parse(text, "moby").unwrap();
        assert_eq!(profile.rules.len(), 4);
        assert_eq!(
            profile.rules[2].args[0].compare,
            Compare::MaskedEqual { mask: 2114060288 }
        );
        assert_eq!(profile.rules[2].args[0].value, 0);
        let caps = vec![];
        let t = target(&caps);
        let names: Vec<&str> = profile.rules_for(&t).map(|r| r.names[0].as_str()).collect();
        assert_eq!(names, ["read", "socket", "ptrace"]);
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel_version("4.8"), Some((4, 8)));
        assert_eq!(parse_kernel_version("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(parse_kernel_version("5"), Some((5, 0)));
        assert_eq!(parse_kernel_version("x.1"), None);
    }

    #[test]
    fn podmans_profile_parses_when_installed() {
        let path = "/usr/share/containers/seccomp.json";
        if let Ok(text) = std::fs::read_to_string(path) {
            let profile = Profile::parse(&text, path).unwrap();
            assert!(profile.rules.len() > 10);
        }
    }
}

#!/usr/bin/env bash
# bench-start.sh: how long does it take to start a limited container running
# /bin/true? Times `hako run --rm` against crun and runc (and a bare unshare as
# a floor) in a single hyperfine run, then prints medians and the ratio of each
# median to crun's.
#
# Two groups in that one run:
# - without seccomp: hako with --security-opt seccomp=unconfined, crun and runc
#   with their `spec` templates (no seccomp);
# - with Docker's seccomp profile: hako with its default profile and with
#   podman's /usr/share/containers/seccomp.json (--security-opt seccomp=PATH),
#   crun with the same podman profile turned into config.json's
#   `linux.seccomp` (includes/excludes resolved for the bundle's capabilities,
#   as Docker does). crun compiles the profile at every start; hako loads the
#   program it compiled once (ROOT/cache/seccomp), which the check run fills.
#
# This is a benchmark, not a test: it needs root, changes nothing on the host
# that it does not undo, and its numbers are only as steady as the machine.
#
# Environment:
#   RUNS=40        timed runs per command (after 5 warmup runs)
#   JSON_OUT=FILE  keep a copy of hyperfine's JSON export
#   HAKO_BASELINE=PATH  also time another hako binary (say, main's release
#                  build) in the same run, to see what a change costs
set -euo pipefail

RUNS=${RUNS:-40}
WARMUP=5
JSON_OUT=${JSON_OUT:-}
HAKO_BASELINE=${HAKO_BASELINE:-}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
HAKO="$REPO/target/release/hako"

# Everything this run creates carries this tag, so that cleanup removes only
# what it made, and two runs at once do not trip over each other.
TAG="hako-bench-$$"
CGROUP_PARENT="$TAG"            # one cgroup parent for all three runtimes
CRUN_ID="bench-crun-$$"
CRUN_SECCOMP_ID="bench-crun-seccomp-$$"
DOCKER_PROFILE=/usr/share/containers/seccomp.json   # podman's copy of Docker's profile
RUNC_ID="bench-runc-$$"
CGROUP_FS=/sys/fs/cgroup
UNIFIED="$CGROUP_FS/unified"

WORK=""                          # temp dir, made below
FAILED=()                        # runtimes left out because their check run failed

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'bench-start: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (containers with cgroup limits)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"

# --- the private mount namespace --------------------------------------------
# crun 1.8 refuses a hybrid host ("cgroups in hybrid mode not supported"). It
# runs if the cgroup2 mount at /sys/fs/cgroup/unified is hidden, which we do in
# a private mount namespace so that the host stays as it is. hyperfine runs
# inside that namespace, so all runtimes see the same (v1) layout. On a pure v1
# or v2 host there is nothing to hide and the namespace is merely harmless.
if mountpoint -q "$UNIFIED"; then
    HOST_LAYOUT="hybrid (v1 controllers + cgroup2 at $UNIFIED)"
    BENCH_LAYOUT="v1 (cgroup2 unmounted in a private mount namespace)"
    IN_NS=(unshare -m --propagation private sh -c "umount $UNIFIED && exec \"\$@\"" sh)
else
    if [[ $(stat -f -c %T "$CGROUP_FS") == cgroup2fs ]]; then
        HOST_LAYOUT="v2 (cgroup2 at $CGROUP_FS)"
    else
        HOST_LAYOUT="v1"
    fi
    BENCH_LAYOUT="$HOST_LAYOUT, in a private mount namespace"
    IN_NS=(unshare -m --propagation private)
fi

# --- cleanup (runs on every exit) ---------------------------------------------

# rmdir the bench cgroup parent, children first, in every hierarchy. A process
# still inside (a container a killed run left behind) would make rmdir fail, so
# those are killed first; they can only be ours, since the parent is ours.
remove_bench_cgroups() {
    local hierarchy dir pid
    for hierarchy in "$CGROUP_FS"/*/ "$CGROUP_FS"/; do
        dir="${hierarchy%/}/$CGROUP_PARENT"
        [[ -d $dir ]] || continue
        while read -r pid; do
            [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
        done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
        # Dead processes leave their cgroup a moment after the kill.
        for _ in 1 2 3 4 5; do
            find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
            [[ -d $dir ]] || break
            sleep 0.2
        done
        [[ -d $dir ]] && warn "could not remove cgroup $dir"
    done
}

cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    log "cleaning up"
    # crun also refuses `delete` on the hybrid host, so delete inside the
    # namespace as well. Normally there is nothing to delete: `run` deletes.
    if command -v crun >/dev/null; then
        "${IN_NS[@]}" crun delete -f "$CRUN_ID" >/dev/null 2>&1
        "${IN_NS[@]}" crun delete -f "$CRUN_SECCOMP_ID" >/dev/null 2>&1
    fi
    if command -v runc >/dev/null; then "${IN_NS[@]}" runc delete -f "$RUNC_ID" >/dev/null 2>&1; fi
    remove_bench_cgroups
    if [[ -n $WORK && -d $WORK ]]; then
        # Runtimes mount in their own namespaces, so nothing should be mounted
        # under WORK here; unmount anything that is anyway before rm -rf, which
        # must never descend into a bind mount.
        awk -v w="$WORK" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo |
            sort -r | while read -r m; do umount -l "$m"; done
        rm -rf --one-file-system "$WORK"
    fi
    # The check the brief asks for: nothing named hako or bench in any cgroup
    # hierarchy. Others' cgroups (e.g. a concurrent `cargo test`) show up too,
    # so say which are this run's.
    local left
    left=$(find "$CGROUP_FS" \( -iname '*hako*' -o -iname '*bench*' \) -type d 2>/dev/null)
    if [[ -n $left ]]; then
        if grep -qF "$CGROUP_PARENT" <<<"$left"; then
            warn "this run's cgroups are still present:"
        else
            warn "cgroups named hako/bench remain (none from this run, whose parent was $CGROUP_PARENT):"
        fi
        sed 's/^/    /' <<<"$left" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. tools and the hako binary ----------------------------------------------

# Install only what is missing. busybox must be the static one: it is copied
# into a root without any libraries.
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v crun >/dev/null || missing+=(crun)
command -v runc >/dev/null || missing+=(runc)
[[ -f $DOCKER_PROFILE ]] || missing+=(golang-github-containers-common)
if ! command -v busybox >/dev/null || ldd "$(command -v busybox)" >/dev/null 2>&1; then
    missing+=(busybox-static)
fi
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get install -y "${missing[@]}" >&2
fi
command -v python3 >/dev/null || die "python3 is needed to edit config.json and read hyperfine's JSON"
command -v cargo >/dev/null || die "cargo is needed to build hako"
BUSYBOX=$(command -v busybox)

log "building hako (release)"
(cd "$REPO" && cargo build --release) >&2

WORK=$(mktemp -d "/tmp/$TAG.XXXXXX")
ROOTFS="$WORK/rootfs"
HAKO_ROOT="$WORK/hako-root"
JSON="$WORK/hyperfine.json"

# --- 2. busybox rootfs, imported into a temp hako root -------------------------
log "building a busybox rootfs in $ROOTFS"
mkdir -p "$ROOTFS"/{bin,etc,proc,sys,dev,tmp}
chmod 1777 "$ROOTFS/tmp"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
# --list-full prints paths relative to / (bin/sh, usr/bin/env, ...).
"$BUSYBOX" --list-full | while read -r applet; do
    [[ -e $ROOTFS/$applet || -L $ROOTFS/$applet ]] && continue
    mkdir -p "$ROOTFS/$(dirname "$applet")"
    ln -s /bin/busybox "$ROOTFS/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
[[ -x $ROOTFS/bin/true ]] || die "rootfs has no /bin/true (busybox without a true applet?)"

log "importing it into $HAKO_ROOT"
"$HAKO" --root "$HAKO_ROOT" image import busybox "$ROOTFS" >&2
if [[ -n $HAKO_BASELINE ]]; then
    [[ -x $HAKO_BASELINE ]] || die "HAKO_BASELINE=$HAKO_BASELINE is not an executable"
    # A root of its own: the two builds may keep their state differently.
    BASELINE_ROOT="$WORK/hako-baseline-root"
    "$HAKO_BASELINE" --root "$BASELINE_ROOT" image import busybox "$ROOTFS" >&2
fi

# --- 3. OCI bundles for crun and runc on the same rootfs -----------------------
# Limits match the hako command line: 64 MiB memory, 1 CPU, 64 pids. The cgroup
# is put under the bench parent too; without cgroupsPath the runtimes would
# nest it inside whatever cgroup this script happens to run in.
make_bundle() { # RUNTIME ID [SECCOMP_PROFILE]
    local runtime=$1 id=$2 profile=${3:-} bundle="$WORK/bundle-$2"
    mkdir -p "$bundle"
    (cd "$bundle" && "$runtime" spec) >&2
    python3 - "$bundle/config.json" "$ROOTFS" "/$CGROUP_PARENT/$id" "$profile" <<'EOF'
import json, os, platform, sys
path, rootfs, cgroups_path, profile_path = sys.argv[1:]
with open(path) as f:
    config = json.load(f)
config["process"]["args"] = ["/bin/true"]
config["process"]["terminal"] = False
config["root"] = {"path": rootfs, "readonly": False}
linux = config.setdefault("linux", {})
linux["cgroupsPath"] = cgroups_path
resources = linux.setdefault("resources", {})
resources["memory"] = {"limit": 64 * 1024 * 1024}
resources["cpu"] = {"quota": 100000, "period": 100000}
resources["pids"] = {"limit": 64}
if profile_path:
    # Docker's profile format to the OCI form: keep the native architecture's
    # archMap entry, and the rules whose includes/excludes hold for this
    # bundle's bounding set, architecture and kernel (Docker's reading).
    with open(profile_path) as f:
        profile = json.load(f)
    caps = set(config["process"]["capabilities"]["bounding"])
    kernel = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2])
    version = lambda v: tuple(int(x) for x in v.split(".")[:2])
    native = "SCMP_ARCH_X86_64"
    arches = []
    for entry in profile.get("archMap") or []:
        if entry["architecture"] == native:
            arches = [native] + (entry.get("subArchitectures") or [])
    rules = []
    for rule in profile.get("syscalls") or []:
        inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
        if not all(c in caps for c in inc.get("caps") or []): continue
        if inc.get("arches") and "amd64" not in inc["arches"]: continue
        if inc.get("minKernel") and kernel < version(inc["minKernel"]): continue
        if any(c in caps for c in exc.get("caps") or []): continue
        if "amd64" in (exc.get("arches") or []): continue
        if exc.get("minKernel") and kernel >= version(exc["minKernel"]): continue
        out = {"names": rule["names"], "action": rule["action"]}
        if rule.get("errnoRet") is not None: out["errnoRet"] = rule["errnoRet"]
        if rule.get("args"): out["args"] = rule["args"]
        rules.append(out)
    seccomp = {"defaultAction": profile["defaultAction"], "architectures": arches, "syscalls": rules}
    if profile.get("defaultErrnoRet") is not None:
        seccomp["defaultErrnoRet"] = profile["defaultErrnoRet"]
    linux["seccomp"] = seccomp
with open(path, "w") as f:
    json.dump(config, f, indent=2)
EOF
    echo "$bundle"
}
CRUN_BUNDLE=$(make_bundle crun "$CRUN_ID")
CRUN_SECCOMP_BUNDLE=$(make_bundle crun "$CRUN_SECCOMP_ID" "$DOCKER_PROFILE")
RUNC_BUNDLE=$(make_bundle runc "$RUNC_ID")

# --- 4. check each command once, then time them together -----------------------
export HAKO_CGROUP_PARENT="$CGROUP_PARENT"

names=()
commands=()

# Run a command once in the namespace; keep it for timing if it succeeds, else
# show why and leave it out (hyperfine would stop at the first failure and
# hide the command's stderr).
try_command() { # NAME REQUIRED COMMAND...
    local name=$1 required=$2 out status=0
    shift 2
    out=$("${IN_NS[@]}" "$@" 2>&1) || status=$?
    if ((status == 0)); then
        names+=("$name")
        # hyperfine -N splits the string like a POSIX shell would.
        commands+=("$(printf '%q ' "$@")")
    elif [[ $required == yes ]]; then
        warn "$name failed its check run (exit $status), left out of the benchmark. Command: $*"
        printf '%s\n' "$out" | sed 's/^/    | /' >&2
        FAILED+=("$name")
    else
        log "note: $name does not work here, left out: $(head -n1 <<<"$out")"
    fi
}

HAKO_RUN=("$HAKO" --root "$HAKO_ROOT" run --rm --memory 64m --cpus 1 --pids-limit 64)
try_command hako yes "${HAKO_RUN[@]}" --security-opt seccomp=unconfined busybox /bin/true
try_command crun yes crun run --bundle "$CRUN_BUNDLE" "$CRUN_ID"
# With Docker's seccomp profile (the check runs fill hako's cache).
try_command "hako seccomp default" yes "${HAKO_RUN[@]}" busybox /bin/true
try_command "hako seccomp podman" yes "${HAKO_RUN[@]}" --security-opt "seccomp=$DOCKER_PROFILE" \
    busybox /bin/true
if [[ -n $HAKO_BASELINE ]]; then
    BASELINE_RUN=("$HAKO_BASELINE" --root "$BASELINE_ROOT" run --rm --memory 64m --cpus 1 --pids-limit 64)
    try_command "baseline hako" yes "${BASELINE_RUN[@]}" --security-opt seccomp=unconfined \
        busybox /bin/true
    try_command "baseline hako seccomp default" yes "${BASELINE_RUN[@]}" busybox /bin/true
fi
try_command "crun seccomp podman" yes crun run --bundle "$CRUN_SECCOMP_BUNDLE" "$CRUN_SECCOMP_ID"
try_command runc yes runc run --bundle "$RUNC_BUNDLE" "$RUNC_ID"
# Floor: namespaces and a chroot, no cgroups, no runtime.
try_command "unshare (floor)" no unshare -muinpf --mount-proc "--root=$ROOTFS" /bin/true

((${#commands[@]})) || die "no command works; nothing to time"

hyperfine_args=(-N --warmup "$WARMUP" --runs "$RUNS" --export-json "$JSON")
for i in "${!commands[@]}"; do
    hyperfine_args+=(--command-name "${names[$i]}" "${commands[$i]}")
done

log "timing ${names[*]}: $WARMUP warmup + $RUNS runs each"
"${IN_NS[@]}" hyperfine "${hyperfine_args[@]}" >&2
[[ -z $JSON_OUT ]] || cp "$JSON" "$JSON_OUT"

# --- 5. summary ------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
hako_rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null) ]]; then hako_rev+=" (uncommitted changes)"; fi

echo
echo "container start, /bin/true in a fresh busybox container, 64 MiB / 1 CPU / 64 pids"
echo "          (rows without 'seccomp' run without a filter; 'podman' is $DOCKER_PROFILE)"
echo "date:     $(date '+%Y-%m-%d %H:%M:%S %Z')"
echo "machine:  $(nproc) CPUs (${cpu_model:-unknown CPU}), kernel $(uname -r)"
echo "cgroups:  host $HOST_LAYOUT; benchmark sees $BENCH_LAYOUT"
echo "versions: hako $hako_rev; $(crun --version | head -n1); $(runc --version | head -n1); $(hyperfine --version)"
echo "runs:     $RUNS per command after $WARMUP warmup runs, one hyperfine run (-N, no shell)"
echo
python3 - "$JSON" <<'EOF'
import json, sys

with open(sys.argv[1]) as f:
    results = json.load(f)["results"]

ms = lambda seconds: seconds * 1000.0
crun = next((r for r in results if r["command"] == "crun"), None)

header = ("command", "median ms", "mean ± stddev ms", "median / crun")
rows = []
for r in results:
    stddev = r.get("stddev") or 0.0
    ratio = f"{r['median'] / crun['median']:.2f}x" if crun else "n/a"
    rows.append((r["command"], f"{ms(r['median']):.1f}",
                 f"{ms(r['mean']):.1f} ± {ms(stddev):.1f}", ratio))

widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
line = lambda row: "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                             for i, (cell, w) in enumerate(zip(row, widths)))
print(line(header))
print("  ".join("-" * w for w in widths))
for row in rows:
    print(line(row))

by_name = {r["command"]: r for r in results}
print()
for label, a, b in [
    ("headline", "hako", "crun"),
    ("seccomp", "hako seccomp default", "crun seccomp podman"),
    ("seccomp, same file", "hako seccomp podman", "crun seccomp podman"),
]:
    if a in by_name and b in by_name:
        goal = " (goal: <= 0.50)" if label.startswith("seccomp") else ""
        print(f"{label}: {a} / {b} median = {by_name[a]['median'] / by_name[b]['median']:.2f}{goal}")
    else:
        print(f"{label}: n/a ({a} or {b} was not timed)")
EOF

if ((${#FAILED[@]})); then
    warn "left out because their check run failed: ${FAILED[*]} (see above)"
    exit 1
fi

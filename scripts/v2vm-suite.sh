#!/usr/bin/env bash
# v2vm-suite.sh: prove hako's limits and isolation on a real cgroup-v2-only kernel.
#
# Builds target/release/hako and a small busybox rootfs tarball, then boots ONE
# throw-away qemu VM (scripts/v2vm/run-in-v2vm.sh: Debian 6.1 kernel, cgroup2 alone at
# /sys/fs/cgroup, overlay and brd loaded) and runs scripts/v2/suite.sh in it as root.
# Prints the suite's `[v2] PASS/FAIL` lines and exits with the suite's status
# (124: the VM timed out, 125: the VM or its setup failed).
#
# Needs root? No: only the VM runs things as root. Needs: cargo, tar, apt-get (the
# first run fetches qemu and a kernel into $V2VM_CACHE, about 540 MB), a static busybox
# (busybox-static; fetched into the cache when the host has none).
#
# Environment:
#   HAKO_BIN=PATH       use this hako binary instead of building target/release/hako
#   V2VM_SUITE_TIMEOUT  seconds for the whole VM run (default 600; the suite itself
#                       takes about 25 s under TCG)
#   V2VM_SUITE_MEM      guest RAM in MB (default 1024)
#   V2VM_SUITE_CPUS     guest vCPUs (default 2)
#   V2VM_CACHE          where qemu and the kernel are kept (default /tmp/v2vm-cache)
#   V2VM_CONSOLE_LOG=F  keep the guest kernel console (OOM-kill lines) in F; when the
#                       suite fails, its kernel trouble (lockups, oopses) is printed anyway
#   V2VM_APPEND         more guest kernel arguments
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
VM=$SCRIPTS/v2vm/run-in-v2vm.sh
SUITE=$SCRIPTS/v2/suite.sh
TIMEOUT=${V2VM_SUITE_TIMEOUT:-600}
MEM=${V2VM_SUITE_MEM:-1024}
CPUS=${V2VM_SUITE_CPUS:-2}
export V2VM_CACHE=${V2VM_CACHE:-${TMPDIR:-/tmp}/v2vm-cache}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'v2vm-suite: %s\n' "$*" >&2; exit 125; }
START=$(date +%s)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/v2vm-suite.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- 1. hako ---------------------------------------------------------------------
if [[ -n ${HAKO_BIN:-} ]]; then
    HAKO=$(realpath -- "$HAKO_BIN")
else
    log "cargo build --release"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
    HAKO=$REPO/target/release/hako
fi
[[ -x $HAKO ]] || die "no hako binary at $HAKO"

# ---- 2. qemu, kernel (and busybox when the host has none), into the cache ----------
log "VM setup (cache $V2VM_CACHE)"
"$VM" --setup >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; die "VM setup failed"; }

# ---- 3. the busybox image ----------------------------------------------------------
BUSYBOX=
for b in /bin/busybox /usr/bin/busybox "$V2VM_CACHE/bb/bin/busybox"; do
    # Static only: the rootfs holds nothing else, and the tool needs one too.
    if [[ -x $b ]] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
[[ -n $BUSYBOX ]] || die "no static busybox (apt-get install busybox-static)"
log "busybox rootfs tarball from $BUSYBOX"
RFS=$WORK/rootfs
mkdir -p "$RFS"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,mnt}
chmod 1777 "$RFS/tmp"
cp "$BUSYBOX" "$RFS/bin/busybox"
while read -r applet; do
    [[ -n $applet && ! -e $RFS/$applet && ! -L $RFS/$applet ]] && ln -s /bin/busybox "$RFS/$applet"
done < <("$BUSYBOX" --list-full)
# util-linux's unshare for the cgroupfs attack check (busybox's has no --cgroup), with
# its libraries and loader beside it, out of busybox's way.
UL=$(command -v unshare) || die "no util-linux unshare on this host"
mkdir -p "$RFS/opt/util-linux"
cp -L "$UL" "$RFS/opt/util-linux/unshare"
for lib in $(ldd "$UL" | grep -o '/[^ ]*'); do cp -L "$lib" "$RFS/opt/util-linux/"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$RFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$RFS/etc/group"
tar --numeric-owner --owner=0 --group=0 -C "$RFS" -cf "$WORK/busybox.tar" .
log "image: $(du -k "$WORK/busybox.tar" | cut -f1) KiB, $(find "$RFS" | wc -l) entries"

# ---- 4. one VM boot: the suite -------------------------------------------------------
# A kernel that locks up (a CPU stuck in the kernel for 60 s) panics, which ends the VM at
# once with every CPU's backtrace in the console, instead of idling until the timeout.
# loglevel=5 lets those backtraces (and OOM reports) through to the console log.
CONSOLE=${V2VM_CONSOLE_LOG:-$WORK/console.log}
export V2VM_CONSOLE_LOG=$CONSOLE
export V2VM_APPEND="loglevel=5 watchdog_thresh=30 softlockup_panic=1 softlockup_all_cpu_backtrace=1 ${V2VM_APPEND:-}"
log "booting the cgroup v2 VM (timeout ${TIMEOUT}s, ${MEM} MB, $CPUS vCPUs)"
set +e
"$VM" -t "$TIMEOUT" -m "$MEM" -c "$CPUS" -k overlay -k brd -w / \
    -f "$HAKO:/usr/local/bin/hako" \
    -f "$WORK/busybox.tar:/busybox.tar" \
    -f "$SUITE:/suite.sh" \
    -e HAKO=/usr/local/bin/hako -e HAKO_SUITE_IMAGE=/busybox.tar \
    "$BUSYBOX" sh /suite.sh
RC=$?
set -e
if ((RC != 0)) && [[ -f $CONSOLE ]]; then
    first=$(grep -n -m1 -E 'soft lockup|hard LOCKUP|BUG:|Oops|Kernel panic|rcu_.*stall|blocked for more than|general protection' "$CONSOLE" | cut -d: -f1 || true)
    if [[ -n $first ]]; then
        echo "--- guest kernel console from line $first (of $(wc -l <"$CONSOLE")) ---" >&2
        tail -n +"$first" "$CONSOLE" | head -n 400 >&2
    fi
fi
log "suite exit status $RC, $(($(date +%s) - START)) s in all"
exit "$RC"

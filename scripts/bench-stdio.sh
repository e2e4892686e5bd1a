#!/usr/bin/env bash
# bench-stdio.sh: what does hako's stdio relay cost? Pushes 100 MB through
# `hako run -i --rm busybox cat` (stdin a pipe or a file, stdout a pipe: the
# relay splices both ways) and through a plain `cat` and `busybox cat` with the
# same input and output, in one hyperfine run, then prints medians and each
# median's ratio to plain cat's. The target is hako within 1.3x of cat.
#
# This is a benchmark, not a test: it needs root (a container), builds the
# release binary, and keeps everything in a temp dir it removes (a private
# --root and cgroup parent; the container is --rm).
#
# Environment:
#   RUNS=20        timed runs per command (after 3 warmup runs)
#   SIZE_MB=100    megabytes pushed through
#   JSON_OUT=FILE  keep a copy of hyperfine's JSON export
set -euo pipefail

RUNS=${RUNS:-20}
SIZE_MB=${SIZE_MB:-100}
JSON_OUT=${JSON_OUT:-}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
HAKO="$REPO/target/release/hako"

die() { printf 'bench-stdio: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (it starts containers)"
command -v hyperfine >/dev/null || die "hyperfine is not installed"
BUSYBOX=$(command -v busybox) || die "busybox is not installed (apt-get install busybox-static)"

WORK=$(mktemp -d /tmp/hako-bench-stdio.XXXXXX)
ROOT="$WORK/root"
export HAKO_CGROUP_PARENT="hako-bench-stdio-$$"
cleanup() {
    "$HAKO" --root "$ROOT" gc >/dev/null 2>&1 || true
    rm -rf "$WORK"
    for dir in /sys/fs/cgroup/*/"$HAKO_CGROUP_PARENT" /sys/fs/cgroup/"$HAKO_CGROUP_PARENT"; do
        [[ -d $dir ]] && rmdir "$dir" 2>/dev/null || true
    done
}
trap cleanup EXIT

(cd "$REPO" && cargo build --release --quiet)

# A busybox image, as the tests make it.
ROOTFS="$WORK/rootfs"
mkdir -p "$ROOTFS"/{bin,etc,tmp,proc,sys,dev}
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
ln -s busybox "$ROOTFS/bin/cat"
ln -s busybox "$ROOTFS/bin/sh"
"$HAKO" --root "$ROOT" image import busybox "$ROOTFS" >/dev/null

INPUT="$WORK/input"
head -c "${SIZE_MB}M" /dev/urandom > "$INPUT"

# Check once that the bytes come through whole.
[[ $("$HAKO" --root "$ROOT" run -i --rm busybox cat < "$INPUT" | cksum) == $(cksum < "$INPUT") ]] \
    || die "the output of hako run -i cat differs from its input"

# Both ends are pipes, as in `producer | hako run -i ... | consumer`.
FEED="cat $INPUT |"
DRAIN="| cat > /dev/null"
export_args=(--export-json "$WORK/result.json")
hyperfine --warmup 3 --runs "$RUNS" "${export_args[@]}" \
    -n cat "$FEED cat $DRAIN" \
    -n "busybox cat" "$FEED $BUSYBOX cat $DRAIN" \
    -n "hako run -i --rm busybox cat" "$FEED $HAKO --root $ROOT run -i --rm busybox cat $DRAIN"

[[ -n $JSON_OUT ]] && cp "$WORK/result.json" "$JSON_OUT"
python3 - "$WORK/result.json" "$SIZE_MB" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print(f"\n{sys.argv[2]} MB through each, medians:")
for r in results:
    print(f"  {r['command']:<32} {r['median'] * 1000:8.1f} ms  {r['median'] / base:5.2f}x")
EOF

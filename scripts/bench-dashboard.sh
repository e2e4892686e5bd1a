#!/usr/bin/env bash
# bench-dashboard.sh: what the dashboard costs, measured on the real release
# binary in a real terminal (a detached tmux).
#
#  (a) Idle cost: CONTAINERS idle detached containers (`run -d --memory 16m
#      host sleep 1000`), the dashboard at a 1 s tick for DURATION seconds;
#      its CPU time (utime+stime of /proc/PID/stat, all threads) and resident
#      memory (VmRSS) sampled every second. Targets: under 1% of one core on
#      average, under 30 MiB resident.
#  (b) Throughput: BYTES of text (`base64 /dev/urandom | head -c BYTES`)
#      printed in a container's shell shown in the dashboard's pane, against
#      the same command in a plain tmux pane; the wall time from Enter until
#      a marker printed after it is on the screen (tmux capture-pane, polled
#      every 50 ms). RUNS runs each, medians and their ratio. Target: within
#      2x of tmux. For reference, the same through `hako attach` in a plain
#      tmux pane (the monitor's relay without the dashboard).
#
# This is a benchmark, not a test: it needs root and tmux, creates only
# what it removes again (its own --root, cgroup parent and tmux server, all
# removed on every exit), and its numbers are only as steady as the machine.
#
# Environment:
#   HAKO=PATH        the hako binary (default: build and use target/release/hako)
#   CONTAINERS=50    idle containers in (a)
#   DURATION=60      seconds sampled in (a)
#   BYTES=50000000   bytes printed per run in (b)
#   RUNS=3           runs per terminal in (b)
#   PARTS="a b"      which parts to run
set -euo pipefail
export LC_ALL=C.UTF-8 # ${#text} counts the box-drawing characters as one each

CONTAINERS=${CONTAINERS:-50}
DURATION=${DURATION:-60}
BYTES=${BYTES:-50000000}
RUNS=${RUNS:-3}
PARTS=${PARTS:-a b}
COLS=150
ROWS=45

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench-dashboard: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (containers with cgroup limits)"
command -v tmux >/dev/null || die "needs tmux (apt-get install tmux)"
for n in "$CONTAINERS" "$DURATION" "$BYTES" "$RUNS"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "CONTAINERS, DURATION, BYTES and RUNS must be positive integers"
done

if [[ -z ${HAKO:-} ]]; then
    log "building the release binary"
    (cd "$REPO" && cargo build --release --quiet)
    HAKO="${CARGO_TARGET_DIR:-$REPO/target}/release/hako"
fi
[[ -x $HAKO ]] || die "no hako binary at $HAKO"

# Everything this run makes carries this tag, so cleanup removes only that.
TAG="hako-bench-dash-$$"
export HAKO_CGROUP_PARENT="$TAG"
unset HAKO_ROOT
ROOT=$(mktemp -d "/tmp/$TAG-XXXX")
TMUX_SOCKET="$TAG"
CGROUP_FS=/sys/fs/cgroup

hako() { "$HAKO" --root "$ROOT" "$@"; }
tm() { tmux -L "$TMUX_SOCKET" "$@"; }

# --- cleanup (on every exit) --------------------------------------------------

remove_containers() {
    local dir
    for dir in "$ROOT"/containers/*/; do
        [[ -d $dir ]] || continue
        hako rm -f "$(basename "$dir")" >/dev/null 2>&1 || true
    done
}

# The cgroup parent is ours alone: anything still inside is killed, then the
# directories go, children first, in every hierarchy (v1, v2 or both).
remove_cgroups() {
    local dir pid
    for dir in "$CGROUP_FS/$TAG" "$CGROUP_FS"/*/"$TAG"; do
        [[ -d $dir ]] || continue
        while read -r pid; do
            [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
        done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [[ -d $dir ]] || break
            sleep 0.2
        done
    done
}

cleanup() {
    trap - EXIT INT TERM
    tm kill-server 2>/dev/null || true
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCKET"
    remove_containers
    remove_cgroups
    # The monitors are gone with their containers; a mount left by a killed
    # run would keep the root, so make sure before removing it.
    if ! grep -q "$ROOT" /proc/self/mountinfo; then
        rm -rf "$ROOT"
    else
        printf 'bench-dashboard: mounts left under %s\n' "$ROOT" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers ------------------------------------------------------------------

now() { date +%s.%N; }

# Waits until tmux target $1 shows text $2, for at most $3 seconds; prints
# the time it was seen.
wait_screen() {
    local target=$1 text=$2 limit=$3 start
    start=$(now)
    while ! tm capture-pane -p -t "$target" 2>/dev/null | grep -qF -- "$text"; do
        if awk -v s="$start" -v n="$(now)" -v l="$limit" 'BEGIN { exit !(n - s > l) }'; then
            printf 'bench-dashboard: never saw "%s" in %s; the screen was:\n' "$text" "$target" >&2
            tm capture-pane -p -t "$target" >&2 || true
            exit 1
        fi
        sleep 0.05
    done
    now
}

# Starts the dashboard in a new tmux session $1; prints its pid.
start_dashboard() {
    local session=$1
    tm new-session -d -s "$session" -x "$COLS" -y "$ROWS" "exec $HAKO --root $ROOT tui --tick 1000"
    tm display-message -p -t "$session" '#{pane_pid}'
}

stop_dashboard() {
    local session=$1 pid=$2
    tm send-keys -t "$session" q
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    tm kill-session -t "$session" 2>/dev/null || true
}

# CPU time of process $1 in clock ticks (utime + stime: all its threads).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- (a) idle cost ----------------------------------------------------------------

part_a() {
    local i pid start t0 c0 t_prev c_prev t c rss peak_cpu=0 cpu_now
    local samples=() rss_samples=()
    log "(a) starting $CONTAINERS idle containers (run -d --memory 16m host sleep 1000)"
    start=$(now)
    for i in $(seq "$CONTAINERS"); do
        hako run -d --memory 16m --name "idle-$i" host sleep 1000 >/dev/null
    done
    log "    started in $(awk -v s="$start" -v n="$(now)" 'BEGIN { printf "%.1f", n - s }') s"
    pid=$(start_dashboard idle)
    wait_screen idle "$CONTAINERS containers, $CONTAINERS running" 30 >/dev/null
    sleep 3 # the first ticks fill the history; start from a steady state
    log "(a) sampling the dashboard (pid $pid) every second for $DURATION s"
    t0=$(now)
    c0=$(cpu_ticks "$pid")
    t_prev=$t0
    c_prev=$c0
    for i in $(seq "$DURATION"); do
        sleep 1
        t=$(now)
        c=$(cpu_ticks "$pid")
        rss=$(rss_kib "$pid")
        cpu_now=$(awk -v c="$c" -v cp="$c_prev" -v t="$t" -v tp="$t_prev" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "%.2f", (c - cp) / hz / (t - tp) * 100 }')
        samples+=("$cpu_now")
        rss_samples+=("$rss")
        t_prev=$t
        c_prev=$c
    done
    local cpu_avg rss_max rss_median cpu_max
    cpu_avg=$(awk -v c="$c" -v c0="$c0" -v t="$t" -v t0="$t0" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f", (c - c0) / hz / (t - t0) * 100 }')
    cpu_max=$(printf '%s\n' "${samples[@]}" | sort -g | tail -1)
    rss_max=$(printf '%s\n' "${rss_samples[@]}" | sort -g | tail -1)
    rss_median=$(printf '%s\n' "${rss_samples[@]}" | median)
    stop_dashboard idle "$pid"
    log "(a) removing the idle containers"
    remove_containers

    A_REPORT=$(
        printf '(a) %s idle containers, dashboard at a 1 s tick, %s one-second samples\n' "$CONTAINERS" "$DURATION"
        printf '    CPU: %s%% of one core on average (busiest second %s%%)   target < 1%%   %s\n' \
            "$cpu_avg" "$cpu_max" "$(awk -v v="$cpu_avg" 'BEGIN { print (v < 1 ? "MET" : "MISSED") }')"
        printf '    RSS: max %.1f MiB, median %.1f MiB                      target < 30 MiB %s\n' \
            "$(awk -v k="$rss_max" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rss_median" 'BEGIN { print k / 1024 }')" \
            "$(awk -v k="$rss_max" 'BEGIN { print (k / 1024 < 30 ? "MET" : "MISSED") }')"
    )
}

# --- (b) throughput -------------------------------------------------------------

# Prints the seconds from Enter to marker in the shell of tmux target $1,
# where a shell prompt waits for a command line.
flood_in_shell() {
    local target=$1 marker=$2 t0 t1
    tm send-keys -t "$target" -l "clear"
    tm send-keys -t "$target" Enter
    sleep 0.5
    tm send-keys -t "$target" -l "base64 /dev/urandom | head -c $BYTES; echo; echo FLOOD-END-\$(($marker))"
    sleep 0.3
    t0=$(now)
    tm send-keys -t "$target" Enter
    t1=$(wait_screen "$target" "FLOOD-END-$marker" 600)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}

part_b() {
    local i pid t times_pane=() times_tmux=() times_attach=()
    log "(b) a container with a terminal for the pane (run -dit host sh)"
    hako run -dit --name flood host sh >/dev/null
    pid=$(start_dashboard pane)
    wait_screen pane flood 30 >/dev/null
    tm send-keys -t pane Enter
    wait_screen pane "keys go to the shell" 10 >/dev/null
    sleep 1
    # The dashboard's peak memory while the text flows, sampled alongside.
    local peak_file="$ROOT/rss-peak" c0 c1
    (
        peak=0
        while kill -0 "$pid" 2>/dev/null; do
            rss=$(rss_kib "$pid" 2>/dev/null) || break
            ((rss > peak)) && peak=$rss && echo "$peak" >"$peak_file"
            sleep 0.1
        done
    ) &
    local sampler=$!
    c0=$(cpu_ticks "$pid")
    for i in $(seq "$RUNS"); do
        t=$(flood_in_shell pane $((1000 + i)))
        log "    dashboard pane, run $i: $t s"
        times_pane+=("$t")
    done
    c1=$(cpu_ticks "$pid")
    local pane_cols line
    line=$(tm capture-pane -p -t pane | grep -m1 -F "keys go to the shell")
    line=${line##*┌}
    pane_cols=$((${#line} - 1))
    stop_dashboard pane "$pid"
    wait "$sampler" 2>/dev/null || true
    local pane_peak pane_cpu
    pane_peak=$(awk '{ printf "%.1f", $1 / 1024 }' "$peak_file" 2>/dev/null || echo "?")
    pane_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v n="$RUNS" 'BEGIN { printf "%.2f", (b - a) / hz / n }')

    log "(b) the same in a plain tmux pane (${COLS}x$ROWS, the command on the host)"
    tm new-session -d -s plain -x "$COLS" -y "$ROWS" "exec sh"
    sleep 0.5
    for i in $(seq "$RUNS"); do
        t=$(flood_in_shell plain $((2000 + i)))
        log "    plain tmux pane, run $i: $t s"
        times_tmux+=("$t")
    done

    log "(b) for reference: through hako attach in a plain tmux pane"
    tm new-session -d -s attach -x "$COLS" -y "$ROWS" "exec $HAKO --root $ROOT attach flood"
    sleep 1
    tm send-keys -t attach Enter
    sleep 0.5
    for i in $(seq "$RUNS"); do
        t=$(flood_in_shell attach $((3000 + i)))
        log "    hako attach in tmux, run $i: $t s"
        times_attach+=("$t")
    done
    tm kill-session -t attach 2>/dev/null || true
    tm kill-session -t plain 2>/dev/null || true

    local m_pane m_tmux m_attach
    m_pane=$(printf '%s\n' "${times_pane[@]}" | median)
    m_tmux=$(printf '%s\n' "${times_tmux[@]}" | median)
    m_attach=$(printf '%s\n' "${times_attach[@]}" | median)
    B_REPORT=$(
        printf '(b) %s bytes of base64 text, %s runs each, wall time from Enter to a marker after it\n' "$BYTES" "$RUNS"
        printf '    dashboard pane (%s cols wide):   median %s s   (runs: %s)\n' "$pane_cols" "$m_pane" "${times_pane[*]}"
        printf '      the dashboard used %s s of CPU per run; its RSS peaked at %s MiB\n' "$pane_cpu" "$pane_peak"
        printf '    plain tmux pane (%s cols):       median %s s   (runs: %s)\n' "$COLS" "$m_tmux" "${times_tmux[*]}"
        printf '    hako attach in tmux (reference): median %s s   (runs: %s)\n' "$m_attach" "${times_attach[*]}"
        printf '    ratio dashboard / tmux: %sx                 target <= 2x %s\n' \
            "$(awk -v a="$m_pane" -v b="$m_tmux" 'BEGIN { printf "%.2f", a / b }')" \
            "$(awk -v a="$m_pane" -v b="$m_tmux" 'BEGIN { print (a / b <= 2 ? "MET" : "MISSED") }')"
    )
}

A_REPORT=""
B_REPORT=""
# A session that lives as long as the script keeps the tmux server up
# between the sessions measured (it goes when its last session does).
tm new-session -d -s keep -x "$COLS" -y "$ROWS" "exec sleep 100000"
for part in $PARTS; do
    case $part in
        a) part_a ;;
        b) part_b ;;
        *) die "unknown part '$part' (a or b)" ;;
    esac
done

printf '\nhako dashboard benchmark: %s, %s CPUs, kernel %s\n' \
    "$("$HAKO" --version)" "$(nproc)" "$(uname -r)"
[[ -n $A_REPORT ]] && printf '%s\n' "$A_REPORT"
[[ -n $B_REPORT ]] && printf '%s\n' "$B_REPORT"
exit 0

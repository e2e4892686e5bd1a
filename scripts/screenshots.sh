#!/usr/bin/env bash
# Makes the PNG pictures in screenshots/ from the real dashboard: the release
# binary runs in tmux on a private root with the demo containers and a shell,
# tmux captures the screen with its colours, and scripts/ansi_to_png.py
# draws each capture.
#
# Needs root (real containers), tmux, python3 with Pillow (pip install pillow)
# and the DejaVu fonts (apt-get install tmux fonts-dejavu-core).
#
#   scripts/screenshots.sh            # writes screenshots/*.png
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "screenshots.sh: run as root (it starts real containers)" >&2; exit 1; }
command -v tmux >/dev/null || { echo "screenshots.sh: apt-get install tmux" >&2; exit 1; }
python3 -c 'import PIL' 2>/dev/null || { echo "screenshots.sh: pip install pillow" >&2; exit 1; }

cargo build --release --quiet
hako="${CARGO_TARGET_DIR:-target}/release/hako"
root=$(mktemp -d /tmp/hako-shots.XXXXXX)
socket="hako-shots-$$"
cols=150
rows=42
export HAKO_CGROUP_PARENT="hako-shots-$$"

cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null || true
    for name in demo-memory-hog demo-cpu-burner demo-fork-loop shell; do
        "$hako" --root "$root" rm -f "$name" >/dev/null 2>&1 || true
    done
    rm -rf "$root"
}
trap cleanup EXIT

t() { tmux -L "$socket" "$@"; }
keys() { t send-keys -t shots "$@"; sleep 0.3; }
text() { t send-keys -t shots -l "$1"; sleep 0.3; }
wait_for() {
    for _ in $(seq 1 150); do
        t capture-pane -p -t shots | grep -qF -- "$1" && return 0
        sleep 0.2
    done
    echo "screenshots.sh: the dashboard never showed '$1'" >&2
    t capture-pane -p -t shots >&2
    exit 1
}
shot() {
    t capture-pane -e -p -t shots > "$root/$1.ansi"
    python3 scripts/ansi_to_png.py "$root/$1.ansi" "screenshots/$1.png" "$cols" "$rows"
    echo "screenshots/$1.png"
}

mkdir -p screenshots
"$hako" --root "$root" demo >/dev/null
t new-session -d -s shots -x "$cols" -y "$rows" "TERM=xterm-256color $hako --root $root tui"
t set-option -t shots status off >/dev/null
wait_for demo-fork-loop
# Let the limits trip a few times and the charts fill.
sleep 25
shot dashboard

# A shell of its own, from the form, in the pane.
keys n
wait_for "New container"
keys Tab Tab
text shell
keys Tab
text 16m
keys Tab
text 0.5
keys Tab
text 64
keys Enter
wait_for "started shell"
sleep 2
keys Enter
wait_for "keys go to the shell"
text 'echo "hello from $(hostname)"; ls --color=always /; printf "\033[1;32mgreen\033[0m \033[1;31mred\033[0m \033[7mreverse\033[0m é ü ─┼─\n"'
keys Enter
sleep 2
shot pane

# The memory hog in the shell: the OOM kill shows in the pane, the table and the alerts.
text 'tail /dev/zero'
keys Enter
wait_for Killed
sleep 2
keys 'C-\'
sleep 1
shot oom-alert

keys q
sleep 1

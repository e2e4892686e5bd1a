# hako demo: a fork loop under a pids limit of 20.
# Each round, a subshell starts 30 sleepers; the kernel refuses the forks
# past the limit (pids.max), the subshell gives up ("Cannot fork"), and the
# loop (PID 1) waits for the sleepers to end and tries again. The dashboard
# shows the refused forks as "pids limit reached".
echo "fork loop: 30 sleepers at a time under a pids limit of 20"
while true; do
  (
    i=0
    while [ "$i" -lt 30 ]; do
      sleep 3 &
      i=$((i + 1))
    done
    wait
  )
  wait
  echo "round over; again"
  sleep 2
done

# hako demo: a memory hog under a 32 MiB limit.
# `tail /dev/zero` looks for the end of a line that never ends, keeping it all
# in memory, until the kernel's OOM killer ends it at the limit. The shell
# (PID 1, small) survives and starts it again, so the OOM kills keep coming.
echo "memory hog: tail /dev/zero under a 32 MiB memory limit"
while true; do
  tail /dev/zero
  echo "tail ended with status $? (137: killed at the memory limit); again in 5 s"
  sleep 5
done

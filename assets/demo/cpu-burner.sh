# hako demo: a CPU burner under a quota of 0.2 CPU.
# The loop would use a whole CPU; the CFS quota lets it run 20 ms in every
# 100 ms and throttles it for the rest, so CPU shows 20% (100% of its quota)
# and the throttled share of periods rises.
echo "CPU burner: a busy loop under a 0.2 CPU quota"
while :; do :; done

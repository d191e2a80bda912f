#!/usr/bin/env bash
# kcat client of ClientCompatibilityTest.
#   kcat-client.sh BOOTSTRAP TOPIC GROUP produce FIRST COUNT
#   kcat-client.sh BOOTSTRAP TOPIC GROUP consume EXPECTED TIMEOUT_SECONDS
# produce: messages FIRST..FIRST+COUNT-1 as "key:value" lines through `kcat -P -K:` with acks=all; message i has
#   key k(i%10) and value k(i%10)-(i/10).
# consume: kcat's balanced consumer (-G GROUP TOPIC) prints "key TAB value TAB partition TAB offset" lines.
#   kcat cannot stop after a count and then commit by hand, so the flow adapts: -e makes it exit once every
#   assigned partition reached its end (so reading too much shows, as extra lines, rather than being cut off at
#   EXPECTED, which is unused), and the commit is librdkafka's: enable.auto.commit (true by default) stores the
#   offset of each message handed to kcat and commits it on the interval and once more when kcat closes the
#   consumer on exit (which also leaves the group). A new group starts from the earliest offset
#   (auto.offset.reset=earliest). TIMEOUT_SECONDS bounds the run.
set -euo pipefail
if [ $# -ne 6 ]; then
  echo "usage: $0 BOOTSTRAP TOPIC GROUP produce FIRST COUNT | BOOTSTRAP TOPIC GROUP consume EXPECTED TIMEOUT_SECONDS" >&2
  exit 2
fi
bootstrap=$1 topic=$2 group=$3 mode=$4 a=$5 b=$6
echo "client version: $(kcat -V 2>&1 | grep -m1 '^Version')" >&2
case "$mode" in
  produce)
    for ((i = a; i < a + b; i++)); do
      printf 'k%d:k%d-%d\n' $((i % 10)) $((i % 10)) $((i / 10))
    done | kcat -b "$bootstrap" -t "$topic" -P -K: -X acks=all -X message.timeout.ms=30000
    echo "produced $b" >&2
    ;;
  consume)
    status=0
    timeout --kill-after=5 "$b" kcat -b "$bootstrap" -G "$group" -e -q \
      -X auto.offset.reset=earliest -X session.timeout.ms=10000 -X heartbeat.interval.ms=1000 \
      -f '%k\t%s\t%p\t%o\n' "$topic" || status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
      echo "kcat did not reach the end of all its partitions within $b s and was stopped" >&2
    fi
    exit "$status"
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac

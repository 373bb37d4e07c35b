#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-limits.sh KO KPTWATCH [SECS]: runs inside a test-bed guest. Where
# kptwatch starts to lose events under the module's pte_kernel churn (one
# thread, SECS seconds, default 3): `trace --json` (every event through
# the ring buffer) at shrinking --ringbuf-size, and `check --json` at
# shrinking --max-pending. One line per run: the size, the churn's ops,
# what kptwatch saw (queued, events), what it lost (rb_drop, map_full)
# and its exit status; a loss must show as a count and, for check, as an
# incomplete verdict (exit 3), never as a clean one.
#
#   tests/vm/run.sh --smp 1 6.12-patched -- \
#       tests/bench/guest-limits.sh "$(tests/kmod/build.sh DIR | tail -n1)" build/kptwatch
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: guest-limits.sh KO KPTWATCH [SECS]" >&2; exit 2; }
ko=$1 bin=$2 secs=${3:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/vm/guest-lib.sh"
D=/sys/kernel/debug/kptwatch_test
"$top/tests/kmod/load.sh" "$ko" || exit 1
tmp=$(mktemp -d)
churn() { echo "churn mode=pte_kernel threads=1 secs=$secs" >$D/run; sed -n 's/^churn_ops=//p' $D/stats; }

for rb in 1M 256K 64K 16K 4K; do
	"$bin" trace --json --ringbuf-size $rb >"$tmp/t.out" 2>"$tmp/t.err" &
	kp=$!
	wait_attached $kp "$tmp/t.err" ||
		{ echo "guest-limits.sh: trace never attached: $(tail -n 3 "$tmp/t.err")" >&2; exit 1; }
	ops=$(churn)
	sleep 0.5
	kill -INT $kp
	wait $kp
	rc=$?
	tail -n1 "$tmp/t.out" | jq -r --arg rb $rb --arg ops "$ops" --arg rc $rc --arg n "$(grep -c '"event"' "$tmp/t.out")" \
		'"trace --ringbuf-size \($rb): ops \($ops), queued \(.counters.queued), events \($n), rb_drop \(.counters.rb_drop), map_full \(.counters.map_full), exit \($rc)"'
done

for n in 65536 1024 256 64; do
	"$bin" check --json --max-pending $n -- sh -c "echo 'churn mode=pte_kernel threads=1 secs=$secs' >$D/run" \
		>"$tmp/c.out" 2>"$tmp/c.err"
	rc=$?
	jq -r --arg n $n --arg ops "$(sed -n 's/^churn_ops=//p' $D/stats)" --arg rc $rc \
		'"check --max-pending \($n): ops \($ops), tables walked \(.counters.table_walked), queued \(.counters.queued), freed_ok \(.counters.freed_ok), largest pending depth \(.metrics[] | select(.name == "pending_depth") | .max), map_full \(.counters.map_full), violations \(.violations_total), verdict \(.verdict) (exit \($rc))"' \
		"$tmp/c.out"
done
rmmod kptwatch_test
rm -rf "$tmp"

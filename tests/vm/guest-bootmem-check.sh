#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-bootmem-check.sh KO START SIZE: runs INSIDE a test-bed guest booted
# as bootmem-remove.sh boots it (memory present at boot in ZONE_MOVABLE),
# for check-bootmem-mutant.sh. Runs
#
#   build/kptwatch check --json -- insmod KO start=START size=SIZE
#
# (tests/vm/memremove: offline_and_remove_memory() of the range, whose
# boot-time page tables hot-remove frees), waits for the series' queue to
# drain inside the check, and prints what kptwatch and the series' debugfs
# counters said as "mutant: KEY=VALUE" lines. Asserts nothing: the host
# judges. Exits 2 when the run could not be made.
set -u

ko=${1:?usage: guest-bootmem-check.sh KO START SIZE}
start=${2:?usage: guest-bootmem-check.sh KO START SIZE}
size=${3:?usage: guest-bootmem-check.sh KO START SIZE}
top=$(cd "$(dirname "$0")/../.." && pwd)
K=$top/build/kptwatch
S=/sys/kernel/debug/async_pgtable_free/stats
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out() { echo "mutant: $1=$2"; }
[ -x "$K" ] || { out error "no $K (make all first)"; exit 2; }
[ -r $S ] || { out error "$S missing: kernel without the series' counters patch"; exit 2; }

out kernel "$(uname -r)"
out series_before "$(tr '\n' ' ' <$S)"
# The removal, then the drain: up to 10 s for the queue to empty, inside
# the check so that every free is judged before it ends.
"$K" check --json -- sh -c "insmod $ko start=$start size=$size || exit 1
	for i in \$(seq 100); do
		grep -qx 'pending_pages 0' $S && exit 0
		sleep 0.1
	done
	exit 3" >"$tmp/check.json" 2>"$tmp/check.err"
out exit $?
jq -r '
	def kv(k; v): "mutant: \(k)=\(v)";
	kv("command"; .command_run.status),
	kv("violation"; .counters.violation),
	kv("range_violation"; .counters.range_violation),
	kv("queued"; .counters.queued),
	kv("freed_ok"; .counters.freed_ok),
	kv("data_page"; .counters.data_page),
	kv("pending"; .pending.count),
	kv("unknown"; .counters.unknown),
	kv("range_unknown"; .counters.range_unknown),
	kv("walk_trunc"; .counters.walk_trunc),
	kv("map_full"; .counters.map_full),
	kv("rb_drop"; .counters.rb_drop),
	kv("kinds_points"; [.violations[] | "\(.event)@\(.point)"] | unique | join(",")),
	kv("reasons"; [.reasons[] | "\(.kind): \(.text)"] | join(" | ")),
	kv("first_violation"; (.violations[0] // null
		| if . then del(.stack, .q_stack) | tojson else "none" end))
' "$tmp/check.json" 2>/dev/null || {
	out error "kptwatch printed no usable JSON: $(head -c 300 "$tmp/check.err")"
	exit 2
}
jq -r '.violations[0] // empty | "mutant: stack=\(.stack | join(" < "))"' "$tmp/check.json"
out series_after "$(tr '\n' ' ' <$S)"
exit 0

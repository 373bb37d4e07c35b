#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-mutant.sh KO [CHECK_ARGS...]
#
# Runs INSIDE a test-bed guest, as root, for tests/vm/check-mutants.sh: loads
# the test module (KO) and runs
#
#   build/kptwatch check --json CHECK_ARGS -- WORKLOAD
#
# where WORKLOAD is the module's vmap_pmd run (KPT_PMD_ITERS, default 32: a
# PTE table freed by pmd_free_pte_page() per iteration) then its pte_kernel
# run (KPT_PTE_ITERS, default 200: a PTE table linked, unlinked and freed
# with pte_free_kernel() per iteration), each with drain_ms=KPT_DRAIN_MS
# (default 3000: how long the module waits for its tables to reach the page
# allocator after the run). With KPT_MODULE_LOADS=N (default 0) the
# workload first unloads and loads the test module N times: on 7.x module
# loading splits and collapses large pages of the execmem cache (CPA), and
# frees the collapsed tables (docs/workloads.md).
#
# It asserts nothing: it prints what kptwatch and the module said, as
# "mutant: KEY=VALUE" lines, and the host decides. kptwatch's figures come
# from its JSON document, the workload's from the module's stats. Exits 0
# when the run could be made (whatever kptwatch's verdict), 2 when not.
set -u

ko=${1:?usage: guest-mutant.sh KO [CHECK_ARGS...]}
shift
pmd_iters=${KPT_PMD_ITERS:-32}
pte_iters=${KPT_PTE_ITERS:-200}
drain_ms=${KPT_DRAIN_MS:-3000}
loads=${KPT_MODULE_LOADS:-0}

top=$(cd "$(dirname "$0")/../.." && pwd)
K=$top/build/kptwatch
D=/sys/kernel/debug/kptwatch_test
tmp=$(mktemp -d)
trap 'rmmod kptwatch_test 2>/dev/null; rm -rf "$tmp"' EXIT

out() { echo "mutant: $1=$2"; }
setup_fail() {
	out error "$1"
	exit 2
}

[ -x "$K" ] || setup_fail "no $K (make all first)"
command -v jq >/dev/null || setup_fail "no jq"
"$top/tests/kmod/load.sh" "$ko" || setup_fail "insmod $ko failed"
for m in vmap_pmd pte_kernel; do
	if grep -q "^${m}_status=unsupported" $D/stats; then
		setup_fail "the module cannot run $m: $(sed -n "s/^${m}_reason=//p" $D/stats)"
	fi
done

out kernel "$(uname -r)"
out check_args "$*"
# The series' own counters (0008) and a mutant's (NAME VALUE lines in
# /sys/kernel/debug/kptwatch_mutant), read by the workload at its start
# and end: what grew there grew while kptwatch watched, attached and with
# its walk done, not while it started or tore down (loading and unloading
# its programs allocates and frees executable memory: on 7.x that splits
# and collapses large pages too). The module's stats below are the last
# load's, which runs the two runs.
S=/sys/kernel/debug/async_pgtable_free/stats
M=/sys/kernel/debug/kptwatch_mutant
out module_loads "$loads"
"$K" check --json "$@" -- sh -c "cat $S $M >'$tmp/series.before' 2>/dev/null
	i=0
	while [ \$i -lt $loads ]; do
		rmmod kptwatch_test && '$top/tests/kmod/load.sh' '$ko' || exit 1
		i=\$((i + 1))
	done
	echo 'vmap_pmd iters=$pmd_iters drain_ms=$drain_ms' >$D/run &&
	echo 'pte_kernel iters=$pte_iters drain_ms=$drain_ms' >$D/run
	rc=\$?
	cat $S $M >'$tmp/series.after' 2>/dev/null
	exit \$rc" >"$tmp/check.json" 2>"$tmp/check.err"
out exit $?
for w in before after; do
	[ -s "$tmp/series.$w" ] && out series_$w "$(tr '\n' ' ' <"$tmp/series.$w")"
done

# kptwatch's figures
jq -r '
	def kv(k; v): "mutant: \(k)=\(v)";
	kv("verdict"; .verdict),
	kv("violation"; .counters.violation),
	kv("range_violation"; .counters.range_violation),
	kv("violations_total"; .violations_total),
	kv("queued"; .counters.queued),
	kv("freed_ok"; .counters.freed_ok),
	kv("inval_begin"; .counters.inval_begin),
	kv("inval_end"; .counters.inval_end),
	kv("drain_begin"; .counters.drain_begin),
	kv("pending"; .pending.count),
	kv("pending_over_age"; .pending.over_age),
	kv("pending_oldest_ns"; .pending.oldest_ns),
	kv("unknown"; .counters.unknown),
	kv("range_unknown"; .counters.range_unknown),
	kv("walk_trunc"; .counters.walk_trunc),
	kv("map_full"; .counters.map_full),
	kv("rb_drop"; .counters.rb_drop),
	kv("table_walked"; .counters.table_walked),
	kv("table_linked"; .counters.table_linked),
	kv("table_split"; .counters.table_split),
	kv("table_freed"; .counters.table_freed),
	kv("walk_race"; .counters.walk_race),
	kv("command"; .command_run.status),
	kv("methods"; [.plan.points[] | select(.method != "missing" and .role != "page free")
		| .method] | unique | join(",")),
	kv("kept"; (.violations | length)),
	kv("kinds_points"; [.violations[] | "\(.event)@\(.point)"] | unique | join(",")),
	kv("reasons"; [.reasons[] | "\(.kind): \(.text)"] | join(" | ")),
	kv("first_violation"; (.violations[0] // null
		| if . then del(.stack, .q_stack) | tojson else "none" end))
' "$tmp/check.json" 2>"$tmp/jq.err" || {
	out error "kptwatch printed no usable JSON: $(head -c 300 "$tmp/check.err")"
	exit 2
}
# The first violation's stacks, as a user sees them in the JSON.
jq -r '.violations[0] // empty | "mutant: stack=\(.stack | join(" < "))",
	"mutant: q_stack=\(.q_stack | join(" < "))"' "$tmp/check.json"
sed 's/^/mutant: stderr=/' "$tmp/check.err" | head -n 20

# what the workload freed, from the module
for k in vmap_pmd_iters vmap_pmd_freed vmap_pmd_pt_watched vmap_pmd_pt_freed vmap_pmd_pt_pending \
	pte_kernel_iters pte_kernel_linked pte_kernel_freed pte_kernel_pt_watched \
	pte_kernel_pt_freed pte_kernel_pt_pending; do
	out "$k" "$(sed -n "s/^$k=//p" $D/stats)"
done
exit 0

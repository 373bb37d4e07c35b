#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-cpa-cost.sh KPTWATCH KO [LOADS]
#
# Run in a test-bed guest: what watching CPA's large-page splits costs
# (the fexit of __change_page_attr_set_clr(), bpf/split.bpf.h), per call,
# from the kernel's own BPF statistics (kernel.bpf_stats_enabled), while
# the test module KO is loaded and unloaded LOADS times (default 20) under
# `KPTWATCH check`: on 7.x that splits and collapses large pages of the
# execmem cache (docs/workloads.md). With CHURN_MB=N it then writes N MiB
# to tmpfs and removes them: under DEBUG_PAGEALLOC (the -debug entries
# boot with debug_pagealloc=on) every page the allocator hands out or
# takes back is a 1-page CPA call. Prints kptwatch's exit code, its table
# counters and reasons for the same run, then one line per program that
# ran: name runs ns_total ns_per_run.
set -euo pipefail
k=$1 ko=$2 loads=${3:-20} churn=${CHURN_MB:-0}
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
rc=0
# the statistics are read inside the check, while the programs are attached
"$k" check --json -- sh -c "for i in \$(seq $loads); do
		'$top/tests/kmod/load.sh' '$ko' && rmmod kptwatch_test || exit 1
	done
	if [ $churn -gt 0 ]; then
		dd if=/dev/zero of=/dev/shm/cpa-churn bs=1M count=$churn status=none || exit 1
		rm -f /dev/shm/cpa-churn
	fi
	bpftool prog show --json >'$tmp/progs.json'" >"$tmp/check.json" 2>"$tmp/check.err" || rc=$?
echo "check exit $rc"
jq -r '.counters | "violation \(.violation) range_violation \(.range_violation) queued \(.queued)" +
	" freed_ok \(.freed_ok) table_walked \(.table_walked) table_linked \(.table_linked)" +
	" table_split \(.table_split) table_freed \(.table_freed) walk_race \(.walk_race)" +
	" walk_trunc \(.walk_trunc) pagetable_free_kernel \(.["point.pagetable_free_kernel"])"' \
	"$tmp/check.json"
jq -r '.reasons[]? | "reason \(.kind): \(.text)"' "$tmp/check.json"
jq -r '.[] | select(.run_cnt != null and .run_cnt > 0) |
	"\(.name) \(.run_cnt) \(.run_time_ns) \(.run_time_ns / .run_cnt | floor)"' "$tmp/progs.json"

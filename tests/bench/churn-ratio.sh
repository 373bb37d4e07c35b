#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# churn-ratio.sh [MODE [SECS [THREADS]]]
#
# The deferral's cost on the test module's churn: the same churn on 6.12 and
# 6.12-patched, back to back in one run, and the patched/vanilla ratio of
# operations per second. Then the churn again on 6.12-patched under
# `kptwatch check` for the drain duration and the largest pending depth.
# A benchmark, not a test: under TCG on a shared host the absolute figures
# move between runs; compare only figures from one run.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-pte_kernel} secs=${2:-5} threads=${3:-2}
cd "$top"
make -s build/kptwatch

declare -A ops_s
for entry in 6.12 6.12-patched; do
	dir=$(tests/vm/build-kernel.sh "$entry")
	ko=$(tests/kmod/build.sh "$dir" | tail -n1)
	out=$(tests/vm/run.sh "$entry" -- tests/bench/guest-churn.sh "$ko" "$mode" "$secs" "$threads")
	echo "$out" | sed "s/^/$entry: /"
	ops=$(echo "$out" | sed -n 's/^churn_ops=//p')
	wall=$(echo "$out" | sed -n 's/^churn_wall_ns=//p')
	ops_s[$entry]=$(awk -v o="$ops" -v w="$wall" 'BEGIN { printf "%.0f", o / (w / 1e9) }')
	echo "$entry: $mode churn, $threads threads, ${secs}s: ${ops_s[$entry]} ops/s"
done
awk -v p="${ops_s[6.12-patched]}" -v v="${ops_s[6.12]}" \
	'BEGIN { printf "ratio patched/vanilla: %.3f\n", p / v }'

dir=$(tests/vm/build-kernel.sh 6.12-patched)
ko=$(tests/kmod/build.sh "$dir" | tail -n1)
tests/vm/run.sh 6.12-patched -- build/kptwatch check -- \
	tests/bench/guest-churn.sh "$ko" "$mode" "$secs" "$threads" 2>&1 |
	grep -E '^(drain|drain_pages|pending_depth|enq_to_free|inval):|^  (queued|drain)|^verdict'

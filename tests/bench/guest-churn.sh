#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-churn.sh KO_PATH MODE SECS THREADS: runs inside a test-bed guest.
# Loads the test module, runs one churn and prints its stats, plus the
# deferral's own debugfs counters where the kernel has them (the series
# under CONFIG_DEBUG_VM).
set -eu
ko=$1 mode=$2 secs=$3 threads=$4
"$(dirname "$0")/../kmod/load.sh" "$ko"
echo "churn mode=$mode threads=$threads secs=$secs" >/sys/kernel/debug/kptwatch_test/run
grep -E '^churn_(mode|ops|wall_ns|ns_per_op|pt_freed|pt_pending)=' /sys/kernel/debug/kptwatch_test/stats
f=/sys/kernel/debug/kernel_pgtable_async_free
[ -r "$f" ] && sed 's/^/deferral: /' "$f"
rmmod kptwatch_test

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-page-free-cost.sh KPTWATCH [ROUNDS]
#
# Run in a test-bed guest: what each kptwatch program costs per run, from
# the kernel's own BPF statistics (kernel.bpf_stats_enabled: run_cnt and
# run_time_ns per program). KPTWATCH runs `hist` while the guest frees
# pages in bulk (tmpfs files written and removed), the load that every
# page free in the system puts on the mm_page_free program.
# Prints one line per program: name runs ns_total ns_per_run.
set -euo pipefail
k=$1 rounds=${2:-5}
sysctl -qw kernel.bpf_stats_enabled=1
"$k" hist -d 20s >/tmp/hist.out 2>&1 &
pid=$!
sleep 4
for _ in $(seq "$rounds"); do
	dd if=/dev/zero of=/dev/shm/churn bs=1M count=256 status=none
	rm -f /dev/shm/churn
done
bpftool prog show --json |
	jq -r '.[] | select(.run_cnt != null and .run_cnt > 0) |
		"\(.name) \(.run_cnt) \(.run_time_ns) \(.run_time_ns / .run_cnt | floor)"'
kill -INT "$pid"
wait "$pid" || true

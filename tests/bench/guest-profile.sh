#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-profile.sh KO KPTWATCH|bare [SECS]: runs inside a test-bed guest.
# Profiles the module's pte_kernel churn (one thread, SECS seconds,
# default 4) with perf's cpu-clock sampling over the whole guest, while
# `KPTWATCH hist` watches it (or nothing: bare). Prints the churn's ops,
# the share of samples in BPF and its helpers (the programs, trampolines,
# hash-map code, bpf_ktime_get_ns's clock read, ...) against the rest, and
# their ratio: what watching costs per unit of the workload's own work,
# which host load does not move as it moves ops/s. Then the BPF symbols.
#
#   tests/vm/run.sh --smp 1 6.12-patched -- \
#       tests/bench/guest-profile.sh "$(tests/kmod/build.sh DIR | tail -n1)" build/kptwatch
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: guest-profile.sh KO KPTWATCH|bare [SECS]" >&2; exit 2; }
ko=$1 bin=$2 secs=${3:-4}
command -v perf >/dev/null || { echo "guest-profile.sh: perf not found (make deps)" >&2; exit 2; }
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/vm/guest-lib.sh"
"$top/tests/kmod/load.sh" "$ko"
sysctl -qw kernel.kptr_restrict=0 kernel.perf_event_paranoid=-1
tmp=$(mktemp -d)
kp=
if [ "$bin" != bare ]; then
	"$bin" hist --json >"$tmp/k.out" 2>"$tmp/k.err" &
	kp=$!
	wait_attached $kp "$tmp/k.err" ||
		{ echo "guest-profile.sh: $bin never attached: $(tail -n 3 "$tmp/k.err")" >&2; exit 1; }
fi
perf record -q -a -e cpu-clock -F 4000 -o "$tmp/perf.data" -- \
	sh -c "echo 'churn mode=pte_kernel threads=1 secs=$secs' >/sys/kernel/debug/kptwatch_test/run" \
	2>/dev/null
ops=$(sed -n 's/^churn_ops=//p' /sys/kernel/debug/kptwatch_test/stats)
if [ -n "$kp" ]; then
	kill -INT "$kp"
	wait "$kp" || true
fi
bpf_re='^(htab_|__htab|bpf_|__bpf_|ktime_get_mono_fast_ns|copy_from_kernel_nofault|migrate_(dis|en)able|__?pcpu_freelist|memcmp|jhash)'
perf report -i "$tmp/perf.data" --no-children --sort sym --stdio -F overhead,sym 2>/dev/null |
	grep '%' >"$tmp/report"
awk -v ops="$ops" -v what="$bin" -v re="$bpf_re" '
	{ p = $1; sub("%", "", p); if ($NF ~ re) bpf += p; else other += p }
	END { printf "%s: churn_ops=%s bpf=%.1f%% rest=%.1f%% bpf/rest=%.3f\n",
		     what, ops, bpf, other, other ? bpf / other : 0 }' "$tmp/report"
awk -v re="$bpf_re" '$NF ~ re' "$tmp/report" | head -20
rmmod kptwatch_test
rm -rf "$tmp"

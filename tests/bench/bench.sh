#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [options] [ENTRY...]: `make bench` (BENCH_ARGS="..."). A
# benchmark, not a test: see docs/benchmarks.md for how to read it.
#
# Boots each test-bed ENTRY once (default: 6.12-patched 7.3 6.12) and runs
# tests/bench/guest-bench.sh in it: a cross-check of kptwatch against the
# bpftrace reference (tests/bench/kptwatch-ref.bt) on a deterministic
# workload, then the test module's churn under each configuration (bare,
# kptwatch hist, kptwatch check, the bpftrace reference, bpftrace with empty
# bodies), interleaved for ROUNDS rounds, then each tool's per-program BPF
# cost. Then tests/bench/bench-report.sh writes the table, the JSON and the
# plot.
#
# An entry whose kernel is not cached is skipped, saying so: this never
# builds a kernel unless --build is given (20-45 min each on two cores).
#
# Options:
#   --rounds N      rounds per configuration (default 5)
#   --secs S        churn seconds per run (default 5)
#   --mode M        churn mode of the test module (default pte_kernel), or
#                   user_pages: build/page-churn, every page it frees an
#                   ordinary one (what watching costs the rest of a system)
#   --threads N     churn threads (default: one per vCPU)
#   --smp N         guest vCPUs (default 2; 1 takes the cross-vCPU TLB
#                   flush IPIs, which TCG serves only when the host runs
#                   both vCPU threads at once, out of the churn: less noise)
#   --configs LIST  configurations, in round order (default
#                   "bare hist check bpftrace bare-hooks")
#   --out DIR       results directory (default
#                   $KPTWATCH_CACHE/bench/YYYYmmdd-HHMMSS; the link
#                   $KPTWATCH_CACHE/bench/latest points at the last one)
#   --build         build an entry's kernel when it is not cached
#   --timeout SEC   limit per guest (default: from rounds and secs)
#   -h, --help
#
# Exit status: 0 every entry asked for ran (or was skipped as uncached) and
# the cross-checks agree; 1 a cross-check disagreed or a run failed; 2 usage
# or setup; 3 no entry could run.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/vm/lib.sh"
TOP=$top
. "$top/scripts/demo-lib.sh"
export KPTWATCH_CACHE

usage() { sed -n '4,38p' "$0" | sed 's/^# \{0,1\}//'; }

rounds=5 secs=5 mode=pte_kernel threads=0 smp=2 out= build=0 timeout=
configs="bare hist check bpftrace bare-hooks"
entries=()
need() { [ $# -ge 2 ] || { echo "bench.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) need "$@"; rounds=$2; shift 2 ;;
	--secs) need "$@"; secs=$2; shift 2 ;;
	--mode) need "$@"; mode=$2; shift 2 ;;
	--threads) need "$@"; threads=$2; shift 2 ;;
	--smp) need "$@"; smp=$2; shift 2 ;;
	--configs) need "$@"; configs=$2; shift 2 ;;
	--out) need "$@"; out=$2; shift 2 ;;
	--build) build=1; shift ;;
	--timeout) need "$@"; timeout=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) entries+=("$1"); shift ;;
	esac
done
for v in rounds secs threads smp; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench.sh: --$v wants a number" >&2; exit 2; }
done
[ "$rounds" -ge 1 ] && [ "$secs" -ge 1 ] || { echo "bench.sh: --rounds and --secs must be >= 1" >&2; exit 2; }
[ ${#entries[@]} -gt 0 ] || entries=(6.12-patched 7.3 6.12)
if [ -z "$timeout" ]; then
	# per run: the churn, a tool's start and stop (TCG: up to ~20 s), the
	# module's drain; plus boot, the cross-check and the cost pass
	nconf=$(wc -w <<<"$configs")
	timeout=$((300 + (rounds + 1) * nconf * (secs + 45)))
fi

for t in jq qemu-system-x86_64; do
	command -v $t >/dev/null || { echo "bench.sh: no $t: make deps" >&2; exit 2; }
done
command -v bpftrace >/dev/null ||
	{ echo "bench.sh: no bpftrace (the guest runs the host's): make deps" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench.sh: needs root (the test bed does)" >&2; exit 2; }

if [ -z "$out" ]; then
	out=$KPTWATCH_CACHE/bench/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$out"
	ln -sfn "$out" "$KPTWATCH_CACHE/bench/latest"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
echo "bench.sh: results in $out"

make -s -C "$top" all >&2 || { echo "bench.sh: make all failed" >&2; exit 2; }

{
	echo "command=tests/bench/bench.sh --rounds $rounds --secs $secs --mode $mode --threads $threads --smp $smp --configs '$configs' ${entries[*]}"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "git=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "host_kernel=$(uname -r)"
	echo "host_cpus=$(nproc)"
	echo "host_load=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n1)"
	echo "accel=$([ -r /dev/kvm ] && [ -w /dev/kvm ] && echo kvm || echo tcg)"
} >"$out/meta.txt"

status=0 ran=0
for e in "${entries[@]}"; do
	if dir=$(cached_dir "$e"); then
		:
	elif [ $build = 1 ]; then
		echo "bench.sh: $e: not cached; building it (--build)"
		dir=$("$top/tests/vm/build-kernel.sh" "$e") || { echo "bench.sh: $e: build failed" >&2; status=1; continue; }
	else
		echo "bench.sh: SKIP $e: its kernel is not cached in $KPTWATCH_CACHE/build (building takes 20-45 min; --build does it)"
		echo "skipped: not cached" >"$out/skipped-$e"
		continue
	fi
	ko=$("$top/tests/kmod/build.sh" "$dir" 2>"$out/kmod-$e.log" | tail -n1) ||
		{ echo "bench.sh: $e: test module build failed ($out/kmod-$e.log)" >&2; status=1; continue; }
	echo "bench.sh: $e: $rounds rounds of: $configs (churn $mode ${secs}s), guest limit ${timeout}s"
	mkdir -p "$out/$e"
	args=(--rounds "$rounds" --secs "$secs" --mode "$mode" --threads "$threads" --configs "$configs")
	rc=0
	"$top/tests/vm/run.sh" --keep --stats "$out/$e/run.stats" --timeout "$timeout" --smp "$smp" \
		--kernel "$dir" "$e" -- \
		"$top/tests/bench/guest-bench.sh" "${args[@]}" "$ko" \
		> >(tee "$out/$e/guest.log") 2>"$out/$e/guest.err" || rc=$?
	run_dir=$(sed -n 's/^run_dir=//p' "$out/$e/run.stats" 2>/dev/null)
	if [ -n "$run_dir" ] && [ -d "$run_dir/share/bench" ]; then
		cp -r "$run_dir/share/bench/." "$out/$e/"
		cp "$run_dir/console.log" "$out/$e/console.log" 2>/dev/null || true
		rm -rf "$run_dir"
	fi
	case $rc in
	0) ran=$((ran + 1)) ;;
	1) ran=$((ran + 1)); status=1; echo "bench.sh: $e: some runs failed (records.ndjson says which)" ;;
	*) status=1; echo "bench.sh: $e: the guest run failed (exit $rc): $out/$e/guest.err"; tail -n 5 "$out/$e/guest.err" >&2 ;;
	esac
done

if [ $ran = 0 ]; then
	echo "bench.sh: no entry ran"
	[ $status = 0 ] && status=3
	exit $status
fi
"$top/tests/bench/bench-report.sh" "$out" || status=1
bad=$(jq -r '.entries | to_entries[] | select(.value.crosscheck.agree != true) | .key' \
	"$out/results.json" 2>/dev/null | tr '\n' ' ')
if [ -n "$bad" ]; then
	echo "bench.sh: the cross-check of kptwatch against bpftrace did not agree (or did not run) on: $bad"
	status=1
fi
exit $status

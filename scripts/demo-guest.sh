#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh KO
#
# Runs INSIDE a test-bed guest (tests/vm/run.sh [--hotplug] ENTRY -- ...),
# for scripts/demo.sh: kptwatch on the running kernel while the test module
# (KO) makes it free kernel page tables.
#
#  1. kptwatch probe: what it found and will watch;
#  2. kptwatch hist -i 5s while two kthreads churn (vmap_pmd, then
#     pte_kernel, KPTWATCH_DEMO_CHURN_SECS each, default 5): live histograms;
#  3. kptwatch check --junit around the workload: vmap_pmd 32, vmap_pud 1,
#     pte_kernel 200, and a memory hot-remove (a 512M DIMM plugged before
#     the module is loaded, unplugged inside the workload) when the guest
#     was started with --hotplug: violations with their stacks,
#     histograms, the verdict.
#
# Each output goes to the terminal and to $KPTWATCH_VM_SHARE/demo/
# (probe.txt, hist.txt, check.txt, check.xml); the results to
# $KPTWATCH_VM_SHARE/demo/result (key=value: hist_rc, check_rc, hotplug,
# workload). Exits 0 when all ran (whatever the verdict: that is the
# result), 2 when it could not (no share, no kptwatch, insmod failed).
set -u

ko=${1:?usage: demo-guest.sh KO}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/demo-lib.sh"
K=$top/build/kptwatch
D=/sys/kernel/debug/kptwatch_test
share=${KPTWATCH_VM_SHARE:?not in a test-bed guest}
out=$share/demo
secs=${KPTWATCH_DEMO_CHURN_SECS:-5}
mkdir -p "$out"
res=$out/result
: >"$res"

say() { printf '\n=== %s\n' "$*"; }
die() { echo "demo-guest: $*" >&2; echo "error=$*" >>"$res"; exit 2; }

[ -x "$K" ] || die "no $K"

# The DIMM goes in before the module: the module maps the first free
# physical range above 4 GiB at load time, which is where QEMU puts the
# DIMM; plugged first, it is claimed and the module maps above it. Its
# removal is the end of the workload kptwatch check watches.
work="echo 'vmap_pmd iters=32' >$D/run && echo 'vmap_pud iters=1' >$D/run && echo 'pte_kernel iters=200' >$D/run"
workload="vmap_pmd 32, vmap_pud 1 (513 tables), pte_kernel 200"
hotplug=
if [ -d "$share/hotplug" ]; then
	say "hot-adding a 512M DIMM (removed under kptwatch check below)"
	if "$top/tests/vm/guest-hotplug.sh" plug dimm0 512M; then
		work="$work && $top/tests/vm/guest-hotplug.sh unplug dimm0"
		workload="$workload, hot-remove of a 512M DIMM"
		hotplug=removed
	else
		hotplug="plug failed, not part of the run"
	fi
else
	hotplug="not offered (guest started without --hotplug)"
fi
echo "workload=$workload" >>"$res"

insmod "$ko" || die "insmod $ko failed"
trap 'rmmod kptwatch_test 2>/dev/null' EXIT

say "kptwatch probe: what this kernel offers"
"$K" probe 2>&1 | tee "$out/probe.txt"

say "kptwatch hist -i 5s, while 2 threads remap vmalloc areas and free PTE pages (${secs} s each)"
"$K" hist -i 5s >"$out/hist.txt" 2>&1 &
hpid=$!
tail -n +1 -f "$out/hist.txt" --pid=$hpid &
tpid=$!
# hist prints nothing before its first interval: wait until its BPF links
# (or kprobe perf events) stop growing; attaching under TCG takes seconds
prev=-1
for _ in $(seq 120); do
	n=$(ls -l /proc/$hpid/fd 2>/dev/null | grep -c 'bpf_link\|perf_event')
	[ "$n" -gt 0 ] && [ "$n" = "$prev" ] && break
	prev=$n
	sleep 0.5
done
echo "churn mode=vmap_pmd secs=$secs" >$D/run
echo "churn mode=pte_kernel secs=$secs" >$D/run
sleep 1
kill -INT $hpid
wait $hpid
hist_rc=$?
wait $tpid 2>/dev/null
echo "hist_rc=$hist_rc" >>"$res"


say "kptwatch check --handover-stacks --junit check.xml -- ($workload)"
"$K" check --handover-stacks --junit "$out/check.xml" -- sh -c "$work" >"$out/check.txt" 2>&1
check_rc=$?
# on the terminal: the first violation reports (hundreds on a buggy kernel,
# each with two stacks), then the histograms, counters and verdict
short_check "$out/check.txt" 40
echo "check_rc=$check_rc" >>"$res"
if [ "$hotplug" = removed ] && grep -q 'FAIL hotplug\|guest-hotplug:' "$out/check.txt"; then
	hotplug="the unplug failed (see check.txt)"
fi
echo "hotplug=$hotplug" >>"$res"
echo
echo "demo-guest: check exit $check_rc, hist exit $hist_rc"
exit 0

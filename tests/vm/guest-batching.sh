#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-batching.sh KO SECS THREADS: runs inside a guest of a kernel that
# defers kernel page-table frees (the 6.12 series or 7.x) and measures how
# well the deferral batches under the test module's pte_kernel churn
# (pte_alloc_one_kernel() + pte_free_kernel() in a loop on THREADS vCPUs for
# SECS seconds).
#
# Nothing here depends on kptwatch: the kernel's function tracer records the
# enqueue point (kernel_pgtable_async_free() of the series,
# pagetable_free_kernel() of 7.x), every start of kernel_pgtable_work_func()
# and every iommu_sva_invalidate_kva_range(), and a kretprobe event every end
# of the drain, all on the "global" trace clock. From that it prints:
#
#   pages per invalidation   enqueues / invalidations
#   pages per drain          p50/p99/max over the drains
#   queue wait               enqueue to the start of the drain that took it
#   enqueue to free (bound)  enqueue to the end of that drain, which is when
#                            its last page went back; an upper bound per page
#
# The tracer slows the churn down by the same amount on every kernel;
# compare kernels only under this script, never with kptwatch's figures.
set -u

ko=${1:?usage: guest-batching.sh KO SECS THREADS}
secs=${2:?usage: guest-batching.sh KO SECS THREADS}
threads=${3:?usage: guest-batching.sh KO SECS THREADS}
T=/sys/kernel/tracing
F=/sys/kernel/debug/async_pgtable_free/stats
M=/sys/kernel/debug/kptwatch_test

enq=
for f in kernel_pgtable_async_free pagetable_free_kernel; do
	grep -qx "$f" $T/available_filter_functions && { enq=$f; break; }
done
[ -n "$enq" ] || { echo "FAIL batching: no enqueue point in available_filter_functions"; exit 1; }

"$(dirname "$0")/../kmod/load.sh" "$ko" || exit 1
echo 0 >$T/tracing_on
echo global >$T/trace_clock
echo 65536 >$T/buffer_size_kb
echo >$T/trace
printf '%s\n' "$enq" kernel_pgtable_work_func iommu_sva_invalidate_kva_range >$T/set_ftrace_filter
echo 'r:kptw_drain_end kernel_pgtable_work_func' >$T/kprobe_events || exit 1
echo 1 >$T/events/kprobes/kptw_drain_end/enable
echo function >$T/current_tracer
[ -r $F ] && sed 's/^/# before: /' $F
echo 1 >$T/tracing_on
echo "churn mode=pte_kernel threads=$threads secs=$secs" >$M/run
sleep 1
echo 0 >$T/tracing_on
[ -r $F ] && sed 's/^/# after: /' $F
grep -E '^churn_(ops|wall_ns|pt_freed|pt_pending)=' $M/stats | sed 's/^/# /'
overrun=$(sed -n 's/^overrun: //p' $T/per_cpu/cpu*/stats | awk '{ s += $1 } END { print s + 0 }')

cat $T/trace >/tmp/batching.trace
echo nop >$T/current_tracer
echo >$T/set_ftrace_filter
echo 0 >$T/events/kprobes/kptw_drain_end/enable
echo >$T/kprobe_events
rmmod kptwatch_test

awk -v enq="$enq" -v W=/tmp/batching.wait -v E=/tmp/batching.e2f -v B=/tmp/batching.batch '
	/^#/ { next }
	{
		ts = ""; fn = ""
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) { ts = substr($i, 1, length($i) - 1); fn = $(i + 1); break }
		if (ts == "") next
		if (fn == enq) { pend[np++] = ts; nenq++ }
		else if (fn == "kernel_pgtable_work_func") {
			ndrain++
			print np > B
			for (k = 0; k < np; k++) { print (ts - pend[k]) * 1e6 > W; fly[nf++] = pend[k] }
			np = 0
		} else if (fn == "iommu_sva_invalidate_kva_range") ninval++
		else if (fn == "kptw_drain_end:") {
			for (k = 0; k < nf; k++) print (ts - fly[k]) * 1e6 > E
			nf = 0
		}
	}
	END { printf "enqueues=%d drains=%d invalidations=%d unfinished=%d\n", nenq, ndrain, ninval, np + nf }' /tmp/batching.trace >/tmp/batching.sum
cat /tmp/batching.sum
read -r e d i <<<"$(sed 's/[a-z]*=//g' /tmp/batching.sum | cut -d' ' -f1-3)"

pct() { # FILE: p50 p99 max of a column of numbers
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - -"; exit }
		i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
		i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
		printf "%s %s %s\n", v[i50], v[i99], v[NR] }'
}
echo "kernel: $(uname -r) enqueue point: $enq; ring buffer overruns: $overrun"
echo "pages per invalidation: $(awk -v e="$e" -v i="$i" 'BEGIN { printf i ? "%.1f" : "-", e / i }') ($e pages, $i invalidations, $d drains)"
echo "pages per drain p50/p99/max: $(pct /tmp/batching.batch)"
echo "queue wait us p50/p99/max: $(pct /tmp/batching.wait)"
echo "enqueue to free (bound) us p50/p99/max: $(pct /tmp/batching.e2f)"
[ "$overrun" = 0 ] || echo "WARNING: the ring buffer overran; the figures are partial"

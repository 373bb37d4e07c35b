#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-report.sh DIR: from DIR/ENTRY/records.ndjson (tests/bench/bench.sh's
# results directory) write
#   DIR/results.json   everything, for tracking (docs/benchmarks.md)
#   DIR/table.txt      the human table, also printed
#   DIR/latency.png    enqueue-to-free and invalidation latency
#                      distributions (kptwatch hist during churn), one line
#                      per kernel; with gnuplot only (make deps installs it),
#                      else skipped with a message; DIR/latency-*.dat hold
#                      the data either way
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: bench-report.sh RESULTS_DIR}
dir=$(cd "$dir" && pwd)

all=$dir/all-records.ndjson
: >"$all"
entries=()
for f in "$dir"/*/records.ndjson; do
	[ -f "$f" ] || continue
	e=$(basename "$(dirname "$f")")
	entries+=("$e")
	jq -c --arg e "$e" '. + {entry: $e}' "$f" >>"$all"
done
[ ${#entries[@]} -gt 0 ] || { echo "bench-report: no records under $dir" >&2; exit 2; }

meta='{}'
[ -f "$dir/meta.txt" ] &&
	meta=$(jq -Rn '[inputs | capture("^(?<k>[^=]+)=(?<v>.*)$")] | map({key: .k, value: .v}) | from_entries' \
		<"$dir/meta.txt")
jq -s --argjson meta "$meta" -f "$here/bench-report.jq" "$all" >"$dir/results.json"

# --- the table -------------------------------------------------------------
jq -r '
def ns: if . == null then "-" elif . < 1000 then "\(. | round)ns"
	elif . < 1e6 then "\(. / 1e3 * 10 | round / 10)us"
	elif . < 1e9 then "\(. / 1e6 * 10 | round / 10)ms"
	else "\(. / 1e9 * 100 | round / 100)s" end;
def num: if . == null then "-" else (. * 10 | round / 10 | tostring) end;
def pad(n): tostring | if length < n then . + (" " * (n - length)) else . end;
def lpad(n): tostring | if length < n then (" " * (n - length)) + . else . end;
def mib: if . == null then "-" else "\(. / 1024 * 10 | round / 10) MiB" end;

"kptwatch bench: \(.meta.date // "?"), git \(.meta.git // "?"), \(.meta.accel // "?") on \(.meta.host_cpus // "?") host CPUs (load \(.meta.host_load // "?"))",
"command: \(.meta.command // "?")",
"Absolute figures in a TCG guest mean little; compare ratios within one entry of one run.",
(.entries | to_entries[] | .key as $e | .value as $v | $v.setup as $s |
 "",
 "== \($e) (\($s.kernel // "?")): churn \($s.mode // "?") \($s.secs // "?")s, \($s.threads | if . == 0 then "one thread per vCPU" else "\(.) threads" end), \($s.cpus // "?") vCPUs, \($s.rounds // "?") rounds interleaved",
 "",
 "  \("configuration" | pad(13)) \("ops/s median" | lpad(12))  \("min..max" | pad(15)) \("vs bare" | lpad(7))  \("paired min..max" | pad(15)) \("attach s" | lpad(8)) \("ready s" | lpad(7)) \("peak RSS" | lpad(10))",
 ($s.configs[] as $c | $v.throughput[$c] as $t | $v.tools[$c] as $tl |
  "  \($c | pad(13)) \($t.median | num | lpad(12))  \("\($t.min | num)..\($t.max | num)" | pad(15)) \($t.ratio | if . == null then "-" else tostring end | lpad(7))  \(if $c == "bare" then "" else "\($t.ratio_paired.min // "-")..\($t.ratio_paired.max // "-")" end | pad(15)) \($tl.attach_s.median | if . == null then "-" else tostring end | lpad(8)) \($tl.ready_s.median | if . == null then "-" else tostring end | lpad(7)) \($tl.maxrss_kb.max | mib | lpad(10))"),
 "  (attach s: median exec to kptwatch'"'"'s \"... links; coverage\" line, to bpftrace'"'"'s \"attached_probes\" line, printed before it loads its programs; ready s: to all of them loaded, when the churn starts)",
 "",
 "  cross-check (vmap_pmd iters=32 + pte_kernel iters=200; the module saw \($v.crosscheck.module_pt_freed // "?") tables reach the allocator):",
 "    kptwatch check: \($v.crosscheck.kptwatch | if . == null then "did not run" else "queued \(.queued) freed_ok \(.freed_ok) violations \(.violation) (\(.verdict), exit \(.exit))" end)",
 "    bpftrace ref:   \($v.crosscheck.bpftrace | if . != null then "queued \(.queued) freed_ok \(.freed_ok) violations \(.violation)" elif $v.crosscheck.deferral then "did not run" else "not run: no deferral in this kernel, nothing to attach to" end)",
 "    \(if $v.crosscheck.agree then if $v.crosscheck.deferral then "agree" else "agree: a violation for each table the module freed" end else "DISAGREE" end)",
 "",
 "  the deferral under churn (kptwatch hist, all rounds): enqueue to free p50 \($v.tools.hist.enq_to_free.p50 | ns) p99 \($v.tools.hist.enq_to_free.p99 | ns) max \($v.tools.hist.enq_to_free.max | ns) (\($v.tools.hist.enq_to_free.count // 0) pages); largest pending depth \($v.tools.hist.pending_depth_max // "-"); invalidation p50 \($v.tools.hist.inval.p50 | ns) p99 \($v.tools.hist.inval.p99 | ns)",
 "  bpftrace ref, same rounds: largest pending depth \($v.tools.bpftrace.pending_depth_max // "-")\($v.tools.bpftrace.pending_end // [] | if any(. != 0) then " (a plain ++/-- from every CPU: it ended at \(map(tostring) | join(", ")), not 0, so updates were lost)" else "" end)",
 "  losses at this rate (peak \([$v.tools.check.queued_per_s, $v.tools.hist.queued_per_s] | max | num) pages queued/s): hist rb_drop \($v.tools.hist.rb_drop // "-") map_full \($v.tools.hist.map_full // "-"); check rb_drop \($v.tools.check.rb_drop // "-") map_full \($v.tools.check.map_full // "-"); bpftrace counts none",
 "",
 "  BPF cost per run (kernel.bpf_stats_enabled, one churn per tool; programs that ran):",
 ($v.cost | to_entries[] |
  "    \(.key | pad(11)) \(.value.progs | map("\(.name)\(if .attach then "(" + (.attach | sub("^trace_"; "")) + ")" else "" end) \(.ns_per_run | ns) x\(.run_cnt)") | join(", "))"),
 "",
 "  targets (issue 12):",
 ($v.targets[] | "    \(if .met == null then (if .why then "noise " else "n/a   " end) elif .met then "met   " else "MISSED" end) \(.target): \(.value | if . == null then "-" elif type == "number" then (. * 1000 | round / 1000 | tostring) else tostring end) (limit \(.limit))\(if .why then "; " + .why else "" end)"),
 (if ($v.errors | length) > 0 then "", "  errors:", ($v.errors[] | "    \(.kind) round \(.round // 0) \(.config // ""): \(.error)") else empty end)
),
"",
"bare churn ops/s per kernel (separate boots: indicative only): \(.kernels | to_entries | map("\(.key) \(.value | num)") | join(", "))"
' "$dir/results.json" | tee "$dir/table.txt"
for f in "$dir"/skipped-*; do
	[ -f "$f" ] && echo "skipped: ${f##*/skipped-} ($(cat "$f"))" | tee -a "$dir/table.txt"
done

# --- the plot --------------------------------------------------------------------
# per entry and metric: slot midpoint (ms), share of samples, from the hist runs
plots=()
for e in "${entries[@]}"; do
	for m in enq_to_free inval; do
		jq -rs --arg e "$e" --arg m "$m" '
			[.[] | select(.entry == $e and .kind == "churn" and .config == "hist") |
			 .tool.metrics[$m].slots // empty] | [.[][]] | group_by(.lo) |
			map({lo: .[0].lo, hi: .[0].hi, count: (map(.count) | add)}) as $s |
			($s | map(.count) | add // 0) as $n |
			$s[] | "\((.lo + .hi) / 2 / 1e6) \(.count / $n)"' "$all" >"$dir/latency-$e-$m.dat"
	done
	[ -s "$dir/latency-$e-enq_to_free.dat" ] && plots+=("$e")
done
if [ ${#plots[@]} -eq 0 ]; then
	echo "bench-report: no latency samples to plot"
elif ! command -v gnuplot >/dev/null; then
	echo "bench-report: no gnuplot: plot skipped (make deps installs it; data in $dir/latency-*.dat)"
else
	term="pngcairo size 1200,500"
	gnuplot -e 'set terminal pngcairo' 2>/dev/null || term="png size 1200,500"
	{
		echo "set terminal $term"
		echo "set output '$dir/latency.png'"
		echo "set multiplot layout 1,2 title 'kptwatch hist during churn (TCG: shapes, not absolute times)'"
		echo "set logscale x; set grid; set key top right; set ylabel 'share of samples'"
		for m in enq_to_free inval; do
			t="enqueue to free (ms)"
			[ $m = inval ] && t="IOMMU invalidation (ms)"
			echo "set xlabel '$t'"
			printf 'plot '
			sep=
			for e in "${plots[@]}"; do
				if [ -s "$dir/latency-$e-$m.dat" ]; then
					printf "%s'%s' using 1:2 with linespoints title '%s'" "$sep" "$dir/latency-$e-$m.dat" "$e"
				else
					printf "%s1/0 title '%s (none)'" "$sep" "$e"
				fi
				sep=', '
			done
			echo
		done
		echo "unset multiplot"
	} >"$dir/latency.gp"
	if gnuplot "$dir/latency.gp" 2>"$dir/gnuplot.err"; then
		echo "plot: $dir/latency.png (${plots[*]})"
	else
		echo "bench-report: gnuplot failed: $(head -n 3 "$dir/gnuplot.err")"
	fi
fi
echo "results: $dir/results.json, $dir/table.txt"

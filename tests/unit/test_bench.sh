#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark's pieces that need no kernel: tests/bench/bt-for-kernel.sh
# keeps the bpftrace probes a kernel has (7.x, the 6.12 series, 6.12 as
# shipped), and tests/bench/bench-report.sh turns records (made up here,
# in guest-bench.sh's format) into the medians, ratios, cross-check and
# targets of results.json and the table. bench.sh itself boots guests:
# `make bench`, not here.
set -u
T=tests/bench
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift
	for l in "$@"; do echo "  $l"; done
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- bt-for-kernel.sh -----------------------------------------------------------
probes() { "$T/bt-for-kernel.sh" "$T/kptwatch-ref.bt" "$1" 2>/dev/null | grep -E '^(k(ret)?func|tracepoint):' | tr '\n' ' '; }
printf 'ffffffff81255d10 T pagetable_free_kernel\nffffffff81476300 T iommu_sva_invalidate_kva_range\nffffffff81820210 D vmemmap_base\n' >"$tmp/upstream"
printf 'ffffffff81255d10 T kernel_pgtable_async_free\nffffffff81255d90 T kernel_pgtable_async_free_bootmem\nffffffff81476300 T iommu_sva_invalidate_kva_range\n' >"$tmp/seed"
printf 'ffffffff81255d10 T pmd_free_pte_page\n' >"$tmp/unpatched"
want="kfunc:pagetable_free_kernel kfunc:iommu_sva_invalidate_kva_range kretfunc:iommu_sva_invalidate_kva_range tracepoint:kmem:mm_page_free "
got=$(probes "$tmp/upstream")
[ "$got" = "$want" ] && ok "bt-for-kernel: 7.x keeps pagetable_free_kernel" || nok "bt-for-kernel: 7.x" "want: $want" "got:  $got"
want="kfunc:kernel_pgtable_async_free kfunc:kernel_pgtable_async_free_bootmem kfunc:iommu_sva_invalidate_kva_range kretfunc:iommu_sva_invalidate_kva_range tracepoint:kmem:mm_page_free "
got=$(probes "$tmp/seed")
[ "$got" = "$want" ] && ok "bt-for-kernel: the 6.12 series keeps its two enqueue points" || nok "bt-for-kernel: seed" "want: $want" "got:  $got"
got=$(probes "$tmp/unpatched")
[ "$got" = "tracepoint:kmem:mm_page_free " ] && ok "bt-for-kernel: 6.12 as shipped keeps the tracepoint only" || nok "bt-for-kernel: unpatched" "got: $got"
# every block it keeps is whole: as many { as }
"$T/bt-for-kernel.sh" "$T/kptwatch-ref.bt" "$tmp/upstream" 2>/dev/null >"$tmp/ref.bt"
o=$(grep -c '^{' "$tmp/ref.bt") c=$(grep -c '^}' "$tmp/ref.bt")
[ "$o" = "$c" ] && [ "$o" = 5 ] && ok "bt-for-kernel: whole blocks ($o)" || nok "bt-for-kernel: blocks" "open $o close $c"
msg=$("$T/bt-for-kernel.sh" "$T/bare-hooks.bt" "$tmp/upstream" 2>&1 >/dev/null)
[[ $msg == *"no kernel_pgtable_async_free here"* ]] && ok "bt-for-kernel: says what it left out" || nok "bt-for-kernel: stderr" "$msg"

# --- bench-report.sh ---------------------------------------------------------------
# rec KIND ROUND CONFIG OPS_S [TOOL_JSON [EXTRA_JSON]]
rec() {
	jq -nc --arg k "$1" --argjson r "$2" --arg c "$3" --argjson o "$4" \
		--argjson t "${5:-{\}}" --argjson x "${6:-{\}}" \
		'{kind: $k, round: $r, config: $c, ops: ($o * 2), wall_ns: 2000000000, ops_s: $o,
		  attach_s: (if $c == "bare" then null elif $c == "bpftrace" then 6 else 2 end),
		  maxrss_kb: (if $c == "bare" then null elif $c == "bpftrace" then 90000 else 9000 end),
		  tool: $t} + $x'
}
hist='{"queued": 100, "freed_ok": 100, "violation": 0, "rb_drop": 0, "map_full": 0,
 "metrics": {"enq_to_free": {"count": 4, "max": 4000, "slots": [{"lo": 1000, "hi": 1099, "count": 2}, {"lo": 3000, "hi": 3099, "count": 2}]},
  "inval": {"count": 1, "slots": [{"lo": 10, "hi": 10, "count": 1}]}, "pending_depth": {"max": 7}}}'
bt='{"queued": 232, "freed_ok": 232, "violation": 0, "max_depth": 9, "pending_end": 0}'
e=$tmp/res/7.3
mkdir -p "$e"
{
	jq -nc '{kind: "setup", kernel: "7.3.4", mode: "pte_kernel", secs: 2, threads: 0, rounds: 3, cpus: 2,
		configs: ["bare", "hist", "check", "bpftrace", "bare-hooks"]}'
	rec crosscheck 0 check 0 '{"queued": 232, "freed_ok": 232, "violation": 0, "verdict": "clean"}' '{"exit": 0, "module_pt_freed": 232}'
	rec crosscheck 0 bpftrace 0 "$bt" '{"module_pt_freed": 232}'
	for r in 1 2 3; do
		rec churn $r bare $((r * 100))
		rec churn $r hist $((r * 50)) "$hist"
		rec churn $r check $((r * 90)) "$hist"
		rec churn $r bpftrace $((r * 80)) "$bt"
		rec churn $r bare-hooks $((r * 100))
	done
	rec cost 0 hist 50 "$hist" '{"progs": [{"name": "tp_btf_page_free", "type": "tracing", "attach": "trace_fentry", "run_cnt": 10, "run_time_ns": 3000}, {"name": "idle", "run_cnt": 0, "run_time_ns": 0}]}'
	rec cost 0 bare-hooks 100 '{}' '{"progs": [{"name": "mm_page_free", "type": "tracepoint", "attach": null, "run_cnt": 10, "run_time_ns": 1000}]}'
} >"$e/records.ndjson"
mkdir -p "$tmp/res/6.12-patched"
{
	jq -nc '{kind: "setup", kernel: "6.12.117", configs: ["bare", "bpftrace"]}'
	rec crosscheck 0 check 0 '{"queued": 232, "freed_ok": 232, "violation": 0}' '{"exit": 0}'
	jq -nc '{kind: "crosscheck", round: 0, config: "bpftrace", error: "did not attach"}'
	rec churn 1 bare 100
} >"$tmp/res/6.12-patched/records.ndjson"
# 6.12 as shipped: no deferral, no bpftrace run; every table a violation
for e in 6.12 6.12-missed; do
	mkdir -p "$tmp/res/$e"
	v=232
	[ $e = 6.12-missed ] && v=231
	{
		jq -nc '{kind: "setup", kernel: "6.12.117", configs: ["bare", "hist", "check"], deferral: false}'
		rec crosscheck 0 check 0 "{\"queued\": 0, \"freed_ok\": 0, \"violation\": $v, \"verdict\": \"failed\"}" \
			'{"exit": 1, "module_pt_freed": 232}'
		rec churn 1 bare 100
	} >"$tmp/res/$e/records.ndjson"
done
echo "command=tests/bench/bench.sh --rounds 3" >"$tmp/res/meta.txt"
PATH_SAVE=$PATH
out=$("$T/bench-report.sh" "$tmp/res" 2>&1)
rc=$?
[ $rc = 0 ] && [ -s "$tmp/res/results.json" ] && ok "bench-report: exit 0, results.json" || nok "bench-report ran" "exit $rc" "$out"
R=$tmp/res/results.json
q() { jq -c "$1" "$R" 2>&1; }
[ "$(q '.entries["7.3"].throughput.bare | [.median, .min, .max, .n]')" = "[200,100,300,3]" ] &&
	ok "bench-report: median and spread" || nok "median/spread" "$(q '.entries["7.3"].throughput.bare')"
[ "$(q '.entries["7.3"].throughput | [.hist.ratio, .check.ratio, .bpftrace.ratio, .hist.ratio_paired.min, .hist.ratio_paired.max]')" = "[0.5,0.9,0.8,0.5,0.5]" ] &&
	ok "bench-report: ratios to bare, of medians and paired by round" || nok "ratios" "$(q '.entries["7.3"].throughput')"
[ "$(q '.entries["7.3"].crosscheck | [.agree, .kptwatch.queued, .bpftrace.queued, .module_pt_freed]')" = "[true,232,232,232]" ] &&
	ok "bench-report: cross-check agrees" || nok "cross-check" "$(q '.entries["7.3"].crosscheck')"
[ "$(q '.entries["6.12-patched"].crosscheck | [.agree, .bpftrace]')" = "[false,null]" ] &&
	ok "bench-report: a cross-check bpftrace did not run is no agreement" || nok "cross-check missing" "$(q '.entries["6.12-patched"].crosscheck')"
[ "$(q '[.entries["6.12"].crosscheck | .agree, .deferral, .bpftrace]')" = "[true,false,null]" ] &&
	[[ $out == *"agree: a violation for each table the module freed"* ]] &&
	[[ $out == *"not run: no deferral in this kernel"* ]] &&
	ok "bench-report: a kernel without the deferral agrees when each table is a violation" ||
	nok "cross-check unpatched" "$(q '.entries["6.12"].crosscheck')"
[ "$(q '.entries["6.12-missed"].crosscheck.agree')" = false ] &&
	ok "bench-report: ... and not when one table was missed" ||
	nok "cross-check unpatched, one missed" "$(q '.entries["6.12-missed"].crosscheck')"
[ "$(q '.entries["7.3"].tools.hist | [.enq_to_free.count, .enq_to_free.p50, .enq_to_free.p99, .pending_depth_max, .maxrss_kb.max, .rb_drop]')" = "[12,1049,3049,7,9000,0]" ] &&
	ok "bench-report: hist's figures over the rounds (slots added, percentiles)" || nok "hist figures" "$(q '.entries["7.3"].tools.hist')"
[ "$(q '.entries["7.3"].cost.hist.progs | map([.name, .ns_per_run])')" = '[["tp_btf_page_free",300]]' ] &&
	ok "bench-report: ns per run, programs that ran" || nok "cost" "$(q '.entries["7.3"].cost')"
[ "$(q '.entries["7.3"].targets | map(.met)')" = "[null,null,null,true,true,true,false,null]" ] && [ "$(q '.entries["7.3"].targets[0].why')" = "\"undecided: the loss is somewhere in -50%..83% over the rounds\"" ] &&
	ok "bench-report: targets" || nok "targets" "$(q '.entries["7.3"].targets | map([.target, .value, .met])')"
grep -q "agree" "$tmp/res/table.txt" && grep -q "DISAGREE" "$tmp/res/table.txt" &&
	grep -Eq "^  hist +100  50\.\.150 +0\.5 " "$tmp/res/table.txt" &&
	ok "bench-report: table" || nok "table" "$(cat "$tmp/res/table.txt")"
if command -v gnuplot >/dev/null; then
	[ -s "$tmp/res/latency.png" ] && ok "bench-report: plot" || nok "plot" "$out"
else
	[[ $out == *"no gnuplot: plot skipped"* ]] && ok "bench-report: no gnuplot, says so" || nok "no gnuplot" "$out"
fi
# without gnuplot on PATH, the report is made anyway
mkdir "$tmp/bin"
for t in jq bash awk sed grep cat tee basename dirname mkdir cut tr sort head tail rm wc date; do
	p=$(command -v $t) && ln -s "$p" "$tmp/bin/$t"
done
out=$(PATH=$tmp/bin "$T/bench-report.sh" "$tmp/res" 2>&1)
rc=$?
[ $rc = 0 ] && [[ $out == *"no gnuplot: plot skipped"* ]] && ok "bench-report: skips the plot without gnuplot" ||
	nok "no gnuplot on PATH" "exit $rc" "$out"
PATH=$PATH_SAVE
"$T/bench.sh" --help | grep -q -- "--rounds" && ok "bench.sh --help" || nok "bench.sh --help"
"$T/bench.sh" --rounds x >/dev/null 2>&1
[ $? = 2 ] && ok "bench.sh: bad --rounds is exit 2" || nok "bench.sh --rounds x"

echo "1..$n"
exit $failed

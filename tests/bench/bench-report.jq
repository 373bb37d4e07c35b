# SPDX-License-Identifier: GPL-2.0
#
# bench-report.jq: the records of every entry (guest-bench.sh's
# records.ndjson, each line with "entry" added), slurped, to results.json.
# Used by bench-report.sh; --argjson meta {...} (meta.txt as an object).

def median: sort | if length == 0 then null
	elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def spread: map(select(. != null)) |
	{n: length, median: median, min: min, max: max};
def r3: if . == null then null else . * 1000 | round / 1000 end;

# percentile of a kptwatch histogram given as slots [{lo, hi, count}]:
# the midpoint of the slot the rank falls in, as kptwatch does
def slot_pct(p): (map(.count) | add // 0) as $n |
	if $n == 0 then null else
	(($n * p / 100) | ceil | if . < 1 then 1 else . end) as $rank |
	reduce .[] as $s ({acc: 0, v: null};
		if .v == null and .acc + $s.count >= $rank then .v = (($s.lo + $s.hi) / 2 | floor)
		else . end | .acc += $s.count) | .v end;

# slots of several histograms added up
def sum_slots: [.[][]] | group_by(.lo) |
	map({lo: .[0].lo, hi: .[0].hi, count: (map(.count) | add)});

def per_entry:
	. as $rs |
	($rs | map(select(.kind == "setup" and .kernel)) | first) as $setup |
	($rs | map(select(.kind == "churn" and .error == null))) as $churn |
	($churn | map(select(.config == "bare") | .ops_s) | median) as $bare |
	($setup.configs // []) as $configs |
	{
	  setup: $setup,
	  errors: ($rs | map(select(.error)) | map({kind, round, config, error})),
	  throughput: ($configs | map(. as $c |
		($churn | map(select(.config == $c))) as $runs |
		{key: $c, value: (
			($runs | map(.ops_s) | spread) as $s |
			$s + {
			  ops_s: ($runs | map(.ops_s)),
			  ratio: (if $bare and $s.median then ($s.median / $bare | r3) else null end),
			  # this round's ops/s over the same round's bare
			  ratio_paired: ([$runs[] | . as $x |
				($churn | map(select(.config == "bare" and .round == $x.round)) |
				 first | .ops_s) as $b |
				if $b and $x.ops_s then $x.ops_s / $b else null end] | spread |
				{median: (.median | r3), min: (.min | r3), max: (.max | r3)})
			})}) | from_entries),
	  tools: ($configs | map(select(. != "bare")) | map(. as $c |
		($churn | map(select(.config == $c))) as $runs |
		{key: $c, value: {
			attach_s: ($runs | map(.attach_s) | spread),
			ready_s: ($runs | map(.ready_s) | spread),
			maxrss_kb: ($runs | map(.maxrss_kb) | spread),
			rb_drop: ($runs | map(.tool.rb_drop // empty) | add),
			map_full: ($runs | map(.tool.map_full // empty) | add),
			queued: ($runs | map(.tool.queued // empty) | add),
			violation: ($runs | map(.tool.violation // empty) | add),
			queued_per_s: ($runs | map(select(.tool.queued != null and .wall_ns > 0) |
				.tool.queued / (.wall_ns / 1e9)) | spread | .max),
			enq_to_free: (if ($runs | map(.tool.metrics.enq_to_free // empty) | length) > 0 then
				($runs | map(.tool.metrics.enq_to_free.slots) | sum_slots) as $sl |
				{count: ($sl | map(.count) | add), p50: ($sl | slot_pct(50)),
				 p99: ($sl | slot_pct(99)),
				 max: ($runs | map(.tool.metrics.enq_to_free.max) | max)}
				else null end),
			inval: (if ($runs | map(.tool.metrics.inval // empty) | length) > 0 then
				($runs | map(.tool.metrics.inval.slots) | sum_slots) as $sl |
				{count: ($sl | map(.count) | add), p50: ($sl | slot_pct(50)),
				 p99: ($sl | slot_pct(99))}
				else null end),
			pending_depth_max: ($runs | map(.tool.metrics.pending_depth.max // .tool.max_depth // empty) | max),
			# bpftrace's depth is a plain ++/-- from several CPUs: where it
			# ended (0 when no update was lost) says how far to trust it
			pending_end: ($runs | map(.tool.pending_end // empty) | if length > 0 then . else null end)
		}}) | from_entries),
	  crosscheck: (
		($rs | map(select(.kind == "crosscheck" and .config == "check")) | first) as $k |
		($rs | map(select(.kind == "crosscheck" and .config == "bpftrace")) | first) as $b |
		{kptwatch: (if $k and ($k.error | not) then $k.tool | {queued, freed_ok, violation, verdict,
			exit: $k.exit} else null end),
		 bpftrace: (if $b and ($b.error | not) then $b.tool | {queued, freed_ok, violation}
			else null end),
		 module_pt_freed: ($k.module_pt_freed // $b.module_pt_freed),
		 deferral: ($setup.deferral != false),
		 # no deferral in the kernel: no reference to run; each table the
		 # module freed must be a violation, and nothing queued
		 agree: (if $setup.deferral == false then
			($k and ($k.error | not) and $k.tool.queued == 0 and
			 $k.tool.violation == $k.module_pt_freed and $k.module_pt_freed > 0)
		 elif $k and $b and ($k.error | not) and ($b.error | not) then
			($k.tool.queued == $b.tool.queued and $k.tool.freed_ok == $b.tool.freed_ok and
			 $k.tool.violation == $b.tool.violation) else false end)}),
	  cost: ($rs | map(select(.kind == "cost" and .error == null)) | map({key: .config, value:
		{ops_s: .ops_s, progs: (.progs | map(select(.run_cnt > 0) |
			. + {ns_per_run: (.run_time_ns / .run_cnt | round)}))}}) | from_entries)
	};

# the issue's targets, where this run puts them (null: not measured)
def targets:
	.throughput as $t | .tools as $tl | .cost as $c |
	def loss(c): if $t[c].ratio then 1 - $t[c].ratio else null end;
	def prog(cfg; n): ($c[cfg].progs // []) | map(select(.name == n)) | first | .ns_per_run // null;
	def prog_at(cfg; n; a): ($c[cfg].progs // []) | map(select(.name == n and .attach == a)) |
		first | .ns_per_run // null;
	# A throughput target is decided by the ranges over the rounds, not
	# the medians alone: the loss is at least 1 - max(config) / min(bare)
	# and at most 1 - min(config) / max(bare). Met when the most is within
	# the limit, missed when the least is past it, else undecided.
	def lossr(c): if $t[c].n > 0 and $t.bare.n > 0 and $t.bare.min > 0 and $t.bare.max > 0 then
		{lo: (1 - $t[c].max / $t.bare.min), hi: (1 - $t[c].min / $t.bare.max)} else null end;
	def judge(r; lim): if r == null then null elif r.hi <= lim then true
		elif r.lo > lim then false else null end;
	def why(v; r): if v != null or r == null then null
		else "undecided: the loss is somewhere in \(r.lo * 100 | round)%..\(r.hi * 100 | round)% over the rounds" end;
	(lossr("check") as $c | lossr("bpftrace") as $b |
	 if $c and $b then
		{lo: (if $b.hi > 0 then $c.lo / $b.hi else -1e9 end),
		 hi: (if $b.lo > 0 then $c.hi / $b.lo else 1e9 end)}
	 else null end) as $rel |
	[
	 (lossr("hist") as $r | judge($r; 0.03) as $m |
	  {target: "hist slows churn by at most 3%", value: loss("hist"), limit: 0.03, met: $m,
	   why: why($m; $r)}),
	 (lossr("check") as $r | judge($r; 0.05) as $m |
	  {target: "check slows churn by at most 5%", value: loss("check"), limit: 0.05, met: $m,
	   why: why($m; $r)}),
	 (judge($rel; 0.5) as $m |
	  {target: "kptwatch's overhead at most half of the bpftrace reference's (check)",
	   value: (if loss("check") and loss("bpftrace") and loss("bpftrace") > 0
		then loss("check") / loss("bpftrace") else null end), limit: 0.5, met: $m,
	   why: (if $m == null and $rel then "undecided: the ratio of the losses is somewhere in \($rel.lo * 100 | round / 100)..\(if $rel.hi >= 1e9 then "unbounded (bpftrace may cost nothing)" else ($rel.hi * 100 | round / 100 | tostring) end) over the rounds" else null end)}),
	 {target: "zero drops at the highest churn rate (default sizes)",
	  value: ([$tl.hist.rb_drop, $tl.hist.map_full, $tl.check.rb_drop, $tl.check.map_full] |
		map(. // 0) | add), limit: 0,
	  met: (([$tl.hist.rb_drop, $tl.check.rb_drop, $tl.hist.map_full, $tl.check.map_full] |
		map(. // 0) | add) == 0)},
	 {target: "kptwatch peak RSS at most 10 MiB",
	  value: ([$tl.hist.maxrss_kb.max, $tl.check.maxrss_kb.max] | max), limit: 10240,
	  met: (if ([$tl.hist.maxrss_kb.max, $tl.check.maxrss_kb.max] | max)
		then ([$tl.hist.maxrss_kb.max, $tl.check.maxrss_kb.max] | max) <= 10240 else null end)},
	 {target: "exec-to-attached at most a third of bpftrace's",
	  value: (if $tl.check.attach_s.median and $tl.bpftrace.attach_s.median
		then $tl.check.attach_s.median / $tl.bpftrace.attach_s.median else null end), limit: 0.333,
	  met: (if $tl.check.attach_s.median and $tl.bpftrace.attach_s.median
		then $tl.check.attach_s.median <= $tl.bpftrace.attach_s.median / 3 else null end)},
	 {target: "page-free program within 2x the bare hook (hist's tp_btf_page_free / empty mm_page_free)",
	  value: (if prog("hist"; "tp_btf_page_free") and prog("bare-hooks"; "mm_page_free")
		then prog("hist"; "tp_btf_page_free") / prog("bare-hooks"; "mm_page_free") else null end),
	  limit: 2,
	  met: (if prog("hist"; "tp_btf_page_free") and prog("bare-hooks"; "mm_page_free")
		then prog("hist"; "tp_btf_page_free") <= 2 * prog("bare-hooks"; "mm_page_free") else null end)},
	 {target: "enqueue program within 2x the bare hook (check's fentry enqueue / empty fentry)",
	  value: ((prog("check"; "fentry_pagetable_free_kernel") // prog("check"; "fentry_async_free")) as $k |
		((prog_at("bare-hooks"; "pagetable_free_"; "trace_fentry")) // (prog_at("bare-hooks"; "kernel_pgtable_"; "trace_fentry"))) as $b |
		if $k and $b then $k / $b else null end), limit: 2,
	  met: ((prog("check"; "fentry_pagetable_free_kernel") // prog("check"; "fentry_async_free")) as $k |
		((prog_at("bare-hooks"; "pagetable_free_"; "trace_fentry")) // (prog_at("bare-hooks"; "kernel_pgtable_"; "trace_fentry"))) as $b |
		if $k and $b then $k <= 2 * $b else null end)}
	];

group_by(.entry) | map({key: .[0].entry, value: (per_entry | . + {targets: targets})}) |
from_entries as $entries |
{
	tool: "kptwatch-bench", format: 1, meta: $meta, entries: $entries,
	# the deferral's own cost: bare churn per kernel. Different boots:
	# indicative only.
	kernels: ($entries | to_entries | map({key: .key, value: .value.throughput.bare.median}) |
		from_entries)
}

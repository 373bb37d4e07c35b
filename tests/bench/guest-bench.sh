#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-bench.sh [options] KO: runs INSIDE a test-bed guest, as root, for
# tests/bench/bench.sh (see docs/benchmarks.md). Loads the test module KO
# and measures, on this kernel:
#
#  1. a cross-check on a deterministic workload (the module's vmap_pmd
#     iters=32 and pte_kernel iters=200): `kptwatch check --json -- WORKLOAD`
#     and kptwatch-ref.bt around the same workload must count the same
#     pages queued, freed after a flush and violations;
#  2. throughput: churn of MODE for SECS seconds under each configuration,
#     after one unrecorded warm-up churn, interleaved for ROUNDS rounds
#     (bare hist check bpftrace bare-hooks, bare hist ...): churn ops/s,
#     and for each tool its exec-to-attached time and peak RSS, for
#     kptwatch the drops, map_full and the deferral's figures (hist);
#  3. BPF cost: once per tool with kernel.bpf_stats_enabled=1, the churn
#     again, and run_cnt/run_time_ns of every program the tool loaded
#     (bpftool prog show; stats stay off during 2, they cost time).
#
# Options:
#   --rounds N     rounds of step 2 (default 5)
#   --secs S       churn seconds per run (default 5)
#   --mode M       churn mode (default pte_kernel); user_pages runs
#                  build/page-churn instead: user pages mapped, touched and
#                  unmapped, ops are pages freed (none a kernel table)
#   --threads N    churn threads (default 0: one per online CPU)
#   --configs LIST step 2's configurations, in order (default
#                  "bare hist check bpftrace bare-hooks")
#   --out DIR      where to write (default $KPTWATCH_VM_SHARE/bench)
#
# Writes into DIR: records.ndjson (one JSON object per measurement, see
# docs/benchmarks.md), and the tools' own outputs (NAME-rROUND.*). Prints
# one line per measurement. Exit 0 when every run could be made, 2 when
# setup failed, 1 when a run failed (the records say which).
set -uo pipefail

rounds=5 secs=5 mode=pte_kernel threads=0 out=${KPTWATCH_VM_SHARE:+$KPTWATCH_VM_SHARE/bench}
configs="bare hist check bpftrace bare-hooks"
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--configs) configs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-*) echo "guest-bench: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
ko=${1:?usage: guest-bench.sh [options] KO}
[ -n "$out" ] || { echo "guest-bench: no --out and no KPTWATCH_VM_SHARE" >&2; exit 2; }

top=$(cd "$(dirname "$0")/../.." && pwd)
K=$top/build/kptwatch
D=/sys/kernel/debug/kptwatch_test
W=/run/kptwatch-bench
failed=0
mkdir -p "$out" "$W" || exit 2
rec=$out/records.ndjson
: >"$rec"

say() { echo "guest-bench: $*"; }
setup_fail() {
	say "SETUP FAILED: $*"
	jq -nc --arg why "$*" '{kind: "setup", error: $why}' >>"$rec"
	exit 2
}

for t in jq bpftool bpftrace /usr/bin/time; do
	command -v "$t" >/dev/null || setup_fail "no $t here (make deps installs it)"
done
[ -x "$K" ] || setup_fail "no $K (make all first)"
"$top/tests/kmod/load.sh" "$ko" || setup_fail "insmod $ko failed"
trap 'rmmod kptwatch_test 2>/dev/null; rm -rf "$W"' EXIT
PC=$top/build/page-churn
[ "$mode" != user_pages ] || [ -x "$PC" ] || setup_fail "no $PC (make bench builds it)"
grep -q "^${mode}_status=unsupported" $D/stats &&
	setup_fail "the module cannot run $mode: $(sed -n "s/^${mode}_reason=//p" $D/stats)"

# A sleep without a fork: every process started in a TCG guest costs,
# and the tools under measurement are starting beside us.
mkfifo "$W/tick" && exec 9<>"$W/tick" || setup_fail "mkfifo"
nap() { read -r -t "$1" -u 9 _ || true; }
# a process that is there and not a zombie (kill -0 succeeds on a zombie)
alive() {
	local st
	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || return 1
	[ "$st" != Z ]
}
# does FILE hold a line matching ERE? (no fork)
has_line() {
	local l
	while IFS= read -r l; do
		[[ $l =~ $2 ]] && return 0
	done <"$1"
	return 1
}

# The reference scripts with the probes this kernel has; vmemmap_base in
# GiB for kptwatch-ref.bt (a variable on 7.x, else the 4-level default).
for s in kptwatch-ref bare-hooks; do
	"$top/tests/bench/bt-for-kernel.sh" "$top/tests/bench/$s.bt" >"$W/$s.bt" 2>>"$out/bt-for-kernel.txt" ||
		setup_fail "bt-for-kernel.sh $s.bt"
done
if grep -q ' vmemmap_base$' /proc/kallsyms; then
	vb=$(bpftrace -q -e 'BEGIN { printf("%lx\n", *kaddr("vmemmap_base")); exit() }' 2>/dev/null |
		tr -dc 0-9a-f)
	[ -n "$vb" ] || setup_fail "cannot read vmemmap_base with bpftrace"
	gib=$(((0x$vb >> 30) & 0x3ffffffff))
else
	gib=$(((0xffffea0000000000 >> 30) & 0x3ffffffff))
fi
export BPFTRACE_MAP_KEYS_MAX=65536	# kptwatch's --max-pending default

# A kernel without the deferral (6.12 as shipped) has no enqueue point:
# the bpftrace scripts have nothing to attach to, and every table the
# module frees is a violation, which the cross-check then asks kptwatch
# for. The churn there measures what the kernel costs, bare.
deferral=true
if ! grep -qE ' (kernel_pgtable_async_free|pagetable_free_kernel)$' /proc/kallsyms; then
	deferral=false
	configs=$(for c in $configs; do case $c in bpftrace | bare-hooks) ;; *) echo "$c" ;; esac; done |
		paste -sd' ')
	say "no deferral in this kernel: no bpftrace runs; the cross-check wants a violation per table"
fi

sysctl -qw kernel.bpf_stats_enabled=0
kernel=$(uname -r)
ncpu=$(nproc)
jq -nc --arg kernel "$kernel" --arg mode "$mode" --argjson secs "$secs" \
	--argjson threads "$threads" --argjson rounds "$rounds" --argjson cpus "$ncpu" \
	--arg bpftrace "$(bpftrace --version 2>&1)" --arg kptwatch "$("$K" -V 2>&1)" \
	--arg configs "$configs" --argjson vmemmap_gib "$gib" --argjson deferral $deferral \
	'{kind: "setup", kernel: $kernel, mode: $mode, secs: $secs, threads: $threads,
	  rounds: $rounds, cpus: $cpus, bpftrace: $bpftrace, kptwatch: $kptwatch,
	  configs: ($configs | split(" ")), vmemmap_gib: $vmemmap_gib, deferral: $deferral}' >>"$rec"
say "$kernel, $ncpu CPUs: churn $mode ${secs}s, $rounds rounds of: $configs"

# --- a tool in the background ------------------------------------------------
# the programs a tool loaded are those with an id above the highest before
# it started (one tool at a time)
max_prog_id() { bpftool prog show --json 2>/dev/null | jq '[.[].id] | max // 0'; }

# start_tool NAME: start the tool of configuration NAME under /usr/bin/time,
# wait until it says it is attached; sets tool_pid (the tool's own pid),
# time_pid, attach_s (exec to kptwatch's "... links; coverage" line, to
# bpftrace's "attached_probes"), ready_s (bpftrace: to all its programs
# loaded; kptwatch: the same as attach_s), before_id. Output in
# $W/NAME.{out,err,time}.
start_tool() {
	local name=$1 i t0 t1 t2 re
	local -a cmd
	local script=
	case "$name" in
	hist) cmd=("$K" hist --json); re='^kptwatch: .* links; coverage' ;;
	check) cmd=("$K" check --json); re='^kptwatch: .* links; coverage' ;;
	bpftrace) script=$W/kptwatch-ref.bt; cmd=(bpftrace -B none -f json "$script" "$gib"); re='"attached_probes"' ;;
	bare-hooks) script=$W/bare-hooks.bt; cmd=(bpftrace -B none -f json "$script"); re='"attached_probes"' ;;
	*) return 1 ;;
	esac
	tool_name=$name
	before_id=$(max_prog_id)
	: >"$W/$name.out"
	: >"$W/$name.err"
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %e' -o "$W/$name.time" "${cmd[@]}" >"$W/$name.out" 2>"$W/$name.err" &
	time_pid=$!
	tool_pid=
	attach_s=
	ready_s=
	t1=
	for ((i = 0; i < 2400; i++)); do	# 120 s
		if has_line "$W/$name.err" "$re" || has_line "$W/$name.out" "$re"; then
			t1=$EPOCHREALTIME
			break
		fi
		alive $time_pid || break
		nap 0.05
	done
	tool_pid=$(pgrep -P "$time_pid" | head -n1)
	# bpftrace says "attached" before it loads and attaches its programs:
	# the run starts once all of them are loaded (ready_s)
	t2=$t1
	if [ -n "$t1" ] && [ -n "$tool_pid" ] && [ -n "$script" ]; then
		# one program per probe of the script (each names one function;
		# "attached_probes" counts END too, which loads no program here)
		local want have=0 end
		want=$(grep -cE '^(k(ret)?func|k(ret)?probe|tracepoint):' "$script")
		end=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%d", t + 120 }')
		t2=
		while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
			have=$(bpftool prog show --json 2>/dev/null | jq --argjson b "$before_id" '[.[] | select(.id > $b)] | length')
			if [ "${have:-0}" -ge "$want" ]; then
				nap 0.3		# the last one's attach
				t2=$EPOCHREALTIME
				break
			fi
			alive "$tool_pid" || break
			nap 0.2
		done
		[ -n "$t2" ] || say "$name: $have of $want programs loaded"
	fi
	if [ -z "$t1" ] || [ -z "$t2" ] || [ -z "$tool_pid" ] || ! alive "$tool_pid"; then
		say "$name did not attach: $(tail -n 3 "$W/$name.err" | tr '\n' ' ')"
		stop_tool
		cp "$W/$name.err" "$out/$name-noattach.err" 2>/dev/null
		return 1
	fi
	attach_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	ready_s=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
}

# stop_tool: SIGINT, and wait (60 s, then SIGKILL) for it to report.
# Sets tool_died (and returns 1) when the tool had ended by itself: then
# it was not watching all along (bpftrace says "attached" before it loads
# its programs, and fails after).
stop_tool() {
	local i
	tool_died=0
	if [ -n "${tool_pid:-}" ] && ! alive "$tool_pid"; then
		tool_died=1
		say "the tool ended before it was stopped: $(tail -n 2 "$W/$tool_name.err" 2>/dev/null | tr '\n' ' ')"
	fi
	[ -n "${tool_pid:-}" ] && kill -INT "$tool_pid" 2>/dev/null
	for ((i = 0; i < 1200; i++)); do
		alive "$time_pid" || break
		nap 0.05
	done
	if alive "$time_pid"; then
		say "the tool did not stop in 60 s: SIGKILL"
		kill -KILL "$tool_pid" "$time_pid" 2>/dev/null
	fi
	wait "$time_pid" 2>/dev/null
	tool_pid=
	[ $tool_died = 0 ]
}

# user_churn: --mode user_pages, the page-churn program once per thread
# (per CPU by default); ops are pages freed, wall_ns the longest run's.
user_churn() {
	local n=$threads i o pages w bad=0
	local -a pids=()
	[ "$n" -gt 0 ] || n=$ncpu
	for ((i = 0; i < n; i++)); do
		"$PC" "$secs" >"$W/pc.$i" 2>&1 &
		pids+=($!)
	done
	# its own children only: the tool under measurement is one too
	for i in "${pids[@]}"; do
		wait "$i" || bad=1
	done
	if [ $bad = 1 ]; then
		say "page-churn failed: $(cat "$W"/pc.* | tr '\n' ' ')"
		return 1
	fi
	for ((i = 0; i < n; i++)); do
		o=$(<"$W/pc.$i")
		[[ $o =~ pages=([0-9]+)\ wall_ns=([0-9]+) ]] || { say "page-churn said: $o"; return 1; }
		pages=${BASH_REMATCH[1]} w=${BASH_REMATCH[2]}
		ops=$((ops + pages))
		[ "$w" -gt "$wall_ns" ] && wall_ns=$w
	done
	return 0
}

# churn: the timed workload; sets ops, wall_ns (0, 0 when it failed).
churn() {
	local a="churn mode=$mode secs=$secs"
	ops=0 wall_ns=0
	if [ "$mode" = user_pages ]; then
		user_churn && return 0
		ops=0 wall_ns=0
		return 1
	fi
	[ "$threads" -gt 0 ] && a="$a threads=$threads"
	if ! echo "$a" >$D/run; then
		say "churn failed: $a"
		return 1
	fi
	ops=$(sed -n 's/^churn_ops=//p' $D/stats)
	wall_ns=$(sed -n 's/^churn_wall_ns=//p' $D/stats)
}

# bpftrace's -f json output: the value of map NAME (a number), 0 if absent.
bt_val() {
	jq -rs --arg m "@$2" '[.[] | select(.type == "map") | .data[$m] // empty] | first // 0' "$1"
}

# What a tool said, as a JSON object for the record.
tool_figures() {
	local name=$1
	case "$name" in
	hist | check)
		jq -c '{
			queued: .counters.queued, freed_ok: .counters.freed_ok,
			violation: (.counters.violation + .counters.range_violation),
			rb_drop: .counters.rb_drop, map_full: .counters.map_full,
			unknown: .counters.unknown, nested_free: .counters.nested_free,
			verdict: .verdict,
			metrics: ([.metrics[] | {key: .name, value: {count, p50, p90, p99, max, avg,
				slots}}] | from_entries)
		}' "$W/$name.out" 2>/dev/null || echo '{"error": "no JSON from kptwatch"}'
		;;
	bpftrace)
		jq -sc '
			def m(n): [.[] | select(.type == "map") | .data[n] // empty] | first // 0;
			def h(n): [.[] | select(.type == "hist") | .data[n] // empty] | first // [];
			{queued: m("@queued"), freed_ok: m("@freed_ok"), violation: m("@violation"),
			 requeued: m("@requeued"), inval_begin: m("@inval_begin"),
			 inval_end: m("@inval_end"), max_depth: m("@max_depth"),
			 pending_end: m("@depth"),
			 enq_to_free_ns: h("@enq_to_free_ns"), inval_ns: h("@inval_ns")}
		' "$W/$name.out" 2>/dev/null || echo '{"error": "no JSON from bpftrace"}'
		;;
	*) echo '{}' ;;
	esac
}

# record KIND ROUND CONFIG EXTRA_JSON: one line of records.ndjson; the
# churn figures from the last churn, the tool's from its files.
record() {
	local kind=$1 round=$2 cfg=$3 extra=${4:-'{}'} rss=null figs='{}'
	if [ "$cfg" != bare ]; then
		read -r rss _ <"$W/$cfg.time" 2>/dev/null
		[[ $rss =~ ^[0-9]+$ ]] || rss=null
		figs=$(tool_figures "$cfg")
		cp "$W/$cfg.out" "$out/$cfg-$kind-r$round.out" 2>/dev/null
		cp "$W/$cfg.err" "$out/$cfg-$kind-r$round.err" 2>/dev/null
	fi
	jq -nc --arg kind "$kind" --argjson round "$round" --arg cfg "$cfg" \
		--argjson ops "${ops:-0}" --argjson wall_ns "${wall_ns:-0}" \
		--argjson attach_s "${attach_s:-null}" --argjson ready_s "${ready_s:-null}" \
		--argjson rss "$rss" \
		--argjson figs "$figs" --argjson extra "$extra" \
		'{kind: $kind, round: $round, config: $cfg, ops: $ops, wall_ns: $wall_ns,
		  ops_s: (if $wall_ns > 0 then $ops / ($wall_ns / 1e9) else null end),
		  attach_s: $attach_s, ready_s: $ready_s, maxrss_kb: $rss, tool: $figs} + $extra' >>"$rec"
}

run_failed() {
	failed=1
	jq -nc --arg kind "$1" --argjson round "$2" --arg cfg "$3" --arg why "$4" \
		'{kind: $kind, round: $round, config: $cfg, error: $why}' >>"$rec"
	say "FAIL $1 round $2 $3: $4"
}

# --- 1. the cross-check ----------------------------------------------------------
WORKLOAD="echo 'vmap_pmd iters=32 drain_ms=3000' >$D/run && echo 'pte_kernel iters=200 drain_ms=3000' >$D/run"
module_pt_freed() {
	echo $(($(sed -n 's/^vmap_pmd_pt_freed=//p' $D/stats) + $(sed -n 's/^pte_kernel_pt_freed=//p' $D/stats)))
}

ops=0 wall_ns=0 attach_s= ready_s=
/usr/bin/time -f '%M %e' -o "$W/check.time" "$K" check --json -- sh -c "$WORKLOAD" \
	>"$W/check.out" 2>"$W/check.err"
rc=$?
attach_s=
record crosscheck 0 check "$(jq -nc --argjson rc $rc --argjson pt "$(module_pt_freed)" \
	'{exit: $rc, module_pt_freed: $pt}')"
say "cross-check: kptwatch check exit $rc: $(jq -r '"queued \(.counters.queued) freed_ok \(.counters.freed_ok) violations \(.counters.violation + .counters.range_violation)"' "$W/check.out" 2>/dev/null)"
[ $rc -le 1 ] || run_failed crosscheck 0 check "kptwatch check exit $rc: $(tail -n 2 "$W/check.err" | tr '\n' ' ')"

if [ $deferral = false ]; then
	:
elif start_tool bpftrace; then
	sh -c "$WORKLOAD"
	rc=$?
	stop_tool || run_failed crosscheck 0 bpftrace "bpftrace ended during the run"
	record crosscheck 0 bpftrace "$(jq -nc --argjson rc $rc --argjson pt "$(module_pt_freed)" \
		'{workload_exit: $rc, module_pt_freed: $pt}')"
	say "cross-check: bpftrace: queued $(bt_val "$W/bpftrace.out" queued) freed_ok $(bt_val "$W/bpftrace.out" freed_ok) violations $(bt_val "$W/bpftrace.out" violation)"
else
	run_failed crosscheck 0 bpftrace "bpftrace did not attach"
fi

# --- 2. throughput, interleaved ----------------------------------------------------
# One churn first, not recorded: a guest just booted ran the user-page
# churn at 55-60% of its later speed for its first few runs, bare or not
# (bench 20261203-042200), and round 1's first configuration paid for it.
churn || say "warm-up churn failed"
for ((r = 1; r <= rounds; r++)); do
	for cfg in $configs; do
		attach_s= ready_s= tool_pid= time_pid=
		if [ "$cfg" != bare ] && ! start_tool "$cfg"; then
			run_failed churn $r "$cfg" "did not attach"
			continue
		fi
		churn || run_failed churn $r "$cfg" "churn failed"
		if [ "$cfg" != bare ] && ! stop_tool; then
			run_failed churn $r "$cfg" "the tool ended during the run"
			continue
		fi
		record churn $r "$cfg"
		say "round $r $cfg: $ops ops in $((wall_ns / 1000000)) ms${attach_s:+, attached in ${attach_s}s}${ready_s:+ (ready ${ready_s}s)}"
	done
done

# --- 3. BPF cost, stats on ----------------------------------------------------------
# The tool's programs: ids above before_id; fentry/fexit from bpftool link show.
sysctl -qw kernel.bpf_stats_enabled=1
for cfg in $configs; do
	[ "$cfg" = bare ] && continue
	attach_s= tool_pid= time_pid=
	if ! start_tool "$cfg"; then
		run_failed cost 0 "$cfg" "did not attach"
		continue
	fi
	churn || run_failed cost 0 "$cfg" "churn failed"
	progs=$(jq -c --argjson links "$(bpftool link show --json 2>/dev/null || echo '[]')" \
		--argjson before "$before_id" '
		[.[] | select(.id > $before) | . as $p |
		 {id, name, type,
		  attach: ([$links[] | select(.prog_id == $p.id) |
			(.attach_type // .tracepoint_name // .type)] | first),
		  run_cnt: (.run_cnt // 0), run_time_ns: (.run_time_ns // 0)}]' \
		< <(bpftool prog show --json 2>/dev/null || echo '[]'))
	if ! stop_tool; then
		run_failed cost 0 "$cfg" "the tool ended during the run"
		continue
	fi
	record cost 0 "$cfg" "$(jq -nc --argjson p "$progs" '{progs: $p}')"
	say "cost $cfg: $(jq -r '[.[] | select(.run_cnt > 0) | "\(.name) \(.run_cnt)x \(.run_time_ns / .run_cnt | floor)ns"] | join(", ")' <<<"$progs")"
done
sysctl -qw kernel.bpf_stats_enabled=0

[ $failed = 0 ]

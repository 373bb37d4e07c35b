#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-mutants.sh [--base-only | MUTANT.patch...]
#
# The mutation matrix: kernels with a seeded bug in the deferral that
# kptwatch must catch, and the unmodified series that it must pass.
#
# First the base entry (KPTWATCH_MUTANT_ENTRY, default 6.12-patched: the
# series of patches/linux-6.12/; 7.3 is mainline's own deferral) as it is;
# then each mutant (default: every tests/vm/mutants/*.patch, for another
# entry every tests/vm/mutants/ENTRY/*.patch), a patch on top of the entry,
# built with build-kernel.sh --patch (incrementally from the base's tree when
# the base is cached), one at a time. For each kernel: the test module is built
# against it (tests/kmod/build.sh), the kernel is booted with run.sh, and
# guest-mutant.sh runs `kptwatch check --json -- WORKLOAD` there, the
# module's vmap_pmd and pte_kernel runs. Then, on the host:
#
#  - kptwatch's exit code is the one the mutant's "Expect-exit:" line gives;
#  - "Expect-kind:" violation or range_violation: that counter equals
#    "Expect-count:", the other kind is 0, and the violations kept in the
#    report are of that kind at exactly the points "Expect-point:" lists
#    (comma-separated, "unnamed path" for a free no point saw); pending: the
#    pages still pending over --max-pending-age at the end equal the count,
#    and there is no violation;
#  - "Expect-queued:", "Expect-freed-ok:" and, if given, "Expect-inval:"
#    (invalidations begun) equal kptwatch's counters;
#  - nothing makes the verdict doubtful: unknown, range_unknown, walk_trunc,
#    map_full and rb_drop are 0;
#  - the workload ran as asked: vmap_pmd freed a table in every iteration.
# Counts are sums and differences of integers, "pmd" (the PTE tables vmap_pmd
# freed, as the module saw them), "pte" (pte_kernel's) and "series:NAME" (how
# much the series' debugfs counter NAME, or a mutant's in
# /sys/kernel/debug/kptwatch_mutant, grew during the workload, while
# kptwatch watched). "Check-args:" adds options to
# kptwatch check, "Run-args:" to run.sh (e.g. --smp 1). The base must give
# exit 0, no violation, nothing pending, every table the workload freed
# queued and freed after a flush.
#
# "Workload-module-loads: N" (or KPTWATCH_MUTANT_MODULE_LOADS=N for the base
# and every mutant without the line) makes the workload unload and load the
# test module N times first: on 7.x that splits and collapses large pages
# (CPA), whose tables the collapse frees, through the deferral or not. Those
# tables come on top of the workload's: then "Expect-queued:" and
# "Expect-freed-ok:" are floors, every page queued beyond the first was
# freed after a flush too, and every page judged must have been a table
# kptwatch knew (table_freed = freed_ok + violation + range_violation): a
# table it learned nowhere is one whose unflushed free it would have missed.
#
# A mutant that does not build, or whose guest run fails, is a FAIL. Prints
# "PASS NAME: figures" or "FAIL NAME: why" per kernel, then
# "mutants: N passed, M failed"; exits 1 on a failure.
#
# Environment: KPTWATCH_MUTANT_ENTRY (6.12-patched), KPTWATCH_MUTANT_LOGS
# (logs, default $KPTWATCH_CACHE/mutant-logs/DATE), KPTWATCH_MUTANT_RUNS
# (guest runs per kernel, each must pass; 1), KPTWATCH_MUTANT_KPROBES (1:
# every check runs with --kprobes, the fallback, and every point must be
# attached by kprobe; the verdicts asked are the same), KPT_PMD_ITERS (32),
# KPT_PTE_ITERS (200), KPT_DRAIN_MS (3000), KPTWATCH_MUTANT_MODULE_LOADS (0).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

entry=${KPTWATCH_MUTANT_ENTRY:-6.12-patched}
logs=${KPTWATCH_MUTANT_LOGS:-$KPTWATCH_CACHE/mutant-logs/$(date +%Y%m%d-%H%M%S)}
runs=${KPTWATCH_MUTANT_RUNS:-1}
kprobes=${KPTWATCH_MUTANT_KPROBES:-0}
pmd_iters=${KPT_PMD_ITERS:-32}
pte_iters=${KPT_PTE_ITERS:-200}
drain_ms=${KPT_DRAIN_MS:-3000}
loads=${KPTWATCH_MUTANT_MODULE_LOADS:-0}
[[ $loads =~ ^[0-9]+$ ]] || die "KPTWATCH_MUTANT_MODULE_LOADS=$loads: a number"
mkdir -p "$logs"

if [ "${1:-}" = --base-only ]; then
	mutants=()
elif [ $# -gt 0 ]; then
	mutants=("$@")
else
	# the series' mutants sit in mutants/, another shape's in mutants/ENTRY/
	mdir=$VM_DIR/mutants
	[ "$entry" = 6.12-patched ] || mdir=$VM_DIR/mutants/$entry
	shopt -s nullglob
	mutants=("$mdir"/*.patch)
	shopt -u nullglob
fi
[ -x "$TOP_DIR/build/kptwatch" ] || die "no build/kptwatch (make all first)"

passed=0
failed=0
pass() {
	echo "PASS $1: $2"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
	[ -z "${3:-}" ] || tail -n 30 "$3" | sed 's/^/    | /'
}

# header FILE KEY: the value of a "KEY: value" line above the diff
header() {
	sed -n -e '/^--- /q' -e "s/^$2: *//p" "$1" | head -n 1
}

declare -A r
# series NAME: how much the series' debugfs counter NAME grew during the check
series() {
	local b a
	b=$(sed -n "s/.*\b$1 \([0-9]*\).*/\1/p" <<<"${r[series_before]:-}")
	a=$(sed -n "s/.*\b$1 \([0-9]*\).*/\1/p" <<<"${r[series_after]:-}")
	[ -n "$b" ] && [ -n "$a" ] && echo $((a - b))
}

# count EXPR: evaluate a sum and difference of integers, pmd, pte and
# series counters (series:NAME) with this run's figures
count() {
	local sum=0 t sign
	for t in $(sed 's/\([+-]\)/ \1 /g' <<<"$1"); do
		case $t in
		+ | -) sign=$t; continue ;;
		pmd) t=${r[vmap_pmd_pt_watched]:-x} ;;
		pte) t=${r[pte_kernel_pt_watched]:-x} ;;
		series:*) t=$(series "${t#series:}") ;;
		esac
		[[ $t =~ ^[0-9]+$ ]] || { echo "?"; return; }
		if [ "${sign:-+}" = - ]; then sum=$((sum - t)); else sum=$((sum + t)); fi
	done
	echo "$sum"
}

# judge NAME EXIT KIND POINT COUNT QUEUED FREED_OK INVAL LOADS: assert on
# r[]; prints the first failed assertion, nothing when all hold.
judge() {
	local exit=$2 kind=$3 point=$4 want queued freed inval=$8 loads=${9:-0} other extra
	if [ -n "${r[error]:-}" ]; then
		echo "guest: ${r[error]}"
		return
	fi
	# the workload ran as asked: else the counts below mean nothing
	if [ "${r[vmap_pmd_iters]:-}" != "$pmd_iters" ] || [ "${r[vmap_pmd_freed]:-}" != "$pmd_iters" ] ||
		[ "${r[vmap_pmd_pt_watched]:-}" != "$pmd_iters" ] || [ "${r[pte_kernel_iters]:-}" != "$pte_iters" ] ||
		[ "${r[pte_kernel_pt_watched]:-}" != "$pte_iters" ]; then
		echo "workload: vmap_pmd iters ${r[vmap_pmd_iters]:-?} freed ${r[vmap_pmd_freed]:-?}" \
			"watched ${r[vmap_pmd_pt_watched]:-?}, pte_kernel iters ${r[pte_kernel_iters]:-?}" \
			"watched ${r[pte_kernel_pt_watched]:-?}; wanted $pmd_iters and $pte_iters"
		return
	fi
	want=$(count "$5") queued=$(count "$6") freed=$(count "$7")
	# the fallback was asked for: fentry anywhere would prove nothing about it
	if [ "$kprobes" = 1 ] && [ "${r[methods]:-}" != kprobe ]; then
		echo "KPTWATCH_MUTANT_KPROBES=1 but the points were attached by ${r[methods]:-?}"
		return
	fi
	[ "${r[exit]:-}" = "$exit" ] || { echo "kptwatch exit ${r[exit]:-?}, wanted $exit (${r[reasons]:-})"; return; }
	case $kind in
	violation | range_violation)
		other=range_violation
		[ "$kind" = violation ] || other=violation
		[ "${r[$kind]:-}" = "$want" ] || { echo "$kind ${r[$kind]:-?}, wanted $want"; return; }
		[ "${r[$other]:-}" = 0 ] || { echo "$other ${r[$other]:-?}, wanted 0"; return; }
		# guest-mutant.sh lists the kind@point pairs sorted and unique
		want_points=$(tr ',' '\n' <<<"$point" | sed "s/^/$kind@/" | LC_ALL=C sort -u | paste -sd,)
		[ "${r[kinds_points]:-}" = "$want_points" ] ||
			{ echo "reported ${r[kinds_points]:-nothing}, wanted $want_points only"; return; }
		;;
	pending | none)
		[ "${r[violation]:-}" = 0 ] && [ "${r[range_violation]:-}" = 0 ] ||
			{ echo "violation ${r[violation]:-?}, range_violation ${r[range_violation]:-?}, wanted 0"; return; }
		[ "$kind" = none ] && want=0
		[ "${r[pending_over_age]:-}" = "$want" ] && [ "${r[pending]:-}" = "$want" ] ||
			{ echo "pending ${r[pending]:-?} (${r[pending_over_age]:-?} over age), wanted $want"; return; }
		;;
	*) echo "unknown Expect-kind '$kind'"; return ;;
	esac
	[ "${r[module_loads]:-}" = "$loads" ] ||
		{ echo "module loads ${r[module_loads]:-?}, wanted $loads"; return; }
	if [ "$loads" != 0 ]; then
		# the module loads' own tables: on top, and flushed like the rest
		[[ $queued =~ ^[0-9]+$ ]] && [[ ${r[queued]:-} =~ ^[0-9]+$ ]] &&
			[ "${r[queued]}" -ge "$queued" ] ||
			{ echo "queued ${r[queued]:-?}, wanted at least $queued"; return; }
		extra=$((${r[queued]} - queued))
		queued=${r[queued]}
		[[ $freed =~ ^[0-9]+$ ]] && freed=$((freed + extra))
		[ "$((${r[freed_ok]:-0} + ${r[violation]:-0} + ${r[range_violation]:-0}))" = "${r[table_freed]:-}" ] ||
			{ echo "table_freed ${r[table_freed]:-?}, wanted freed_ok + violation +" \
				"range_violation: pages judged that kptwatch knew as no table"; return; }
	fi
	[ "${r[queued]:-}" = "$queued" ] || { echo "queued ${r[queued]:-?}, wanted $queued"; return; }
	[ "${r[freed_ok]:-}" = "$freed" ] || { echo "freed_ok ${r[freed_ok]:-?}, wanted $freed"; return; }
	[ -z "$inval" ] || [ "${r[inval_begin]:-}" = "$inval" ] ||
		{ echo "inval_begin ${r[inval_begin]:-?}, wanted $inval"; return; }
	for k in unknown range_unknown walk_trunc map_full rb_drop; do
		[ "${r[$k]:-}" = 0 ] || { echo "$k ${r[$k]:-?}, wanted 0"; return; }
	done
}

# figures: one line of what kptwatch and the module said
figures() {
	echo "exit ${r[exit]:-?}, violation ${r[violation]:-?}, range_violation ${r[range_violation]:-?}" \
		"(${r[kinds_points]:-none}), queued ${r[queued]:-?}, freed_ok ${r[freed_ok]:-?}," \
		"pending ${r[pending]:-?} (${r[pending_over_age]:-?} over age), inval ${r[inval_begin]:-?};" \
		"workload: vmap_pmd ${r[vmap_pmd_pt_watched]:-?} tables (${r[vmap_pmd_pt_freed]:-?} reached" \
		"the allocator), pte_kernel ${r[pte_kernel_pt_watched]:-?} (${r[pte_kernel_pt_freed]:-?});" \
		"module loads ${r[module_loads]:-?}; tables walked ${r[table_walked]:-?} linked" \
		"${r[table_linked]:-?} split ${r[table_split]:-?} freed ${r[table_freed]:-?};" \
		"attached by ${r[methods]:-?}"
}

# check_kernel NAME DIR EXIT KIND POINT COUNT QUEUED FREED_OK INVAL CHECK_ARGS
# RUN_ARGS LOADS: module, boot, guest-mutant.sh, judge; KPTWATCH_MUTANT_RUNS
# times
check_kernel() {
	local name=$1 dir=$2 loads=${12:-0} log ko rc why i line k
	local -a args run_args
	read -ra args <<<"${10}"
	[ "$kprobes" = 1 ] && args=(--kprobes "${args[@]}")
	read -ra run_args <<<"${11}"
	log=$logs/$name
	if ! ko=$("$TOP_DIR/tests/kmod/build.sh" "$dir" 2>"$log.kmod.log"); then
		fail "$name" "tests/kmod/build.sh failed" "$log.kmod.log"
		return
	fi
	for ((i = 1; i <= runs; i++)); do
		rc=0
		"$VM_DIR/run.sh" --kernel "$dir" --stats "$log.run$i.stats" "${run_args[@]}" \
			--env KPT_PMD_ITERS="$pmd_iters" --env KPT_PTE_ITERS="$pte_iters" \
			--env KPT_DRAIN_MS="$drain_ms" --env KPT_MODULE_LOADS="$loads" \
			"$entry" -- "$VM_DIR/guest-mutant.sh" "$ko" "${args[@]}" >"$log.run$i.log" 2>&1 || rc=$?
		r=()
		while IFS= read -r line; do
			line=${line#mutant: }
			k=${line%%=*}
			r[$k]=${line#*=}
		done < <(grep '^mutant: [a-z_]*=' "$log.run$i.log")
		if [ $rc != 0 ]; then
			fail "$name" "run $i: run.sh exit $rc${r[error]:+ (${r[error]})}" "$log.run$i.log"
			return
		fi
		why=$(judge "$name" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "$loads")
		if [ -n "$why" ]; then
			fail "$name" "run $i of $runs: $why; $(figures)"
			grep -E '^mutant: (reasons|first_violation|stderr)=' "$log.run$i.log" | sed 's/^/    | /'
			return
		fi
	done
	why=
	[ "$runs" = 1 ] || why="; $runs runs in a row, each passed"
	pass "$name" "$(figures)$why"
	echo "    first violation: ${r[first_violation]:-none}"
	[ -z "${r[reasons]:-}" ] || echo "    reasons: ${r[reasons]}"
}

t_all=$(date +%s)
how=
[ "$kprobes" = 1 ] && how=", every check with --kprobes"
echo "# mutants on $entry$how, logs in $logs"

# the base: the series as it is
if base=$("$VM_DIR/build-kernel.sh" "$entry" 2>"$logs/base.build.log"); then
	check_kernel base "$base" 0 none - 0 pmd+pte pmd+pte "" "" "" "$loads"
else
	fail base "build-kernel.sh $entry failed" "$logs/base.build.log"
fi

for m in "${mutants[@]}"; do
	name=$(basename "$m" .patch)
	t0=$(date +%s)
	if ! dir=$("$VM_DIR/build-kernel.sh" --patch "$m" "$entry" 2>"$logs/$name.build.log"); then
		fail "$name" "the kernel does not build" "$logs/$name.build.log"
		continue
	fi
	how="built in $(cat "$dir/build-seconds" 2>/dev/null || echo ?) s"
	grep -q 'incremental build' "$logs/$name.build.log" && how="$how, incrementally"
	grep -q ': cached in ' "$logs/$name.build.log" && how="cached ($how before)"
	echo "# $name: $how (${dir##*/})"
	check_kernel "$name" "$dir" "$(header "$m" Expect-exit)" "$(header "$m" Expect-kind)" \
		"$(header "$m" Expect-point)" "$(header "$m" Expect-count)" \
		"$(header "$m" Expect-queued)" "$(header "$m" Expect-freed-ok)" \
		"$(header "$m" Expect-inval)" "$(header "$m" Check-args)" "$(header "$m" Run-args)" \
		"$(m_loads=$(header "$m" Workload-module-loads); echo "${m_loads:-$loads}")"
	echo "# $name: $(($(date +%s) - t0)) s in all"
done

echo "# $(($(date +%s) - t_all)) s in all"
echo "mutants: $passed passed, $failed failed"
[ $failed = 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-check.sh KO_PATH
#
# Runs INSIDE a test-bed guest, as root: loads the test module, runs each
# mode, checks the counts the module read from the kernel's side, unloads it.
# Prints "ok NAME", "FAIL NAME: detail" or "SKIP NAME: reason" per check,
# "# ..." lines with the figures, then "kmod: N passed, M failed" (skips are
# listed on the line before, never counted as passed). Exits 1 if any check
# failed.
#
# Environment: KMOD_PMD_ITERS (64), KMOD_PUD_ITERS (4), KMOD_PTE_ITERS (1000,
# for pte_kernel and pte_bypass each), KMOD_CHURN_SECS (5),
# KMOD_CHURN_THREADS (2).
set -u

ko=${1:?usage: guest-check.sh KO_PATH}
pmd_iters=${KMOD_PMD_ITERS:-64}
pud_iters=${KMOD_PUD_ITERS:-4}
pte_iters=${KMOD_PTE_ITERS:-1000}
churn_secs=${KMOD_CHURN_SECS:-5}
churn_threads=${KMOD_CHURN_THREADS:-2}

D=/sys/kernel/debug/kptwatch_test
. "$(dirname "$0")/../vm/guest-lib.sh"
finish() {
	summary kmod
	exit $((failed > 0))
}

# st KEY: the value of KEY in the stats file, empty if absent.
st() {
	sed -n "s/^$1=//p" "$D/stats"
}

# run NAME CMD: write CMD to the run file; the write fails with the run's error.
run() {
	local name=$1 err
	shift
	if ! err=$( (echo "$*" >"$D/run") 2>&1); then
		fail "$name" "'$*' failed: ${err##*: }"
		return 1
	fi
}

# show PREFIX: print the figures of one result as a comment line.
show() {
	local p=$1 k line="#"
	for k in iters freed huge linked pt_watched pt_freed pt_pending drain_ns \
		ns_per_op wall_ns; do
		[ -n "$(st "${p}_$k")" ] && line="$line ${p}_$k=$(st "${p}_$k")"
	done
	echo "$line"
}

# check_vmap MODE ITERS LABEL [ARGS]: one single-threaded vmap run.
check_vmap() {
	local mode=$1 iters=$2 label=$3 status
	shift 3
	status=$(st "${mode}_status")
	if [ "$status" = unsupported ]; then
		skip "$label" "$(st "${mode}_reason")"
		return
	fi
	run "$label" "$mode iters=$iters $*" || return
	show "$mode"
	local n freed huge watched ptf pend
	n=$(st "${mode}_iters") freed=$(st "${mode}_freed") huge=$(st "${mode}_huge")
	watched=$(st "${mode}_pt_watched") ptf=$(st "${mode}_pt_freed")
	pend=$(st "${mode}_pt_pending")
	expect "$label-iters" "${mode}_iters=$n, want $iters" "$n" -eq "$iters"
	# The kretprobe's count: the kernel's free function returned 1 for an
	# address in the module's window, once per iteration.
	expect "$label-freed" "${mode}_freed=$freed, want $iters (kernel-side count)" \
		"$freed" -eq "$iters"
	expect "$label-huge" "${mode}_huge=$huge, want $iters (leaf after remap)" \
		"$huge" -eq "$iters"
	expect "$label-reached-allocator" \
		"${mode}_pt_freed=$ptf of pt_watched=$watched, pending=$pend" \
		"$watched" -gt 0 -a "$ptf" -eq "$watched" -a "$pend" -eq 0
}

# check_churn MODE: N threads for T seconds.
check_churn() {
	local mode=$1 label="churn-$1"
	if [ "$(st "${mode}_status")" = unsupported ]; then
		skip "$label" "$(st "${mode}_reason")"
		return
	fi
	run "$label" "churn mode=$mode threads=$churn_threads secs=$churn_secs" || return
	show churn
	local ops freed nsop threads i t_ops bad=""
	ops=$(st churn_ops) freed=$(st churn_freed) nsop=$(st churn_ns_per_op)
	threads=$(st churn_threads)
	for ((i = 0; i < threads; i++)); do
		t_ops=$(st "churn_t${i}_ops")
		echo "# churn_t$i: cpu=$(st "churn_t${i}_cpu") ops=$t_ops" \
			"freed=$(st "churn_t${i}_freed") ns_per_op=$(st "churn_t${i}_ns_per_op")"
		[ "${t_ops:-0}" -gt 0 ] || bad="$bad t$i"
	done
	expect "$label-threads" "churn_threads=$threads, want $churn_threads" \
		"$threads" -eq "$churn_threads"
	expect "$label-all-threads-ran" "threads without operations:$bad" -z "$bad"
	expect "$label-ns-per-op" "churn_ops=$ops churn_ns_per_op=$nsop" \
		"$ops" -gt 0 -a "$nsop" -gt 0
	expect "$label-freed" "churn_freed=$freed, want churn_ops=$ops" "$freed" -eq "$ops"
	expect "$label-reached-allocator" \
		"churn_pt_freed=$(st churn_pt_freed) of $(st churn_pt_watched), pending=$(st churn_pt_pending)" \
		"$(st churn_pt_freed)" -eq "$(st churn_pt_watched)" -a "$(st churn_pt_pending)" -eq 0
}

[ "$(id -u)" -eq 0 ] || { fail setup "must run as root"; finish; }
[ -r "$ko" ] || { fail setup "$ko: not readable"; finish; }
grep -q ' /sys/kernel/debug debugfs' /proc/mounts ||
	mount -t debugfs debugfs /sys/kernel/debug ||
	{ fail setup "cannot mount debugfs"; finish; }
grep -q '^kptwatch_test ' /proc/modules && rmmod kptwatch_test

if ! err=$("$(dirname "$0")/load.sh" "$ko" 2>&1); then
	fail insmod "$err"
	finish
fi
ok insmod
echo "# kernel=$(st kernel) redirected_syms=$(st redirected_syms) phys_base=$(st phys_base)"

expect probes "pmd_free_pte_page_probe=$(st pmd_free_pte_page_probe)" \
	"$(st pmd_free_pte_page_probe)" = ok -a "$(st pud_free_pmd_page_probe)" = ok \
	-a "$(st page_free_probe)" = ok

check_vmap vmap_pmd "$pmd_iters" vmap_pmd
check_vmap vmap_pud "$pud_iters" vmap_pud leaf=4k
check_vmap vmap_pud "$pud_iters" vmap_pud-2m leaf=2m

# check_pte MODE: link a PTE table, unlink it, free it (pte_free_kernel() or,
# pte_bypass, free_page()); every table must reach the allocator.
check_pte() {
	local mode=$1 n linked freed pend
	if [ "$(st "${mode}_status")" = unsupported ]; then
		skip "$mode" "$(st "${mode}_reason")"
		return
	fi
	run "$mode" "$mode iters=$pte_iters" || return
	show "$mode"
	n=$(st "${mode}_iters") linked=$(st "${mode}_linked")
	freed=$(st "${mode}_freed") pend=$(st "${mode}_pt_pending")
	expect "$mode-iters" "${mode}_iters=$n, want $pte_iters" "$n" -eq "$pte_iters"
	# A table the area's PMD entry held from before may be freed first
	# instead of a new one (vunmap leaves tables): at most one per run.
	expect "$mode-linked" "${mode}_linked=$linked, want $((pte_iters - 1)) or $pte_iters" \
		"$linked" -ge $((pte_iters - 1)) -a "$linked" -le "$pte_iters"
	# freed counts the tables the page allocator took back (mm_page_free).
	expect "$mode-freed" "${mode}_freed=$freed, want $pte_iters, pending=$pend" \
		"$freed" -eq "$pte_iters" -a "$pend" -eq 0
}
check_pte pte_kernel
check_pte pte_bypass

check_churn vmap_pmd
check_churn pte_kernel

echo "# pmd_free_pte_page: calls=$(st pmd_free_pte_page_calls) freed=$(st pmd_free_pte_page_freed)" \
	"missed=$(st pmd_free_pte_page_missed); pud_free_pmd_page: calls=$(st pud_free_pmd_page_calls)" \
	"freed=$(st pud_free_pmd_page_freed) missed=$(st pud_free_pmd_page_missed)"
expect kretprobe-missed "kretprobes missed $(st pmd_free_pte_page_missed)+$(st pud_free_pmd_page_missed) returns" \
	"$(st pmd_free_pte_page_missed)" -eq 0 -a "$(st pud_free_pmd_page_missed)" -eq 0

if err=$(rmmod kptwatch_test 2>&1); then
	ok rmmod
else
	fail rmmod "$err"
fi
finish

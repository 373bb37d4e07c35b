#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-cpa-error.sh KO KBUILD_DIR: runs inside a guest of a kernel with the
# 6.12 series, CONFIG_FAIL_PAGE_ALLOC and debug_pagealloc=on, that is
# 6.12-patched-debug (run.sh adds debug_pagealloc=on to -debug entries; give
# it -m 2G, the module's 1 GiB area costs 128 MiB of KASAN shadow):
#
#   tests/vm/run.sh -m 2G 6.12-patched-debug -- tests/vm/guest-cpa-error.sh KO BUILD
#
# The CPA populate error path, populate_pgd() -> unmap_pud_range() ->
# try_to_free_p{te,md}_page(), driven by the test module's cpa_err mode
# (tests/kmod/cpa.c: one call of __change_page_attr_set_clr() on
# init_mm.pgd whose third page allocation fault injection fails). Asserts,
# from the kernel's side:
#
#  - the call failed, at the 3rd allocation (the module's fail_nth used up),
#    after allocating 2 tables: the PMD table (the area's PUD entry pointed
#    at it) and a PTE table; the PUD entry is empty again afterwards;
#  - the error path handed both to the deferral (kprobe on the series'
#    kernel_pgtable_async_free() in the calling task: the PTE table, then
#    the PMD table), freed neither itself, and both reached the page
#    allocator afterwards (kmem:mm_page_free);
#  - the series' debugfs counters: queued +2, freed +2 once drained;
#  - the module put back the 8 bytes of physical page 0 the error path
#    zeroes (a latent upstream bug, tests/kmod/README.md; printed as a
#    "# finding" line);
#  - with build/kptwatch (KPTWATCH= to choose another): `kptwatch check
#    --json -- cpa_err` exits 0 with 2 pages queued and 2 freed after a
#    flush, no violation, nothing pending. Without the binary that check is
#    listed as skipped, never counted as passed.
#
# A missing prerequisite (no fail_page_alloc in debugfs, no series
# counters, the mode unsupported) is a FAIL with one line saying why.
# fail_page_alloc is set for order-0 GFP_KERNEL allocations
# (ignore-gfp-wait=N, min-order=0) with probability 0, so that only the
# module's per-task fail_nth can fail anything, and restored at the end.
#
# Prints "ok NAME", "FAIL NAME: detail", "SKIP NAME: reason", "# ..."
# figures, then "cpa-error: N passed, M failed"; exits 1 if anything failed.
set -u

ko=${1:?usage: guest-cpa-error.sh KO KBUILD_DIR}
kbuild=${2:?usage: guest-cpa-error.sh KO KBUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
K=${KPTWATCH:-$top/build/kptwatch}
FA=/sys/kernel/debug/fail_page_alloc
M=/sys/kernel/debug/kptwatch_test
tmp=$(mktemp -d)
fa_saved=()
. "$top/tests/vm/guest-lib.sh"

finish() {
	local kv
	for kv in "${fa_saved[@]}"; do
		echo "${kv#*=}" >"$FA/${kv%%=*}"
	done
	grep -q '^kptwatch_test ' /proc/modules && rmmod kptwatch_test
	rm -rf "$tmp"
	summary cpa-error
	exit $((failed > 0))
}
trap finish EXIT

st() { sed -n "s/^cpa_err_$1=//p" $M/stats; }
# run_cpa: one cpa_err run; the write fails with the run's error.
run_cpa() {
	local err
	if ! err=$( (echo "cpa_err drain_ms=5000" >$M/run) 2>&1); then
		fail "$1" "the run failed: ${err##*: }; $(st detail)"
		return 1
	fi
}
show() {
	local k line="#"
	for k in ret fail_nth_left allocs table1_pfn table1_linked table2_pfn \
		pud_none_after enqueue_point queued_in_call queue_order freed_in_call \
		pt_watched pt_freed pt_pending drain_ns page0_word0_before \
		page0_word0_after page0_restored area start; do
		line="$line $k=$(st $k)"
	done
	echo "$line"
}

[ "$(id -u)" = 0 ] || { fail setup "must run as root"; exit; }
grep -q ' /sys/kernel/debug debugfs' /proc/mounts ||
	mount -t debugfs debugfs /sys/kernel/debug || { fail setup "cannot mount debugfs"; exit; }
if [ ! -d $FA ]; then
	fail fail_page_alloc "$FA missing: kernel without CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS"
	exit
fi
[ -r $F ] || { fail "series counters" "$F missing: kernel without the series, its counters patch or CONFIG_DEBUG_FS"; exit; }
grep -q '^CONFIG_ASYNC_PGTABLE_FREE=y' "$kbuild/obj/.config" ||
	{ fail setup "$kbuild is not a build of the 6.12 series (no CONFIG_ASYNC_PGTABLE_FREE)"; exit; }

# Only fail_nth may fail an allocation: no probability for anyone else.
for k in ignore-gfp-wait min-order probability verbose; do
	fa_saved+=("$k=$(cat $FA/$k)")
done
if ! { echo N >$FA/ignore-gfp-wait && echo 0 >$FA/min-order &&
	echo 0 >$FA/probability && echo 2 >$FA/verbose; }; then
	fail fail_page_alloc "cannot set $FA"
	exit
fi

grep -q '^kptwatch_test ' /proc/modules && rmmod kptwatch_test
if ! err=$("$top/tests/kmod/load.sh" "$ko" 2>&1); then
	fail insmod "$err"
	exit
fi
if [ "$(st status)" = unsupported ]; then
	fail "cpa_err supported" "$(st reason)"
	exit
fi

# --- one run, counted by the module and by the series ---
settle
q0=$(val $F queued_pages) f0=$(val $F freed_pages)
n0=$(dmesg | wc -l)
run_cpa cpa_err || exit
show
# The failing allocation's stack, as fault injection printed it (verbose=2).
dmesg | tail -n +$((n0 + 1)) | sed -n '/FAULT_INJECTION: forcing a failure/,/<\/TASK>/p' |
	grep -E 'FAULT_INJECTION|populate|__change_page_attr|get_zeroed_page|alloc_pages' |
	head -n 12 | sed 's/^/# fault: /'

ret=$(st ret)
expect "call failed" "cpa_err_ret=$ret, want < 0" "${ret:-0}" -lt 0
expect "3rd allocation failed" "cpa_err_fail_nth_left=$(st fail_nth_left), want 0 (the 3rd fault-injection check failed)" \
	"$(st fail_nth_left)" = 0
expect "2 tables allocated" \
	"cpa_err_allocs=$(st allocs), table1_linked=$(st table1_linked); want 2, 1 (the PMD table linked at the area's PUD)" \
	"$(st allocs)" = 2 -a "$(st table1_linked)" = 1
expect "PUD entry empty again" "cpa_err_pud_none_after=$(st pud_none_after)" "$(st pud_none_after)" = 1
expect "error path deferred both" \
	"enqueue_point=$(st enqueue_point) queued_in_call=$(st queued_in_call) queue_order=$(st queue_order) freed_in_call=$(st freed_in_call); want kernel_pgtable_async_free, 2, 2,1 (PTE table, then PMD table), 0" \
	"$(st enqueue_point)" = kernel_pgtable_async_free -a "$(st queued_in_call)" = 2 \
	-a "$(st queue_order)" = 2,1 -a "$(st freed_in_call)" = 0
expect "both reached the allocator" \
	"pt_watched=$(st pt_watched) pt_freed=$(st pt_freed) pt_pending=$(st pt_pending)" \
	"$(st pt_watched)" = 2 -a "$(st pt_freed)" = 2 -a "$(st pt_pending)" = 0
if settle; then
	q1=$(val $F queued_pages) f1=$(val $F freed_pages)
	echo "# series counters: queued +$((q1 - q0)), freed +$((f1 - f0)), drains $(val $F drains)"
	expect "series counters" "queued +$((q1 - q0)), freed +$((f1 - f0)); want +2, +2" \
		$((q1 - q0)) = 2 -a $((f1 - f0)) = 2
else
	fail "series counters" "$(val $F pending_pages) pages still pending after 10 s"
fi
b=$(st page0_word0_before) a=$(st page0_word0_after)
[ "$a" = 0x0 ] && [ "$b" != 0x0 ] &&
	echo "# finding: the error path zeroed the first 8 bytes of physical page 0 ($b -> $a; tests/kmod/README.md)"
expect "page 0 put back" "word 0 of physical page 0: $b before, $a after the call, restored=$(st page0_restored)" \
	"$a" = "$b" -o "$(st page0_restored)" = 1

# --- kptwatch around a second run: the mode is re-runnable ---
if [ ! -x "$K" ]; then
	skip kptwatch "no $K (make all)"
else
	"$K" check --json -- sh -c "echo 'cpa_err drain_ms=5000' >$M/run" >"$tmp/check.json" 2>"$tmp/check.err"
	rc=$?
	read -r q fo v p cmd < <(jq -r '[.counters.queued, .counters.freed_ok,
		.violations_total, .pending.count, .command_run.status] | @tsv' "$tmp/check.json" 2>/dev/null)
	echo "# kptwatch check: exit $rc, queued $q, freed_ok $fo, violations $v, pending $p, command $cmd"
	show
	if [ "$rc" = 0 ] && [ "$q" = 2 ] && [ "$fo" = 2 ] && [ "$v" = 0 ] && [ "$p" = 0 ]; then
		ok "kptwatch check: exit 0, 2 queued = 2 freed after a flush"
	else
		fail "kptwatch check" "wanted exit 0, queued 2 = freed_ok 2, no violation, nothing pending; got exit $rc, $q, $fo, $v, $p; reasons: $(jq -r '[.reasons[].text] | join("; ")' "$tmp/check.json" 2>/dev/null) ($(head -c 300 "$tmp/check.err"))"
	fi
	expect "second run" "ret=$(st ret) fail_nth_left=$(st fail_nth_left) allocs=$(st allocs) queued_in_call=$(st queued_in_call) pt_freed=$(st pt_freed)" \
		"$(st status)" = ok -a "$(st ret)" -lt 0 -a "$(st fail_nth_left)" = 0 -a "$(st allocs)" = 2 \
		-a "$(st queued_in_call)" = 2 -a "$(st pt_freed)" = 2
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-deferral.sh KO_PATH: runs inside a guest of a kernel with the 6.12
# series and CONFIG_DEBUG_FS (6.12-patched, 6.12-patched-debug), under
# run.sh --hotplug.
#
# Asserts from the kernel's own side that kernel page-table frees went
# through the deferral: the series' debugfs counters must show every table
# page the test module saw freed as queued, all of them drained (nothing
# left pending), drains run, and the same for the tables memory hot-remove
# tears down. Prints ok/FAIL lines and "deferral: N passed, M failed".
set -u

ko=${1:?usage: guest-deferral.sh KO_PATH}
here=$(cd "$(dirname "$0")" && pwd)
M=/sys/kernel/debug/kptwatch_test
# $F: the series' optional last patch, counters under a directory of their
# own (v1 had a single file at the debugfs root)
. "$here/guest-lib.sh"

if [ ! -r $F ]; then
	fail "deferral counters" "$F missing: kernel without the series, its counters patch or CONFIG_DEBUG_FS"
	summary deferral
	exit 1
fi

# --- module-driven frees ---
settle
q0=$(val $F queued_pages) f0=$(val $F freed_pages) d0=$(val $F drains)
"$here/../kmod/load.sh" "$ko" || { fail insmod "cannot load $ko"; exit 1; }
echo "vmap_pmd iters=64" >$M/run || fail vmap_pmd "run failed"
echo "pte_kernel iters=1000" >$M/run || fail pte_kernel "run failed"
pt=0
for mode in vmap_pmd pte_kernel; do
	n=$(val $M/stats ${mode}_pt_freed)
	pt=$((pt + ${n:-0}))
done
if settle; then
	ok "module frees drained: nothing pending after the run"
else
	fail "module frees drained" "$(val $F pending_pages) pages still pending after 10 s"
fi
q1=$(val $F queued_pages) f1=$(val $F freed_pages) d1=$(val $F drains)
echo "# module: $pt table pages freed; queued +$((q1 - q0)), freed +$((f1 - f0)), drains +$((d1 - d0)), max_pending $(val $F max_pending_pages)"
if [ "$pt" -ge 1064 ] && [ $((q1 - q0)) -ge "$pt" ]; then
	ok "module frees queued: $((q1 - q0)) pages queued >= $pt table pages the module saw freed"
else
	fail "module frees queued" "queued +$((q1 - q0)), module saw $pt table pages freed (want >= 1064)"
fi
if [ $((f1 - f0)) = $((q1 - q0)) ]; then
	ok "module frees balanced: freed +$((f1 - f0)) = queued +$((q1 - q0))"
else
	fail "module frees balanced" "freed +$((f1 - f0)) != queued +$((q1 - q0))"
fi
if [ $((d1 - d0)) -gt 0 ]; then
	ok "module frees: $((d1 - d0)) drains ran"
else
	fail "module frees" "no drain ran"
fi
rmmod kptwatch_test

# --- memory hot-remove: free_pagetable() through the queue ---
if [ -z "${KPTWATCH_VM_SHARE:-}" ] || [ ! -d "$KPTWATCH_VM_SHARE/hotplug" ]; then
	fail "hot-remove" "no hotplug channel: run under run.sh --hotplug"
else
	"$here/guest-hotplug.sh" plug dimm0 512M >/dev/null || fail "hot-remove" "plug failed"
	settle
	q2=$(val $F queued_pages) f2=$(val $F freed_pages)
	if "$here/guest-hotplug.sh" unplug dimm0 >/dev/null; then
		settle
		q3=$(val $F queued_pages) f3=$(val $F freed_pages)
		echo "# hot-remove: queued +$((q3 - q2)), freed +$((f3 - f2))"
		if [ $((q3 - q2)) -gt 0 ] && [ $((f3 - f2)) = $((q3 - q2)) ]; then
			ok "hot-remove: $((q3 - q2)) page-table pages queued and all drained"
		else
			fail "hot-remove" "queued +$((q3 - q2)), freed +$((f3 - f2))"
		fi
	else
		fail "hot-remove" "unplug failed"
	fi
fi

summary deferral
exit $((failed > 0))

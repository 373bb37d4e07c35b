#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-bootmem-remove.sh KO START SIZE: runs inside a guest of a kernel with
# the 6.12 series and its debugfs counters, booted so that the range
# [START, START + SIZE) is memory present at boot in ZONE_MOVABLE (see
# bootmem-remove.sh: -m 4G, movablecore=2176M, nogbpages).
#
# Loads KO (tests/vm/memremove), which offlines and removes that range. The
# direct map of boot memory was built from memblock at boot, so
# remove_pagetable() frees reserved page tables there: the PageReserved
# branch of free_pagetable() that v1 of the series still freed at once.
# Asserts from the kernel's side that they went through the deferral
# (queued_bootmem_pages grew, all of it freed, nothing pending), and from a
# function trace of the drain that every page the drain gave back followed
# flush_tlb_all() and iommu_sva_invalidate_kva_range() in the same run of
# kernel_pgtable_work_func(). Prints ok/FAIL lines and
# "bootmem-remove: N passed, M failed".
set -u

ko=${1:?usage: guest-bootmem-remove.sh KO START SIZE}
start=${2:?usage: guest-bootmem-remove.sh KO START SIZE}
size=${3:?usage: guest-bootmem-remove.sh KO START SIZE}
T=/sys/kernel/tracing
. "$(dirname "$0")/guest-lib.sh"
done_() {
	summary bootmem-remove
	exit $((failed > 0))
}

if [ ! -r $F ]; then
	fail "counters" "$F missing: kernel without the series' counters patch"
	done_
fi

# The blocks of the range: present at boot, online, movable.
bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
first=$((start / bs))
last=$(((start + size) / bs - 1))
nb=0 movable=0
for i in $(seq $first $last); do
	d=/sys/devices/system/memory/memory$i
	[ -d $d ] || continue
	nb=$((nb + 1))
	[ "$(cat $d/valid_zones 2>/dev/null)" = Movable ] && movable=$((movable + 1))
done
if [ $nb = $((last - first + 1)) ] && [ $movable = $nb ]; then
	ok "range: $nb boot-time memory blocks (memory$first..memory$last), all in ZONE_MOVABLE"
else
	fail "range" "$nb of $((last - first + 1)) blocks present, $movable movable: boot with movablecore="
	done_
fi
mt0=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)

settle
q0=$(val $F queued_pages) f0=$(val $F freed_pages)
qb0=$(val $F queued_bootmem_pages) fb0=$(val $F freed_bootmem_pages)

fns="kernel_pgtable_async_free_bootmem kernel_pgtable_async_free kernel_pgtable_work_func flush_tlb_all iommu_sva_invalidate_kva_range free_reserved_page put_page_bootmem remove_pagetable"
traced=0
if [ -w $T/set_ftrace_filter ]; then
	echo 0 >$T/tracing_on
	echo >$T/trace
	echo 16384 >$T/buffer_size_kb 2>/dev/null
	if echo "$fns" | tr ' ' '\n' >$T/set_ftrace_filter 2>/dev/null; then
		echo function >$T/current_tracer
		echo 1 >$T/tracing_on
		traced=1
	fi
fi

if insmod "$ko" start="$start" size="$size"; then
	ok "offline_and_remove_memory($start, $size) succeeded"
else
	fail "remove" "insmod $ko failed: $(dmesg | grep kptw_memremove | tail -n 1)"
fi
settle || fail "drained" "$(val $F pending_pages) pages still pending after 10 s"
sleep 0.2

if [ $traced = 1 ]; then
	echo 0 >$T/tracing_on
	cp $T/trace /tmp/bootmem-remove.trace
	echo nop >$T/current_tracer
	echo >$T/set_ftrace_filter
fi

q1=$(val $F queued_pages) f1=$(val $F freed_pages)
qb1=$(val $F queued_bootmem_pages) fb1=$(val $F freed_bootmem_pages)
mt1=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)
echo "# MemTotal $mt0 -> $mt1 kB"
echo "# queued +$((q1 - q0)) (boot-time +$((qb1 - qb0))), freed +$((f1 - f0)) (boot-time +$((fb1 - fb0)))"

if [ $((qb1 - qb0)) -gt 0 ]; then
	ok "boot-time tables deferred: queued_bootmem_pages +$((qb1 - qb0))"
else
	fail "boot-time tables deferred" "queued_bootmem_pages +0: no reserved table went through the queue"
fi
if [ $((fb1 - fb0)) = $((qb1 - qb0)) ] && [ $((f1 - f0)) = $((q1 - q0)) ]; then
	ok "all drained: freed +$((f1 - f0)) = queued +$((q1 - q0)), boot-time $((fb1 - fb0)) = $((qb1 - qb0))"
else
	fail "all drained" "freed +$((f1 - f0)) / queued +$((q1 - q0)), boot-time $((fb1 - fb0)) / $((qb1 - qb0))"
fi

if [ $traced = 1 ]; then
	# Per task: a page given back (free_reserved_page, put_page_bootmem)
	# inside kernel_pgtable_work_func must follow flush_tlb_all and then
	# iommu_sva_invalidate_kva_range of that same run. Gives back in other
	# tasks are hot-remove's own (vmemmap leaves) and are only counted.
	read -r enq runs inorder bad other < <(awk '
		/^#/ { next }
		{
			pid = $1; fn = ""
			for (i = 2; i <= NF; i++) if ($i ~ /<-/) { fn = $(i - 1); break }
			if (fn == "") next
			# (pid in st) first: awk creates st[pid] when it reads it
			w = (pid in st)
			if (fn == "kernel_pgtable_async_free_bootmem") enq++
			else if (fn == "kernel_pgtable_work_func") { st[pid] = 1; runs++ }
			else if (fn == "flush_tlb_all" && w && st[pid] == 1) st[pid] = 2
			else if (fn == "iommu_sva_invalidate_kva_range" && w && st[pid] == 2) st[pid] = 3
			else if (fn == "free_reserved_page" || fn == "put_page_bootmem") {
				if (!w) other++
				else if (st[pid] == 3) inorder++
				else bad++
			}
		}
		END { printf "%d %d %d %d %d\n", enq, runs, inorder, bad, other }' /tmp/bootmem-remove.trace)
	echo "# trace: $enq kernel_pgtable_async_free_bootmem(), $runs drains; gives back in a drain: $inorder after both flushes, $bad before; elsewhere (vmemmap leaves): $other"
	if [ "$enq" -gt 0 ] && [ "$inorder" -gt 0 ] && [ "$bad" = 0 ]; then
		ok "trace: every boot-time page the drain gave back followed flush_tlb_all() and iommu_sva_invalidate_kva_range()"
	else
		fail "trace" "enqueued $enq, given back after the flushes $inorder, before $bad"
	fi
	# the hand-over, then the drain that gave the page back
	grep -m 1 -A 6 'kernel_pgtable_async_free_bootmem' /tmp/bootmem-remove.trace |
		grep -E 'async_free_bootmem|kernel_pgtable_work_func|<-kernel_pgtable_work_func|free_reserved_page <-kernel' |
		sed 's/^ */#   /'
else
	echo "# function tracer not available: ordering not traced"
fi

done_

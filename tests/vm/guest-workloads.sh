#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-workloads.sh [NAME|all|list] [ROUNDS]
#
# Drive the kernel page-table free paths a real system has, through real
# kernel interfaces only (no test-module operation), so that kptwatch can be
# run around them:
#
#   build/kptwatch check --json -- tests/vm/guest-workloads.sh all
#
# Workloads (docs/workloads.md says which kernel functions free page tables
# under each, and which do not free any at all):
#
#   bpf       BPF programs loaded and unloaded: `kptwatch probe` loads and
#             verifies its ~40 programs (JIT images in the bpf_prog_pack
#             allocator, set_memory_rox() with CPA_COLLAPSE, the programs'
#             vmalloc'ed struct bpf_prog), then bpftool loads and unloads an
#             object when bpffs is there. Frees no kernel table on 7.3 nor
#             6.12 in our runs: a check that it stays so.
#   module    insmod + rmmod of a module built against the running kernel
#             (execmem, set_memory_ro/rox/nx, on 7.x the ROX cache and CPA's
#             collapse). Only loaded and unloaded, never driven.
#   kvmalloc  fd tables grown by dup2() to a high descriptor: alloc_fdtable()
#             kvmalloc()s 8 bytes per descriptor, so 1 M descriptors is an
#             8 MiB vmalloc with VM_ALLOW_HUGE_VMAP (PMD mappings), between
#             BPF array maps of 1 MiB (vmalloc with PTE tables) created and
#             freed: vmap_try_huge_pmd() maps 2 MiB pages over ranges whose
#             PTE tables smaller areas left behind: pmd_free_pte_page().
#   hotplug   a pc-dimm hot-added and ejected through ACPI (test bed only,
#             run.sh --hotplug): remove_pagetable() -> free_pagetable() on
#             the direct map and vmemmap tables that covered it.
#
# `all` runs bpf, module and kvmalloc at the same time, then hotplug (when
# the hotplug channel is there) while the three run once more.
#
# ROUNDS overrides every workload's default number of rounds (bpf 5,
# module 20, kvmalloc 40, hotplug 1).
#
# Each workload prints "workload NAME: ..." lines with what it did, and
# "SKIP workload NAME: reason" when the system cannot run it (exit 0: a
# skip is not a failure of the command kptwatch watches). Exit 1 when a
# workload that could run failed, 2 on usage errors.
#
# Environment:
#   KPTWATCH            the kptwatch binary (default: build/kptwatch of this tree)
#   WORKLOAD_KO         module(s) to load and unload, space separated
#                       (default in the test bed: the kptwatch_test.ko built
#                       for the running kernel under $KPTWATCH_CACHE/build;
#                       on a live machine: a few harmless modules of
#                       /lib/modules/$(uname -r) that are not loaded)
#   WORKLOAD_BPF_OBJ    object for bpftool prog loadall (default build/testrun.bpf.o)
#   WORKLOAD_DIMM_SIZE  hotplug DIMM size (default 512M)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kptwatch=${KPTWATCH:-$top/build/kptwatch}
cache=${KPTWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kptwatch}

usage() {
	sed -n '4,/^set -uo pipefail/{/^set /d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

name=${1:-all}
rounds=${2:-}
case "$rounds" in '' | [1-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;; *) usage ;; esac
case "$name" in bpf | module | kvmalloc | hotplug | all) ;; list) echo "bpf module kvmalloc hotplug"; exit 0 ;; *) usage ;; esac
[ "$(id -u)" = 0 ] || { echo "guest-workloads: must run as root" >&2; exit 2; }

say() { echo "workload $*"; }
skip() { echo "SKIP workload $*"; }

# ---------------------------------------------------------------- bpf ---
wl_bpf() {
	local n=${rounds:-5} r out progs total=0 fails=0 bt=0 obj pin
	[ -x "$kptwatch" ] || { skip "bpf: no kptwatch binary at $kptwatch (make)"; return 0; }
	obj=${WORKLOAD_BPF_OBJ:-$top/build/testrun.bpf.o}
	for ((r = 1; r <= n; r++)); do
		# probe exits 2 or 3 on kernels it cannot fully watch, after
		# loading: what counts here is that the programs were loaded.
		out=$("$kptwatch" probe 2>&1)
		progs=$(sed -n 's/^programs: *loaded and verified (\([0-9]*\).*/\1/p' <<<"$out")
		if [ -n "$progs" ]; then
			total=$((total + progs))
		else
			fails=$((fails + 1))
			[ $fails = 1 ] && tail -n 5 <<<"$out" | sed 's/^/  probe: /'
		fi
		if command -v bpftool >/dev/null && [ -f "$obj" ] && mountpoint -q /sys/fs/bpf; then
			pin=/sys/fs/bpf/kptw_wl_$$_$r
			if bpftool prog loadall "$obj" "$pin" >/dev/null 2>&1; then
				bt=$((bt + $(ls "$pin" | wc -l)))
				rm -rf "$pin"
			else
				rm -rf "$pin"
			fi
		fi
	done
	say "bpf: $n rounds: kptwatch probe loaded and unloaded $total programs ($fails rounds failed to load); bpftool loadall+unpin of $(basename "$obj"): $bt programs"
	[ $fails = 0 ]
}

# ------------------------------------------------------------- module ---
# The modules to cycle, one per line.
find_modules() {
	local d rel ver ko m
	if [ -n "${WORKLOAD_KO:-}" ]; then
		tr ' ' '\n' <<<"$WORKLOAD_KO" | grep .
		return
	fi
	rel=$(uname -r)
	ver=$(uname -v)
	if [ -n "${KPTWATCH_VM:-}" ]; then
		# The test bed: the test module built against this very build
		# (same release and same UTS_VERSION, i.e. build time).
		for d in "$cache"/build/*/; do
			[ -f "$d.built" ] || continue
			[ "$(cat "$d/obj/include/config/kernel.release" 2>/dev/null)" = "$rel" ] || continue
			grep -qF "\"$ver\"" "$d/obj/include/generated/utsversion.h" 2>/dev/null || continue
			ko=$d/kmod/kptwatch_test.ko
			[ -f "$ko" ] && echo "$ko" && return
		done
		return
	fi
	# A live machine: small modules with no side effects, when present
	# and not loaded already.
	for m in dummy ifb nlmon veth; do
		grep -q "^$m " /proc/modules && continue
		modprobe -n -q "$m" 2>/dev/null && echo "$m"
	done
}

wl_module() {
	local n=${rounds:-20} r mods m name loads=0 fails=0
	[ -f /proc/modules ] || { skip "module: kernel without module support"; return 0; }
	mapfile -t mods < <(find_modules)
	[ ${#mods[@]} -gt 0 ] || { skip "module: no module built for $(uname -r) $(uname -v) (tests/kmod/build.sh BUILDDIR, or WORKLOAD_KO)"; return 0; }
	for ((r = 1; r <= n; r++)); do
		for m in "${mods[@]}"; do
			if [ -f "$m" ]; then
				name=$(basename "$m" .ko)
				name=${name//-/_}
				# the test module needs init_mm's address where kallsyms lacks it
				if [ "$name" = kptwatch_test ]; then
					"$(dirname "$0")/../kmod/load.sh" "$m" 2>/dev/null
				else
					insmod "$m" 2>/dev/null
				fi && rmmod "$name" && loads=$((loads + 1)) || fails=$((fails + 1))
			else
				modprobe -q "$m" && modprobe -q -r "$m" && loads=$((loads + 1)) || fails=$((fails + 1))
			fi
		done
	done
	say "module: $n rounds of ${mods[*]##*/}: $loads loads+unloads, $fails failed"
	[ $fails = 0 ]
}

# ----------------------------------------------------------- kvmalloc ---
# PTE-mapped vmalloc areas from user space: BPF array maps above 32 KiB are
# vmalloc()ed without VM_ALLOW_HUGE_VMAP (kmalloc refuses them first only up
# to PAGE_ALLOC_COSTLY_ORDER). They link PTE tables into vmalloc space; once
# freed and purged, a later huge kvmalloc() may be placed over them.
make_maps() { # make_maps DIR COUNT
	local i
	mkdir -p "$1" || return 1
	for ((i = 0; i < $2; i++)); do
		bpftool map create "$1/m$i" type array key 4 value 4096 entries 256 name kptw_wl 2>/dev/null || return 1
	done
}

wl_kvmalloc() {
	local n=${rounds:-40} r big nr_open held=0 out maps=0 mapdir=
	nr_open=$(cat /proc/sys/fs/nr_open)
	# 1 M descriptors (8 MiB table); less if fs.nr_open is lower. kmalloc
	# refuses anything above 4 MiB (MAX_PAGE_ORDER), so this is vmalloc.
	big=$((nr_open < 1048576 ? nr_open : 1048576))
	# Without CAP_SYS_RESOURCE (a container) only the hard limit is there.
	bash -c 'ulimit -n "$1"' - "$big" 2>/dev/null || big=$(ulimit -Hn)
	[ "$big" = unlimited ] && big=$nr_open
	[ $big -gt $((4 * 1024 * 1024 / 8)) ] || { skip "kvmalloc: RLIMIT_NOFILE cannot go above $big descriptors, too few for a vmalloc()ed fd table"; return 0; }
	if command -v bpftool >/dev/null && mountpoint -q /sys/fs/bpf; then
		mapdir=/sys/fs/bpf/kptw_wl_maps_$$
	fi
	for ((r = 1; r <= n; r++)); do
		if [ -n "$mapdir" ] && make_maps "$mapdir" 4; then
			maps=$((maps + 4))
		fi
		# In a subshell that exits: the table is kvfree()d at once.
		out=$(bash -c '
			ulimit -n "$1" || exit 1
			exec {s}>/dev/null
			eval "exec $(($1 - 1))>&$s" || exit 1
			grep -c "alloc_fdtable" /proc/vmallocinfo 2>/dev/null
			true' - "$big") || { say "kvmalloc: round $r: cannot raise RLIMIT_NOFILE to $big"; return 1; }
		held=$((held + ${out:-0}))
		[ -n "$mapdir" ] && rm -rf "$mapdir"
	done
	say "kvmalloc: $n rounds: fd table of $big descriptors ($((big * 8 / 1024)) KiB kvmalloc, huge-mappable) grown and freed; alloc_fdtable vmalloc areas seen while held: $held; BPF array maps of 1 MiB (vmalloc, PTE-mapped) created and freed: $maps"
}

# ------------------------------------------------------------ hotplug ---
wl_hotplug() {
	local n=${rounds:-1} r size=${WORKLOAD_DIMM_SIZE:-512M} before after out done=0
	if [ -z "${KPTWATCH_VM_SHARE:-}" ] || [ ! -d "$KPTWATCH_VM_SHARE/hotplug" ]; then
		skip "hotplug: needs the test bed's hotplug channel (run.sh --hotplug); on a live machine, eject a removable DIMM by hand"
		return 0
	fi
	before=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
	for ((r = 1; r <= n; r++)); do
		out=$("$here/guest-hotplug.sh" plug "wl$r" "$size" 2>&1) || { echo "$out" | sed 's/^/  /'; say "hotplug: plug wl$r failed"; return 1; }
		after=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
		out=$("$here/guest-hotplug.sh" unplug "wl$r" 2>&1) || { echo "$out" | sed 's/^/  /'; say "hotplug: unplug wl$r failed"; return 1; }
		done=$((done + 1))
	done
	say "hotplug: $done DIMMs of $size added and removed; MemTotal $before -> $after -> $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) kB"
}

# ---------------------------------------------------------------- all ---
run_all() {
	local pids=() rc=0 p hp=
	if [ -n "${KPTWATCH_VM_SHARE:-}" ] && [ -d "$KPTWATCH_VM_SHARE/hotplug" ]; then hp=1; fi
	wl_bpf & pids+=($!)
	wl_module & pids+=($!)
	wl_kvmalloc & pids+=($!)
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	pids=()
	if [ -n "$hp" ]; then
		# Hot-remove while the others churn.
		wl_hotplug & pids+=($!)
		rounds=${rounds:-2} wl_bpf & pids+=($!)
		rounds=${rounds:-5} wl_module & pids+=($!)
		rounds=${rounds:-10} wl_kvmalloc & pids+=($!)
		for p in "${pids[@]}"; do wait "$p" || rc=1; done
	else
		wl_hotplug
	fi
	return $rc
}

case "$name" in
all) run_all ;;
*) "wl_$name" ;;
esac
rc=$?
[ $rc = 0 ] || echo "workload $name: FAILED" >&2
exit $rc

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-bootmem-mutant.sh: the mutant of the matrix that needs memory
# hot-remove (tests/vm/mutants/bootmem/*.patch, mutant 5: boot-time page
# tables freed at once). The series as it is, then the mutant, each booted
# as bootmem-remove.sh boots it and running guest-bootmem-check.sh:
# `kptwatch check -- insmod kptw_memremove.ko` removes [4 GiB, 5 GiB), memory
# present at boot, whose direct-map tables were allocated from memblock.
#
#  - the series: exit 0, no violation, every page handed over freed after a
#    flush, and the boot-time tables among them (its counter
#    queued_bootmem_pages grew by B >= 1);
#  - the mutant: exit 1, exactly B violations, all at free_pagetable (or at
#    "unnamed path" where the build inlines free_pagetable(), as the test
#    bed's 6.12 series does: only table membership catches it then), no
#    range violation, and the series' bootmem queue untouched.
# Prints PASS/FAIL lines and "bootmem mutants: N passed, M failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

entry=6.12-patched
logs=${KPTWATCH_MUTANT_LOGS:-$KPTWATCH_CACHE/mutant-logs/bootmem-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$logs"
[ -x "$TOP_DIR/build/kptwatch" ] || die "no build/kptwatch (make all first)"
passed=0
failed=0
pass() { echo "PASS $1: $2"; passed=$((passed + 1)); }
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
	[ -z "${3:-}" ] || tail -n 20 "$3" | sed 's/^/    | /'
}

declare -A r
# grew NAME: how much the series' counter NAME grew during the check
grew() {
	local b a
	b=$(sed -n "s/.*\b$1 \([0-9]*\).*/\1/p" <<<"${r[series_before]:-}")
	a=$(sed -n "s/.*\b$1 \([0-9]*\).*/\1/p" <<<"${r[series_after]:-}")
	[ -n "$b" ] && [ -n "$a" ] && echo $((a - b))
}

# run NAME DIR: the memremove module against DIR, the guest, r[] filled
run() {
	local name=$1 dir=$2 dst=$2/memremove line k
	mkdir -p "$dst"
	cp -p "$VM_DIR"/memremove/Kbuild "$VM_DIR"/memremove/*.c "$dst"/
	make -C "$dir/obj" M="$dst" modules >"$logs/$name.kmod.log" 2>&1 ||
		{ fail "$name" "memremove module build failed" "$logs/$name.kmod.log"; return 1; }
	"$VM_DIR/run.sh" --kernel "$dir" --memory 4G --append "movablecore=2176M nogbpages" \
		"$entry" -- "$VM_DIR/guest-bootmem-check.sh" "$dst/kptw_memremove.ko" \
		0x100000000 0x40000000 >"$logs/$name.log" 2>&1 ||
		{ fail "$name" "the guest run failed" "$logs/$name.log"; return 1; }
	r=()
	while IFS= read -r line; do
		line=${line#mutant: }
		k=${line%%=*}
		r[$k]=${line#*=}
	done < <(grep '^mutant: [a-z_]*=' "$logs/$name.log")
	[ -z "${r[error]:-}" ] || { fail "$name" "guest: ${r[error]}" "$logs/$name.log"; return 1; }
	echo "# $name: exit ${r[exit]:-?}, violation ${r[violation]:-?} (${r[kinds_points]:-none})," \
		"range_violation ${r[range_violation]:-?}, queued ${r[queued]:-?}, freed_ok ${r[freed_ok]:-?}," \
		"data_page ${r[data_page]:-?}, pending ${r[pending]:-?}, command ${r[command]:-?};" \
		"series: queued_bootmem_pages +$(grew queued_bootmem_pages), queued_pages +$(grew queued_pages)"
}

# nothing doubtful in a run
sound() {
	local k
	for k in unknown range_unknown walk_trunc map_full rb_drop pending; do
		[ "${r[$k]:-}" = 0 ] || { echo "$k ${r[$k]:-?}, wanted 0"; return; }
	done
}

base=$("$VM_DIR/build-kernel.sh" "$entry" 2>"$logs/base.build.log") ||
	{ fail base "build-kernel.sh $entry failed" "$logs/base.build.log"; exit 1; }
bootmem=
if run base "$base"; then
	bootmem=$(grew queued_bootmem_pages)
	why=$(sound)
	if [ -n "$why" ]; then
		fail base "$why"
	elif [ "${r[exit]}" = 0 ] && [ "${r[violation]}" = 0 ] && [ "${r[range_violation]}" = 0 ] &&
		[ "${r[queued]}" = "${r[freed_ok]}" ] && [ "${bootmem:-0}" -ge 1 ] &&
		[ "${r[queued]}" -ge "$bootmem" ]; then
		pass base "exit 0, ${r[queued]} pages handed over = ${r[freed_ok]} freed after a flush, $bootmem of them boot-time tables"
	else
		fail base "wanted exit 0, no violation, queued = freed_ok >= the boot-time tables >= 1"
		bootmem=
	fi
fi

for m in "$VM_DIR"/mutants/bootmem/*.patch; do
	name=$(basename "$m" .patch)
	if ! dir=$("$VM_DIR/build-kernel.sh" --patch "$m" "$entry" 2>"$logs/$name.build.log"); then
		fail "$name" "the kernel does not build" "$logs/$name.build.log"
		continue
	fi
	echo "# $name: built in $(cat "$dir/build-seconds" 2>/dev/null || echo ?) s (${dir##*/})"
	run "$name" "$dir" || continue
	if [ -z "$bootmem" ]; then
		fail "$name" "no count to compare with: the base run failed"
		continue
	fi
	why=$(sound)
	b=$(grew queued_bootmem_pages)
	if [ -n "$why" ]; then
		fail "$name" "$why"
	elif [ "${r[exit]}" = 1 ] && [ "${r[violation]}" = "$bootmem" ] &&
		{ [ "${r[kinds_points]}" = "violation@free_pagetable" ] ||
			[ "${r[kinds_points]}" = "violation@unnamed path" ]; } &&
		[ "${r[range_violation]}" = 0 ] && [ "$b" = 0 ]; then
		pass "$name" "exit 1, ${r[violation]} violations (${r[kinds_points]}) = the $bootmem boot-time tables the series defers"
		echo "    first violation: ${r[first_violation]:-none}"
		echo "    its stack: ${r[stack]:-none}"
	else
		fail "$name" "wanted exit 1, $bootmem violations all at free_pagetable (or unnamed, where it is inlined), the bootmem queue untouched"
	fi
done
echo "bootmem mutants: $passed passed, $failed failed"
[ $failed = 0 ]

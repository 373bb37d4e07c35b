#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh KBUILD_DIR
#
# Build the test module against one kernel of the test bed and print the path
# of kptwatch_test.ko. KBUILD_DIR is what tests/vm/build-kernel.sh prints: it
# holds src/ and obj/. The module sources are copied to KBUILD_DIR/kmod/ and
# built there, so builds for different kernels never share objects and this
# directory stays clean (the guest sees the host's / read-only).
#
# pte_free_kernel(), which the pte_kernel mode calls, is inline; on some
# kernels it calls helpers that are not exported (7.x
# pagetable_free_kernel(), the 6.12 series' kernel_pgtable_async_free_dtor(),
# ptlock_free() with lockdep).
# The module is linked once as is; if modpost reports only such symbols
# undefined, build.sh says so on stderr and rebuilds with those calls going
# through kallsyms (see kptw_test.h). Any other undefined symbol fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
redirectable="kernel_pgtable_async_free_dtor pagetable_free_kernel ptlock_alloc ptlock_free"

die() {
	echo "kmod/build.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: build.sh KBUILD_DIR"
[ -d "$1" ] || die "$1: no such directory"
kb=$(cd "$1" && pwd)
if [ ! -f "$kb/obj/.config" ] || [ ! -f "$kb/obj/Module.symvers" ]; then
	die "$kb/obj is not a built kernel tree (no .config or Module.symvers)"
fi

dst=$kb/kmod
mkdir -p "$dst"
exec 9>"$kb/.kmod.lock"
flock 9

# Mirror the sources; drop ones that no longer exist here.
for f in "$dst"/*.c "$dst"/*.h; do
	[ -e "$f" ] || continue
	[ -e "$here/$(basename "$f")" ] || rm -f "$f" "${f%.*}.o"
done
cp -p "$here"/Kbuild "$here"/*.c "$here"/*.h "$dst"/

kmake() {
	make -C "$kb/obj" M="$dst" KPTW_REDIRECT="$1" modules
}

log=$dst/build.log
redirect=""
if ! kmake "" >"$log" 2>&1; then
	# 6.12: ERROR: modpost: "SYM" [M.ko] undefined!
	# 7.x:  ERROR: modpost: M.ko: symbol 'SYM' undefined!
	undef=$(sed -n -e 's/^ERROR: modpost: "\([A-Za-z0-9_]*\)" .* undefined!$/\1/p' \
		-e "s/^ERROR: modpost: .*: symbol '\([A-Za-z0-9_]*\)' undefined!\$/\1/p" "$log" | sort -u)
	[ -n "$undef" ] || { cat "$log" >&2; die "build failed"; }
	for s in $undef; do
		case " $redirectable " in
		*" $s "*) redirect="$redirect $s" ;;
		*) cat "$log" >&2; die "unexported symbol $s is not one the module may redirect" ;;
		esac
	done
	redirect=${redirect# }
	for s in $redirect; do
		echo "kmod/build.sh: NOTE: $s is called by an inline page-table helper" \
			"(pte_free_kernel) but not exported by this" \
			"kernel; pte_kernel mode calls it through its kallsyms address" >&2
	done
	kmake "$redirect" >"$log" 2>&1 || { cat "$log" >&2; die "build failed with KPTW_REDIRECT='$redirect'"; }
fi
echo "$redirect" >"$dst/redirected"
grep -E 'warning:|WARNING:' "$log" >&2 || true

ko=$dst/kptwatch_test.ko
[ -f "$ko" ] || die "no $ko after the build"
echo "$ko"

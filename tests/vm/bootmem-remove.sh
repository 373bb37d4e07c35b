#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bootmem-remove.sh [ENTRY]: hot-remove memory that was present at boot and
# check that its boot-time page tables were freed through the series'
# deferral (guest-bootmem-remove.sh). ENTRY defaults to 6.12-patched; it
# needs the series with its debugfs counters patch.
#
# The guest gets 4 GiB: on q35 that is 2 GiB below 4 GiB and 2 GiB at
# [4 GiB, 6 GiB). movablecore=2176M puts the high part in ZONE_MOVABLE. The
# range removed is [4 GiB, 5 GiB): memblock allocates top-down, so the
# boot-time allocations (memmap, page tables) sit near 6 GiB, and with
# -m 3G and only [4 GiB, 5 GiB) movable they landed in the range and
# offlining failed with -EBUSY. nogbpages makes the direct map use 2 MiB
# pages, so the PMD table that maps the removed gigabyte (allocated from
# memblock at boot, hence PageReserved) becomes empty and is freed. The
# removal itself is tests/vm/memremove's module calling
# offline_and_remove_memory(): QEMU has no way to eject boot RAM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

entry=${1:-6.12-patched}
dir=$("$VM_DIR/build-kernel.sh" "$entry")
dst=$dir/memremove
mkdir -p "$dst"
cp -p "$VM_DIR"/memremove/Kbuild "$VM_DIR"/memremove/*.c "$dst"/
make -C "$dir/obj" M="$dst" modules >"$dst/build.log" 2>&1 ||
	{ cat "$dst/build.log" >&2; die "memremove module build failed"; }
log "module: $dst/kptw_memremove.ko"
# debug_pagealloc leaves the removed range's free pages as non-present,
# non-empty PTEs that remove_pte_table() skips: no table would be freed.
dpa=()
case "$entry" in *-debug*) dpa=(--append debug_pagealloc=off) ;; esac
exec "$VM_DIR/run.sh" --memory 4G --append "movablecore=2176M nogbpages" "${dpa[@]}" "$entry" -- \
	"$VM_DIR/guest-bootmem-remove.sh" "$dst/kptw_memremove.ko" 0x100000000 0x40000000

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# load.sh KO [PARAM=VALUE...]: insmod the test module inside a guest. Where
# kallsyms lists no variables (CONFIG_KALLSYMS_ALL off) the module cannot
# find init_mm: give it init_mm's address from the System.map of the build
# the module came from (KO is BUILD/kmod/kptwatch_test.ko, as
# tests/kmod/build.sh lays it out), moved by the KASLR offset that _text
# shows in kallsyms. The module checks the address before using it.
set -eu
ko=${1:?usage: load.sh KO [PARAM=VALUE...]}
shift
args=("$@")
if ! grep -q ' init_mm$' /proc/kallsyms; then
	map=$(dirname "$(dirname "$ko")")/obj/System.map
	[ -r "$map" ] || { echo "load.sh: init_mm not in kallsyms and no $map" >&2; exit 1; }
	now=$(awk '$3 == "_text" { print $1; exit }' /proc/kallsyms)
	was=$(awk '$3 == "_text" { print $1; exit }' "$map")
	mm=$(awk '$3 == "init_mm" { print $1; exit }' "$map")
	[ -n "$now" ] && [ -n "$was" ] && [ -n "$mm" ] ||
		{ echo "load.sh: _text or init_mm missing from kallsyms or $map" >&2; exit 1; }
	args+=("$(printf 'init_mm_addr=0x%x' $((0x$mm + 0x$now - 0x$was)))")
fi
exec insmod "$ko" "${args[@]}"

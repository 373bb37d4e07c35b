#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-hotplug.sh plug NAME SIZE    hot-add a pc-dimm, wait until it is online
# guest-hotplug.sh unplug NAME       eject it through ACPI, wait until it is gone
# guest-hotplug.sh check [NAME [SIZE]]   the hot-remove scenario, with checks
#
# Runs inside a guest started with `run.sh --hotplug`: requests go to the
# host through the run's writable share ($KPTWATCH_VM_SHARE/hotplug), where
# hotplug-host.sh turns them into QMP commands. Removing the DIMM makes the
# kernel offline its memory blocks and tear down the direct map and vmemmap
# that covered it, and free_pagetable() frees those page tables: the path
# kptwatch wants to watch.
#
# `check` prints "ok hotplug ..." / "FAIL hotplug ..." lines and exits 1 when
# a check fails: the DIMM must come up as online (movable) memory blocks that
# add SIZE to MemTotal, and after the unplug the blocks must be gone and
# MemTotal back down. Defaults: NAME dimm0, SIZE 512M.
#
# Environment: KPTWATCH_HOTPLUG_TIMEOUT (s, default 600) bounds each wait.
set -uo pipefail

mem_sys=/sys/devices/system/memory
state_dir=/run/kptwatch-hotplug
timeout=${KPTWATCH_HOTPLUG_TIMEOUT:-600}
chan=${KPTWATCH_VM_SHARE:-}/hotplug

die() {
	echo "guest-hotplug: $*" >&2
	exit 2
}

[ -n "${KPTWATCH_VM_SHARE:-}" ] || die "not in a test-bed guest (KPTWATCH_VM_SHARE unset)"
[ -d "$chan" ] || die "no hotplug channel at $chan: start the guest with run.sh --hotplug"
[ -d "$mem_sys" ] || die "$mem_sys missing: kernel without MEMORY_HOTPLUG?"
mkdir -p "$state_dir"

blocks() { (cd "$mem_sys" && ls -d memory[0-9]* 2>/dev/null | sort -V); }
memtotal() { awk '/^MemTotal:/ { print $2 }' /proc/meminfo; }
block_bytes() { echo $((16#$(cat "$mem_sys/block_size_bytes"))); }

# request "VERB ARGS": hand it to the host, wait for the answer, print it.
request() {
	local id ack waited=0
	id=$(date +%s%N)-$$
	printf '%s\n' "$1" >"$chan/.req-$id" && mv "$chan/.req-$id" "$chan/req-$id" ||
		die "cannot write a request into $chan"
	while [ ! -f "$chan/ack-$id" ]; do
		sleep 0.2
		waited=$((waited + 1))
		[ $waited -lt $((timeout * 5)) ] || { echo "error no answer from the host in $timeout s"; return 1; }
	done
	ack=$(cat "$chan/ack-$id")
	rm -f "$chan/ack-$id"
	echo "$ack"
	[[ $ack == ok* ]]
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local n=$(($1 * 5))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}

new_blocks() { comm -13 <(tr " " "\n" <<<"$1" | sort) <(blocks | sort) | grep . | sort -V; }

all_online() {
	local b
	for b in "$@"; do
		[ "$(cat "$mem_sys/$b/state" 2>/dev/null)" = online ] || return 1
	done
}

none_left() {
	local b
	for b in "$@"; do
		[ -e "$mem_sys/$b" ] && return 1
	done
	return 0
}

range_of() {
	local bs first last
	bs=$(block_bytes)
	first=${1#memory}
	last=${!#}
	last=${last#memory}
	printf '0x%x-0x%x' $((first * bs)) $(((last + 1) * bs - 1))
}

# plug NAME SIZE: sets $new (the blocks) and $mt0/$mt1 (MemTotal in kB).
do_plug() {
	local name=$1 size=$2 before bytes want ans b
	bytes=$(numfmt --from=iec "$size") || die "bad size $size"
	want=$((bytes / $(block_bytes)))
	before=$(blocks | tr '\n' ' ')
	mt0=$(memtotal)
	ans=$(request "plug $name $size") || { echo "plug $name: host said: $ans"; return 1; }
	# The ACPI notification adds the blocks; the kernel's default online
	# policy (online_movable in base.config) onlines them.
	if ! wait_for "$timeout" eval '[ "$(new_blocks "$before" | wc -l)" -ge '"$want"' ]'; then
		echo "plug $name: $(new_blocks "$before" | wc -l) of $want memory blocks appeared in $timeout s"
		return 1
	fi
	new=$(new_blocks "$before" | paste -sd " ")
	# shellcheck disable=SC2086
	if ! wait_for 10 all_online $new; then
		for b in $new; do
			[ "$(cat "$mem_sys/$b/state")" = online ] || echo online_movable >"$mem_sys/$b/state" 2>/dev/null ||
				echo "plug $name: cannot online $b"
		done
	fi
	mt1=$(memtotal)
	printf '%s\n' "$name" "$size" "$new" "$mt0" "$mt1" >"$state_dir/$name"
	# shellcheck disable=SC2086
	echo "plug $name: $size as $(wc -w <<<"$new") blocks ($new) at $(range_of $new), MemTotal $mt0 -> $mt1 kB"
}

# unplug NAME: sets $mt2 (MemTotal after), uses the state plug left.
do_unplug() {
	local name=$1 ans
	[ -f "$state_dir/$name" ] || die "unplug $name: not plugged by this script"
	{ read -r _; read -r _; read -r new; read -r mt0; read -r mt1; } <"$state_dir/$name"
	ans=$(request "unplug $name") || { echo "unplug $name: host said: $ans"; return 1; }
	# shellcheck disable=SC2086
	if ! wait_for 60 none_left $new; then
		echo "unplug $name: blocks still present after the eject: $(for b in $new; do [ -e $mem_sys/$b ] && echo -n "$b "; done)"
		return 1
	fi
	mt2=$(memtotal)
	rm -f "$state_dir/$name"
	echo "unplug $name: blocks $new gone, MemTotal $mt1 -> $mt2 kB"
}

# Count calls of the functions that tear down the DIMM's page tables with the
# function tracer while $@ runs: free_pagetable() when the compiler kept it,
# remove_pagetable() (its caller) always. $fpt gets "name=count ..." ("" when
# the tracer is not available).
traced() {
	local t=/sys/kernel/tracing rc=0 fns f
	fpt=
	fns=$(grep -oE '^(free_pagetable|remove_pagetable)[a-z0-9_.]*' $t/available_filter_functions 2>/dev/null | sort -u)
	if [ -w $t/set_ftrace_filter ] && [ -n "$fns" ]; then
		echo 0 >$t/tracing_on
		echo >$t/trace
		echo "$fns" >$t/set_ftrace_filter
		echo function >$t/current_tracer
		echo 1 >$t/tracing_on
		"$@" || rc=$?
		echo 0 >$t/tracing_on
		for f in $fns; do
			fpt+="$f()=$(grep -c " $f <-" $t/trace) "
		done
		echo nop >$t/current_tracer
		echo >$t/set_ftrace_filter
	else
		"$@" || rc=$?
	fi
	return $rc
}

do_check() {
	local name=${1:-dimm0} size=${2:-512M} bytes grew fails=0 passes=0 n
	ok() { echo "ok hotplug $*"; passes=$((passes + 1)); }
	bad() { echo "FAIL hotplug $*"; fails=$((fails + 1)); }
	bytes=$(numfmt --from=iec "$size") || die "bad size $size"

	if ! do_plug "$name" "$size"; then
		bad "plug $name $size"
		echo "hotplug: $passes passed, $fails failed"
		return 1
	fi
	n=$(wc -w <<<"$new")
	[ "$n" -eq $((bytes / $(block_bytes))) ] && ok "plug $name: $n memory blocks appeared" ||
		bad "plug $name: $n memory blocks, wanted $((bytes / $(block_bytes)))"
	# shellcheck disable=SC2086
	all_online $new && ok "plug $name: all blocks online" || bad "plug $name: blocks not online"
	local b movable=1
	for b in $new; do
		grep -qw Movable "$mem_sys/$b/valid_zones" 2>/dev/null || movable=0
	done
	[ $movable = 1 ] && ok "plug $name: blocks in ZONE_MOVABLE" || bad "plug $name: blocks not in ZONE_MOVABLE (cannot be offlined reliably)"
	grew=$((mt1 - mt0))
	[ $grew -ge $((bytes / 1024 * 9 / 10)) ] && ok "plug $name: MemTotal grew by $grew kB" ||
		bad "plug $name: MemTotal grew by $grew kB only (wanted ~$((bytes / 1024)))"

	if ! traced do_unplug "$name"; then
		bad "unplug $name: the DIMM was not removed"
	else
		ok "unplug $name: memory blocks removed"
		[ "$mt2" -le "$mt0" ] && ok "unplug $name: MemTotal back down ($mt1 -> $mt2 kB, was $mt0 before the plug)" ||
			bad "unplug $name: MemTotal $mt2 kB, above the $mt0 kB before the plug"
		# The removal must have torn page tables down; where the tracer
		# sees the functions, require a call.
		if [ -n "$fpt" ]; then
			if [[ $fpt =~ remove_pagetable[^=]*\(\)=[1-9] ]]; then
				ok "unplug $name: page tables torn down: $fpt(function tracer; free_pagetable() is inlined when absent)"
			else
				bad "unplug $name: no remove_pagetable() call traced during the unplug: $fpt"
			fi
		fi
	fi
	echo "hotplug: $passes passed, $fails failed"
	[ $fails = 0 ]
}

case "${1:-}" in
plug) [ $# = 3 ] || die "usage: plug NAME SIZE"; do_plug "$2" "$3" ;;
unplug) [ $# = 2 ] || die "usage: unplug NAME"; do_unplug "$2" ;;
check) shift; do_check "$@" ;;
*) sed -n '4,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

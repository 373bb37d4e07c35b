# SPDX-License-Identifier: GPL-2.0
#
# guest-lib.sh: sourced by the guest scripts that check the series' own
# counters. Each prints ok/FAIL/SKIP lines, then "NAME: N passed, M failed"
# (summary); check-vm.sh judges a script by that line and its status.
# The benchmark's guest scripts use wait_attached.

# the series' debugfs counters (its optional counters patch)
F=/sys/kernel/debug/async_pgtable_free/stats
passed=0
failed=0
skipped=()

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped+=("$1"); }

# expect NAME DESC TEST...: one check, TEST as for [ ].
expect() {
	local name=$1 desc=$2
	shift 2
	if [ "$@" ] 2>/dev/null; then
		ok "$name"
	else
		fail "$name" "$desc"
	fi
}

# val FILE KEY: KEY's value in a "key value" or "key=value" file.
val() { sed -n "s/^$2[ =]//p" "$1"; }

# The drain is a work item: give it up to 10 s to empty the queue.
settle() {
	local i
	for i in $(seq 100); do
		[ "$(val $F pending_pages)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_attached PID ERRFILE: wait up to 30 s for kptwatch (PID, its
# stderr in ERRFILE) to say it is attached ("N links; coverage ..."); 1
# if it ended first or never said so.
wait_attached() {
	local i
	for i in $(seq 150); do
		grep -q ' links; coverage' "$2" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# summary NAME: the skipped checks and the closing line. The caller exits
# with $((failed > 0)) itself: in a bash EXIT trap a bare "exit" would
# return the status from before the trap.
summary() {
	[ ${#skipped[@]} -eq 0 ] || echo "$1: ${#skipped[@]} skipped: ${skipped[*]}"
	echo "$1: $passed passed, $failed failed"
}

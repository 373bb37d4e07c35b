#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scan-splats.sh [--ignore ERE]... [--quiet] FILE...
# scan-splats.sh --self-test
#
# Scan a kernel log (serial console capture or dmesg output, with or without
# printk timestamps, CRLF or LF) for reports that mean the kernel is unhappy,
# and print each one as a block. Exit 0 when the log is clean, 1 when it holds
# at least one splat, 2 on usage errors.
#
# A splat is a message (the text after the timestamp) that starts with:
#   WARNING: ...                    WARN_ON() in either the 6.x format
#                                   ("WARNING: CPU: 1 PID: 2 at file:line")
#                                   or the 7.x one ("WARNING: file:line at")
#   WARNING: possible circular ...  lockdep (also recursive, inconsistent lock
#                                   state, bad unlock balance, suspicious RCU
#                                   usage, held lock freed, ...)
#   BUG: KASAN: / BUG: KFENCE:      memory-safety reports
#   BUG: Bad page ... / Bad page    the page allocator caught a bad page
#   BUG: soft lockup                (also "watchdog: BUG: soft lockup")
#   BUG: ... / kernel BUG at        everything else BUG()-shaped
#   INFO: task X blocked for more than N seconds   hung task
#   INFO: rcu_* detected stall(s)   RCU stall
#   watchdog: Watchdog detected hard LOCKUP
#   Oops / general protection fault / Kernel panic - not syncing / UBSAN:
# Messages that merely contain such words ("RETBleed: WARNING: ..." at boot,
# "ACPI Warning: ...") are not splats.
#
# --ignore ERE drops splats whose first line matches ERE (use sparingly, for
# a known and understood report). --quiet prints only the summary line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

usage() {
	sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

self_test() {
	local f base want got rc pass=0 fail=0 out
	for f in "$here"/samples/*.log; do
		base=${f##*/}
		base=${base%.log}
		case "$base" in
		clean*) want=clean ;;
		splat-*)
			want=${base#splat-}
			want=${want%%-*}
			want=${want^^}
			;;
		*) continue ;;
		esac
		rc=0
		out=$("$0" "$f" 2>&1) || rc=$?
		got=$(sed -n 's/^scan-splats: .*: [0-9]* splat(s): \([A-Z_]*\).*/\1/p' <<<"$out" | head -n1)
		if [ "$want" = clean ] && [ $rc = 0 ]; then
			echo "ok scan-splats $base: clean"
			pass=$((pass + 1))
		elif [ "$want" != clean ] && [ $rc = 1 ] && [ "$got" = "$want" ]; then
			echo "ok scan-splats $base: detected $got"
			pass=$((pass + 1))
		else
			echo "FAIL scan-splats $base: wanted $want, got exit $rc kind '${got:-none}'"
			sed 's/^/  | /' <<<"$out"
			fail=$((fail + 1))
		fi
	done
	# --ignore must be able to waive a known report, and only that one.
	rc=0
	"$0" --quiet --ignore 'mm/vmalloc\.c:3301' "$here/samples/splat-warning.log" >/dev/null || rc=$?
	if [ $rc = 0 ]; then
		echo "ok scan-splats --ignore waives a matching report"
		pass=$((pass + 1))
	else
		echo "FAIL scan-splats --ignore did not waive the report (exit $rc)"
		fail=$((fail + 1))
	fi
	rc=0
	"$0" --quiet --ignore 'mm/vmalloc\.c:3301' "$here/samples/splat-kasan.log" >/dev/null || rc=$?
	if [ $rc = 1 ]; then
		echo "ok scan-splats --ignore leaves other reports alone"
		pass=$((pass + 1))
	else
		echo "FAIL scan-splats --ignore hid an unrelated report (exit $rc)"
		fail=$((fail + 1))
	fi
	echo "scan-splats self-test: $pass passed, $fail failed"
	[ $fail = 0 ]
}

ignore=
quiet=0
while [ $# -gt 0 ]; do
	case "$1" in
	--self-test) self_test; exit ;;
	--ignore)
		[ $# -ge 2 ] || usage
		ignore=${ignore:+$ignore|}$2
		shift 2
		;;
	--quiet) quiet=1; shift ;;
	-h | --help) sed -n '4,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage

status=0
for f in "$@"; do
	[ -r "$f" ] || { echo "scan-splats: $f: cannot read" >&2; exit 2; }
	awk -v file="$f" -v ignore="$ignore" -v quiet="$quiet" '
	# The message: drop CR, a syslog <N> prefix, the printk timestamp and
	# the caller id ("[  T123]" / "[  C1]") when the kernel adds one.
	function message(s) {
		sub(/\r+$/, "", s)
		sub(/^<[0-9]+>/, "", s)
		sub(/^\[ *[0-9]+\.[0-9]+\] ?/, "", s)
		sub(/^\[ *[CT][0-9]+\] ?/, "", s)
		return s
	}
	function stamp(s) {
		if (match(s, /^(<[0-9]+>)?\[ *[0-9]+\.[0-9]+\]/)) {
			s = substr(s, RSTART, RLENGTH)
			gsub(/[^0-9.]/, "", s)
			return s + 0
		}
		return -1
	}
	function kind(m) {
		if (m ~ /^BUG: KASAN: /) return "KASAN"
		if (m ~ /^BUG: KFENCE: /) return "KFENCE"
		if (m ~ /^(BUG: )?Bad page /) return "BAD_PAGE"
		if (m ~ /^(watchdog: )?BUG: soft lockup/) return "SOFT_LOCKUP"
		if (m ~ /^BUG: / || m ~ /^kernel BUG at /) return "BUG"
		if (m ~ /^WARNING: (possible (circular|recursive|irq)|inconsistent lock|bad unlock|suspicious RCU|held lock|lock held|Nested lock|Illegal lock)/ ||
		    m ~ /^WARNING: .*(still has locks held|lock order detected|-safe -> .*-unsafe)/) return "LOCKDEP"
		if (m ~ /^WARNING: /) return "WARNING"
		if (m ~ /^INFO: task .* blocked for more than [0-9]+ seconds/) return "HUNG_TASK"
		if (m ~ /^(rcu: )?INFO: rcu_[a-z_]+ (self-)?detected stall/) return "RCU_STALL"
		if (m ~ /^watchdog: Watchdog detected hard LOCKUP/) return "HARD_LOCKUP"
		if (m ~ /^(Oops|general protection fault|Unable to handle kernel)/) return "OOPS"
		if (m ~ /^Kernel panic - not syncing/) return "PANIC"
		if (m ~ /^UBSAN: /) return "UBSAN"
		return ""
	}
	{
		raw[NR] = $0
		sub(/\r+$/, "", raw[NR])
		msg[NR] = message($0)
		ts[NR] = stamp($0)
	}
	END {
		n = 0
		last = 0	# last line already printed in a block
		kinds = ""
		for (i = 1; i <= NR; i++) {
			k = kind(msg[i])
			if (k == "" || i <= last)
				continue
			if (ignore != "" && msg[i] ~ ignore)
				continue
			n++
			kinds = kinds (kinds == "" ? "" : " ") k
			# Start at the separator lines that open a report.
			s = i
			while (s - 1 > last && s > i - 3 &&
			       msg[s - 1] ~ /^(-+\[ cut here \]-+|=+|-+|)$/)
				s--
			# End at a closing marker, at a pause in the log (a report
			# is printed in one go), or after 80 lines.
			e = i
			# Lines without a timestamp in a stamped log are not the
			# kernel output (the guest init writes to the console too).
			for (j = i + 1; j <= NR && j <= i + 80; j++) {
				if (ts[i] >= 0 && ts[j] < 0)
					break
				if (ts[j] >= 0 && ts[j - 1] >= 0 && ts[j] - ts[j - 1] > 0.5)
					break
				e = j
				if (msg[j] ~ /^---\[ end / || msg[j] ~ /^={20,}$/ ||
				    msg[j] ~ /^Rebooting in /)
					break
			}
			last = e
			if (!quiet) {
				printf "--- splat %d: %s (%s line %d) ---\n", n, k, file, i
				for (j = s; j <= e; j++)
					print raw[j]
				printf "--- end of splat %d ---\n", n
			}
		}
		if (n > 0) {
			printf "scan-splats: %s: %d splat(s): %s\n", file, n, kinds
			exit 1
		}
		if (!quiet)
			printf "scan-splats: %s: clean\n", file
	}' "$f" || { rc=$?; [ $rc = 1 ] && status=1 || exit 2; }
done
exit $status

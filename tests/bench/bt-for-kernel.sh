#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bt-for-kernel.sh SCRIPT.bt [KALLSYMS]: print SCRIPT without the probe
# blocks the running kernel cannot give. A block starts with a line
# "kfunc:NAME" or "kretfunc:NAME" at column 0 and ends with the first "}"
# at column 0; it is dropped when NAME is no function in KALLSYMS (default
# /proc/kallsyms). bpftrace 0.17 fails on a probe on a missing function,
# and the kernels of the test bed name their enqueue points differently.
# The names dropped go to stderr.
set -euo pipefail
bt=${1:?usage: bt-for-kernel.sh SCRIPT.bt [KALLSYMS]}
ks=${2:-/proc/kallsyms}
awk -v ksyms="$ks" '
BEGIN {
	while ((getline l < ksyms) > 0) {
		split(l, f, " ")
		if (f[2] ~ /^[tTwW]$/)
			have[f[3]] = 1
	}
}
skip && /^}/ { skip = 0; next }
skip { next }
/^k(ret)?func:[A-Za-z0-9_]+[ \t]*$/ {
	name = $0
	sub(/^k(ret)?func:/, "", name)
	sub(/[ \t]+$/, "", name)
	if (!(name in have)) {
		print "bt-for-kernel: no " name " here: its probe is left out" > "/dev/stderr"
		skip = 1
		next
	}
}
{ print }
' "$bt"

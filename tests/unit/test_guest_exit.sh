#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest scripts whose summary an EXIT trap prints must exit 1 when a
# check failed: check-vm.sh judges them by their status. A bare "exit" in
# a bash EXIT trap returns the status from before the trap, not that of
# the test just above it, so a script that printed FAIL could exit 0.
# Each script is made to fail its first setup check on the host, where
# nothing it does to the system can happen (no module, no kptwatch run).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "  $l"; done; }

# run NAME SUMMARY_PREFIX CMD...: CMD must print FAIL, "PREFIX: 0 passed,
# 1 failed" and exit 1.
run() {
	local name=$1 prefix=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 1 ] && grep -q '^FAIL ' <<<"$out" &&
		grep -qx "$prefix: 0 passed, 1 failed" <<<"$out"; then
		ok "$name: a failed setup check exits 1"
	else
		nok "$name: a failed setup check" "wanted exit 1, a FAIL line and '$prefix: 0 passed, 1 failed'; got exit $rc:" \
			"$(head -c 400 <<<"$out")"
	fi
}

# no System.map in a build directory that does not exist
run guest-kptwatch.sh kptwatch "$top/tests/vm/guest-kptwatch.sh" "$tmp/no.ko" "$tmp/no-build"
# no kptwatch binary
KPTWATCH=$tmp/no-kptwatch run guest-robust.sh robust "$top/tests/vm/guest-robust.sh" \
	"$tmp/no.ko" "$tmp/no-build"
# the scripts of tests/vm/guest-lib.sh: no series counters on the host (nor,
# for guest-cpa-error.sh, fault injection)
run guest-check.sh kmod "$top/tests/kmod/guest-check.sh" "$tmp/no.ko"
run guest-deferral.sh deferral "$top/tests/vm/guest-deferral.sh" "$tmp/no.ko"
run guest-bootmem-remove.sh bootmem-remove "$top/tests/vm/guest-bootmem-remove.sh" "$tmp/no.ko" 0 0
run guest-cpa-error.sh cpa-error "$top/tests/vm/guest-cpa-error.sh" "$tmp/no.ko" "$tmp/no-build"

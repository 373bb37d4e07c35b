#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make STATIC=1: the binary check-unit builds with
# "make BUILD=build-static STATIC=1" is static (ldd: "not a dynamic
# executable", no PT_INTERP program header) and runs: --version and --help
# print what the dynamic build prints.
#
# Environment: KPTWATCH_STATIC (default build-static/kptwatch),
# KPTWATCH_BUILD (the dynamic build, default build).
set -u
S=${KPTWATCH_STATIC:-build-static/kptwatch}
K=${KPTWATCH_BUILD:-build}/kptwatch
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "  $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

if [ ! -x "$S" ]; then
	skip "static binary" "no $S (make BUILD=${S%/kptwatch} STATIC=1)"
	exit 0
fi

out=$(ldd "$S" 2>&1)
[[ $out == *"not a dynamic executable"* ]] && ok "ldd $S: not a dynamic executable" ||
	nok "ldd $S" "$out"

if command -v readelf >/dev/null; then
	out=$(readelf -lW "$S" 2>&1)
	grep -q 'INTERP' <<<"$out" && nok "no program interpreter" "$(grep -A1 INTERP <<<"$out")" ||
		ok "no program interpreter (readelf -l)"
else
	skip "no program interpreter" "no readelf"
fi

v=$("$S" --version); rc=$?
[ $rc = 0 ] && [[ $v == "kptwatch "* ]] && ok "$S --version: $v" || nok "$S --version" "rc=$rc $v"

h=$("$S" --help); rc=$?
if [ $rc = 0 ] && [[ $h == "Usage: kptwatch "* ]]; then
	if [ -x "$K" ] && [ "$h" != "$("$K" --help)" ]; then
		nok "$S --help is $K --help" "$(diff <("$K" --help) <(echo "$h") | head -5)"
	else
		ok "$S --help"
	fi
else
	nok "$S --help" "rc=$rc"
fi

# a usage error goes the same way as in the dynamic build
err=$("$S" frob 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] && [[ $err == kptwatch:* ]] && ok "$S frob: usage error, exit 2" || nok "$S frob" "rc=$rc $err"

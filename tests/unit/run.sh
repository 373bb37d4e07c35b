#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run unit test programs (and tests/unit/test_*.sh) and count their TAP
# lines: "ok N - name" passes, "not ok N - name" fails. A program that
# exits non-zero without a "not ok" line (a crash) counts as one failure.
# Ends with "unit: N passed, M failed"; exits 1 if anything failed.
set -u
cd "$(dirname "$0")/../.." || exit 2

pass=0
fail=0
tests=("$@")
for s in tests/unit/test_*.sh; do
	[ -e "$s" ] && tests+=("$s")
done

for t in "${tests[@]}"; do
	name=$(basename "$t")
	out=$("$t" 2>&1)
	rc=$?
	p=$(grep -c '^ok ' <<<"$out")
	f=$(grep -c '^not ok ' <<<"$out")
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*) echo "$name: $line" ;;
		"") ;;
		*) echo "$name:   $line" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: not ok - exited $rc without a failing test"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done

echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

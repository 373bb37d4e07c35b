#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run unit test programs (and tests/unit/test_*.sh) and count their TAP
# lines: "ok N - name" passes, "not ok N - name" fails. A program that
# exits non-zero without a "not ok" line (a crash) counts as one failure.
# Ends with "unit: N passed, M failed"; exits 1 if anything failed. The
# scripts run side by side; the output comes in the order they are given.
set -u
cd "$(dirname "$0")/../.." || exit 2

pass=0
fail=0
tests=("$@")
for s in tests/unit/test_*.sh; do
	[ -e "$s" ] && tests+=("$s")
done

# The scripts mostly wait (on sleeps, guests' fakes, BPF loads): start them
# all at once, each into its own file, and report in the usual order.
out_dir=$(mktemp -d) || exit 2
trap 'rm -rf "$out_dir"' EXIT
for i in "${!tests[@]}"; do
	case "${tests[$i]}" in
	*.sh) { "${tests[$i]}" >"$out_dir/$i.out" 2>&1; echo $? >"$out_dir/$i.rc"; } & ;;
	esac
done
for i in "${!tests[@]}"; do
	case "${tests[$i]}" in
	*.sh) ;;
	*) "${tests[$i]}" >"$out_dir/$i.out" 2>&1; echo $? >"$out_dir/$i.rc" ;;
	esac
done
wait

for i in "${!tests[@]}"; do
	name=$(basename "${tests[$i]}")
	out=$(cat "$out_dir/$i.out")
	rc=$(cat "$out_dir/$i.rc")
	p=$(grep -c '^ok ' <<<"$out")
	f=$(grep -c '^not ok ' <<<"$out")
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*) echo "$name: $line" ;;
		"") ;;
		*) echo "$name:   $line" ;;
		esac
	done <<<"$out"
	grep '^not ok ' <<<"$out" | sed "s/^/$name: /" >>"$out_dir/failed"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: not ok - exited $rc without a failing test" |
			tee -a "$out_dir/failed"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done

# again at the end, where a log cut to its last lines still shows them
[ -s "$out_dir/failed" ] && { echo "failed:"; cat "$out_dir/failed"; }
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kptwatch binary from the outside: help, version, usage errors and
# their exit codes, the privilege check. As root it also runs probe on
# the running kernel and checks that check agrees with it.
#
# The run loop is tested with build/kptwatch-test, the same sources built
# with KPT_TEST_HOOKS: with KPTWATCH_TEST_UNUSABLE=1 it runs on whatever
# attached (here: the page-free tracepoint). The shipped binary must not.
set -u
K=${KPTWATCH:-build/kptwatch}
KT=${KPTWATCH_TEST:-build/kptwatch-test}
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "  $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

if [ ! -x "$K" ]; then
	skip cli "no $K (run make)"
	exit 0
fi

out=$("$K" --version); rc=$?
[ $rc -eq 0 ] && [[ $out == "kptwatch "* ]] && ok version || nok version "rc=$rc out=$out"

out=$("$K" --help); rc=$?
long=$(awk 'length > 80' <<<"$out")
[ $rc -eq 0 ] && grep -q '^Examples:' <<<"$out" && [ -z "$long" ] && ok help ||
	nok help "rc=$rc" "$long"

out=$("$K" -v check --help); rc=$?
[ $rc -eq 0 ] && [[ $out == "Usage: kptwatch check "* ]] && grep -q -- --junit <<<"$out" &&
	! grep -q -- --interval <<<"$out" && [ -z "$(awk 'length > 80' <<<"$out")" ] &&
	ok "-v check --help: check's own help" || nok "-v check --help" "rc=$rc" "$out"

# usage errors: exit 2, exactly one line on stderr (matching $want if
# set), nothing on stdout
want=
usage() {
	local err out rc
	err=$("$K" "$@" 2>&1 >/dev/null); rc=$?
	out=$("$K" "$@" 2>/dev/null)
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && [[ $err == kptwatch:* ]] &&
		[ -z "$out" ] && [[ $err == *"$want"* ]]; then
		ok "usage error: ${*:-(no arguments)}"
	else
		nok "usage error: ${*:-(no arguments)}" "rc=$rc stderr=$err stdout=$out"
	fi
	want=
}
usage
usage frob
usage hist -i 10
usage hist -i 0s
usage hist -c 3
usage check --max bogus=1ms
usage check -d 1s -- true
usage probe --nope
usage trace -d -5s
usage check --max-pending-age 1x
want="at most 524288" usage check --max-pending 16777216
# an output file that cannot be written is refused before anything runs
want="kptwatch: --junit /nonexistent/dir/x.xml: No such file or directory"
usage check -d 1s --junit /nonexistent/dir/x.xml
want="--junit /tmp: Is a directory" usage check --junit /tmp -- true
want="kptwatch: --openmetrics /nonexistent/dir/x.prom: No such file or directory"
usage hist --openmetrics /nonexistent/dir/x.prom
want="--prom /tmp: Is a directory" usage check --prom /tmp -- true
want="--prom does not apply to 'probe'" usage probe --prom x.prom
want="--openmetrics does not apply to 'trace'" usage trace --openmetrics x.prom

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	err=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$K" probe 2>&1 >/dev/null); rc=$?
	msg="kptwatch: needs root (CAP_BPF and CAP_PERFMON): run with sudo"
	[ $rc -eq 2 ] && [ "$err" = "$msg" ] &&
		ok "not root" || nok "not root" "rc=$rc stderr=$err"
elif [ "$(id -u)" -ne 0 ]; then
	err=$("$K" probe 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] && [[ $err == *"needs root"* ]] && ok "not root" ||
		nok "not root" "rc=$rc $err"
else
	skip "not root" "no setpriv"
fi

if [ "$(id -u)" -ne 0 ]; then
	skip "probe on this kernel" "not root"
	exit $failed
fi

err=$("$K" probe --btf /nonexistent/vmlinux 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [ "$err" = "kptwatch: --btf /nonexistent/vmlinux: No such file or directory" ] &&
	ok "missing --btf file" || nok "missing --btf file" "rc=$rc $err"
err=$("$K" probe --btf /etc/passwd 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <<<"$err")" = 1 ] && [[ $err == *"/etc/passwd: no BTF in it"* ]] &&
	ok "--btf with no BTF in it" || nok "--btf with no BTF in it" "rc=$rc $err"

# The bases the loaded programs decode with, read back by the syscall
# program: whatever this host's layout, they are 1 GiB aligned kernel-half
# addresses; where the layout is unknown (no KALLSYMS_ALL, no System.map,
# like the build host) probe says so and why.
out=$("$K" probe --json 2>/dev/null)
lay=$(jq -r '[.loaded, .plan.layout.source, .plan.layout.vmemmap_base,
	.plan.layout.page_offset_base, .plan.layout.detail != ""] | @tsv' <<<"$out")
read -r loaded src vm po why <<<"$lay"
base_ok() { [[ $1 =~ ^0xff[0-9a-f]{14}$ ]] && [ $((${1} & 0x3fffffff)) = 0 ]; }
[ "$loaded" = true ] && base_ok "$vm" && base_ok "$po" && [ "$why" = true ] &&
	ok "probe reports the layout bases in use ($src: $vm, $po)" ||
	nok "probe reports the layout bases in use" "$lay"

err=$("$K" probe --system-map /nonexistent/System.map 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <<<"$err")" = 1 ] &&
	[[ $err == *"cannot read --system-map /nonexistent/System.map"* ]] &&
	ok "missing --system-map file" || nok "missing --system-map file" "rc=$rc $err"

out=$("$K" probe 2>&1); prc=$?
if [[ $prc =~ ^[023]$ ]] && grep -q '^shape: ' <<<"$out" &&
	grep -q "^verdict: .*(exit $prc)" <<<"$out"; then
	ok "probe on $(uname -r) (exit $prc)"
else
	nok "probe on $(uname -r)" "rc=$prc" "$out"
fi
"$K" probe --json | jq -e ".exit_code == $prc and (.plan.points | length) == 18" >/dev/null &&
	ok "probe --json" || nok "probe --json"

out=$("$K" -v probe 2>/dev/null); rc=$?
[ $rc -eq $prc ] && grep -q '^shape: ' <<<"$out" && ok "-v probe: options before the command" ||
	nok "-v probe" "rc=$rc" "$out"

# the test hook is not in the shipped binary
! grep -qa KPTWATCH_TEST_UNUSABLE "$K" && grep -qa KPTWATCH_TEST_UNUSABLE "$KT" &&
	ok "KPTWATCH_TEST_UNUSABLE only in $KT" || nok "KPTWATCH_TEST_UNUSABLE only in $KT"

# a kernel probe cannot watch must fail check the same way, at once,
# whatever the environment says
if [ $prc -eq 2 ]; then
	err=$(KPTWATCH_TEST_UNUSABLE=1 timeout 20 "$K" check -d 1s 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] && [[ $err == *"nothing to watch"* ]] &&
		ok "check refuses an unwatchable kernel" ||
		nok "check refuses an unwatchable kernel" "rc=$rc $err"
else
	out=$(timeout 20 "$K" check --json -- true); rc=$?
	jq -e ".exit_code == $rc and .command_run.exit_code == 0" <<<"$out" >/dev/null &&
		ok "check -- true (exit $rc)" || nok "check -- true" "rc=$rc" "$out"
fi

# The run loop, forced to run with whatever attached (at least the page
# free tracepoint): timers, the command, signals and every output format.
if [ ! -x "$KT" ]; then
	skip "run loop" "no $KT (make check-unit builds it)"
	exit $failed
fi
export KPTWATCH_TEST_UNUSABLE=1
K=$KT
junit=$(mktemp)
out=$(timeout 20 "$K" check -d 500ms --json --junit "$junit" 2>/dev/null); rc=$?
if [[ $rc =~ ^[013]$ ]] &&
	jq -e ".exit_code == $rc and .elapsed_ns >= 500000000" <<<"$out" >/dev/null &&
	xmllint --noout "$junit"; then
	ok "check -d 500ms --json --junit (exit $rc)"
else
	nok "check -d 500ms --json --junit" "rc=$rc" "$out"
fi
rm -f "$junit"

out=$(timeout 20 "$K" check --json -- sh -c 'exit 4' 2>/dev/null); rc=$?
[ $rc -eq 1 ] &&
	jq -e '.command_run.exit_code == 4 and .verdict == "failed"' <<<"$out" >/dev/null &&
	ok "check -- failing command: exit 1" || nok "check -- failing command" "rc=$rc" "$out"

out=$(timeout 20 "$K" check -- /nonexistent/cmd 2>/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "command could not run" <<<"$out" &&
	ok "check -- missing command: exit 1" ||
	nok "check -- missing command" "rc=$rc" "$out"

# hist -i --json: NDJSON, an interval per line with its drops, map_full
# and violations, then a summary
out=$(timeout 20 "$K" hist -i 200ms -c 3 --json 2>/dev/null); rc=$?
[ $rc -eq 0 ] && jq -s -e 'length == 4 and ([.[].event] == ["interval", "interval",
	"interval", "summary"]) and ([.[0:3][] | .drops, .map_full, .violations] | length == 9)
	and ([.[0:3][].interval] == [1, 2, 3]) and (.[0].metrics | length) == 6' \
	<<<"$out" >/dev/null && ok "hist -i 200ms -c 3 --json: NDJSON" ||
	nok "hist -i 200ms -c 3 --json" "rc=$rc" "$out"

# ... reading no map while attached (a map read makes the kernel skip
# kprobe programs on its CPU): each interval is a test run of the snapshot
# program, and the maps are read only once the links are gone
if command -v strace >/dev/null; then
	tr=$(mktemp)
	timeout 20 strace -f -e trace=bpf -o "$tr" "$K" hist -i 200ms -c 3 >/dev/null 2>&1
	rc=$?
	verdict=$(awk '/BPF_LINK_CREATE/ { runs = 0; lookups = 0; linked = 1 }
		linked && /BPF_PROG_TEST_RUN/ { runs++; if (lookups) bad = 1 }
		linked && /BPF_MAP_LOOKUP_ELEM/ { lookups++ }
		END { print (linked && !bad && runs >= 4 && lookups) ? "ok" : "bad", runs, lookups }' "$tr")
	[ $rc -eq 0 ] && [ "${verdict%% *}" = ok ] &&
		ok "hist -i: no map read while attached (test runs, map reads: ${verdict#* })" ||
		nok "hist -i: no map read while attached" "rc=$rc; after the last link: test runs, map reads: ${verdict#* }; wanted the walk and 3 snapshots, then the reads" \
			"$(grep -E 'LINK_CREATE|TEST_RUN|LOOKUP_ELEM' "$tr" | cut -c1-60 | tail -20)"
	rm -f "$tr"
else
	skip "hist -i: no map read while attached" "no strace"
fi

# ... and each line is there as its interval ends, not at exit
tmp=$(mktemp)
"$K" hist -i 200ms --json >"$tmp" 2>/dev/null & pid=$!
for i in $(seq 100); do
	lines=$(wc -l <"$tmp")
	[ "$lines" -ge 2 ] && break
	sleep 0.1
done
kill -0 $pid && running=yes || running=no
kill -INT $pid; wait $pid; rc=$?
[ "$lines" -ge 2 ] && [ $running = yes ] && [ $rc -eq 0 ] &&
	tail -1 "$tmp" | jq -e '.event == "summary"' >/dev/null &&
	ok "hist -i --json streams (2 lines while running)" ||
	nok "hist -i --json streams" "rc=$rc, $lines lines, running $running" "$(cat "$tmp")"
rm -f "$tmp"

out=$(timeout 20 "$K" hist -d 300ms 2>/dev/null); rc=$?
[ $rc -eq 0 ] && grep -q '^enq_to_free' <<<"$out" && [ -z "$(awk 'length > 80' <<<"$out")" ] &&
	ok "hist -d 300ms" || nok "hist -d 300ms" "rc=$rc" "$out"

# SIGINT ends trace with its summary; SIGTERM cuts check -- COMMAND short
tmp=$(mktemp)
"$K" trace --json >"$tmp" 2>/dev/null & pid=$!
sleep 2; kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 0 ] && tail -1 "$tmp" | jq -e '.event == "summary"' >/dev/null &&
	ok "trace ends on SIGINT with a summary" || nok "trace on SIGINT" "rc=$rc" "$(cat "$tmp")"
# the signal must come while COMMAND runs, or the test proves nothing
running() { for _ in $(seq 100); do pgrep -fx "$1" >/dev/null && return 0; sleep 0.1; done; false; }
# sleep times unique to this run: other test runs may be going on
s1=60.$$ s2=61.$$
"$K" check --json -- sleep $s1 >"$tmp" 2>/dev/null & pid=$!
running "sleep $s1"; started=$?
kill -TERM $pid; wait $pid; rc=$?
if [ $started -eq 0 ] && [ $rc -eq 3 ] &&
	jq -e '.interrupted and .command_run.status == "killed by TERM"' "$tmp" >/dev/null &&
	! pgrep -fx "sleep $s1" >/dev/null; then
	ok "check -- COMMAND on SIGTERM: exit 3, command stopped"
else
	nok "check -- COMMAND on SIGTERM" "rc=$rc started=$started" "$(cat "$tmp")"
fi
"$K" check --json -- sh -c "sleep $s2; true" >"$tmp" 2>/dev/null & pid=$!
running "sleep $s2"; started=$?
kill -TERM $pid; wait $pid; rc=$?
sleep 0.2
if [ $started -eq 0 ] && [ $rc -eq 3 ] && ! pgrep -fx "sleep $s2" >/dev/null; then
	ok "check -- sh -c 'sleep; true' on SIGTERM: the whole group stopped"
else
	nok "check -- sh -c 'sleep; true' on SIGTERM" "rc=$rc started=$started" \
		"$(pgrep -af "sleep $s2")"
	for p in $(pgrep -fx "sleep $s2"); do kill "$p"; done
fi

# the command's stdout must not get into the JSON document
err=$(timeout 20 "$K" check --json -- sh -c 'echo noise' 2>&1 >"$tmp"); rc=$?
if [[ $rc =~ ^[013]$ ]] && jq -e ".exit_code == $rc" "$tmp" >/dev/null &&
	grep -qx noise <<<"$err"; then
	ok "check --json -- sh -c 'echo noise': stdout is one JSON document, noise on stderr"
else
	nok "check --json -- sh -c 'echo noise'" "rc=$rc" "$(cat "$tmp")" "stderr: $err"
fi

# --junit /dev/stdout: the report follows the text on stdout, and COMMAND's
# output goes to stderr
err=$(timeout 20 "$K" check --junit /dev/stdout -- sh -c 'echo noise' 2>&1 >"$tmp"); rc=$?
if [[ $rc =~ ^[013]$ ]] && ! grep -q noise "$tmp" && grep -qx noise <<<"$err" &&
	grep -q '^verdict: ' "$tmp" && sed -n '/^<?xml/,$p' "$tmp" | xmllint --noout -; then
	ok "check --junit /dev/stdout: text, then the report; noise on stderr"
else
	nok "check --junit /dev/stdout" "rc=$rc" "$(cat "$tmp")" "stderr: $err"
fi

# --openmetrics and --prom: expositions tests/unit/om_check.awk (and
# promtool, where installed) accept. hist -i replaces the file at each
# interval: a reader that opened one still reads it whole after the next
# took its place, and the path has the last, the run's end with its
# pending pages.
om_check() { awk -v dialect="$1" -f tests/unit/om_check.awk "$2"; }
mdir=$(mktemp -d)
mask=$(umask)
umask 022
"$K" hist -i 200ms --prom "$mdir/k.prom" --openmetrics "$mdir/k.om" >/dev/null 2>&1 & pid=$!
umask "$mask"
for _ in $(seq 400); do [ -e "$mdir/k.prom" ] && break; sleep 0.05; done
exec 3<"$mdir/k.prom"
# the open file keeps its inode number: a new one at the path is a new file
ino=$(stat -L -c %i /dev/fd/3)
replaced=no
for _ in $(seq 400); do
	[ "$(stat -c %i "$mdir/k.prom")" != "$ino" ] && replaced=yes && break
	sleep 0.05
done
kill -INT $pid; wait $pid; rc=$?
first=$(cat <&3); exec 3<&-
left=$(find "$mdir" -name '.*' -type f)
if [ $rc -eq 0 ] && [ $replaced = yes ] && [ -z "$left" ] &&
	[ "$(stat -c %a "$mdir/k.prom")" = 644 ] &&
	om_check prometheus "$mdir/k.prom" && om_check openmetrics "$mdir/k.om" &&
	om_check prometheus <(echo "$first") && ! grep -q '^kptwatch_pending_pages' <<<"$first" &&
	grep -q '^kptwatch_pending_pages 0$' "$mdir/k.prom" &&
	grep -q '^kptwatch_run_info{command="hist",' "$mdir/k.prom" && tail -1 "$mdir/k.om" |
	grep -qx '# EOF'; then
	ok "hist -i 200ms --prom --openmetrics: replaced whole at each interval, 0644"
else
	nok "hist -i --prom --openmetrics" "rc=$rc replaced=$replaced left: $left" \
		"first: $first" "$(om_check prometheus "$mdir/k.prom")" \
		"$(om_check openmetrics "$mdir/k.om")"
fi
promtool=${PROMTOOL:-$(command -v promtool)}
if [ -n "$promtool" ]; then
	err=$("$promtool" check metrics <"$mdir/k.prom" 2>&1); rc=$?
	[ $rc -eq 0 ] && [ -z "$err" ] && ok "promtool check metrics: no problem" ||
		nok "promtool check metrics" "rc=$rc" "$err"
else
	skip "promtool check metrics" "no promtool (PROMTOOL=FILE)"
fi

out=$(timeout 20 "$K" check -d 500ms --openmetrics "$mdir/c.om" 2>/dev/null); rc=$?
res=$(case $rc in 0) echo clean ;; 1) echo failed ;; *) echo incomplete ;; esac)
[[ $rc =~ ^[013]$ ]] && om_check openmetrics "$mdir/c.om" &&
	grep -qx "kptwatch_verdict{result=\"$res\"} 1" "$mdir/c.om" &&
	[ "$(grep -c '^kptwatch_verdict{.*} 1$' "$mdir/c.om")" = 1 ] &&
	ok "check -d 500ms --openmetrics: the verdict $res (exit $rc) as a gauge" ||
	nok "check --openmetrics" "rc=$rc" "$(cat "$mdir/c.om")"

# --prom /dev/stdout: after the text, and COMMAND's output goes to stderr
err=$(timeout 20 "$K" check --prom /dev/stdout -- sh -c 'echo noise' 2>&1 >"$tmp"); rc=$?
if [[ $rc =~ ^[013]$ ]] && ! grep -q noise "$tmp" && grep -qx noise <<<"$err" &&
	grep -q '^verdict: ' "$tmp" &&
	om_check prometheus <(sed -n '/^# HELP kptwatch_run_info /,$p' "$tmp"); then
	ok "check --prom /dev/stdout: text, then the exposition; noise on stderr"
else
	nok "check --prom /dev/stdout" "rc=$rc" "$(cat "$tmp")" "stderr: $err"
fi
rm -rf "$mdir"
rm -f "$tmp"
exit $failed

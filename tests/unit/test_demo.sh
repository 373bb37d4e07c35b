#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo.sh (make demo) without building or booting anything: its
# arguments and exit codes, the plan it prints from a fake cache, the cache
# key it computes (against the real cache when that holds a built entry),
# the progress display fed a fake kernel build log, and the summary and
# its exit status from saved outputs. The demo itself (kernel build, QEMU)
# is not run here.
set -u
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "  $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TOP=$PWD
KPTWATCH_CACHE=$tmp/cache
export KPTWATCH_CACHE
. scripts/demo-lib.sh

# has TEXT WANTED...: every WANTED substring is in TEXT
has() {
	local t=$1 w
	shift
	for w in "$@"; do
		[[ $t == *"$w"* ]] || return 1
	done
}

# --- arguments ---
out=$(scripts/demo.sh --help); rc=$?
[ $rc = 0 ] && has "$out" "Exit status" "--cached-only" && [ "$(head -n1 <<<"$out")" = "demo.sh [OPTIONS]          (make demo)" ] &&
	ok "--help" || nok "--help" "rc=$rc" "$(head -n3 <<<"$out")"
for args in "--frob" "--entry" "--entry 9.9" "--bug nonsense" "--out"; do
	# shellcheck disable=SC2086
	err=$(scripts/demo.sh $args 2>&1 >/dev/null); rc=$?
	[ $rc = 2 ] && [[ $err == demo.sh:* ]] && ok "usage error, exit 2: $args" ||
		nok "usage error: $args" "rc=$rc $err"
done
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	# from a copy in a directory uid 65534 can reach: a clone under /root
	# (as CI's is) is not, and demo.sh would stop at its first cd
	nr=$tmp/nonroot
	mkdir -p "$nr/scripts"
	cp scripts/demo.sh scripts/demo-lib.sh "$nr/scripts/"
	chmod 755 "$tmp" "$nr" "$nr/scripts"
	err=$(cd "$nr" && setpriv --reuid=65534 --regid=65534 --clear-groups scripts/demo.sh --no-deps 2>&1 >/dev/null); rc=$?
	[ $rc = 3 ] && [[ $err == *"run as root"* ]] && ok "not root: exit 3" || nok "not root" "rc=$rc $err"
else
	skip "not root: exit 3" "not root, or no setpriv"
fi

# --- the plan, from a fake cache ---
out=$(scripts/demo.sh --dry-run --no-bug); rc=$?
[ $rc = 0 ] && has "$out" "make deps" "fixed kernel 6.12-patched: not cached: build, 20-40 min" "no buggy kernel" &&
	ok "dry run, empty cache: build 6.12-patched, 20-40 min" || nok "dry run, empty cache" "rc=$rc" "$out"

src=$KPTWATCH_CACHE/src/linux-source-6.12-6.12.117-1
mkdir -p "$src"
echo 6.12.117-1 >"$src/.debian-version"
touch "$src/.extracted"
key=$(cache_key 6.12-patched "$src")
old=$KPTWATCH_CACHE/build/6.12-patched-0123456789ab
mkdir -p "$old" "$KPTWATCH_CACHE/build/6.12-patched-debug-0123456789ab"
echo 1233 >"$old/build-seconds"
seq 1000 | sed 's/^/  CC      f/; s/$/.o/' >"$old/build.log"
echo 99999 >"$KPTWATCH_CACHE/build/6.12-patched-debug-0123456789ab/build-seconds"
out=$(scripts/demo.sh --dry-run --no-deps --bug 6.12); rc=$?
[ $rc = 0 ] && has "$out" "(no make deps)" "fixed kernel 6.12-patched: not cached: build, about 20 min 33 s (the last 6.12-patched build)" \
	"buggy kernel 6.12: not cached: build, 20-40 min" &&
	ok "dry run: the estimate from the last build of the entry (not of -debug), none for 6.12" || nok "dry run estimate" "rc=$rc" "$out"

new=$KPTWATCH_CACHE/build/6.12-patched-$key
mkdir -p "$new"
touch "$new/.built"
out=$(scripts/demo.sh --dry-run --no-deps); rc=$?
# by default the first mutant (tests/vm/mutants/), else 6.12 if cached
m=$(ls tests/vm/mutants/*.patch 2>/dev/null | sort | head -n1)
if [ -n "$m" ]; then
	want="buggy kernel 6.12-patched + $m: not cached: build, about 20 min 33 s (the last 6.12-patched build)"
else
	want="buggy kernel 6.12: not cached: skipped (--build-bug builds it)"
fi
[ $rc = 0 ] && has "$out" "fixed kernel 6.12-patched: cached in $new" "$want" &&
	ok "dry run: cached entry found by its key; ${m:-uncached 6.12 skipped}" || nok "dry run cached" "rc=$rc" "$out"

mkdir -p "$tmp/mut"
echo "--- a/x" >"$tmp/mut/seeded.patch"
out=$(scripts/demo.sh --dry-run --no-deps --bug "$tmp/mut/seeded.patch"); rc=$?
[ $rc = 0 ] && has "$out" "buggy kernel 6.12-patched + $tmp/mut/seeded.patch: not cached: build, about 20 min 33 s (the last 6.12-patched build)" &&
	ok "dry run: a mutant patch on top of the entry, estimated from its base" || nok "dry run mutant" "rc=$rc" "$out"

# the key is build-kernel.sh's: both take an entry's inputs from
# entry_inputs (tests/vm/lib.sh). What it gives each kind of entry, and
# the key over exactly those files. (This compared with the real cache
# before, which failed whenever the cache kept a build of older patches.)
inputs() (
	. tests/vm/lib.sh
	entry_inputs "$1" || exit
	echo "${fragments[*]##*/} | ${#patches[@]}"
)
np=$(ls patches/linux-6.12/*.patch | wc -l)
[ "$(inputs 6.12)" = "base.config | 0" ] && [ "$(inputs 6.12-patched)" = "base.config | $np" ] &&
	[ "$(inputs 6.12-patched-nokallsyms)" = "base.config nokallsyms.config | $np" ] &&
	[ "$(inputs 7.3-debug)" = "base.config debug.config | 0" ] &&
	[ "$(inputs 6.12-patched-debug-kaslr 2>/dev/null)" = "base.config debug.config kaslr.config | $np" ] &&
	! inputs 6.12-debug-nokallsyms >/dev/null 2>&1 && ! inputs 6.12-frob >/dev/null 2>&1 &&
	ok "entry_inputs: fragments and patches per entry; a bad entry refused" ||
	nok "entry_inputs" "$(inputs 6.12-patched-nokallsyms)"
want=$( . tests/vm/lib.sh; cache_key "$src" tests/vm/config/base.config tests/vm/config/nokallsyms.config patches/linux-6.12/*.patch)
[ "$(cache_key 6.12-patched-nokallsyms "$src")" = "$want" ] &&
	[ "$(cache_key 6.12-patched-nokallsyms "$src")" != "$(cache_key 6.12-patched "$src")" ] &&
	ok "cache_key 6.12-patched-nokallsyms: over its fragments and the series, in order" ||
	nok "cache_key nokallsyms" "$(cache_key 6.12-patched-nokallsyms "$src") != $want"

# --- progress ---
log=$tmp/build.log
printf '  CC      mm/vmalloc.o\n  LD [M]  fs/x.ko\n  AR      lib/lib.a\n' >"$log"
l=$(progress_line "kernel 6.12-patched: building" 300 1200 6.12-patched "$log" 0)
[ "$l" = "kernel 6.12-patched: building: 5 min 00 s, about 15 min left (last 6.12-patched build: 20 min); AR lib/lib.a" ] &&
	ok "progress: estimate from the clock, last action from the log" || nok "progress clock" "$l"
seq 497 >>"$log"
l=$(progress_line "k: building" 300 1200 x "$log" 1000)
has "$l" "about 5 min left" ", ~50%" && ok "progress: estimate from the log's length" ||
	nok "progress log length" "$l"
l=$(progress_line "k: building" 1500 1200 x "$log" 0)
has "$l" "25 min 00 s, past the last x build's 20 min" &&
	ok "progress: past the estimate" || nok "progress past" "$l"
l=$(progress_line "k: configuring" 10 0 none /nonexistent 0)
[ "$l" = "k: configuring: 10 s, a cold build takes 20-40 min" ] &&
	ok "progress: no earlier build: 20-40 min" || nok "progress fixed" "$l"
[ "$(fmt_dur 3725)" = "1 h 02 min" ] && [ "$(fmt_dur 59)" = "59 s" ] && ok "fmt_dur" || nok fmt_dur

# watch_build on a fake build: a line per tick off a terminal, the step and
# the log build-kernel.sh names, the job's exit status. The fake moves on
# when watch_build has reported its step (seen: at most a minute), so the
# ticks land in each step whatever the machine's load.
steplog=$tmp/step.log
klog=$tmp/k/build.log
mkdir -p "$tmp/k"
seen() {
	for _ in $(seq 600); do
		grep -q "$1" "$tmp/watch.out" 2>/dev/null && return
		sleep 0.1
	done
}
(
	echo "build-kernel.sh: 6.12-patched: configuring (allnoconfig + base.config)" >>"$steplog"
	seen "configuring: "
	echo "build-kernel.sh: 6.12-patched: building bzImage and modules (log: $klog)" >>"$steplog"
	echo "  CC      kernel/fork.o" >>"$klog"
	seen "; CC kernel/fork.o"
	exit 7
) &
KPTWATCH_DEMO_TICK=1 watch_build $! "kernel 6.12-patched" 6.12-patched "$steplog" >"$tmp/watch.out"
rc=$?
out=$(cat "$tmp/watch.out")
lines=$(wc -l <<<"$out")
[ $rc = 7 ] && [ "$lines" -ge 2 ] && has "$out" "kernel 6.12-patched: configuring: " \
	"kernel 6.12-patched: building: " "; CC kernel/fork.o" "about 21 min left (last 6.12-patched build: 21 min)" &&
	ok "watch_build: $lines progress lines, the steps, the log's last action, exit 7 passed on" ||
	nok "watch_build" "rc=$rc" "$out"

# --- the summary from saved outputs ---
saved() { # saved DIR key=value... ; check.txt from stdin
	mkdir -p "$1"
	cat >"$1/check.txt"
	local d=$1
	shift
	printf '%s\n' "$@" >"$d/result"
}
S=$tmp/demo
printf 'counters:\n  queued 264  freed_ok 264  violation 0\n  map_full 0\nverdict: clean (exit 0)\n' |
	saved "$S/fixed" label="the fixed kernel" entry=6.12-patched expect=clean run_rc=0 check_rc=0 hist_rc=0 \
		hotplug=removed "workload=vmap_pmd 32, hot-remove of a 512M DIMM"
# the lines as kptwatch check printed them on 7.3 (a hot-remove caught)
{
	for i in 1 2; do
		echo "2.844057     1   11      kworker/u8:0    violation       pfn 0x2f0$i order 0 from pmd_free_pte_page after 419us: NOT FLUSHED"
		echo "             freed by:"
	done
	echo "2.844057     1   11      kworker/u8:0    violation       pfn 0x2f0f order 0 from free_pagetable after 419us: NOT FLUSHED"
	printf 'counters:\n  queued 10  freed_ok 0  violation 545\nfail       545 page(s) reached the allocator before an IOMMU flush\nverdict: failed (exit 1)\n'
} |
	saved "$S/buggy" label="the buggy kernel" entry=6.12 expect=violation run_rc=0 check_rc=1 hotplug=removed workload=w
mkdir -p "$S/logs"
out=$(scripts/demo.sh --summary --out "$S"); rc=$?
[ $rc = 0 ] && has "$out" "PASS  the fixed kernel (6.12-patched)" "clean: 264 pages queued, 264 freed after an IOMMU flush, 0 violations" \
	"PASS  the buggy kernel (6.12)" "the bug was caught: 545 pages freed before an IOMMU flush that covers them (freed by: pmd_free_pte_page 2, free_pagetable 1)" \
	"watched: vmap_pmd 32, hot-remove of a 512M DIMM; memory hot-remove: removed" "outputs: $S/fixed/" &&
	ok "summary: clean fixed kernel, caught bug: exit 0" || nok "summary pass" "rc=$rc" "$out"

sed -i 's/^check_rc=1/check_rc=0/' "$S/buggy/result"
out=$(scripts/demo.sh --summary --out "$S"); rc=$?
[ $rc = 1 ] && has "$out" "FAIL  the buggy kernel" "the seeded bug was not caught" &&
	ok "summary: a bug not caught: exit 1" || nok "summary bug missed" "rc=$rc" "$out"

# a mutant caught by range: range_violation lines and counter
cp "$S/buggy/check.txt" "$tmp/buggy-check.txt"
printf '%s\n' "2.1  0  9  kworker/0:1  range_violation pfn 0x1 order 0 from kernel_pgtable_async_free after 1ms: range 0x0-0x1" \
	'counters:' '  queued 3  freed_ok 1  violation 0  range_violation 2' 'verdict: failed (exit 1)' >"$S/buggy/check.txt"
sed -i 's/^check_rc=0/check_rc=1/' "$S/buggy/result"
out=$(scripts/demo.sh --summary --out "$S"); rc=$?
[ $rc = 0 ] && has "$out" "PASS  the buggy kernel" "the bug was caught: 2 pages freed before an IOMMU flush that covers them (freed by: kernel_pgtable_async_free 1)" &&
	ok "summary: range violations catch a bug too" || nok "summary range violation" "rc=$rc" "$out"
cp "$tmp/buggy-check.txt" "$S/buggy/check.txt"

sed -i 's/^check_rc=0/check_rc=1/' "$S/buggy/result"
cp "$S/buggy/check.txt" "$S/fixed/check.txt"
sed -i 's/^check_rc=0/check_rc=1/' "$S/fixed/result"
out=$(scripts/demo.sh --summary --out "$S"); rc=$?
[ $rc = 1 ] && has "$out" "FAIL  the fixed kernel" \
	"545 page(s) reached the allocator before an IOMMU flush (freed by: pmd_free_pte_page 2, free_pagetable 1)" &&
	ok "summary: violations on the fixed kernel: the reason and the paths, exit 1" || nok "summary fixed violations" "rc=$rc" "$out"

echo "incomplete 3 ring buffer drops" >>"$S/fixed/check.txt"
sed -i 's/^check_rc=1/check_rc=3/' "$S/fixed/result"
out=$(scripts/demo.sh --summary --out "$S"); rc=$?
[ $rc = 1 ] && has "$out" "FAIL  the fixed kernel" "verdict incomplete: 545 page(s) reached the allocator before an IOMMU flush; 3 ring buffer drops" &&
	ok "summary: incomplete verdict on the fixed kernel: its reasons, exit 1" ||
	nok "summary incomplete" "rc=$rc" "$out"

sed -i 's/^run_rc=0/run_rc=123/' "$S/fixed/result"
out=$(scripts/demo.sh --summary --out "$S"); rc=$?
[ $rc = 5 ] && has "$out" "ERROR the fixed kernel" "the kernel log has a splat" && ok "summary: a splat: exit 5" ||
	nok "summary splat" "rc=$rc" "$out"

out=$(scripts/demo.sh --summary --out "$tmp/empty"); rc=$?
[ $rc = 4 ] && has "$out" "nothing was run" && ok "summary of nothing: exit 4" || nok "summary nothing" "rc=$rc" "$out"

[ "$(counters /nonexistent)" = "queued 0 freed_ok 0 violation 0 range_violation 0" ] && ok "counters of a missing file: zeros" ||
	nok "counters missing"

# the terminal's view of a check with many violations
{
	seq 100 | sed 's/^/violation line /'
	echo
	printf 'enq_to_free: count 3  avg 1.0us  p50 1.0us  p90 1.0us  p99 2.0us  max 2.0us\n'
	printf '     nsecs        : count    distribution\ncounters:\n  queued 3  freed_ok 0  violation 3\nverdict: violation (exit 1)\n'
} >"$tmp/check.txt"
out=$(short_check "$tmp/check.txt" 5)
[ "$(head -n 6 <<<"$out" | tail -n 1)" = "[... 96 more lines of violation reports: all in check.txt ...]" ] &&
	[ "$(tail -n 1 <<<"$out")" = "verdict: violation (exit 1)" ] && [ "$(wc -l <<<"$out")" = 12 ] &&
	ok "short_check: 5 violation lines, a note, histograms to the verdict" || nok short_check "$out"
[ "$(hist_figures "$tmp/check.txt" enq_to_free)" = "count 3  avg 1.0us  p50 1.0us  p90 1.0us  p99 2.0us  max 2.0us" ] &&
	ok "hist_figures enq_to_free" || nok hist_figures "$(hist_figures "$tmp/check.txt" enq_to_free)"

# --- the whole run, with the test bed replaced by fakes ---
# Fake build-kernel.sh: the step lines, a build.log that grows, a build
# directory; FAKE_BUILD_FAIL=ENTRY fails that one. Fake run.sh: what
# demo-guest.sh leaves in the share (outputs and result) for a clean run on
# *-patched without a patch, a caught bug otherwise; FAKE_RUN_RC overrides
# its status. Fake make: nothing to do.
fake=$tmp/fake
mkdir -p "$fake"
cat >"$fake/build-kernel.sh" <<'EOF'
#!/usr/bin/env bash
name=$1; [ "$1" = --patch ] && name=$3+mut
d=$FAKE_DIR/build/$name
mkdir -p "$d"
echo "build-kernel.sh: $name: configuring (allnoconfig + base.config)" >&2
echo "build-kernel.sh: $name: building bzImage and modules (log: $d/build.log)" >&2
for i in 1 2 3 4; do echo "  CC      mm/file$i.o" >>"$d/build.log"; done
# FAKE_SLOW's build lasts until the demo has shown its progress (FAKE_LOG
# is the demo's output): by the demo's own clock, never by the machine's
# load. A minute without it and the test fails on the missing line.
if [ "$name" = "${FAKE_SLOW:-}" ]; then
	for _ in $(seq 600); do
		grep -q '; CC mm/file' "$FAKE_LOG" 2>/dev/null && break
		sleep 0.1
	done
fi
[ "${FAKE_BUILD_FAIL:-}" = "$name" ] && { echo "make: *** error" >&2; exit 2; }
echo "build-kernel.sh: $name: built in 2 s" >&2
echo "$d"
EOF
cat >"$fake/kmod-build.sh" <<'EOF'
#!/usr/bin/env bash
echo "$1/kmod/kptwatch_test.ko"
EOF
cat >"$fake/run.sh" <<'EOF'
#!/usr/bin/env bash
patch= stats=
while [ $# -gt 0 ]; do
	case "$1" in
	--patch) patch=$2; shift 2 ;;
	--stats) stats=$2; shift 2 ;;
	--*) shift ;;
	*) entry=$1; break ;;
	esac
done
run=$FAKE_DIR/run-$RANDOM
mkdir -p "$run/share/demo"
echo "run_dir=$run" >"$stats"
echo "run.sh: boot time 4.7 s" >&2
if [ -z "$patch" ] && [[ $entry == *-patched* ]]; then
	printf 'counters:\n  queued 745  freed_ok 745  violation 0\nverdict: clean (exit 0)\n' >"$run/share/demo/check.txt"
	rc=0
else
	printf 'violation pfn 0x1\ncounters:\n  queued 0  freed_ok 0  violation 545\nverdict: violation (exit 1)\n' >"$run/share/demo/check.txt"
	rc=1
fi
cat "$run/share/demo/check.txt"
printf 'hist_rc=0\nworkload=vmap_pmd 32\ncheck_rc=%s\nhotplug=removed\n' $rc >"$run/share/demo/result"
exit "${FAKE_RUN_RC:-0}"
EOF
chmod +x "$fake"/*.sh
# Builds take no time but FAKE_SLOW's, whose progress lines are checked.
demo() {
	env -u MAKEFLAGS -u MAKELEVEL FAKE_DIR="$fake" \
		KPTWATCH_CACHE="$tmp/cache2" KPTWATCH_DEMO_TICK=1 \
		KPTWATCH_DEMO_BUILD_KERNEL="$fake/build-kernel.sh" KPTWATCH_DEMO_KMOD_BUILD="$fake/kmod-build.sh" \
		KPTWATCH_DEMO_RUN="$fake/run.sh" KPTWATCH_DEMO_MAKE=true "$@"
}
if [ "$(id -u)" != 0 ]; then
	skip "demo.sh end to end with fakes" "not root"
else
	# the runs with nothing cached are independent: side by side, each
	# into its own output directory and log
	# bg NAME VAR=VALUE|- DEMO-ARGS...: a run in a subshell of its own
	bg() {
		local n=$1 v=$2
		shift 2
		(
			[ "$v" = - ] || export "${v?}"
			export FAKE_LOG=$tmp/$n.log
			demo scripts/demo.sh "$@" >"$tmp/$n.log" 2>&1
			echo $? >"$tmp/$n.rc"
		) &
	}
	bg out1 FAKE_SLOW=6.12-patched --no-deps --bug 6.12 --out "$tmp/out1"
	bg out2 - --no-deps --bug "$tmp/mut/seeded.patch" --out "$tmp/out2"
	bg out3 FAKE_RUN_RC=124 --no-deps --no-bug --out "$tmp/out3"
	bg out4 FAKE_BUILD_FAIL=6.12-patched --no-deps --out "$tmp/out4"
	bg out5 - --no-deps --cached-only --out "$tmp/out5"
	wait
	res() { out=$(cat "$tmp/$1.log"); rc=$(cat "$tmp/$1.rc"); }
	o=$tmp/out1
	res out1
	if [ $rc = 0 ] && has "$out" "fixed kernel 6.12-patched: not cached, building" \
		": building: " "a cold build takes 20-40 min" "; CC mm/file" \
		"PASS  the fixed kernel (6.12-patched)" "PASS  the buggy kernel (6.12)" \
		"745 pages queued, 745 freed" "545 pages freed before an IOMMU flush that covers them" "== On your own machine" &&
		[ -f "$o/fixed/check.txt" ] && [ -f "$o/buggy/check.txt" ] && [ -f "$o/fixed/guest.log" ] &&
		[ -f "$o/logs/kernel-6.12.log" ]; then
		ok "demo.sh end to end (fakes): progress, both kernels judged, outputs saved, exit 0"
	else
		nok "demo.sh end to end (fakes)" "rc=$rc" "$out"
	fi
	res out2
	[ $rc = 0 ] && has "$out" "PASS  the buggy kernel (6.12-patched + $tmp/mut/seeded.patch)" &&
		ok "demo.sh with a mutant patch (fakes)" || nok "demo.sh mutant" "rc=$rc" "$out"
	res out3
	[ $rc = 5 ] && has "$out" "ERROR the fixed kernel" "the guest timed out" &&
		ok "demo.sh: a guest timeout is exit 5" || nok "demo.sh timeout" "rc=$rc" "$out"
	res out4
	[ $rc = 4 ] && has "$out" "building fixed kernel 6.12-patched failed" "make: *** error" &&
		ok "demo.sh: a kernel build failure is exit 4" || nok "demo.sh build failure" "rc=$rc" "$out"
	res out5
	[ $rc = 4 ] && has "$out" "not cached and --cached-only" &&
		ok "demo.sh --cached-only, nothing cached: exit 4" || nok "demo.sh --cached-only" "rc=$rc" "$out"
	# the fixed kernel in the (fake) cache, the buggy one not
	src=$tmp/cache2/src/linux-source-6.12-6.12.117-1
	mkdir -p "$src"
	echo 6.12.117-1 >"$src/.debian-version"
	touch "$src/.extracted"
	mkdir -p "$tmp/cache2/build/6.12-patched-$(cache_key 6.12-patched "$src")"
	touch "$tmp/cache2/build/6.12-patched-$(cache_key 6.12-patched "$src")/.built"
	out=$(demo scripts/demo.sh --no-deps --cached-only --bug 6.12 --out "$tmp/out7" 2>&1); rc=$?
	[ $rc = 0 ] && has "$out" "fixed kernel 6.12-patched: cached in" "skipped: not cached, and --cached-only was given" \
		"PASS  the fixed kernel" && ok "demo.sh --cached-only: the cached fixed kernel runs, the buggy one is skipped" ||
		nok "demo.sh --cached-only, fixed cached" "rc=$rc" "$out"
	out=$(demo scripts/demo.sh --no-deps --out "$tmp/out6" 2>&1); rc=$?
	m=$(ls tests/vm/mutants/*.patch 2>/dev/null | sort | head -n1)
	if [ -n "$m" ]; then
		[ $rc = 0 ] && has "$out" "PASS  the buggy kernel (6.12-patched + $m)" &&
			ok "demo.sh: by default the first mutant, $m" || nok "demo.sh default mutant" "rc=$rc" "$out"
	else
		[ $rc = 0 ] && has "$out" "skipped: no mutant in tests/vm/mutants/, and 6.12 is not cached" &&
			ok "demo.sh: no mutant, 6.12 not cached: the bug part skipped, said so" ||
			nok "demo.sh skip bug" "rc=$rc" "$out"
	fi
fi

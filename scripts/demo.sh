#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [OPTIONS]          (make demo)
#
# kptwatch doing its job, on a fresh Debian machine, as root:
#
#  1. make deps, make: the packages, kptwatch, its man page;
#  2. the 6.12 kernel with our series (tests/vm/build-kernel.sh
#     6.12-patched; cached after the first time) and the test module
#     (tests/kmod/build.sh), with progress while they build;
#  3. boots it (tests/vm/run.sh --hotplug) and runs scripts/demo-guest.sh:
#     kptwatch probe, hist during module churn, and check around a workload
#     of page-table frees plus a memory hot-remove: histograms and a verdict,
#     which must be clean;
#  4. the same on a kernel with an ordering bug: a mutant from
#     tests/vm/mutants/ on top of 6.12-patched, else 6.12 as shipped if it is
#     cached (everything there is a violation), which must be caught;
#  5. a summary, and how to do the same on your own machine.
#
# Everything is saved under build/demo/ (OUT): one directory per kernel with
# probe.txt, hist.txt, check.txt, check.xml (JUnit), guest.log, run.log,
# result; logs/ with the build logs.
#
# Options:
#   --entry ENTRY      the fixed kernel (default 6.12-patched)
#   --bug ENTRY|FILE   the buggy kernel: a matrix entry, or a patch applied on
#                      top of --entry (default: the first tests/vm/mutants/*.patch,
#                      else 6.12 if cached, else none)
#   --build-bug        build the buggy kernel even when it is not cached
#   --no-bug           only the fixed kernel
#   --no-deps          do not run make deps
#   --cached-only      never build a kernel: stop (exit 4) if the fixed one is
#                      not cached, skip the buggy one if it is not
#   --out DIR          where to save the outputs (default build/demo)
#   --summary          print the summary of the outputs saved in OUT, and exit
#   -n, --dry-run      say what would be done (and what is cached), and exit
#   -h, --help
#
# Exit status: 0 the fixed kernel was clean and the bug caught (or no buggy
# kernel was available, said so); 1 a verdict was not what it should be;
# 2 usage; 3 setup failed (not root, make deps, building kptwatch);
# 4 a kernel or module build failed, or --cached-only and not cached;
# 5 a guest run failed (boot, splat, timeout); 130 interrupted.
#
# Environment: KPTWATCH_CACHE (the test bed's cache), KPTWATCH_DEMO_TICK
# (seconds between progress lines), KPTWATCH_DEMO_CHURN_SECS (demo-guest.sh).
# For tests/unit/test_demo.sh: KPTWATCH_DEMO_{BUILD_KERNEL,KMOD_BUILD,RUN,MAKE}
# replace tests/vm/build-kernel.sh, tests/kmod/build.sh, tests/vm/run.sh, make.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 3
KPTWATCH_CACHE=${KPTWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kptwatch}
export KPTWATCH_CACHE
. "$TOP/scripts/demo-lib.sh"
build_kernel_cmd=${KPTWATCH_DEMO_BUILD_KERNEL:-tests/vm/build-kernel.sh}
kmod_build_cmd=${KPTWATCH_DEMO_KMOD_BUILD:-tests/kmod/build.sh}
run_cmd=${KPTWATCH_DEMO_RUN:-tests/vm/run.sh}
make_cmd=${KPTWATCH_DEMO_MAKE:-make}

entry=6.12-patched
bug=
bug_set=0
build_bug=0
deps=1
cached_only=0
out=build/demo
only_summary=0
dry=0

usage() { sed -n '4,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
bad() { echo "demo.sh: $*" >&2; echo "(demo.sh --help for the options)" >&2; exit 2; }
need() { [ $# -ge 2 ] || bad "$1 needs a value"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--entry) need "$@"; entry=$2; shift 2 ;;
	--bug) need "$@"; bug=$2; bug_set=1; shift 2 ;;
	--build-bug) build_bug=1; shift ;;
	--no-bug) bug=none; bug_set=1; shift ;;
	--no-deps) deps=0; shift ;;
	--cached-only) cached_only=1; shift ;;
	--out) need "$@"; out=$2; shift 2 ;;
	--summary) only_summary=1; shift ;;
	-n | --dry-run) dry=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) bad "unknown argument '$1'" ;;
	esac
done
case "$entry" in
6.12 | 7.3 | 6.12-* | 7.3-*) ;;
*) bad "--entry $entry: not a test-bed entry (SERIES[-patched][-debug][-kaslr])" ;;
esac
[ -n "$out" ] || bad "--out needs a directory"

if [ $only_summary = 1 ]; then
	summary "$out"
	exit
fi

BUILD_PID=
interrupted() {
	echo
	# a kernel build runs in a session of its own: stop all of it
	[ -n "$BUILD_PID" ] && kill -TERM -- -"$BUILD_PID" 2>/dev/null
	echo "demo.sh: interrupted; what ran so far is in $out/"
	exit 130
}
trap interrupted INT TERM

T0=$(date +%s)
hr() { printf '\n### %s\n' "$*"; }
note() { echo "    $*"; }

# --- which buggy kernel ---
bug_patch=
bug_entry=
if [ "$bug" = none ]; then
	:
elif [ -n "$bug" ] && [ -f "$bug" ]; then
	bug_patch=$(cd "$(dirname "$bug")" && pwd)/$(basename "$bug")
	bug_entry=$entry
elif [ -n "$bug" ]; then
	case "$bug" in
	6.12 | 7.3 | 6.12-* | 7.3-*) bug_entry=$bug ;;
	*) bad "--bug $bug: neither a patch file nor a test-bed entry" ;;
	esac
else
	# the mutants seed bugs into our series: on top of a 6.12-patched entry
	m=
	[[ $entry == 6.12-patched* ]] && m=$(ls tests/vm/mutants/*.patch 2>/dev/null | sort | head -n1)
	if [ -n "$m" ]; then
		bug_patch=$TOP/$m
		bug_entry=$entry
	else
		bug_entry=6.12
	fi
fi
bug_label() {
	if [ -n "$bug_patch" ]; then
		echo "$bug_entry + ${bug_patch#"$TOP"/}"
	else
		echo "$bug_entry"
	fi
}
# patch_subject FILE: what a mutant patch says it does
patch_subject() {
	local l
	l=$(sed -n 's/^Subject: *\(\[[^]]*\] *\)\{0,1\}//p' "$1" | head -n1)
	[ -n "$l" ] || l=$(grep -v '^[[:space:]]*$' "$1" | grep -v '^\(From\|Date\|---\|+++\|diff\|index\)' | head -n1)
	echo "${l:-${1##*/}}"
}
# is the buggy kernel built already? (decides whether to build it)
bug_cached() {
	if [ -n "$bug_patch" ]; then cached_dir "$bug_entry" "$bug_patch"; else cached_dir "$bug_entry"; fi
}

# --- dry run: the plan ---
if [ $dry = 1 ]; then
	echo "demo.sh plan (cache: $KPTWATCH_CACHE, outputs: $out/):"
	[ $deps = 1 ] && echo "  make deps" || echo "  (no make deps)"
	echo "  make all (kptwatch, kptwatch.8)"
	for e in "$entry" ${bug_entry:+bug}; do
		if [ "$e" = bug ]; then
			name=$bug_entry
			[ -n "$bug_patch" ] && name=$bug_entry+mut
			if d=$(bug_cached); then s="cached in $d"; else s="not cached"; fi
			label="buggy kernel $(bug_label)"
		else
			name=$e
			if d=$(cached_dir "$e"); then s="cached in $d"; else s="not cached"; fi
			label="fixed kernel $e"
		fi
		read -r est _ src <<<"$(estimate "$name")"
		if [[ $s == "not cached" ]]; then
			if [ "$est" -gt 0 ]; then
				s="$s: build, about $(fmt_dur "$est") (the last $src build)"
			else
				s="$s: build, 20-40 min"
			fi
			[ "$e" = bug ] && [ $build_bug = 0 ] && [ -z "$bug_patch" ] && [ $bug_set = 0 ] &&
				s="not cached: skipped (--build-bug builds it)"
		fi
		case "$s" in
		*skipped*) echo "  $label: $s" ;;
		*) echo "  $label: $s; then boot it and run kptwatch" ;;
		esac
	done
	[ -z "$bug_entry" ] && echo "  no buggy kernel (--no-bug)"
	exit 0
fi

# --- 1. setup ---
if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root (sudo make demo): make deps installs packages," \
		"and kptwatch needs root inside the guest" >&2
	exit 3
fi
mkdir -p "$out/logs" || exit 3
echo "kptwatch demo: the fixed kernel ($entry) and one with an ordering bug ($( [ -n "$bug_entry" ] && bug_label || echo none))."
echo "Outputs: $out/. A first run builds a kernel (20-40 min on two cores); later runs take minutes."

if [ $deps = 1 ]; then
	hr "1/5 installing what is missing (make deps)"
	# apt shows its own progress: let it through
	if ! $make_cmd deps 2>&1 | tee "$out/logs/deps.log"; then
		echo "demo.sh: make deps failed (log: $out/logs/deps.log)" >&2
		exit 3
	fi
fi

hr "2/5 building kptwatch (about a minute)"
if ! $make_cmd -j"$(nproc)" all >"$out/logs/make.log" 2>&1; then
	tail -n 20 "$out/logs/make.log"
	echo "demo.sh: building kptwatch failed (log: $out/logs/make.log)" >&2
	exit 3
fi
note "$(build/kptwatch --version): build/kptwatch, man page build/kptwatch.8"

# build_kernel LABEL ENTRY [PATCH]: build (or take from the cache) ENTRY and
# its test module with progress; sets KDIR and KO. Returns 4 on failure.
build_kernel() {
	local label=$1 e=$2 p=${3:-} name=$2 steplog pid rc args=()
	[ -n "$p" ] && { name=$e+mut; args=(--patch "$p"); }
	steplog=$out/logs/kernel-$name.log
	local cached=0
	if KDIR=$(cached_dir "$e" ${p:+"$p"}); then
		cached=1
		note "$label: cached in $KDIR (built in $(fmt_dur "$(cat "$KDIR/build-seconds" 2>/dev/null || echo 0)"))"
	elif [ $cached_only = 1 ]; then
		echo "demo.sh: $label ($name) is not cached and --cached-only was given" >&2
		return 4
	else
		note "$label: not cached, building (log: $steplog; the kernel's own log is named there)"
	fi
	setsid "$build_kernel_cmd" "${args[@]}" "$e" >"$out/logs/kernel-$name.dir" 2>"$steplog" &
	pid=$!
	BUILD_PID=$pid
	if [ $cached = 1 ]; then
		wait $pid
	else
		watch_build $pid "kernel $name" "$name" "$steplog"
	fi
	rc=$?
	BUILD_PID=
	if [ $rc != 0 ]; then
		tail -n 30 "$steplog"
		echo "demo.sh: building $label failed (log: $steplog)" >&2
		return 4
	fi
	KDIR=$(tail -n1 "$out/logs/kernel-$name.dir")
	[ $cached = 1 ] || note "$label: $KDIR ($(tail -n1 "$steplog" | sed 's/^[^:]*: //'))"
	if ! KO=$("$kmod_build_cmd" "$KDIR" 2>"$out/logs/kmod-$name.log"); then
		tail -n 20 "$out/logs/kmod-$name.log"
		echo "demo.sh: building the test module against $label failed (log: $out/logs/kmod-$name.log)" >&2
		return 4
	fi
	note "test module: $KO"
}

# run_kernel DIR LABEL ENTRY EXPECT ABOUT [PATCH]: boot, run demo-guest.sh, save
run_kernel() {
	local d=$out/$1 label=$2 e=$3 expect=$4 about=$5 p=${6:-} rc run_dir args=(--hotplug --keep)
	rm -rf "$d"
	mkdir -p "$d"
	[ -n "$p" ] && args+=(--patch "$p")
	note "booting $label under QEMU (a few seconds with KVM, under a minute with TCG)"
	"$run_cmd" "${args[@]}" --stats "$d/stats" "$e" -- scripts/demo-guest.sh "$KO" \
		2>"$d/run.log" | tee "$d/guest.log"
	rc=${PIPESTATUS[0]}
	run_dir=$(get run_dir "$d/stats")
	[ -n "$run_dir" ] && [ -d "$run_dir/share/demo" ] && cp -a "$run_dir/share/demo/." "$d/"
	[ -n "$run_dir" ] && [ -f "$run_dir/share/dmesg.txt" ] && cp "$run_dir/share/dmesg.txt" "$d/"
	# demo-guest.sh's result first, then ours
	[ -f "$d/result" ] || : >"$d/result"
	{
		echo "label=$label"
		echo "entry=$e${p:+ + ${p#"$TOP"/}}"
		echo "expect=$expect"
		echo "about=$about"
		echo "run_rc=$rc"
		echo "kernel_dir=$KDIR"
	} >>"$d/result"
	[ $rc = 0 ] || { echo "run.sh said:"; tail -n 15 "$d/run.log" | sed 's/^/    /'; }
	echo "--> $(judge "$d")"
}

# --- 2. the fixed kernel ---
hr "3/5 the fixed kernel: $entry"
build_kernel "fixed kernel $entry" "$entry" || exit 4
hr "4/5 kptwatch on $entry (expected: clean)"
npatches=$(ls patches/linux-"${entry%%-*}"/*.patch 2>/dev/null | wc -l)
case "$entry" in
*-patched*) about="Debian's ${entry%%-*} with the $npatches patches of patches/linux-${entry%%-*}/: kernel page tables go back to the allocator only after an IOMMU flush" ;;
7.*) about="Debian's ${entry%%-*}: upstream's deferred free (pagetable_free_kernel); its memory hot-remove path still frees page tables at once (free_pagetable), which the 6.12 series defers too" ;;
*) about="$entry: no deferred free, violations expected (the fixed kernel is 6.12-patched or 7.3)" ;;
esac
run_kernel fixed "the fixed kernel" "$entry" clean "$about"

# --- 3. the buggy kernel ---
if [ -n "$bug_entry" ]; then
	hr "5/5 a kernel with an ordering bug: $(bug_label)"
	if [ $cached_only = 1 ] && ! bug_cached >/dev/null; then
		note "skipped: not cached, and --cached-only was given"
	elif [ -z "$bug_patch" ] && [ $bug_set = 0 ] && [ $build_bug = 0 ] && ! bug_cached >/dev/null; then
		note "skipped: no mutant in tests/vm/mutants/, and $bug_entry is not cached."
		note "scripts/demo.sh --build-bug builds it (about 20 min), or --bug FILE.patch"
		note "applies a seeded bug of your own on top of $entry."
	elif build_kernel "buggy kernel $(bug_label)" "$bug_entry" "$bug_patch"; then
		if [ -n "$bug_patch" ]; then
			about="$bug_entry with a seeded ordering bug: $(patch_subject "$bug_patch")"
		elif [[ $bug_entry == *-patched* ]]; then
			about="$bug_entry (given with --bug)"
		else
			about="${bug_entry} as shipped: kernel page tables are freed at once, never after an IOMMU flush"
		fi
		run_kernel buggy "the buggy kernel" "$bug_entry" violation "$about" "$bug_patch"
	else
		exit 4
	fi
else
	hr "5/5 no buggy kernel (--no-bug)"
fi

echo
summary "$out"
status=$?
echo "  took $(fmt_dur $(($(date +%s) - T0)))"
cat <<EOF

== On your own machine
  kptwatch needs a kernel that defers kernel page-table frees: 6.12 with
  patches/linux-6.12/ (docs/kernel-patch.md), or 7.x (6.19+, 6.18.7+), with
  BTF and fentry (or kprobes). As root:

    make && sudo make install          # /usr/local/sbin/kptwatch, man kptwatch
    kptwatch probe                     # what it can watch on this kernel
    kptwatch hist -i 10s               # deferral latencies, every 10 s
    kptwatch check --junit out.xml -- YOUR-WORKLOAD   # a CI verdict: exit 0
                                       # clean, 1 violation, 3 incomplete

  On an unpatched kernel check reports every kernel page-table free as a
  violation (exit 1): that is what the series fixes.
EOF
exit $status

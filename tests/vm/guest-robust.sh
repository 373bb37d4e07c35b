#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-robust.sh KO KBUILD_DIR
#
# Runs INSIDE a test-bed guest, as root: kptwatch when things go wrong
# around it, with the test module (KO) freeing page tables.
#
#  - probe: the shape .config calls for (seed: the series' names; upstream:
#    mainline's pagetable_free_kernel), with the other shape's points not
#    found, exit 0. Then probe on a kernel whose functions are missing:
#    BTF (--btf, a copy of /sys/kernel/btf/vmlinux with the names renamed
#    in its string table) and kallsyms (a copy bind-mounted over
#    /proc/kallsyms) both without them, since probe takes a point as found
#    if either lists it. Without the flush point: exit 3, the point missing
#    and why. Without the deferral's functions: the unpatched shape, exit 0.
#    Without any enqueue, free or link point: exit 2, and check exits 2
#    with a one-line error.
#  - SIGINT during check -- COMMAND while the module churns in the
#    kernel: the summary, exit 3 (a run cut short is unfinished, not
#    failed: docs/kptwatch.8.md), the command killed by INT, at once. A
#    command that ignores SIGINT is killed after the 5 s grace, exit 3.
#  - check -d with churn running beside it from before kptwatch starts to
#    after it ends: cut short by SIGINT, exit 3; ended by its duration,
#    exit 0; no violation either way (kptwatch's start and teardown used
#    to judge what they had half seen).
#  - kill -9 of kptwatch during churn, its command still running (it
#    ignores the SIGTERM kptwatch's death sends it): once kptwatch is
#    reaped, none of its BPF programs or links remains and the command
#    holds no BPF descriptor or mapping; its maps are gone within 5 s or,
#    on 7.x, where freeing a program that was on a trampoline waits for an
#    RCU Tasks grace period that the churn kthread holds off, within 5 s
#    of the churn's end (50 s for either on a -debug kernel).
#  - --max-pending 1 and 2 under churn: exit 3 (tracking map full), never
#    0 nor 1; the same churn with the default size: exit 0.
#
# On an unpatched kernel every table the module frees is a violation, and a
# failure outranks the rest: there the runs under churn must exit 1.
#  - --kprobes gives the verdict fentry gives, with the same counts, on the
#    module's deterministic runs (vmap_pmd 32 + pte_kernel 200, as
#    guest-mutant.sh; pte_bypass 200, a violation per table), and every
#    point of the --kprobes run is attached by kprobe.
#
# Prints "ok NAME", "FAIL NAME: detail", "SKIP NAME: reason", "# ..."
# figures, then "robust: N passed, M failed". Exits 1 if anything failed.
#
# Environment: KPT_PMD_ITERS (32), KPT_PTE_ITERS (200), KPT_DRAIN_MS (3000),
# KPTWATCH (the binary, default build/kptwatch; its BPF object
# kptwatch.bpf.o beside it names the programs).
set -u

ko=${1:?usage: guest-robust.sh KO KBUILD_DIR}
kbuild=${2:?usage: guest-robust.sh KO KBUILD_DIR}
pmd_iters=${KPT_PMD_ITERS:-32}
pte_iters=${KPT_PTE_ITERS:-200}
drain_ms=${KPT_DRAIN_MS:-3000}

top=$(cd "$(dirname "$0")/../.." && pwd)
K=${KPTWATCH:-$top/build/kptwatch}
D=/sys/kernel/debug/kptwatch_test
tmp=$(mktemp -d)
passed=0
failed=0
# processes to end if the script stops early
stray=()

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; }
finish() {
	local p
	for p in "${stray[@]}"; do kill -9 "$p" 2>/dev/null; done
	umount /proc/kallsyms 2>/dev/null
	rmmod kptwatch_test 2>/dev/null
	rm -rf "$tmp"
	echo "robust: $passed passed, $failed failed"
	# a bare exit in an EXIT trap keeps the status from before the trap
	exit $((failed > 0))
}
trap finish EXIT

[ -x "$K" ] || { fail setup "no $K (make all first)"; exit; }
echo "# $(uname -r), $(nproc) CPU(s)"
# the module finds init_mm and friends through kallsyms
if grep -qx '# CONFIG_KALLSYMS_ALL is not set' "$kbuild/obj/.config"; then
	skip robust "the test module needs CONFIG_KALLSYMS_ALL"
	exit
fi
for t in jq bpftool perl readelf; do
	command -v $t >/dev/null || { fail setup "no $t"; exit; }
done
"$top/tests/kmod/load.sh" "$ko" || { fail setup "insmod $ko"; exit; }
for m in vmap_pmd pte_kernel pte_bypass; do
	if grep -q "^${m}_status=unsupported" $D/stats; then
		fail setup "the module cannot run $m: $(sed -n "s/^${m}_reason=//p" $D/stats)"
		exit
	fi
done

cfg=$kbuild/obj/.config
# "Promptly": 5 s. A -debug kernel (KASAN, lockdep, debug_pagealloc) tears
# a run down several times slower under TCG (11 s for the SIGINT case with
# three guests on the two cores): ten times that there.
prompt_ms=5000
grep -q '^CONFIG_KASAN=y' "$cfg" && prompt_ms=50000
shape=unpatched
if grep -q '^CONFIG_ASYNC_PGTABLE_FREE=y' "$cfg"; then
	shape=seed
elif grep -q '^CONFIG_ASYNC_KERNEL_PGTABLE_FREE=y' "$cfg"; then
	shape=upstream
fi

# field JQ FILE
field() { jq -r "$1" "$2" 2>/dev/null; }
# st KEY: the module's stats
st() { sed -n "s/^$1=//p" $D/stats; }
# now_ms: for elapsed times
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for TENTHS CMD...: poll CMD every 0.1 s, up to TENTHS times
wait_for() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
# threads PREFIX: how many tasks have a comm starting with PREFIX
# (/proc/PID/comm shows a kthread's full name on 6.x, 15 bytes before)
threads() { grep -l "^$1" /proc/[0-9]*/comm 2>/dev/null | wc -l; }
# churning N: the module's churn runs with at least N threads; a single
# run has one thread of the same name, so N = 2 proves it is the churn
churning() { [ "$(threads kptw_pte_kernel)" -ge "$1" ]; }
# gone PID: no such process, or a zombie (its memory and files released)
gone() { ! [ -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# stop_writer PID: SIGKILL a task blocked in a module run (the run's wait
# is killable: the churn stops, the run ends) and wait until it is gone
stop_writer() {
	kill -9 "$1" 2>/dev/null
	wait_for 300 gone "$1"
}

# long enough to be cut short, short enough to end anyway if it is not
churn="churn mode=pte_kernel threads=2 secs=30 drain_ms=1000"

# judged RC V WANT: exit RC is WANT with no violation where frees are
# deferred; on an unpatched kernel every table freed is a violation, and a
# failure outranks the rest: exit 1 (not run here yet: no such entry cached)
# seen QUEUED VIOLATIONS: the pages a run judged, which on the unpatched
# shape are its violations (nothing is queued without a deferral).
seen() {
	if [ "$shape" = unpatched ]; then echo "${2:-0}"; else echo "${1:-0}"; fi
}

judged() {
	if [ "$shape" = unpatched ]; then
		[ "$1" = 1 ] && [ "${2:-0}" -gt 0 ]
	else
		[ "$1" = "$3" ] && [ "$2" = 0 ]
	fi
}

# ---------------------------------------------------------------------------
# probe: what it finds, and what it says when the functions are not there
# ---------------------------------------------------------------------------
"$K" probe >"$tmp/probe.txt" 2>&1
prc=$?
"$K" probe --json >"$tmp/probe.json" 2>/dev/null
pshape=$(field .plan.shape "$tmp/probe.json")
found=$(field '[.plan.points[] | select(.in_btf or .kallsyms > 0) | .func] | join(" ")' "$tmp/probe.json")
sed -n 's/^\(shape\|coverage\|verdict\): */# probe: \1: /p' "$tmp/probe.txt"
echo "# probe: found: $found"
case $shape in
seed) want_found=kernel_pgtable_async_free want_absent="pagetable_free_kernel" ;;
upstream) want_found=pagetable_free_kernel want_absent="kernel_pgtable_async_free kernel_pgtable_async_free_bootmem" ;;
*) want_found='' want_absent="kernel_pgtable_async_free pagetable_free_kernel" ;;
esac
why=
[ "$prc" = 0 ] || why="exit $prc"
[ "$pshape" = "$shape" ] || why="$why shape $pshape, wanted $shape"
for f in $want_found kernel_pgtable_work_func iommu_sva_invalidate_kva_range; do
	[ "$shape" = unpatched ] && break
	[[ " $found " == *" $f "* ]] || why="$why; $f not found"
done
for f in $want_absent; do
	[[ " $found " == *" $f "* ]] && why="$why; $f found although not in this kernel"
done
grep -q '^verdict:  ready (exit 0)$' "$tmp/probe.txt" || why="$why; no 'verdict: ready (exit 0)' line"
if [ -z "$why" ]; then
	ok "probe: $shape shape, ${want_found:-no enqueue point} found, exit 0"
else
	fail probe "$why ($(head -c 300 "$tmp/probe.txt"))"
fi

# hide NAME...: a BTF file and a kallsyms without the functions NAME (and
# their compiler clones); the kallsyms copy is bind-mounted over
# /proc/kallsyms. The BTF keeps every type id: only the names' strings
# change (first letter to X), so CO-RE reads the same structs.
hide() {
	local n c
	cp /sys/kernel/btf/vmlinux "$tmp/btf" || return 1
	for n in "$@"; do
		c=$(N=$n perl -0777 -i -pe '$c += s/\0\Q$ENV{N}\E\0/"\0X" . substr($ENV{N}, 1) . "\0"/ge;
			END { print STDERR $c + 0 }' "$tmp/btf" 2>&1) || return 1
		[ "$c" -le 1 ] || { echo "# hide: $n $c times in the BTF"; return 1; }
	done
	umount /proc/kallsyms 2>/dev/null
	printf '%s\n' "$@" | awk 'NR == FNR { h[$1] = 1; next }
		{ n = $3; sub(/\..*/, "", n) } !(n in h)' - /proc/kallsyms >"$tmp/kallsyms" &&
		mount --bind "$tmp/kallsyms" /proc/kallsyms
}
unhide() { umount /proc/kallsyms 2>/dev/null; }

# absent FILE NAME...: each NAME is neither in BTF nor in kallsyms in FILE
absent() {
	local f=$1 n
	shift
	for n in "$@"; do
		jq -e --arg n "$n" '.plan.points[] | select(.func == $n) |
			.in_btf == false and .kallsyms == 0 and .method == "missing"' "$f" >/dev/null ||
			return 1
	done
}

deferral="kernel_pgtable_async_free_dtor kernel_pgtable_async_free_page_list
	kernel_pgtable_async_free_pages kernel_pgtable_async_free kernel_pgtable_async_free_bootmem
	pagetable_free_kernel kernel_pgtable_work_func iommu_sva_invalidate_kva_range"
# every point kptwatch plans (src/plan.c), __change_page_attr_set_clr
# included: CPA's splits make tables known, so with it alone the plan is
# usable (known tables freed are violations) and "no point" is not so
others="pmd_free_pte_page pud_free_pmd_page free_pagetable __pte_alloc_kernel __pmd_alloc
	__pud_alloc __p4d_alloc alloc_low_pages __change_page_attr_set_clr"

# no flush point: a deferral kptwatch cannot see flushed
if [ "$shape" = unpatched ]; then
	skip "probe without iommu_sva_invalidate_kva_range" "no deferral on this kernel"
elif hide iommu_sva_invalidate_kva_range; then
	"$K" probe --json --btf "$tmp/btf" >"$tmp/noinval.json" 2>"$tmp/noinval.err"
	rc=$?
	"$K" probe --btf "$tmp/btf" >"$tmp/noinval.txt" 2>&1
	unhide
	line=$(grep -A1 '^iommu_sva_invalidate_kva_range ' "$tmp/noinval.txt" | tr -s ' ' | paste -sd' ')
	cov=$(field .plan.coverage "$tmp/noinval.json")
	echo "# probe without the flush point: $line"
	echo "# probe without the flush point: coverage: $cov"
	grep '^verdict:' "$tmp/noinval.txt" | sed 's/^/# probe without the flush point: /'
	if [ $rc = 3 ] && absent "$tmp/noinval.json" iommu_sva_invalidate_kva_range &&
		[ "$(field .plan.shape "$tmp/noinval.json")" = "$shape" ] &&
		[[ $cov == "incomplete: flushes are invisible"* ]] &&
		grep -q 'why: not in BTF nor kallsyms' <<<"$line" &&
		grep -q '^verdict:  incomplete (exit 3)$' "$tmp/noinval.txt"; then
		ok "probe without iommu_sva_invalidate_kva_range: exit 3, the point 'not in BTF nor kallsyms', flushes invisible"
	else
		fail "probe without iommu_sva_invalidate_kva_range" "wanted exit 3, the point missing, coverage 'incomplete: flushes are invisible'; got exit $rc, $cov ($(head -c 300 "$tmp/noinval.err"))"
	fi
else
	unhide
	fail "probe without iommu_sva_invalidate_kva_range" "could not make a BTF and kallsyms without it"
fi

# no deferral functions at all: a kernel without the series nor mainline's
# deferral is the unpatched shape, which probe says it checks completely
# shellcheck disable=SC2086
if hide $deferral; then
	"$K" probe --json --btf "$tmp/btf" >"$tmp/nodefer.json" 2>"$tmp/nodefer.err"
	rc=$?
	unhide
	cov=$(field .plan.coverage "$tmp/nodefer.json")
	echo "# probe without the deferral's functions: exit $rc, shape $(field .plan.shape "$tmp/nodefer.json"), coverage: $cov"
	# shellcheck disable=SC2086
	if [ $rc = 0 ] && absent "$tmp/nodefer.json" $deferral &&
		[ "$(field .plan.shape "$tmp/nodefer.json")" = unpatched ] &&
		[[ $cov == "complete: no deferral here"* ]]; then
		ok "probe without the deferral's functions: unpatched shape, exit 0 ('$cov')"
	else
		fail "probe without the deferral's functions" "wanted the unpatched shape, exit 0; got exit $rc, $cov ($(head -c 300 "$tmp/nodefer.err"))"
	fi
else
	unhide
	fail "probe without the deferral's functions" "could not make a BTF and kallsyms without them"
fi

# nothing to attach but the page-free tracepoint: nothing can be checked
# shellcheck disable=SC2086
if hide $deferral $others; then
	"$K" probe --btf "$tmp/btf" >"$tmp/none.txt" 2>&1
	rc=$?
	"$K" probe --json --btf "$tmp/btf" >"$tmp/none.json" 2>/dev/null
	"$K" check -d 1s --btf "$tmp/btf" >"$tmp/none-check.out" 2>"$tmp/none-check.err"
	crc=$?
	unhide
	grep -E '^(coverage|verdict):' "$tmp/none.txt" | sed 's/^/# probe with no point: /'
	echo "# check with no point: exit $crc: $(cat "$tmp/none-check.err")"
	# shellcheck disable=SC2086
	if [ $rc = 2 ] && [ $crc = 2 ] && absent "$tmp/none.json" $deferral $others &&
		[ "$(field .plan.usable "$tmp/none.json")" = false ] &&
		grep -qx 'verdict:  cannot watch this kernel (exit 2)' "$tmp/none.txt" &&
		[ "$(wc -l <"$tmp/none-check.err")" = 1 ] && [ ! -s "$tmp/none-check.out" ] &&
		grep -q "^kptwatch: nothing to watch on this kernel (unpatched shape): .*'kptwatch probe' says why$" "$tmp/none-check.err"; then
		ok "probe with no point but the page-free tracepoint: exit 2; check: exit 2, one line"
	else
		fail "probe with no point" "wanted probe and check exit 2, check's one-line error; got probe exit $rc, check exit $crc: $(head -c 300 "$tmp/none-check.err")"
	fi
else
	unhide
	fail "probe with no point" "could not make a BTF and kallsyms without them"
fi

# ---------------------------------------------------------------------------
# SIGINT during check
# ---------------------------------------------------------------------------
# interrupt NAME OUT: once the churn runs, SIGINT the check started in the
# background as $kp; sets rc, its exit, and ms, the time it took. 1 (and a
# FAIL) when the churn never started.
interrupt() {
	local t0
	if ! wait_for 300 churning 2; then
		kill -9 $kp
		wait $kp
		fail "$1" "the churn never started ($(head -c 300 "$2.err"))"
		return 1
	fi
	t0=$(now_ms)
	kill -INT $kp
	wait $kp
	rc=$?
	ms=$(($(now_ms) - t0))
}

# check -- COMMAND, the command blocked in the module's churn run. tee
# does the write: it takes SIGINT as it comes (sh -c catches it), so the
# run's killable wait ends at once. The pte_kernel run before it makes
# queued >= 50 certain, whatever the churn managed.
out=$tmp/int.out
"$K" check -- sh -c "echo 'pte_kernel iters=50 drain_ms=$drain_ms' >$D/run &&
	echo '$churn' | tee $D/run >/dev/null" >"$out" 2>"$out.err" &
kp=$!
stray+=("$kp")
if interrupt "SIGINT check -- COMMAND" "$out"; then
	q=$(sed -n 's/^ *queued \([0-9]*\) .*/\1/p' "$out")
	v=$(sed -n 's/.* violation \([0-9]*\) .*/\1/p' "$out")
	echo "# SIGINT check -- COMMAND: exit $rc after ${ms} ms; queued $q, violation $v;" \
		"churn: status $(st churn_status) error $(st churn_error), $(st churn_iters) ops"
	grep -E '^(command|incomplete|fail|verdict)' "$out" | sed 's/^/# SIGINT check -- COMMAND: /'
	if judged "$rc" "$v" 3 && [ "$ms" -lt $prompt_ms ] && grep -qx 'command: killed by INT' "$out" &&
		grep -q '^incomplete *command killed by INT (interrupted)$' "$out" &&
		grep -qx "verdict: .* (exit $rc)" "$out" && grep -q '^counters:' "$out" &&
		[ "$(seen "$q" "$v")" -ge 50 ] && ! grep -q 'ignores the signal' "$out.err"; then
		ok "SIGINT check -- COMMAND during churn: summary, exit $rc, command killed by INT, in $ms ms"
	else
		fail "SIGINT check -- COMMAND" "wanted exit 3 within $((prompt_ms / 1000)) s, the summary, 'command killed by INT (interrupted)', queued >= 50, no violation (unpatched: exit 1, >= 50 violations); got exit $rc in $ms ms, queued $q, violation $v ($(tail -n 5 "$out" | tr '\n' '|') $(head -c 200 "$out.err"))"
	fi
fi

# the same with a command that ignores SIGINT: SIGKILL after 5 s
out=$tmp/int-ign.out
"$K" check -- sh -c "trap '' INT; echo '$churn' >$D/run" >"$out" 2>"$out.err" &
kp=$!
stray+=("$kp")
if interrupt "SIGINT check -- COMMAND ignoring SIGINT" "$out"; then
	v=$(sed -n 's/.* violation \([0-9]*\) .*/\1/p' "$out")
	echo "# SIGINT check -- COMMAND ignoring SIGINT: exit $rc after ${ms} ms, violation $v;" \
		"$(grep -v 'links; coverage' "$out.err" | paste -sd' ')"
	if judged "$rc" "$v" 3 && [ "$ms" -ge 5000 ] && grep -qx 'command: killed by KILL' "$out" &&
		grep -q '^incomplete *command killed by KILL (interrupted)$' "$out" &&
		grep -qx "verdict: .* (exit $rc)" "$out" &&
		grep -q 'the command ignores the signal, killing it' "$out.err"; then
		ok "SIGINT check -- COMMAND ignoring SIGINT: killed after the 5 s grace, exit $rc, in $ms ms"
	else
		fail "SIGINT check -- COMMAND ignoring SIGINT" "wanted exit 3 after >= 5 s, 'command killed by KILL (interrupted)'; got exit $rc in $ms ms ($(tail -n 4 "$out" | tr '\n' '|'))"
	fi
fi

# check -d while churn runs beside it, started before kptwatch and still
# running after, so that kptwatch's start and its teardown both happen
# under churn: cut short by SIGINT once attached (exit 3), or ended by its
# duration (exit 0). A teardown that left the page-free program attached
# after the flush and enqueue points had gone judged what it had only half
# seen: false violations (fixed in attach_destroy()).
dcheck() {
	local name=$1 dur=$2 sig=$3 out=$tmp/d-$3.json wp kp rc q v intr reasons after want
	# Longer than any attach: on a -debug kernel kptwatch took more than
	# $churn's 30 s to attach and the churn ended first. stop_writer ends it.
	(echo "${churn/secs=30/secs=1200}" >$D/run) 2>/dev/null &
	wp=$!
	stray+=("$wp")
	if ! wait_for 300 churning 2; then
		fail "$name" "the churn never started"
		stop_writer $wp
		return
	fi
	"$K" check --json -d "$dur" >"$out" 2>"$out.err" &
	kp=$!
	stray+=("$kp")
	if [ "$sig" = INT ]; then
		if wait_for 600 grep -q 'links; coverage' "$out.err"; then
			kill -INT $kp
		else
			kill -9 $kp
		fi
	fi
	wait $kp
	rc=$?
	churning 2 && after=yes || after=no
	stop_writer $wp
	read -r q v intr < <(field '[.counters.queued, .violations_total, .interrupted] | @tsv' "$out")
	reasons=$(field '[.reasons[] | "\(.kind): \(.text)"] | join("; ")' "$out")
	echo "# $name: exit $rc, interrupted $intr, queued $q, violations $v, churn still running at the end: $after; $reasons"
	want=0
	[ "$sig" = INT ] && want=3
	if judged "$rc" "$v" $want && [ "$after" = yes ] && [ "$(seen "$q" "$v")" -gt 0 ] &&
		{ [ "$sig" != INT ] || { [ "$intr" = true ] && [[ $reasons == *"incomplete: interrupted after "* ]]; }; } &&
		{ [ "$sig" = INT ] || [ "$intr" = false ]; }; then
		ok "$name: exit $rc, $q queued, $v violations${intr:+, interrupted $intr}"
	else
		fail "$name" "wanted exit $want, queued > 0, no violation (unpatched: exit 1, violations > 0), the churn running throughout; got exit $rc, queued $q, violations $v, interrupted $intr, churn at the end: $after ($(head -c 300 "$out.err"))"
	fi
}
dcheck "SIGINT check -d 10m during churn" 10m INT
dcheck "check -d 5s during churn, ended by its duration" 5s none

# ---------------------------------------------------------------------------
# kill -9: nothing of kptwatch stays in the kernel
# ---------------------------------------------------------------------------
# kptwatch's program names, from its BPF object: every global function is
# a program
names=$(readelf -sW "$(dirname "$K")/kptwatch.bpf.o" | awk '$4 == "FUNC" && $5 == "GLOBAL" { print $8 }' | sort -u)
names_json=$(jq -R . <<<"$names" | jq -sc .)
# ours FILE.prog FILE.link FILE.map: how many of kptwatch's programs
# (by name), links (to such a program) and maps (by id, from ids.map) are listed
ours() {
	local np nl nm
	np=$(jq --argjson n "$names_json" '[.[] | select(.name as $x | $n | index($x))] | length' "$1")
	nl=$(jq --slurpfile p <(jq --argjson n "$names_json" '[.[] | select(.name as $x | $n | index($x)) | .id]' "$1") \
		'[.[] | select(.prog_id as $x | $p[0] | index($x))] | length' "$2")
	nm=$(jq --slurpfile m "$tmp/ids.map" '[.[] | select(.id as $x | $m[0] | index($x))] | length' "$3")
	echo "$np $nl $nm"
}
snap() {
	bpftool -j prog show >"$tmp/$1.prog" && bpftool -j link show >"$tmp/$1.link" &&
		bpftool -j map show >"$tmp/$1.map"
}
# none_left: none of kptwatch's programs, links, maps listed now
none_left() {
	snap after && [ "$(ours "$tmp/after.prog" "$tmp/after.link" "$tmp/after.map")" = "0 0 0" ]
}

out=$tmp/kill.out
pidf=$tmp/writer.pid
snap before
# the command outlives kptwatch: it ignores the SIGTERM kptwatch's death
# sends it, and its churn runs well past the checks below. One thread, so
# that with two vCPUs one is left to bpftool, which takes seconds under
# TCG as it is; nothing else runs the module, so one thread is the churn.
"$K" check -- sh -c "echo \$\$ >$pidf; trap '' TERM INT;
	echo 'churn mode=pte_kernel threads=1 secs=300 drain_ms=1000' >$D/run" >"$out" 2>"$out.err" &
kp=$!
stray+=("$kp")
if [ "$(wc -w <<<"$names")" -lt 10 ]; then
	fail "kill -9" "only $(wc -w <<<"$names") program names in $(dirname "$K")/kptwatch.bpf.o"
	kill -9 $kp
	wait $kp
elif ! wait_for 300 churning 1; then
	fail "kill -9" "the churn never started ($(head -c 300 "$out.err"))"
	kill -9 $kp
	wait $kp
else
	wp=$(cat "$pidf")
	stray+=("$wp")
	snap during
	# the maps kptwatch made: there now, not before
	jq --slurpfile b "$tmp/before.map" '[.[] | .id | select(. as $x | [$b[0][].id] | index($x) | not)]' \
		"$tmp/during.map" >"$tmp/ids.map"
	read -r np nl nm < <(ours "$tmp/during.prog" "$tmp/during.link" "$tmp/during.map")
	t0=$(now_ms)
	kill -9 $kp
	# Reaped: the exit closed its descriptors (exit_files() comes before
	# the parent is told), and programs and links went with them. Maps go
	# when the last program using them is freed: after an RCU grace
	# period, and on 7.x after an RCU Tasks one for programs that were on
	# a trampoline (__bpf_prog_put_noref()), which the module's churn
	# kthread, a CPU-bound loop calling only cond_resched(), holds off
	# until it ends. So programs and links are looked for while the
	# command churns, maps until 5 s after, and after the churn if need be.
	wait $kp
	rc=$?
	t1=$(now_ms)
	alive=no
	! gone "$wp" && churning 1 && alive=yes
	# the command holds no BPF object: no descriptor, no mapping
	held=$( (ls -l "/proc/$wp/fd"; cat "/proc/$wp/maps") 2>/dev/null | grep -c 'bpf')
	polls=0
	while :; do
		polls=$((polls + 1))
		none_left && break
		[ $(($(now_ms) - t1)) -lt $prompt_ms ] || break
		sleep 0.2
	done
	left=$(ours "$tmp/after.prog" "$tmp/after.link" "$tmp/after.map")
	echo "# kill -9: while running: $np programs, $nl links, $nm maps of kptwatch;" \
		"exit $rc, reaped $((t1 - t0)) ms after the kill; then $left left after $polls look(s)" \
		"($(($(now_ms) - t1)) ms); its command churning when reaped: $alive, holding $held BPF object(s)"
	maps=
	if [ "${left% *}" = "0 0" ] && [ "${left##* }" != 0 ]; then
		stop_writer "$wp"
		t2=$(now_ms)
		polls=0
		while :; do
			polls=$((polls + 1))
			none_left && break
			[ $(($(now_ms) - t2)) -lt $prompt_ms ] || break
			sleep 0.2
		done
		left=$(ours "$tmp/after.prog" "$tmp/after.link" "$tmp/after.map")
		echo "# kill -9: the churn stopped: $left left after $polls look(s) ($(($(now_ms) - t2)) ms)"
		maps=", the maps once the churn stopped"
	fi
	if [ $rc = 137 ] && [ "$np" -ge 10 ] && [ "$nl" -ge 5 ] && [ "$nm" -ge 5 ] &&
		[ "$left" = "0 0 0" ] && [ "$alive" = yes ] && [ "$held" = 0 ]; then
		ok "kill -9 during churn: $np programs, $nl links gone once reaped, with the command churning and holding no BPF object; $nm maps gone$maps"
	else
		fail "kill -9" "wanted exit 137, no program or link of kptwatch left while its command churns holding no BPF object, no map soon after; got exit $rc, $np/$nl/$nm while running, $left left, command churning when reaped: $alive, holding $held"
		jq -r --argjson n "$names_json" '.[] | select(.name as $x | $n | index($x)) | "#   left: prog \(.id) \(.name)"' "$tmp/after.prog"
	fi
	stop_writer "$wp" || fail "kill -9" "the command (pid $wp) did not end on SIGKILL"
fi

# ---------------------------------------------------------------------------
# --max-pending: a tracking map too small is incomplete, never clean
# ---------------------------------------------------------------------------
short="churn mode=pte_kernel threads=2 secs=3 drain_ms=$drain_ms"
for n in 1 2 default; do
	out=$tmp/maxp-$n.json
	arg=(--max-pending "$n")
	[ $n = default ] && arg=()
	"$K" check --json "${arg[@]}" -- sh -c "echo '$short' >$D/run" >"$out" 2>"$out.err"
	rc=$?
	read -r q f v mf < <(field '[.counters.queued, .counters.freed_ok, .violations_total, .counters.map_full] | @tsv' "$out")
	echo "# --max-pending $n: exit $rc, queued $q, freed_ok $f, violations $v, map_full $mf;" \
		"churn $(st churn_iters) ops; $(field '[.reasons[].text] | join("; ")' "$out")"
	if [ $n = default ]; then
		if judged "$rc" "$v" 0 && [ "$mf" = 0 ]; then
			ok "--max-pending default under churn: exit $rc ($q queued = $f freed after a flush)"
		else
			fail "--max-pending default" "wanted exit 0 and no map_full, got exit $rc, map_full $mf ($(head -c 300 "$out.err"))"
		fi
	elif { judged "$rc" "$v" 3 || { [ "$rc" = 3 ] && [ "$v" = 0 ]; }; } && [ "${mf:-0}" -gt 0 ] &&
		field '.reasons[].text' "$out" | grep -q 'was full .* (raise --max-pending)'; then
		ok "--max-pending $n under churn: exit $rc, map full $mf times"
	else
		fail "--max-pending $n" "wanted exit 3 with map_full > 0 and no violation, got exit $rc, map_full $mf, violations $v ($(head -c 300 "$out.err"))"
	fi
done

# ---------------------------------------------------------------------------
# --kprobes: the fallback gives fentry's verdict and counts
# ---------------------------------------------------------------------------
# the figures compared: the verdict, what was queued, judged and named, and
# whatever would make it doubtful. Not table_walked/table_linked: tables
# that exist at the start differ from one run to the next.
figures='[.exit_code, .verdict, .counters.queued, .counters.freed_ok, .counters.violation,
	.counters.range_violation, .counters.table_freed, .pending.count, .counters.unknown,
	.counters.range_unknown, .counters.map_full, .counters.rb_drop, .counters.walk_trunc,
	([.counters | to_entries[] | select((.key | startswith("point.")) and .value > 0) |
	  "\(.key[6:])=\(.value)"] | join(",")),
	([.violations[] | "\(.event)@\(.point)"] | unique | join(","))] | map(tostring) | join(" ")'
# methods FILE: the attach methods of the points the plan uses, unique
methods() { field '[.plan.points[] | select(.method != "missing" and .role != "page free") | .method] | unique | join(",")' "$1"; }

# compare NAME WANT_EXIT WORKLOAD: check --json -- WORKLOAD, fentry then --kprobes
compare() {
	local name=$1 want=$2 wl=$3 m
	local -A F R M
	for m in fentry kprobes; do
		arg=()
		[ $m = kprobes ] && arg=(--kprobes)
		"$K" check --json "${arg[@]}" -- sh -c "$wl" >"$tmp/$name-$m.json" 2>"$tmp/$name-$m.err"
		R[$m]=$?
		F[$m]=$(field "$figures" "$tmp/$name-$m.json")
		M[$m]=$(methods "$tmp/$name-$m.json")
		echo "# $name, $m: exit ${R[$m]}, attached by ${M[$m]}; exit verdict queued freed_ok violation range_violation table_freed pending unknown range_unknown map_full rb_drop walk_trunc points kinds: ${F[$m]}"
		echo "# $name, $m: module: $(grep -E '^(vmap_pmd|pte_kernel|pte_bypass)_(pt_watched|pt_freed)=' $D/stats | paste -sd' ')"
		field '.reasons[] | "\(.kind): \(.text)"' "$tmp/$name-$m.json" | sed "s/^/# $name, $m: /"
	done
	# a fully preemptible kernel gets kprobes by default (kptwatch.8): no
	# fentry run to compare; both runs must still agree, by kprobe
	if [ "${M[fentry]}" = kprobe ] &&
		field '.plan.points[].why' "$tmp/$name-fentry.json" | grep -q 'fully preemptible'; then
		if [ "${R[fentry]}" = "$want" ] && [ "${R[kprobes]}" = "$want" ] &&
			[ -n "${F[fentry]}" ] && [ "${F[fentry]}" = "${F[kprobes]}" ] &&
			[ "${M[kprobes]}" = kprobe ]; then
			ok "default = --kprobes, $name: fully preemptible kernel ($(field .plan.preempt "$tmp/$name-fentry.json")), kprobes both times, exit $want, the same figures (${F[fentry]})"
		else
			fail "default = --kprobes, $name" "wanted exit $want from both by kprobe, the same figures; default: exit ${R[fentry]} by ${M[fentry]}: ${F[fentry]}; --kprobes: exit ${R[kprobes]} by ${M[kprobes]}: ${F[kprobes]}"
		fi
		skip "--kprobes = fentry, $name" "fully preemptible kernel: kptwatch does not use fentry here"
	elif [ "${R[fentry]}" = "$want" ] && [ "${R[kprobes]}" = "$want" ] && [ -n "${F[fentry]}" ] &&
		[ "${F[fentry]}" = "${F[kprobes]}" ] && [ "${M[fentry]}" = fentry ] &&
		[ "${M[kprobes]}" = kprobe ]; then
		ok "--kprobes = fentry, $name: exit $want, the same figures (${F[fentry]})"
	else
		fail "--kprobes = fentry, $name" "wanted exit $want from both, the same figures, fentry then kprobe only; fentry: exit ${R[fentry]} by ${M[fentry]}: ${F[fentry]}; kprobes: exit ${R[kprobes]} by ${M[kprobes]}: ${F[kprobes]}"
	fi
}

want=0
[ "$shape" = unpatched ] && want=1
echo reset >$D/run
compare "vmap_pmd $pmd_iters + pte_kernel $pte_iters" $want \
	"echo 'vmap_pmd iters=$pmd_iters drain_ms=$drain_ms' >$D/run &&
	 echo 'pte_kernel iters=$pte_iters drain_ms=$drain_ms' >$D/run"
# and against what the module saw freed
q=$(field .counters.queued "$tmp/vmap_pmd $pmd_iters + pte_kernel $pte_iters-kprobes.json")
w=$(($(st vmap_pmd_pt_watched) + $(st pte_kernel_pt_watched)))
if [ "$shape" = unpatched ]; then
	skip "--kprobes queued = the module's tables" "nothing is queued without a deferral"
elif [ "$q" = "$w" ]; then
	ok "--kprobes queued = the module's tables: $q = $(st vmap_pmd_pt_watched) + $(st pte_kernel_pt_watched)"
else
	fail "--kprobes queued = the module's tables" "queued $q, the module freed $w"
fi
compare "pte_bypass $pte_iters" 1 "echo 'pte_bypass iters=$pte_iters drain_ms=$drain_ms' >$D/run"

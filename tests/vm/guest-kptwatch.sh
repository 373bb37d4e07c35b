#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-kptwatch.sh KO KBUILD_DIR [OTHER_SYSTEM_MAP]
#
# Runs INSIDE a test-bed guest, as root: kptwatch end to end on the running
# kernel, with the test module (KO) making real page-table frees, and the
# memory layout found each way kptwatch can find it.
#
# What to expect comes from the build, not from kptwatch: the shape from
# .config (CONFIG_ASYNC_PGTABLE_FREE: our series, "seed"; upstream's
# CONFIG_ASYNC_KERNEL_PGTABLE_FREE: "upstream"; neither: "unpatched"), the
# layout from System.map (vmemmap_base a variable or not).
#
#  - probe: that shape, a usable plan, the layout source "kallsyms" where
#    the bases are variables (7.x, -kaslr) and "fixed" where they are not.
#    The bases in use are printed; with RANDOMIZE_MEMORY they must differ
#    from the defaults of either paging mode.
#  - check -- WORKLOAD: where frees are deferred exit 0, every queued page
#    freed after a flush, nothing untracked; on an unpatched kernel exit 1
#    with a violation for every table the workload freed (the vmap runs' at
#    their named free points, pte_kernel's at "unnamed path": kptwatch
#    knows them from the point that linked them, not from how they go).
#  - check -- pte_bypass: the module's mutant frees each table it linked
#    with a plain free_page(), past any deferral: exit 1 on every kernel,
#    one violation per iteration, all at "unnamed path".
#  - an attach refused (build/kptwatch-test's KPTWATCH_TEST_REFUSE, EBUSY
#    on pmd_free_pte_page's fentry, then on mm_page_free's tp_btf): the
#    fallbacks kptwatch did not load are loaded once, the point is
#    attached by its kprobe twin (raw_tp), and check judges as before.
#  - kallsyms without data symbols but the section markers (a copy
#    bind-mounted over /proc/kallsyms, as on a kernel without
#    CONFIG_KALLSYMS_ALL): without a System.map the layout is unknown and
#    check exits 3 saying so; with KBUILD_DIR's System.map probe reads the
#    very bases kallsyms gave and check gives the same verdict as before;
#    another kernel's System.map is refused with exit 2.
#  - on a -nokallsyms kernel, the real case: the layout assertions, then
#    check --system-map and pte_bypass with the module (see below).
#
# Prints "ok NAME", "FAIL NAME: detail", "SKIP NAME: reason", "# ..."
# figures, then "kptwatch: N passed, M failed". Exits 1 if anything failed.
#
# The workload: vmap_pmd (PTE tables found from the PMD entry, a physical
# address), vmap_pud (a PMD table read through the direct map, so
# page_offset_base matters, and its 512 PTE tables), pte_kernel (a PTE
# table linked by apply_to_page_range(), unlinked and freed with
# pte_free_kernel(): ptdescs, so vmemmap_base matters).
#
# Environment: KPT_PMD_ITERS (32), KPT_PUD_ITERS (1), KPT_PTE_ITERS (200).
set -u

ko=${1:?usage: guest-kptwatch.sh KO KBUILD_DIR [OTHER_SYSTEM_MAP]}
kbuild=${2:?usage: guest-kptwatch.sh KO KBUILD_DIR [OTHER_SYSTEM_MAP]}
other_map=${3:-}
pmd_iters=${KPT_PMD_ITERS:-32}
pud_iters=${KPT_PUD_ITERS:-1}
pte_iters=${KPT_PTE_ITERS:-200}

top=$(cd "$(dirname "$0")/../.." && pwd)
K=$top/build/kptwatch
D=/sys/kernel/debug/kptwatch_test
map=$kbuild/obj/System.map
tmp=$(mktemp -d)
passed=0
failed=0

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; }
finish() {
	umount /proc/kallsyms 2>/dev/null
	rmmod kptwatch_test 2>/dev/null
	rm -rf "$tmp"
	echo "kptwatch: $passed passed, $failed failed"
	# a bare exit in an EXIT trap keeps the status from before the trap
	exit $((failed > 0))
}
trap finish EXIT

[ -x "$K" ] || { fail setup "no $K (make all first)"; exit; }
[ -r "$map" ] || { fail setup "no $map"; exit; }

# probe NAME OUT [ARGS...]: kptwatch probe --json; sets $prc
probe() {
	local name=$1 out=$2
	shift 2
	"$K" probe --json "$@" >"$out" 2>"$out.err"
	prc=$?
}
# field FILE JQ
field() { jq -r "$2" "$1" 2>/dev/null; }

# --- a kernel without CONFIG_KALLSYMS_ALL (the -nokallsyms entries) ---
# Randomized bases that kallsyms does not list: it has text and section
# markers only. Without a System.map the layout is unknown, and probe and
# check exit 3 with a reason that names --system-map; with the build's
# System.map the layout comes from it, the bases are randomized, and check
# gives the verdict probe gives for the plan. Then real frees: the test
# module gets init_mm's address (tests/kmod/load.sh), and check
# --system-map must pass the workload and flag pte_bypass as on every
# other kernel.
nk=0
if grep -qx '# CONFIG_KALLSYMS_ALL is not set' "$kbuild/obj/.config"; then
	if grep -q ' vmemmap_base$\| init_mm$' /proc/kallsyms; then
		fail nokallsyms "kallsyms lists variables although KALLSYMS_ALL is off"
		exit
	fi
	probe "nokallsyms probe" "$tmp/nk.json"
	read -r src usable < <(field "$tmp/nk.json" '[.plan.layout.source, .plan.usable] | @tsv')
	why=$(field "$tmp/nk.json" .plan.layout.detail)
	if [ "$prc" = 3 ] && [ "$src" = unknown ] && [ "$usable" = true ] &&
		[[ $why == *"--system-map FILE"* ]]; then
		ok "nokallsyms probe: layout unknown, exit 3 ($why)"
	else
		fail "nokallsyms probe" "wanted layout unknown, exit 3, a --system-map hint; got exit $prc, $src, usable $usable ($why)"
	fi
	"$K" check --json -- true >"$tmp/nk-check.json" 2>"$tmp/nk-check.err"
	crc=$?
	if [ $crc = 3 ] && grep -q 'memory layout unknown' "$tmp/nk-check.json"; then
		ok "nokallsyms check: exit 3, layout unknown given as the reason"
	else
		fail "nokallsyms check" "wanted exit 3 and the layout reason, got exit $crc ($(head -c 300 "$tmp/nk-check.err"))"
	fi
	probe "nokallsyms probe --system-map" "$tmp/nk-map.json" --system-map "$map"
	read -r src vm po < <(field "$tmp/nk-map.json" '[.plan.layout.source,
		.plan.layout.vmemmap_base, .plan.layout.page_offset_base] | @tsv')
	case "$vm $po" in
	"0xffffea0000000000 0xffff888000000000" | "0xffd4000000000000 0xff11000000000000")
		src="$src with the default bases" ;;
	esac
	if [ "$src" = system-map ] && { [ "$prc" = 0 ] || [ "$prc" = 3 ]; }; then
		ok "nokallsyms probe --system-map: layout system-map, randomized bases ($vm, $po), exit $prc"
	else
		fail "nokallsyms probe --system-map" "wanted layout system-map with randomized bases; got exit $prc, $src ($(head -c 300 "$tmp/nk-map.json.err"))"
	fi
	"$K" check --json --system-map "$map" -- true >"$tmp/nk-map-check.json" 2>"$tmp/nk-map-check.err"
	crc=$?
	if [ $crc = "$prc" ] && { [ $crc = 0 ] || [ $crc = 3 ]; } &&
		! grep -q 'memory layout unknown' "$tmp/nk-map-check.json"; then
		ok "nokallsyms check --system-map: exit $crc, as probe says for the plan"
	else
		fail "nokallsyms check --system-map" "wanted exit $prc without a layout reason, got exit $crc ($(head -c 300 "$tmp/nk-map-check.err"))"
	fi
	nk=1
fi

"$top/tests/kmod/load.sh" "$ko" || { fail setup "insmod $ko: $(dmesg | tail -n 1)"; exit; }

if [ "$pud_iters" -gt 0 ] && grep -q '^vmap_pud_status=unsupported' $D/stats; then
	skip "vmap_pud in the workload" "$(sed -n 's/^vmap_pud_reason=//p' $D/stats)"
	pud_iters=0
fi
pud_run=
[ "$pud_iters" -gt 0 ] && pud_run=" && echo 'vmap_pud iters=$pud_iters' >$D/run"
workload=(sh -c "echo 'vmap_pmd iters=$pmd_iters' >$D/run$pud_run && echo 'pte_kernel iters=$pte_iters' >$D/run")
# Tables each run frees: one per vmap_pmd, a PMD table and its 512 PTE
# tables per vmap_pud, one per pte_kernel. Unpatched, every one of them is
# a violation, pte_kernel's at no named point.
want_q=$((pmd_iters + 513 * pud_iters + pte_iters))
want_v=$want_q
cfg=$kbuild/obj/.config
patched=1 shape=unpatched
if grep -q '^CONFIG_ASYNC_PGTABLE_FREE=y' "$cfg"; then
	shape=seed
elif grep -q '^CONFIG_ASYNC_KERNEL_PGTABLE_FREE=y' "$cfg"; then
	shape=upstream
else
	patched=0
fi
want_src=fixed
grep -q ' vmemmap_base$' "$map" && want_src=kallsyms

# check NAME OUT [ARGS...]: kptwatch check --json ARGS -- WORKLOAD, then
# the assertions of a patched or an unpatched kernel.
check() {
	local name=$1 out=$2 rc q f v t u n l
	shift 2
	"$K" check --json "$@" -- "${workload[@]}" >"$out" 2>"$out.err"
	rc=$?
	read -r q f v t u n l < <(field "$out" '[.counters.queued, .counters.freed_ok,
		.violations_total, .counters.walk_trunc, .counters.range_unknown,
		.counters["point.unnamed path"], .counters.table_linked] | @tsv')
	echo "# $name: exit $rc, queued $q, freed_ok $f, violations $v ($n at unnamed path)," \
		"table_linked $l, walk_trunc $t"
	if [ $patched = 1 ]; then
		if [ "$rc" = 0 ] && [ "${q:-0}" -ge $want_q ] && [ "$q" = "$f" ] &&
			[ "$v" = 0 ] && [ "$t" = 0 ] && [ "$u" = 0 ]; then
			ok "$name: exit 0, $q queued = $f freed after a flush"
		else
			fail "$name" "wanted exit 0 and queued = freed_ok >= $want_q, got exit $rc, queued $q, freed_ok $f, violations $v; reasons: $(field "$out" '[.reasons[].text] | join("; ")') ($(head -c 300 "$out.err"))"
		fi
	elif [ "$rc" = 1 ] && [ "${v:-0}" -ge $want_v ] && [ "${n:-0}" -ge "$pte_iters" ] &&
		[ "$t" = 0 ]; then
		ok "$name: exit 1, $v violations (the workload freed $want_v tables unflushed, $n at unnamed path)"
	else
		fail "$name" "wanted exit 1 and >= $want_v violations, >= $pte_iters at unnamed path; got exit $rc, $v, $n, walk_trunc $t ($(head -c 300 "$out.err"))"
	fi
}

# bypass: the module-only mutant. pte_bypass links a PTE table as
# pte_kernel does and frees it with free_page(): no enqueue point, no free
# point, on every kernel. Each table is known from its link, so each free
# is a violation at "unnamed path", patched or not.
bypass() {
	local out=$tmp/bypass.json rc q f v n l t
	if grep -q '^pte_bypass_status=unsupported' $D/stats; then
		fail "check pte_bypass" "the module cannot run it: $(sed -n 's/^pte_bypass_reason=//p' $D/stats)"
		return
	fi
	"$K" check --json "$@" -- sh -c "echo 'pte_bypass iters=$pte_iters' >$D/run" >"$out" 2>"$out.err"
	rc=$?
	read -r q f v n l t < <(field "$out" '[.counters.queued, .counters.freed_ok,
		.violations_total, .counters["point.unnamed path"], .counters.table_linked,
		.counters.walk_trunc] | @tsv')
	echo "# check pte_bypass: exit $rc, violations $v ($n at unnamed path), table_linked $l," \
		"queued $q, freed_ok $f; module: linked $(sed -n 's/^pte_bypass_linked=//p' $D/stats)," \
		"reached the allocator $(sed -n 's/^pte_bypass_pt_freed=//p' $D/stats)"
	if [ "$rc" = 1 ] && [ "$v" = "$pte_iters" ] && [ "$n" = "$pte_iters" ] && [ "$t" = 0 ]; then
		ok "check pte_bypass: exit 1, $v violations at unnamed path, one per free_page()"
	else
		fail "check pte_bypass" "wanted exit 1 and $pte_iters violations, all at unnamed path; got exit $rc, $v, $n, walk_trunc $t ($(head -c 300 "$out.err"))"
	fi
}

if [ $nk = 1 ]; then
	check "nokallsyms check --system-map -- WORKLOAD" "$tmp/nk-real.json" --system-map "$map"
	bypass --system-map "$map"
	exit
fi

# --- the layout from the kernel's own kallsyms ---
probe probe "$tmp/probe.json"
probe_rc=$prc
read -r src vm po pshape usable < <(field "$tmp/probe.json" '[.plan.layout.source,
	.plan.layout.vmemmap_base, .plan.layout.page_offset_base, .plan.shape, .plan.usable] | @tsv')
echo "# probe: exit $prc, shape $pshape, layout $src, vmemmap_base $vm, page_offset_base $po"
echo "# probe coverage: $(field "$tmp/probe.json" .plan.coverage)"
if [ "$pshape" = "$shape" ] && [ "$usable" = true ] && { [ "$prc" = 0 ] || [ "$prc" = 3 ]; } &&
	[ "$src" = "$want_src" ] && [ "$vm" != null ] && [ "$po" != null ]; then
	ok "probe: $shape shape, usable, layout $src"
else
	fail probe "wanted the $shape shape, usable, layout $want_src; got exit $prc, $pshape, usable $usable, layout $src ($(head -c 300 "$tmp/probe.json.err"))"
fi
if grep -q '^CONFIG_RANDOMIZE_MEMORY=y' "$cfg"; then
	case "$vm $po" in
	"0xffffea0000000000 0xffff888000000000" | "0xffd4000000000000 0xff11000000000000")
		fail "probe randomized" "RANDOMIZE_MEMORY kernel with default bases: the layout checks prove nothing" ;;
	*) ok "probe: the bases are randomized ($vm, $po)" ;;
	esac
fi
check check "$tmp/check.json"
bypass

# --- an attach refused: the fallbacks are loaded then, and take over ---
# kptwatch loads a kprobe twin (raw_tp behind tp_btf) only for a point
# that needs it. build/kptwatch-test refuses the attach that
# KPTWATCH_TEST_REFUSE names with EBUSY, as an ftrace user holding the
# function would: kptwatch must load again with every fallback, attach
# the twin, and judge the workload as before.
refused() {
	local func=$1 want=$2 was got n1
	was=$(field "$tmp/probe.json" ".plan.points[] | select(.func == \"$func\") | .method")
	if [ "$was" != "${3:-fentry}" ]; then
		skip "refused $func" "planned by ${was:-nothing} here, not ${3:-fentry}"
		return
	fi
	KPTWATCH_TEST_REFUSE=$func K=$top/build/kptwatch-test check "refused $func: check" \
		"$tmp/refused-$func.json"
	got=$(field "$tmp/refused-$func.json" ".plan.points[] | select(.func == \"$func\") | .method")
	n1=$(grep -c 'loading again with the fallbacks' "$tmp/refused-$func.json.err")
	if [ "$got" = "$want" ] && [ "$n1" = 1 ]; then
		ok "refused $func: loaded the fallbacks once, $func attached by $want"
	else
		fail "refused $func" "wanted $want and one reload, got ${got:-nothing}, $n1 reload(s) ($(grep -m2 'refused\|fallback' "$tmp/refused-$func.json.err"))"
	fi
}
refused pmd_free_pte_page kprobe
refused mm_page_free raw_tp tp_btf

# --- kallsyms as a kernel without CONFIG_KALLSYMS_ALL lists it ---
# Every kernel keeps its section markers, some typed as data: so does the copy.
awk '$2 !~ /^[dDbBrR]$/ || $3 ~ /^__(start|stop)_/' /proc/kallsyms >"$tmp/kallsyms" && mount --bind "$tmp/kallsyms" /proc/kallsyms ||
	{ fail nodata "cannot bind-mount a copy over /proc/kallsyms"; exit; }
if grep -q ' vmemmap_base$\| init_mm$' /proc/kallsyms; then
	fail nodata "data symbols still listed"
	exit
fi
rel=$(uname -r)
if [ -e "/boot/System.map-$rel" ] || [ -e "/lib/modules/$rel/build/System.map" ]; then
	skip "nodata probe" "a System.map for $rel is installed where kptwatch looks by default"
else
	probe "nodata probe" "$tmp/nodata.json"
	nsrc=$(field "$tmp/nodata.json" .plan.layout.source)
	if [ "$prc" = 3 ] && [ "$nsrc" = unknown ]; then
		ok "nodata probe: layout unknown, exit 3 ($(field "$tmp/nodata.json" .plan.layout.detail))"
	else
		fail "nodata probe" "wanted layout unknown and exit 3, got $nsrc, exit $prc"
	fi
	"$K" check --json -- true >"$tmp/nodata-check.json" 2>"$tmp/nodata-check.err"
	crc=$?
	if [ $crc = 3 ] && grep -q 'memory layout unknown' "$tmp/nodata-check.json"; then
		ok "nodata check: exit 3, layout unknown given as the reason"
	else
		fail "nodata check" "wanted exit 3 and the layout reason, got exit $crc"
	fi
fi

probe "nodata probe --system-map" "$tmp/map.json" --system-map "$map"
msrc=$(field "$tmp/map.json" .plan.layout.source)
mvm=$(field "$tmp/map.json" .plan.layout.vmemmap_base)
mpo=$(field "$tmp/map.json" .plan.layout.page_offset_base)
want=fixed
[ "$want_src" = kallsyms ] && want=system-map
if [ "$prc" = "$probe_rc" ] && [ "$msrc" = "$want" ] && [ "$mvm" = "$vm" ] && [ "$mpo" = "$po" ]; then
	ok "nodata probe --system-map: layout $msrc, the same bases as kallsyms gave, exit $prc"
else
	fail "nodata probe --system-map" "wanted exit $probe_rc, layout $want, bases $vm $po; got exit $prc, $msrc, $mvm $mpo ($(head -c 300 "$tmp/map.json.err"))"
fi
check "nodata check --system-map" "$tmp/map-check.json" --system-map "$map"

if [ -z "$other_map" ]; then
	skip "nodata --system-map OTHER" "no other kernel's System.map given"
else
	"$K" probe --system-map "$other_map" >/dev/null 2>"$tmp/other.err"
	orc=$?
	if [ $orc = 2 ] && grep -q 'does not match the running kernel' "$tmp/other.err" &&
		[ "$(wc -l <"$tmp/other.err")" = 1 ]; then
		ok "nodata --system-map OTHER: exit 2, $(sed 's/.*(\(.*\))/\1/' "$tmp/other.err")"
	else
		fail "nodata --system-map OTHER" "wanted exit 2 and 'does not match', got exit $orc: $(head -c 300 "$tmp/other.err")"
	fi
fi

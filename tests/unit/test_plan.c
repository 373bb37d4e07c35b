// SPDX-License-Identifier: GPL-2.0
/* Shape detection and the attach plan, fed with recorded BTF and kallsyms. */
#include <errno.h>
#include "attach.h"
#include "plan.h"
#include "unit.h"

static struct ksyms *ks;

/* A plan input as the running kernel would give it, from fixtures. */
static void input(struct plan_input *in, const char *name, bool kprobes, int fentry_err)
{
	char path[64], *btf, *sym;

	snprintf(path, sizeof(path), "%s.btf", name);
	btf = unit_fixture(path);
	snprintf(path, sizeof(path), "%s.kallsyms", name);
	sym = unit_fixture(path);
	ksyms_free(ks);
	ks = ksyms_parse(sym);
	memset(in, 0, sizeof(*in));
	in->kernel_btf = true;
	plan_input_from_listing(in, btf);
	in->ksyms = ks;
	in->kprobes = kprobes;
	in->fentry_err = fentry_err;
	free(btf);
	free(sym);
}

static void test_seed_fentry(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "seed", false, 0);
	plan_build(&in, &p);
	CHECK(p.shape == SHAPE_SEED, "shape %s", shape_name(p.shape));
	for (int i = 0; i < PP_PAGE_FREE; i++) {
		if (i == PP_ASYNC_FREE || i == PP_ASYNC_FREE_BOOTMEM) {
			CHECK(!p.pts[i].needed && p.pts[i].method == METH_MISSING,
			      "%s is v2's, not in this seed kernel", p.pts[i].func);
			continue;
		}
		if (i == PP_PAGETABLE_FREE_KERNEL) {
			CHECK(!p.pts[i].needed && p.pts[i].method == METH_MISSING,
			      "pagetable_free_kernel is not part of the seed");
			continue;
		}
		CHECK(p.pts[i].needed && p.pts[i].method == METH_FENTRY, "%s: %s (%s)",
		      p.pts[i].func, method_name(p.pts[i].method), p.pts[i].why);
	}
	CHECK(p.pts[PP_PAGE_FREE].method == METH_TP_BTF, "page free by tp_btf");
	CHECK(p.usable && p.complete && p.rule_sound, "seed plan must be complete");
	/*
	 * Issue 13 item 4: hot-remove's tables are known without the point
	 * (the walk, alloc_low_pages): it only names them. Not critical, in
	 * any shape: 6.12 with the series v2 inlines free_pagetable().
	 */
	CHECK(!p.pts[PP_FREE_PAGETABLE].critical, "free_pagetable names, it does not decide");
	CHECK(p.pts[PP_PTE_ALLOC_KERNEL].critical && p.pts[PP_ALLOC_LOW_PAGES].critical,
	      "the link points are critical: tables linked after the walk");
	/* every point attaches, but pfns cannot be trusted: not complete */
	in.layout.src = LAYOUT_UNKNOWN;
	plan_build(&in, &p);
	CHECK(p.usable && !p.complete && strstr(plan_coverage(&p), "layout unknown"),
	      "unknown layout: %s", plan_coverage(&p));
}

static void test_upstream_fentry(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "upstream", false, 0);
	plan_build(&in, &p);
	CHECK(p.shape == SHAPE_UPSTREAM, "shape %s", shape_name(p.shape));
	CHECK(p.pts[PP_PAGETABLE_FREE_KERNEL].method == METH_FENTRY, "pagetable_free_kernel");
	CHECK(!p.pts[PP_ASYNC_FREE_DTOR].needed && !p.pts[PP_ASYNC_FREE_PAGES].needed,
	      "the seed's entry points are not part of upstream");
	CHECK(!p.pts[PP_FREE_PAGETABLE].critical && p.pts[PP_FREE_PAGETABLE].method == METH_FENTRY,
	      "free_pagetable names hot-remove's frees; the tables are known without it");
	CHECK(p.usable && p.complete && p.rule_sound, "upstream plan must be complete");
}

static void test_unpatched_clone(void)
{
	struct plan_input in;
	struct plan p;
	const struct plan_point *fp;

	input(&in, "unpatched", true, 0);
	plan_build(&in, &p);
	fp = &p.pts[PP_FREE_PAGETABLE];
	CHECK(p.shape == SHAPE_UNPATCHED, "shape %s", shape_name(p.shape));
	CHECK(!p.pts[PP_INVAL].needed && !p.pts[PP_WORK_FUNC].needed, "no flush in this shape");
	/* issue 13 item 5: an .isra clone may take other arguments: not read */
	CHECK(fp->method == METH_MISSING, "isra clone not watched: %s on %s",
	      method_name(fp->method), fp->sym);
	CHECK(strstr(fp->why, "free_pagetable.isra.0 not watched"), "why names the clone: %s",
	      fp->why);
	CHECK(p.pts[PP_PMD_FREE_PTE_PAGE].method == METH_FENTRY, "pmd_free_pte_page by fentry");
	CHECK(p.usable && p.complete && p.rule_sound, "complete: free_pagetable only names");

	/* without kprobes: hot-remove's frees lose their name, not their verdict */
	input(&in, "unpatched", false, 0);
	plan_build(&in, &p);
	CHECK(p.pts[PP_FREE_PAGETABLE].method == METH_MISSING, "clone without kprobes");
	CHECK(p.usable && p.complete, "usable and complete");
}

static void test_host_refuses_fentry(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "host-6.18", false, -EPERM);
	plan_build(&in, &p);
	CHECK(p.shape == SHAPE_UNPATCHED, "host shape %s", shape_name(p.shape));
	for (int i = PP_PMD_FREE_PTE_PAGE; i <= PP_FREE_PAGETABLE; i++) {
		CHECK(p.pts[i].method == METH_MISSING, "%s must be missing", p.pts[i].func);
		CHECK(strstr(p.pts[i].why, "no kprobes"), "%s: why '%s'", p.pts[i].func, p.pts[i].why);
	}
	CHECK(strstr(p.pts[PP_PMD_FREE_PTE_PAGE].why, "EPERM"), "why names EPERM: %s",
	      p.pts[PP_PMD_FREE_PTE_PAGE].why);
	CHECK(!strcmp(p.pts[PP_FREE_PAGETABLE].sym, "free_pagetable.constprop.0"),
	      "host clone resolved: %s", p.pts[PP_FREE_PAGETABLE].sym);
	CHECK(p.pts[PP_PAGE_FREE].method == METH_TP_BTF, "tp_btf still fine");
	CHECK(!p.usable, "nothing to watch on the host");
	CHECK(strstr(plan_coverage(&p), "nothing"), "coverage: %s", plan_coverage(&p));
}

static void test_fentry_refused_kprobe_fallback(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "seed", true, -EPERM);
	plan_build(&in, &p);
	for (int i = 0; i < PP_PAGE_FREE; i++)
		if (p.pts[i].needed)
			CHECK(p.pts[i].method == METH_KPROBE, "%s: %s", p.pts[i].func,
			      method_name(p.pts[i].method));
	CHECK(p.complete && p.rule_sound, "kprobes give the same coverage");

	in.fentry_err = 0;
	in.force_kprobes = true;
	plan_build(&in, &p);
	CHECK(p.pts[PP_INVAL].method == METH_KPROBE && strstr(p.pts[PP_INVAL].why, "--kprobes"),
	      "--kprobes: %s", p.pts[PP_INVAL].why);
}

static void test_no_kernel_btf(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "seed", true, 0);
	in.kernel_btf = false;	/* BTF came from --btf */
	plan_build(&in, &p);
	CHECK(p.pts[PP_WORK_FUNC].method == METH_KPROBE, "kprobe without kernel BTF");
	CHECK(p.pts[PP_PAGE_FREE].method == METH_RAW_TP, "raw_tp without kernel BTF");
	CHECK(p.complete, "complete through kprobes and raw_tp");
	in.tp_btf_err = 0;
	in.kernel_btf = true;
	in.tp_btf_err = -EINVAL;
	plan_build(&in, &p);
	CHECK(p.pts[PP_PAGE_FREE].method == METH_RAW_TP, "raw_tp when tp_btf fails");
}

static void test_missing_inval(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "seed", false, 0);
	in.btf_func[PP_INVAL] = false;
	ksyms_free(ks);
	ks = ksyms_parse("ffffffff81271d00 T kernel_pgtable_async_free_dtor\n");
	in.ksyms = ks;
	plan_build(&in, &p);
	CHECK(p.shape == SHAPE_SEED, "still the seed");
	CHECK(p.pts[PP_INVAL].method == METH_MISSING, "inval missing");
	CHECK(!p.rule_sound && !p.complete, "flushes invisible: not sound");
	CHECK(strstr(p.pts[PP_PMD_FREE_PTE_PAGE].why, "kallsyms"),
	      "in BTF but not kallsyms: %s", p.pts[PP_PMD_FREE_PTE_PAGE].why);
}

static void test_mixed_and_drop(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "seed", false, 0);
	in.btf_func[PP_PAGETABLE_FREE_KERNEL] = true;
	plan_build(&in, &p);
	CHECK(p.shape == SHAPE_MIXED, "both enqueue kinds: %s", shape_name(p.shape));

	input(&in, "upstream", false, 0);
	plan_build(&in, &p);
	CHECK(p.complete, "complete before the drop");
	plan_drop(&p, PP_PAGETABLE_FREE_KERNEL, "fentry attach failed: EBUSY");
	CHECK(!p.complete && p.usable, "a dropped critical point makes it incomplete");
	CHECK(!strcmp(p.pts[PP_PAGETABLE_FREE_KERNEL].why, "fentry attach failed: EBUSY"), "why");
	plan_drop(&p, PP_PAGE_FREE, "raw_tp attach failed");
	CHECK(!p.usable, "no page free: unusable");
}

static void test_demote(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "seed", true, 0);
	plan_build(&in, &p);
	CHECK(!plan_demote(&p, "fexit_inval", -EINVAL), "fexit_inval demotes");
	CHECK(p.pts[PP_INVAL].method == METH_KPROBE &&
	      strstr(p.pts[PP_INVAL].why, "fexit_inval did not load"),
	      "inval to kprobe: %s", p.pts[PP_INVAL].why);
	CHECK(!plan_demote(&p, "kprobe_work_func", -EINVAL) && p.pts[PP_WORK_FUNC].no_twin &&
	      p.pts[PP_WORK_FUNC].method == METH_FENTRY, "a failed twin keeps fentry");
	CHECK(!plan_demote(&p, "fentry_work_func", -EINVAL) && p.pts[PP_WORK_FUNC].method == METH_MISSING,
	      "no twin left: missing");
	CHECK(!plan_demote(&p, "tp_btf_page_free", -EINVAL) && p.pts[PP_PAGE_FREE].method == METH_RAW_TP,
	      "tp_btf to raw_tp");
	CHECK(!plan_demote(&p, "raw_tp_page_free", -EINVAL) && !p.usable, "raw_tp gone: unusable");
	CHECK(plan_demote(&p, "raw_tp_page_free", -EINVAL) < 0, "nothing left to demote");
	CHECK(plan_demote(&p, "some_other_prog", -EINVAL) < 0, "unknown program");
	CHECK(plan_demote(&p, "fentry_nonexistent", -EINVAL) < 0, "unknown point");
}

/* Every clone of a function is an entry point: each gets a kprobe. */
static void test_two_clones(void)
{
	struct plan_input in;
	struct plan p;
	const struct plan_point *pt = &p.pts[PP_FREE_PAGETABLE];

	input(&in, "unpatched", true, 0);
	ksyms_free(ks);
	ks = ksyms_parse("ffffffff81086120 t free_pagetable.constprop.0\n"
			 "ffffffff81086400 t free_pagetable.constprop.1\n"
			 "ffffffff81086800 t free_pagetable.cold\n"
			 "ffffffff81084c40 T pmd_free_pte_page\n");
	in.ksyms = ks;
	plan_build(&in, &p);
	CHECK(pt->method == METH_KPROBE && !strcmp(pt->sym, "free_pagetable.constprop.0"),
	      "%s on %s", method_name(pt->method), pt->sym);
	CHECK(pt->nclones == 2 && !strcmp(pt->clones[0], "free_pagetable.constprop.0") &&
	      !strcmp(pt->clones[1], "free_pagetable.constprop.1"), "%d clones", pt->nclones);
	CHECK(!pt->partial, "both watched: %s", pt->why);
}

/*
 * Issue 13 item 5: a .part clone is an outlined tail with other arguments
 * and is never watched: with or without kprobes the point is partial,
 * and says why. pud_free_pmd_page() is not critical (its known tables
 * are caught without it), so the plan stays complete.
 */
static void test_fentry_and_clone(void)
{
	struct plan_input in;
	struct plan p;
	const struct plan_point *pt = &p.pts[PP_PUD_FREE_PMD_PAGE];

	for (int kprobes = 1; kprobes >= 0; kprobes--) {
		input(&in, "unpatched", kprobes, 0);
		ksyms_free(ks);
		ks = ksyms_parse("ffffffff81084a10 T pud_free_pmd_page\n"
				 "ffffffff81084b10 t pud_free_pmd_page.part.0\n"
				 "ffffffff81084c40 T pmd_free_pte_page\n"
				 "ffffffff81086120 t free_pagetable.constprop.0\n"
				 "ffffffff81086200 t free_pagetable.isra.0\n");
		in.ksyms = ks;
		plan_build(&in, &p);
		CHECK(pt->method == METH_FENTRY && pt->nclones == 0, "kprobes %d: %s, %d clones",
		      kprobes, method_name(pt->method), pt->nclones);
		CHECK(pt->partial && strstr(pt->why, "pud_free_pmd_page.part.0) not watched"),
		      "kprobes %d: %s", kprobes, pt->why);
		CHECK(!pt->critical, "pud_free_pmd_page is not critical");
		if (!kprobes)
			continue;
		/* free_pagetable: the .constprop clone is read, the .isra one is not */
		CHECK(!strcmp(p.pts[PP_FREE_PAGETABLE].sym, "free_pagetable.constprop.0") &&
		      p.pts[PP_FREE_PAGETABLE].partial &&
		      strstr(p.pts[PP_FREE_PAGETABLE].why, "free_pagetable.isra.0"),
		      "free_pagetable on %s: %s", p.pts[PP_FREE_PAGETABLE].sym,
		      p.pts[PP_FREE_PAGETABLE].why);
	}
}

/* A .constprop clone of a point that reads its later arguments: not read. */
static void test_constprop_clone(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "unpatched", true, 0);
	ksyms_free(ks);
	ks = ksyms_parse("ffffffff81084a10 T pud_free_pmd_page\n"
			 "ffffffff81084c40 t pmd_free_pte_page.constprop.0\n"
			 "ffffffff81086120 t free_pagetable\n");
	in.ksyms = ks;
	plan_build(&in, &p);
	CHECK(p.pts[PP_PMD_FREE_PTE_PAGE].nclones == 0, "pmd_free_pte_page's addr may move");
	CHECK(strstr(p.pts[PP_PMD_FREE_PTE_PAGE].why, "pmd_free_pte_page.constprop.0"),
	      "why names the clone: %s", p.pts[PP_PMD_FREE_PTE_PAGE].why);
}

/* More clones than kprobes we place: the rest are said to be unseen. */
static void test_many_clones(void)
{
	struct plan_input in;
	struct plan p;
	const struct plan_point *pt = &p.pts[PP_FREE_PAGETABLE];

	input(&in, "unpatched", true, 0);
	ksyms_free(ks);
	ks = ksyms_parse("ffffffff81086100 t free_pagetable.isra.0\n"
			 "ffffffff81086200 t free_pagetable.isra.1\n"
			 "ffffffff81086300 t free_pagetable.constprop.0\n"
			 "ffffffff81086400 t free_pagetable.constprop.1\n"
			 "ffffffff81086500 t free_pagetable.part.0\n"
			 "ffffffff81070100 T __pte_alloc_kernel\n"
			 "ffffffff81070200 T __pmd_alloc\n"
			 "ffffffff81070300 T __pud_alloc\n"
			 "ffffffff81070400 T __p4d_alloc\n"
			 "ffffffff81071000 T alloc_low_pages\n"
			 "ffffffff81084a10 T pud_free_pmd_page\n"
			 "ffffffff81084c40 T pmd_free_pte_page\n");
	in.ksyms = ks;
	plan_build(&in, &p);
	/* the two .constprop clones are read; .isra and .part are not */
	CHECK(pt->method == METH_KPROBE && pt->nclones == 2 && pt->partial &&
	      strstr(pt->why, "3 clone(s) (free_pagetable.isra.0) not watched"), "%d clones: %s",
	      pt->nclones, pt->why);
	CHECK(!pt->critical && p.complete, "a partial free point only names: %s",
	      plan_coverage(&p));
	/* four: all watched, and nothing else is missing */
	ksyms_free(ks);
	ks = ksyms_parse("ffffffff81086100 t free_pagetable.constprop.2\n"
			 "ffffffff81086200 t free_pagetable.constprop.3\n"
			 "ffffffff81086300 t free_pagetable.constprop.0\n"
			 "ffffffff81086400 t free_pagetable.constprop.1\n"
			 "ffffffff81070100 T __pte_alloc_kernel\n"
			 "ffffffff81070200 T __pmd_alloc\n"
			 "ffffffff81070300 T __pud_alloc\n"
			 "ffffffff81070400 T __p4d_alloc\n"
			 "ffffffff81071000 T alloc_low_pages\n"
			 "ffffffff81084a10 T pud_free_pmd_page\n"
			 "ffffffff81084c40 T pmd_free_pte_page\n");
	in.ksyms = ks;
	plan_build(&in, &p);
	CHECK(pt->nclones == 4 && !pt->partial && p.complete, "4 clones: %s; %s", pt->why,
	      plan_coverage(&p));
}

static void test_resolve(void)
{
	struct ksyms *k = ksyms_parse(
		"ffffffff81000010 t foo.cold\n"
		"ffffffff81000020 t foo.part.0\n"
		"ffffffff81000030 t foo\n"
		"ffffffff81000040 t foobar\n"
		"ffffffff81000050 t bar.constprop.0\n"
		"ffffffff81000060 t bar.isra.0\n"
		"ffffffff81000070 d baz.isra.0\n"
		"ffffffff81000080 t qux.cold.1\n");
	const char *s;

	CHECK(ksyms_resolve(k, "foo", &s) == 2 && !strcmp(s, "foo"), "exact wins: %s", s);
	CHECK(ksyms_resolve(k, "bar", &s) == 2 && !strcmp(s, "bar.constprop.0"), "first clone: %s", s);
	CHECK(ksyms_resolve(k, "baz", &s) == 0 && !s, "data symbols are no functions");
	CHECK(ksyms_resolve(k, "qux", &s) == 0 && !s, ".cold is no entry");
	CHECK(ksyms_resolve(k, "fo", &s) == 0, "a prefix is no clone");
	CHECK(ksyms_resolve(NULL, "foo", &s) == 0 && !s, "no kallsyms");
	ksyms_free(k);
}

/* The preemption model, from the strings the kernel gives. */
static void test_preempt_model(void)
{
	static const struct {
		const char *version, *sched;
		enum kpt_preempt want;
		const char *desc;
	} c[] = {
		{ "#1 SMP Debian 6.1.158-1", NULL, PREEMPT_NO, "not preemptible" },
		{ "#1 SMP PREEMPT Wed Dec  2 10:00:00 UTC 2026", NULL, PREEMPT_FULL, "PREEMPT (" },
		{ "#1 SMP PREEMPT_RT Debian 6.12.57-1", NULL, PREEMPT_FULL, "PREEMPT_RT" },
		{ "#1 SMP PREEMPT_DYNAMIC Debian 6.12.57-1", "none (voluntary) full\n",
		  PREEMPT_NO, "preempt=voluntary" },
		{ "#1 SMP PREEMPT_DYNAMIC Debian 6.12.57-1", "(none) voluntary full\n",
		  PREEMPT_NO, "preempt=none" },
		{ "#1 SMP PREEMPT_DYNAMIC @0", "none voluntary (full)\n", PREEMPT_FULL,
		  "preempt=full" },
		{ "#1 SMP PREEMPT_DYNAMIC", "none voluntary full (lazy)\n", PREEMPT_FULL,
		  "preempt=lazy" },
		{ "#1 SMP PREEMPT_DYNAMIC", NULL, PREEMPT_UNKNOWN, "unreadable" },
	};
	char d[96];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		enum kpt_preempt m = preempt_model(c[i].version, c[i].sched, d, sizeof(d));

		CHECK(m == c[i].want && strstr(d, c[i].desc), "%s / %s: got %d '%s'",
		      c[i].version, c[i].sched ? c[i].sched : "-", m, d);
	}
}

/*
 * On a fully preemptible kernel the task-context points take kprobes: a
 * task preempted inside an fentry program made the hand-overs of the
 * others on its CPU go unseen (6.12-patched-debug, PREEMPT: thousands of
 * recursion misses under churn, and their tables' frees looked like
 * bypasses). The page-free tracepoint keeps tp_btf: tracepoints run with
 * preemption off. Unknown keeps fentry: the misses are counted.
 */
static void test_preempt_plan(void)
{
	struct plan_input in;
	struct plan p;

	input(&in, "seed", true, 0);
	in.preempt = PREEMPT_FULL;
	snprintf(in.preempt_desc, sizeof(in.preempt_desc), "PREEMPT (uname -v)");
	plan_build(&in, &p);
	CHECK(p.pts[PP_ASYNC_FREE_DTOR].method == METH_KPROBE &&
	      strstr(p.pts[PP_ASYNC_FREE_DTOR].why, "fully preemptible"),
	      "hand-over by kprobe: %s (%s)", method_name(p.pts[PP_ASYNC_FREE_DTOR].method),
	      p.pts[PP_ASYNC_FREE_DTOR].why);
	CHECK(p.pts[PP_PTE_ALLOC_KERNEL].method == METH_KPROBE, "link point by kprobe");
	CHECK(p.pts[PP_PAGE_FREE].method == METH_TP_BTF, "page free stays tp_btf");
	CHECK(p.usable && p.complete, "complete: %s", plan_coverage(&p));
	in.preempt = PREEMPT_UNKNOWN;
	plan_build(&in, &p);
	CHECK(p.pts[PP_ASYNC_FREE_DTOR].method == METH_FENTRY, "unknown: fentry");
	/* without kprobes fentry is all there is */
	input(&in, "seed", false, 0);
	in.preempt = PREEMPT_FULL;
	plan_build(&in, &p);
	CHECK(p.pts[PP_ASYNC_FREE_DTOR].method == METH_FENTRY, "no kprobes: fentry");
}

/*
 * Issue 8: the tables CPA's large-page splits link are learned at the exit
 * of __change_page_attr_set_clr(): fexit alone (it reads the arguments),
 * kprobe and kretprobe as the fallback. The point is optional: a kernel
 * without it is as complete as before, and probe's tables: line says
 * whether the splits are seen.
 */
static void test_cpa_split(void)
{
	const struct plan_point *pt;
	struct plan_input in;
	struct plan p;
	char mb[320];

	input(&in, "upstream", false, 0);
	plan_build(&in, &p);
	pt = &p.pts[PP_CPA_SPLIT];
	CHECK(pt->method == METH_FENTRY && pt->exit_only && pt->paired && pt->role == ROLE_LINK,
	      "%s by %s", pt->func, method_name(pt->method));
	CHECK(pt->needed && !pt->critical, "optional");
	CHECK(p.complete, "complete");
	CHECK(strstr(plan_membership(&p, mb, sizeof(mb)), "and CPA's large-page splits"),
	      "tables: %s", mb);
	CHECK(!strstr(mb, "CPA splits"), "not listed as unseen: %s", mb);

	plan_drop(&p, PP_CPA_SPLIT, "fexit attach failed: EBUSY");
	CHECK(p.complete && p.usable, "still complete without it");
	CHECK(strstr(plan_membership(&p, mb, sizeof(mb)),
		     "CPA splits: __change_page_attr_set_clr not watched"), "tables: %s", mb);

	/* a link point missing as well: the line says both */
	plan_drop(&p, PP_PMD_ALLOC, "fentry attach failed: EBUSY");
	CHECK(strstr(plan_membership(&p, mb, sizeof(mb)), "through __pmd_alloc") &&
	      strstr(mb, "CPA splits not seen"), "tables: %s", mb);

	/* no fentry: the kprobe pair, on the kallsyms name */
	input(&in, "upstream", true, -EPERM);
	plan_build(&in, &p);
	CHECK(p.pts[PP_CPA_SPLIT].method == METH_KPROBE &&
	      !strcmp(p.pts[PP_CPA_SPLIT].sym, "__change_page_attr_set_clr"),
	      "kprobe on %s", p.pts[PP_CPA_SPLIT].sym);
	CHECK(strstr(plan_membership(&p, mb, sizeof(mb)), "and CPA's large-page splits"),
	      "tables: %s", mb);

	/* not in this kernel at all: missing, with its cost, not incomplete */
	input(&in, "upstream", false, 0);
	in.btf_func[PP_CPA_SPLIT] = false;
	ksyms_free(ks);
	ks = ksyms_parse("ffffffff812a0300 T pagetable_free_kernel\n"
			 "ffffffff81070100 T __pte_alloc_kernel\n");
	in.ksyms = ks;
	plan_build(&in, &p);
	CHECK(p.pts[PP_CPA_SPLIT].method == METH_MISSING && strstr(p.pts[PP_CPA_SPLIT].cost, "CPA"),
	      "missing: %s", p.pts[PP_CPA_SPLIT].why);
	CHECK(strstr(plan_membership(&p, mb, sizeof(mb)), "CPA splits not seen"), "tables: %s", mb);
}

int main(void)
{
	RUN(test_seed_fentry);
	RUN(test_upstream_fentry);
	RUN(test_unpatched_clone);
	RUN(test_host_refuses_fentry);
	RUN(test_fentry_refused_kprobe_fallback);
	RUN(test_no_kernel_btf);
	RUN(test_missing_inval);
	RUN(test_mixed_and_drop);
	RUN(test_demote);
	RUN(test_two_clones);
	RUN(test_fentry_and_clone);
	RUN(test_constprop_clone);
	RUN(test_many_clones);
	RUN(test_resolve);
	RUN(test_preempt_model);
	RUN(test_preempt_plan);
	RUN(test_cpa_split);
	ksyms_free(ks);
	return unit_done();
}

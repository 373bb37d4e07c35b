// SPDX-License-Identifier: GPL-2.0
/*
 * Shape detection and the attach plan (design.md, "Kernel shapes").
 *
 * A point exists if BTF or kallsyms knows it. fentry needs the kernel's
 * BTF, the function in it, and the exact name in kallsyms: the kernel
 * resolves the trampoline's address by the BTF name, so a function that
 * only survives as "free_pagetable.constprop.0" cannot take fentry. kprobes
 * attach to the clone itself. Nothing is guessed: every point carries why
 * it got its method and what its absence costs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "plan.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* the kernel's, not in libc */
#endif

static const struct {
	const char *func, *prog;
	enum kpt_role role;
	bool paired, exit_only;
} points[PP_MAX] = {
	[PP_ASYNC_FREE_DTOR] = { "kernel_pgtable_async_free_dtor", "async_free_dtor",
				 ROLE_ENQUEUE },
	[PP_ASYNC_FREE_LIST] = { "kernel_pgtable_async_free_page_list", "async_free_page_list",
				 ROLE_ENQUEUE },
	[PP_ASYNC_FREE_PAGES] = { "kernel_pgtable_async_free_pages", "async_free_pages",
				  ROLE_ENQUEUE },
	[PP_ASYNC_FREE] = { "kernel_pgtable_async_free", "async_free", ROLE_ENQUEUE },
	[PP_ASYNC_FREE_BOOTMEM] = { "kernel_pgtable_async_free_bootmem", "async_free_bootmem",
				    ROLE_ENQUEUE },
	[PP_PAGETABLE_FREE_KERNEL] = { "pagetable_free_kernel", "pagetable_free_kernel",
				       ROLE_ENQUEUE },
	[PP_WORK_FUNC] = { "kernel_pgtable_work_func", "work_func", ROLE_DRAIN, true },
	[PP_INVAL] = { "iommu_sva_invalidate_kva_range", "inval", ROLE_INVAL, true },
	[PP_PMD_FREE_PTE_PAGE] = { "pmd_free_pte_page", "pmd_free_pte_page", ROLE_FREE },
	[PP_PUD_FREE_PMD_PAGE] = { "pud_free_pmd_page", "pud_free_pmd_page", ROLE_FREE },
	[PP_FREE_PAGETABLE] = { "free_pagetable", "free_pagetable", ROLE_FREE },
	[PP_PTE_ALLOC_KERNEL] = { "__pte_alloc_kernel", "pte_alloc_kernel", ROLE_LINK, true },
	[PP_PMD_ALLOC] = { "__pmd_alloc", "pmd_alloc", ROLE_LINK, true },
	[PP_PUD_ALLOC] = { "__pud_alloc", "pud_alloc", ROLE_LINK, true },
	[PP_P4D_ALLOC] = { "__p4d_alloc", "p4d_alloc", ROLE_LINK, true },
	[PP_ALLOC_LOW_PAGES] = { "alloc_low_pages", "alloc_low_pages", ROLE_LINK, true },
	/* x86 CPA: the tables its large-page splits link, found in the range it changed */
	[PP_CPA_SPLIT] = { "__change_page_attr_set_clr", "cpa_split", ROLE_LINK, true, true },
	[PP_PAGE_FREE] = { "mm_page_free", "page_free", ROLE_PAGE_FREE },
};

/* The word in parentheses of sched/preempt: the mode in use. */
static bool sched_mode_is(const char *sched_preempt, const char *mode)
{
	const char *p = strchr(sched_preempt, '(');
	size_t n = strlen(mode);

	return p && !strncmp(p + 1, mode, n) && p[1 + n] == ')';
}

enum kpt_preempt preempt_model(const char *version, const char *sched_preempt, char *desc,
			       size_t len)
{
	const char *p = version ? strstr(version, "PREEMPT") : NULL;

	if (!p) {
		snprintf(desc, len, "not preemptible (uname -v)");
		return PREEMPT_NO;
	}
	if (!strncmp(p, "PREEMPT_RT", 10)) {
		snprintf(desc, len, "PREEMPT_RT (uname -v)");
		return PREEMPT_FULL;
	}
	if (strncmp(p, "PREEMPT_DYNAMIC", 15)) {
		snprintf(desc, len, "PREEMPT (uname -v)");
		return PREEMPT_FULL;
	}
	if (!sched_preempt || !strchr(sched_preempt, '(')) {
		snprintf(desc, len, "PREEMPT_DYNAMIC, mode unknown: "
			 "/sys/kernel/debug/sched/preempt unreadable");
		return PREEMPT_UNKNOWN;
	}
	if (sched_mode_is(sched_preempt, "none") || sched_mode_is(sched_preempt, "voluntary")) {
		snprintf(desc, len, "PREEMPT_DYNAMIC, preempt=%s",
			 sched_mode_is(sched_preempt, "none") ? "none" : "voluntary");
		return PREEMPT_NO;
	}
	snprintf(desc, len, "PREEMPT_DYNAMIC, preempt=%.*s", (int)strcspn(
		 strchr(sched_preempt, '(') + 1, ")"), strchr(sched_preempt, '(') + 1);
	return PREEMPT_FULL;
}

const char *shape_name(enum kpt_shape s)
{
	static const char *const n[] = { "unpatched", "seed", "upstream", "mixed" };

	return n[s];
}

const char *method_name(enum kpt_method m)
{
	static const char *const n[] = { "missing", "fentry", "kprobe", "tp_btf", "raw_tp" };

	return n[m];
}

const char *role_name(enum kpt_role r)
{
	static const char *const n[] = { "enqueue", "drain", "invalidate", "free", "link",
					 "page free" };

	return n[r];
}

const char *plan_btf_name(int idx, char *buf, size_t len)
{
	if (idx == PP_PAGE_FREE)
		snprintf(buf, len, "btf_trace_%s", points[idx].func);
	else
		snprintf(buf, len, "%s", points[idx].func);
	return buf;
}

void plan_input_from_listing(struct plan_input *in, const char *listing)
{
	char want[128], name[96];

	in->btf_loaded = listing != NULL;
	for (int i = 0; listing && i < PP_MAX; i++) {
		plan_btf_name(i, name, sizeof(name));
		snprintf(want, sizeof(want), "%s '%s'",
			 i == PP_PAGE_FREE ? "TYPEDEF" : "FUNC", name);
		in->btf_func[i] = strstr(listing, want) != NULL;
	}
}

static bool exists(const struct plan_point *pt)
{
	return pt->in_btf || pt->nsyms > 0;
}

static enum kpt_shape detect(const struct plan *p)
{
	bool seed = exists(&p->pts[PP_ASYNC_FREE_DTOR]) || exists(&p->pts[PP_ASYNC_FREE_LIST]) ||
		    exists(&p->pts[PP_ASYNC_FREE_PAGES]) || exists(&p->pts[PP_ASYNC_FREE]) ||
		    exists(&p->pts[PP_ASYNC_FREE_BOOTMEM]);
	bool up = exists(&p->pts[PP_PAGETABLE_FREE_KERNEL]);

	if (seed && up)
		return SHAPE_MIXED;
	if (seed)
		return SHAPE_SEED;
	if (up)
		return SHAPE_UPSTREAM;
	/* a drain or flush without any enqueue point is still no deferral */
	return SHAPE_UNPATCHED;
}

/* Which points the shape needs, and which of them the verdict cannot lose. */
static void classify(struct plan *p)
{
	bool patched = p->shape != SHAPE_UNPATCHED;

	for (int i = 0; i < PP_MAX; i++) {
		struct plan_point *pt = &p->pts[i];

		switch (i) {
		case PP_ASYNC_FREE_DTOR: case PP_ASYNC_FREE_LIST: case PP_ASYNC_FREE_PAGES:
		case PP_ASYNC_FREE: case PP_ASYNC_FREE_BOOTMEM:
			/* v1 and v2 of the series name them differently: what exists */
			pt->needed = pt->critical = (p->shape == SHAPE_SEED ||
						     p->shape == SHAPE_MIXED) && exists(pt);
			pt->cost = "pages deferred here look freed without a flush: "
				   "false violations";
			break;
		case PP_PAGETABLE_FREE_KERNEL:
			pt->needed = pt->critical = p->shape == SHAPE_UPSTREAM ||
						    p->shape == SHAPE_MIXED;
			pt->cost = "pages deferred here look freed without a flush: "
				   "false violations";
			break;
		case PP_WORK_FUNC:
			pt->needed = patched;
			pt->cost = "no drain figures (enq_to_drain, drain, drain_pages); "
				   "verdict unaffected";
			break;
		case PP_INVAL:
			pt->needed = pt->critical = patched;
			pt->cost = "no flush is visible: every deferred page would look like "
				   "a violation";
			break;
		case PP_PMD_FREE_PTE_PAGE: case PP_PUD_FREE_PMD_PAGE:
			/*
			 * Known tables freed here are caught without the point;
			 * it names the path and gives the VA the range check needs.
			 */
			pt->needed = true;
			pt->critical = false;
			pt->cost = "VA of tables freed here unknown: no range check; their "
				   "violations are named \"unnamed path\"";
			break;
		case PP_FREE_PAGETABLE:
			/*
			 * Issue 13 item 4 asked for this point to be critical,
			 * back when the free points decided which pages were
			 * watched. They no longer do: a hot-removed table is
			 * known from the walk or alloc_low_pages() and judged
			 * without the point, and its vmemmap data pages are no
			 * table either way. 6.12 with the series inlines the
			 * function altogether.
			 */
			pt->needed = true;
			pt->critical = false;
			pt->cost = "hot-remove's tables are named \"unnamed path\" and have no VA "
				   "for the range check";
			break;
		case PP_PTE_ALLOC_KERNEL: case PP_PMD_ALLOC: case PP_PUD_ALLOC: case PP_P4D_ALLOC:
		case PP_ALLOC_LOW_PAGES:
			/* a function the kernel lacks links no table (__p4d_alloc: 4-level) */
			pt->needed = pt->critical = exists(pt);
			pt->cost = "tables linked here after the start are unknown: their "
				   "frees go unjudged";
			break;
		case PP_CPA_SPLIT:
			/*
			 * Optional: without it the tables CPA splits off are
			 * judged only when handed to the deferral, as before
			 * the point existed; a verdict is no less complete
			 * than it was. probe's tables: line says which.
			 */
			pt->needed = true;
			pt->critical = false;
			pt->cost = "tables CPA links by splitting a large page after the start are "
				   "unknown: one freed past the deferral (a 7.x collapse) goes unseen";
			break;
		case PP_PAGE_FREE:
			pt->needed = pt->critical = true;
			pt->cost = "no page is seen reaching the allocator: nothing can be checked";
			break;
		}
	}
}

void plan_errstr(int err, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s)", err == -EPERM ? "EPERM" : err == -ENOTSUPP ? "ENOTSUPP" :
		 err == -EOPNOTSUPP ? "EOPNOTSUPP" : err == -EINVAL ? "EINVAL" :
		 err == -ENOENT ? "ENOENT" : "error",
		 err == -ENOTSUPP ? "not supported" : strerror(-err));
}

void plan_partial(struct plan_point *pt, const char *fmt, ...)
{
	size_t n = strlen(pt->why);
	va_list ap;

	pt->partial = true;
	if (n && n + 2 < sizeof(pt->why)) {
		strcpy(pt->why + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(pt->why + n, sizeof(pt->why) - n, fmt, ap);
	va_end(ap);
}

/*
 * May a compiler clone of point idx be watched with the point's own
 * argument decoding? GCC's clones name what they did to the arguments:
 * .isra (IPA-SRA) replaces or drops parameters, .part (partial inlining)
 * takes whatever the outlined tail needs, so neither is read as the
 * original. .constprop (IPA-CP) removes the parameters that are the same
 * constant at every call and keeps the others in order: the first one
 * (a page, ptdesc or entry pointer, never constant across calls) stays
 * where it was, later ones may move. So a .constprop clone is watched
 * only where the point reads nothing past its first argument, or where
 * what it reads past it cannot change the verdict (the order of
 * free_pagetable() and kernel_pgtable_async_free_pages(): pfns are
 * matched by their first page). .cold is no entry point; other suffixes
 * (.llvm.N, .lto_priv.N) are renames with the original arguments.
 */
static bool clone_safe(int idx, const char *name)
{
	if (strstr(name, ".isra.") || strstr(name, ".part."))
		return false;
	if (!strstr(name, ".constprop."))
		return true;
	switch (idx) {
	case PP_ASYNC_FREE_DTOR: case PP_ASYNC_FREE_LIST: case PP_ASYNC_FREE_PAGES:
	case PP_ASYNC_FREE: case PP_ASYNC_FREE_BOOTMEM: case PP_PAGETABLE_FREE_KERNEL:
	case PP_WORK_FUNC: case PP_FREE_PAGETABLE: case PP_PTE_ALLOC_KERNEL:
	case PP_CPA_SPLIT:
		return true;
	}
	return false;
}

/*
 * Keep the clones of a point that can be watched; the function's own
 * kallsyms name may itself be a clone (sym). Returns how many clones
 * were left out, and the first of them in *skipped.
 */
static int filter_clones(const struct plan_input *in, int idx, struct plan_point *pt,
			 const char **skipped)
{
	const char *all[64], *sym = NULL;
	int n = ksyms_clones(in->ksyms, pt->func, all, 64), out = 0;

	pt->nclones = 0;
	*skipped = NULL;
	for (int i = 0; i < n && i < 64; i++) {
		if (strstr(all[i], ".cold"))
			continue;
		if (!clone_safe(idx, all[i])) {
			if (!out++)
				*skipped = all[i];
			continue;
		}
		if (pt->nclones < KPT_MAX_CLONES)
			snprintf(pt->clones[pt->nclones], sizeof(pt->clones[0]), "%s",
				 all[i]);
		pt->nclones++;
		if (!sym)
			sym = all[i];
	}
	/* only clones in kallsyms and the one chosen cannot be read: take a safe one */
	if (strcmp(pt->sym, pt->func) && !clone_safe(idx, pt->sym)) {
		if (sym)
			snprintf(pt->sym, sizeof(pt->sym), "%s", sym);
		else
			pt->nsyms = 0;
	}
	return out;
}

/* The compiler's specialisations are other entry points: each needs a kprobe. */
static void check_clones(const struct plan_input *in, struct plan_point *pt)
{
	if (pt->nclones && !in->kprobes)
		plan_partial(pt, "calls to %d clone(s) (%s) unseen: no kprobes", pt->nclones,
			     pt->clones[0]);
	else if (pt->nclones > KPT_MAX_CLONES)
		plan_partial(pt, "%d clones, kprobes on the first %d", pt->nclones, KPT_MAX_CLONES);
}

static void choose(const struct plan_input *in, struct plan_point *pt)
{
	char e[96];
	const char *nokp = in->kprobes ? "" :
		"; no kprobes (no kprobe PMU, no kprobe_events)";
	bool clone = pt->nsyms > 0 && strcmp(pt->sym, pt->func);

	if (!exists(pt)) {
		pt->method = METH_MISSING;
		snprintf(pt->why, sizeof(pt->why), "not in BTF nor kallsyms");
		return;
	}
	if (pt->role == ROLE_PAGE_FREE) {
		if (in->kernel_btf && pt->in_btf && !in->tp_btf_err) {
			pt->method = METH_TP_BTF;
			return;
		}
		pt->method = METH_RAW_TP;
		if (!in->kernel_btf)
			snprintf(pt->why, sizeof(pt->why), "kernel has no BTF: no tp_btf");
		else if (!pt->in_btf)
			snprintf(pt->why, sizeof(pt->why), "no btf_trace_mm_page_free in BTF");
		else
			plan_errstr(in->tp_btf_err, e, sizeof(e)),
			snprintf(pt->why, sizeof(pt->why), "tp_btf did not load: %s", e);
		return;
	}
	if (in->force_kprobes)
		snprintf(pt->why, sizeof(pt->why), "--kprobes given");
	else if (!in->kernel_btf)
		snprintf(pt->why, sizeof(pt->why), "kernel has no BTF: no fentry");
	else if (!pt->in_btf && clone)
		snprintf(pt->why, sizeof(pt->why), "not in BTF, only the clone %s: no fentry",
			 pt->sym);
	else if (!pt->in_btf)
		snprintf(pt->why, sizeof(pt->why), "not in BTF: no fentry");
	else if (in->ksyms && !pt->nsyms)
		snprintf(pt->why, sizeof(pt->why), "in BTF but not in kallsyms (inlined?)");
	else if (in->ksyms && clone)
		snprintf(pt->why, sizeof(pt->why),
			 "only the clone %s in kallsyms: fentry needs the exact name",
			 pt->sym);
	else if (in->fentry_err)
		plan_errstr(in->fentry_err, e, sizeof(e)),
		snprintf(pt->why, sizeof(pt->why), "kernel refused fentry: %s", e);
	else if (in->preempt == PREEMPT_FULL && in->kprobes && pt->nsyms > 0)
		snprintf(pt->why, sizeof(pt->why),
			 "fully preemptible kernel (%s): a preempted fentry program makes "
			 "its next run on the CPU miss", in->preempt_desc);
	else {
		pt->method = METH_FENTRY;
		check_clones(in, pt);
		return;
	}
	if (in->kprobes && pt->nsyms > 0) {
		pt->method = METH_KPROBE;
		check_clones(in, pt);
		return;
	}
	pt->method = METH_MISSING;
	if (in->kprobes && !in->ksyms)
		strncat(pt->why, "; kallsyms unreadable: no kprobe",
			sizeof(pt->why) - strlen(pt->why) - 1);
	else if (in->kprobes)
		strncat(pt->why, "; not in kallsyms: no kprobe",
			sizeof(pt->why) - strlen(pt->why) - 1);
	else
		strncat(pt->why, nokp, sizeof(pt->why) - strlen(pt->why) - 1);
}

void plan_finish(struct plan *p)
{
	bool qp = false;

	p->complete = true;
	for (int i = 0; i < PP_MAX; i++) {
		const struct plan_point *pt = &p->pts[i];
		bool ok = pt->method != METH_MISSING;

		if (ok && (pt->role == ROLE_ENQUEUE || pt->role == ROLE_FREE ||
			   pt->role == ROLE_LINK))
			qp = true;
		if (pt->critical && (!ok || pt->partial))
			p->complete = false;
	}
	/* every page is matched by pfn: a wrong base loses all of them */
	if (p->layout.src == LAYOUT_UNKNOWN)
		p->complete = false;
	p->usable = qp && p->pts[PP_PAGE_FREE].method != METH_MISSING;
	p->rule_sound = p->shape == SHAPE_UNPATCHED || p->pts[PP_INVAL].method != METH_MISSING;
}

void plan_build(const struct plan_input *in, struct plan *p)
{
	const char *skipped[PP_MAX] = {};
	int nskipped[PP_MAX] = {};

	memset(p, 0, sizeof(*p));
	p->fentry_err = in->fentry_err;
	p->kprobes = in->kprobes;
	p->preempt = in->preempt;
	snprintf(p->preempt_desc, sizeof(p->preempt_desc), "%s", in->preempt_desc);
	p->kprobe_missed = in->kprobe_missed;
	p->kernel_btf = in->kernel_btf;
	p->force_kprobes = in->force_kprobes;
	p->all_twins = in->all_twins;
	p->layout = in->layout;
	for (int i = 0; i < PP_MAX; i++) {
		struct plan_point *pt = &p->pts[i];
		const char *sym;

		pt->func = points[i].func;
		pt->prog = points[i].prog;
		pt->role = points[i].role;
		pt->paired = points[i].paired;
		pt->exit_only = points[i].exit_only;
		pt->in_btf = in->btf_func[i];
		if (i == PP_PAGE_FREE) {
			/* a tracepoint: raw_tp needs no symbol, it always "exists" */
			pt->nsyms = 1;
			snprintf(pt->sym, sizeof(pt->sym), "%s", pt->func);
			continue;
		}
		pt->nsyms = ksyms_resolve(in->ksyms, pt->func, &sym);
		snprintf(pt->sym, sizeof(pt->sym), "%s", sym ? sym : pt->func);
		nskipped[i] = filter_clones(in, i, pt, &skipped[i]);
	}
	p->shape = detect(p);
	classify(p);
	for (int i = 0; i < PP_MAX; i++) {
		struct plan_point *pt = &p->pts[i];
		size_t n;

		choose(in, pt);
		if (!nskipped[i])
			continue;
		if (pt->method != METH_MISSING) {
			plan_partial(pt, "%d clone(s) (%s) not watched: their arguments may differ",
				     nskipped[i], skipped[i]);
			continue;
		}
		n = strlen(pt->why);
		snprintf(pt->why + n, sizeof(pt->why) - n, "; clone(s) %s not watched: their "
			 "arguments may differ", skipped[i]);
	}
	plan_finish(p);
}

void plan_drop(struct plan *p, int idx, const char *why)
{
	struct plan_point *pt = &p->pts[idx];

	pt->method = METH_MISSING;
	snprintf(pt->why, sizeof(pt->why), "%s", why);
	plan_finish(p);
}

const char *plan_membership(const struct plan *p, char *buf, size_t len)
{
	bool splits = p->pts[PP_CPA_SPLIT].method != METH_MISSING;
	int n = 0, miss = 0;
	char names[128] = "";

	for (int i = 0; i < PP_MAX; i++) {
		const struct plan_point *pt = &p->pts[i];

		if (pt->role != ROLE_LINK || !pt->needed || i == PP_CPA_SPLIT)
			continue;
		if (pt->method == METH_MISSING) {
			size_t k = strlen(names);

			snprintf(names + k, sizeof(names) - k, "%s%s", miss ? ", " : "", pt->func);
			miss++;
		} else {
			n++;
		}
	}
	if (p->layout.src == LAYOUT_UNKNOWN)
		snprintf(buf, len,
			 "unknown: the tables cannot be walked without the memory layout");
	else if (miss)
		snprintf(buf, len, "walk of init_mm's tables at start, %d link point(s); "
			 "tables linked through %s after the start are not known; CPA splits %s",
			 n, names, splits ? "seen" : "not seen");
	else if (splits)
		snprintf(buf, len, "walk of init_mm's tables at start, then %d link point(s) and "
			 "CPA's large-page splits (the range each __change_page_attr_set_clr() "
			 "changed); not seen: tables linked after the start by other code that "
			 "writes entries itself (KASAN's early shadow)", n);
	else
		snprintf(buf, len, "walk of init_mm's tables at start, then %d link point(s); not "
			 "seen: tables linked after the start by code that writes entries itself "
			 "(CPA splits: __change_page_attr_set_clr not watched; KASAN's early "
			 "shadow)", n);
	return buf;
}

const char *plan_coverage(const struct plan *p)
{
	if (!p->usable)
		return "nothing can be checked: no page reaches a watched free point and "
		       "the allocator";
	if (!p->rule_sound)
		return "incomplete: flushes are invisible, violations cannot be told from "
		       "clean frees";
	if (p->layout.src == LAYOUT_UNKNOWN)
		return "incomplete: memory layout unknown, pages may not match their frees";
	if (!p->complete)
		return "incomplete: some pages go unwatched (see the missing points)";
	if (p->shape == SHAPE_UNPATCHED)
		return "complete: no deferral here, every known kernel table freed is "
		       "a violation";
	return "complete: every deferred and directly freed kernel page table is watched";
}

// SPDX-License-Identifier: GPL-2.0
/* The check verdict: exit codes and their precedence. */
#include <signal.h>
#include <bpf/btf.h>
#include "attach.h"
#include "report.h"
#include "unit.h"

static struct env env;
static struct run_result rr;
static struct plan plan;
static struct verdict v;

static void reset(void)
{
	memset(&env, 0, sizeof(env));
	memset(&rr, 0, sizeof(rr));
	memset(&plan, 0, sizeof(plan));
	plan.usable = plan.complete = plan.rule_sound = true;
	plan.shape = SHAPE_SEED;
}

static bool has(enum reason_kind kind, const char *text)
{
	for (int i = 0; i < v.n; i++)
		if (v.r[i].kind == kind && strstr(v.r[i].text, text))
			return true;
	return false;
}

static int run(void)
{
	return verdict_compute(&env, &plan, &rr, &v);
}

static void test_clean(void)
{
	reset();
	rr.counters[KPT_C_QUEUED] = rr.counters[KPT_C_FREED_OK] = 100;
	CHECK(run() == EXIT_CLEAN && v.n == 0, "clean: %d, %d reasons", v.code, v.n);
}

static void test_violation(void)
{
	reset();
	rr.counters[KPT_C_VIOLATION] = 2;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "2 page(s)"), "violation: %d", v.code);
	reset();
	rr.counters[KPT_C_RANGE_VIOLATION] = 1;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "ranges not covering"), "range: %d", v.code);
}

static void test_incomplete(void)
{
	static const int cs[] = { KPT_C_MAP_FULL, KPT_C_RB_DROP, KPT_C_RANGE_UNKNOWN,
				  KPT_C_UNKNOWN, KPT_C_WALK_TRUNC };

	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		reset();
		rr.counters[cs[i]] = 1;
		CHECK(run() == EXIT_INCOMPLETE, "counter %d: %d", cs[i], v.code);
	}
	reset();
	plan.pts[PP_INVAL] = (struct plan_point){ .func = "iommu_sva_invalidate_kva_range",
		.critical = true, .method = METH_MISSING, .cost = "x" };
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "iommu_sva"), "missing point: %d", v.code);
	/* a drain point is not critical */
	reset();
	plan.pts[PP_WORK_FUNC] = (struct plan_point){ .func = "kernel_pgtable_work_func",
		.needed = true, .method = METH_MISSING, .cost = "x" };
	CHECK(run() == EXIT_CLEAN, "missing drain point: %d", v.code);
	/* a clone of a critical function not watched */
	reset();
	plan.pts[PP_FREE_PAGETABLE] = (struct plan_point){ .func = "free_pagetable",
		.critical = true, .method = METH_KPROBE, .partial = true,
		.why = "5 clones, kprobes on the first 4" };
	CHECK(run() == EXIT_INCOMPLETE &&
	      has(R_INCOMPLETE, "free_pagetable watched in part: 5 clones"), "partial: %d", v.code);
	plan.pts[PP_FREE_PAGETABLE].critical = false;
	CHECK(run() == EXIT_CLEAN, "partial, not critical: %d", v.code);
	/* no idea where vmemmap is: frees may not match their pages */
	reset();
	rr.counters[KPT_C_QUEUED] = rr.counters[KPT_C_FREED_OK] = 10;
	plan.layout.src = LAYOUT_UNKNOWN;
	snprintf(plan.layout.why, sizeof(plan.layout.why), "give --system-map FILE");
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "layout unknown: give --system-map"),
	      "unknown layout: %d", v.code);
	plan.layout.src = LAYOUT_SYSTEM_MAP;
	CHECK(run() == EXIT_CLEAN, "layout from System.map: %d", v.code);
}

/*
 * A run the kernel skipped is an event lost: on a point the verdict needs,
 * the run is incomplete, and the program and count are named.
 */
static void test_misses(void)
{
	reset();
	plan.pts[PP_INVAL] = (struct plan_point){ .func = "iommu_sva_invalidate_kva_range",
		.prog = "inval", .critical = true, .method = METH_FENTRY };
	plan.pts[PP_WORK_FUNC] = (struct plan_point){ .func = "kernel_pgtable_work_func",
		.prog = "work_func", .needed = true, .method = METH_FENTRY };
	plan.pts[PP_FREE_PAGETABLE] = (struct plan_point){ .func = "free_pagetable",
		.prog = "free_pagetable", .critical = true, .method = METH_KPROBE };
	rr.counters[KPT_C_QUEUED] = rr.counters[KPT_C_FREED_OK] = 10;
	CHECK(prog_point(&plan, "fexit_inval") == PP_INVAL &&
	      prog_point(&plan, "kretprobe_free_pagetable") == PP_FREE_PAGETABLE &&
	      prog_point(&plan, "layout_read") == -1 && prog_point(&plan, "fentry_nope") == -1,
	      "programs to points");

	rr.nmisses = 1;
	rr.misses[0] = (struct prog_misses){ .prog = "fexit_inval", .point = PP_INVAL,
					     .recursion = 3 };
	CHECK(run() == EXIT_INCOMPLETE &&
	      has(R_INCOMPLETE, "fexit_inval: the kernel skipped 3 run(s) (recursion misses)"),
	      "recursion misses on the flush: %d %s", v.code, v.n ? v.r[0].text : "");

	rr.misses[0] = (struct prog_misses){ .prog = "kretprobe_free_pagetable on free_pagetable.constprop.0",
					     .point = PP_FREE_PAGETABLE, .kprobe = 7 };
	CHECK(run() == EXIT_INCOMPLETE &&
	      has(R_INCOMPLETE, "free_pagetable.constprop.0: the kernel skipped 7 run(s) (kprobe misses)"),
	      "kprobe misses: %d %s", v.code, v.n ? v.r[0].text : "");

	/*
	 * Frees nested in the page-free program: judged by its fallback, a
	 * note; without the fallback they are lost; a skip of the fallback
	 * itself is lost.
	 */
	plan.pts[PP_PAGE_FREE] = (struct plan_point){ .func = "mm_page_free",
		.prog = "page_free", .critical = true, .method = METH_TP_BTF };
	rr.misses[0] = (struct prog_misses){ .prog = "tp_btf_page_free", .point = PP_PAGE_FREE,
					     .recursion = 40 };
	rr.counters[KPT_C_NESTED_FREE] = 40;
	CHECK(run() == EXIT_CLEAN && has(R_NOTE, "40 run(s) nested in it were judged"),
	      "nested frees judged: %d %s", v.code, v.n ? v.r[0].text : "");
	rr.counters[KPT_C_NESTED_FREE] = 39;	/* one skipped by both: lost */
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "tp_btf_page_free: the kernel skipped"),
	      "a free nested in both programs is lost: %d", v.code);
	rr.counters[KPT_C_NESTED_FREE] = 40;
	plan.pts[PP_PAGE_FREE].partial = true;	/* the fallback did not attach */
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "tp_btf_page_free: the kernel skipped"),
	      "no fallback, nested frees lost: %d", v.code);
	plan.pts[PP_PAGE_FREE].partial = false;
	/* the fallback skipped while it ran: the main program judged those */
	rr.nmisses = 2;
	rr.misses[1] = (struct prog_misses){ .prog = "tp_btf_page_free_nest", .point = -1,
					     .recursion = 45 };
	CHECK(run() == EXIT_CLEAN && has(R_NOTE, "tp_btf_page_free_nest: 45 run(s) skipped"),
	      "the fallback's own misses are no loss: %d", v.code);
	rr.nmisses = 1;
	rr.counters[KPT_C_NESTED_FREE] = 0;

	/* the drain feeds latency figures only: a note */
	rr.misses[0] = (struct prog_misses){ .prog = "fentry_work_func", .point = PP_WORK_FUNC,
					     .recursion = 1 };
	CHECK(run() == EXIT_CLEAN && has(R_NOTE, "fentry_work_func"), "drain misses: %d", v.code);

	/* a program no point claims is taken as one that matters */
	rr.misses[0] = (struct prog_misses){ .prog = "fentry_pte_alloc_kernel", .point = -1,
					     .recursion = 1 };
	CHECK(run() == EXIT_INCOMPLETE, "unknown program: %d", v.code);

	/* a violation seen is still a failure */
	rr.counters[KPT_C_VIOLATION] = 1;
	CHECK(run() == EXIT_FAIL && has(R_INCOMPLETE, "skipped"), "violation and misses: %d", v.code);

	/*
	 * Skipped hand-overs make known tables look bypassed (6.12-patched-debug,
	 * PREEMPT, fentry: 2 692 skipped, 2 687 "violations" on a clean kernel):
	 * no more violations than skipped hand-overs is unconfirmed, more is a
	 * failure of at least the difference.
	 */
	reset();
	plan.pts[PP_ASYNC_FREE] = (struct plan_point){ .func = "kernel_pgtable_async_free",
		.prog = "async_free", .role = ROLE_ENQUEUE, .critical = true,
		.method = METH_FENTRY };
	rr.nmisses = 1;
	rr.misses[0] = (struct prog_misses){ .prog = "fentry_async_free", .point = PP_ASYNC_FREE,
					     .recursion = 2692 };
	rr.counters[KPT_C_VIOLATION] = 2687;
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "skipped 2692 hand-over run(s)") &&
	      !has(R_FAIL, ""), "violations within the skipped hand-overs: %d", v.code);
	rr.counters[KPT_C_VIOLATION] = 3000;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "at least 308"), "beyond them: %d", v.code);
	/* the drain's misses are not hand-overs: the violation stands */
	plan.pts[PP_WORK_FUNC] = (struct plan_point){ .func = "kernel_pgtable_work_func",
		.prog = "work_func", .role = ROLE_DRAIN, .method = METH_FENTRY };
	rr.misses[0] = (struct prog_misses){ .prog = "fentry_work_func", .point = PP_WORK_FUNC,
					     .recursion = 5000 };
	rr.counters[KPT_C_VIOLATION] = 1;
	CHECK(run() == EXIT_FAIL, "drain misses do not excuse a violation: %d", v.code);

	/* a kernel that hides kprobe misses: a kprobe on a critical point cannot be trusted */
	reset();
	plan.pts[PP_FREE_PAGETABLE] = (struct plan_point){ .func = "free_pagetable",
		.prog = "free_pagetable", .critical = true, .method = METH_KPROBE };
	rr.kprobe_unread[PP_FREE_PAGETABLE] = true;
	CHECK(run() == EXIT_INCOMPLETE &&
	      has(R_INCOMPLETE, "kprobe misses: not readable on this kernel") &&
	      has(R_INCOMPLETE, "free_pagetable"), "unreadable: %d %s", v.code,
	      v.n ? v.r[0].text : "");
	plan.pts[PP_FREE_PAGETABLE].critical = false;
	CHECK(run() == EXIT_CLEAN && has(R_NOTE, "kprobe misses: not readable"),
	      "unreadable, not critical: %d", v.code);
}

/*
 * bpf_link_info's perf_event.kprobe.missed exists from 6.7 on: a struct
 * shaped like the kernel's, with anonymous unions, with and without it.
 */
static struct btf *link_info_btf(bool missed)
{
	struct btf *b = btf__new_empty();
	int u32 = btf__add_int(b, "__u32", 4, 0), u64 = btf__add_int(b, "__u64", 8, 0);
	int kp = btf__add_struct(b, NULL, missed ? 16 : 8), pe, un, in, li;

	btf__add_field(b, "addr", u64, 0, 0);
	if (missed)
		btf__add_field(b, "missed", u64, 64, 0);
	un = btf__add_union(b, NULL, 16);
	btf__add_field(b, "kprobe", kp, 0, 0);
	pe = btf__add_struct(b, NULL, 24);
	btf__add_field(b, "type", u32, 0, 0);
	btf__add_field(b, NULL, un, 64, 0);
	in = btf__add_union(b, NULL, 24);
	btf__add_field(b, "perf_event", pe, 0, 0);
	li = btf__add_struct(b, "bpf_link_info", 40);
	btf__add_field(b, "type", u32, 0, 0);
	btf__add_field(b, NULL, in, 128, 0);
	CHECK(li > 0, "btf built");
	return b;
}

static void test_kprobe_missed_btf(void)
{
	struct btf *b = link_info_btf(true);

	CHECK(kprobe_missed_readable(b), "6.7 layout: readable");
	btf__free(b);
	b = link_info_btf(false);
	CHECK(!kprobe_missed_readable(b), "6.6 layout: not readable");
	btf__free(b);
	b = btf__new_empty();
	CHECK(!kprobe_missed_readable(b), "no bpf_link_info at all");
	btf__free(b);
	CHECK(!kprobe_missed_readable(NULL), "no BTF");
}

/* A map that could not be read gives zeros, and zeros look clean. */
static void test_read_error(void)
{
	reset();
	rr.counters[KPT_C_QUEUED] = rr.counters[KPT_C_FREED_OK] = 10;
	rr.read_errors = 2;
	snprintf(rr.read_error, sizeof(rr.read_error), "counters: Bad file descriptor");
	CHECK(run() == EXIT_INCOMPLETE &&
	      has(R_INCOMPLETE, "2 map read(s) failed, the first counters: Bad file descriptor"),
	      "read error: %d %s", v.code, v.n ? v.r[0].text : "");
	rr.counters[KPT_C_VIOLATION] = 1;
	CHECK(run() == EXIT_FAIL, "a violation read before still fails: %d", v.code);
}

/* Issue 8: tables that existed at the start are known only from the walk. */
static void test_walk_failed(void)
{
	reset();
	rr.counters[KPT_C_QUEUED] = rr.counters[KPT_C_FREED_OK] = 10;
	rr.walk_ran = true;
	rr.walk_tables = 1200;
	CHECK(run() == EXIT_CLEAN, "walk found tables: %d", v.code);
	rr.walk_tables = -1;
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "walk of init_mm's tables failed"),
	      "walk failed: %d %s", v.code, v.n ? v.r[0].text : "");
	rr.walk_tables = 0;
	rr.counters[KPT_C_DATA_PAGE] = 3;
	CHECK(run() == EXIT_CLEAN && has(R_NOTE, "3 page(s) freed by free_pagetable()"),
	      "data pages are a note: %d", v.code);
}

static void test_precedence(void)
{
	reset();
	rr.counters[KPT_C_VIOLATION] = 1;
	rr.counters[KPT_C_RB_DROP] = 5;
	CHECK(run() == EXIT_FAIL, "violation outranks incomplete: %d", v.code);
	CHECK(has(R_INCOMPLETE, "ring buffer"), "the drop is still reported");

	reset();
	plan.rule_sound = false;
	rr.counters[KPT_C_VIOLATION] = 1;
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "unconfirmed"),
	      "violation without visible flushes is unconfirmed: %d", v.code);
}

static void test_limits(void)
{
	reset();
	env.max_ns[KPT_M_ENQ_TO_FREE] = 1000000;
	rr.hists[KPT_M_ENQ_TO_FREE].count = 1;
	rr.hists[KPT_M_ENQ_TO_FREE].max = 1000000;
	CHECK(run() == EXIT_CLEAN, "at the limit is fine: %d", v.code);
	rr.hists[KPT_M_ENQ_TO_FREE].max = 1000001;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "enq_to_free max"), "over: %d", v.code);

	reset();
	env.max_ns[KPT_M_INVAL_DUR] = 1000;
	CHECK(run() == EXIT_CLEAN && has(R_NOTE, "no samples"), "unexercised limit is a note");
}

static void test_pending(void)
{
	reset();
	rr.pending = 3;
	rr.pending_oldest_ns = 5000000000ULL;
	CHECK(run() == EXIT_CLEAN && has(R_NOTE, "still pending"), "no limit: note only");
	env.max_pending_age_ns = 1000000000ULL;
	rr.pending_over_age = 1;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "max-pending-age"), "over age: %d", v.code);
}

static void test_interrupted(void)
{
	reset();
	rr.interrupted = true;
	CHECK(run() == EXIT_CLEAN, "until Ctrl-C: the signal is the normal end: %d", v.code);
	env.duration_ns = 30000000000ULL;
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "interrupted"), "-d cut short: %d", v.code);
	rr.counters[KPT_C_VIOLATION] = 1;
	CHECK(run() == EXIT_FAIL, "a violation before the interrupt still fails: %d", v.code);
}

static void test_command(void)
{
	reset();
	rr.cmd_ran = true;
	rr.cmd_status = 0;
	CHECK(run() == EXIT_CLEAN, "command ok: %d", v.code);
	rr.cmd_status = 3 << 8;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "command exited 3"), "command failed: %d", v.code);
	rr.cmd_status = SIGKILL;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "killed by KILL"), "killed: %s", v.r[0].text);
	rr.cmd_status = 127 << 8;
	rr.cmd_errno = 2;
	CHECK(run() == EXIT_FAIL && has(R_FAIL, "could not run"), "exec failed: %s", v.r[0].text);
	/* killed by the signal that interrupted us: unfinished, not failed */
	rr.cmd_errno = 0;
	rr.cmd_status = SIGTERM;
	rr.interrupted = true;
	CHECK(run() == EXIT_INCOMPLETE && has(R_INCOMPLETE, "interrupted"), "interrupted: %d", v.code);
	rr.interrupted = false;
	CHECK(run() == EXIT_FAIL, "SIGTERM from elsewhere fails: %d", v.code);
	rr.cmd_status = 127 << 8;
	rr.cmd_errno = 2;
	/* a failed command outranks an incomplete run */
	rr.counters[KPT_C_MAP_FULL] = 1;
	CHECK(run() == EXIT_FAIL, "command failure over incomplete: %d", v.code);
}

int main(void)
{
	RUN(test_clean);
	RUN(test_violation);
	RUN(test_incomplete);
	RUN(test_read_error);
	RUN(test_walk_failed);
	RUN(test_misses);
	RUN(test_kprobe_missed_btf);
	RUN(test_precedence);
	RUN(test_limits);
	RUN(test_pending);
	RUN(test_interrupted);
	RUN(test_command);
	return unit_done();
}

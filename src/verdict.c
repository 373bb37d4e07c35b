// SPDX-License-Identifier: GPL-2.0
/* The check verdict: exit code and the reasons behind it. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "hist.h"
#include "names.h"
#include "report.h"

const char *verdict_name(int code)
{
	switch (code) {
	case EXIT_CLEAN: return "clean";
	case EXIT_FAIL: return "failed";
	case EXIT_USAGE: return "error";
	case EXIT_INCOMPLETE: return "incomplete";
	}
	return "?";
}

char *cmd_status_str(const struct run_result *rr, char *buf, size_t len)
{
	if (rr->cmd_errno)
		snprintf(buf, len, "could not run: %s", strerror(rr->cmd_errno));
	else if (WIFEXITED(rr->cmd_status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(rr->cmd_status));
	else if (WIFSIGNALED(rr->cmd_status))
		snprintf(buf, len, "killed by %s", sigabbrev_np(WTERMSIG(rr->cmd_status)) ?
			 sigabbrev_np(WTERMSIG(rr->cmd_status)) : "a signal");
	else
		snprintf(buf, len, "status %#x", rr->cmd_status);
	return buf;
}

bool cmd_failed(const struct run_result *rr)
{
	return rr->cmd_ran && (rr->cmd_errno || !WIFEXITED(rr->cmd_status) ||
			       WEXITSTATUS(rr->cmd_status));
}

static void add(struct verdict *v, enum reason_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (v->n >= KPT_MAX_REASONS)
		return;
	v->r[v->n].kind = kind;
	va_start(ap, fmt);
	vsnprintf(v->r[v->n].text, sizeof(v->r[v->n].text), fmt, ap);
	va_end(ap);
	v->n++;
}

int verdict_compute(const struct env *env, const struct plan *p,
		    const struct run_result *rr, struct verdict *v)
{
	const __u64 *c = rr->counters;
	bool fail = false, incomplete = false;
	unsigned long long lost_q = 0;
	char a[16], b[16];

	memset(v, 0, sizeof(*v));
	/*
	 * A known table whose hand-over the kernel skipped reaches the
	 * allocator looking like a bypass: as many violations as skipped
	 * hand-overs may all be such, and only those beyond are certain.
	 */
	for (int i = 0; p && i < rr->nmisses && i < KPT_MAX_MISSES; i++) {
		const struct prog_misses *m = &rr->misses[i];

		if (m->point >= 0 && m->point < PP_MAX && p->pts[m->point].role == ROLE_ENQUEUE)
			lost_q += m->recursion + m->kprobe;
	}
	if (c[KPT_C_VIOLATION]) {
		if (p && !p->rule_sound) {
			incomplete = true;
			add(v, R_INCOMPLETE, "%llu page(s) freed with no flush seen, but the "
			    "invalidation point is not watched: unconfirmed",
			    (unsigned long long)c[KPT_C_VIOLATION]);
		} else if (lost_q >= c[KPT_C_VIOLATION]) {
			incomplete = true;
			add(v, R_INCOMPLETE, "%llu page(s) freed with no flush seen, but the kernel "
			    "skipped %llu hand-over run(s): each may be a table handed over "
			    "unseen, unconfirmed", (unsigned long long)c[KPT_C_VIOLATION],
			    (unsigned long long)lost_q);
		} else if (lost_q) {
			fail = true;
			add(v, R_FAIL, "%llu page(s) reached the allocator before an IOMMU flush "
			    "(at least %llu: the kernel skipped %llu hand-over run(s))",
			    (unsigned long long)c[KPT_C_VIOLATION],
			    (unsigned long long)(c[KPT_C_VIOLATION] - lost_q),
			    (unsigned long long)lost_q);
		} else {
			fail = true;
			add(v, R_FAIL, "%llu page(s) reached the allocator before an IOMMU flush",
			    (unsigned long long)c[KPT_C_VIOLATION]);
		}
	}
	if (c[KPT_C_RANGE_VIOLATION]) {
		fail = true;
		add(v, R_FAIL, "%llu page(s) flushed only by ranges not covering their address",
		    (unsigned long long)c[KPT_C_RANGE_VIOLATION]);
	}
	for (int m = 0; m < KPT_LAT_METRICS; m++) {
		if (!env->max_ns[m])
			continue;
		if (rr->hists[m].max > env->max_ns[m]) {
			fail = true;
			add(v, R_FAIL, "%s max %s exceeds the limit %s", metric_name(m),
			    fmt_value(a, sizeof(a), rr->hists[m].max, true),
			    fmt_value(b, sizeof(b), env->max_ns[m], true));
		} else if (!rr->hists[m].count) {
			add(v, R_NOTE, "%s: no samples, limit not exercised", metric_name(m));
		}
	}
	if (rr->pending) {
		bool over = env->max_pending_age_ns && rr->pending_over_age;

		fail |= over;
		add(v, over ? R_FAIL : R_NOTE, "%llu page(s) still pending at the end, oldest %s%s",
		    (unsigned long long)rr->pending,
		    fmt_value(a, sizeof(a), rr->pending_oldest_ns, true),
		    over ? " (over --max-pending-age)" : "");
	}
	if (cmd_failed(rr)) {
		char st[96];
		/*
		 * We stopped it because we were interrupted (SIGKILL when it
		 * ignored the signal): unfinished, not failed.
		 */
		bool ours = rr->interrupted && WIFSIGNALED(rr->cmd_status) &&
			    (WTERMSIG(rr->cmd_status) == SIGINT ||
			     WTERMSIG(rr->cmd_status) == SIGTERM ||
			     WTERMSIG(rr->cmd_status) == SIGKILL);

		fail |= !ours;
		incomplete |= ours;
		add(v, ours ? R_INCOMPLETE : R_FAIL, "command %s%s",
		    cmd_status_str(rr, st, sizeof(st)), ours ? " (interrupted)" : "");
	}
	/* with -d or a command, an early end leaves the run unfinished */
	if (rr->interrupted && (env->duration_ns || env->argv_cmd) && !cmd_failed(rr)) {
		incomplete = true;
		add(v, R_INCOMPLETE, "interrupted after %s",
		    fmt_value(a, sizeof(a), rr->elapsed_ns, true));
	}
	if (c[KPT_C_MAP_FULL]) {
		incomplete = true;
		add(v, R_INCOMPLETE, "a tracking map (pending pages, known tables) was full "
		    "%llu time(s): pages went untracked (raise --max-pending)",
		    (unsigned long long)c[KPT_C_MAP_FULL]);
	}
	if (c[KPT_C_RB_DROP]) {
		incomplete = true;
		add(v, R_INCOMPLETE, "%llu event(s) lost to a full ring buffer "
		    "(raise --ringbuf-size)", (unsigned long long)c[KPT_C_RB_DROP]);
	}
	if (c[KPT_C_RANGE_UNKNOWN]) {
		incomplete = true;
		add(v, R_INCOMPLETE, "%llu page(s) whose flush range could not be checked",
		    (unsigned long long)c[KPT_C_RANGE_UNKNOWN]);
	}
	if (c[KPT_C_UNKNOWN]) {
		incomplete = true;
		add(v, R_INCOMPLETE, "%llu page(s) undecidable: freed unflushed while an "
		    "invalidation was only half seen", (unsigned long long)c[KPT_C_UNKNOWN]);
	}
	if (rr->walk_ran && rr->walk_tables < 0) {
		incomplete = true;
		add(v, R_INCOMPLETE, "the walk of init_mm's tables failed: tables that existed "
		    "at the start are unknown, their frees go unjudged");
	}
	if (c[KPT_C_DATA_PAGE])
		add(v, R_NOTE, "%llu page(s) freed by free_pagetable() were no known table "
		    "(vmemmap data): counted, not judged", (unsigned long long)c[KPT_C_DATA_PAGE]);
	if (c[KPT_C_STACK_FAIL])
		add(v, R_NOTE, "%llu stack(s) could not be captured (stack map full or busy): "
		    "some reports lack a stack", (unsigned long long)c[KPT_C_STACK_FAIL]);
	if (c[KPT_C_WALK_TRUNC]) {
		incomplete = true;
		add(v, R_INCOMPLETE, "%llu page list or table walk(s) stopped early, or page(s) "
		    "that did not decode to a pfn: pages went untracked",
		    (unsigned long long)c[KPT_C_WALK_TRUNC]);
	}
	/*
	 * A skipped run of a program the verdict depends on loses an event: a
	 * hand-over (the page goes untracked: a false clean; or, for a known
	 * table, a false bypass, see above) or a flush's return (a false
	 * violation). Only the drain's programs feed figures
	 * alone. A program no point claims is taken as one that matters.
	 */
	for (int i = 0; i < rr->nmisses && i < KPT_MAX_MISSES; i++) {
		const struct prog_misses *m = &rr->misses[i];
		bool matters = !p || m->point < 0 || m->point >= PP_MAX ||
			       p->pts[m->point].critical;

		/*
		 * The page-free program is skipped for frees nested in it, and
		 * its fallback (_nest) judged each of those it was not itself
		 * busy for (nested_free). _nest is skipped for a free only
		 * while it runs; the main program judged that free unless it
		 * was skipped too, and then the free shows here as a main miss
		 * that _nest did not judge. So frees lost = main misses -
		 * nested_free, and _nest's own misses are no loss.
		 */
		if (m->point == PP_PAGE_FREE && !m->kprobe && p &&
		    !p->pts[PP_PAGE_FREE].partial && m->recursion <= c[KPT_C_NESTED_FREE]) {
			add(v, R_NOTE, "%s: %llu run(s) nested in it were judged by its fallback",
			    m->prog, (unsigned long long)m->recursion);
			continue;
		}
		if (strstr(m->prog, "_page_free_nest") && !m->kprobe) {
			add(v, R_NOTE, "%s: %llu run(s) skipped while it ran: the main program "
			    "judged those frees", m->prog, (unsigned long long)m->recursion);
			continue;
		}
		incomplete |= matters;
		add(v, matters ? R_INCOMPLETE : R_NOTE, "%s: the kernel skipped %llu run(s)%s%s: "
		    "its events are lost", m->prog,
		    (unsigned long long)(m->recursion + m->kprobe),
		    m->recursion ? " (recursion misses)" : "", m->kprobe ? " (kprobe misses)" : "");
	}
	if (rr->nmisses > KPT_MAX_MISSES) {
		incomplete = true;
		add(v, R_INCOMPLETE, "%d more program(s) with skipped runs",
		    rr->nmisses - KPT_MAX_MISSES);
	}
	/*
	 * Before 6.7 the kernel counts no kprobe misses (nor the kprobe runs
	 * it skips while another BPF program runs on the CPU): a kprobe on a
	 * point the verdict depends on may have lost events nobody can see.
	 */
	for (int i = 0; i < PP_MAX; i++) {
		bool matters = !p || p->pts[i].critical;

		if (!rr->kprobe_unread[i])
			continue;
		incomplete |= matters;
		add(v, matters ? R_INCOMPLETE : R_NOTE, "kprobe misses: not readable on this "
		    "kernel (Linux 6.7 counts them): skipped runs at %s go unseen",
		    p ? p->pts[i].func : "a watched point");
	}
	if (rr->read_errors) {
		incomplete = true;
		add(v, R_INCOMPLETE, "%d map read(s) failed, the first %s: figures missing",
		    rr->read_errors, rr->read_error);
	}
	if (p && p->layout.src == LAYOUT_UNKNOWN) {
		incomplete = true;
		add(v, R_INCOMPLETE, "memory layout unknown: %s", p->layout.why);
	}
	for (int i = 0; p && i < PP_MAX; i++) {
		const struct plan_point *pt = &p->pts[i];

		if (pt->critical && pt->method == METH_MISSING) {
			incomplete = true;
			add(v, R_INCOMPLETE, "%s not watched: %s", pt->func, pt->cost);
		} else if (pt->critical && pt->partial) {
			incomplete = true;
			add(v, R_INCOMPLETE, "%s watched in part: %s", pt->func, pt->why);
		}
	}
	v->code = fail ? EXIT_FAIL : incomplete ? EXIT_INCOMPLETE : EXIT_CLEAN;
	return v->code;
}

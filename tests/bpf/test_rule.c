// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The rule, case by case. Each case starts from a freshly loaded testrun
 * object, so every counter not named in WANT_COUNTERS must be zero.
 *
 * Tasks: 0x100 queues (the Q shorthand), A and B invalidate, W drains,
 * 0x300 frees. Times are synthetic nanoseconds.
 */
#include <errno.h>
#include <string.h>

#include "tb.h"

#define A	0xa00ULL
#define B	0xb00ULL
#define W	0xc00ULL
#define FREER	0x300ULL

#define VA	0xffffc90000200000ULL		/* a PTE table's 2 MiB */
#define VA_END	(VA + (2ULL << 20))
#define VMALLOC	0xffffc90000000000ULL
#define POFF	0xffff888000000000ULL

#define P1	0x1000ULL
#define P2	0x2000ULL

/* A violation event as the rule must emit it for P freed by FREER. */
static int check_violation_ev(struct tb *t, const struct kpt_event *e,
			      __u16 type, __u64 pfn, __u64 q_ts, __u64 ts,
			      __u16 point, __u32 order)
{
	EXPECT_EQ(t, e->type, type);
	EXPECT_EQ(t, e->pfn, pfn);
	EXPECT_EQ(t, e->q_ts, q_ts);
	EXPECT_EQ(t, e->ts, ts);
	EXPECT_EQ(t, e->value, ts - q_ts);
	EXPECT_EQ(t, e->point, point);
	EXPECT_EQ(t, e->order, order);
	EXPECT_EQ(t, e->pid, (__u32)FREER);
	EXPECT_EQ(t, e->stack_id, 99);	/* the F shorthand's stack id */
	EXPECT_TRUE(t, e->comm[0] != 0);
	return 0;
}

static int hist_only_slot(struct tb *t, int metric, __u64 value)
{
	struct kpt_hist h;
	__u32 slot = kpt_hist_slot(value);
	int s;

	if (slot >= KPT_HIST_SLOTS)
		slot = KPT_HIST_SLOTS - 1;
	if (tb_hist(t, metric, &h))
		TB_FAIL(t, "hist %d: lookup failed", metric);
	for (s = 0; s < (int)KPT_HIST_SLOTS; s++) {
		if (h.slots[s] != (s == (int)slot))
			TB_FAIL(t, "hist %d: slot %d = %llu, want value %llu "
				"in slot %u only", metric, s,
				(unsigned long long)h.slots[s],
				(unsigned long long)value, slot);
	}
	EXPECT_EQ(t, h.count, 1);
	EXPECT_EQ(t, h.sum, value);
	EXPECT_EQ(t, h.max, value);
	return 0;
}

static int hist_empty(struct tb *t, int metric)
{
	struct kpt_hist h;

	if (tb_hist(t, metric, &h))
		TB_FAIL(t, "hist %d: lookup failed", metric);
	if (h.count || h.sum || h.max)
		TB_FAIL(t, "hist %d: count %llu, want empty", metric,
			(unsigned long long)h.count);
	return 0;
}

static int clean_enqueue_inval_free(struct tb *t)
{
	EXPECT_EQ(t, Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA), 0);
	EXPECT_EQ(t, IB(t, 0, 2000, A, ALL), 0);
	EXPECT_EQ(t, IE(t, 0, 3000, A), 0);
	EXPECT_EQ(t, F(t, 0, 4000, FREER, P1, 0), 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	EXPECT_EQ(t, tb_pending_count(t), 0);
	EXPECT_EQ(t, t->skel->bss->pending_depth, 0);
	EXPECT_EQ(t, t->skel->bss->inval_began, 1);
	EXPECT_EQ(t, t->skel->bss->inval_done, 1);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);	/* not live: nothing to tell */
	if (hist_only_slot(t, KPT_M_ENQ_TO_FREE, 3000) ||
	    hist_only_slot(t, KPT_M_INVAL_DUR, 1000) ||
	    hist_only_slot(t, KPT_M_PENDING_DEPTH, 1) ||
	    hist_empty(t, KPT_M_ENQ_TO_DRAIN) ||
	    hist_empty(t, KPT_M_DRAIN_DUR) || hist_empty(t, KPT_M_DRAIN_PAGES))
		return -1;
	return 0;
}

static int violation_enqueue_free(struct tb *t)
{
	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	F(t, 0, 5000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	EXPECT_EQ(t, tb_pending_count(t), 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);	/* violations go out even when not live */
	if (check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P1, 1000, 5000,
			       KPT_PT_ASYNC_FREE_DTOR, 0))
		return -1;
	EXPECT_EQ(t, t->ev[0].va_start, VA);
	EXPECT_EQ(t, t->ev[0].va_end, VA_END);
	EXPECT_EQ(t, t->ev[0].cpu, 0);
	return hist_only_slot(t, KPT_M_ENQ_TO_FREE, 4000);
}

/* Began before q(P), returned after it: does not flush P. */
static int inval_begun_before_enqueue(struct tb *t)
{
	IB(t, 0, 1000, A, ALL);
	Q(t, 0, 2000, P1, 0, KPT_PT_PAGETABLE_FREE_KERNEL, NOVA);
	IE(t, 0, 3000, A);
	F(t, 0, 4000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_PAGETABLE_FREE_KERNEL), 1 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	return check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P1, 2000,
				  4000, KPT_PT_PAGETABLE_FREE_KERNEL, 0);
}

/*
 * Two invalidations overlap on two CPUs: A (seq 1) began before q(P),
 * B (seq 2) after. Only B can flush P. The four orders of their returns
 * around the free.
 */
static int overlap_prologue(struct tb *t)
{
	IB(t, 0, 1000, A, ALL);
	Q(t, 0, 2000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 1, 3000, B, ALL);
	EXPECT_EQ(t, t->skel->bss->inval_began, 2);
	return 0;
}

static int overlap_after_returns_first(struct tb *t)
{
	if (overlap_prologue(t))
		return -1;
	IE(t, 1, 4000, B);
	F(t, 0, 5000, FREER, P1, 0);
	IE(t, 0, 6000, A);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 2 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	/* A returning last must not pull the watermark back to 1. */
	EXPECT_EQ(t, t->skel->bss->inval_done, 2);
	if (t->ncpu >= 2) {
		EXPECT_EQ(t, tb_counter(t, KPT_C_INVAL_BEGIN, 0), 1);
		EXPECT_EQ(t, tb_counter(t, KPT_C_INVAL_BEGIN, 1), 1);
		EXPECT_EQ(t, tb_counter(t, KPT_C_INVAL_END, 1), 1);
	}
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	return 0;
}

static int overlap_after_returns_last(struct tb *t)
{
	if (overlap_prologue(t))
		return -1;
	IE(t, 0, 4000, A);		/* seq 1: began before q(P) */
	F(t, 0, 5000, FREER, P1, 0);	/* B still running: violation */
	IE(t, 1, 6000, B);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 2 }, { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	EXPECT_EQ(t, t->skel->bss->inval_done, 2);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	return check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P1, 2000,
				  5000, KPT_PT_ASYNC_FREE_DTOR, 0);
}

/* A returns first, then B, then P is freed: B flushed it. */
static int overlap_both_return_in_order(struct tb *t)
{
	if (overlap_prologue(t))
		return -1;
	IE(t, 0, 4000, A);
	EXPECT_EQ(t, t->skel->bss->inval_done, 1);
	IE(t, 1, 5000, B);
	F(t, 0, 6000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 2 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

/*
 * B returns first, A last, then P2 queued between A's and B's begin is
 * freed: the watermark is the highest returned seq, not the last one.
 */
static int overlap_watermark_only_forward(struct tb *t)
{
	IB(t, 0, 1000, A, ALL);				/* seq 1 */
	Q(t, 0, 1500, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);	/* snap 1 */
	IB(t, 1, 2000, B, ALL);				/* seq 2 */
	IE(t, 1, 3000, B);
	IE(t, 0, 4000, A);
	EXPECT_EQ(t, t->skel->bss->inval_done, 2);
	F(t, 1, 5000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 2 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

/* Flushed by an invalidation that misses P's VA: range violation. */
static int range_not_covering(struct tb *t)
{
	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	IB(t, 0, 2000, A, VMALLOC, VA);		/* ends where P starts */
	IE(t, 0, 3000, A);
	F(t, 0, 4000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_RANGE_VIOLATION, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	if (check_violation_ev(t, &t->ev[0], KPT_EV_RANGE_VIOLATION, P1, 1000,
			       4000, KPT_PT_ASYNC_FREE_DTOR, 0))
		return -1;
	EXPECT_EQ(t, t->ev[0].range_start, VMALLOC);
	EXPECT_EQ(t, t->ev[0].range_end, VA);
	EXPECT_EQ(t, t->ev[0].va_start, VA);
	EXPECT_EQ(t, t->ev[0].va_end, VA_END);
	return 0;
}

/* Covers all but P's last byte. */
static int range_partial(struct tb *t)
{
	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	IB(t, 0, 2000, A, VA, VA_END - 1);
	IE(t, 0, 3000, A);
	F(t, 0, 4000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_RANGE_VIOLATION, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

/* Exactly P's range, and PAGE_OFFSET..TLB_FLUSH_ALL (upstream's call). */
static int range_covering(struct tb *t)
{
	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	Q(t, 0, 1000, P2, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	IB(t, 0, 2000, A, VA, VA_END);
	IE(t, 0, 3000, A);
	F(t, 0, 4000, FREER, P1, 0);
	IB(t, 0, 5000, A, POFF, ~0ULL);
	IE(t, 0, 6000, A);
	F(t, 0, 7000, FREER, P2, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 2 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 2 }, { KPT_C_FREED_OK, 2 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 2 });
	return 0;
}

/*
 * The covering invalidation began before q(P) and does not count; the
 * one after q(P) misses P's VA: range violation, not a clean free.
 */
static int range_covering_began_before(struct tb *t)
{
	IB(t, 0, 1000, A, ALL);
	Q(t, 0, 2000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	IB(t, 1, 3000, B, VMALLOC, VA);
	IE(t, 1, 4000, B);
	IE(t, 0, 5000, A);
	F(t, 0, 6000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 2 }, { KPT_C_RANGE_VIOLATION, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

/* Of two invalidations after q(P), the older one covers P. */
static int range_older_one_covers(struct tb *t)
{
	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	IB(t, 0, 2000, A, VA, VA_END);
	IE(t, 0, 3000, A);
	IB(t, 0, 4000, A, VMALLOC, VA);
	IE(t, 0, 5000, A);
	F(t, 0, 6000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 2 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

static int range_history(struct tb *t, int n)
{
	int i;

	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	/* The covering one first, then n that miss. */
	IB(t, 0, 2000, A, VA, VA_END);
	IE(t, 0, 2001, A);
	for (i = 0; i < n; i++) {
		IB(t, i & 1, 3000 + 2 * i, A + i, VMALLOC, VA);
		IE(t, i & 1, 3001 + 2 * i, A + i);
	}
	F(t, 0, 1000000, FREER, P1, 0);
	return 0;
}

/* 63 misses after the cover: the cover is still in the history. */
static int range_history_kept(struct tb *t)
{
	range_history(t, KPT_INVAL_HISTORY - 1);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 },
		      { KPT_C_INVAL_BEGIN, KPT_INVAL_HISTORY },
		      { KPT_C_INVAL_END, KPT_INVAL_HISTORY },
		      { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

/* 64 misses after the cover: it is gone, which is unknown, not a pass. */
static int range_history_overwritten(struct tb *t)
{
	range_history(t, KPT_INVAL_HISTORY);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 },
		      { KPT_C_INVAL_BEGIN, KPT_INVAL_HISTORY + 1 },
		      { KPT_C_INVAL_END, KPT_INVAL_HISTORY + 1 },
		      { KPT_C_RANGE_UNKNOWN, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	return 0;
}

/*
 * A slow invalidation (seq 1) returns after the one 64 newer (seq 65,
 * which covers P) took its history slot: the newer record must survive.
 */
static int range_late_return_keeps_newer(struct tb *t)
{
	int i;

	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	IB(t, 0, 2000, A, VMALLOC, VA);			/* seq 1, slow */
	for (i = 0; i < KPT_INVAL_HISTORY - 1; i++) {	/* seqs 2..64 */
		IB(t, 1, 3000 + 2 * i, B + i, VMALLOC, VA);
		IE(t, 1, 3001 + 2 * i, B + i);
	}
	IB(t, 1, 5000, W, VA, VA_END);			/* seq 65 */
	IE(t, 1, 5001, W);
	IE(t, 0, 6000, A);
	EXPECT_EQ(t, t->skel->bss->inval_hist_seq[1], KPT_INVAL_HISTORY + 1);
	F(t, 0, 7000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 },
		      { KPT_C_INVAL_BEGIN, KPT_INVAL_HISTORY + 1 },
		      { KPT_C_INVAL_END, KPT_INVAL_HISTORY + 1 },
		      { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

/* One entry at the first pfn; only the block's own free matches it. */
static int order_block(struct tb *t)
{
	struct kpt_pending p;

	Q(t, 0, 1000, 0x4000, 2, KPT_PT_ASYNC_FREE_PAGES, NOVA);
	Q(t, 0, 1100, 0x5000, 3, KPT_PT_ASYNC_FREE_PAGES, NOVA);
	EXPECT_EQ(t, tb_pending(t, 0x4000, &p), 0);
	EXPECT_EQ(t, p.order, 2);
	EXPECT_EQ(t, tb_pending(t, 0x4001, &p), -ENOENT);
	IB(t, 0, 2000, A, ALL);
	IE(t, 0, 3000, A);
	F(t, 0, 4000, FREER, 0x4001, 0);	/* inside the block: not it */
	EXPECT_EQ(t, tb_pending_count(t), 2);
	F(t, 0, 5000, FREER, 0x4000, 2);
	EXPECT_EQ(t, tb_pending_count(t), 1);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 2 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_PAGES), 2 });

	/* Handed over again after the flush: that flush no longer counts. */
	Q(t, 0, 6000, 0x5000, 3, KPT_PT_ASYNC_FREE_PAGES, NOVA);
	F(t, 0, 7000, FREER, 0x5000, 3);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	if (check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, 0x5000, 1100,
			       7000, KPT_PT_ASYNC_FREE_PAGES, 3))
		return -1;

	Q(t, 0, 8000, 0x6000, 3, KPT_PT_ASYNC_FREE_PAGES, NOVA);
	F(t, 0, 9000, FREER, 0x6000, 3);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	if (check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, 0x6000, 8000,
			       9000, KPT_PT_ASYNC_FREE_PAGES, 3))
		return -1;
	WANT_COUNTERS(t, { KPT_C_QUEUED, 3 }, { KPT_C_REQUEUED, 1 },
		      { KPT_C_INVAL_BEGIN, 1 }, { KPT_C_INVAL_END, 1 },
		      { KPT_C_FREED_OK, 1 }, { KPT_C_VIOLATION, 2 },
		      { PT(KPT_PT_ASYNC_FREE_PAGES), 4 });
	EXPECT_EQ(t, tb_pending_count(t), 0);
	return 0;
}

static int never_enqueued_ignored(struct tb *t)
{
	IB(t, 0, 1000, A, ALL);
	IE(t, 0, 2000, A);
	F(t, 0, 3000, FREER, 0x9999, 0);
	F(t, 1, 3000, FREER, 0, 9);

	WANT_COUNTERS(t, { KPT_C_INVAL_BEGIN, 1 }, { KPT_C_INVAL_END, 1 });
	EXPECT_EQ(t, tb_pending_count(t), 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	return hist_empty(t, KPT_M_ENQ_TO_FREE);
}

/* pages resized to 4 before load: the fifth page is counted, lost. */
static int map_full(struct tb *t)
{
	__u64 pfn;

	EXPECT_EQ(t, bpf_map__max_entries(t->skel->maps.pages), 4);
	for (pfn = 1; pfn <= 5; pfn++)
		Q(t, 0, 1000 + pfn, pfn, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 4 }, { KPT_C_MAP_FULL, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 5 });
	EXPECT_EQ(t, tb_pending_count(t), 4);
	EXPECT_EQ(t, t->skel->bss->pending_depth, 4);

	/* The untracked page's free is invisible; the rest still work. */
	F(t, 0, 2000, FREER, 5, 0);
	F(t, 0, 2000, FREER, 1, 0);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 4 }, { KPT_C_MAP_FULL, 1 },
		      { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 5 });
	return 0;
}

/*
 * A known table is handed over in its own entry: a map that other pages
 * filled cannot lose its hand-over, nor turn its free into a bypass. The
 * unknown page that found the map full is counted and its free unseen.
 */
static int map_full_known_table(struct tb *t)
{
	__u64 pfn;

	L(t, 500, 5, 1);
	for (pfn = 1; pfn <= 5; pfn++)
		Q(t, 0, 1000 + pfn, pfn, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	EXPECT_EQ(t, tb_pending_count(t), 4);
	IB(t, 1, 1500, A, ALL);
	IE(t, 1, 1600, A);
	F(t, 0, 2000, FREER, 5, 0);
	F(t, 0, 2000, FREER, 4, 0);
	F(t, 0, 2000, FREER, 1, 0);
	WANT_COUNTERS(t, { KPT_C_TABLE_LINKED, 1 }, { KPT_C_QUEUED, 4 }, { KPT_C_MAP_FULL, 1 },
		      { KPT_C_INVAL_BEGIN, 1 }, { KPT_C_INVAL_END, 1 }, { KPT_C_FREED_OK, 2 },
		      { KPT_C_TABLE_FREED, 1 }, { PT(KPT_PT_ASYNC_FREE_DTOR), 5 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	return 0;
}

/*
 * A page handed over before anything knew it as a table, then learned (a
 * walk that read its entry before the unlink): the hand-over decides its
 * free, with its own q(P); the learn leaves the entry alone, since
 * nothing orders a walk's write against the page's free.
 */
static int learn_pending(struct tb *t)
{
	struct kpt_pending p;

	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	L(t, 1500, P1, 1);
	EXPECT_EQ(t, tb_pending(t, P1, &p), 0);
	EXPECT_EQ(t, p.q_ts, 1000);
	EXPECT_EQ(t, tb_table(t, P1, &(struct kpt_table){}), -ENOENT);
	IB(t, 1, 2000, A, ALL);
	IE(t, 1, 2100, A);
	F(t, 0, 3000, FREER, P1, 0);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 }, { KPT_C_INVAL_END, 1 },
		      { KPT_C_FREED_OK, 1 }, { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	EXPECT_EQ(t, tb_pending_count(t), 0);
	EXPECT_EQ(t, tb_table_count(t), 0);
	EXPECT_EQ(t, tb_watched(t, P1), 0);
	return 0;
}

/* Pages still pending at the end stay in the map with what q(P) saw. */
static int pending_at_end(struct tb *t)
{
	struct kpt_pending p;

	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, VA, VA_END);
	IB(t, 1, 2000, A, ALL);
	Q(t, 0, 3000, P2, 1, KPT_PT_ASYNC_FREE_PAGES, NOVA);

	EXPECT_EQ(t, tb_pending_count(t), 2);
	EXPECT_EQ(t, t->skel->bss->pending_depth, 2);
	EXPECT_EQ(t, tb_pending(t, P1, &p), 0);
	EXPECT_EQ(t, p.q_ts, 1000);
	EXPECT_EQ(t, p.inval_seq, 0);
	EXPECT_EQ(t, p.va_start, VA);
	EXPECT_EQ(t, p.va_end, VA_END);
	EXPECT_EQ(t, p.order, 0);
	EXPECT_EQ(t, p.pid, 0x100);
	EXPECT_EQ(t, p.point, KPT_PT_ASYNC_FREE_DTOR);
	EXPECT_EQ(t, p.stack_id, 7);
	EXPECT_EQ(t, tb_pending(t, P2, &p), 0);
	EXPECT_EQ(t, p.q_ts, 3000);
	EXPECT_EQ(t, p.inval_seq, 1);	/* A began before it */
	EXPECT_EQ(t, p.va_start, 0);
	EXPECT_EQ(t, p.va_end, 0);
	EXPECT_EQ(t, p.order, 1);
	EXPECT_EQ(t, p.point, KPT_PT_ASYNC_FREE_PAGES);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 2 }, { KPT_C_INVAL_BEGIN, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 },
		      { PT(KPT_PT_ASYNC_FREE_PAGES), 1 });
	/* Depth sampled at each q(P): 1, then 2. */
	{
		struct kpt_hist h;

		EXPECT_EQ(t, tb_hist(t, KPT_M_PENDING_DEPTH, &h), 0);
		EXPECT_EQ(t, h.count, 2);
		EXPECT_EQ(t, h.slots[1], 1);
		EXPECT_EQ(t, h.slots[2], 1);
		EXPECT_EQ(t, h.max, 2);
	}
	return 0;
}

/*
 * Issue 13, stale entry: P handed over at 1000 and flushed (1500-1600),
 * then handed over again at 50000 (a drain that re-queued it, or a free
 * that was missed) and freed at 60000 with no flush after 50000. The
 * first flush must not count. The latency still runs from the first q.
 */
static int requeue_stale_flush(struct tb *t)
{
	struct kpt_pending p;

	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 1, 1500, A, ALL);
	IE(t, 1, 1600, A);
	Q(t, 0, 50000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	EXPECT_EQ(t, tb_pending(t, P1, &p), 0);
	EXPECT_EQ(t, p.q_ts, 1000);
	EXPECT_EQ(t, p.q_last_ts, 50000);
	EXPECT_EQ(t, p.inval_seq, 1);
	F(t, 0, 60000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_REQUEUED, 1 },
		      { KPT_C_INVAL_BEGIN, 1 }, { KPT_C_INVAL_END, 1 },
		      { KPT_C_VIOLATION, 1 }, { PT(KPT_PT_ASYNC_FREE_DTOR), 2 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	if (check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P1, 1000, 60000,
			       KPT_PT_ASYNC_FREE_DTOR, 0))
		return -1;
	return hist_only_slot(t, KPT_M_ENQ_TO_FREE, 59000);
}

/*
 * Issue 13, unlink window: pmd_free_pte_page() is entered at 1000, before
 * its pmd_clear(); flush B begins on CPU1 at 1500, while P is still
 * linked; P is handed over at 2000; B returns at 2500; P is freed at
 * 3000. B began before the hand-over: P is unflushed.
 */
static int unlink_window(struct tb *t)
{
	N(t, 1000, P1, KPT_PT_PMD_FREE_PTE_PAGE, VA, VA_END);
	EXPECT_EQ(t, tb_pending_count(t), 0);	/* a note, not a hand-over */
	IB(t, 1, 1500, B, ALL);
	Q(t, 0, 2000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IE(t, 1, 2500, B);
	F(t, 0, 3000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_VIOLATION, 1 },
		      { KPT_C_TABLE_FREED, 1 },
		      { PT(KPT_PT_PMD_FREE_PTE_PAGE), 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	/* the note's VA went with the hand-over */
	EXPECT_EQ(t, t->ev[0].va_start, VA);
	EXPECT_EQ(t, t->ev[0].q_stack_id, 7);
	return check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P1, 2000, 3000,
				  KPT_PT_ASYNC_FREE_DTOR, 0);
}

/* The same with a flush that began after the hand-over: clean. */
static int unlink_window_flushed(struct tb *t)
{
	N(t, 1000, P1, KPT_PT_PMD_FREE_PTE_PAGE, VA, VA_END);
	Q(t, 0, 2000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 1, 2100, B, VA, VA_END);
	IE(t, 1, 2500, B);
	F(t, 0, 3000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_FREED_OK, 1 },
		      { KPT_C_TABLE_FREED, 1 },
		      { PT(KPT_PT_PMD_FREE_PTE_PAGE), 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	EXPECT_EQ(t, tb_table_count(t), 0);
	return 0;
}

/*
 * Issue 8: a known table that reaches the allocator through no enqueue
 * point, whatever flushed around it, is a violation: "unnamed path" when
 * no free point saw it, else the free point's name.
 */
static int unnamed_free(struct tb *t)
{
	struct kpt_table tb;

	L(t, 500, P1, 1);
	EXPECT_EQ(t, tb_table(t, P1, &tb), 0);
	EXPECT_EQ(t, tb.src, KPT_TS_LINK);
	EXPECT_EQ(t, tb.level, 1);
	IB(t, 1, 1000, A, ALL);
	IE(t, 1, 2000, A);
	F(t, 0, 3000, FREER, P1, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	if (check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P1, 500, 3000,
			       KPT_PT_UNNAMED, 0))
		return -1;
	WANT_COUNTERS(t, { KPT_C_TABLE_LINKED, 1 }, { KPT_C_TABLE_FREED, 1 },
		      { KPT_C_INVAL_BEGIN, 1 }, { KPT_C_INVAL_END, 1 },
		      { KPT_C_VIOLATION, 1 }, { PT(KPT_PT_UNNAMED), 1 });
	/* freed once: the pfn is no table any more, its reuse is not */
	F(t, 0, 4000, FREER, P1, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	EXPECT_EQ(t, tb_table_count(t), 0);
	return 0;
}

/* Unpatched shape: a free point saw the table, nothing deferred it. */
static int free_point_direct(struct tb *t)
{
	N(t, 1000, P1, KPT_PT_PMD_FREE_PTE_PAGE, VA, VA_END);
	F(t, 0, 1100, FREER, P1, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	EXPECT_EQ(t, t->ev[0].q_stack_id, 8);	/* the free point's stack */
	EXPECT_EQ(t, t->ev[0].va_start, VA);
	if (check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P1, 1000, 1100,
			       KPT_PT_PMD_FREE_PTE_PAGE, 0))
		return -1;
	WANT_COUNTERS(t, { KPT_C_TABLE_FREED, 1 }, { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_PMD_FREE_PTE_PAGE), 1 });
	return 0;
}

/*
 * Issue 13 item 7: free_pagetable() on vmemmap data (order>0, or an
 * order-0 page that is no known table) is counted, not judged; on a
 * known table it is a note, and the free without hand-over a violation.
 */
static int free_pagetable_data(struct tb *t)
{
	__u64 base = 0xffffea0000000000ULL, sz = 64;

	tb_run(t, 0, KPT_TOP_FREE_PAGETABLE, 1000, 0x100, base + 0x7000 * sz, 9, 0, 0, 0, 0);
	tb_run(t, 0, KPT_TOP_FREE_PAGETABLE, 1000, 0x100, base + 0x7200 * sz, 0, 0, 0, 0, 0);
	L(t, 1100, 0x7400, 1);
	tb_run(t, 0, KPT_TOP_FREE_PAGETABLE, 1200, 0x100, base + 0x7400 * sz, 0, 0, 0, 0, 0);
	F(t, 0, 1300, FREER, 0x7000, 9);
	F(t, 0, 1300, FREER, 0x7200, 0);
	F(t, 0, 1400, FREER, 0x7400, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	if (check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, 0x7400, 1200, 1400,
			       KPT_PT_FREE_PAGETABLE, 0))
		return -1;
	WANT_COUNTERS(t, { KPT_C_DATA_PAGE, 2 }, { KPT_C_TABLE_LINKED, 1 },
		      { KPT_C_TABLE_FREED, 1 }, { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_FREE_PAGETABLE), 1 });
	return 0;
}

/*
 * Attach race: a return whose begin was missed. It is counted, it does
 * not move the watermark, and a page it might have flushed is unknown,
 * not a violation. A page queued after it is an ordinary violation.
 */
static int unpaired_return(struct tb *t)
{
	Q(t, 0, 500, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 0, 600, B, ALL);		/* seq 1, never returns */
	IE(t, 1, 1000, A);
	DE(t, 1, 1100, W);
	EXPECT_EQ(t, t->skel->bss->inval_done, 0);
	F(t, 0, 1500, FREER, P1, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);

	Q(t, 0, 2000, P2, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	F(t, 0, 2500, FREER, P2, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 2 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_UNPAIRED, 1 },
		      { KPT_C_DRAIN_UNPAIRED, 1 }, { KPT_C_UNKNOWN, 1 },
		      { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 2 });
	if (hist_empty(t, KPT_M_INVAL_DUR) || hist_empty(t, KPT_M_DRAIN_DUR) ||
	    hist_empty(t, KPT_M_DRAIN_PAGES))
		return -1;
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	return check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, P2, 2000,
				  2500, KPT_PT_ASYNC_FREE_DTOR, 0);
}

/* A begin whose return was missed is replaced by the task's next one. */
static int unpaired_begin(struct tb *t)
{
	IB(t, 0, 1000, A, ALL);
	DB(t, 0, 1000, W);
	Q(t, 0, 1500, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 0, 2000, A, ALL);
	DB(t, 0, 2000, W);
	IE(t, 0, 3000, A);
	DE(t, 0, 3000, W);
	EXPECT_EQ(t, t->skel->bss->inval_done, 2);
	F(t, 0, 4000, FREER, P1, 0);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 2 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_INVAL_UNPAIRED, 1 },
		      { KPT_C_DRAIN_BEGIN, 2 }, { KPT_C_DRAIN_END, 1 },
		      { KPT_C_DRAIN_UNPAIRED, 1 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return hist_only_slot(t, KPT_M_INVAL_DUR, 1000);
}

/*
 * A drain as upstream runs it: invalidate, then free what was queued.
 * Every histogram gets exactly the slot of its value.
 */
static int hist_slots(struct tb *t)
{
	struct kpt_hist h;

	/* The geometry the slots below rely on. */
	EXPECT_EQ(t, kpt_hist_slot(5), 5);
	EXPECT_EQ(t, kpt_hist_slot(500), 55);
	EXPECT_EQ(t, kpt_hist_slot(10000), 89);
	EXPECT_EQ(t, kpt_hist_slot(11000), 90);
	EXPECT_EQ(t, kpt_hist_slot(13000), 92);

	Q(t, 0, 1000, P1, 0, KPT_PT_PAGETABLE_FREE_KERNEL, NOVA);
	Q(t, 1, 1000, P2, 0, KPT_PT_PAGETABLE_FREE_KERNEL, NOVA);
	DB(t, 1, 11000, W);
	IB(t, 1, 11000, W, POFF, ~0ULL);
	IE(t, 1, 11500, W);
	F(t, 1, 12000, W, P1, 0);
	F(t, 1, 14000, W, P2, 0);
	DE(t, 1, 21000, W);

	WANT_COUNTERS(t, { KPT_C_QUEUED, 2 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_DRAIN_BEGIN, 1 },
		      { KPT_C_DRAIN_END, 1 }, { KPT_C_FREED_OK, 2 },
		      { PT(KPT_PT_PAGETABLE_FREE_KERNEL), 2 });
	if (hist_only_slot(t, KPT_M_INVAL_DUR, 500) ||
	    hist_only_slot(t, KPT_M_DRAIN_DUR, 10000) ||
	    hist_only_slot(t, KPT_M_DRAIN_PAGES, 2))
		return -1;

	EXPECT_EQ(t, tb_hist(t, KPT_M_ENQ_TO_DRAIN, &h), 0);
	EXPECT_EQ(t, h.count, 2);
	EXPECT_EQ(t, h.slots[89], 2);
	EXPECT_EQ(t, h.sum, 20000);
	EXPECT_EQ(t, h.max, 10000);

	EXPECT_EQ(t, tb_hist(t, KPT_M_ENQ_TO_FREE, &h), 0);
	EXPECT_EQ(t, h.count, 2);
	EXPECT_EQ(t, h.slots[90], 1);		/* 11000 */
	EXPECT_EQ(t, h.slots[92], 1);		/* 13000 */
	EXPECT_EQ(t, h.sum, 24000);
	EXPECT_EQ(t, h.max, 13000);
	return 0;
}

/* A value past the last slot lands in it and is counted. */
static int hist_clamp(struct tb *t)
{
	struct kpt_hist h;
	__u64 big = 1ULL << 52;

	Q(t, 0, 0, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 0, 1, A, ALL);
	IE(t, 0, 2, A);
	F(t, 0, big, FREER, P1, 0);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_FREED_OK, 1 },
		      { KPT_C_HIST_CLAMP, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	EXPECT_EQ(t, tb_hist(t, KPT_M_ENQ_TO_FREE, &h), 0);
	EXPECT_EQ(t, h.slots[KPT_HIST_SLOTS - 1], 1);
	EXPECT_EQ(t, h.max, big);
	return 0;
}

/* emit_live: every event type reaches the ring, in order. */
static int live_stream(struct tb *t)
{
	static const __u16 want[] = {
		KPT_EV_ENQUEUE, KPT_EV_DRAIN_BEGIN, KPT_EV_INVAL_BEGIN,
		KPT_EV_INVAL_END, KPT_EV_FREE, KPT_EV_DRAIN_END,
		KPT_EV_ENQUEUE, KPT_EV_VIOLATION,
	};
	int i;

	Q(t, 0, 1000, P1, 0, KPT_PT_PAGETABLE_FREE_KERNEL, NOVA);
	DB(t, 0, 2000, W);
	IB(t, 0, 2100, W, POFF, ~0ULL);
	IE(t, 0, 2400, W);
	F(t, 0, 2500, W, P1, 0);
	DE(t, 0, 3000, W);
	Q(t, 0, 4000, P2, 0, KPT_PT_PAGETABLE_FREE_KERNEL, NOVA);
	F(t, 0, 4500, FREER, P2, 0);

	tb_events(t);
	EXPECT_EQ(t, t->nev, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < t->nev; i++)
		EXPECT_EQ(t, t->ev[i].type, want[i]);
	EXPECT_EQ(t, t->ev[0].pfn, P1);
	EXPECT_EQ(t, t->ev[0].value, 1);		/* depth */
	EXPECT_EQ(t, t->ev[2].range_start, POFF);
	EXPECT_EQ(t, t->ev[2].range_end, ~0ULL);
	EXPECT_EQ(t, t->ev[2].value, 1);		/* seq */
	EXPECT_EQ(t, t->ev[3].value, 300);		/* duration */
	EXPECT_EQ(t, t->ev[4].pfn, P1);
	EXPECT_EQ(t, t->ev[4].value, 1500);		/* deferral */
	EXPECT_EQ(t, t->ev[4].range_end, 0);		/* no VA: no range */
	EXPECT_EQ(t, t->ev[5].value, 1);		/* pages in drain */
	EXPECT_EQ(t, t->ev[5].q_ts, 2000);
	EXPECT_EQ(t, t->ev[7].pfn, P2);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 2 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_DRAIN_BEGIN, 1 },
		      { KPT_C_DRAIN_END, 1 }, { KPT_C_FREED_OK, 1 },
		      { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_PAGETABLE_FREE_KERNEL), 2 });
	return 0;
}

/* The rule captures the free's real stack when asked to. */
static int violation_stack_captured(struct tb *t)
{
	__u64 ips[KPT_STACK_DEPTH];
	__u32 id;

	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	tb_run(t, 0, KPT_TOP_FREE, 2000, FREER, P1, 0,
	       (__u32)KPT_TEST_STACK_LAZY, 0, 0, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	EXPECT_TRUE(t, t->ev[0].stack_id >= 0);
	id = t->ev[0].stack_id;
	EXPECT_EQ(t, bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stacks),
					 &id, ips), 0);
	EXPECT_TRUE(t, ips[0] >= 0xffff800000000000ULL);
	return 0;
}

/* pmd_free_pte_page(): the entry's table, at the PMD-aligned VA. */
static int decode_pmd_entry(struct tb *t)
{
	struct kpt_table p;
	__u64 addr = VA + 0x12345;

	/* present|rw|accessed|dirty, NX set: the pfn mask must drop it */
	tb_run(t, 0, KPT_TOP_PMD_ENTRY, 1000, 0x100,
	       (1ULL << 63) | (0x12345ULL << 12) | 0x63, addr, 0, 0, 0, 0);
	/* a 2 MiB leaf and a non-present entry free no table */
	tb_run(t, 0, KPT_TOP_PMD_ENTRY, 1000, 0x100,
	       (0x40000ULL << 12) | 0xe3, addr, 0, 0, 0, 0);
	tb_run(t, 0, KPT_TOP_PMD_ENTRY, 1000, 0x100, 0x777ULL << 12, addr,
	       0, 0, 0, 0);

	EXPECT_EQ(t, tb_pending_count(t), 0);
	EXPECT_EQ(t, tb_table_count(t), 1);
	EXPECT_EQ(t, tb_table(t, 0x12345, &p), 0);
	EXPECT_EQ(t, p.va_start, VA);
	EXPECT_EQ(t, p.va_end, VA_END);
	EXPECT_EQ(t, p.point, KPT_PT_PMD_FREE_PTE_PAGE);
	EXPECT_EQ(t, p.src, KPT_TS_POINT);
	WANT_COUNTERS(t, { PT(KPT_PT_PMD_FREE_PTE_PAGE), 1 });
	return 0;
}

/*
 * pud_free_pmd_page(): the PMD table (1 GiB of VA) and the PTE tables of
 * its present non-leaf entries (2 MiB each), read from a fake table.
 * They are handed over; then an invalidation of the first 2 MiB only: the
 * first PTE table is clean, the others are range violations.
 */
static int decode_pmd_table(struct tb *t)
{
	__u64 table[KPT_TEST_TABLE_ENTRIES] = {};
	__u64 base = 0xffffc90040000000ULL, g = 1ULL << 30, m = 2ULL << 20;
	struct kpt_table p;
	__u32 zero = 0;

	table[0] = (0x500ULL << 12) | 0x63;
	table[1] = (0x600ULL << 12) | 0xe3;		/* leaf */
	table[2] = 0x700ULL << 12;			/* not present */
	table[511] = (0x800ULL << 12) | 0x63;
	EXPECT_EQ(t, bpf_map_update_elem(bpf_map__fd(t->skel->maps.test_table),
					 &zero, table, 0), 0);
	tb_run(t, 0, KPT_TOP_PMD_TABLE, 1000, 0x100, (0x400ULL << 12) | 0x63,
	       base + 0x1234, 0, 0, 0, 0);

	EXPECT_EQ(t, tb_pending_count(t), 0);
	EXPECT_EQ(t, tb_table_count(t), 3);
	EXPECT_EQ(t, tb_table(t, 0x400, &p), 0);
	EXPECT_EQ(t, p.va_start, base);
	EXPECT_EQ(t, p.va_end, base + g);
	EXPECT_EQ(t, tb_table(t, 0x500, &p), 0);
	EXPECT_EQ(t, p.va_start, base);
	EXPECT_EQ(t, p.va_end, base + m);
	EXPECT_EQ(t, p.point, KPT_PT_PUD_FREE_PMD_PAGE);
	EXPECT_EQ(t, tb_table(t, 0x800, &p), 0);
	EXPECT_EQ(t, p.va_start, base + 511 * m);
	EXPECT_EQ(t, p.va_end, base + g);

	/* the enqueue points know no VA: the notes supply it */
	Q(t, 0, 1500, 0x400, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	Q(t, 0, 1500, 0x500, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	Q(t, 0, 1500, 0x800, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 0, 2000, A, base, base + m);
	IE(t, 0, 3000, A);
	F(t, 0, 4000, FREER, 0x500, 0);
	F(t, 0, 4000, FREER, 0x800, 0);
	F(t, 0, 4000, FREER, 0x400, 0);
	WANT_COUNTERS(t, { KPT_C_QUEUED, 3 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_FREED_OK, 1 },
		      { KPT_C_RANGE_VIOLATION, 2 }, { KPT_C_TABLE_FREED, 3 },
		      { PT(KPT_PT_PUD_FREE_PMD_PAGE), 3 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 3 });
	return 0;
}

/* page -> pfn through vmemmap_base, in struct page units. */
static int decode_page_to_pfn(struct tb *t)
{
	__u64 base;

	tb_run(t, 0, KPT_TOP_PAGE_TO_PFN, 0, 0, 0, 0, 0, 0, 0, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, ~0ULL);	/* below the base */
	base = t->skel->bss->vmemmap_base_seen;
	EXPECT_TRUE(t, base >= 0xffff800000000000ULL);
	tb_run(t, 0, KPT_TOP_PAGE_TO_PFN, 0, 0, base + 7 * 64, 0, 0, 0, 0, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 7);	/* struct page: 64 B */
	tb_run(t, 0, KPT_TOP_PAGE_TO_PFN, 0, 0, base + (0x12345ULL << 6),
	       0, 0, 0, 0, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 0x12345);
	return 0;
}

/*
 * Where a layout base comes from: the hint over everything, then the
 * address user space found (kallsyms or a System.map), then the default;
 * the first read is cached. A variable that cannot be read gives 0
 * (decode nothing), is not cached, and does not fall back.
 */
static int decode_layout_base(struct tb *t)
{
	const __u64 H = 0xffffc00000000000ULL, AD = 0xffffea0000000000ULL;
	const __u64 DF = 0xffff888000000000ULL;
	struct testrun_bpf__bss *b = t->skel->bss;

#define LB(hint, addr) \
	tb_run(t, 0, KPT_TOP_LAYOUT_BASE, 0, 0, hint, addr, AD, DF, 0, 0)
	LB(H, 1);
	EXPECT_EQ(t, b->test_out, H);
	EXPECT_EQ(t, b->test_layout_seen, 0);
	LB(0, 1);
	EXPECT_EQ(t, b->test_out, AD);
	EXPECT_EQ(t, b->test_layout_seen, AD);
	tb_run(t, 0, KPT_TOP_LAYOUT_BASE, 0, 0, 0, 1, AD + 64, DF, 0, 0);
	EXPECT_EQ(t, b->test_out, AD);			/* cached */
	b->test_layout_seen = 0;
	LB(0, 0);
	EXPECT_EQ(t, b->test_out, DF);
	b->test_layout_seen = 0;
	LB(0, 0x10);					/* unreadable */
	EXPECT_EQ(t, b->test_out, 0);
	EXPECT_EQ(t, b->test_layout_seen, 0);
#undef LB
	return 0;
}

/*
 * hist -i's snapshot: the syscall program's sums over every CPU equal the
 * per-CPU maps read from user space, counter by counter, slot by slot.
 */
static int snapshot_sums(struct tb *t)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct testrun_bpf__bss *b = t->skel->bss;
	int ncpu = t->ncpu > 1 ? 2 : 1;
	struct kpt_hist h;

	for (int c = 0; c < ncpu; c++) {
		__u64 p = P1 + c, now = 1000 + c * 100000;

		EXPECT_EQ(t, Q(t, c, now, p, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA), 0);
		EXPECT_EQ(t, IB(t, c, now + 1000, A, ALL), 0);
		EXPECT_EQ(t, IE(t, c, now + 2000 + c * 5000, A), 0);
		EXPECT_EQ(t, F(t, c, now + 3000 + c * 70000, FREER, p, 0), 0);
	}
	/* stale figures must not survive: the snapshot starts from zero */
	b->snap_counters[KPT_C_QUEUED] = 1000;
	b->snap_hists[KPT_M_INVAL_DUR].count = 1000;
	EXPECT_EQ(t, bpf_prog_test_run_opts(bpf_program__fd(t->skel->progs.testrun_snapshot),
					    &opts), 0);
	EXPECT_EQ(t, b->snap_counters[KPT_C_QUEUED], ncpu);
	EXPECT_EQ(t, b->snap_counters[KPT_C_FREED_OK], ncpu);
	for (int c = 0; c < KPT_C_MAX; c++)
		if (b->snap_counters[c] != tb_counter(t, c, -1))
			TB_FAIL(t, "counter %s: snapshot %llu, maps %llu", tb_counter_name(c),
				(unsigned long long)b->snap_counters[c],
				(unsigned long long)tb_counter(t, c, -1));
	EXPECT_EQ(t, b->snap_hists[KPT_M_ENQ_TO_FREE].count, ncpu);
	for (int m = 0; m < KPT_M_MAX; m++) {
		if (tb_hist(t, m, &h))
			TB_FAIL(t, "hist %d: lookup failed", m);
		if (memcmp(&h, &b->snap_hists[m], sizeof(h)))
			TB_FAIL(t, "hist %d: snapshot count %llu sum %llu max %llu, maps %llu %llu %llu",
				m, (unsigned long long)b->snap_hists[m].count,
				(unsigned long long)b->snap_hists[m].sum,
				(unsigned long long)b->snap_hists[m].max,
				(unsigned long long)h.count, (unsigned long long)h.sum,
				(unsigned long long)h.max);
	}
	return 0;
}

#define CASE(f, ...) { .name = #f, .fn = f, .opts = { __VA_ARGS__ } }

/*
 * kernel_pgtable_async_free_page_list(): every ptdesc on the list, found
 * through pt_list. The fake ptdescs live in a map, so vmemmap_base is
 * hinted to the bottom of the kernel half and the pfns are whatever
 * their addresses make of it. The bottom with 5-level paging: with 4
 * levels it is higher, and a 5-level kernel's map values (direct map at
 * 0xff11000000000000) would sit below it and decode to no pfn at all.
 */
#define LIST_HINT	0xff00000000000000ULL

static int decode_ptdesc_list(struct tb *t)
{
	struct kpt_test_list l;
	struct kpt_pending p;
	__u32 zero = 0;
	int i;

	/* An empty list queues nothing and is not a truncated walk. */
	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_PTDESC_LIST, 1000, 0x100, 0, 0, 0,
			    0, 0, 0), 0);
	WANT_COUNTERS(t, { KPT_C_WALK_TRUNC, 0 });

	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_PTDESC_LIST, 2000, 0x100,
			    KPT_TEST_LIST_MAX, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(t, bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.test_list),
					 &zero, &l), 0);
	EXPECT_EQ(t, tb_pending_count(t), KPT_TEST_LIST_MAX);
	EXPECT_TRUE(t, l.pt_list_off > 0 && l.pt_list_off < 64);
	for (i = 0; i < KPT_TEST_LIST_MAX; i++) {
		EXPECT_TRUE(t, l.page_addr[i] > LIST_HINT);
		EXPECT_EQ(t, (l.page_addr[i] + l.pt_list_off - LIST_HINT) % 64,
			  0);
		EXPECT_EQ(t, tb_pending(t, (l.page_addr[i] - LIST_HINT) / 64,
					&p), 0);
		EXPECT_EQ(t, p.q_ts, 2000);
		EXPECT_EQ(t, p.point, KPT_PT_ASYNC_FREE_LIST);
		EXPECT_EQ(t, p.order, 0);
		EXPECT_EQ(t, p.va_start, 0);
	}
	WANT_COUNTERS(t, { KPT_C_QUEUED, KPT_TEST_LIST_MAX },
		      { PT(KPT_PT_ASYNC_FREE_LIST), KPT_TEST_LIST_MAX });
	return 0;
}

/* A list that never comes back to its head: bounded, and counted. */
static int decode_ptdesc_list_cycle(struct tb *t)
{
	tb_run(t, 0, KPT_TOP_PTDESC_LIST, 1000, 0x100, KPT_TEST_LIST_MAX, 1,
	       0, 0, 0, 0);
	EXPECT_EQ(t, tb_pending_count(t), KPT_TEST_LIST_MAX);
	WANT_COUNTERS(t, { KPT_C_QUEUED, KPT_TEST_LIST_MAX },
		      { KPT_C_REQUEUED, KPT_TEST_LIST_WALK - KPT_TEST_LIST_MAX },
		      { KPT_C_WALK_TRUNC, 1 },
		      { PT(KPT_PT_ASYNC_FREE_LIST), KPT_TEST_LIST_WALK });
	return 0;
}

/*
 * The walk over fake tables: test_tables[i] is "physical" page
 * WPA + i * 4096 under a base chosen so that base + pa lands on it.
 */
#define WPA	0x100000000ULL
#define TBL(i)	(WPA + (__u64)(i) * 4096)
#define PTR	0x63ULL		/* present, rw, accessed, dirty */
#define LEAF	0xe3ULL		/* ... and PSE */

static __u64 walk_setup(struct tb *t, __u64 tables[][KPT_TEST_TABLE_ENTRIES], int n)
{
	int fd = bpf_map__fd(t->skel->maps.test_tables);

	for (__u32 i = 0; i < (__u32)n; i++)
		if (bpf_map_update_elem(fd, &i, tables[i], 0))
			return 0;
	if (tb_run(t, 0, KPT_TOP_WALK_ADDR, 0, 0, 0, 0, 0, 0, 0, 0))
		return 0;
	return t->skel->bss->test_out - WPA;
}

/* va ~0: not checked; else the VA the table must map from, for its span */
static int want_table(struct tb *t, __u64 pfn, int level, __u64 va, int line)
{
	static const __u64 span[] = { 0, 1ULL << 21, 1ULL << 30, 1ULL << 39, 1ULL << 48 };
	struct kpt_table tb;

	if (tb_table(t, pfn, &tb))
		TB_FAIL(t, "line %d: pfn %#llx not learned", line, (unsigned long long)pfn);
	if (tb.level != level || tb.src != KPT_TS_WALK)
		TB_FAIL(t, "line %d: pfn %#llx level %d src %d, want level %d by the walk",
			line, (unsigned long long)pfn, tb.level, tb.src, level);
	if (va != ~0ULL && (tb.va_start != va || tb.va_end != va + span[level]))
		TB_FAIL(t, "line %d: pfn %#llx maps %#llx-%#llx, want %#llx-%#llx", line,
			(unsigned long long)pfn, (unsigned long long)tb.va_start,
			(unsigned long long)tb.va_end, (unsigned long long)va,
			(unsigned long long)(va + span[level]));
	return 0;
}

#define WANT_TABLE(t, pfn, level) do {					\
	if (want_table(t, pfn, level, ~0ULL, __LINE__))			\
		return -1;						\
} while (0)

#define WANT_TABLE_VA(t, pfn, level, va) do {				\
	if (want_table(t, pfn, level, va, __LINE__))			\
		return -1;						\
} while (0)

/*
 * 4-level: the kernel half of the top table points at a PUD table, whose
 * entries are a PMD table, a 1 GiB leaf and another PMD table; those point
 * at PTE tables and a 2 MiB leaf. The user half is not walked.
 */
static int walk_4level(struct tb *t)
{
	static __u64 tbl[5][KPT_TEST_TABLE_ENTRIES];
	__u64 base;

	memset(tbl, 0, sizeof(tbl));
	tbl[0][0] = TBL(4) | PTR;			/* user half */
	tbl[0][256] = TBL(1) | PTR;
	tbl[0][300] = TBL(4);				/* not present */
	tbl[1][0] = TBL(2) | PTR;
	tbl[1][1] = (0x40000ULL << 12) | LEAF;		/* 1 GiB leaf */
	tbl[1][5] = TBL(3) | PTR;
	tbl[2][0] = (0x777ULL << 12) | PTR;		/* a PTE table */
	tbl[2][1] = (0x800ULL << 12) | LEAF;		/* 2 MiB leaf */
	tbl[3][511] = (0x999ULL << 12) | PTR | (1ULL << 63);	/* NX */
	tbl[3][510] = (0x777ULL << 12) | PTR;		/* shared: one table */
	base = walk_setup(t, tbl, 5);
	EXPECT_TRUE(t, base != 0);
	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_WALK, 1000, 0, base, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 5);
	EXPECT_EQ(t, tb_table_count(t), 5);
	/* the VA each maps: the path's indices, sign-extended from bit 47 */
	WANT_TABLE_VA(t, TBL(1) >> 12, 3, 0xffff800000000000ULL);
	WANT_TABLE_VA(t, TBL(2) >> 12, 2, 0xffff800000000000ULL);
	WANT_TABLE_VA(t, TBL(3) >> 12, 2, 0xffff800000000000ULL + (5ULL << 30));
	WANT_TABLE_VA(t, 0x777, 1, 0xffff800000000000ULL);	/* the first entry's */
	WANT_TABLE_VA(t, 0x999, 1, 0xffff800000000000ULL + (5ULL << 30) + (511ULL << 21));
	WANT_COUNTERS(t, { KPT_C_TABLE_WALKED, 5 });

	/* a walked PTE table freed without a hand-over: unnamed */
	F(t, 0, 2000, FREER, 0x999, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	return check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, 0x999, 1000, 2000,
				  KPT_PT_UNNAMED, 0);
}

/* 5-level: top -> P4D -> PUD -> PMD -> PTE. */
static int walk_la57(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base;

	memset(tbl, 0, sizeof(tbl));
	tbl[0][511] = TBL(1) | PTR;
	tbl[1][3] = TBL(2) | PTR;
	tbl[2][0] = TBL(3) | PTR;
	tbl[3][7] = (0x555ULL << 12) | PTR;
	base = walk_setup(t, tbl, 4);
	EXPECT_TRUE(t, base != 0);
	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_WALK, 1000, 0, base, 1, 0, 0, 0, 0), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 4);
	/* top entry 511 at bit 48, sign-extended from bit 56 */
	WANT_TABLE_VA(t, TBL(1) >> 12, 4, 0xffff000000000000ULL);
	WANT_TABLE_VA(t, TBL(2) >> 12, 3, 0xffff000000000000ULL + (3ULL << 39));
	WANT_TABLE_VA(t, TBL(3) >> 12, 2, 0xffff000000000000ULL + (3ULL << 39));
	WANT_TABLE_VA(t, 0x555, 1, 0xffff000000000000ULL + (3ULL << 39) + (7ULL << 21));
	WANT_COUNTERS(t, { KPT_C_TABLE_WALKED, 4 });
	return 0;
}

/*
 * A walk over top -> PUD -> PMD table with PTE tables 0x777 and 0x778,
 * during which 0x777 is freed (before the walk records it): what the
 * walk returns, as KPT_TOP_WALK gives it.
 */
static int walk_racing_free(struct tb *t)
{
	static __u64 tbl[3][KPT_TEST_TABLE_ENTRIES];
	__u64 base;

	memset(tbl, 0, sizeof(tbl));
	tbl[0][256] = TBL(1) | PTR;
	tbl[1][0] = TBL(2) | PTR;
	tbl[2][0] = (0x777ULL << 12) | PTR;
	tbl[2][1] = (0x778ULL << 12) | PTR;
	base = walk_setup(t, tbl, 3);
	EXPECT_TRUE(t, base != 0);
	tb_run(t, 0, KPT_TOP_WALK_ACTIVE, 0, 0, 1, 0, 0, 0, 0, 0);
	F(t, 1, 900, FREER, 0x777, 0);
	tb_run(t, 0, KPT_TOP_WALK_ACTIVE, 0, 0, 0, 0, 0, 0, 0, 0);
	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_WALK, 1000, 0, base, 0, 0, 0, 0, 0), 0);
	return 0;
}

/*
 * A table freed while the walk runs: the walk may still have read the
 * entry that pointed at it. It must not stay known, or its reuse would be
 * a false violation.
 */
static int walk_race(struct tb *t)
{
	if (walk_racing_free(t))
		return -1;
	EXPECT_EQ(t, t->skel->bss->test_out, 4);
	EXPECT_EQ(t, tb_table(t, 0x777, &(struct kpt_table){}), -ENOENT);
	WANT_TABLE(t, 0x778, 1);
	WANT_COUNTERS(t, { KPT_C_TABLE_WALKED, 4 }, { KPT_C_WALK_RACE, 1 });
	F(t, 0, 2000, FREER, 0x777, 0);		/* its reuse: nothing */
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	return 0;
}

/*
 * The pfn the walk took back (walk_race) is linked as a table again
 * before anything frees it: the link point makes it known, and its free
 * without a hand-over is the bypass it is.
 */
static int walk_race_relink(struct tb *t)
{
	struct kpt_table tb;

	if (walk_racing_free(t))
		return -1;
	EXPECT_EQ(t, tb_table(t, 0x777, &(struct kpt_table){}), -ENOENT);
	L(t, 1500, 0x777, 1);
	EXPECT_EQ(t, tb_table(t, 0x777, &tb), 0);
	EXPECT_EQ(t, tb.src, KPT_TS_LINK);
	F(t, 0, 2000, FREER, 0x777, 0);
	WANT_COUNTERS(t, { KPT_C_TABLE_WALKED, 4 }, { KPT_C_WALK_RACE, 1 },
		      { KPT_C_TABLE_LINKED, 1 }, { KPT_C_TABLE_FREED, 1 }, { KPT_C_VIOLATION, 1 },
		      { PT(KPT_PT_UNNAMED), 1 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	EXPECT_EQ(t, t->ev[0].type, KPT_EV_VIOLATION);
	return 0;
}

/* A table the walk cannot read: the result says incomplete. */
static int walk_fault(struct tb *t)
{
	static __u64 tbl[1][KPT_TEST_TABLE_ENTRIES];
	__u64 base;

	memset(tbl, 0, sizeof(tbl));
	tbl[0][256] = (0x1ULL << 12) | PTR;	/* base + 4096: unmapped */
	base = walk_setup(t, tbl, 1);
	EXPECT_TRUE(t, base != 0);
	/* base 0 is "layout unknown": nothing is walked */
	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_WALK, 1000, 0, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, -1ULL);
	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_WALK, 1000, 0, 0x10000000000ULL, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, -1ULL);
	WANT_COUNTERS(t, { KPT_C_TABLE_WALKED, 1 }, { KPT_C_WALK_TRUNC, 2 });
	return 0;
}

/*
 * Issue 13 item 6: with AMD SME the encryption bit (sme_me_mask, bit 47
 * here) is set in every entry. The kernel's physical address width (43
 * bits after SME's reduction) leaves it out of the pfn.
 */
static int decode_sme_bit(struct tb *t)
{
	struct kpt_table p;
	__u64 c = 1ULL << 47;

	tb_run(t, 0, KPT_TOP_PMD_ENTRY, 1000, 0x100, c | (0x12345ULL << 12) | 0x63, VA,
	       0, 0, 0, 0);
	EXPECT_EQ(t, tb_table_count(t), 1);
	EXPECT_EQ(t, tb_table(t, 0x12345, &p), 0);
	return 0;
}

/*
 * The watched bitmap sends unwatched frees away before the hash lookups:
 * a table entry without its bit (never made by the rule) is not judged.
 * That is what makes the bit's upkeep below matter.
 */
static int watched_filters(struct tb *t)
{
	struct kpt_page pg = { .tbl = { .ts = 500, .level = 1, .src = KPT_TS_LINK }, .table = 1 };
	__u64 pfn = P1;

	EXPECT_EQ(t, bpf_map_update_elem(bpf_map__fd(t->skel->maps.pages), &pfn, &pg,
					 BPF_NOEXIST), 0);
	EXPECT_EQ(t, tb_watched(t, P1), 0);
	F(t, 0, 3000, FREER, P1, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	EXPECT_EQ(t, tb_table_count(t), 1);
	WANT_COUNTERS(t, { 0, 0 });
	return 0;
}

/*
 * Every way into tables or pending sets the bit, a free that takes the
 * page out of both clears it, and the page's next life as a table sets
 * it again: a reused pfn is judged like a new one.
 */
static int watched_upkeep(struct tb *t)
{
	L(t, 500, P1, 1);
	EXPECT_EQ(t, tb_watched(t, P1), 1);
	F(t, 0, 1000, FREER, P1, 0);
	EXPECT_EQ(t, tb_watched(t, P1), 0);
	L(t, 2000, P1, 1);			/* reused as a table */
	EXPECT_EQ(t, tb_watched(t, P1), 1);
	F(t, 0, 3000, FREER, P1, 0);
	EXPECT_EQ(t, tb_watched(t, P1), 0);
	N(t, 4000, P1, KPT_PT_PMD_FREE_PTE_PAGE, VA, VA_END);	/* a free point's note */
	EXPECT_EQ(t, tb_watched(t, P1), 1);
	F(t, 0, 5000, FREER, P1, 0);
	Q(t, 0, 6000, P2, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);	/* pending only */
	EXPECT_EQ(t, tb_watched(t, P2), 1);
	F(t, 0, 7000, FREER, P2, 0);
	EXPECT_EQ(t, tb_watched(t, P2), 0);
	WANT_COUNTERS(t, { KPT_C_TABLE_LINKED, 2 }, { KPT_C_TABLE_FREED, 3 },
		      { KPT_C_VIOLATION, 4 }, { KPT_C_QUEUED, 1 },
		      { PT(KPT_PT_UNNAMED), 2 }, { PT(KPT_PT_PMD_FREE_PTE_PAGE), 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 });
	return 0;
}

/* Pages above the bitmap (memory added after start) take the slow path. */
static int watched_above(struct tb *t)
{
	EXPECT_EQ(t, tb_watched(t, P1), -ENOENT);
	L(t, 500, P1, 1);
	F(t, 0, 1000, FREER, P1, 0);
	Q(t, 0, 2000, P2, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 1, 3000, A, ALL);
	IE(t, 1, 4000, A);
	F(t, 0, 5000, FREER, P2, 0);
	WANT_COUNTERS(t, { KPT_C_TABLE_LINKED, 1 }, { KPT_C_TABLE_FREED, 1 },
		      { KPT_C_VIOLATION, 1 }, { PT(KPT_PT_UNNAMED), 1 }, { KPT_C_QUEUED, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 1 }, { KPT_C_INVAL_BEGIN, 1 },
		      { KPT_C_INVAL_END, 1 }, { KPT_C_FREED_OK, 1 });
	return 0;
}

#define L_VA(t, now, pfn, level, va)					\
	tb_run(t, 0, KPT_TOP_LEARN, now, 0, pfn, level, KPT_TS_LINK, va, 0, 0)

/*
 * A table learned with its VA and handed over at a point that names none
 * (a ptdesc): the range check uses the learned VA. Without it, a flush
 * that misses the table's range would pass as a clean free.
 */
static int learned_va_range(struct tb *t)
{
	struct kpt_table tb;

	L_VA(t, 500, P1, 1, VA + 0x1234);	/* any address inside: the 2 MiB */
	EXPECT_EQ(t, tb_table(t, P1, &tb), 0);
	EXPECT_EQ(t, tb.va_start, VA);
	EXPECT_EQ(t, tb.va_end, VA_END);
	L_VA(t, 500, P2, 1, VA);
	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	Q(t, 0, 1000, P2, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	IB(t, 0, 2000, A, VMALLOC, VA);		/* ends where the tables start */
	IE(t, 0, 3000, A);
	F(t, 0, 4000, FREER, P1, 0);
	IB(t, 0, 5000, A, VA, VA_END);
	IE(t, 0, 6000, A);
	F(t, 0, 7000, FREER, P2, 0);
	WANT_COUNTERS(t, { KPT_C_TABLE_LINKED, 2 }, { KPT_C_TABLE_FREED, 2 },
		      { KPT_C_QUEUED, 2 }, { KPT_C_INVAL_BEGIN, 2 }, { KPT_C_INVAL_END, 2 },
		      { KPT_C_RANGE_VIOLATION, 1 }, { KPT_C_FREED_OK, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 2 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	EXPECT_EQ(t, t->ev[0].type, KPT_EV_RANGE_VIOLATION);
	EXPECT_EQ(t, t->ev[0].va_start, VA);
	EXPECT_EQ(t, t->ev[0].va_end, VA_END);
	return 0;
}

/*
 * A hand-over that names no VA takes the known table's, for the range
 * check, for the live event and again at a requeue.
 */
static int enqueue_table_va(struct tb *t)
{
	struct kpt_pending p;

	L_VA(t, 500, P1, 1, VA);
	Q(t, 0, 1000, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);
	Q(t, 0, 1100, P1, 0, KPT_PT_ASYNC_FREE_DTOR, NOVA);	/* requeued */
	EXPECT_EQ(t, tb_pending(t, P1, &p), 0);
	EXPECT_EQ(t, p.va_start, VA);
	EXPECT_EQ(t, p.va_end, VA_END);
	EXPECT_EQ(t, p.q_ts, 1000);
	EXPECT_EQ(t, p.q_last_ts, 1100);
	WANT_COUNTERS(t, { KPT_C_TABLE_LINKED, 1 }, { KPT_C_QUEUED, 1 }, { KPT_C_REQUEUED, 1 },
		      { PT(KPT_PT_ASYNC_FREE_DTOR), 2 });
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	EXPECT_EQ(t, t->ev[0].type, KPT_EV_ENQUEUE);
	EXPECT_EQ(t, t->ev[0].va_start, VA);
	EXPECT_EQ(t, t->ev[0].va_end, VA_END);
	EXPECT_EQ(t, t->skel->bss->pending_depth, 1);
	return 0;
}

/*
 * __pte_alloc_kernel(pmd) names no address: the new table's VA is its
 * parent PMD table's plus the entry's index times 2 MiB, the parent found
 * through the direct map. An unknown parent, one at another level, or an
 * entry outside the direct map (the kernel image's tables) give 0.
 */
static int link_va(struct tb *t)
{
	const __u64 base = POFF, pmd_pfn = 0x4242, pmd_va = 0xffffc90000000000ULL;
	const __u64 entry = base + (pmd_pfn << 12) + 3 * 8;

	EXPECT_EQ(t, tb_run(t, 0, KPT_TOP_LINK_VA, 0, 0, base, entry, 1, 0, 0, 0), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);	/* parent unknown */
	L_VA(t, 500, pmd_pfn, 2, pmd_va);
	tb_run(t, 0, KPT_TOP_LINK_VA, 0, 0, base, entry, 1, 0, 0, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, pmd_va + (3ULL << 21));
	tb_run(t, 0, KPT_TOP_LINK_VA, 0, 0, base, entry, 2, 0, 0, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);	/* the parent is no PUD table */
	tb_run(t, 0, KPT_TOP_LINK_VA, 0, 0, base, 0xffffffff82000018ULL - (1ULL << 56),
	       1, 0, 0, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);	/* below the direct map */
	L(t, 600, 0x4343, 2);				/* a parent without a VA */
	tb_run(t, 0, KPT_TOP_LINK_VA, 0, 0, base, base + (0x4343ULL << 12), 1, 0, 0, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);
	return 0;
}


/*
 * CPA's large-page splits (split.bpf.h), over the fake tables: top
 * (test_tables[0]) -> PUD table 1 -> PMD tables 2 (1 GiB SV) and 3 (the
 * next 1 GiB); PMD table 2 has PTE tables at entries 5, 6 and 511, a
 * 2 MiB leaf at 4. The split walk learns the tables under the range the
 * CPA call changed, at PMD and PUD granularity, and nothing else.
 */
#define SV	(VMALLOC + (3ULL << 30))	/* PUD entry 3 of the PUD table */
#define SV_PMD(i)	(SV + (__u64)(i) * (2ULL << 20))
#define SPLIT(t, base, start, npages)					\
	tb_run(t, 0, KPT_TOP_SPLIT_RANGE, 1000, 0, base, start, npages, 0, 0, 0)

static __u64 split_setup(struct tb *t, __u64 tbl[][KPT_TEST_TABLE_ENTRIES])
{
	memset(tbl, 0, 4 * sizeof(tbl[0]));
	tbl[0][(SV >> 39) & 511] = TBL(1) | PTR;
	tbl[1][3] = TBL(2) | PTR;
	tbl[1][4] = TBL(3) | PTR;
	tbl[1][5] = (0x40000ULL << 12) | LEAF;	/* a 1 GiB leaf */
	tbl[2][4] = (0x800ULL << 12) | LEAF;	/* a 2 MiB leaf */
	tbl[2][5] = (0x777ULL << 12) | PTR;
	tbl[2][6] = (0x778ULL << 12) | PTR;
	tbl[2][511] = (0x779ULL << 12) | PTR;
	tbl[3][0] = (0x77aULL << 12) | PTR;
	return walk_setup(t, tbl, 4);
}

/* pfn learned by the split walk at level, mapping from va */
static int want_split(struct tb *t, __u64 pfn, int level, __u64 va, int line)
{
	static const __u64 span[] = { 0, 1ULL << 21, 1ULL << 30 };
	struct kpt_table tb;

	if (tb_table(t, pfn, &tb))
		TB_FAIL(t, "line %d: pfn %#llx not learned", line, (unsigned long long)pfn);
	if (tb.level != level || tb.src != KPT_TS_SPLIT || tb.va_start != va ||
	    tb.va_end != va + span[level])
		TB_FAIL(t, "line %d: pfn %#llx level %d src %d maps %#llx-%#llx, want level %d "
			"src %d %#llx-%#llx", line, (unsigned long long)pfn, tb.level, tb.src,
			(unsigned long long)tb.va_start, (unsigned long long)tb.va_end, level,
			KPT_TS_SPLIT, (unsigned long long)va, (unsigned long long)(va + span[level]));
	return 0;
}

#define WANT_SPLIT(t, pfn, level, va) do {				\
	if (want_split(t, pfn, level, va, __LINE__))			\
		return -1;						\
} while (0)

#define NOT_LEARNED(t, pfn)						\
	EXPECT_EQ(t, tb_table(t, pfn, &(struct kpt_table){}), -ENOENT)

/*
 * A 1-page change inside PMD entry 5: its PTE table (a split 2 MiB page)
 * and the PMD table above it (a split 1 GiB page, as far as the walk can
 * tell) are learned with the VA they map; entry 6's table, outside the
 * range, is not. Freed without a hand-over, the split table is a
 * violation: before the split walk it was no known table, and such a
 * free went unseen (issue 8, mutant 7.3/2).
 */
static int split_pmd_in_range(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base = split_setup(t, tbl);

	EXPECT_TRUE(t, base != 0);
	EXPECT_EQ(t, SPLIT(t, base, SV_PMD(5) + 0x3000, 1), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 2);
	WANT_SPLIT(t, 0x777, 1, SV_PMD(5));
	WANT_SPLIT(t, TBL(2) >> 12, 2, SV);
	NOT_LEARNED(t, 0x778);
	NOT_LEARNED(t, 0x779);
	NOT_LEARNED(t, TBL(1) >> 12);		/* the PUD table: no split links one */
	EXPECT_EQ(t, tb_table_count(t), 2);
	WANT_COUNTERS(t, { KPT_C_TABLE_SPLIT, 2 });

	F(t, 0, 2000, FREER, 0x777, 0);
	tb_events(t);
	EXPECT_EQ(t, t->nev, 1);
	return check_violation_ev(t, &t->ev[0], KPT_EV_VIOLATION, 0x777, 1000, 2000,
				  KPT_PT_UNNAMED, 0);
}

/*
 * Ranges over two PMD entries, and over two 1 GiB (two PMD tables): every
 * table under the range, each with its own VA. A 2 MiB leaf has no table
 * below it; a 1 GiB leaf and a hole in the PUD table are skipped whole.
 */
static int split_two_pmds(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base = split_setup(t, tbl);

	EXPECT_TRUE(t, base != 0);
	/* the last page of entry 5 and the first of entry 6 */
	SPLIT(t, base, SV_PMD(6) - 0x1000, 2);
	EXPECT_EQ(t, t->skel->bss->test_out, 3);
	WANT_SPLIT(t, 0x777, 1, SV_PMD(5));
	WANT_SPLIT(t, 0x778, 1, SV_PMD(6));
	WANT_SPLIT(t, TBL(2) >> 12, 2, SV);
	/* entry 511 of PMD table 2 and entry 0 of PMD table 3 */
	SPLIT(t, base, SV_PMD(511), 512 + 1);
	EXPECT_EQ(t, t->skel->bss->test_out, 3);
	WANT_SPLIT(t, 0x779, 1, SV_PMD(511));
	WANT_SPLIT(t, TBL(3) >> 12, 2, SV + (1ULL << 30));
	WANT_SPLIT(t, 0x77a, 1, SV + (1ULL << 30));
	/* the leaf at entry 4, then the 1 GiB leaf, a hole and beyond: nothing */
	SPLIT(t, base, SV_PMD(4), 512);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);
	SPLIT(t, base, SV + (2ULL << 30), 3 * 512 * 512);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);
	NOT_LEARNED(t, 0x800);
	NOT_LEARNED(t, 0x40000);
	EXPECT_EQ(t, tb_table_count(t), 6);
	WANT_COUNTERS(t, { KPT_C_TABLE_SPLIT, 6 });
	return 0;
}

/*
 * Tables known already (the walk, a link point) are left as they are:
 * one lookup, no relearn, no count. User addresses are not walked.
 */
static int split_known(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base = split_setup(t, tbl);
	struct kpt_table tb;

	EXPECT_TRUE(t, base != 0);
	L_VA(t, 500, 0x777, 1, SV_PMD(5));
	SPLIT(t, base, SV_PMD(5), 1);
	EXPECT_EQ(t, t->skel->bss->test_out, 1);	/* the PMD table only */
	EXPECT_EQ(t, tb_table(t, 0x777, &tb), 0);
	EXPECT_EQ(t, tb.src, KPT_TS_LINK);
	EXPECT_EQ(t, tb.ts, 500);
	SPLIT(t, base, SV_PMD(5), 1);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);
	SPLIT(t, base, 0x7f0000000000ULL, 1);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);
	WANT_COUNTERS(t, { KPT_C_TABLE_LINKED, 1 }, { KPT_C_TABLE_SPLIT, 1 });
	return 0;
}

/*
 * A range past the step bound stops and says so (walk_trunc), as does a
 * table that cannot be read: the verdict is then incomplete, not clean.
 * Every PUD entry points at PMD table 2 here: 512 GiB of PMD entries.
 */
static int split_trunc(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base = split_setup(t, tbl);

	for (int i = 0; i < KPT_TEST_TABLE_ENTRIES; i++)
		tbl[1][i] = TBL(2) | PTR;
	base = walk_setup(t, tbl, 4);
	EXPECT_TRUE(t, base != 0);
	SPLIT(t, base, VMALLOC, 512ULL * 512 * 512);
	EXPECT_EQ(t, t->skel->bss->test_out, -1ULL);
	WANT_COUNTERS(t, { KPT_C_TABLE_SPLIT, 4 }, { KPT_C_WALK_TRUNC, 1 });
	/* the PUD table is at base + 4096 + ...: with another base, unmapped */
	SPLIT(t, 0x10000000000ULL, SV_PMD(5), 1);
	EXPECT_EQ(t, t->skel->bss->test_out, -1ULL);
	WANT_COUNTERS(t, { KPT_C_TABLE_SPLIT, 4 }, { KPT_C_WALK_TRUNC, 2 });
	return 0;
}

/*
 * The entry was read pointing at a table that has been unlinked (and may
 * be freed) by the time it is learned: the learn is undone, so the pfn's
 * next life is not taken for a table (walk_race). One still linked stays.
 */
static int split_race(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base = split_setup(t, tbl);

	EXPECT_TRUE(t, base != 0);
	/* entry 5 holds 0x777, but 0x888 was read from it */
	tb_run(t, 0, KPT_TOP_SPLIT_LEARN, 1000, 0, 2, 5, 0x888, 1, SV_PMD(5), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);
	NOT_LEARNED(t, 0x888);
	/* entry 4 became a leaf since */
	tb_run(t, 0, KPT_TOP_SPLIT_LEARN, 1000, 0, 2, 4, 0x999, 1, SV_PMD(4), 0);
	NOT_LEARNED(t, 0x999);
	tb_run(t, 0, KPT_TOP_SPLIT_LEARN, 1000, 0, 2, 5, 0x777, 1, SV_PMD(5), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 1);
	WANT_SPLIT(t, 0x777, 1, SV_PMD(5));
	WANT_COUNTERS(t, { KPT_C_TABLE_SPLIT, 3 }, { KPT_C_WALK_RACE, 2 });
	F(t, 0, 2000, FREER, 0x888, 0);		/* its reuse: nothing */
	tb_events(t);
	EXPECT_EQ(t, t->nev, 0);
	return 0;
}

#define CPA(t, base, flags, n, pgd, e0, e1)				\
	tb_run(t, 0, KPT_TOP_SPLIT_CPA, 1000, 0, base, flags, n, pgd, e0, e1)
#define CPA_ARRAY	0x02
#define CPA_PAGES_ARRAY	0x04

/*
 * struct cpa_data as __change_page_attr_set_clr() leaves it: numpages
 * pages from *vaddr, or an array of addresses (CPA_ARRAY) or of struct
 * page pointers (CPA_PAGES_ARRAY, their direct-map address). Another
 * mm's pgd (EFI's) is not init_mm's: not walked.
 */
static int split_cpa(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base = split_setup(t, tbl);

	EXPECT_TRUE(t, base != 0);
	EXPECT_EQ(t, CPA(t, base, 0, 1, 0xffff888000001000ULL, SV_PMD(6), 0), 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 0);	/* EFI's pgd */
	EXPECT_EQ(t, tb_table_count(t), 0);
	CPA(t, base, 0, 1, 0, SV_PMD(6) + 0x5000, 0);
	EXPECT_EQ(t, t->skel->bss->test_out, 2);
	WANT_SPLIT(t, 0x778, 1, SV_PMD(6));
	WANT_SPLIT(t, TBL(2) >> 12, 2, SV);
	/* two addresses: their two tables, not the one between them */
	CPA(t, base, CPA_ARRAY, 2, 0, SV_PMD(5) + 0x1000, SV_PMD(511));
	EXPECT_EQ(t, t->skel->bss->test_out, 2);
	WANT_SPLIT(t, 0x777, 1, SV_PMD(5));
	WANT_SPLIT(t, 0x779, 1, SV_PMD(511));
	WANT_COUNTERS(t, { KPT_C_TABLE_SPLIT, 4 });
	return 0;
}

#define SPLIT_HINT	0xffffea0000000000ULL

static int split_cpa_pages(struct tb *t)
{
	static __u64 tbl[4][KPT_TEST_TABLE_ENTRIES];
	__u64 base, va, pfn = 0x12345;

	memset(tbl, 0, sizeof(tbl));
	base = walk_setup(t, tbl, 4);
	EXPECT_TRUE(t, base != 0);
	/* page_address() of pfn through the fake direct map */
	va = base + (pfn << 12);
	EXPECT_TRUE(t, va >> 63);
	tbl[0][(va >> 39) & 511] = TBL(1) | PTR;
	tbl[1][(va >> 30) & 511] = TBL(2) | PTR;
	tbl[2][(va >> 21) & 511] = (0x777ULL << 12) | PTR;
	base = walk_setup(t, tbl, 4);
	CPA(t, base, CPA_PAGES_ARRAY, 2, 0, SPLIT_HINT + pfn * 64, SPLIT_HINT + (pfn + 1) * 64);
	EXPECT_EQ(t, t->skel->bss->test_out, 2);
	WANT_SPLIT(t, 0x777, 1, va & ~((2ULL << 20) - 1));
	WANT_SPLIT(t, TBL(2) >> 12, 2, va & ~((1ULL << 30) - 1));
	WANT_COUNTERS(t, { KPT_C_TABLE_SPLIT, 2 });
	return 0;
}

const struct tb_case tb_rule_cases[] = {
	CASE(clean_enqueue_inval_free),
	CASE(violation_enqueue_free),
	CASE(inval_begun_before_enqueue),
	CASE(overlap_after_returns_first),
	CASE(overlap_after_returns_last),
	CASE(overlap_both_return_in_order),
	CASE(overlap_watermark_only_forward),
	CASE(range_not_covering),
	CASE(range_partial),
	CASE(range_covering),
	CASE(range_covering_began_before),
	CASE(range_older_one_covers),
	CASE(range_history_kept),
	CASE(range_history_overwritten),
	CASE(range_late_return_keeps_newer),
	CASE(order_block),
	CASE(never_enqueued_ignored),
	CASE(map_full, .pages_max = 4),
	CASE(map_full_known_table, .pages_max = 4),
	CASE(learn_pending),
	CASE(pending_at_end),
	CASE(requeue_stale_flush),
	CASE(unlink_window),
	CASE(unlink_window_flushed),
	CASE(unnamed_free),
	CASE(free_point_direct),
	CASE(free_pagetable_data, .vmemmap_hint = 0xffffea0000000000ULL),
	CASE(unpaired_return),
	CASE(unpaired_begin),
	CASE(hist_slots),
	CASE(hist_clamp),
	CASE(live_stream, .emit_live = true),
	CASE(violation_stack_captured),
	CASE(decode_pmd_entry),
	CASE(decode_pmd_table),
	CASE(decode_page_to_pfn),
	CASE(decode_sme_bit, .phys_addr_mask = ((1ULL << 43) - 1) & ~0xfffULL),
	CASE(walk_4level),
	CASE(walk_la57),
	CASE(walk_race),
	CASE(walk_race_relink),
	CASE(walk_fault),
	CASE(decode_layout_base),
	CASE(decode_ptdesc_list, .vmemmap_hint = LIST_HINT),
	CASE(decode_ptdesc_list_cycle, .vmemmap_hint = LIST_HINT),
	CASE(learned_va_range),
	CASE(enqueue_table_va, .emit_live = true),
	CASE(link_va),
	CASE(watched_filters),
	CASE(watched_upkeep),
	CASE(watched_above, .watched_words = 1),
	CASE(split_pmd_in_range),
	CASE(split_two_pmds),
	CASE(split_known),
	CASE(split_trunc),
	CASE(split_race),
	CASE(split_cpa),
	CASE(split_cpa_pages, .vmemmap_hint = SPLIT_HINT),
	CASE(snapshot_sums),
};

const int tb_rule_ncases = sizeof(tb_rule_cases) / sizeof(tb_rule_cases[0]);

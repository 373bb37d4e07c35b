/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The rule (docs/design.md) and the maps it keeps: the one state machine.
 *
 * For every kernel page-table page P, q(P) is the last time P was handed
 * over to the deferral (an enqueue point). P is flushed once an IOMMU KVA
 * invalidation that began after q(P) has returned; P reaching the
 * allocator before that is a violation.
 *
 * Which pages are kernel page tables does not depend on the path that
 * frees them: the "pages" map knows every table of init_mm that a walk
 * found at start or a link point saw installed since. A known table that
 * reaches the allocator without having been handed over is a violation
 * too, named by the free point that saw it last, else "unnamed path".
 * Free points (pmd_free_pte_page(), ...) run before their callee unlinks
 * the page, so they never start q(P): they only say what the table
 * mapped and who freed it.
 *
 * Every function here takes its inputs explicitly (time, task key, pfn,
 * ...) and never asks which attach point called it, so the real attach
 * points (kptwatch.bpf.c) and the BPF_PROG_TEST_RUN entry points
 * (testrun.bpf.c) drive exactly the same code.
 *
 * Ordering of invalidations: each begin takes a sequence number from a
 * global counter (atomic add), q(P) snapshots that counter into
 * kpt_pending.inval_seq, and each return raises a watermark to its own
 * sequence if that is higher (cmpxchg loop). P is flushed iff some
 * returned invalidation has seq > P.inval_seq, i.e. iff the highest
 * returned seq is > P.inval_seq: the watermark is exactly that maximum,
 * whatever order concurrent invalidations return in.
 */
#ifndef KPT_RULE_BPF_H
#define KPT_RULE_BPF_H

#include "kpt_core.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kptwatch.h"

#define KPT_EEXIST	17

/* stack_id value asking the rule to capture the stack itself, if needed. */
#define KPT_STACK_LAZY	(-2147483647 - 1)

#define KPT_READ_ONCE(x)	(*(volatile typeof(x) *)&(x))
#define KPT_WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#define KPT_BARRIER()		asm volatile("" ::: "memory")

/* Set an entry's flag once what it vouches for is written. */
#define KPT_PUBLISH(flag)	do { KPT_BARRIER(); KPT_WRITE_ONCE(flag, 1); } while (0)

/* Knob: stream every event, not just violations, to the ring buffer. */
const volatile bool emit_live = false;
/*
 * Knob: capture the hand-over's stack at q(P) and at a free point's
 * unlink. A violation report can show it, but it is a stack walk per
 * deferred page, several times the rest of the program: only with
 * --handover-stacks.
 */
const volatile bool capture_q_stack = false;

/*
 * Every pfn the rule knows (struct kpt_page): a known table, a page handed
 * over, or both. One map rather than one for tables and one for pending
 * pages: a table's life (linked, handed over, freed) then costs one insert
 * and one delete instead of two of each, and hash updates were the largest
 * share of kptwatch's cost in a profile of page-table churn (issue 12).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPT_PAGES_MAX(KPT_DEFAULT_PENDING));
	__type(key, __u64);			/* pfn (first pfn of a block) */
	__type(value, struct kpt_page);
} pages SEC(".maps");

static __always_inline struct kpt_table *kpt_known_table(struct kpt_page *pg)
{
	return pg && pg->table ? &pg->tbl : NULL;
}

/* The known table at *pfn, NULL if none. */
#define kpt_table_of(pfn)	kpt_known_table(bpf_map_lookup_elem(&pages, (pfn)))

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPT_M_MAX);
	__type(key, __u32);
	__type(value, struct kpt_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPT_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/*
 * One bit per pfn below max_entries * 64: set for every page in the pages
 * map. kmem:mm_page_free runs for every page the system frees, and
 * nearly none of them is watched: one array load (inlined by the
 * verifier) sends those away before the hash lookup. A bit is set before
 * its page enters the map and cleared only once the page's free took it
 * out, so a set bit with no entry costs the slow path and
 * never a verdict. User space sizes the map to the highest pfn it finds;
 * pages above it (memory added later) always take the slow path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KPT_WATCHED_WORDS_DEFAULT);
	__type(key, __u32);
	__type(value, __u64);
} watched SEC(".maps");

/*
 * Pages freed while a walk runs. The walk may read an entry, and the
 * table it points at be unlinked and freed, before the walk records it:
 * such a pfn would stay "known" and, once reused, be a false violation.
 * The walk drops what is listed here when it ends.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);			/* pfn */
	__type(value, __u8);
} walk_freed SEC(".maps");

__u64 walk_active;		/* a walk is running: record frees */

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, KPT_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, KPT_Q_STACK_DEPTH * sizeof(__u64));
} q_stacks SEC(".maps");

/* An invalidation that has begun on a task and not yet returned. */
struct kpt_inval_task {
	__u64 seq;
	__u64 ts;
	__u64 start;
	__u64 end;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);			/* task key */
	__type(value, struct kpt_inval_task);
} inval_tasks SEC(".maps");

/* A drain (kernel_pgtable_work_func) running on a task. */
struct kpt_drain_task {
	__u64 ts;
	__u64 pages;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);			/* task key */
	__type(value, struct kpt_drain_task);
} drain_tasks SEC(".maps");

/* Global state; user space may read it through the skeleton's bss. */
__u64 inval_began;		/* seq of the newest begun invalidation */
__u64 inval_done;		/* highest seq among returned ones: watermark */
__u64 pending_depth;		/* pages between q(P) and their free */
__u64 unpaired_ts;		/* newest return seen without its begin */

/*
 * Returned invalidations, in slot seq % KPT_INVAL_HISTORY. The seq is
 * written last (and set to ~0 while the slot is rewritten) so a reader
 * that sees the same seq before and after reading start/end has a
 * consistent record. Plain u64 arrays keep the skeleton free of types
 * user space would have to know.
 */
__u64 inval_hist_seq[KPT_INVAL_HISTORY];
__u64 inval_hist_start[KPT_INVAL_HISTORY];
__u64 inval_hist_end[KPT_INVAL_HISTORY];

static __always_inline void kpt_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	/*
	 * Per CPU, but still atomic: fentry programs run with migration,
	 * not preemption, disabled, so two tasks can interleave on a CPU.
	 * Counted events are rare (never the mm_page_free miss path).
	 */
	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline void kpt_hist_add(__u32 metric, __u64 v)
{
	struct kpt_hist *h = bpf_map_lookup_elem(&hists, &metric);
	__u32 slot = kpt_hist_slot(v);
	__u64 old;
	int i;

	if (!h)
		return;
	if (slot >= KPT_HIST_SLOTS) {
		slot = KPT_HIST_SLOTS - 1;
		kpt_count(KPT_C_HIST_CLAMP);
	}
	/* Atomic for the same reason as kpt_count(). */
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, v);
	for (i = 0; i < 4; i++) {
		old = KPT_READ_ONCE(h->max);
		if (v <= old ||
		    __sync_val_compare_and_swap(&h->max, old, v) == old)
			break;
	}
}

/*
 * Raise *p to v unless it is already there. Every failed cmpxchg means
 * another CPU raised it, so the loop ends as soon as the value reaches v
 * or the raisers run out: at most one failure per concurrent raiser. The
 * bound is bpf_loop's own (2^23), far past any CPU count; running out of
 * it is counted, never ignored.
 */
struct kpt_raise_ctx {
	__u64 *p;
	__u64 v;
	bool done;
};

static long kpt_raise_step(__u32 i, void *data)
{
	struct kpt_raise_ctx *r = data;
	__u64 old = KPT_READ_ONCE(*r->p);

	if (old >= r->v || __sync_val_compare_and_swap(r->p, old, r->v) == old) {
		r->done = true;
		return 1;
	}
	return 0;
}

static __always_inline bool kpt_raise(__u64 *p, __u64 v)
{
	struct kpt_raise_ctx r = { .p = p, .v = v };

	bpf_loop(1U << 23, kpt_raise_step, &r, 0);
	if (!r.done)
		kpt_count(KPT_C_UNKNOWN);
	return r.done;
}

static __always_inline struct kpt_event *kpt_ev_new(__u16 type, __u64 now,
						    __u64 task_key)
{
	struct kpt_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		kpt_count(KPT_C_RB_DROP);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = now;
	e->type = type;
	e->pid = (__u32)task_key;
	e->cpu = bpf_get_smp_processor_id();
	e->stack_id = KPT_STACK_NONE;
	e->q_stack_id = KPT_STACK_NONE;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

/*
 * A stack for a report. Without BPF_F_REUSE_STACKID a full bucket keeps its
 * stack and a new one fails (-EEXIST) instead of silently replacing the
 * stack an older record points at; every failure is counted.
 */
static __always_inline __s32 kpt_capture_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &stacks, 0);

	if (id < 0)
		kpt_count(KPT_C_STACK_FAIL);
	return (__s32)id;
}

/* The hand-over's short stack (q_stacks), its id tagged KPT_STACK_Q. */
static __always_inline __s32 kpt_capture_q_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &q_stacks, 0);

	if (id < 0) {
		kpt_count(KPT_C_STACK_FAIL);
		return (__s32)id;
	}
	return (__s32)(id | KPT_STACK_Q);
}

/* The word of the watched bitmap that holds pfn's bit, NULL: beyond it. */
static __always_inline __u64 *kpt_watched_word(__u64 pfn)
{
	__u32 w = (__u32)(pfn / 64);

	if (pfn / 64 != w)
		return NULL;
	return bpf_map_lookup_elem(&watched, &w);
}

static __always_inline void kpt_watch(__u64 pfn)
{
	__u64 *w = kpt_watched_word(pfn);

	if (w)
		__sync_fetch_and_or(w, 1ULL << (pfn % 64));
}

static __always_inline void kpt_unwatch(__u64 pfn)
{
	__u64 *w = kpt_watched_word(pfn);

	if (w)
		__sync_fetch_and_and(w, ~(1ULL << (pfn % 64)));
}

static __always_inline bool kpt_point_is_free(__u32 point)
{
	return point == KPT_PT_PMD_FREE_PTE_PAGE || point == KPT_PT_PUD_FREE_PMD_PAGE ||
	       point == KPT_PT_FREE_PAGETABLE || point == KPT_PT_UNNAMED;
}

/* Table levels as kpt_table.level records them. */
#define KPT_LVL_PTE		1
#define KPT_LVL_PMD		2
#define KPT_LVL_PUD		3
#define KPT_LVL_P4D		4

/* What a table of the level maps: 2 MiB, 1 GiB, 512 GiB, 256 TiB; 0 unknown. */
static __always_inline __u64 kpt_level_span(__u32 level)
{
	return level >= KPT_LVL_PTE && level <= KPT_LVL_P4D ? 1ULL << (12 + 9 * level) : 0;
}

/*
 * pfn is a kernel page table (a walk, a link point) that maps from va (0:
 * unknown) for its level's span: the range check of a hand-over that
 * names no VA uses it. An entry already there keeps what a free point
 * said about it. Returns 1 for a table new to the map, 0 for one already
 * known (a table several entries point at), or the map error.
 */
static __noinline int kpt_rule_learn(__u64 now, __u64 pfn, __u32 level, __u32 src, __u64 va)
{
	struct kpt_page pg = {}, *old;
	struct kpt_table *t = &pg.tbl;
	__u64 span = kpt_level_span(level);
	long err;

	t->ts = now;
	t->stack_id = KPT_STACK_NONE;
	t->level = level;
	t->src = src;
	if (va && span) {
		t->va_start = va & ~(span - 1);
		t->va_end = t->va_start + span;	/* 0: the top of the address space */
	}
	pg.table = 1;
	kpt_watch(pfn);
	err = bpf_map_update_elem(&pages, &pfn, &pg, BPF_NOEXIST);
	if (err == -KPT_EEXIST) {
		/*
		 * Known, or handed over and not yet freed (a walk that read
		 * the entry before the unlink): the hand-over decides its
		 * free. Only what kpt_rule_forget() left is filled in place;
		 * a link point's table cannot be freed meanwhile.
		 */
		old = bpf_map_lookup_elem(&pages, &pfn);
		if (!old || old->table || old->pending)
			return 0;
		old->tbl = *t;
		KPT_PUBLISH(old->table);
	} else if (err) {
		kpt_count(KPT_C_MAP_FULL);
		return err;
	}
	kpt_count(src == KPT_TS_WALK ? KPT_C_TABLE_WALKED :
		  src == KPT_TS_SPLIT ? KPT_C_TABLE_SPLIT : KPT_C_TABLE_LINKED);
	return 1;
}

/*
 * Take back the table a walk learned at pfn (src, at its ts) if it is
 * still that one: the walk read an entry whose table was freed meanwhile,
 * and the pfn must not stay known into its next life. Only the flag is
 * cleared, never the entry, which nothing orders against a hand-over
 * writing into it: the entry is left empty (at most one per walk_race
 * counted) until the pfn's next free removes it or a link point fills it.
 * True if taken back.
 */
static __always_inline bool kpt_rule_forget(__u64 pfn, __u32 src, __u64 ts)
{
	struct kpt_page *pg = bpf_map_lookup_elem(&pages, &pfn);

	if (!pg || !pg->table || pg->tbl.src != src || pg->tbl.ts != ts)
		return false;
	KPT_WRITE_ONCE(pg->table, 0);
	return true;
}

/*
 * A free point saw pfn as a table it is about to free: remember what it
 * mapped and who freed it, for the range check and the report. The page
 * is not handed over yet (the point runs before the unlink).
 */
static __always_inline int kpt_rule_note(__u64 now, __u64 pfn, __u32 point,
					 __u64 va_start, __u64 va_end, __s32 stack_id)
{
	struct kpt_page pg = {}, *old;
	struct kpt_table *t = &pg.tbl;
	long err;

	if (point < KPT_PT_MAX)
		kpt_count(KPT_C_POINT_BASE + point);
	t->ts = now;
	t->va_start = va_start;
	t->va_end = va_end;
	t->stack_id = stack_id;
	t->point = point;
	t->src = KPT_TS_POINT;
	pg.table = 1;
	old = bpf_map_lookup_elem(&pages, &pfn);
	if (!old) {
		kpt_watch(pfn);		/* an entry's page is watched already */
		err = bpf_map_update_elem(&pages, &pfn, &pg, BPF_NOEXIST);
		if (err != -KPT_EEXIST) {
			if (err)
				kpt_count(KPT_C_MAP_FULL);
			return err;
		}
		old = bpf_map_lookup_elem(&pages, &pfn);
		if (!old)
			return 0;	/* freed meanwhile: nothing left to note */
	}
	if (old->table) {
		/* known already: keep how and at which level */
		t->level = old->tbl.level;
		t->src = old->tbl.src;
	}
	old->tbl = *t;
	KPT_PUBLISH(old->table);
	return 0;
}

/* A page new to the map, handed over: kept off the hot path's stack. */
static __noinline long kpt_page_insert_pending(__u64 pfn, const struct kpt_pending *p)
{
	struct kpt_page pg = { .pending = 1 };

	pg.q = *p;
	return bpf_map_update_elem(&pages, &pfn, &pg, BPF_NOEXIST);
}

/*
 * The rule's entry points are always inlined: BPF subprograms take at
 * most five arguments, and each caller is a small program anyway.
 *
 * q(P): pfn (order>0: the block's first pfn) was handed over at an
 * enqueue point. va_start/va_end: what P mapped, 0/0 when the point cannot
 * tell (then a free point's note supplies it). A page handed over again
 * is judged from its last hand-over: a flush that began before it, even
 * one that returns after, does not count. Returns 0, or the map error
 * when P could not be tracked.
 */
static __always_inline int kpt_rule_enqueue(__u64 now, __u64 task_key,
					    __u64 pfn, __u32 order, __u32 point,
					    __u64 va_start, __u64 va_end,
					    __s32 stack_id)
{
	struct kpt_pending p = {}, *q;
	struct kpt_page *old;
	struct kpt_event *e;
	__u64 depth;
	long err;

	if (point < KPT_PT_MAX)
		kpt_count(KPT_C_POINT_BASE + point);

	p.q_ts = now;
	p.q_last_ts = now;
	p.inval_seq = KPT_READ_ONCE(inval_began);
	p.va_start = va_start;
	p.va_end = va_end;
	p.stack_id = stack_id;
	p.order = order;
	p.pid = (__u32)task_key;
	p.point = point;

	kpt_watch(pfn);
	/* A known table (the common case) is handed over in place. */
	old = bpf_map_lookup_elem(&pages, &pfn);
	if (!old) {
		err = kpt_page_insert_pending(pfn, &p);
		if (!err)
			goto queued;
		if (err != -KPT_EEXIST) {
			/* Untracked page: the verdict can no longer be complete. */
			kpt_count(KPT_C_MAP_FULL);
			return err;
		}
		/* learned by a walk meanwhile */
		old = bpf_map_lookup_elem(&pages, &pfn);
		if (!old) {
			kpt_count(KPT_C_UNKNOWN);
			return -2;	/* and freed: its hand-over lost */
		}
	}
	if (!va_start && !va_end && old->table) {
		va_start = p.va_start = old->tbl.va_start;
		va_end = p.va_end = old->tbl.va_end;
	}
	if (!KPT_READ_ONCE(old->pending)) {
		old->q = p;
		KPT_BARRIER();
		/* of two hand-overs of one page at once, one is the requeue */
		if (!__sync_lock_test_and_set(&old->pending, 1))
			goto queued;
	}
	kpt_count(KPT_C_REQUEUED);
	q = &old->q;
	/* the first q(P) stays for the latency figures */
	q->q_last_ts = now;
	q->inval_seq = p.inval_seq;
	q->stack_id = stack_id;
	q->point = point;
	q->pid = p.pid;
	if (va_start || va_end) {
		q->va_start = va_start;
		q->va_end = va_end;
	}
	return 0;
queued:
	kpt_count(KPT_C_QUEUED);
	depth = __sync_add_and_fetch(&pending_depth, 1);
	kpt_hist_add(KPT_M_PENDING_DEPTH, depth);

	if (emit_live) {
		e = kpt_ev_new(KPT_EV_ENQUEUE, now, task_key);
		if (e) {
			e->q_ts = now;
			e->pfn = pfn;
			e->va_start = va_start;
			e->va_end = va_end;
			e->value = depth;
			e->stack_id = stack_id;
			e->point = point;
			e->order = order;
			bpf_ringbuf_submit(e, 0);
		}
	}
	return 0;
}

/* A page seen at a point: a hand-over or a free point's note. */
static __always_inline int kpt_rule_queue(__u64 now, __u64 task_key,
					  __u64 pfn, __u32 order, __u32 point,
					  __u64 va_start, __u64 va_end,
					  __s32 stack_id)
{
	if (kpt_point_is_free(point))
		return kpt_rule_note(now, pfn, point, va_start, va_end, stack_id);
	return kpt_rule_enqueue(now, task_key, pfn, order, point, va_start, va_end,
				stack_id);
}

static __always_inline int kpt_rule_inval_begin(__u64 now, __u64 task_key,
						__u64 start, __u64 end)
{
	struct kpt_inval_task t = {};
	struct kpt_event *e;

	kpt_count(KPT_C_INVAL_BEGIN);
	/*
	 * Take the sequence first: a q(P) that snapshots the counter after
	 * this point treats the invalidation as begun before it, which is
	 * the safe side of a race the two CPUs cannot order anyway.
	 */
	t.seq = __sync_add_and_fetch(&inval_began, 1);
	t.ts = now;
	t.start = start;
	t.end = end;

	/* A begin still open on this task lost its return: unknown. */
	if (bpf_map_lookup_elem(&inval_tasks, &task_key))
		kpt_count(KPT_C_INVAL_UNPAIRED);
	if (bpf_map_update_elem(&inval_tasks, &task_key, &t, BPF_ANY))
		kpt_count(KPT_C_MAP_FULL);

	if (emit_live) {
		e = kpt_ev_new(KPT_EV_INVAL_BEGIN, now, task_key);
		if (e) {
			e->range_start = start;
			e->range_end = end;
			e->value = t.seq;
			bpf_ringbuf_submit(e, 0);
		}
	}
	return 0;
}

static __always_inline int kpt_rule_inval_end(__u64 now, __u64 task_key)
{
	struct kpt_inval_task *tp, t;
	__u32 slot;
	struct kpt_event *e;

	tp = bpf_map_lookup_elem(&inval_tasks, &task_key);
	if (!tp) {
		/*
		 * Its begin was missed (programs attach one by one). It may
		 * have begun after some q(P), so pages it could have flushed
		 * become unknown at their free rather than violations; it
		 * must not move the watermark since its seq is unknown.
		 */
		kpt_count(KPT_C_INVAL_UNPAIRED);
		kpt_raise(&unpaired_ts, now);
		return 0;
	}
	t = *tp;
	bpf_map_delete_elem(&inval_tasks, &task_key);

	kpt_count(KPT_C_INVAL_END);
	kpt_hist_add(KPT_M_INVAL_DUR, now > t.ts ? now - t.ts : 0);

	/*
	 * Publish the range before the watermark that makes it relevant.
	 * A slow invalidation returning after one KPT_INVAL_HISTORY newer
	 * must not overwrite that newer record: its own is dropped and a
	 * check that needs it sees a newer seq in the slot (unknown).
	 */
	slot = t.seq & (KPT_INVAL_HISTORY - 1);
	if (KPT_READ_ONCE(inval_hist_seq[slot]) < t.seq) {
		KPT_WRITE_ONCE(inval_hist_seq[slot], ~0ULL);
		KPT_WRITE_ONCE(inval_hist_start[slot], t.start);
		KPT_WRITE_ONCE(inval_hist_end[slot], t.end);
		KPT_WRITE_ONCE(inval_hist_seq[slot], t.seq);
	}
	kpt_raise(&inval_done, t.seq);

	if (emit_live) {
		e = kpt_ev_new(KPT_EV_INVAL_END, now, task_key);
		if (e) {
			e->q_ts = t.ts;
			e->range_start = t.start;
			e->range_end = t.end;
			e->value = now > t.ts ? now - t.ts : 0;
			bpf_ringbuf_submit(e, 0);
		}
	}
	return 0;
}

static __always_inline int kpt_rule_drain_begin(__u64 now, __u64 task_key)
{
	struct kpt_drain_task d = { .ts = now };
	struct kpt_event *e;

	kpt_count(KPT_C_DRAIN_BEGIN);
	if (bpf_map_lookup_elem(&drain_tasks, &task_key))
		kpt_count(KPT_C_DRAIN_UNPAIRED);
	if (bpf_map_update_elem(&drain_tasks, &task_key, &d, BPF_ANY))
		kpt_count(KPT_C_MAP_FULL);

	if (emit_live) {
		e = kpt_ev_new(KPT_EV_DRAIN_BEGIN, now, task_key);
		if (e)
			bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

static __always_inline int kpt_rule_drain_end(__u64 now, __u64 task_key)
{
	struct kpt_drain_task *dp, d;
	struct kpt_event *e;

	dp = bpf_map_lookup_elem(&drain_tasks, &task_key);
	if (!dp) {
		kpt_count(KPT_C_DRAIN_UNPAIRED);
		return 0;
	}
	d = *dp;
	bpf_map_delete_elem(&drain_tasks, &task_key);

	kpt_count(KPT_C_DRAIN_END);
	kpt_hist_add(KPT_M_DRAIN_DUR, now > d.ts ? now - d.ts : 0);
	kpt_hist_add(KPT_M_DRAIN_PAGES, d.pages);

	if (emit_live) {
		e = kpt_ev_new(KPT_EV_DRAIN_END, now, task_key);
		if (e) {
			e->q_ts = d.ts;
			e->value = d.pages;
			bpf_ringbuf_submit(e, 0);
		}
	}
	return 0;
}

/* Does [start, end) (end == TLB_FLUSH_ALL: to the top) cover [va, va_end)? */
static __always_inline bool kpt_covers(__u64 start, __u64 end, __u64 va,
				       __u64 va_end)
{
	__u64 last = end - 1;

	if (end == KPT_TLB_FLUSH_ALL)
		last = ~0ULL;
	else if (end <= start)
		return false;
	/* va_end 0 is the top of the address space: va_end - 1 wraps. */
	return start <= va && va_end - 1 <= last;
}

struct kpt_range_scan {
	__u64 va_start;
	__u64 va_end;
	__u64 hi;		/* watermark: newest seq to look at */
	__u64 range_start;	/* last record looked at */
	__u64 range_end;
	bool covered;
	bool unknown;
};

/* Step i looks at seq hi - i, newest first. */
static long kpt_range_step(__u32 i, void *data)
{
	struct kpt_range_scan *sc = data;
	__u64 s = sc->hi - i, s1, s2, start, end;
	__u32 slot = s & (KPT_INVAL_HISTORY - 1);

	s1 = KPT_READ_ONCE(inval_hist_seq[slot]);
	start = KPT_READ_ONCE(inval_hist_start[slot]);
	end = KPT_READ_ONCE(inval_hist_end[slot]);
	s2 = KPT_READ_ONCE(inval_hist_seq[slot]);
	if (s1 != s2 || s1 > s) {
		/* Overwritten by a later invalidation, or being rewritten. */
		sc->unknown = true;
		return 0;
	}
	if (s1 < s)
		return 0;	/* s has not returned */
	sc->range_start = start;
	sc->range_end = end;
	if (kpt_covers(start, end, sc->va_start, sc->va_end)) {
		sc->covered = true;
		return 1;
	}
	return 0;
}

/*
 * A known table reached the allocator with no hand-over: flushed or not,
 * nothing ordered a flush after its unlink. Named by the free point that
 * saw it, whose stack is the "hand-over" side of the report.
 */
static __always_inline int kpt_rule_bypass(void *ctx, __u64 now, __u64 task_key,
					   __u64 pfn, __u32 order, __s32 stack_id,
					   const struct kpt_table *tb)
{
	struct kpt_event *e;
	__u32 point = tb->point ? tb->point : KPT_PT_UNNAMED;

	kpt_count(KPT_C_VIOLATION);
	if (point == KPT_PT_UNNAMED)
		kpt_count(KPT_C_POINT_BASE + KPT_PT_UNNAMED);
	if (stack_id == KPT_STACK_LAZY)
		stack_id = kpt_capture_stack(ctx);
	e = kpt_ev_new(KPT_EV_VIOLATION, now, task_key);
	if (!e)
		return 0;
	e->q_ts = tb->ts;
	e->value = now > tb->ts ? now - tb->ts : 0;
	e->pfn = pfn;
	e->va_start = tb->va_start;
	e->va_end = tb->va_end;
	e->stack_id = stack_id;
	e->q_stack_id = tb->stack_id;
	e->point = point;
	e->order = order;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Every page the system frees comes here first, so this is all most frees
 * cost: false for a page the rule does not watch, which needs no
 * judging. A walk in progress must hear of every free (walk_freed).
 */
static __always_inline bool kpt_rule_free_watched(__u64 pfn)
{
	__u64 *w;
	__u8 one = 1;

	if (KPT_READ_ONCE(walk_active) &&
	    bpf_map_update_elem(&walk_freed, &pfn, &one, BPF_ANY))
		kpt_count(KPT_C_WALK_TRUNC);
	w = kpt_watched_word(pfn);
	return !w || (*w & (1ULL << (pfn % 64)));
}

/*
 * P reached the allocator: pfn (first pfn of a block of the given order)
 * passed mm_page_free, and kpt_rule_free_watched() could not rule it out.
 * A page neither pending nor a known table is a miss and nothing else.
 * ctx is only used to capture the stack when stack_id is KPT_STACK_LAZY,
 * so a miss never walks a stack.
 */
static __always_inline int kpt_rule_page_free(void *ctx, __u64 now,
					      __u64 task_key, __u64 pfn,
					      __u32 order, __s32 stack_id)
{
	struct kpt_range_scan sc = {};
	struct kpt_page *pp, pg;
	struct kpt_pending p;
	struct kpt_drain_task *d;
	struct kpt_event *e;
	__u64 wm, lat, n;
	__u16 type;

	pp = bpf_map_lookup_elem(&pages, &pfn);
	if (!pp)
		return 0;
	/*
	 * The hand-over, if any, was published before the kernel queued
	 * the page, and the free comes after the kernel took it off the
	 * queue: the copy sees it.
	 */
	pg = *pp;
	/* Two frees of one pfn racing: only the one that deletes decides. */
	if (bpf_map_delete_elem(&pages, &pfn))
		return 0;
	kpt_unwatch(pfn);
	if (pg.table)
		kpt_count(KPT_C_TABLE_FREED);
	if (!pg.pending)
		return pg.table ? kpt_rule_bypass(ctx, now, task_key, pfn, order, stack_id,
						  &pg.tbl) : 0;
	p = pg.q;
	__sync_fetch_and_sub(&pending_depth, 1);

	lat = now > p.q_ts ? now - p.q_ts : 0;
	kpt_hist_add(KPT_M_ENQ_TO_FREE, lat);
	d = bpf_map_lookup_elem(&drain_tasks, &task_key);
	if (d) {
		d->pages++;
		if (d->ts >= p.q_ts)
			kpt_hist_add(KPT_M_ENQ_TO_DRAIN, d->ts - p.q_ts);
	}

	wm = KPT_READ_ONCE(inval_done);
	if (wm <= p.inval_seq) {
		if (KPT_READ_ONCE(unpaired_ts) >= p.q_last_ts) {
			kpt_count(KPT_C_UNKNOWN);
			type = KPT_EV_FREE;
		} else {
			kpt_count(KPT_C_VIOLATION);
			type = KPT_EV_VIOLATION;
		}
	} else if (!p.va_start && !p.va_end) {
		kpt_count(KPT_C_FREED_OK);
		type = KPT_EV_FREE;
	} else {
		/* Some invalidation begun after q(P) returned: over P's VA? */
		sc.va_start = p.va_start;
		sc.va_end = p.va_end;
		sc.hi = wm;
		n = wm - p.inval_seq;
		if (n > KPT_INVAL_HISTORY) {
			n = KPT_INVAL_HISTORY;
			sc.unknown = true;
		}
		bpf_loop(n, kpt_range_step, &sc, 0);
		if (sc.covered) {
			kpt_count(KPT_C_FREED_OK);
			type = KPT_EV_FREE;
		} else if (sc.unknown) {
			kpt_count(KPT_C_RANGE_UNKNOWN);
			type = KPT_EV_FREE;
		} else {
			kpt_count(KPT_C_RANGE_VIOLATION);
			type = KPT_EV_RANGE_VIOLATION;
		}
	}

	if (type == KPT_EV_FREE && !emit_live)
		return 0;
	if (stack_id == KPT_STACK_LAZY)
		stack_id = type == KPT_EV_FREE ? KPT_STACK_NONE : kpt_capture_stack(ctx);
	e = kpt_ev_new(type, now, task_key);
	if (!e)
		return 0;
	e->q_ts = p.q_ts;
	e->pfn = pfn;
	e->va_start = p.va_start;
	e->va_end = p.va_end;
	e->range_start = sc.range_start;
	e->range_end = sc.range_end;
	e->value = lat;
	e->stack_id = stack_id;
	e->q_stack_id = p.stack_id;
	e->point = p.point;
	e->order = order;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif /* KPT_RULE_BPF_H */

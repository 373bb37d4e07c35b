/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Types shared by the BPF programs and user space: event layout, metric and
 * counter ids, free points and the histogram geometry. Included from BPF C
 * (after vmlinux/CO-RE headers, so the kernel's __u64 is used) and from
 * plain C (after <linux/types.h>).
 */
#ifndef KPTWATCH_H
#define KPTWATCH_H

#define KPT_COMM_LEN		16
#define KPT_STACK_DEPTH		32
/*
 * A hand-over's stack is taken on every deferred page, so it is kept
 * short: the unwind stops at the map's depth, and that is most of the
 * cost. Its ids carry KPT_STACK_Q to say which map they index.
 */
#define KPT_Q_STACK_DEPTH	8
#define KPT_STACK_Q		(1 << 30)
/* A stack id for "none captured" (-ENOENT): no --handover-stacks, or none asked. */
#define KPT_STACK_NONE		(-2)
/*
 * --max-pending's default. The "pages" map has room for twice as many
 * pfns: N pages handed over plus N known tables (struct kpt_page).
 */
#define KPT_DEFAULT_PENDING	65536
#define KPT_PAGES_MAX(n)	(2 * (n))
/*
 * The watched bitmap (bpf/rule.bpf.h), in u64 words: the object's size,
 * 8 GiB of memory, and the most user space gives it, 2 TiB (32 MiB).
 */
#define KPT_WATCHED_WORDS_DEFAULT	(1U << 15)
#define KPT_WATCHED_WORDS_MAX		(1U << 22)
/*
 * Returned invalidations remembered for the range check, indexed by begin
 * sequence modulo this (a power of two). A check that needs an older one
 * counts KPT_C_RANGE_UNKNOWN instead of guessing.
 */
#define KPT_INVAL_HISTORY	64

/*
 * Every name kptwatch prints for a point, metric, counter or event is
 * spelled once, here: each list expands into the enum (BPF and user space)
 * and into the name tables (src/names.c). X(ID, "name", "what it counts").
 */

/*
 * Where a page was seen. Enqueue points hand P over to the deferral: the
 * last of them is q(P). Free points are the callers that tear down kernel
 * page tables; they say which pages are tables and what they mapped, and
 * name the path when such a page reaches the allocator unflushed.
 * UNNAMED is a known kernel table that reached the allocator through no
 * point at all.
 */
#define KPT_POINTS(X)							\
	X(NONE, "none", "")						\
	X(ASYNC_FREE_DTOR, "kernel_pgtable_async_free_dtor", "enqueue")	\
	X(ASYNC_FREE_LIST, "kernel_pgtable_async_free_page_list", "enqueue") \
	X(ASYNC_FREE_PAGES, "kernel_pgtable_async_free_pages", "enqueue") \
	X(ASYNC_FREE, "kernel_pgtable_async_free", "enqueue")		\
	X(ASYNC_FREE_BOOTMEM, "kernel_pgtable_async_free_bootmem", "enqueue") \
	X(PAGETABLE_FREE_KERNEL, "pagetable_free_kernel", "enqueue")	\
	X(PMD_FREE_PTE_PAGE, "pmd_free_pte_page", "free")		\
	X(PUD_FREE_PMD_PAGE, "pud_free_pmd_page", "free")		\
	X(FREE_PAGETABLE, "free_pagetable", "free")			\
	X(UNNAMED, "unnamed path", "free")

/*
 * Latency and size distributions, aggregated per CPU in the kernel. The
 * latencies come first, in ns (KPT_LAT_METRICS, metric_is_ns()); each
 * writer says the unit its own way, so "what" does not.
 */
#define KPT_METRICS(X)							\
	X(ENQ_TO_FREE, "enq_to_free", "q(P) to the buddy free of P")	\
	X(ENQ_TO_DRAIN, "enq_to_drain", "q(P) to the start of the drain that freed P") \
	X(INVAL_DUR, "inval", "iommu_sva_invalidate_kva_range() duration") \
	X(DRAIN_DUR, "drain", "kernel_pgtable_work_func() duration")	\
	X(DRAIN_PAGES, "drain_pages", "pages freed by one drain")	\
	X(PENDING_DEPTH, "pending_depth", "pages pending, sampled at each q(P)")

/* Plain counters, per CPU; user space sums them. */
#define KPT_COUNTERS(X)							\
	X(QUEUED, "queued", "pages handed over to the deferral (q(P))") \
	X(FREED_OK, "freed_ok", "pending pages freed after a flush")	\
	X(VIOLATION, "violation", "kernel tables freed before a flush") \
	X(RANGE_VIOLATION, "range_violation", "flushed, but by no range covering P's VA") \
	X(MAP_FULL, "map_full", "a tracking map was full: a page went untracked") \
	X(RB_DROP, "rb_drop", "ring buffer reserve failed: event lost") \
	X(INVAL_BEGIN, "inval_begin", "invalidations begun")		\
	X(INVAL_END, "inval_end", "invalidations returned")		\
	X(INVAL_UNPAIRED, "inval_unpaired", "an invalidation seen half (attach race)") \
	X(DRAIN_BEGIN, "drain_begin", "drains begun")			\
	X(DRAIN_END, "drain_end", "drains returned")			\
	X(DRAIN_UNPAIRED, "drain_unpaired", "a drain seen half (attach race)") \
	X(REQUEUED, "requeued", "q(P) again for a page already pending") \
	X(HIST_CLAMP, "hist_clamp", "value beyond the last histogram slot") \
	X(RANGE_UNKNOWN, "range_unknown", "range check impossible: history overwritten") \
	X(UNKNOWN, "unknown", "verdict undecidable for a page (half-seen flush)") \
	X(WALK_TRUNC, "walk_trunc",						\
	  "a list or table walk stopped early, or a page did not decode")	\
	X(TABLE_WALKED, "table_walked", "kernel tables found by the walk of init_mm") \
	X(TABLE_LINKED, "table_linked", "kernel tables seen linked after the walk") \
	X(TABLE_SPLIT, "table_split", "kernel tables seen linked by a CPA large-page split") \
	X(TABLE_FREED, "table_freed", "known kernel tables that reached the allocator") \
	X(WALK_RACE, "walk_race", "tables the walk found that were freed while it ran") \
	X(DATA_PAGE, "data_page", "free_pagetable() pages that are no known table (vmemmap data)") \
	X(STACK_FAIL, "stack_fail", "a stack a report needs could not be captured") \
	X(NESTED_FREE, "nested_free",						\
	  "page frees nested in the page-free program, judged by its fallback")

#define KPT_EVENTS(X)							\
	X(ENQUEUE, "enqueue")						\
	X(DRAIN_BEGIN, "drain_begin")					\
	X(DRAIN_END, "drain_end")					\
	X(INVAL_BEGIN, "inval_begin")					\
	X(INVAL_END, "inval_end")					\
	X(FREE, "free")			/* a pending page freed, flushed */ \
	X(VIOLATION, "violation")	/* a table freed before a flush */ \
	X(RANGE_VIOLATION, "range_violation") /* flushed, not over its VA */

#define KPT_X_ENUM_PT(id, name, kind)	KPT_PT_##id,
#define KPT_X_ENUM_M(id, name, what)	KPT_M_##id,
#define KPT_X_ENUM_C(id, name, what)	KPT_C_##id,
#define KPT_X_ENUM_EV(id, name)		KPT_EV_##id,

enum kpt_point { KPT_POINTS(KPT_X_ENUM_PT) KPT_PT_MAX };
enum kpt_metric { KPT_METRICS(KPT_X_ENUM_M) KPT_M_MAX };
enum kpt_counter {
	KPT_COUNTERS(KPT_X_ENUM_C)
	KPT_C_POINT_BASE,	/* KPT_C_POINT_BASE + enum kpt_point: per point */
	KPT_C_MAX = KPT_C_POINT_BASE + KPT_PT_MAX,
};
/* Event types start at 1: a zeroed record is no event. */
enum kpt_event_type { KPT_EV_NONE_, KPT_EVENTS(KPT_X_ENUM_EV) KPT_EV_MAX };

/*
 * One record in the ring buffer. Violations always go out; the other types
 * only when the live stream is on (the emit_live knob).
 */
struct kpt_event {
	__u64 ts;		/* bpf_ktime_get_ns() */
	__u64 q_ts;		/* q(P), for page events */
	__u64 pfn;
	__u64 va_start;		/* P's mapped VA range, 0/0 when unknown */
	__u64 va_end;
	__u64 range_start;	/* invalidation range, or last one that counted */
	__u64 range_end;
	__u64 value;		/* latency or batch size, per type */
	__s32 stack_id;		/* kernel stack of the free, -errno if none */
	__s32 q_stack_id;	/* kernel stack of the hand-over, -errno if none */
	__u32 pid;
	__u32 cpu;
	__u16 type;		/* enum kpt_event_type */
	__u16 point;		/* enum kpt_point */
	__u32 order;
	__u32 pad;
	char comm[KPT_COMM_LEN];
};

/*
 * A page between q(P) and its buddy free (struct kpt_page.q). An order>0
 * block is one entry at its first pfn.
 */
struct kpt_pending {
	__u64 q_ts;		/* bpf_ktime_get_ns() at the first q(P) */
	__u64 q_last_ts;	/* ... at the last: flushes count from here */
	__u64 inval_seq;	/* invalidations begun before the last q(P) */
	__u64 va_start;		/* VA range P mapped, 0/0 when unknown */
	__u64 va_end;
	__s32 stack_id;		/* kernel stack at q(P) */
	__u32 order;
	__u32 pid;
	__u16 point;		/* enum kpt_point */
	__u16 pad;
};

/*
 * A known kernel page table (struct kpt_page.tbl): learned from the walk
 * of init_mm's tables at start or at a link point, and what the last free
 * point to see it said about it.
 */
struct kpt_table {
	__u64 ts;		/* learned, or noted by a free point */
	__u64 va_start;		/* what it maps: walk, link or free point; 0/0 unknown */
	__u64 va_end;
	__s32 stack_id;		/* stack at that free point */
	__u16 point;		/* that free point, KPT_PT_NONE if none */
	__u8 level;		/* 1: PTE table ... 4: P4D table, 0 unknown */
	__u8 src;		/* enum kpt_table_src */
};

/*
 * What the rule knows of one pfn, keyed by pfn in the "pages" hash map: a
 * known table, a page handed over and not yet freed, or both (a table
 * between its hand-over and its free). Each flag is a word of its own,
 * written after the part it vouches for, so that two writers of one entry
 * never lose each other's flag; pending is set with an atomic exchange, so
 * that two hand-overs of one page count it pending once. User space walks
 * the map at the end of a run to report what never drained.
 */
struct kpt_page {
	struct kpt_table tbl;	/* valid when table is set */
	struct kpt_pending q;	/* valid when pending is set */
	__u32 table;
	__u32 pending;
};

/* SPLIT: found in the range of a CPA call (bpf/split.bpf.h), not at a link point */
enum kpt_table_src { KPT_TS_WALK = 1, KPT_TS_LINK, KPT_TS_POINT, KPT_TS_SPLIT };

/*
 * Log-linear histogram: values below 2^KPT_HIST_SUB_BITS get a slot each,
 * every power of two above is cut into 2^KPT_HIST_SUB_BITS equal
 * sub-buckets. With 8 sub-buckets a slot is at most 12.5% wide, so a
 * percentile read off the slot midpoint is within a quarter of its
 * power-of-two bucket as the design asks. Values past the last slot are
 * clamped into it and counted (KPT_C_HIST_CLAMP).
 */
#define KPT_HIST_SUB_BITS	3
#define KPT_HIST_SUB		(1U << KPT_HIST_SUB_BITS)
#define KPT_HIST_MAX_LOG2	48	/* 2^48 ns: three days */
#define KPT_HIST_SLOTS		((KPT_HIST_MAX_LOG2 - KPT_HIST_SUB_BITS + 2) * KPT_HIST_SUB)

struct kpt_hist {
	__u64 slots[KPT_HIST_SLOTS];
	__u64 count;
	__u64 sum;
	__u64 max;
};

/* Index of the highest set bit; v must be non-zero. No loops: BPF-safe. */
static inline __u32 kpt_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xffffffffULL) << 5; v >>= s; r |= s;
	s = (v > 0xffffU) << 4; v >>= s; r |= s;
	s = (v > 0xffU) << 3; v >>= s; r |= s;
	s = (v > 0xfU) << 2; v >>= s; r |= s;
	s = (v > 0x3U) << 1; v >>= s; r |= s;
	r |= (__u32)(v >> 1);
	return r;
}

/* Slot of a value; returns KPT_HIST_SLOTS for a value past the last slot. */
static inline __u32 kpt_hist_slot(__u64 v)
{
	__u32 e;

	if (v < KPT_HIST_SUB)
		return (__u32)v;
	e = kpt_log2(v);
	if (e > KPT_HIST_MAX_LOG2)
		return KPT_HIST_SLOTS;
	return (e - KPT_HIST_SUB_BITS + 1) * KPT_HIST_SUB +
	       (__u32)((v >> (e - KPT_HIST_SUB_BITS)) - KPT_HIST_SUB);
}

/* Smallest value that lands in a slot. */
static inline __u64 kpt_hist_slot_lo(__u32 slot)
{
	__u32 e;

	if (slot < KPT_HIST_SUB)
		return slot;
	e = slot / KPT_HIST_SUB + KPT_HIST_SUB_BITS - 1;
	return (__u64)(KPT_HIST_SUB + slot % KPT_HIST_SUB) << (e - KPT_HIST_SUB_BITS);
}

/*
 * dst += src: the per-CPU histograms summed, by user space (hist.c) and
 * by the snapshot program (bpf/snapshot.bpf.h) alike.
 */
static inline void kpt_hist_merge(struct kpt_hist *dst, const struct kpt_hist *src)
{
	for (__u32 i = 0; i < KPT_HIST_SLOTS; i++)
		dst->slots[i] += src->slots[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

#endif /* KPTWATCH_H */

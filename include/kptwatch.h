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
#define KPT_DEFAULT_PENDING	65536
/*
 * Returned invalidations remembered for the range check, indexed by begin
 * sequence modulo this (a power of two). A check that needs an older one
 * counts KPT_C_RANGE_UNKNOWN instead of guessing.
 */
#define KPT_INVAL_HISTORY	64

/*
 * Where a page entered the rule: q(P) is the first of these a page reaches.
 * The enqueue points are the deferral's own; the free points are the
 * callers that tear down kernel page tables and exist in every shape.
 */
enum kpt_point {
	KPT_PT_NONE = 0,
	KPT_PT_ASYNC_FREE_DTOR,		/* kernel_pgtable_async_free_dtor() */
	KPT_PT_ASYNC_FREE_LIST,		/* kernel_pgtable_async_free_page_list() */
	KPT_PT_ASYNC_FREE_PAGES,	/* kernel_pgtable_async_free_pages() */
	KPT_PT_PAGETABLE_FREE_KERNEL,	/* pagetable_free_kernel() (7.x) */
	KPT_PT_PMD_FREE_PTE_PAGE,	/* pmd_free_pte_page() */
	KPT_PT_PUD_FREE_PMD_PAGE,	/* pud_free_pmd_page() */
	KPT_PT_FREE_PAGETABLE,		/* free_pagetable() (hot-remove) */
	KPT_PT_MAX,
};

/* Latency and size distributions, aggregated per CPU in the kernel. */
enum kpt_metric {
	KPT_M_ENQ_TO_FREE = 0,	/* q(P) to the buddy free of P, ns */
	KPT_M_ENQ_TO_DRAIN,	/* q(P) to the start of the drain that freed P, ns */
	KPT_M_INVAL_DUR,	/* iommu_sva_invalidate_kva_range() duration, ns */
	KPT_M_DRAIN_DUR,	/* kernel_pgtable_work_func() duration, ns */
	KPT_M_DRAIN_PAGES,	/* pages freed by one drain */
	KPT_M_PENDING_DEPTH,	/* pages pending, sampled at each q(P) */
	KPT_M_MAX,
};

/* Plain counters, per CPU; user space sums them. */
enum kpt_counter {
	KPT_C_QUEUED = 0,	/* pages that reached q(P) */
	KPT_C_FREED_OK,		/* pending pages freed after a flush */
	KPT_C_VIOLATION,	/* pending pages freed before a flush */
	KPT_C_RANGE_VIOLATION,	/* flushed, but by no range covering P's VA */
	KPT_C_MAP_FULL,		/* pending map full: a page went untracked */
	KPT_C_RB_DROP,		/* ring buffer reserve failed: event lost */
	KPT_C_INVAL_BEGIN,
	KPT_C_INVAL_END,
	KPT_C_INVAL_UNPAIRED,	/* return seen without its entry (attach race) */
	KPT_C_DRAIN_BEGIN,
	KPT_C_DRAIN_END,
	KPT_C_DRAIN_UNPAIRED,
	KPT_C_REQUEUED,		/* q(P) again for a page already pending */
	KPT_C_HIST_CLAMP,	/* value beyond the last histogram slot */
	KPT_C_RANGE_UNKNOWN,	/* range check impossible: history overwritten */
	KPT_C_UNKNOWN,		/* verdict undecidable: unflushed, but an unpaired
				 * invalidation return came after q(P), or the
				 * watermark update kept losing its race */
	KPT_C_WALK_TRUNC,	/* a list or table walk stopped early, or a
				 * page pointer did not decode to a pfn */
	KPT_C_POINT_BASE,	/* KPT_C_POINT_BASE + enum kpt_point: per point */
	KPT_C_MAX = KPT_C_POINT_BASE + KPT_PT_MAX,
};

enum kpt_event_type {
	KPT_EV_ENQUEUE = 1,
	KPT_EV_DRAIN_BEGIN,
	KPT_EV_DRAIN_END,
	KPT_EV_INVAL_BEGIN,
	KPT_EV_INVAL_END,
	KPT_EV_FREE,		/* a pending page reached the allocator, flushed */
	KPT_EV_VIOLATION,	/* ... before it was flushed */
	KPT_EV_RANGE_VIOLATION,	/* ... flushed, but not over its VA */
};

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
	__u32 pid;
	__u32 cpu;
	__u16 type;		/* enum kpt_event_type */
	__u16 point;		/* enum kpt_point */
	__u32 order;
	char comm[KPT_COMM_LEN];
};

/*
 * A page between q(P) and its buddy free, keyed by pfn in the "pending"
 * hash map. An order>0 block is one entry at its first pfn. User space
 * walks the map at the end of a run to report what never drained.
 */
struct kpt_pending {
	__u64 q_ts;		/* bpf_ktime_get_ns() at q(P) */
	__u64 inval_seq;	/* invalidations begun before q(P) */
	__u64 va_start;		/* VA range P mapped, 0/0 when unknown */
	__u64 va_end;
	__s32 stack_id;		/* kernel stack at q(P) */
	__u32 order;
	__u32 pid;
	__u16 point;		/* enum kpt_point */
	__u16 pad;
};

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

#endif /* KPTWATCH_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Learn the kernel page tables that exist before kptwatch starts: walk
 * the kernel half of a top-level table (init_mm's entries, which every
 * process's pgd shares) and record every table it points at, down to the
 * PTE tables. Tables linked later are learned at the link points.
 *
 * Entries hold physical addresses; the walk reads a table through the
 * direct map (base + pa). The test entry point hands in a fake top table
 * and a base that maps fake "physical" addresses onto map memory, so the
 * same code runs on the build host.
 */
#ifndef KPT_WALK_BPF_H
#define KPT_WALK_BPF_H

#include "decode.bpf.h"

#define KPT_PTRS		512
#define KPT_KERNEL_HALF		256	/* first kernel entry of a top table */
#define KPT_WALK_BUFS		4	/* top, p4d, pud, pmd */

/*
 * One bpf_loop over every entry on the way down, with the path kept
 * explicitly: nested loops, one per level, make the verifier explore
 * each level's callback inside the others and exceed its budget.
 * Buffer d holds the table being scanned at depth d (0 top, 1 P4D,
 * 2 PUD, 3 PMD) and idx[d] is the next entry to look at. The state
 * lives in map memory, not on the stack: the verifier follows stack
 * constants from one callback run to the next and never converges.
 */
struct kpt_walk {
	__u64 now;
	__u64 base;		/* direct-map base: VA = base + pa */
	__u64 tables;		/* found */
	__u64 faults;		/* tables that could not be read */
	__u32 idx[KPT_WALK_BUFS];
	__u32 depth;
	__u32 la57;		/* top entries point at P4D tables */
	__u32 done;
	__u32 pad;
};

struct kpt_walk_buf {
	struct kpt_walk w;
	__u64 e[KPT_WALK_BUFS][KPT_PTRS];
};

/* Per CPU: the walk's state and one copy of each table on its path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpt_walk_buf);
} walk_buf SEC(".maps");

#define KPT_WALK_STEPS	(1U << 23)	/* bpf_loop's own maximum */

/* Read the table at pa into buffer d and descend into it. */
static __always_inline void kpt_walk_down(struct kpt_walk_buf *buf, __u32 d, __u64 pa)
{
	struct kpt_walk *w = &buf->w;

	if (bpf_probe_read_kernel(buf->e[d & 3], sizeof(buf->e[0]), (void *)(w->base + pa))) {
		w->faults++;
		return;
	}
	w->idx[d & 3] = 0;
	w->depth = d;
}

/*
 * The VA the table that entry ix of depth d points at maps: the indices
 * on the path, each at its level's shift, sign-extended from the top
 * level's highest bit. A 4-level walk skips depth 1.
 */
static __always_inline __u64 kpt_walk_va(const struct kpt_walk *w, __u32 d, __u32 ix)
{
	__u32 top = w->la57 ? 48 : 39;
	__u64 va;

	va = (__u64)((d == 0 ? ix : w->idx[0] - 1) & (KPT_PTRS - 1)) << top;
	if (w->la57 && d >= 1)
		va |= (__u64)((d == 1 ? ix : w->idx[1] - 1) & (KPT_PTRS - 1)) << 39;
	if (d >= 2)
		va |= (__u64)((d == 2 ? ix : w->idx[2] - 1) & (KPT_PTRS - 1)) << 30;
	if (d == 3)
		va |= (__u64)(ix & (KPT_PTRS - 1)) << 21;
	if ((va >> (top + 8)) & 1)
		va |= ~0ULL << (top + 9);
	return va;
}

static long kpt_walk_step(__u32 i, void *data)
{
	struct kpt_walk_buf *buf;
	struct kpt_walk *w;
	__u32 zero = 0, d, ix, level;
	__u64 e, pfn;

	buf = bpf_map_lookup_elem(&walk_buf, &zero);
	if (!buf)
		return 1;
	w = &buf->w;
	d = w->depth & 3;
	ix = w->idx[d];
	if (ix >= KPT_PTRS) {
		/* this table is done: back to its parent */
		if (!d) {
			w->done = true;
			return 1;
		}
		w->depth = d == 2 && !w->la57 ? 0 : d - 1;
		return 0;
	}
	w->idx[d] = ix + 1;
	e = buf->e[d][ix & (KPT_PTRS - 1)];
	pfn = kpt_entry_table(e, d >= 2);
	if (pfn == KPT_PFN_INVALID)
		return 0;
	/* what the entry points at: a table one level down */
	if (d == 0)
		level = w->la57 ? KPT_LVL_P4D : KPT_LVL_PUD;
	else
		level = KPT_LVL_P4D - d;
	if (kpt_rule_learn(w->now, pfn, level, KPT_TS_WALK, kpt_walk_va(w, d, ix)) > 0)
		w->tables++;
	if (level > KPT_LVL_PTE)
		kpt_walk_down(buf, KPT_WALK_BUFS + 1 - level, pfn << KPT_PAGE_SHIFT);
	return 0;
}

/* Drop a walked table that was freed while the walk ran. */
static long kpt_walk_forget(void *map, __u64 *pfn, __u8 *v, void *data)
{
	__u64 *now = data;

	if (kpt_rule_forget(*pfn, KPT_TS_WALK, *now))
		kpt_count(KPT_C_WALK_RACE);
	bpf_map_delete_elem(map, pfn);
	return 0;
}

/*
 * Walk the kernel half of the top table at VA top. base is the direct-map
 * base (0: layout unknown, nothing can be walked). Returns the number of
 * tables found, or -1 if the walk could not run or missed a table.
 */
static __always_inline long kpt_walk_kernel(__u64 now, __u64 top, __u64 base, bool la57)
{
	struct kpt_walk_buf *buf;
	struct kpt_walk *w;
	__u32 zero = 0;
	long ret;

	buf = bpf_map_lookup_elem(&walk_buf, &zero);
	if (!base || !top || !buf) {
		kpt_count(KPT_C_WALK_TRUNC);
		return -1;
	}
	w = &buf->w;
	__builtin_memset(w, 0, sizeof(*w));
	w->now = now;
	w->base = base;
	w->la57 = la57;
	w->idx[0] = KPT_KERNEL_HALF;
	__sync_fetch_and_add(&walk_active, 1);
	if (bpf_probe_read_kernel(buf->e[0], sizeof(buf->e[0]), (void *)top))
		w->faults++;
	else
		bpf_loop(KPT_WALK_STEPS, kpt_walk_step, NULL, 0);
	__sync_fetch_and_sub(&walk_active, 1);
	bpf_for_each_map_elem(&walk_freed, kpt_walk_forget, &now, 0);
	ret = w->faults || !w->done ? -1 : (long)w->tables;
	if (ret < 0)
		kpt_count(KPT_C_WALK_TRUNC);
	return ret;
}

#endif /* KPT_WALK_BPF_H */

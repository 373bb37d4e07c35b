/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Tables that x86 CPA links when it splits a large page.
 *
 * __split_large_page() (arch/x86/mm/pat/set_memory.c) fills a fresh table
 * and writes the entry that links it itself; it is inlined into
 * __change_page_attr_set_clr() in the 6.12 and 7.3 builds, so no link
 * point sees it. On 7.x set_memory_rox() later collapses such tables
 * (__cpa_collapse_large_pages()) and frees them: a collapse that bypassed
 * the deferral would free a table kptwatch never knew, and go unseen.
 *
 * What a split links lies inside the range the CPA call changed: a 2 MiB
 * leaf becomes a PTE table at the PMD entry of an address in the range,
 * a 1 GiB leaf a PMD table at its PUD entry. So the exit of
 * __change_page_attr_set_clr() walks the range at PUD and PMD
 * granularity, through the direct map as the walk at start does, and
 * learns every table it finds there. Nearly all of them are known
 * already (the walk, an earlier call over the same 2 MiB): one hash
 * lookup each. A 1-page range, the common case and the only one under
 * DEBUG_PAGEALLOC (which runs CPA for every page the allocator hands out
 * or takes back), costs a few reads of the path down and two lookups.
 *
 * The caller hands in the top table, the direct-map base and the paging
 * depth, so the test entry point runs the same code on fake tables.
 */
#ifndef KPT_SPLIT_BPF_H
#define KPT_SPLIT_BPF_H

#include "decode.bpf.h"

/*
 * Bounds. A range step is one PMD entry (PUD entries that are leaves or
 * not present are skipped whole): 2^16 steps are 128 GiB of 4 KiB-mapped
 * address space in one call, more than any CPA caller changes at run
 * time. An array call (CPA_ARRAY, CPA_PAGES_ARRAY: TTM's page pools,
 * set_pages_array_*()) is one step per address. Past either bound the
 * rest is not walked and KPT_C_WALK_TRUNC says so: the verdict is then
 * incomplete, never falsely clean.
 */
#define KPT_SPLIT_STEPS		(1U << 16)
#define KPT_SPLIT_ADDRS		(1U << 16)

/*
 * CPA's flags (set_memory.c #defines, not in BTF; the same in 6.12 and
 * 7.3): an array of addresses in cpa->vaddr, or of struct page pointers
 * in cpa->pages, one page each, instead of numpages from *cpa->vaddr.
 */
#define KPT_CPA_ARRAY		0x02
#define KPT_CPA_PAGES_ARRAY	0x04

#define KPT_PMD_MASK		(~(KPT_PMD_SIZE - 1))
#define KPT_PUD_MASK		(~(KPT_PUD_SIZE - 1))

struct kpt_split_walk {
	__u64 now;		/* 0: the clock is read at the first learn */
	__u64 top;		/* kernel VA of the top-level table */
	__u64 base;		/* direct-map base: a table at pa is at base + pa */
	__u64 addr;		/* next address to look at */
	__u64 last;		/* last address of the range (inclusive: no wrap) */
	__u64 pud_va;		/* the 1 GiB pmd_tbl belongs to */
	__u64 pmd_tbl;		/* VA of its PMD table, 0: none (leaf, hole) */
	__u64 skip_to;		/* with no PMD table: the next address worth a look */
	__u64 list;		/* array calls: the array */
	__u64 prev;		/* array calls: the last 2 MiB looked at, +1 */
	__u32 la57;
	__u32 pages;		/* the array holds struct page pointers */
	__u32 have_pud;		/* pud_va, pmd_tbl and skip_to are valid */
	__u32 fault;		/* a read failed: the walk is incomplete */
	__u32 done;
	__u32 learned;		/* tables new to the map */
};

/*
 * pfn, read from the entry at entry_va, is a table linked since the walk
 * (or one the walk was not there for): learn it.
 *
 * Race: the entry may have been cleared and its table freed between the
 * read and the learn (7.x's collapse; pmd_free_pte_page() and hot-remove
 * do not free tables in a range somebody is changing the attributes of).
 * The table would then stay "known" and its pfn's next life be a false
 * violation. The walk at start reconciles with the frees made while it
 * runs (walk_active, walk_freed); that costs a hash update per page the
 * system frees on every CPU while any walk runs, and a shared list that
 * concurrent calls would clear for each other: too much for a point that
 * runs on every CPA call. Instead the entry is read again after the
 * learn: a table is unlinked before it is freed, so if the entry still
 * points at it, its free comes after the learn and is judged; if not, the
 * learn is undone (walk_race). The atomic add between the two is a
 * locked instruction, a full barrier on x86, so the second read cannot be
 * served before the insert is visible to the CPU that will free; that
 * CPU writes the entry long before it frees (a TLB flush, the
 * allocator's locks in between). A collapse itself never overlaps a call
 * walked here that holds init_mm's mmap lock for read (every
 * change_page_attr_set_clr() caller): the recheck is for the callers
 * that do not (DEBUG_PAGEALLOC's).
 */
__u64 split_fence;

static __always_inline void kpt_split_learn(struct kpt_split_walk *w, __u64 entry_va,
					    __u64 pfn, __u32 level, __u64 va)
{
	__u64 again = 0;

	if (kpt_table_of(&pfn))
		return;		/* known: nearly every table, every time */
	if (!w->now)
		w->now = bpf_ktime_get_ns();
	if (kpt_rule_learn(w->now, pfn, level, KPT_TS_SPLIT, va) <= 0)
		return;
	w->learned++;
	__sync_fetch_and_add(&split_fence, 1);
	if (!bpf_probe_read_kernel(&again, sizeof(again), (void *)entry_va) &&
	    kpt_table_pfn(again) == pfn)
		return;
	if (kpt_rule_forget(pfn, KPT_TS_SPLIT, w->now)) {
		kpt_count(KPT_C_WALK_RACE);
		w->learned--;
	}
}

/* The table entry ix of the table at tbl points at (leaf: no table), or invalid. */
static __always_inline __u64 kpt_split_read(struct kpt_split_walk *w, __u64 tbl, __u64 ix,
					    bool leaf_possible, __u64 *entry_va)
{
	__u64 e = 0;

	*entry_va = tbl + (ix & (KPT_PTRS_PER_PMD - 1)) * 8;
	if (bpf_probe_read_kernel(&e, sizeof(e), (void *)*entry_va)) {
		w->fault = 1;
		return KPT_PFN_INVALID;
	}
	return kpt_entry_table(e, leaf_possible);
}

/*
 * Down to the PMD table of addr's 1 GiB, learning it on the way (a split
 * 1 GiB leaf). Where the path ends early (a hole, a 1 GiB leaf) there is
 * nothing below to learn until the next entry of that level: skip_to.
 */
static __always_inline void kpt_split_descend(struct kpt_split_walk *w, __u64 addr)
{
	__u64 pfn, ev, span = w->la57 ? 1ULL << 48 : 1ULL << 39;

	w->have_pud = 1;
	w->pud_va = addr & KPT_PUD_MASK;
	w->pmd_tbl = 0;
	pfn = kpt_split_read(w, w->top, addr >> (w->la57 ? 48 : 39), false, &ev);
	if (pfn != KPT_PFN_INVALID && w->la57) {
		span = 1ULL << 39;
		pfn = kpt_split_read(w, w->base + (pfn << KPT_PAGE_SHIFT), addr >> 39, false, &ev);
	}
	if (pfn != KPT_PFN_INVALID) {
		span = KPT_PUD_SIZE;
		pfn = kpt_split_read(w, w->base + (pfn << KPT_PAGE_SHIFT), addr >> 30, true, &ev);
	}
	if (pfn == KPT_PFN_INVALID) {
		w->skip_to = (addr & ~(span - 1)) + span;	/* 0: past the top */
		return;
	}
	kpt_split_learn(w, ev, pfn, KPT_LVL_PMD, w->pud_va);
	w->pmd_tbl = w->base + (pfn << KPT_PAGE_SHIFT);
}

/*
 * One step: the PMD entry of w->addr (descending first when it lies in
 * another 1 GiB than the last one), then on to the next 2 MiB. Returns 1
 * when the range is done or a read failed.
 *
 * A global function: the verifier checks it once, on its own, instead of
 * at each of its three callers, two of them bpf_loop() callbacks that it
 * explores until their states converge. Inlined, it made the kretprobe
 * of __change_page_attr_set_clr() take a second of a start's two on 7.3.
 */
__noinline long kpt_split_one(struct kpt_split_walk *w)
{
	__u64 addr, pfn, ev, next;

	if (!w)
		return 1;
	addr = w->addr;

	if (!w->have_pud || (addr & KPT_PUD_MASK) != w->pud_va)
		kpt_split_descend(w, addr);
	if (w->fault)
		return 1;
	if (w->pmd_tbl) {
		pfn = kpt_split_read(w, w->pmd_tbl, addr >> 21, true, &ev);
		if (w->fault)
			return 1;
		if (pfn != KPT_PFN_INVALID)
			kpt_split_learn(w, ev, pfn, KPT_LVL_PTE, addr & KPT_PMD_MASK);
		next = (addr & KPT_PMD_MASK) + KPT_PMD_SIZE;
	} else {
		next = w->skip_to;
	}
	if (next <= addr || next > w->last) {	/* past the range, or the top */
		w->done = 1;
		return 1;
	}
	w->addr = next;
	return 0;
}

static long kpt_split_step(__u32 i, void *data)
{
	/* a global function's result is any scalar to the verifier */
	return kpt_split_one(data) ? 1 : 0;
}

/* CPA takes an address with bit 63 cleared as well (set_memory.c: fix_addr()). */
static __always_inline __u64 kpt_split_fix_addr(__u64 addr)
{
	return (__u64)((__s64)(addr << 1) >> 1);
}

/* Every table under [start, start + npages pages), kernel half only. */
static __always_inline int kpt_split_range(struct kpt_split_walk *w, __u64 start, __u64 npages)
{
	start = kpt_split_fix_addr(start);
	if (!(start >> 63) || !npages) {
		w->done = 1;	/* nothing of init_mm's to walk */
		return 0;
	}
	w->addr = start;
	/* the range cannot wrap past the top of the address space */
	if (npages > (0ULL - start) >> KPT_PAGE_SHIFT)
		npages = (0ULL - start) >> KPT_PAGE_SHIFT;
	w->last = start + (npages << KPT_PAGE_SHIFT) - 1;
	/* within one 2 MiB: one step, without a loop to set up */
	if ((start & KPT_PMD_MASK) == (w->last & KPT_PMD_MASK))
		kpt_split_one(w);
	else
		bpf_loop(KPT_SPLIT_STEPS, kpt_split_step, w, 0);
	if (!w->done)
		kpt_count(KPT_C_WALK_TRUNC);
	return w->learned;
}

/* Array calls: one address (one page) per element, each walked as a range. */
static long kpt_split_elem(__u32 i, void *data)
{
	struct kpt_split_walk *w = data;
	__u64 v = 0, addr, pfn;

	if (bpf_probe_read_kernel(&v, sizeof(v), (void *)(w->list + (__u64)i * 8))) {
		w->fault = 1;
		return 1;
	}
	addr = v;
	if (w->pages) {
		/* page_address(): the direct map, no highmem on x86_64 */
		pfn = kpt_page_to_pfn(v);
		if (pfn == KPT_PFN_INVALID) {
			w->fault = 1;
			return 1;
		}
		addr = w->base + (pfn << KPT_PAGE_SHIFT);
	}
	addr = kpt_split_fix_addr(addr);
	if (!(addr >> 63) || (addr & KPT_PMD_MASK) + 1 == w->prev)
		return 0;	/* user half; or the 2 MiB just walked */
	w->prev = (addr & KPT_PMD_MASK) + 1;
	w->addr = addr;
	w->last = addr | ((1ULL << KPT_PAGE_SHIFT) - 1);
	w->done = 0;
	kpt_split_one(w);
	return w->fault ? 1 : 0;
}

/*
 * At the exit of __change_page_attr_set_clr(cpa, primary): numpages is
 * the count asked for again, *vaddr the start (or the array's first
 * element): walk what the call could have split. cpa->pgd set is another
 * mm's tables (EFI's): not init_mm's, not walked. top is init_mm's top
 * table (any mm's: the kernel half is shared), base the direct map; now
 * 0 reads the clock only if something is learned.
 * Returns the number of tables learned, -1 when the walk could not run
 * or stopped early (counted in KPT_C_WALK_TRUNC).
 */
static __always_inline int kpt_split_cpa(__u64 now, __u64 cpa_va, __u64 top, __u64 base,
					 bool la57)
{
	struct kpt_split_walk w = {};
	__u64 raw[16], n, vaddr, start = 0;
	__u32 flags;

	/*
	 * The struct in one read, not a helper call per field: this runs
	 * for every page DEBUG_PAGEALLOC maps or unmaps. The offsets are
	 * the running kernel's (CO-RE), the buffer is 8-byte aligned.
	 */
	if (!cpa_va || !top || !base || bpf_core_type_size(struct cpa_data) > sizeof(raw) ||
	    bpf_probe_read_kernel(raw, bpf_core_type_size(struct cpa_data), (void *)cpa_va)) {
		kpt_count(KPT_C_WALK_TRUNC);
		return -1;
	}
	if (*(__u64 *)((void *)raw + bpf_core_field_offset(struct cpa_data, pgd)))
		return 0;
	n = *(__u64 *)((void *)raw + bpf_core_field_offset(struct cpa_data, numpages));
	flags = *(__u32 *)((void *)raw + bpf_core_field_offset(struct cpa_data, flags));
	vaddr = *(__u64 *)((void *)raw + bpf_core_field_offset(struct cpa_data, vaddr));
	w.now = now;
	w.top = top;
	w.base = base;
	w.la57 = la57;
	if (flags & (KPT_CPA_ARRAY | KPT_CPA_PAGES_ARRAY)) {
		w.pages = !!(flags & KPT_CPA_PAGES_ARRAY);
		w.list = w.pages ?
			 *(__u64 *)((void *)raw + bpf_core_field_offset(struct cpa_data, pages)) :
			 vaddr;
		bpf_loop(n < KPT_SPLIT_ADDRS ? n : KPT_SPLIT_ADDRS, kpt_split_elem, &w, 0);
		if (w.fault || n > KPT_SPLIT_ADDRS) {
			kpt_count(KPT_C_WALK_TRUNC);
			return -1;
		}
		return w.learned;
	}
	if (bpf_probe_read_kernel(&start, sizeof(start), (void *)vaddr)) {
		kpt_count(KPT_C_WALK_TRUNC);
		return -1;
	}
	kpt_split_range(&w, start, n);
	return w.done ? (int)w.learned : -1;
}

#endif /* KPT_SPLIT_BPF_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * From attach-point arguments to rule inputs: struct page / ptdesc
 * pointers to pfns, PMD and PUD entries to the tables they point at and
 * the VA those mapped, ptdesc lists to their pages. Shared by the real
 * attach points and the test entry points, which feed fake tables kept in
 * a map so the walkers run the same code on the build host.
 */
#ifndef KPT_DECODE_BPF_H
#define KPT_DECODE_BPF_H

#include "rule.bpf.h"

/*
 * With CONFIG_DYNAMIC_MEMORY_LAYOUT (KASLR of the memory regions) these
 * are variables, and user space gives their addresses (the *_addr knobs):
 * from kallsyms, which lists data symbols only with KALLSYMS_ALL, else
 * from a System.map. Without that layout they are constants and the
 * symbols do not exist: the defaults apply. The *_hint knobs override
 * everything. (No __ksym externs: libbpf would read all of kallsyms again
 * to resolve them.)
 */
const volatile __u64 vmemmap_base_hint = 0;
const volatile __u64 page_offset_hint = 0;
const volatile __u64 vmemmap_base_addr = 0;
const volatile __u64 page_offset_base_addr = 0;

__u64 vmemmap_base_seen;	/* cache; 0 until first use */
__u64 page_offset_seen;

#define KPT_PFN_INVALID		(~0ULL)
#define KPT_LIST_MAX		4096	/* ptdescs per list walk */

/*
 * A layout base: the hint, else the variable read once from where user
 * space found it, else (no variable at all) the non-randomized default;
 * cached. 0 if the variable could not be read: callers then decode
 * nothing rather than decode wrongly.
 */
static __always_inline __u64 kpt_layout_base(__u64 hint, __u64 addr, __u64 *seen, __u64 dflt)
{
	__u64 v = hint;

	if (v)
		return v;
	v = KPT_READ_ONCE(*seen);
	if (v)
		return v;
	if (addr) {
		if (bpf_probe_read_kernel(&v, sizeof(v), (void *)addr))
			return 0;
	} else {
		v = dflt;
	}
	KPT_WRITE_ONCE(*seen, v);
	return v;
}

static __always_inline __u64 kpt_vmemmap_base(void)
{
	return kpt_layout_base(vmemmap_base_hint, vmemmap_base_addr, &vmemmap_base_seen,
			       KPT_DEFAULT_VMEMMAP_BASE);
}

static __always_inline __u64 kpt_page_offset(void)
{
	return kpt_layout_base(page_offset_hint, page_offset_base_addr, &page_offset_seen,
			       KPT_DEFAULT_PAGE_OFFSET);
}

/*
 * The VA a table linked at entry_addr maps, where the link point has no
 * address (__pte_alloc_kernel(pmd)): the parent table's, as the walk or
 * an earlier link learned it, plus the entry's index times the child's
 * span. The parent is found through the direct map at base; an entry
 * outside it (the kernel image's own tables) or a parent not known at
 * the level above gives 0, unknown.
 */
static __always_inline __u64 kpt_link_va(__u64 base, __u64 entry_addr, __u32 level)
{
	struct kpt_table *parent;
	__u64 pfn;

	if (!base || entry_addr < base || entry_addr - base >= (1ULL << 55))
		return 0;
	pfn = (entry_addr - base) >> KPT_PAGE_SHIFT;
	parent = kpt_table_of(&pfn);
	if (!parent || parent->level != level + 1 || (!parent->va_start && !parent->va_end))
		return 0;
	return parent->va_start + (entry_addr & 0xfff) / 8 * kpt_level_span(level);
}

/* x86_64 SPARSEMEM_VMEMMAP: pfn = page - vmemmap, in struct page units. */
static __always_inline __u64 kpt_page_to_pfn(__u64 page)
{
	__u64 base = kpt_vmemmap_base();
	__u64 size = bpf_core_type_size(struct page);

	if (!base || page < base || !size)
		return KPT_PFN_INVALID;
	return (page - base) / size;
}

/*
 * The physical-address bits of an entry: user space sets this from the
 * kernel's own figure ("address sizes" in /proc/cpuinfo), which leaves out
 * the bits AMD SME/SEV takes for the encryption bit (sme_me_mask) and
 * the reduction it implies. 0: the architectural 52 bits.
 */
const volatile __u64 phys_addr_mask = 0;

static __always_inline __u64 kpt_pa_mask(void)
{
	return phys_addr_mask ? phys_addr_mask & KPT_PTE_PFN_MASK : KPT_PTE_PFN_MASK;
}

/*
 * The table an entry points at, or KPT_PFN_INVALID. PSE marks a leaf in
 * PUD and PMD entries only (leaf_possible); in top and P4D entries the bit
 * is reserved.
 */
static __always_inline __u64 kpt_entry_table(__u64 entry, bool leaf_possible)
{
	if (!(entry & KPT_PAGE_PRESENT) || (leaf_possible && (entry & KPT_PAGE_PSE)))
		return KPT_PFN_INVALID;
	return (entry & kpt_pa_mask()) >> KPT_PAGE_SHIFT;
}

/* A PMD/PUD entry that points at a lower table: present and not a leaf. */
static __always_inline __u64 kpt_table_pfn(__u64 entry)
{
	return kpt_entry_table(entry, true);
}

/* One struct page (or ptdesc) at order, VA unknown. */
static __always_inline int kpt_point_page(__u64 now, __u64 task_key, __u64 page,
					  __u32 order, __u32 point,
					  __s32 stack_id)
{
	__u64 pfn = kpt_page_to_pfn(page);

	if (pfn == KPT_PFN_INVALID) {
		kpt_count(KPT_C_WALK_TRUNC);
		return -1;
	}
	return kpt_rule_queue(now, task_key, pfn, order, point, 0, 0, stack_id);
}

/*
 * pmd_free_pte_page(pmd, addr): frees the PTE table the entry points at,
 * which mapped [addr, addr + PMD_SIZE). pmdval is read at entry, before
 * the function clears it.
 */
static __always_inline int kpt_point_pmd_entry(__u64 now, __u64 task_key,
					       __u64 pmdval, __u64 addr,
					       __u32 point, __s32 stack_id)
{
	__u64 pfn = kpt_table_pfn(pmdval);

	if (pfn == KPT_PFN_INVALID)
		return 0;	/* nothing below: no table is freed */
	addr &= ~(KPT_PMD_SIZE - 1);
	return kpt_rule_queue(now, task_key, pfn, 0, point, addr,
			      addr + KPT_PMD_SIZE, stack_id);
}

struct kpt_pmd_walk {
	__u64 now;
	__u64 task_key;
	__u64 table;		/* kernel VA of the PMD table */
	__u64 addr;		/* VA the table mapped */
	__u32 point;
	__s32 stack_id;
	bool fault;
};

static long kpt_pmd_walk_step(__u32 i, void *data)
{
	struct kpt_pmd_walk *w = data;
	__u64 e = 0, pfn, va;

	i &= KPT_PTRS_PER_PMD - 1;
	if (bpf_probe_read_kernel(&e, sizeof(e), (void *)(w->table + i * 8))) {
		w->fault = true;
		return 1;
	}
	pfn = kpt_table_pfn(e);
	if (pfn == KPT_PFN_INVALID)
		return 0;
	va = w->addr + i * KPT_PMD_SIZE;
	kpt_rule_queue(w->now, w->task_key, pfn, 0, w->point, va,
		       va + KPT_PMD_SIZE, w->stack_id);
	return 0;
}

/*
 * pud_free_pmd_page(pud, addr): frees the PMD table the entry points at
 * (it mapped [addr, addr + PUD_SIZE)) and every PTE table that table's
 * present non-leaf entries point at (entry i mapped PMD_SIZE at
 * addr + i * PMD_SIZE). table is the PMD table's kernel VA; the caller
 * computes it so tests can hand in a fake table.
 */
static __always_inline int kpt_point_pmd_table(__u64 now, __u64 task_key,
					       __u64 pudval, __u64 table,
					       __u64 addr, __u32 point,
					       __s32 stack_id)
{
	struct kpt_pmd_walk w = {};
	__u64 pfn = kpt_table_pfn(pudval);

	if (pfn == KPT_PFN_INVALID)
		return 0;
	addr &= ~(KPT_PUD_SIZE - 1);
	kpt_rule_queue(now, task_key, pfn, 0, point, addr, addr + KPT_PUD_SIZE,
		       stack_id);

	w.now = now;
	w.task_key = task_key;
	w.table = table;
	w.addr = addr;
	w.point = point;
	w.stack_id = stack_id;
	bpf_loop(KPT_PTRS_PER_PMD, kpt_pmd_walk_step, &w, 0);
	if (w.fault)
		kpt_count(KPT_C_WALK_TRUNC);
	return 0;
}

/* The PMD table of a PUD entry, through the direct map. */
static __always_inline __u64 kpt_pud_table_va(__u64 pudval)
{
	__u64 base = kpt_page_offset();

	return base ? base + (pudval & kpt_pa_mask()) : 0;
}

/*
 * free_pagetable(page, order): memory hot-remove frees both the tables
 * and the vmemmap pages they mapped through it. Only known tables are
 * tables; an order>0 block is always vmemmap data. Data pages are counted,
 * not judged: they were never walked by an IOMMU as a table.
 */
static __always_inline int kpt_point_free_pagetable(__u64 now, __u64 task_key, __u64 page,
						    __u32 order, __s32 stack_id)
{
	__u64 pfn = kpt_page_to_pfn(page);

	if (pfn == KPT_PFN_INVALID) {
		kpt_count(KPT_C_WALK_TRUNC);
		return -1;
	}
	if (order || !kpt_table_of(&pfn)) {
		kpt_count(KPT_C_DATA_PAGE);
		return 0;
	}
	return kpt_rule_note(now, pfn, KPT_PT_FREE_PAGETABLE, 0, 0, stack_id);
}

struct kpt_list_walk {
	__u64 now;
	__u64 task_key;
	__u64 head;
	__u64 node;
	__u64 off;		/* offsetof(struct ptdesc, pt_list) */
	__u32 point;
	__s32 stack_id;
	bool done;
};

static long kpt_list_step(__u32 i, void *data)
{
	struct kpt_list_walk *w = data;
	struct list_head *node = (void *)w->node;

	if (w->node == w->head) {
		w->done = true;
		return 1;
	}
	kpt_point_page(w->now, w->task_key, w->node - w->off, 0, w->point,
		       w->stack_id);
	w->node = (__u64)BPF_CORE_READ(node, next);
	if (!w->node)
		return 1;	/* corrupt or racing list: leave done false */
	return 0;
}

/*
 * kernel_pgtable_async_free_page_list(list): every ptdesc on the list,
 * linked through pt_list. Pages are order 0 (the seed queues single
 * pages here). Read at entry, before the list is spliced away.
 */
static __always_inline int kpt_point_ptdesc_list(__u64 now, __u64 task_key,
						 __u64 head, __u32 point,
						 __s32 stack_id)
{
	struct kpt_list_walk w = {};
	struct list_head *h = (void *)head;

	w.now = now;
	w.task_key = task_key;
	w.head = head;
	w.node = (__u64)BPF_CORE_READ(h, next);
	w.off = bpf_core_field_offset(struct ptdesc, pt_list);
	w.point = point;
	w.stack_id = stack_id;
	if (w.node)
		bpf_loop(KPT_LIST_MAX, kpt_list_step, &w, 0);
	if (!w.done)
		kpt_count(KPT_C_WALK_TRUNC);
	return 0;
}

#endif /* KPT_DECODE_BPF_H */

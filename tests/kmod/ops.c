// SPDX-License-Identifier: GPL-2.0
/*
 * kptwatch_test: the operations that make the kernel free page tables.
 *
 * vmap_pmd / vmap_pud: the worker owns a VM_IOREMAP area of exactly one PMD
 * (PUD) that nobody else can be placed in, so the VA never moves and every
 * iteration is the same four steps:
 *
 *   1. ioremap_page_range() with a physical address that is not PMD (PUD)
 *      aligned: vmap cannot use a leaf at that level and installs a
 *      PTE (PMD) table, which the module notes down for the pfn watch;
 *   2. vunmap_range(): the entries go, the table stays in the tree;
 *   3. ioremap_page_range() with an aligned address: vmap_try_huge_pmd()
 *      (_pud()) finds the old table and calls pmd_free_pte_page()
 *      (pud_free_pmd_page()) to detach and free it, then maps a leaf;
 *   4. vunmap_range(): the leaf is cleared, so step 1 allocates anew.
 *
 * A naive vmalloc/vfree/vmalloc_huge loop hit this path 3 times in 64 because
 * vmalloc's placement moves; owning the area removes the guesswork.
 *
 * The physical range is not RAM and not claimed by any resource, and is
 * mapped uncached: nothing ever touches the mappings, but UC keeps the CPU
 * from speculating into addresses that back nothing. ioremap_page_range()
 * (not ioremap()) is what lets the module reuse its own area, and it is also
 * the only way vmap builds a PUD leaf.
 *
 * pte_kernel / pte_bypass: the worker owns a VM_IOREMAP area of one PMD, as
 * above, and every iteration links a kernel PTE table there and unlinks it,
 * the way kernel code does (pmd_free_pte_page() is the model):
 *
 *   1. apply_to_page_range(&init_mm, start, PAGE_SIZE, noop): the PMD entry
 *      is empty, so __pte_alloc_kernel() allocates a PTE table and links it
 *      into init_mm (a tracer learns the table there); no PTE is set;
 *   2. under init_mm.page_table_lock, read the table from the PMD entry and
 *      pmd_clear() it;
 *   3. flush_tlb_kernel_range() over the address, so no CPU still caches
 *      the entry;
 *   4. watch the table's pfn and free it: pte_kernel with pte_free_kernel(),
 *      the kernel's own inline helper, so that a deferral series that
 *      changes it is exercised as built; pte_bypass with a plain
 *      free_page(), a mutant that bypasses any deferral on every kernel.
 *
 * A table that is never linked is no kernel page table to anyone watching
 * the kernel's tables (no page-table walker can have cached it), so
 * allocating with pte_alloc_one_kernel() and freeing at once would test
 * nothing. If the entry already held a table when the area was reserved
 * (vunmap leaves PTE tables behind), step 1 links nothing and step 4 frees
 * that older table: P_linked counts the iterations that linked a new one.
 *
 * pte_bypass on 7.x frees a page that the constructor typed as a page table
 * and counted in NR_PAGETABLE: the allocator resets the type, the counter
 * stays one page high per iteration (a mutant's cost, not a bug to fix).
 */
#include "kptw_test.h"

#include <linux/ioport.h>
#include <linux/pgtable.h>
#include <asm/cpufeature.h>
#include <asm/pgalloc.h>

phys_addr_t kptw_phys_base;
const char *kptw_pud_unsupported;
static const char *kptw_vmap_unsupported;
static char kptw_vmap_reason[96];

/*
 * Room needed at kptw_phys_base: a PUD for the leaf, plus a PMD because the
 * small mapping of step 1 is offset by up to a PMD.
 */
#define KPTW_PHYS_SPAN	(PUD_SIZE + PMD_SIZE)

/* First PUD-aligned physical range above 4 GiB that backs nothing. */
static int kptw_find_phys(void)
{
	u64 top = 1ULL << boot_cpu_data.x86_phys_bits;
	u64 p;

	for (p = max_t(u64, SZ_4G, PUD_SIZE); p + KPTW_PHYS_SPAN <= top; p += PUD_SIZE) {
		if (region_intersects(p, KPTW_PHYS_SPAN, IORESOURCE_MEM,
				      IORES_DESC_NONE) == REGION_DISJOINT) {
			kptw_phys_base = p;
			return 0;
		}
	}
	return -ENOSPC;
}

int kptw_ops_init(void)
{
	if (kptw_syms.vmap_missing) {
		snprintf(kptw_vmap_reason, sizeof(kptw_vmap_reason),
			 "%s not found in kallsyms", kptw_syms.vmap_missing);
		kptw_vmap_unsupported = kptw_vmap_reason;
	} else if (!boot_cpu_has(X86_FEATURE_PSE)) {
		kptw_vmap_unsupported = "CPU lacks PSE: vmap cannot map huge PMDs";
	} else if (kptw_find_phys()) {
		kptw_vmap_unsupported = "no free physical range for the mappings";
	}

	if (kptw_vmap_unsupported)
		kptw_pud_unsupported = kptw_vmap_unsupported;
	else if (!boot_cpu_has(X86_FEATURE_GBPAGES))
		kptw_pud_unsupported =
			"CPU lacks GBPAGES (pdpe1gb): arch_vmap_pud_supported() is false, vmap never maps a huge PUD";
	return 0;
}

static bool kptw_pte_mode(enum kptw_mode mode)
{
	return mode == KPTW_PTE_KERNEL || mode == KPTW_PTE_BYPASS;
}

const char *kptw_mode_unsupported(enum kptw_mode mode)
{
	static char reason[96];
	const char *missing;

	switch (mode) {
	case KPTW_VMAP_PMD:
		return kptw_vmap_unsupported;
	case KPTW_VMAP_PUD:
		return kptw_pud_unsupported;
	case KPTW_PTE_KERNEL:
	case KPTW_PTE_BYPASS:
		missing = kptw_syms.pte_link_missing;
		if (!missing && mode == KPTW_PTE_KERNEL)
			missing = kptw_syms.pte_missing;
		if (!missing)
			return NULL;
		snprintf(reason, sizeof(reason), "%s not found in kallsyms", missing);
		return reason;
	case KPTW_CPA_ERR:
		return kptw_cpa_unsupported();
	default:
		return "unknown mode";
	}
}

/* The PUD entry of a kernel address, NULL if an upper level is missing. */
static pud_t *kptw_pud_k(unsigned long addr)
{
	pgd_t *pgd = pgd_offset_k(addr);
	p4d_t *p4d;

	if (pgd_none(READ_ONCE(*pgd)))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)))
		return NULL;
	return pud_offset(p4d, addr);
}

static pmd_t *kptw_pmd_k(unsigned long addr)
{
	pud_t *pud = kptw_pud_k(addr);
	pud_t v;

	if (!pud)
		return NULL;
	v = pudp_get(pud);
	if (!pud_present(v) || pud_leaf(v))
		return NULL;
	return pmd_offset(pud, addr);
}

/* A table (not a leaf) hangs below the entry: return its pfn, else 0. */
static unsigned long kptw_table_pfn_pmd(unsigned long addr)
{
	pmd_t *pmd = kptw_pmd_k(addr);
	pmd_t v;

	if (!pmd)
		return 0;
	v = pmdp_get(pmd);
	if (!pmd_present(v) || pmd_leaf(v))
		return 0;
	return pmd_pfn(v);
}

static bool kptw_leaf_pmd(unsigned long addr)
{
	pmd_t *pmd = kptw_pmd_k(addr);

	return pmd && pmd_present(pmdp_get(pmd)) && pmd_leaf(pmdp_get(pmd));
}

static bool kptw_leaf_pud(unsigned long addr)
{
	pud_t *pud = kptw_pud_k(addr);

	return pud && pud_present(pudp_get(pud)) && pud_leaf(pudp_get(pud));
}

/*
 * Watch the PMD table of a PUD window and every PTE table below it: all of
 * them go when pud_free_pmd_page() runs.
 */
static int kptw_watch_pud_tables(struct kptw_worker *w)
{
	unsigned long addr = w->win.start;
	pud_t *pud = kptw_pud_k(addr);
	pmd_t *pmd;
	pud_t v;
	int i, ret;

	if (!pud)
		return -EIO;
	v = pudp_get(pud);
	if (!pud_present(v) || pud_leaf(v))
		return -EIO;
	ret = kptw_watch_add(pud_pfn(v), w->slot);
	pmd = pmd_offset(pud, addr);
	for (i = 0; !ret && i < PTRS_PER_PMD; i++) {
		pmd_t e = pmdp_get(pmd + i);

		if (pmd_present(e) && !pmd_leaf(e))
			ret = kptw_watch_add(pmd_pfn(e), w->slot);
	}
	return ret;
}

int kptw_worker_setup(struct kptw_worker *w)
{
	unsigned long size;
	const char *why = kptw_mode_unsupported(w->mode);

	if (why)
		return -EOPNOTSUPP;
	w->ops = 0;
	w->huge = 0;
	w->linked = 0;
	w->ns = 0;
	kptw_watch_reset(w->slot);

	size = w->mode == KPTW_VMAP_PUD ? PUD_SIZE : PMD_SIZE;
	/*
	 * VM_IOREMAP areas are aligned to their size up to IOREMAP_MAX_ORDER
	 * (PUD_SHIFT on x86-64), so the area starts on a PMD (PUD) boundary
	 * and, with its guard page, covers the whole entry alone.
	 */
	w->area = kptw_syms.get_vm_area(size, VM_IOREMAP);
	if (!w->area)
		return -ENOMEM;
	if (!IS_ALIGNED((unsigned long)w->area->addr, size)) {
		pr_err("kptwatch_test: area %p not aligned to %lx\n",
		       w->area->addr, size);
		free_vm_area(w->area);
		w->area = NULL;
		return -EIO;
	}
	w->win.start = (unsigned long)w->area->addr;
	w->win.size = size;
	/* The pte modes free no table through pmd_free_pte_page(). */
	if (kptw_pte_mode(w->mode))
		return 0;
	atomic_long_set(&w->win.pte_page_freed, 0);
	atomic_long_set(&w->win.pmd_page_freed, 0);
	if (kptw_window_register(&w->win)) {
		free_vm_area(w->area);
		w->area = NULL;
		return -ENOSPC;
	}
	w->win_registered = true;
	w->phys = kptw_phys_base;
	return 0;
}

void kptw_worker_teardown(struct kptw_worker *w)
{
	if (w->win_registered) {
		kptw_window_unregister(&w->win);
		w->win_registered = false;
	}
	if (w->area) {
		/* Unmaps whatever is left, keeps the tables, frees the VA. */
		free_vm_area(w->area);
		w->area = NULL;
	}
}

/* Kernel-side count of lower tables freed in this worker's window. */
long kptw_worker_freed(struct kptw_worker *w)
{
	switch (w->mode) {
	case KPTW_VMAP_PMD:
		return atomic_long_read(&w->win.pte_page_freed);
	case KPTW_VMAP_PUD:
		return atomic_long_read(&w->win.pmd_page_freed);
	default:
		return kptw_watch_reached(w->slot);
	}
}

static int kptw_vmap_op(struct kptw_worker *w)
{
	unsigned long start = w->win.start, end = start + w->win.size;
	pgprot_t prot = pgprot_noncached(PAGE_KERNEL);
	bool pud = w->mode == KPTW_VMAP_PUD;
	phys_addr_t small;
	unsigned long pfn;
	int ret;

	/* 1: small mapping, so the level below gets a table. */
	small = w->phys + (pud && w->leaf_2m ? PMD_SIZE : PAGE_SIZE);
	ret = kptw_syms.ioremap_page_range(start, end, small, prot);
	if (ret)
		return ret;
	if (pud) {
		ret = kptw_watch_pud_tables(w);
	} else {
		pfn = kptw_table_pfn_pmd(start);
		ret = pfn ? kptw_watch_add(pfn, w->slot) : -EIO;
	}
	/* 2: unmap; the tables stay. */
	kptw_syms.vunmap_range(start, end);
	if (ret) {
		pr_err("kptwatch_test: no %s table under %lx after a small mapping\n",
		       pud ? "PMD" : "PTE", start);
		return ret;
	}

	/* 3: aligned mapping: the kernel frees the table to map a leaf. */
	ret = kptw_syms.ioremap_page_range(start, end, w->phys, prot);
	if (ret)
		return ret;
	/*
	 * A leaf now means the kernel's free function returned 1: vmap maps a
	 * leaf over a table only after detaching it. No leaf means it fell back
	 * to the small mapping (mmap_read_trylock(&init_mm) failed against a
	 * ptdump walker, or huge ioremap is off), which the counts then show.
	 */
	if (pud ? kptw_leaf_pud(start) : kptw_leaf_pmd(start))
		w->huge++;
	/* 4: unmap the leaf: the entry is empty again for step 1. */
	kptw_syms.vunmap_range(start, end);
	return 0;
}

static int kptw_noop_pte(pte_t *pte, unsigned long addr, void *data)
{
	return 0;
}

static int kptw_pte_op(struct kptw_worker *w)
{
	unsigned long addr = w->win.start;
	pmd_t *pmd = kptw_pmd_k(addr);
	bool fresh;
	pte_t *pte;
	pmd_t v;
	int ret;

	/* No PMD table above the area yet: step 1 links that one too. */
	fresh = !pmd || pmd_none(pmdp_get(pmd));

	/* 1: link a PTE table through the kernel's own allocation path. */
	ret = apply_to_page_range(&init_mm, addr, PAGE_SIZE, kptw_noop_pte, NULL);
	if (ret)
		return ret;
	if (!pmd)
		pmd = kptw_pmd_k(addr);

	/* 2: unlink it. */
	spin_lock(&init_mm.page_table_lock);
	v = pmd ? pmdp_get(pmd) : __pmd(0);
	if (!pmd_present(v) || pmd_leaf(v)) {
		spin_unlock(&init_mm.page_table_lock);
		pr_err("kptwatch_test: no PTE table under %lx after apply_to_page_range()\n",
		       addr);
		return -EIO;
	}
	pte = (pte_t *)pmd_page_vaddr(v);
	pmd_clear(pmd);
	spin_unlock(&init_mm.page_table_lock);

	/* 3: no CPU may still walk through the old entry. */
	kptw_syms.flush_kernel_range(addr, addr + PAGE_SIZE);

	/* 4: free it; watched first, so the allocator's side counts it. */
	ret = kptw_watch_add(pmd_pfn(v), w->slot);
	if (w->mode == KPTW_PTE_BYPASS)
		free_page((unsigned long)pte);
	else
		pte_free_kernel(&init_mm, pte);
	if (fresh)
		w->linked++;
	return ret;
}

int kptw_worker_op(struct kptw_worker *w)
{
	u64 t0 = ktime_get_ns();
	int ret;

	if (kptw_pte_mode(w->mode))
		ret = kptw_pte_op(w);
	else
		ret = kptw_vmap_op(w);
	if (ret)
		return ret;
	w->ns += ktime_get_ns() - t0;
	w->ops++;
	return 0;
}

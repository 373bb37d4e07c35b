// SPDX-License-Identifier: GPL-2.0
/*
 * kptwatch_test: cpa_err, the CPA populate error path.
 *
 * populate_pgd() (arch/x86/mm/pat/set_memory.c) maps a range into the page
 * table of cpa->pgd, allocating the tables it needs; when an allocation
 * fails part-way it calls unmap_pud_range(), which clears what it mapped
 * and frees the tables that became empty in try_to_free_pte_page() and
 * try_to_free_pmd_page(). 6.12 as shipped frees each table before it
 * clears the entry pointing at it; patch 0003 of patches/linux-6.12 clears
 * first and, with the series, hands the table to
 * kernel_pgtable_async_free(). Nothing reaches that path in a running
 * system short of a failed allocation, so this mode makes one:
 *
 *  1. reserve a VM_IOREMAP area of one PUD (1 GiB, aligned to it, see
 *     ops.c) and check that the PUD entry above it is empty and the P4D
 *     entry is not (else populate_pgd() would allocate a PUD table first
 *     and the count below would be off);
 *  2. call the static __change_page_attr_set_clr() through its kallsyms
 *     address with a cpa_data for init_mm.pgd, two pages from
 *     start = area + 2 MiB - 4 KiB, CPA_NO_CHECK_ALIAS. The lookup finds
 *     no PUD, so __cpa_process_fault() calls populate_pgd(), and
 *     populate_pud() allocates #1 the PMD table, populate_pmd() #2 the PTE
 *     table for start and #3 the PTE table for start + 4 KiB (the next
 *     PMD entry);
 *  3. fail exactly #3: current->fail_nth = 3, the kernel's own per-task
 *     "fail the Nth fault-injection check" (what /proc/self/fail-nth
 *     writes), set only around the call. fail_page_alloc must let order-0
 *     GFP_KERNEL allocations reach its check (ignore-gfp-wait=N,
 *     min-order=0); the mode tests that first with one allocation of its
 *     own. populate_pmd() returns -1, and unmap_pud_range(start, start +
 *     8 KiB) clears the PTE, frees table #2 (now empty), then table #1.
 *
 * Why fail_nth and not fail_page_alloc's probability/interval/times with
 * make_it_fail: should_fail_ex() (lib/fault-inject.c) counts "interval"
 * in attr->count, one counter for every task that passes the filters,
 * incremented only while "times" is non-zero, never reset and not
 * readable in debugfs. The 3rd call of a run fails only if every earlier
 * run ended exactly on its failure; a run that stopped short would shift
 * every later one. fail_nth lives in the task, needs no probability (so
 * no other task can fail), and its value after the call says whether the
 * failing check was reached: 0 means the 3rd check failed.
 *
 * What happened is taken from the kernel's side, not assumed:
 *  - kmem:mm_page_alloc, for the calling task during the call: the pages
 *    the call allocated (expected: 2, order 0), their pfns in order, and
 *    when the 2nd was allocated, whether the area's PUD entry pointed at
 *    the 1st (table #1 was linked as the PMD table);
 *  - the enqueue point (the series' kernel_pgtable_async_free(), 7.x's
 *    pagetable_free_kernel()) by kprobe, for the calling task during the
 *    call: which of those pages the error path handed over;
 *  - kmem:mm_page_free: when each reached the page allocator, and whether
 *    that happened in the calling task before the call returned (6.12 as
 *    shipped: free_page() in try_to_free_p*_page()) or later (deferred);
 *  - the PUD entry after the call, and the call's return value.
 *
 * The error path also writes to physical page 0. After try_to_free_pmd_page()
 * has cleared the PUD, unmap_pmd_range() goes on with pmd++ inside the PMD
 * table it just gave away and calls unmap_pte_range() for the 4 KiB left
 * at start + 4 KiB, whose PMD entry is empty (#3 failed): pte_offset_kernel()
 * on an empty entry is __va(0) + pte_index(start + 4 KiB) = __va(0), so
 * set_pte() zeroes the first 8 bytes of physical page 0, and
 * try_to_free_pte_page() then reads the whole page as if it were a PTE
 * table: if all its words are 0 it would clear the entry and free pfn 0.
 * A latent upstream bug, reported in README.md, not fixed here. The mode
 * keeps to the one 8-byte write (the trailing part is one page at a PMD
 * boundary, pte_index 0), refuses to run if page 0 is zero past its first
 * word, reports word 0 before and after the call, and puts it back.
 *
 * Requirements, else the mode is unsupported with the reason:
 *  - CONFIG_FAIL_PAGE_ALLOC (for fail_nth and its check in the allocator);
 *  - __change_page_attr_set_clr in kallsyms under its own name (a clone
 *    whose signature GCC changed would carry a .isra/.constprop suffix);
 *  - a struct cpa_data layout this file mirrors (checked against 6.12 and
 *    7.3; any other kernel is refused rather than guessed);
 *  - debug_pagealloc on: otherwise __change_page_attr_set_clr() holds
 *    cpa_lock, a spinlock, across populate_pgd()'s GFP_KERNEL allocations
 *    (fine for EFI at boot, a sleeping-in-atomic bug here). 7.x also needs
 *    CPA_DEBUG_PAGEALLOC in the flags to drop the lock.
 *
 * On 6.12 as shipped the call is expected to oops under debug_pagealloc:
 * after free_page() of the PMD table, unmap_pmd_range() reads its next
 * entry from the freed (and by debug_pagealloc unmapped) page. That
 * use-after-free is the bug patch 0003 fixes; see README.md.
 */
#include "kptw_test.h"

#include <linux/delay.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <asm/pgtable.h>

/*
 * struct cpa_data of arch/x86/mm/pat/set_memory.c. 6.12 and 7.3 have the
 * same layout (7.3 adds init_mm_read_locked to the bitfield word).
 */
#if (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) && \
     LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)) || \
    (LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0) && \
     LINUX_VERSION_CODE < KERNEL_VERSION(7, 4, 0))
#define KPTW_CPA_LAYOUT_KNOWN 1
#else
#define KPTW_CPA_LAYOUT_KNOWN 0
#endif

struct kptw_cpa_data {
	unsigned long	*vaddr;
	pgd_t		*pgd;
	pgprot_t	mask_set;
	pgprot_t	mask_clr;
	unsigned long	numpages;
	unsigned long	curpage;
	unsigned long	pfn;
	unsigned int	flags;
	unsigned int	force_split		: 1,
			force_static_prot	: 1,
			force_flush_all		: 1,
			init_mm_read_locked	: 1;
	struct page	**pages;
};

#define KPTW_CPA_NO_CHECK_ALIAS		0x08	/* both kernels */
/* 7.x: without it the lock is taken even under debug_pagealloc */
#define KPTW_CPA_DEBUG_PAGEALLOC	0x20
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define KPTW_CPA_FLAGS	(KPTW_CPA_NO_CHECK_ALIAS | KPTW_CPA_DEBUG_PAGEALLOC)
#else
#define KPTW_CPA_FLAGS	KPTW_CPA_NO_CHECK_ALIAS
#endif

/* The allocation that must fail: #3 of populate_pgd() here, see above. */
#define KPTW_CPA_FAIL_NTH	3
/* Allocations recorded; more than the 2 expected are counted, not kept. */
#define KPTW_CPA_MAX_REC	4

struct kptw_cpa_rec {
	unsigned long pfn;
	unsigned int order;
	int queued_seq;		/* 1-based order of hand-over in the call, 0: none */
	atomic_t freed;		/* reached the page allocator */
	bool freed_in_call;	/* ... from the calling task, before the call returned */
};

/* Shared with the probes while a run is in progress. */
static struct {
	struct task_struct *task;	/* the caller */
	bool in_call;
	pud_t *pudp;			/* the area's PUD entry */
	int nr_rec;			/* published with release */
	atomic_t nr_alloc;		/* every page allocation in the call */
	atomic_t nr_queued;
	pudval_t pud_at_alloc2;
	u64 last_free_ns;
	struct kptw_cpa_rec rec[KPTW_CPA_MAX_REC];
} kptw_cpa_live;

/* Result of the last run. */
static struct {
	bool valid;
	int status;
	const char *unsupported;
	char detail[160];
	bool called;
	unsigned long area, start;
	int ret;
	unsigned int fail_nth_left;
	int allocs;
	unsigned long pfn[2];
	bool table1_linked;
	bool pud_none_after;
	const char *enqueue_point;
	int queued_in_call;
	int freed_in_call;
	int queue_order[2];	/* table index (1, 2) of the 1st and 2nd page queued */
	long pt_watched, pt_freed, pt_pending;
	u64 drain_ns, wall_ns;
	u64 page0_before, page0_after;
	bool page0_restored;
} kptw_cpa_res;

static int (*kptw_cpa_set_clr)(struct kptw_cpa_data *cpa, int primary);
static struct tracepoint *kptw_tp_alloc, *kptw_tp_free;
static const char *kptw_cpa_why;
static char kptw_cpa_why_buf[160];

static void kptw_cpa_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "mm_page_alloc"))
		kptw_tp_alloc = tp;
	else if (!strcmp(tp->name, "mm_page_free"))
		kptw_tp_free = tp;
}

void kptw_cpa_init(void)
{
	kptw_cpa_set_clr = (void *)kptw_syms.cpa_set_clr;
	for_each_kernel_tracepoint(kptw_cpa_find_tp, NULL);

	if (!IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC))
		kptw_cpa_why = "CONFIG_FAIL_PAGE_ALLOC off: no way to fail the one allocation that sends populate_pgd() to its error path";
	else if (!KPTW_CPA_LAYOUT_KNOWN)
		kptw_cpa_why = "struct cpa_data is mirrored for 6.12 and 7.3 only (tests/kmod/cpa.c)";
	else if (!kptw_syms.get_vm_area)
		kptw_cpa_why = "get_vm_area not found in kallsyms";
	else if (!kptw_cpa_set_clr)
		kptw_cpa_why = "__change_page_attr_set_clr not found in kallsyms (inlined or renamed by the compiler)";
	else if (!kptw_tp_alloc || !kptw_tp_free)
		kptw_cpa_why = "kmem:mm_page_alloc or kmem:mm_page_free tracepoint not found";
	else if (!debug_pagealloc_enabled())
		kptw_cpa_why = "debug_pagealloc off: __change_page_attr_set_clr() would hold cpa_lock, a spinlock, across populate_pgd()'s GFP_KERNEL allocations (boot with debug_pagealloc=on)";
	if (kptw_cpa_why) {
		/* a stable copy: the stats print it long after */
		strscpy(kptw_cpa_why_buf, kptw_cpa_why, sizeof(kptw_cpa_why_buf));
		kptw_cpa_why = kptw_cpa_why_buf;
	}
}

const char *kptw_cpa_unsupported(void)
{
	return kptw_cpa_why;
}

/* The caller's own allocations during the call, from the allocator's side. */
static void kptw_cpa_alloc_probe(void *data, struct page *page, unsigned int order,
				 gfp_t gfp, int migratetype)
{
	int n;

	/* An interrupt taken in the call runs with current == caller too. */
	if (!READ_ONCE(kptw_cpa_live.in_call) || current != kptw_cpa_live.task ||
	    !in_task() || !page)
		return;
	atomic_inc(&kptw_cpa_live.nr_alloc);
	n = kptw_cpa_live.nr_rec;	/* only this task writes it */
	if (n >= KPTW_CPA_MAX_REC)
		return;
	/*
	 * The 1st allocation is linked (set_pud()) before the 2nd is made:
	 * what the PUD entry holds now says what #1 became.
	 */
	if (n == 1)
		kptw_cpa_live.pud_at_alloc2 = pud_val(READ_ONCE(*kptw_cpa_live.pudp));
	kptw_cpa_live.rec[n].pfn = page_to_pfn(page);
	kptw_cpa_live.rec[n].order = order;
	/* the free probe, on any CPU, reads the entry after the count */
	smp_store_release(&kptw_cpa_live.nr_rec, n + 1);
}

static struct kptw_cpa_rec *kptw_cpa_rec_of(unsigned long pfn, unsigned int order)
{
	int i, n = smp_load_acquire(&kptw_cpa_live.nr_rec);

	for (i = 0; i < n; i++) {
		struct kptw_cpa_rec *r = &kptw_cpa_live.rec[i];

		if (r->pfn >= pfn && r->pfn < pfn + (1UL << order))
			return r;
	}
	return NULL;
}

static void kptw_cpa_free_probe(void *data, struct page *page, unsigned int order)
{
	struct kptw_cpa_rec *r = kptw_cpa_rec_of(page_to_pfn(page), order);

	if (!r || atomic_xchg(&r->freed, 1))
		return;
	if (READ_ONCE(kptw_cpa_live.in_call) && current == kptw_cpa_live.task)
		r->freed_in_call = true;
	WRITE_ONCE(kptw_cpa_live.last_free_ns, ktime_get_ns());
}

/* Hand-overs to the deferral made by the call (both take a struct ptdesc *). */
static int kptw_cpa_enqueue_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct ptdesc *pt = (struct ptdesc *)regs_get_kernel_argument(regs, 0);
	struct kptw_cpa_rec *r;

	if (!READ_ONCE(kptw_cpa_live.in_call) || current != kptw_cpa_live.task)
		return 0;
	r = kptw_cpa_rec_of(page_to_pfn(ptdesc_page(pt)), 0);
	if (r && !r->queued_seq)
		r->queued_seq = atomic_inc_return(&kptw_cpa_live.nr_queued);
	return 0;
}

static const char *const kptw_cpa_enqueue_names[] = {
	"kernel_pgtable_async_free",	/* the 6.12 series */
	"pagetable_free_kernel",	/* 7.x */
};
static struct kprobe kptw_cpa_kp;

static int kptw_cpa_probes_on(void)
{
	int i, ret;

	kptw_cpa_res.enqueue_point = "none";
	/* A kprobe is registered once per struct: start from a clean one. */
	for (i = 0; i < ARRAY_SIZE(kptw_cpa_enqueue_names); i++) {
		memset(&kptw_cpa_kp, 0, sizeof(kptw_cpa_kp));
		kptw_cpa_kp.symbol_name = kptw_cpa_enqueue_names[i];
		kptw_cpa_kp.pre_handler = kptw_cpa_enqueue_pre;
		if (!register_kprobe(&kptw_cpa_kp)) {
			kptw_cpa_res.enqueue_point = kptw_cpa_enqueue_names[i];
			break;
		}
	}
	ret = tracepoint_probe_register(kptw_tp_alloc, kptw_cpa_alloc_probe, NULL);
	if (ret)
		goto err_kp;
	ret = tracepoint_probe_register(kptw_tp_free, kptw_cpa_free_probe, NULL);
	if (ret)
		goto err_alloc;
	return 0;
err_alloc:
	tracepoint_probe_unregister(kptw_tp_alloc, kptw_cpa_alloc_probe, NULL);
	tracepoint_synchronize_unregister();
err_kp:
	if (strcmp(kptw_cpa_res.enqueue_point, "none"))
		unregister_kprobe(&kptw_cpa_kp);
	return ret;
}

static void kptw_cpa_probes_off(void)
{
	tracepoint_probe_unregister(kptw_tp_alloc, kptw_cpa_alloc_probe, NULL);
	tracepoint_probe_unregister(kptw_tp_free, kptw_cpa_free_probe, NULL);
	if (strcmp(kptw_cpa_res.enqueue_point, "none"))
		unregister_kprobe(&kptw_cpa_kp);
	/* no probe may still run on kptw_cpa_live when the next run resets it */
	tracepoint_synchronize_unregister();
}

/* Word @i of physical page 0, through the direct map as the kernel reads it. */
static int kptw_page0_word(int i, u64 *w)
{
	return copy_from_kernel_nofault(w, (u64 *)__va(0) + i, sizeof(*w)) ? -EFAULT : 0;
}

#define kptw_cpa_fail(err, ...) ({						\
	snprintf(kptw_cpa_res.detail, sizeof(kptw_cpa_res.detail), __VA_ARGS__);	\
	(err);									\
})

/*
 * The area's PUD entry, if the levels above it exist. Returns NULL and says
 * why otherwise: each case would change what populate_pgd() allocates.
 */
static pud_t *kptw_cpa_pud(unsigned long addr, int *err)
{
	pgd_t *pgd = pgd_offset_k(addr);
	p4d_t *p4d;
	pud_t *pud;

	if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd))) {
		*err = kptw_cpa_fail(-EIO, "the PGD entry above %#lx is empty or bad: populate_pgd() would allocate a P4D table first", addr);
		return NULL;
	}
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d))) {
		*err = kptw_cpa_fail(-EIO, "the P4D entry above %#lx is empty or bad: populate_pgd() would allocate a PUD table first", addr);
		return NULL;
	}
	pud = pud_offset(p4d, addr);
	if (!pud_none(READ_ONCE(*pud))) {
		*err = kptw_cpa_fail(-EIO, "the PUD entry of the fresh area %#lx is not empty (%#llx): an earlier user left a table there",
				     addr, (unsigned long long)pud_val(READ_ONCE(*pud)));
		return NULL;
	}
	return pud;
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * Does fail_page_alloc fail an order-0 GFP_KERNEL allocation of this task
 * when told to? Its defaults (ignore-gfp-wait=Y, min-order=1) skip every
 * allocation populate_pgd() makes; then nothing would fail and the call
 * would simply map the pages.
 */
static int kptw_cpa_arm_check(void)
{
	struct page *p;

	WRITE_ONCE(current->fail_nth, 1);
	p = alloc_page(GFP_KERNEL | __GFP_NOWARN);
	WRITE_ONCE(current->fail_nth, 0);
	if (p) {
		__free_page(p);
		return kptw_cpa_fail(-EIO, "fail_page_alloc let an order-0 GFP_KERNEL allocation through: set ignore-gfp-wait=N and min-order=0 in /sys/kernel/debug/fail_page_alloc");
	}
	return 0;
}

static int kptw_cpa_call(struct kptw_cpa_data *cpa, unsigned int *left)
{
	int ret;

	WRITE_ONCE(kptw_cpa_live.in_call, true);
	WRITE_ONCE(current->fail_nth, KPTW_CPA_FAIL_NTH);
	ret = kptw_cpa_set_clr(cpa, 1);
	*left = READ_ONCE(current->fail_nth);
	WRITE_ONCE(current->fail_nth, 0);
	WRITE_ONCE(kptw_cpa_live.in_call, false);
	return ret;
}
#else
static int kptw_cpa_arm_check(void)
{
	return -EOPNOTSUPP;	/* kptw_cpa_init() made the mode unsupported */
}

static int kptw_cpa_call(struct kptw_cpa_data *cpa, unsigned int *left)
{
	return -EOPNOTSUPP;
}
#endif

/* Wait for the recorded pages to reach the page allocator. */
static void kptw_cpa_drain(unsigned int drain_ms, u64 t_end)
{
	u64 limit = ktime_get_ns() + (u64)drain_ms * NSEC_PER_MSEC;
	int i, n = kptw_cpa_live.nr_rec, freed;

	for (;;) {
		freed = 0;
		for (i = 0; i < n; i++)
			freed += atomic_read(&kptw_cpa_live.rec[i].freed);
		if (freed == n || ktime_get_ns() >= limit)
			break;
		usleep_range(1000, 2000);
	}
	kptw_cpa_res.pt_watched = n;
	kptw_cpa_res.pt_freed = freed;
	kptw_cpa_res.pt_pending = n - freed;
	if (freed && READ_ONCE(kptw_cpa_live.last_free_ns) > t_end)
		kptw_cpa_res.drain_ns = READ_ONCE(kptw_cpa_live.last_free_ns) - t_end;
}

int kptw_cpa_run(unsigned int drain_ms)
{
	struct kptw_cpa_data cpa;
	struct vm_struct *area = NULL;
	struct page *target = NULL;
	unsigned long start;
	u64 t0 = ktime_get_ns(), t_end, w;
	pud_t *pudp;
	int i, ret = 0;

	memset(&kptw_cpa_res, 0, sizeof(kptw_cpa_res));
	kptw_cpa_res.valid = true;
	kptw_cpa_res.enqueue_point = "none";
	kptw_cpa_res.unsupported = kptw_cpa_why;
	if (kptw_cpa_why) {
		kptw_cpa_res.status = -EOPNOTSUPP;
		return -EOPNOTSUPP;
	}
#ifdef CONFIG_FAULT_INJECTION
	if (READ_ONCE(current->fail_nth)) {
		ret = kptw_cpa_fail(-EBUSY, "the writing task has fail-nth set already");
		goto out;
	}
#endif

	/* The page the two PTEs would map; never touched through them. */
	target = alloc_page(GFP_KERNEL);
	if (!target) {
		ret = kptw_cpa_fail(-ENOMEM, "no page to map");
		goto out;
	}
	area = kptw_syms.get_vm_area(PUD_SIZE, VM_IOREMAP);
	if (!area) {
		ret = kptw_cpa_fail(-ENOMEM, "get_vm_area(PUD_SIZE) failed");
		goto out;
	}
	kptw_cpa_res.area = (unsigned long)area->addr;
	if (!IS_ALIGNED(kptw_cpa_res.area, PUD_SIZE)) {
		ret = kptw_cpa_fail(-EIO, "area %#lx not aligned to 1 GiB", kptw_cpa_res.area);
		goto out;
	}
	pudp = kptw_cpa_pud(kptw_cpa_res.area, &ret);
	if (!pudp)
		goto out;

	/*
	 * Page 0 must hold a non-zero word past word 0, which the error path
	 * zeroes; otherwise try_to_free_pte_page() would free pfn 0.
	 */
	for (i = 1; i < PTRS_PER_PTE; i++) {
		if (kptw_page0_word(i, &w)) {
			ret = kptw_cpa_fail(-EIO, "physical page 0 is not readable through the direct map");
			goto out;
		}
		if (w)
			break;
	}
	if (i == PTRS_PER_PTE) {
		ret = kptw_cpa_fail(-EIO, "physical page 0 is zero past its first word: the error path would free pfn 0 as a PTE table (README.md)");
		goto out;
	}
	if (kptw_page0_word(0, &kptw_cpa_res.page0_before)) {
		ret = kptw_cpa_fail(-EIO, "physical page 0 is not readable through the direct map");
		goto out;
	}

	ret = kptw_cpa_arm_check();
	if (ret)
		goto out;

	memset(&kptw_cpa_live, 0, sizeof(kptw_cpa_live));
	kptw_cpa_live.task = current;
	kptw_cpa_live.pudp = pudp;
	ret = kptw_cpa_probes_on();
	if (ret) {
		ret = kptw_cpa_fail(ret, "cannot attach to the kmem tracepoints: %d", ret);
		goto out;
	}

	start = kptw_cpa_res.area + PMD_SIZE - PAGE_SIZE;
	kptw_cpa_res.start = start;
	memset(&cpa, 0, sizeof(cpa));
	cpa.vaddr = &start;
	cpa.pgd = init_mm.pgd;
	/*
	 * Some change is needed, or the function returns at once; read-only
	 * is the mildest. populate_pgd() maps with _KERNPG_TABLE minus this.
	 */
	cpa.mask_clr = __pgprot(_PAGE_RW);
	cpa.numpages = 2;
	cpa.pfn = page_to_pfn(target);
	cpa.flags = KPTW_CPA_FLAGS;
	kptw_cpa_res.ret = kptw_cpa_call(&cpa, &kptw_cpa_res.fail_nth_left);
	t_end = ktime_get_ns();
	kptw_cpa_res.called = true;

	kptw_cpa_res.pud_none_after = pud_none(READ_ONCE(*pudp));
	if (!kptw_page0_word(0, &kptw_cpa_res.page0_after) &&
	    kptw_cpa_res.page0_after != kptw_cpa_res.page0_before &&
	    !kptw_cpa_res.page0_after) {
		/*
		 * Undo the error path's write: the real-mode IVT's first two
		 * vectors. A plain store, as the error path's own set_pte()
		 * (copy_to_kernel_nofault() is not exported); the page was just
		 * read and written through this mapping. Read back to report it.
		 */
		WRITE_ONCE(*(u64 *)__va(0), kptw_cpa_res.page0_before);
		kptw_cpa_res.page0_restored = !kptw_page0_word(0, &w) &&
					      w == kptw_cpa_res.page0_before;
	}

	kptw_cpa_drain(drain_ms, t_end);
	kptw_cpa_probes_off();

	kptw_cpa_res.allocs = atomic_read(&kptw_cpa_live.nr_alloc);
	for (i = 0; i < 2 && i < kptw_cpa_live.nr_rec; i++)
		kptw_cpa_res.pfn[i] = kptw_cpa_live.rec[i].pfn;
	kptw_cpa_res.table1_linked = kptw_cpa_live.nr_rec >= 2 &&
		(kptw_cpa_live.pud_at_alloc2 & _PAGE_PRESENT) &&
		pud_pfn(__pud(kptw_cpa_live.pud_at_alloc2)) == kptw_cpa_live.rec[0].pfn;
	for (i = 0; i < kptw_cpa_live.nr_rec; i++) {
		struct kptw_cpa_rec *r = &kptw_cpa_live.rec[i];

		if (r->queued_seq) {
			kptw_cpa_res.queued_in_call++;
			if (r->queued_seq <= 2 && i < 2)
				kptw_cpa_res.queue_order[r->queued_seq - 1] = i + 1;
		}
		kptw_cpa_res.freed_in_call += r->freed_in_call;
	}
out:
	/* Unmaps whatever the call left mapped before the target page goes. */
	if (area)
		free_vm_area(area);
	if (target)
		__free_page(target);
	kptw_cpa_res.wall_ns = ktime_get_ns() - t0;
	kptw_cpa_res.status = ret;
	return ret;
}

void kptw_cpa_reset(void)
{
	memset(&kptw_cpa_res, 0, sizeof(kptw_cpa_res));
}

void kptw_cpa_show(struct seq_file *m)
{
	const char *p = "cpa_err";
	struct { const char *k; long v; } n[] = {
		{ "iters", kptw_cpa_res.called },
		{ "freed", kptw_cpa_res.pt_freed },
		{ "pt_watched", kptw_cpa_res.pt_watched },
		{ "pt_freed", kptw_cpa_res.pt_freed },
		{ "pt_pending", kptw_cpa_res.pt_pending },
		{ "ret", kptw_cpa_res.ret },
		{ "fail_nth_left", kptw_cpa_res.fail_nth_left },
		{ "allocs", kptw_cpa_res.allocs },
		{ "table1_linked", kptw_cpa_res.table1_linked },
		{ "pud_none_after", kptw_cpa_res.pud_none_after },
		{ "queued_in_call", kptw_cpa_res.queued_in_call },
		{ "freed_in_call", kptw_cpa_res.freed_in_call },
		{ "page0_restored", kptw_cpa_res.page0_restored },
	};
	int i;

	if (!kptw_cpa_res.valid) {
		/* Say so before anyone runs it, as the other modes do. */
		if (kptw_cpa_why)
			seq_printf(m, "%s_status=unsupported\n%s_reason=%s\n", p, p, kptw_cpa_why);
		return;
	}
	seq_printf(m, "%s_status=%s\n", p, kptw_cpa_res.unsupported ? "unsupported" :
		   kptw_cpa_res.status ? "error" : "ok");
	if (kptw_cpa_res.unsupported)
		seq_printf(m, "%s_reason=%s\n", p, kptw_cpa_res.unsupported);
	seq_printf(m, "%s_error=%d\n", p, kptw_cpa_res.status);
	if (kptw_cpa_res.detail[0])
		seq_printf(m, "%s_detail=%s\n", p, kptw_cpa_res.detail);
	if (kptw_cpa_res.unsupported)
		return;
	for (i = 0; i < ARRAY_SIZE(n); i++)
		seq_printf(m, "%s_%s=%ld\n", p, n[i].k, n[i].v);
	seq_printf(m, "%s_area=%#lx\n%s_start=%#lx\n", p, kptw_cpa_res.area, p,
		   kptw_cpa_res.start);
	seq_printf(m, "%s_table1_pfn=%#lx\n%s_table2_pfn=%#lx\n", p, kptw_cpa_res.pfn[0],
		   p, kptw_cpa_res.pfn[1]);
	seq_printf(m, "%s_enqueue_point=%s\n", p, kptw_cpa_res.enqueue_point);
	seq_printf(m, "%s_queue_order=%d,%d\n", p, kptw_cpa_res.queue_order[0],
		   kptw_cpa_res.queue_order[1]);
	seq_printf(m, "%s_page0_word0_before=%#llx\n%s_page0_word0_after=%#llx\n", p,
		   kptw_cpa_res.page0_before, p, kptw_cpa_res.page0_after);
	seq_printf(m, "%s_drain_ns=%llu\n%s_wall_ns=%llu\n", p, kptw_cpa_res.drain_ns, p,
		   kptw_cpa_res.wall_ns);
}

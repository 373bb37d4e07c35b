/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kptwatch_test: shared declarations.
 *
 * Every .c file of the module includes this header FIRST, before any
 * <linux/...> header, because of the symbol redirects below.
 */
#ifndef KPTW_TEST_H
#define KPTW_TEST_H

/*
 * init_mm is not exported to modules by any kernel we build against, yet the
 * kernel's own inline helpers that this module must call take (6.12) or
 * compare against (7.x: pagetable_pte_ctor() tests "mm != &init_mm") its
 * address, and pgd_offset_k() walks it. Renaming it before the headers are
 * read turns the header's "extern struct mm_struct init_mm;" into a pointer
 * declaration, "extern struct mm_struct (*kptw_init_mm);", which syms.c
 * defines and fills from kallsyms at load time. The inline code then runs
 * unchanged against the real init_mm.
 */
#define init_mm (*kptw_init_mm)

/*
 * Out-of-line callees of pte_free_kernel() that a kernel may not export
 * (the pte_kernel mode calls that inline helper; the table itself comes
 * from the kernel's own __pte_alloc_kernel()). build.sh links the module once plainly; for every
 * symbol of this list that modpost reports undefined it prints a note and
 * rebuilds with -DKPTW_REDIRECT_<sym>, which renames the header's declaration
 * to kptw_redirect_<sym>(); syms.c defines that as a call through the
 * address kallsyms gives. The kernel's inline code is otherwise untouched.
 *
 *  - kernel_pgtable_async_free_dtor: our 6.12 series, CONFIG_ASYNC_PGTABLE_FREE
 *  - pagetable_free_kernel: 7.x, CONFIG_ASYNC_KERNEL_PGTABLE_FREE
 *  - ptlock_alloc/ptlock_free: out of line when spinlock_t is too big to
 *    embed (lockdep in -debug kernels), referenced by the 7.x ctor/dtor
 *    (the module only runs the dtor, but keeps both for any inline user)
 */
#ifdef KPTW_REDIRECT_kernel_pgtable_async_free_dtor
#define kernel_pgtable_async_free_dtor kptw_redirect_kernel_pgtable_async_free_dtor
#endif
#ifdef KPTW_REDIRECT_pagetable_free_kernel
#define pagetable_free_kernel kptw_redirect_pagetable_free_kernel
#endif
#ifdef KPTW_REDIRECT_ptlock_alloc
#define ptlock_alloc kptw_redirect_ptlock_alloc
#endif
#ifdef KPTW_REDIRECT_ptlock_free
#define ptlock_free kptw_redirect_ptlock_free
#endif

#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/types.h>
#include <linux/vmalloc.h>

#define KPTW_MAX_THREADS	64

/* Modes a run can drive. */
enum kptw_mode {
	KPTW_VMAP_PMD,
	KPTW_VMAP_PUD,
	KPTW_PTE_KERNEL,
	KPTW_PTE_BYPASS,
	KPTW_CPA_ERR,		/* cpa.c: one call, no churn */
	KPTW_NR_MODES,
};

extern const char *const kptw_mode_name[KPTW_NR_MODES];

/* syms.c: what the module resolved through kallsyms. */
struct kptw_syms {
	struct vm_struct *(*get_vm_area)(unsigned long size, unsigned long flags);
	int (*ioremap_page_range)(unsigned long addr, unsigned long end,
				  phys_addr_t phys_addr, pgprot_t prot);
	void (*vunmap_range)(unsigned long addr, unsigned long end);
	/* flush_tlb_kernel_range(), for the pte modes' unlink */
	void (*flush_kernel_range)(unsigned long start, unsigned long end);
	/* static __change_page_attr_set_clr(), for cpa_err; cpa.c has its type */
	void *cpa_set_clr;
	/* Redirect targets, only those this build needs. */
	void (*redirect[4])(void);
	const char *redirect_name[4];
	int nr_redirect;
	/* First symbol that a mode needs and kallsyms did not give, or NULL. */
	const char *vmap_missing;
	const char *pte_link_missing;	/* both pte modes */
	const char *pte_missing;	/* pte_kernel: a redirect target */
};

extern struct kptw_syms kptw_syms;
int kptw_syms_init(void);
void kptw_syms_show(struct seq_file *m);

/*
 * probes.c: what the kernel itself did, counted from its side.
 *
 * A window is a VA range this module owns; the kretprobes on
 * pmd_free_pte_page() and pud_free_pmd_page() credit a call that returned 1
 * to the window holding its address argument.
 *
 * A watched pfn is a page-table page this module saw the kernel allocate;
 * the kmem:mm_page_free tracepoint credits its slot when the page reaches the
 * page allocator, which with a deferred free can be well after the call
 * that released it.
 */
struct kptw_window {
	unsigned long start;
	unsigned long size;		/* PMD_SIZE or PUD_SIZE */
	atomic_long_t pte_page_freed;	/* pmd_free_pte_page() == 1 here */
	atomic_long_t pmd_page_freed;	/* pud_free_pmd_page() == 1 here */
};

struct kptw_probe_stats {
	long calls, freed;
	int nmissed;
	int err;		/* registration error, 0 if attached */
};

int kptw_probes_init(void);
void kptw_probes_exit(void);
int kptw_window_register(struct kptw_window *w);
void kptw_window_unregister(struct kptw_window *w);
void kptw_probe_stats(int level, struct kptw_probe_stats *st);
int kptw_watch_err(void);

/* Slots of the pfn watch: one per thread of a run. */
int kptw_watch_add(unsigned long pfn, unsigned int slot);
long kptw_watch_reached(unsigned int slot);
long kptw_watch_added(unsigned int slot);
void kptw_watch_reset(unsigned int slot);
long kptw_watch_pending(unsigned int slot);
void kptw_watch_forget(unsigned int slot);

/* ops.c: one thread's state for one mode. */
struct kptw_worker {
	enum kptw_mode mode;
	unsigned int slot;
	bool leaf_2m;			/* vmap_pud: small mappings are 2 MiB */
	struct vm_struct *area;
	struct kptw_window win;
	bool win_registered;
	phys_addr_t phys;
	long ops;
	long huge;			/* huge mapping observed in the tables */
	long linked;			/* pte modes: a new PTE table was linked */
	u64 ns;
};

extern phys_addr_t kptw_phys_base;
extern const char *kptw_pud_unsupported;

int kptw_ops_init(void);
const char *kptw_mode_unsupported(enum kptw_mode mode);
int kptw_worker_setup(struct kptw_worker *w);
int kptw_worker_op(struct kptw_worker *w);
void kptw_worker_teardown(struct kptw_worker *w);
long kptw_worker_freed(struct kptw_worker *w);

/* cpa.c: the cpa_err mode, outside the worker loop (see there). */
void kptw_cpa_init(void);
const char *kptw_cpa_unsupported(void);
int kptw_cpa_run(unsigned int drain_ms);
void kptw_cpa_reset(void);
void kptw_cpa_show(struct seq_file *m);

#endif /* KPTW_TEST_H */

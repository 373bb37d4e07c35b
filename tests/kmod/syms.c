// SPDX-License-Identifier: GPL-2.0
/*
 * kptwatch_test: kernel symbols that are not exported to modules.
 *
 * This is a test module for page-table frees, and the primitives that make
 * those frees deterministic (get_vm_area(), ioremap_page_range(),
 * vunmap_range(), flush_tlb_kernel_range()) and init_mm are not exported. A
 * test module may look them up: kallsyms_lookup_name() itself is not
 * exported since 5.7, so its address comes from a kprobe that is registered
 * only to have the kprobe core resolve the name, then unregistered at once.
 * Nothing here is fit for a production module.
 *
 * CONFIG_X86_KERNEL_IBT would seal functions whose address the kernel never
 * takes and make these indirect calls fault on CPUs with IBT; the test-bed
 * config leaves it off, and QEMU TCG does not emulate IBT.
 */
#include "kptw_test.h"

#include <linux/kprobes.h>
#include <linux/seq_file.h>

struct mm_struct *kptw_init_mm;
struct kptw_syms kptw_syms;

/*
 * Without CONFIG_KALLSYMS_ALL kallsyms lists no variable: the loader gives
 * init_mm's address instead, from System.map moved by the KASLR offset
 * that a text symbol in kallsyms shows (tests/vm/guest-kptwatch.sh).
 */
static unsigned long init_mm_addr;
module_param(init_mm_addr, ulong, 0444);
MODULE_PARM_DESC(init_mm_addr, "address of init_mm where kallsyms does not list it");

static unsigned long (*kptw_kallsyms_lookup_name)(const char *name);

static unsigned long kptw_lookup(const char *name)
{
	return kptw_kallsyms_lookup_name(name);
}

/*
 * Redirect wrappers, one per symbol build.sh found unexported; see
 * kptw_test.h. The header's declaration was renamed, so these definitions
 * have exactly the kernel's prototype.
 */
#define KPTW_SLOT(name) (kptw_syms_slot_##name)

#ifdef KPTW_REDIRECT_kernel_pgtable_async_free_dtor
static int KPTW_SLOT(kernel_pgtable_async_free_dtor) = -1;
void kernel_pgtable_async_free_dtor(struct ptdesc *ptdesc)
{
	((void (*)(struct ptdesc *))
	 kptw_syms.redirect[KPTW_SLOT(kernel_pgtable_async_free_dtor)])(ptdesc);
}
#endif

#ifdef KPTW_REDIRECT_pagetable_free_kernel
static int KPTW_SLOT(pagetable_free_kernel) = -1;
void pagetable_free_kernel(struct ptdesc *pt)
{
	((void (*)(struct ptdesc *))
	 kptw_syms.redirect[KPTW_SLOT(pagetable_free_kernel)])(pt);
}
#endif

#ifdef KPTW_REDIRECT_ptlock_alloc
static int KPTW_SLOT(ptlock_alloc) = -1;
bool ptlock_alloc(struct ptdesc *ptdesc)
{
	return ((bool (*)(struct ptdesc *))
		kptw_syms.redirect[KPTW_SLOT(ptlock_alloc)])(ptdesc);
}
#endif

#ifdef KPTW_REDIRECT_ptlock_free
static int KPTW_SLOT(ptlock_free) = -1;
void ptlock_free(struct ptdesc *ptdesc)
{
	((void (*)(struct ptdesc *))
	 kptw_syms.redirect[KPTW_SLOT(ptlock_free)])(ptdesc);
}
#endif

/*
 * Does mm look like init_mm? Its top table must be readable and map the
 * kernel image (the last top entry) as the loader's own mm does: every
 * mm shares the kernel half.
 */
static bool kptw_is_init_mm(struct mm_struct *mm)
{
	pgd_t *pgd, e;

	if (!current->mm || copy_from_kernel_nofault(&pgd, &mm->pgd, sizeof(pgd)) ||
	    copy_from_kernel_nofault(&e, pgd + PTRS_PER_PGD - 1, sizeof(e)))
		return false;
	return pgd_val(e) && pgd_val(e) == pgd_val(current->mm->pgd[PTRS_PER_PGD - 1]);
}

/* Resolve one redirect target; a miss makes pte_kernel unsupported. */
static void __maybe_unused kptw_redirect(const char *name, int *slot)
{
	unsigned long addr = kptw_lookup(name);
	int i = kptw_syms.nr_redirect;

	if (!addr) {
		if (!kptw_syms.pte_missing)
			kptw_syms.pte_missing = name;
		return;
	}
	kptw_syms.redirect[i] = (void (*)(void))addr;
	kptw_syms.redirect_name[i] = name;
	kptw_syms.nr_redirect++;
	*slot = i;
}

int kptw_syms_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("kptwatch_test: cannot resolve kallsyms_lookup_name through a kprobe: %d\n",
		       ret);
		return ret;
	}
	kptw_kallsyms_lookup_name = (void *)kp.addr;
	unregister_kprobe(&kp);

	/* Every mode walks or allocates against init_mm: without it, no load. */
	kptw_init_mm = (struct mm_struct *)kptw_lookup("init_mm");
	if (!kptw_init_mm && init_mm_addr) {
		/* a wrong address would be used as init_mm: check it first */
		if (!kptw_is_init_mm((struct mm_struct *)init_mm_addr)) {
			pr_err("kptwatch_test: init_mm_addr=%#lx is not init_mm\n", init_mm_addr);
			return -EINVAL;
		}
		kptw_init_mm = (struct mm_struct *)init_mm_addr;
	}
	if (!kptw_init_mm) {
		pr_err("kptwatch_test: init_mm not in kallsyms (CONFIG_KALLSYMS_ALL=n?): give init_mm_addr=\n");
		return -ENOENT;
	}

	kptw_syms.get_vm_area = (void *)kptw_lookup("get_vm_area");
	kptw_syms.ioremap_page_range = (void *)kptw_lookup("ioremap_page_range");
	kptw_syms.vunmap_range = (void *)kptw_lookup("vunmap_range");
	if (!kptw_syms.get_vm_area)
		kptw_syms.vmap_missing = "get_vm_area";
	else if (!kptw_syms.ioremap_page_range)
		kptw_syms.vmap_missing = "ioremap_page_range";
	else if (!kptw_syms.vunmap_range)
		kptw_syms.vmap_missing = "vunmap_range";

	/*
	 * The pte modes link a table under their own area
	 * (apply_to_page_range(), exported) and unlink it themselves, as
	 * pmd_free_pte_page() does: they need the area and the TLB flush.
	 */
	kptw_syms.flush_kernel_range = (void *)kptw_lookup("flush_tlb_kernel_range");
	/* cpa_err: NULL makes that mode alone unsupported (cpa.c) */
	kptw_syms.cpa_set_clr = (void *)kptw_lookup("__change_page_attr_set_clr");
	if (!kptw_syms.get_vm_area)
		kptw_syms.pte_link_missing = "get_vm_area";
	else if (!kptw_syms.flush_kernel_range)
		kptw_syms.pte_link_missing = "flush_tlb_kernel_range";

#ifdef KPTW_REDIRECT_kernel_pgtable_async_free_dtor
	kptw_redirect("kernel_pgtable_async_free_dtor",
		      &KPTW_SLOT(kernel_pgtable_async_free_dtor));
#endif
#ifdef KPTW_REDIRECT_pagetable_free_kernel
	kptw_redirect("pagetable_free_kernel", &KPTW_SLOT(pagetable_free_kernel));
#endif
#ifdef KPTW_REDIRECT_ptlock_alloc
	kptw_redirect("ptlock_alloc", &KPTW_SLOT(ptlock_alloc));
#endif
#ifdef KPTW_REDIRECT_ptlock_free
	kptw_redirect("ptlock_free", &KPTW_SLOT(ptlock_free));
#endif
	return 0;
}

void kptw_syms_show(struct seq_file *m)
{
	int i;

	seq_puts(m, "redirected_syms=");
	for (i = 0; i < kptw_syms.nr_redirect; i++)
		seq_printf(m, "%s%s", i ? "," : "", kptw_syms.redirect_name[i]);
	seq_puts(m, kptw_syms.nr_redirect ? "\n" : "none\n");
}

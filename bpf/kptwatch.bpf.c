// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The real attach points: thin wrappers that decode arguments and call the
 * rule (rule.bpf.h) through the decoders (decode.bpf.h). Each point comes
 * as fentry/fexit and as kprobe/kretprobe; user space picks one flavour
 * per point (set_autoload) and retargets fentry programs with
 * bpf_program__set_attach_target() when the kernel names the function
 * differently. kprobes carry no target: user space attaches them to the
 * kallsyms name it resolved (free_pagetable.constprop.0 and the like).
 */
#include "decode.bpf.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/*
 * free_pagetable() took (page, order) until upstream dropped the order
 * (7.x: free_pagetable(page)). fentry asks the trampoline how many
 * arguments there are; a kprobe cannot, so user space clears this knob
 * when BTF shows the one-argument form.
 */
const volatile bool free_pagetable_has_order = true;

#define KPT_MAX_ORDER	10	/* x86 MAX_PAGE_ORDER */

static __always_inline __u64 kpt_task(void)
{
	return bpf_get_current_pid_tgid();
}

static __always_inline __s32 kpt_stack(void *ctx)
{
	return bpf_get_stackid(ctx, &stacks, 0);
}

/*
 * Programs return 0 whatever the rule made of the event: 6.12's verifier
 * insists on it for fentry/fexit, and nothing reads it elsewhere.
 *
 * Shared bodies; ctx is only used for the stack. Every enqueue point
 * hands over order-0 ptdescs except kernel_pgtable_async_free_pages().
 */
static __always_inline int on_ptdesc(void *ctx, __u64 pt, __u32 order,
				     __u32 point)
{
	return kpt_point_page(bpf_ktime_get_ns(), kpt_task(), pt, order, point,
			      kpt_stack(ctx));
}

static __always_inline int on_ptdesc_list(void *ctx, __u64 head, __u32 point)
{
	return kpt_point_ptdesc_list(bpf_ktime_get_ns(), kpt_task(), head,
				     point, kpt_stack(ctx));
}

static __always_inline int on_pmd_free_pte_page(void *ctx, __u64 pmd,
						__u64 addr)
{
	__u64 val = 0;

	if (bpf_probe_read_kernel(&val, sizeof(val), (void *)pmd)) {
		kpt_count(KPT_C_WALK_TRUNC);
		return 0;
	}
	return kpt_point_pmd_entry(bpf_ktime_get_ns(), kpt_task(), val, addr,
				   KPT_PT_PMD_FREE_PTE_PAGE, kpt_stack(ctx));
}

static __always_inline int on_pud_free_pmd_page(void *ctx, __u64 pud,
						__u64 addr)
{
	__u64 val = 0;

	if (bpf_probe_read_kernel(&val, sizeof(val), (void *)pud)) {
		kpt_count(KPT_C_WALK_TRUNC);
		return 0;
	}
	return kpt_point_pmd_table(bpf_ktime_get_ns(), kpt_task(), val,
				   kpt_pud_table_va(val), addr,
				   KPT_PT_PUD_FREE_PMD_PAGE, kpt_stack(ctx));
}

static __always_inline int on_page_free(void *ctx, __u64 page, __u32 order)
{
	__u64 pfn = kpt_page_to_pfn(page);

	/* Never true with the right vmemmap_base: say so if it happens. */
	if (pfn == KPT_PFN_INVALID) {
		kpt_count(KPT_C_WALK_TRUNC);
		return 0;
	}
	kpt_rule_page_free(ctx, bpf_ktime_get_ns(), kpt_task(), pfn,
			   order, KPT_STACK_LAZY);
	return 0;
}

/*
 * fentry / fexit. Arguments come through bpf_get_func_arg() as plain
 * numbers: read straight from ctx, a pointer argument is a trusted BTF
 * pointer to the verifier, which refuses the arithmetic page -> pfn needs.
 */

static __always_inline __u64 kpt_arg(__u64 *ctx, __u32 n)
{
	__u64 v = 0;

	bpf_get_func_arg(ctx, n, &v);
	return v;
}

SEC("fentry/kernel_pgtable_async_free_dtor")
int fentry_async_free_dtor(__u64 *ctx)
{
	on_ptdesc(ctx, kpt_arg(ctx, 0), 0, KPT_PT_ASYNC_FREE_DTOR);
	return 0;
}

SEC("fentry/kernel_pgtable_async_free_page_list")
int fentry_async_free_page_list(__u64 *ctx)
{
	on_ptdesc_list(ctx, kpt_arg(ctx, 0), KPT_PT_ASYNC_FREE_LIST);
	return 0;
}

SEC("fentry/kernel_pgtable_async_free_pages")
int fentry_async_free_pages(__u64 *ctx)
{
	on_ptdesc(ctx, kpt_arg(ctx, 0), (__u32)kpt_arg(ctx, 1),
		  KPT_PT_ASYNC_FREE_PAGES);
	return 0;
}

SEC("fentry/pagetable_free_kernel")
int fentry_pagetable_free_kernel(__u64 *ctx)
{
	on_ptdesc(ctx, kpt_arg(ctx, 0), 0, KPT_PT_PAGETABLE_FREE_KERNEL);
	return 0;
}

SEC("fentry/pmd_free_pte_page")
int fentry_pmd_free_pte_page(__u64 *ctx)
{
	on_pmd_free_pte_page(ctx, kpt_arg(ctx, 0), kpt_arg(ctx, 1));
	return 0;
}

SEC("fentry/pud_free_pmd_page")
int fentry_pud_free_pmd_page(__u64 *ctx)
{
	on_pud_free_pmd_page(ctx, kpt_arg(ctx, 0), kpt_arg(ctx, 1));
	return 0;
}

SEC("fentry/free_pagetable")
int fentry_free_pagetable(__u64 *ctx)
{
	__u64 page = 0, order = 0;

	if (bpf_get_func_arg(ctx, 0, &page))
		return 0;
	if (bpf_get_func_arg(ctx, 1, &order))
		order = 0;	/* 7.x free_pagetable(page): order 0 */
	on_ptdesc(ctx, page, (__u32)order, KPT_PT_FREE_PAGETABLE);
	return 0;
}

SEC("fentry/kernel_pgtable_work_func")
int fentry_work_func(__u64 *ctx)
{
	kpt_rule_drain_begin(bpf_ktime_get_ns(), kpt_task());
	return 0;
}

SEC("fexit/kernel_pgtable_work_func")
int fexit_work_func(__u64 *ctx)
{
	kpt_rule_drain_end(bpf_ktime_get_ns(), kpt_task());
	return 0;
}

SEC("fentry/iommu_sva_invalidate_kva_range")
int fentry_inval(__u64 *ctx)
{
	kpt_rule_inval_begin(bpf_ktime_get_ns(), kpt_task(),
			     kpt_arg(ctx, 0), kpt_arg(ctx, 1));
	return 0;
}

SEC("fexit/iommu_sva_invalidate_kva_range")
int fexit_inval(__u64 *ctx)
{
	kpt_rule_inval_end(bpf_ktime_get_ns(), kpt_task());
	return 0;
}

/* kprobe / kretprobe: same coverage where the kernel refuses fentry */

SEC("kprobe")
int BPF_KPROBE(kprobe_async_free_dtor, struct ptdesc *pt)
{
	on_ptdesc(ctx, (__u64)pt, 0, KPT_PT_ASYNC_FREE_DTOR);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_async_free_page_list, struct list_head *list)
{
	on_ptdesc_list(ctx, (__u64)list, KPT_PT_ASYNC_FREE_LIST);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_async_free_pages, struct page *page, int order)
{
	on_ptdesc(ctx, (__u64)page, order, KPT_PT_ASYNC_FREE_PAGES);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_pagetable_free_kernel, struct ptdesc *pt)
{
	on_ptdesc(ctx, (__u64)pt, 0, KPT_PT_PAGETABLE_FREE_KERNEL);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_pmd_free_pte_page, void *pmd, unsigned long addr)
{
	on_pmd_free_pte_page(ctx, (__u64)pmd, addr);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_pud_free_pmd_page, void *pud, unsigned long addr)
{
	on_pud_free_pmd_page(ctx, (__u64)pud, addr);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_free_pagetable, struct page *page, int order)
{
	/*
	 * A stray register is no order; the rule matches by first pfn, so
	 * a wrong order only mislabels what is reported, never the verdict.
	 */
	if (!free_pagetable_has_order || order < 0 || order > KPT_MAX_ORDER)
		order = 0;
	on_ptdesc(ctx, (__u64)page, order, KPT_PT_FREE_PAGETABLE);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_work_func, void *work)
{
	kpt_rule_drain_begin(bpf_ktime_get_ns(), kpt_task());
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_work_func)
{
	kpt_rule_drain_end(bpf_ktime_get_ns(), kpt_task());
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_inval, unsigned long start, unsigned long end)
{
	kpt_rule_inval_begin(bpf_ktime_get_ns(), kpt_task(), start, end);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_inval)
{
	kpt_rule_inval_end(bpf_ktime_get_ns(), kpt_task());
	return 0;
}

/* The final free: every buddy free passes kmem:mm_page_free. */

SEC("tp_btf/mm_page_free")
int tp_btf_page_free(__u64 *ctx)
{
	__u64 page = 0;

	/* As a number, like kpt_arg(): no trampoline here to ask. */
	if (bpf_probe_read_kernel(&page, sizeof(page), &ctx[0]))
		return 0;
	on_page_free(ctx, page, (__u32)ctx[1]);
	return 0;
}

/* raw_tp arguments are untyped: plain numbers already. */
SEC("raw_tp/mm_page_free")
int raw_tp_page_free(__u64 *ctx)
{
	on_page_free(ctx, ctx[0], (__u32)ctx[1]);
	return 0;
}

/*
 * Run once by user space after load (BPF_PROG_RUN; syscall programs since
 * 79a7f8bdb159 ("bpf: Introduce bpf_sys_bpf() helper and program type."),
 * v5.14): the layout bases the decoders will use, read the way they read
 * them, so that 'probe' can show them and user space can refuse values
 * that are no layout base at all (a System.map of another kernel).
 */
__u64 layout_vmemmap_base, layout_page_offset;

SEC("syscall")
int layout_read(void *ctx)
{
	layout_vmemmap_base = kpt_vmemmap_base();
	layout_page_offset = kpt_page_offset();
	return 0;
}

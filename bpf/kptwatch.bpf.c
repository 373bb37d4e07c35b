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
#include "walk.bpf.h"
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

/*
 * The hand-over's stack, unless the run does not report it. A free
 * point's unlink is a hand-over too (a report names it on that side), and
 * its stack costs as much: pmd_free_pte_page() once took 20-30 us of TCG
 * time per call unwinding, 85% of its program, for a stack only a
 * violation shows, whose "freed by" stack already holds the caller when
 * the free point frees at once.
 */
static __always_inline __s32 kpt_q_stack(void *ctx)
{
	return capture_q_stack ? kpt_capture_q_stack(ctx) : KPT_STACK_NONE;
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
			      kpt_q_stack(ctx));
}

static __always_inline int on_ptdesc_list(void *ctx, __u64 head, __u32 point)
{
	return kpt_point_ptdesc_list(bpf_ktime_get_ns(), kpt_task(), head,
				     point, kpt_q_stack(ctx));
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
				   KPT_PT_PMD_FREE_PTE_PAGE, kpt_q_stack(ctx));
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
				   KPT_PT_PUD_FREE_PMD_PAGE, kpt_q_stack(ctx));
}

static __always_inline int on_page_free(void *ctx, __u64 page, __u32 order)
{
	__u64 pfn = kpt_page_to_pfn(page);

	/* Never true with the right vmemmap_base: say so if it happens. */
	if (pfn == KPT_PFN_INVALID) {
		kpt_count(KPT_C_WALK_TRUNC);
		return 0;
	}
	/* the clock and the task only for the few pages worth judging */
	if (kpt_rule_free_watched(pfn))
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

SEC("fentry/kernel_pgtable_async_free")
int fentry_async_free(__u64 *ctx)
{
	on_ptdesc(ctx, kpt_arg(ctx, 0), 0, KPT_PT_ASYNC_FREE);
	return 0;
}

SEC("fentry/kernel_pgtable_async_free_bootmem")
int fentry_async_free_bootmem(__u64 *ctx)
{
	on_ptdesc(ctx, kpt_arg(ctx, 0), 0, KPT_PT_ASYNC_FREE_BOOTMEM);
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
	kpt_point_free_pagetable(bpf_ktime_get_ns(), kpt_task(), page, (__u32)order,
				 kpt_q_stack(ctx));
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
int BPF_KPROBE(kprobe_async_free, struct ptdesc *pt)
{
	on_ptdesc(ctx, (__u64)pt, 0, KPT_PT_ASYNC_FREE);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_async_free_bootmem, struct page *page)
{
	on_ptdesc(ctx, (__u64)page, 0, KPT_PT_ASYNC_FREE_BOOTMEM);
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
	 * A stray register is no order. It can only make a table look like
	 * vmemmap data and go unnoted: the table is still known, so a free
	 * without a flush is still a violation, named "unnamed path".
	 */
	if (!free_pagetable_has_order || order < 0 || order > KPT_MAX_ORDER)
		order = 0;
	kpt_point_free_pagetable(bpf_ktime_get_ns(), kpt_task(), (__u64)page, order,
				 kpt_q_stack(ctx));
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

/*
 * Link points: where a kernel page table is installed after the walk.
 * The new entry is read once the function has populated it. fexit sees
 * the arguments and the return value together, so the fentry flavour is
 * one program; a kretprobe has no arguments, so the kprobe flavour keeps
 * them per task from its entry half. Both run link_learn().
 */
enum kpt_link_kind {
	KPT_LK_PTE = 1,		/* __pte_alloc_kernel(pmd): a PTE table */
	KPT_LK_PMD,		/* __pmd_alloc(mm, pud, addr): a PMD table */
	KPT_LK_PUD,		/* __pud_alloc(mm, p4d, addr): a PUD table */
	KPT_LK_P4D,		/* __p4d_alloc(mm, pgd, addr): a P4D table */
	KPT_LK_LOW,		/* alloc_low_pages(num): num direct-map tables */
};

struct kpt_link_arg {
	__u64 kind;
	__u64 arg;		/* entry address, or the page count */
	__u64 addr;		/* an address the new table maps, 0 if not given */
};

/*
 * The entry half's arguments, kept for the return half in the task's own
 * storage: a hash keyed by task cost an insert at entry and a lookup and
 * a delete at return, on every table the kernel links (bench --mode
 * vmap_pmd on 7.3: 2.5 + 4.8 us of TCG time per link). kind 0: empty.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kpt_link_arg);
} link_args SEC(".maps");

#define KPT_LOW_MAX	64	/* tables learned per alloc_low_pages() */

/* What a link call installs, false for a user mm's table. */
static __always_inline bool link_arg(__u64 kind, __u64 arg, __u64 addr,
				     struct kpt_link_arg *a)
{
	a->kind = kind;
	a->arg = arg;
	a->addr = 0;
	if (kind == KPT_LK_PTE || kind == KPT_LK_LOW)
		return true;
	/* init_mm's tables only: the kernel half of the address space */
	a->addr = addr;
	return addr >> 63;
}

struct kpt_low_walk {
	__u64 now;
	__u64 pfn;
};

static long link_low_step(__u32 i, void *data)
{
	struct kpt_low_walk *w = data;

	kpt_rule_learn(w->now, w->pfn + i, 0, KPT_TS_LINK, 0);
	return 0;
}

static __always_inline void link_learn(const struct kpt_link_arg *a, long ret)
{
	struct kpt_low_walk lw;
	__u64 e = 0, pfn, base, va;

	if (a->kind == KPT_LK_LOW) {
		base = kpt_page_offset();
		if (!ret || !base || (__u64)ret < base) {
			if (ret)
				kpt_count(KPT_C_WALK_TRUNC);
			return;
		}
		lw.now = bpf_ktime_get_ns();
		lw.pfn = ((__u64)ret - base) >> KPT_PAGE_SHIFT;
		bpf_loop(a->arg < KPT_LOW_MAX ? a->arg : KPT_LOW_MAX, link_low_step, &lw, 0);
		if (a->arg > KPT_LOW_MAX)
			kpt_count(KPT_C_WALK_TRUNC);
		return;
	}
	if (ret)
		return;		/* -ENOMEM: nothing was installed */
	if (bpf_probe_read_kernel(&e, sizeof(e), (void *)a->arg)) {
		kpt_count(KPT_C_WALK_TRUNC);
		return;
	}
	/* Another CPU may have won the race: its table is the one linked. */
	pfn = kpt_entry_table(e, a->kind <= KPT_LK_PMD);
	/* the kinds are numbered as the levels of the tables they link */
	if (pfn == KPT_PFN_INVALID || a->kind > KPT_LK_P4D)
		return;
	va = a->kind == KPT_LK_PTE ? kpt_link_va(kpt_page_offset(), a->arg, KPT_LVL_PTE) :
				     a->addr;
	kpt_rule_learn(bpf_ktime_get_ns(), pfn, a->kind, KPT_TS_LINK, va);
}

static __always_inline void link_enter(__u64 kind, __u64 arg, __u64 addr)
{
	struct kpt_link_arg a, *ap;

	if (!link_arg(kind, arg, addr, &a))
		return;
	ap = bpf_task_storage_get(&link_args, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ap) {
		kpt_count(KPT_C_MAP_FULL);	/* no memory for it */
		return;
	}
	*ap = a;
}

static __always_inline void link_exit(long ret)
{
	struct kpt_link_arg *ap, a;

	ap = bpf_task_storage_get(&link_args, bpf_get_current_task_btf(), NULL, 0);
	if (!ap || !ap->kind)
		return;		/* a user mm, or the entry was not seen */
	a = *ap;
	ap->kind = 0;
	link_learn(&a, ret);
}

#define KPT_LINK_POINT(name, func, kind, argn)				\
SEC("fexit/" #func)							\
int fexit_##name(__u64 *ctx)						\
{									\
	struct kpt_link_arg a;						\
	__u64 ret = 0;							\
									\
	if (!link_arg(kind, kpt_arg(ctx, argn), kpt_arg(ctx, 2), &a))	\
		return 0;						\
	bpf_get_func_ret(ctx, &ret);					\
	link_learn(&a, (long)ret);					\
	return 0;							\
}									\
SEC("kprobe")								\
int kprobe_##name(struct pt_regs *ctx)					\
{									\
	__u64 args[3] = { PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx),	\
			  PT_REGS_PARM3(ctx) };				\
									\
	link_enter(kind, args[argn], args[2]);				\
	return 0;							\
}									\
SEC("kretprobe")							\
int kretprobe_##name(struct pt_regs *ctx)				\
{									\
	link_exit((long)PT_REGS_RC(ctx));				\
	return 0;							\
}

KPT_LINK_POINT(pte_alloc_kernel, __pte_alloc_kernel, KPT_LK_PTE, 0)
KPT_LINK_POINT(pmd_alloc, __pmd_alloc, KPT_LK_PMD, 1)
KPT_LINK_POINT(pud_alloc, __pud_alloc, KPT_LK_PUD, 1)
KPT_LINK_POINT(p4d_alloc, __p4d_alloc, KPT_LK_P4D, 1)
KPT_LINK_POINT(alloc_low_pages, alloc_low_pages, KPT_LK_LOW, 0)

/* The final free: every buddy free passes kmem:mm_page_free. */

/*
 * The kernel does not run a tracing program that is already running on
 * the CPU: a page freed in an interrupt that lands while the page-free
 * program runs is skipped for it (a recursion miss). The _nest programs,
 * attached after the main ones, see every free too. The main program
 * stamps the page it is called for first thing, so a _nest run that
 * finds its page stamped knows the main program has it; any other page
 * is one the main program was skipped for, and _nest judges it. An
 * interrupt between the two programs of one free can make _nest judge a
 * page the main program already judged: the rule finds nothing left to
 * judge then. A free is lost only if both are skipped for it; user space
 * counts those as the main program's misses less nested_free.
 *
 * The stamps, per CPU: the page the main program runs for, and the _nest
 * program's own. Each program writes its argument here and reads it back: a
 * tp_btf argument is a typed pointer the verifier allows no pfn
 * arithmetic on, and through memory it is a plain number, for a store
 * and a load where bpf_probe_read_kernel() cost a helper call on every
 * page the system frees (user-page churn, TCG: 219-327 + 189-214 ns per
 * free before, 113-128 + 72-75 after; docs/benchmarks.md, run J). raw_tp's
 * are numbers already; they take the same path.
 */
struct kpt_free_stamp {
	__u64 main;
	__u64 nest;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpt_free_stamp);
} page_free_stamp SEC(".maps");

static __always_inline void page_free_main(__u64 *ctx)
{
	struct kpt_free_stamp *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&page_free_stamp, &zero);
	if (!s)
		return;
	s->main = ctx[0];
	on_page_free(ctx, KPT_READ_ONCE(s->main), (__u32)ctx[1]);
}

static __always_inline void page_free_nest(__u64 *ctx)
{
	struct kpt_free_stamp *s;
	__u32 zero = 0;
	__u64 page;

	s = bpf_map_lookup_elem(&page_free_stamp, &zero);
	if (!s)
		return;
	s->nest = ctx[0];
	page = KPT_READ_ONCE(s->nest);
	if (page == KPT_READ_ONCE(s->main))
		return;		/* the main program has this one */
	kpt_count(KPT_C_NESTED_FREE);
	on_page_free(ctx, page, (__u32)ctx[1]);
}

SEC("tp_btf/mm_page_free")
int tp_btf_page_free(__u64 *ctx)
{
	page_free_main(ctx);
	return 0;
}

SEC("tp_btf/mm_page_free")
int tp_btf_page_free_nest(__u64 *ctx)
{
	page_free_nest(ctx);
	return 0;
}

SEC("raw_tp/mm_page_free")
int raw_tp_page_free(__u64 *ctx)
{
	page_free_main(ctx);
	return 0;
}

SEC("raw_tp/mm_page_free")
int raw_tp_page_free_nest(__u64 *ctx)
{
	page_free_nest(ctx);
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

/* hist -i's reading while attached (snapshot.bpf.h) */
#include "snapshot.bpf.h"

SEC("syscall")
int snapshot(void *ctx)
{
	return kpt_snapshot();
}

/*
 * Run once by user space right after everything is attached: learn the
 * tables that exist. The current task's top table shares its kernel half
 * with init_mm's, so no data symbol is needed to find it.
 */
__s64 walk_result;		/* tables found, -1: incomplete */

SEC("syscall")
int table_walk(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 base = kpt_page_offset();
	__u64 top = (__u64)BPF_CORE_READ(task, mm, pgd);

	walk_result = kpt_walk_kernel(bpf_ktime_get_ns(), top, base,
				      base && base < KPT_L4_KERNEL_START);
	return 0;
}

/*
 * CPA's large-page splits (split.bpf.h): __change_page_attr_set_clr()
 * links the tables it splits off itself, past every link point. Its exit
 * walks the range it changed. fexit alone: the arguments are still there
 * at the exit, and a fentry would only add a trampoline call to a
 * function DEBUG_PAGEALLOC runs for every page. Not critical: without it
 * such tables are judged only when handed to the deferral, as before.
 */
#include "split.bpf.h"

static __always_inline void on_cpa_exit(__u64 cpa)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	/* any mm's top table: the kernel half is init_mm's, shared */
	__u64 top = (__u64)BPF_CORE_READ(task, active_mm, pgd);
	__u64 base = kpt_page_offset();

	/* the clock only for a table learned: nearly every call learns none */
	kpt_split_cpa(0, cpa, top, base, base && base < KPT_L4_KERNEL_START);
}

SEC("fexit/__change_page_attr_set_clr")
int fexit_cpa_split(__u64 *ctx)
{
	on_cpa_exit(kpt_arg(ctx, 0));
	return 0;
}

/*
 * The kprobe flavour has no arguments at the return: the entry keeps cpa
 * per task. A stack, as the function calls itself for the range's
 * direct-map alias; an interrupt's call (DEBUG_PAGEALLOC) nests whole
 * within the task's. Every CPU's idle task is pid 0: keyed by CPU.
 */
#define KPT_CPA_DEPTH	4

struct kpt_cpa_stack {
	__u64 cpa[KPT_CPA_DEPTH];
	__u32 depth;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct kpt_cpa_stack);
} cpa_args SEC(".maps");

static __always_inline __u64 cpa_task(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	return (__u32)id ? id : (1ULL << 63) | bpf_get_smp_processor_id();
}

SEC("kprobe")
int BPF_KPROBE(kprobe_cpa_split, void *cpa)
{
	struct kpt_cpa_stack zero = {}, *s;
	__u64 task = cpa_task();

	s = bpf_map_lookup_elem(&cpa_args, &task);
	if (!s) {
		if (bpf_map_update_elem(&cpa_args, &task, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&cpa_args, &task)) {
			kpt_count(KPT_C_MAP_FULL);
			return 0;
		}
		s = bpf_map_lookup_elem(&cpa_args, &task);
		if (!s)
			return 0;
	}
	if (s->depth < KPT_CPA_DEPTH)
		s->cpa[s->depth] = (__u64)cpa;
	s->depth++;
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_cpa_split)
{
	__u64 task = cpa_task(), cpa;
	struct kpt_cpa_stack *s;
	__u32 d;

	s = bpf_map_lookup_elem(&cpa_args, &task);
	if (!s || !s->depth)
		return 0;	/* the entry was missed: attached meanwhile */
	d = --s->depth;
	cpa = d < KPT_CPA_DEPTH ? s->cpa[d] : 0;
	if (!d)
		bpf_map_delete_elem(&cpa_args, &task);
	if (!cpa) {
		kpt_count(KPT_C_WALK_TRUNC);	/* deeper than kept */
		return 0;
	}
	on_cpa_exit(cpa);
	return 0;
}

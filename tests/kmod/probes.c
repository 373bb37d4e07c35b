// SPDX-License-Identifier: GPL-2.0
/*
 * kptwatch_test: count page-table frees from the kernel's side.
 *
 * The module must not report its own belief that a table was freed. Two
 * kernel-side sources are used instead:
 *
 *  - kretprobes on pmd_free_pte_page() and pud_free_pmd_page(): the kernel's
 *    own return value says whether it detached and freed (or, with the
 *    deferral, queued) the lower table. A call that returned 1 is credited to
 *    the registered window holding its address argument.
 *  - the kmem:mm_page_free tracepoint, which every buddy free passes: a
 *    page-table page the module saw in use is counted when it really goes
 *    back to the allocator, so a deferred free that never drains shows up
 *    as pending instead of passing.
 */
#include "kptw_test.h"

#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/xarray.h>

/* Registered windows; read locklessly by the kretprobe handlers. */
static struct kptw_window *kptw_windows[KPTW_MAX_THREADS];
static DEFINE_SPINLOCK(kptw_windows_lock);

int kptw_window_register(struct kptw_window *w)
{
	int i, ret = -ENOSPC;

	spin_lock(&kptw_windows_lock);
	for (i = 0; i < KPTW_MAX_THREADS; i++) {
		if (!kptw_windows[i]) {
			WRITE_ONCE(kptw_windows[i], w);
			ret = 0;
			break;
		}
	}
	spin_unlock(&kptw_windows_lock);
	return ret;
}

void kptw_window_unregister(struct kptw_window *w)
{
	int i;

	spin_lock(&kptw_windows_lock);
	for (i = 0; i < KPTW_MAX_THREADS; i++)
		if (kptw_windows[i] == w)
			WRITE_ONCE(kptw_windows[i], NULL);
	spin_unlock(&kptw_windows_lock);
	/*
	 * A handler running on another CPU may still hold the pointer; it only
	 * matches addresses inside the window, which only its owner (this
	 * thread) maps, so it cannot credit it any more. Wait anyway so the
	 * caller may free or reuse w.
	 */
	synchronize_rcu();
}

static struct kptw_window *kptw_window_of(unsigned long addr)
{
	struct kptw_window *w;
	int i;

	for (i = 0; i < KPTW_MAX_THREADS; i++) {
		w = READ_ONCE(kptw_windows[i]);
		if (w && addr >= w->start && addr - w->start < w->size)
			return w;
	}
	return NULL;
}

struct kptw_rp {
	struct kretprobe rp;
	int level;			/* 0: pmd_free_pte_page, 1: pud_free_pmd_page */
	atomic_long_t calls;
	atomic_long_t freed;
	int err;
};

static int kptw_rp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	/* Both functions take (entry pointer, unsigned long addr). */
	*(unsigned long *)ri->data = regs_get_kernel_argument(regs, 1);
	return 0;
}

static int kptw_rp_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kptw_rp *p = container_of(get_kretprobe(ri), struct kptw_rp, rp);
	unsigned long addr = *(unsigned long *)ri->data;
	struct kptw_window *w;

	atomic_long_inc(&p->calls);
	if (regs_return_value(regs) != 1)
		return 0;
	atomic_long_inc(&p->freed);
	w = kptw_window_of(addr);
	if (w)
		atomic_long_inc(p->level ? &w->pmd_page_freed : &w->pte_page_freed);
	return 0;
}

static struct kptw_rp kptw_rps[2] = {
	{
		.rp = {
			.kp.symbol_name = "pmd_free_pte_page",
			.entry_handler = kptw_rp_entry,
			.handler = kptw_rp_ret,
			.data_size = sizeof(unsigned long),
		},
		.level = 0,
	},
	{
		.rp = {
			.kp.symbol_name = "pud_free_pmd_page",
			.entry_handler = kptw_rp_entry,
			.handler = kptw_rp_ret,
			.data_size = sizeof(unsigned long),
		},
		.level = 1,
	},
};

void kptw_probe_stats(int level, struct kptw_probe_stats *st)
{
	struct kptw_rp *p = &kptw_rps[level];

	st->calls = atomic_long_read(&p->calls);
	st->freed = atomic_long_read(&p->freed);
	st->nmissed = p->err ? 0 : p->rp.nmissed;
	st->err = p->err;
}

/*
 * The pfn watch. Values are xa_mk_value(slot). Stored from process context
 * before the kernel can free the page; erased by the tracepoint probe, which
 * may run with interrupts off, hence the irqsave lock.
 */
static DEFINE_XARRAY_FLAGS(kptw_watch, XA_FLAGS_LOCK_IRQ);
static atomic_t kptw_watch_nr = ATOMIC_INIT(0);
static atomic_long_t kptw_watch_added_nr[KPTW_MAX_THREADS];
static atomic_long_t kptw_watch_reached_nr[KPTW_MAX_THREADS];
static struct tracepoint *kptw_tp_page_free;
static int kptw_tp_err;

static void kptw_page_free_probe(void *data, struct page *page,
				 unsigned int order)
{
	unsigned long pfn, i, flags;
	void *e;

	if (!atomic_read(&kptw_watch_nr))
		return;
	pfn = page_to_pfn(page);
	for (i = 0; i < (1UL << order); i++) {
		if (!xa_load(&kptw_watch, pfn + i))
			continue;
		xa_lock_irqsave(&kptw_watch, flags);
		e = __xa_erase(&kptw_watch, pfn + i);
		xa_unlock_irqrestore(&kptw_watch, flags);
		if (!e)
			continue;
		atomic_dec(&kptw_watch_nr);
		atomic_long_inc(&kptw_watch_reached_nr[xa_to_value(e)]);
	}
}

int kptw_watch_add(unsigned long pfn, unsigned int slot)
{
	void *old;

	if (kptw_tp_err)
		return 0;
	old = xa_store_irq(&kptw_watch, pfn, xa_mk_value(slot), GFP_KERNEL);
	if (xa_is_err(old))
		return xa_err(old);
	/*
	 * A pfn still watched was never seen freed yet is in use again: the
	 * probe missed a free. Count it as it happened; it stays pending.
	 */
	if (!old)
		atomic_inc(&kptw_watch_nr);
	atomic_long_inc(&kptw_watch_added_nr[slot]);
	return 0;
}

long kptw_watch_added(unsigned int slot)
{
	return atomic_long_read(&kptw_watch_added_nr[slot]);
}

long kptw_watch_reached(unsigned int slot)
{
	return atomic_long_read(&kptw_watch_reached_nr[slot]);
}

long kptw_watch_pending(unsigned int slot)
{
	unsigned long pfn;
	long n = 0;
	void *e;

	xa_for_each(&kptw_watch, pfn, e)
		if (xa_to_value(e) == slot)
			n++;
	return n;
}

/* Drop what a slot still watches: a page never freed must not leak into the next run. */
void kptw_watch_forget(unsigned int slot)
{
	unsigned long pfn;
	void *e;

	xa_for_each(&kptw_watch, pfn, e) {
		if (xa_to_value(e) != slot)
			continue;
		if (xa_cmpxchg_irq(&kptw_watch, pfn, e, NULL, 0) == e)
			atomic_dec(&kptw_watch_nr);
	}
}

void kptw_watch_reset(unsigned int slot)
{
	kptw_watch_forget(slot);
	atomic_long_set(&kptw_watch_added_nr[slot], 0);
	atomic_long_set(&kptw_watch_reached_nr[slot], 0);
}

int kptw_watch_err(void)
{
	return kptw_tp_err;
}

static void kptw_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "mm_page_free"))
		*(struct tracepoint **)priv = tp;
}

int kptw_probes_init(void)
{
	int i;

	/*
	 * A missing kretprobe is not fatal: the vmap modes still run and the
	 * stats say why the kernel-side count is absent, so a check fails
	 * loudly instead of the module refusing to load.
	 */
	for (i = 0; i < ARRAY_SIZE(kptw_rps); i++) {
		/* Sleeping callers hold instances; leave room for every CPU twice. */
		kptw_rps[i].rp.maxactive = 4 * num_possible_cpus() + 16;
		kptw_rps[i].err = register_kretprobe(&kptw_rps[i].rp);
		if (kptw_rps[i].err)
			pr_warn("kptwatch_test: kretprobe on %s: %d\n",
				kptw_rps[i].rp.kp.symbol_name, kptw_rps[i].err);
	}

	for_each_kernel_tracepoint(kptw_find_tp, &kptw_tp_page_free);
	if (!kptw_tp_page_free)
		kptw_tp_err = -ENOENT;
	else
		kptw_tp_err = tracepoint_probe_register(kptw_tp_page_free,
							kptw_page_free_probe, NULL);
	if (kptw_tp_err)
		pr_warn("kptwatch_test: kmem:mm_page_free probe: %d\n", kptw_tp_err);
	return 0;
}

void kptw_probes_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(kptw_rps); i++)
		if (!kptw_rps[i].err)
			unregister_kretprobe(&kptw_rps[i].rp);
	if (!kptw_tp_err) {
		tracepoint_probe_unregister(kptw_tp_page_free,
					    kptw_page_free_probe, NULL);
		tracepoint_synchronize_unregister();
	}
	xa_destroy(&kptw_watch);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kptwatch_test: drive real kernel page-table frees on demand.
 *
 * /sys/kernel/debug/kptwatch_test/run    write a command; the write blocks
 *                                        until the run is over and fails with
 *                                        its error code
 * /sys/kernel/debug/kptwatch_test/stats  key=value lines, see README.md
 *
 * Commands:
 *   vmap_pmd [iters=N]
 *   vmap_pud [iters=N] [leaf=4k|2m]
 *   pte_kernel [iters=N]
 *   pte_bypass [iters=N]
 *   cpa_err			(cpa.c; iters=1 only, no churn)
 *   churn mode=MODE [threads=N] [iters=N] [secs=T] [leaf=4k|2m]
 *   reset
 * and drain_ms=MS on any run: how long to wait for watched page-table pages
 * to reach the page allocator after the run (a deferred free drains late).
 */
#include "kptw_test.h"

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <linux/version.h>

#define KPTW_STATS_VERSION	1
#define KPTW_MAX_ITERS		10000000L
#define KPTW_MAX_SECS		3600

const char *const kptw_mode_name[KPTW_NR_MODES] = {
	[KPTW_VMAP_PMD] = "vmap_pmd",
	[KPTW_VMAP_PUD] = "vmap_pud",
	[KPTW_PTE_KERNEL] = "pte_kernel",
	[KPTW_PTE_BYPASS] = "pte_bypass",
	[KPTW_CPA_ERR] = "cpa_err",
};

/* Results of the last run of one mode, single-threaded or churn. */
struct kptw_result {
	bool valid;
	int status;		/* 0, or the run's error */
	const char *unsupported;
	int threads;
	bool leaf_2m;
	long iters;		/* operations completed */
	long huge;		/* leaf observed after the huge mapping (vmap) */
	long linked;		/* a new PTE table was linked (pte modes) */
	long freed;		/* kernel-side: free fn returned 1 in our window */
	long pt_watched;	/* page-table pages seen in use */
	long pt_freed;		/* ... that reached the page allocator */
	long pt_pending;	/* ... that had not when drain_ms ran out */
	u64 drain_ns;		/* end of run until the last one reached it */
	u64 ns;			/* sum of per-operation time over threads */
	u64 wall_ns;
	struct {
		int cpu;
		long ops;
		long freed;
		long pt_freed;
		u64 ns;
	} t[KPTW_MAX_THREADS];
};

static struct kptw_result kptw_single[KPTW_NR_MODES];
static struct kptw_result kptw_churn;
static enum kptw_mode kptw_churn_mode;
static DEFINE_MUTEX(kptw_run_lock);
static struct dentry *kptw_dir;

struct kptw_args {
	enum kptw_mode mode;
	bool churn;
	bool have_mode;
	long iters;
	unsigned int secs;
	unsigned int threads;
	bool leaf_2m;
	unsigned int drain_ms;
};

struct kptw_thread {
	struct kptw_worker w;
	struct task_struct *task;
	struct completion done;
	long iters;
	u64 deadline;		/* ktime ns, 0: none */
	atomic_t *stop;
	int cpu;
	int err;
};

static int kptw_thread_fn(void *data)
{
	struct kptw_thread *t = data;
	int ret = 0;

	while (!atomic_read(t->stop)) {
		if (t->iters && t->w.ops >= t->iters)
			break;
		if (t->deadline && ktime_get_ns() >= t->deadline)
			break;
		ret = kptw_worker_op(&t->w);
		if (ret) {
			/* One failing thread ends the run for all. */
			atomic_set(t->stop, 1);
			break;
		}
		cond_resched();
	}
	t->err = ret;
	/* Exits without touching module text after the caller is woken. */
	kthread_complete_and_exit(&t->done, 0);
}

/* Wait for watched pages to reach the allocator; returns ns waited. */
static u64 kptw_drain(struct kptw_thread *th, int n, unsigned int drain_ms)
{
	u64 t0 = ktime_get_ns(), limit = t0 + (u64)drain_ms * NSEC_PER_MSEC;
	long pending;
	int i;

	for (;;) {
		pending = 0;
		for (i = 0; i < n; i++)
			pending += kptw_watch_added(th[i].w.slot) -
				   kptw_watch_reached(th[i].w.slot);
		if (pending <= 0 || ktime_get_ns() >= limit)
			break;
		usleep_range(1000, 2000);
	}
	return ktime_get_ns() - t0;
}

static int kptw_run(const struct kptw_args *a, struct kptw_result *r)
{
	struct kptw_thread *th;
	atomic_t stop = ATOMIC_INIT(0);
	int n = a->churn ? a->threads : 1;
	int i, cpu, ret = 0, interrupted = 0;
	u64 t0;

	memset(r, 0, sizeof(*r));
	r->valid = true;
	r->threads = n;
	r->leaf_2m = a->leaf_2m;
	r->unsupported = kptw_mode_unsupported(a->mode);
	if (r->unsupported) {
		r->status = -EOPNOTSUPP;
		return -EOPNOTSUPP;
	}

	th = kcalloc(n, sizeof(*th), GFP_KERNEL);
	if (!th) {
		r->status = -ENOMEM;
		return -ENOMEM;
	}

	for (i = 0; i < n; i++) {
		th[i].w.mode = a->mode;
		th[i].w.slot = i;
		th[i].w.leaf_2m = a->leaf_2m;
		ret = kptw_worker_setup(&th[i].w);
		if (ret)
			goto teardown;
	}

	t0 = ktime_get_ns();
	cpu = cpumask_first(cpu_online_mask);
	for (i = 0; i < n; i++) {
		th[i].iters = a->iters;
		th[i].deadline = a->secs ? t0 + (u64)a->secs * NSEC_PER_SEC : 0;
		th[i].stop = &stop;
		th[i].cpu = cpu;
		init_completion(&th[i].done);
		th[i].task = kthread_create(kptw_thread_fn, &th[i],
					    "kptw_%s/%d", kptw_mode_name[a->mode], i);
		if (IS_ERR(th[i].task)) {
			ret = PTR_ERR(th[i].task);
			th[i].task = NULL;
			atomic_set(&stop, 1);
			break;
		}
		/* Spread over online CPUs so that the threads really overlap. */
		kthread_bind(th[i].task, cpu);
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
	}
	for (i = 0; i < n; i++)
		if (th[i].task)
			wake_up_process(th[i].task);
	for (i = 0; i < n; i++) {
		if (!th[i].task)
			continue;
		/* A killed writer stops the threads, but still waits for them. */
		if (wait_for_completion_killable(&th[i].done)) {
			atomic_set(&stop, 1);
			interrupted = 1;
			wait_for_completion(&th[i].done);
		}
		if (th[i].err && !ret)
			ret = th[i].err;
	}
	r->wall_ns = ktime_get_ns() - t0;
	r->drain_ns = kptw_drain(th, n, a->drain_ms);

	for (i = 0; i < n; i++) {
		struct kptw_worker *w = &th[i].w;

		r->t[i].cpu = th[i].cpu;
		r->t[i].ops = w->ops;
		r->t[i].ns = w->ns;
		r->t[i].freed = kptw_worker_freed(w);
		r->t[i].pt_freed = kptw_watch_reached(w->slot);
		r->iters += w->ops;
		r->huge += w->huge;
		r->linked += w->linked;
		r->freed += r->t[i].freed;
		r->ns += w->ns;
		r->pt_watched += kptw_watch_added(w->slot);
		r->pt_freed += kptw_watch_reached(w->slot);
		r->pt_pending += kptw_watch_pending(w->slot);
	}
	if (!ret && interrupted)
		ret = -EINTR;
teardown:
	for (i = 0; i < n; i++) {
		kptw_worker_teardown(&th[i].w);
		kptw_watch_forget(th[i].w.slot);
	}
	kfree(th);
	r->status = ret;
	return ret;
}

static int kptw_parse_long(const char *v, long max, long *out)
{
	long x;
	int ret = kstrtol(v, 0, &x);

	if (ret)
		return ret;
	if (x < 0 || x > max)
		return -ERANGE;
	*out = x;
	return 0;
}

static int kptw_parse_mode(const char *s, enum kptw_mode *mode)
{
	int i;

	for (i = 0; i < KPTW_NR_MODES; i++) {
		if (!strcmp(s, kptw_mode_name[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int kptw_parse(char *buf, struct kptw_args *a)
{
	char *tok, *val;
	long x;
	int ret;

	memset(a, 0, sizeof(*a));
	a->drain_ms = 10000;

	buf = strim(buf);
	tok = strsep(&buf, " \t");
	if (!tok || !*tok)
		return -EINVAL;
	if (!strcmp(tok, "churn")) {
		a->churn = true;
	} else {
		ret = kptw_parse_mode(tok, &a->mode);
		if (ret)
			return ret;
		a->have_mode = true;
	}

	while ((tok = strsep(&buf, " \t"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "mode") && a->churn) {
			ret = kptw_parse_mode(val, &a->mode);
			a->have_mode = !ret;
		} else if (!strcmp(tok, "iters")) {
			ret = kptw_parse_long(val, KPTW_MAX_ITERS, &a->iters);
		} else if (!strcmp(tok, "secs") && a->churn) {
			ret = kptw_parse_long(val, KPTW_MAX_SECS, &x);
			a->secs = x;
		} else if (!strcmp(tok, "threads") && a->churn) {
			ret = kptw_parse_long(val, KPTW_MAX_THREADS, &x);
			a->threads = x;
		} else if (!strcmp(tok, "drain_ms")) {
			ret = kptw_parse_long(val, 600000, &x);
			a->drain_ms = x;
		} else if (!strcmp(tok, "leaf")) {
			if (!strcmp(val, "4k"))
				a->leaf_2m = false;
			else if (!strcmp(val, "2m"))
				a->leaf_2m = true;
			else
				ret = -EINVAL;
		} else {
			ret = -EINVAL;
		}
		if (ret)
			return ret;
	}
	if (!a->have_mode)
		return -EINVAL;
	/* One call per run: each needs its fresh PUD and its armed failure. */
	if (a->mode == KPTW_CPA_ERR && (a->churn || a->iters > 1))
		return -EINVAL;
	if (a->churn) {
		/* One thread per online CPU unless told otherwise. */
		if (!a->threads)
			a->threads = min_t(unsigned int, num_online_cpus(),
					   KPTW_MAX_THREADS);
		if (!a->iters && !a->secs)
			a->secs = 5;
	} else if (!a->iters) {
		a->iters = a->mode == KPTW_VMAP_PUD ? 4 :
			   a->mode == KPTW_VMAP_PMD ? 64 : 1000;
	}
	return 0;
}

static ssize_t kptw_run_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	struct kptw_args a;
	char buf[128];
	int ret;

	if (len >= sizeof(buf))
		return -E2BIG;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	if (!strcmp(strim(buf), "reset")) {
		mutex_lock(&kptw_run_lock);
		memset(kptw_single, 0, sizeof(kptw_single));
		memset(&kptw_churn, 0, sizeof(kptw_churn));
		kptw_cpa_reset();
		mutex_unlock(&kptw_run_lock);
		return len;
	}

	ret = kptw_parse(buf, &a);
	if (ret)
		return ret;

	if (mutex_lock_interruptible(&kptw_run_lock))
		return -EINTR;
	if (a.churn) {
		kptw_churn_mode = a.mode;
		ret = kptw_run(&a, &kptw_churn);
	} else if (a.mode == KPTW_CPA_ERR) {
		ret = kptw_cpa_run(a.drain_ms);
	} else {
		ret = kptw_run(&a, &kptw_single[a.mode]);
	}
	mutex_unlock(&kptw_run_lock);
	if (ret)
		pr_info("kptwatch_test: %s%s: %d\n", a.churn ? "churn " : "",
			kptw_mode_name[a.mode], ret);
	return ret ? ret : len;
}

static const struct file_operations kptw_run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = kptw_run_write,
	.llseek = noop_llseek,
};

static u64 kptw_div(u64 a, long b)
{
	return b > 0 ? div64_u64(a, b) : 0;
}

static void kptw_show_result(struct seq_file *m, const char *p,
			     enum kptw_mode mode, const struct kptw_result *r)
{
	seq_printf(m, "%s_status=%s\n", p,
		   r->unsupported ? "unsupported" : r->status ? "error" : "ok");
	if (r->unsupported)
		seq_printf(m, "%s_reason=%s\n", p, r->unsupported);
	seq_printf(m, "%s_error=%d\n", p, r->status);
	seq_printf(m, "%s_threads=%d\n", p, r->threads);
	seq_printf(m, "%s_iters=%ld\n", p, r->iters);
	seq_printf(m, "%s_huge=%ld\n", p, r->huge);
	if (mode == KPTW_PTE_KERNEL || mode == KPTW_PTE_BYPASS)
		seq_printf(m, "%s_linked=%ld\n", p, r->linked);
	seq_printf(m, "%s_freed=%ld\n", p, r->freed);
	seq_printf(m, "%s_pt_watched=%ld\n", p, r->pt_watched);
	seq_printf(m, "%s_pt_freed=%ld\n", p, r->pt_freed);
	seq_printf(m, "%s_pt_pending=%ld\n", p, r->pt_pending);
	seq_printf(m, "%s_drain_ns=%llu\n", p, r->drain_ns);
	seq_printf(m, "%s_ns_per_op=%llu\n", p, kptw_div(r->ns, r->iters));
	seq_printf(m, "%s_wall_ns=%llu\n", p, r->wall_ns);
}

static int kptw_stats_show(struct seq_file *m, void *v)
{
	static const char *const fn[2] = { "pmd_free_pte_page", "pud_free_pmd_page" };
	struct kptw_probe_stats st;
	const struct kptw_result *r;
	int i;

	mutex_lock(&kptw_run_lock);
	seq_printf(m, "version=%d\n", KPTW_STATS_VERSION);
	seq_printf(m, "kernel=%s\n", init_utsname()->release);
	kptw_syms_show(m);
	seq_printf(m, "phys_base=0x%llx\n", (unsigned long long)kptw_phys_base);
	seq_printf(m, "page_free_probe=%s\n", kptw_watch_err() ? "error" : "ok");

	for (i = 0; i < 2; i++) {
		kptw_probe_stats(i, &st);
		seq_printf(m, "%s_probe=%s\n", fn[i], st.err ? "error" : "ok");
		if (st.err)
			seq_printf(m, "%s_probe_error=%d\n", fn[i], st.err);
		seq_printf(m, "%s_calls=%ld\n", fn[i], st.calls);
		seq_printf(m, "%s_freed=%ld\n", fn[i], st.freed);
		seq_printf(m, "%s_missed=%d\n", fn[i], st.nmissed);
	}

	for (i = 0; i < KPTW_NR_MODES; i++) {
		const char *why = kptw_mode_unsupported(i);

		if (i == KPTW_CPA_ERR) {
			kptw_cpa_show(m);
			continue;
		}
		r = &kptw_single[i];
		if (r->valid) {
			kptw_show_result(m, kptw_mode_name[i], i, r);
			if (i == KPTW_VMAP_PUD)
				seq_printf(m, "vmap_pud_leaf=%s\n",
					   r->leaf_2m ? "2m" : "4k");
		} else if (why) {
			/* Say so before anyone runs it. */
			seq_printf(m, "%s_status=unsupported\n", kptw_mode_name[i]);
			seq_printf(m, "%s_reason=%s\n", kptw_mode_name[i], why);
		}
	}

	r = &kptw_churn;
	if (r->valid) {
		seq_printf(m, "churn_mode=%s\n", kptw_mode_name[kptw_churn_mode]);
		kptw_show_result(m, "churn", kptw_churn_mode, r);
		seq_printf(m, "churn_ops=%ld\n", r->iters);
		for (i = 0; i < r->threads; i++) {
			seq_printf(m, "churn_t%d_cpu=%d\n", i, r->t[i].cpu);
			seq_printf(m, "churn_t%d_ops=%ld\n", i, r->t[i].ops);
			seq_printf(m, "churn_t%d_freed=%ld\n", i, r->t[i].freed);
			seq_printf(m, "churn_t%d_pt_freed=%ld\n", i, r->t[i].pt_freed);
			seq_printf(m, "churn_t%d_ns_per_op=%llu\n", i,
				   kptw_div(r->t[i].ns, r->t[i].ops));
		}
	}
	mutex_unlock(&kptw_run_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kptw_stats);

static int __init kptw_init(void)
{
	int ret;

	ret = kptw_syms_init();
	if (ret)
		return ret;
	kptw_ops_init();
	kptw_cpa_init();
	kptw_probes_init();

	kptw_dir = debugfs_create_dir("kptwatch_test", NULL);
	debugfs_create_file("run", 0200, kptw_dir, NULL, &kptw_run_fops);
	debugfs_create_file("stats", 0444, kptw_dir, NULL, &kptw_stats_fops);
	pr_info("kptwatch_test: loaded on %s, vmap_pmd %s, vmap_pud %s, pte_kernel %s, pte_bypass %s, cpa_err %s\n",
		init_utsname()->release,
		kptw_mode_unsupported(KPTW_VMAP_PMD) ?: "ok",
		kptw_mode_unsupported(KPTW_VMAP_PUD) ?: "ok",
		kptw_mode_unsupported(KPTW_PTE_KERNEL) ?: "ok",
		kptw_mode_unsupported(KPTW_PTE_BYPASS) ?: "ok",
		kptw_mode_unsupported(KPTW_CPA_ERR) ?: "ok");
	return 0;
}

static void __exit kptw_exit(void)
{
	/* Removing the files waits for writers, so no run is in flight after. */
	debugfs_remove_recursive(kptw_dir);
	kptw_probes_exit();
}

module_init(kptw_init);
module_exit(kptw_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kptwatch test: drive kernel page-table frees on demand");

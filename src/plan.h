/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel shape detection and the attach plan. Pure functions over what was
 * found in BTF and kallsyms, so tests feed them recorded listings.
 */
#ifndef KPT_PLAN_H
#define KPT_PLAN_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "kptwatch.h"
#include "ksyms.h"
#include "layout.h"

enum kpt_shape { SHAPE_UNPATCHED, SHAPE_SEED, SHAPE_UPSTREAM, SHAPE_MIXED };
enum kpt_role { ROLE_ENQUEUE, ROLE_DRAIN, ROLE_INVAL, ROLE_FREE, ROLE_LINK, ROLE_PAGE_FREE };
enum kpt_method { METH_MISSING, METH_FENTRY, METH_KPROBE, METH_TP_BTF, METH_RAW_TP };

/* Points in plan order; the page-free tracepoint is last. */
enum {
	PP_ASYNC_FREE_DTOR, PP_ASYNC_FREE_LIST, PP_ASYNC_FREE_PAGES,
	PP_ASYNC_FREE, PP_ASYNC_FREE_BOOTMEM,
	PP_PAGETABLE_FREE_KERNEL, PP_WORK_FUNC, PP_INVAL,
	PP_PMD_FREE_PTE_PAGE, PP_PUD_FREE_PMD_PAGE, PP_FREE_PAGETABLE,
	PP_PTE_ALLOC_KERNEL, PP_PMD_ALLOC, PP_PUD_ALLOC, PP_P4D_ALLOC, PP_ALLOC_LOW_PAGES,
	PP_CPA_SPLIT, PP_PAGE_FREE, PP_MAX,
};

/* A function's compiler clones each take a kprobe; more are not watched. */
#define KPT_MAX_CLONES	4

struct plan_point {
	const char *func;	/* kernel function or tracepoint */
	const char *prog;	/* BPF program suffix: fentry_<prog>, kprobe_<prog> */
	enum kpt_role role;
	bool paired;		/* also has an exit program */
	bool exit_only;		/* fentry flavour: the fexit alone (it reads the arguments) */
	bool in_btf;
	int nsyms;		/* kallsyms candidates, clones included */
	char sym[128];		/* what a kprobe attaches to */
	/* compiler clones, by address; copies: kallsyms is let go while loading */
	char clones[KPT_MAX_CLONES][128];
	int nclones;		/* all of them, even past KPT_MAX_CLONES */
	bool partial;		/* attached, but calls to some clones go unseen */
	bool no_twin;		/* the kprobe fallback did not load */
	bool needed;		/* part of the detected shape */
	bool critical;		/* the verdict is incomplete without it */
	enum kpt_method method;
	char why[192];		/* why not fentry, or why missing */
	const char *cost;	/* coverage lost when missing */
};

/*
 * Can a task be preempted inside a BPF program? fentry/fexit programs run
 * preemptible (migrate_disable() only) and the kernel skips a program that
 * is already running on the CPU: on a fully preemptible kernel a task
 * preempted inside the hand-over program makes the next task's hand-over
 * on that CPU go unseen. kprobe programs run with preemption off.
 */
enum kpt_preempt { PREEMPT_NO, PREEMPT_FULL, PREEMPT_UNKNOWN };

/*
 * The model from uname's version string ("#1 SMP PREEMPT_DYNAMIC ...")
 * and, for PREEMPT_DYNAMIC, /sys/kernel/debug/sched/preempt ("none
 * voluntary (full)"; NULL: unreadable). desc says which and from where.
 */
enum kpt_preempt preempt_model(const char *version, const char *sched_preempt, char *desc,
			       size_t len);

struct plan_input {
	bool kernel_btf;	/* the running kernel exposes BTF */
	enum kpt_preempt preempt;
	char preempt_desc[96];
	bool btf_loaded;	/* BTF read (kernel or --btf) */
	bool btf_func[PP_MAX];	/* FUNC in BTF (PP_PAGE_FREE: btf_trace_ typedef) */
	const struct ksyms *ksyms;	/* NULL: kallsyms unreadable */
	bool kprobes;		/* the kernel can attach kprobes */
	int fentry_err;		/* -errno from the fentry probe, 0: fine */
	int tp_btf_err;		/* -errno from the tp_btf probe, 0: fine */
	bool kprobe_missed;	/* bpf_link_info has perf_event.kprobe.missed */
	bool force_kprobes;
	/*
	 * Load every fallback program (kprobe twins, raw_tp page free),
	 * not just those a point needs: an attach was refused.
	 */
	bool all_twins;
	struct layout layout;	/* where pfns are decoded from */
};

struct plan {
	enum kpt_shape shape;
	struct plan_point pts[PP_MAX];
	bool usable;		/* page free and at least one q(P) point attach */
	bool complete;		/* every critical point attaches */
	bool rule_sound;	/* flushes are visible (or none exist) */
	int fentry_err;
	bool kprobes, kernel_btf, force_kprobes, all_twins;
	enum kpt_preempt preempt;
	char preempt_desc[96];
	bool kprobe_missed;	/* as plan_input's */
	struct layout layout;	/* unknown: the plan is not complete */
};

void plan_build(const struct plan_input *in, struct plan *p);
/* Mark a point lost after a load or attach failure and recompute. */
void plan_drop(struct plan *p, int idx, const char *why);
void plan_finish(struct plan *p);
/* The point attached, but some calls go unseen: say why (appended). */
void plan_partial(struct plan_point *pt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fill btf_func[] from "bpftool btf dump" text ("[id] FUNC 'name' ..."). */
void plan_input_from_listing(struct plan_input *in, const char *btf_listing);
/* The BTF names plan_input.btf_func[] stands for. */
const char *plan_btf_name(int idx, char *buf, size_t len);

const char *shape_name(enum kpt_shape s);
const char *method_name(enum kpt_method m);
const char *role_name(enum kpt_role r);
const char *plan_coverage(const struct plan *p);
/* How the plan knows which pages are kernel page tables, and its gaps. */
const char *plan_membership(const struct plan *p, char *buf, size_t len);
/* "EPERM (Operation not permitted)" for -EPERM */
void plan_errstr(int err, char *buf, size_t len);

#endif

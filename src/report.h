/* SPDX-License-Identifier: GPL-2.0 */
/* What a run collected, and the verdict drawn from it. */
#ifndef KPT_REPORT_H
#define KPT_REPORT_H

#include <stdbool.h>
#include <linux/types.h>
#include "kptwatch.h"
#include "options.h"
#include "plan.h"
#include "names.h"

#define KPT_MAX_VIOL	64	/* violations kept with their stacks */
#define KPT_MAX_MISSES	16	/* programs with skipped runs, kept by name */

/* A BPF program the kernel skipped: its events are lost. */
struct prog_misses {
	/* "fexit_inval", "kprobe_free_pagetable on free_pagetable.constprop.0" */
	char prog[96];
	int point;		/* the PP_* it serves, -1: none known */
	__u64 recursion;	/* bpf_prog_info.recursion_misses */
	__u64 kprobe;		/* the kprobe's or kretprobe's missed hits */
};

struct viol {
	struct kpt_event ev;
	__u64 ips[KPT_STACK_DEPTH];	/* the free's stack (ev.stack_id) */
	int nips;
	__u64 q_ips[KPT_STACK_DEPTH];	/* the hand-over's (ev.q_stack_id) */
	int nq_ips;
};

struct run_result {
	struct kpt_hist hists[KPT_M_MAX];
	__u64 counters[KPT_C_MAX];
	__u64 pending;			/* pages still pending at the end */
	__u64 pending_oldest_ns;	/* age of the oldest of them */
	__u64 pending_over_age;		/* older than --max-pending-age */
	struct viol viols[KPT_MAX_VIOL];
	int nviols;			/* kept; the counters hold the totals */
	__u64 t0;			/* start of the run, CLOCK_MONOTONIC ns */
	__u64 elapsed_ns;
	bool interrupted;		/* ended by SIGINT/SIGTERM */
	bool cmd_ran;
	int cmd_status;			/* waitpid() status */
	int cmd_errno;			/* exec failed: errno, 0 otherwise */
	/* BPF runs the kernel skipped (read_prog_misses) */
	struct prog_misses misses[KPT_MAX_MISSES];
	int nmisses;			/* programs with misses, even past the array */
	bool kprobe_unread[PP_MAX];	/* kprobes on it whose misses the kernel hides */
	/* the walk of init_mm's tables at start: tables found, -1 failed */
	__s64 walk_tables;
	bool walk_ran;
	/* map reads that failed (read_failed): their figures read as zeros */
	int read_errors;
	char read_error[96];		/* the first: "counters: Bad file descriptor" */
};

enum reason_kind { R_FAIL, R_INCOMPLETE, R_NOTE };

#define KPT_MAX_REASONS	24

struct verdict {
	int code;			/* enum kpt_exit */
	int n;
	struct {
		enum reason_kind kind;
		char text[192];
	} r[KPT_MAX_REASONS];
};

/*
 * Precedence: any failure (violation, range violation, limit exceeded,
 * pending too long, command failed) gives 1, even when the run was also
 * incomplete: what was seen is real. Otherwise anything incomplete gives
 * 3; otherwise 0. Violations while flushes are invisible (invalidation
 * point missing on a patched kernel) cannot be told from clean frees, so
 * they make the run incomplete instead of failed. A command killed by the
 * SIGINT/SIGTERM that interrupted kptwatch is unfinished (3), not failed;
 * so is any run cut short that had a -d or a command to finish.
 */
int verdict_compute(const struct env *env, const struct plan *p,
		    const struct run_result *rr, struct verdict *v);

const char *verdict_name(int code);
/* "exited 0", "exited 3", "killed by SIGKILL", "could not run: ..." */
char *cmd_status_str(const struct run_result *rr, char *buf, size_t len);
bool cmd_failed(const struct run_result *rr);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run of trace, hist and check once everything is attached: the poll
 * loop (ring buffer, timers, the command, signals), reading the results
 * and each command's report. It sees map fds, never the skeleton, so it
 * builds into the unit tests too.
 */
#ifndef KPT_RUN_H
#define KPT_RUN_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include "ksyms.h"
#include "openmetrics.h"
#include "report.h"

struct ring_buffer;

/* The maps a run reads, by fd. */
struct run_maps {
	int events;	/* ring buffer */
	int pages;	/* known tables and pending pages (struct kpt_page) */
	int counters;
	int hists;
	int stacks;
	int q_stacks;	/* hand-overs' short stacks (KPT_STACK_Q ids) */
	/*
	 * hist -i's reading while attached: the snapshot program sums the
	 * per-CPU maps into these (the skeleton's .bss).
	 */
	int snapshot;
	const __u64 *snap_counters;
	const struct kpt_hist *snap_hists;
	/* pages handed over and not yet freed (the skeleton's .bss) */
	const volatile __u64 *pending_depth;
};

struct run {
	const struct env *env;
	const struct plan *plan;
	const struct ksyms *ks;
	struct run_maps maps;
	struct run_result *rr;
	struct ring_buffer *rb;
	/* hist -i: the totals at the end of the previous interval */
	struct kpt_hist prev[KPT_M_MAX];
	__u64 prev_c[KPT_C_MAX];
	__u64 prev_t;
	int nival;				/* intervals printed */
	__u64 start;
	/*
	 * The end of the watch: run_loop's return. The judge is detached
	 * right after, so what is pending is pending as of then, and its
	 * age is counted to then, not to a teardown that can take seconds.
	 */
	__u64 end;
	FILE *junit;			/* check --junit, opened up front */
	struct om_out om[OM_DIALECTS];	/* --openmetrics, --prom: path NULL if not */
	bool cmd_stdout_to_stderr;	/* a document goes to stdout */
};

/* The signal that ends the run, 0 while it goes on. */
extern volatile sig_atomic_t run_exiting;
/* From here on, SIGINT and SIGTERM end the run with its summary. */
void run_signals(void);

/*
 * The ring buffer's callback: keeps a violation, with its stack ids, for
 * run_collect() to read the stacks; trace prints the event.
 */
int run_event(void *ctx, void *data, size_t size);
/* Open the ring buffer. 0, or -errno with a message on stderr. */
int run_open(struct run *r);
/*
 * Poll until the duration, the interval count, the command's end (and the
 * settling after it) or a signal. 0, or -errno with a message on stderr
 * when the command could not be started.
 */
int run_loop(struct run *r);
/*
 * After detaching: drain the ring buffer, read the violations' stacks,
 * counters, histograms, pending.
 */
void run_collect(struct run *r);
/* Print the command's report; returns its exit code. */
int run_report(struct run *r);
void run_close(struct run *r);

#endif

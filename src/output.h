/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writers: text, JSON (one document; NDJSON for trace) and JUnit XML. They
 * see only plans, events and run results, never how they were collected.
 */
#ifndef KPT_OUTPUT_H
#define KPT_OUTPUT_H

#include <stdio.h>
#include "json.h"
#include "ksyms.h"
#include "plan.h"
#include "report.h"

struct probe_info {
	const char *release;	/* uname -r */
	const char *btf_source;	/* file the BTF came from, NULL: none */
	bool loaded;		/* the planned programs passed the verifier */
	int nprogs;		/* programs loaded */
	int nlinks;		/* links made, -1: probe attaches nothing */
	char load_msg[192];	/* why loading failed */
};

extern const char *const reason_kinds[];	/* by enum reason_kind */

char *sym_fmt(char *buf, size_t len, const struct ksyms *ks, __u64 addr);
/*
 * At most n bytes of src (less at a NUL) for a terminal: valid UTF-8 as
 * it is, control characters and bytes of no valid sequence as \xNN.
 * dst wants 4 * n + 1 bytes to hold all of it.
 */
char *term_str(char *dst, size_t len, const char *src, size_t n);

void out_probe(FILE *f, bool json, const struct plan *p, const struct probe_info *pi, int code);
void out_plan_json(struct jw *w, const char *key, const struct plan *p);

void out_trace_header(FILE *f);
/*
 * An event. A violation comes with two kernel stacks: ips, the free's
 * (who gave P to the allocator), and q_ips, the hand-over's (who unlinked
 * and queued or freed P, q(P)); either may be empty. nips < 0: the stacks
 * are not read yet (trace reads them after detaching, see run.c), and
 * out_stacks_json() gives them later.
 */
void out_event_text(FILE *f, const struct kpt_event *e, __u64 t0, const __u64 *ips, int nips,
		    const __u64 *q_ips, int nq_ips, const struct ksyms *ks);
void out_event_json(FILE *f, const struct kpt_event *e, __u64 t0, const __u64 *ips, int nips,
		    const __u64 *q_ips, int nq_ips, const struct ksyms *ks);
/* The kept violations with their stacks (check, and trace at its end). */
void out_viols_text(FILE *f, const struct run_result *rr, const struct ksyms *ks);
/* trace --json: a violation's stacks, read when the trace ended */
void out_stacks_json(FILE *f, const struct viol *v, __u64 t0, const struct ksyms *ks);

void out_hists_text(FILE *f, const struct kpt_hist *hists);
void out_hists_json(struct jw *w, const char *key, const struct kpt_hist *hists);
void out_counters_json(struct jw *w, const char *key, const __u64 *counters);
void out_counters_text(FILE *f, const __u64 *counters);
void out_pending_json(struct jw *w, const struct run_result *rr, __u64 max_age);

/*
 * hist --json: one document with the run's totals, the plan's coverage and
 * what made the figures incomplete (v's R_INCOMPLETE reasons; p and v may
 * be NULL).
 */
void out_hist_json(FILE *f, const struct run_result *rr, const struct plan *p,
		   const struct verdict *v);

/* hist -i: what changed in one interval. */
struct hist_interval {
	int n;				/* 1, 2, ... */
	__u64 rel_ns;			/* its end, since the run's start */
	__u64 dur_ns;
	const struct kpt_hist *hists;	/* KPT_M_MAX deltas */
	const __u64 *counters;		/* KPT_C_MAX deltas */
	int read_errors;		/* map reads failed in it */
	const char *coverage;		/* plan_coverage(), NULL: not known */
	bool plan_complete;		/* every critical point attached, layout known */
};

/*
 * An interval as text, or as one NDJSON line flushed at once ("event":
 * "interval"), each with its drops, map_full and violations: an interval
 * that lost events says so where it is shown.
 */
void out_interval_text(FILE *f, const struct hist_interval *iv);
void out_interval_json(FILE *f, const struct hist_interval *iv);
/* hist -i --json: the last line, the run's totals ("event": "summary"). */
void out_hist_summary_json(FILE *f, const struct run_result *rr, int nintervals,
			   const struct plan *p, const struct verdict *v);
/* The R_INCOMPLETE reasons as text lines, "incomplete: ..." */
void out_incomplete_text(FILE *f, const struct verdict *v);

void out_check(FILE *f, bool json, const struct env *env, const struct plan *p,
	       const struct run_result *rr, const struct verdict *v, const struct ksyms *ks);
/* Write the report to f (opened before the run); -1 on a write error. */
int out_junit(FILE *f, const struct env *env, const struct plan *p,
	      const struct run_result *rr, const struct verdict *v, const struct ksyms *ks);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The run: poll the ring buffer until the run ends, then read the maps and
 * print what the command reports. See run.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "command.h"
#include "hist.h"
#include "maps.h"
#include "output.h"
#include "run.h"

volatile sig_atomic_t run_exiting;

static void sig_handler(int sig)
{
	run_exiting = sig;
}

void run_signals(void)
{
	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
}

/* A stack id from either map: hand-overs tag theirs with KPT_STACK_Q. */
static int read_stack_any(const struct run_maps *m, __s32 id, __u64 *ips)
{
	if (id >= 0 && (id & KPT_STACK_Q))
		return read_stack(m->q_stacks, id & ~KPT_STACK_Q, ips);
	return read_stack(m->stacks, id, ips);
}

/*
 * No map is read here, while the programs are attached: a map read from
 * user space (bpf_disable_instrumentation()) raises bpf_prog_active on
 * its CPU, and the kernel skips every kprobe and tracepoint program that
 * fires on that CPU until the read ends, on a preemptible kernel even in
 * other tasks. So a violation's stacks are read by run_collect(), after
 * detaching; a stack read here could hide the next violation's hand-over.
 */
int run_event(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	struct run_result *rr = r->rr;
	const struct kpt_event *e = data;
	bool viol;

	if (size < sizeof(*e))
		return 0;
	viol = e->type == KPT_EV_VIOLATION || e->type == KPT_EV_RANGE_VIOLATION;
	if (viol && rr->nviols < KPT_MAX_VIOL) {
		struct viol *v = &rr->viols[rr->nviols++];

		memset(v, 0, sizeof(*v));
		v->ev = *e;
		v->nips = v->nq_ips = -1;
	}
	if (r->env->cmd != CMD_TRACE)
		return 0;
	if (r->env->json)
		out_event_json(stdout, e, rr->t0, NULL, viol ? -1 : 0, NULL, 0, r->ks);
	else
		out_event_text(stdout, e, rr->t0, NULL, viol ? -1 : 0, NULL, 0, r->ks);
	return 0;
}

/* The kept violations' stacks: who freed P, who handed it over. */
static void read_viol_stacks(struct run *r)
{
	struct run_result *rr = r->rr;

	for (int i = 0; i < rr->nviols; i++) {
		struct viol *v = &rr->viols[i];
		int n;

		if (v->nips >= 0)
			continue;
		n = read_failed(rr, "stack", read_stack_any(&r->maps, v->ev.stack_id, v->ips));
		v->nips = n < 0 ? 0 : n;
		n = read_failed(rr, "stack", read_stack_any(&r->maps, v->ev.q_stack_id, v->q_ips));
		v->nq_ips = n < 0 ? 0 : n;
	}
}

int run_open(struct run *r)
{
	r->rb = ring_buffer__new(r->maps.events, run_event, r, NULL);
	if (!r->rb) {
		int err = -errno;

		fprintf(stderr, "kptwatch: cannot open the ring buffer: %s\n", strerror(-err));
		return err;
	}
	return 0;
}

static void read_results(struct run *r)
{
	read_failed(r->rr, "counters", read_counters(r->maps.counters, r->rr->counters));
	read_failed(r->rr, "histograms", read_hists(r->maps.hists, r->rr->hists));
}

/*
 * The same totals while attached, for hist -i: a map read would make the
 * kernel skip the kprobe programs on its CPU (snapshot.bpf.h), a test run
 * of the snapshot program does not.
 */
static void read_snapshot(struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err;

	err = bpf_prog_test_run_opts(r->maps.snapshot, &opts);
	if (read_failed(r->rr, "snapshot", err) < 0)
		return;
	memcpy(r->rr->counters, r->maps.snap_counters, sizeof(r->rr->counters));
	memcpy(r->rr->hists, r->maps.snap_hists, sizeof(r->rr->hists));
}

/*
 * The metrics FILEs (--openmetrics, --prom), if any: the run's totals up
 * to elapsed, with what v says. final: the run is over and the pending
 * pages were read. 0, or -1 when one could not be written (said on stderr).
 */
static int write_metrics(struct run *r, const struct verdict *v, __u64 elapsed, bool final)
{
	struct timespec ts;
	struct om_report rep = {
		.env = r->env, .plan = r->plan, .rr = r->rr, .v = v, .elapsed_ns = elapsed,
		.final = final,
	};
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	rep.wall_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	for (int d = 0; d < OM_DIALECTS; d++)
		err |= om_out_write(&r->om[d], &rep);
	return err;
}

static bool metrics_asked(const struct run *r)
{
	for (int d = 0; d < OM_DIALECTS; d++)
		if (r->om[d].path)
			return true;
	return false;
}

/*
 * hist -i: what changed since the previous interval, printed as it ends
 * (--json: one NDJSON line, flushed), with the interval's drops, map_full
 * and violations, so that an interval that lost events says so.
 */
static void print_interval(struct run *r, __u64 t)
{
	struct run_result *rr = r->rr;
	struct kpt_hist d[KPT_M_MAX];
	__u64 dc[KPT_C_MAX];
	int errors = rr->read_errors;
	struct hist_interval iv = {
		.n = r->nival + 1, .rel_ns = t, .dur_ns = t - r->prev_t,
		.hists = d, .counters = dc,
		.coverage = r->plan ? plan_coverage(r->plan) : NULL,
		.plan_complete = r->plan && r->plan->complete,
	};

	read_snapshot(r);
	iv.read_errors = rr->read_errors - errors;
	for (int m = 0; m < KPT_M_MAX; m++)
		hist_sub(&d[m], &rr->hists[m], &r->prev[m]);
	for (int c = 0; c < KPT_C_MAX; c++)
		dc[c] = rr->counters[c] - r->prev_c[c];
	memcpy(r->prev, rr->hists, sizeof(rr->hists));
	memcpy(r->prev_c, rr->counters, sizeof(rr->counters));
	r->prev_t = t;
	if (r->env->json)
		out_interval_json(stdout, &iv);
	else
		out_interval_text(stdout, &iv);
	r->nival++;
	/* the file a collector reads is replaced with the totals so far */
	if (metrics_asked(r)) {
		struct verdict v;

		verdict_compute(r->env, r->plan, rr, &v);
		write_metrics(r, &v, t, false);
	}
}

int run_loop(struct run *r)
{
	const struct env *env = r->env;
	struct run_result *rr = r->rr;
	__u64 deadline = 0, next_ival = 0, settle = 0;
	pid_t child = 0;
	int err;

	if (env->cmd == CMD_TRACE && !env->json)
		out_trace_header(stdout);

	r->start = rr->t0 = now_ns();
	if (env->duration_ns)
		deadline = r->start + env->duration_ns;
	if (env->interval_ns)
		next_ival = r->start + env->interval_ns;
	if (env->argv_cmd && !run_exiting) {
		child = cmd_start(env->argv_cmd, r->cmd_stdout_to_stderr, rr);
		if (child < 0) {
			err = -errno;
			fprintf(stderr, "kptwatch: cannot start %s: %s\n", env->argv_cmd[0],
				strerror(-err));
			return err;
		}
		if (!child)
			settle = now_ns();
	}

	while (!run_exiting) {
		__u64 now;

		err = ring_buffer__poll(r->rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "kptwatch: ring buffer: %s\n", strerror(-err));
			break;
		}
		now = now_ns();
		if (child > 0 && cmd_done(child, rr)) {
			/* what it left in its group ends with it, as on a signal */
			if (cmd_reap_group(child, 5000))
				fprintf(stderr, "kptwatch: the command left processes behind; "
					"ended them\n");
			child = 0;
			settle = now;
		}
		/*
		 * After COMMAND, wait up to a second for the pages it queued
		 * to drain: the work item runs after the command returns.
		 */
		if (settle && (!*r->maps.pending_depth || now - settle >= 1000000000ULL))
			break;
		if (next_ival && now >= next_ival) {
			print_interval(r, now - r->start);
			next_ival += env->interval_ns;
			if (env->count && (__u64)r->nival >= env->count)
				break;
		}
		if (deadline && now >= deadline)
			break;
	}
	rr->interrupted = run_exiting != 0;
	if (child > 0) {
		/* interrupted: pass the signal on and collect the command */
		cmd_stop(child, run_exiting ? run_exiting : SIGTERM, 5000, rr);
	}
	r->end = now_ns();
	return 0;
}

void run_collect(struct run *r)
{
	struct run_result *rr = r->rr;

	ring_buffer__consume(r->rb);
	rr->elapsed_ns = r->end - r->start;
	read_viol_stacks(r);
	read_results(r);
	read_failed(rr, "pending pages", read_pending(r->maps.pages, r->end,
						     r->env->max_pending_age_ns, rr));
}

static int report_trace(struct run *r)
{
	struct run_result *rr = r->rr;
	struct verdict tv;

	verdict_compute(r->env, r->plan, rr, &tv);
	if (r->env->json) {
		struct jw w;

		for (int i = 0; i < rr->nviols; i++)
			out_stacks_json(stdout, &rr->viols[i], rr->t0, r->ks);
		jw_init(&w, stdout);
		jw_open(&w, NULL, '{');
		jw_str(&w, "event", "summary");
		jw_u64(&w, "elapsed_ns", rr->elapsed_ns);
		out_counters_json(&w, "counters", rr->counters);
		out_pending_json(&w, rr, 0);
		jw_close(&w, '}');
		jw_end(&w);
	} else {
		/* read after detaching (run_event); the first KPT_MAX_VIOL are kept */
		if (rr->nviols)
			printf("\nthe violations above, the first %d, with their stacks:\n",
			       rr->nviols);
		out_viols_text(stdout, rr, r->ks);
		fflush(stdout);
		fprintf(stderr, "\n");
		out_counters_text(stderr, rr->counters);
		for (int i = 0; i < tv.n; i++) {
			char t[sizeof(tv.r[i].text) * 4];

			/* reasons can quote names from the kernel: no raw bytes */
			fprintf(stderr, "%s\n",
				term_str(t, sizeof(t), tv.r[i].text, sizeof(tv.r[i].text)));
		}
	}
	return EXIT_CLEAN;
}

static int report_hist(struct run *r)
{
	const struct env *env = r->env;
	struct run_result *rr = r->rr;
	struct verdict v;

	/* not a verdict: only what made the figures incomplete is shown */
	verdict_compute(env, r->plan, rr, &v);
	if (env->interval_ns) {
		/* the part of an interval a signal cut short, or a run shorter than one */
		if (r->nival == 0 || rr->interrupted)
			print_interval(r, rr->elapsed_ns);
		if (env->json)
			out_hist_summary_json(stdout, rr, r->nival, r->plan, &v);
		else
			out_incomplete_text(stdout, &v);
	} else if (env->json) {
		out_hist_json(stdout, rr, r->plan, &v);
	} else {
		char a[16];

		out_hists_text(stdout, rr->hists);
		out_counters_text(stdout, rr->counters);
		printf("pending at the end: %llu, oldest %s\n", (unsigned long long)rr->pending,
		       fmt_value(a, sizeof(a), rr->pending_oldest_ns, true));
		out_incomplete_text(stdout, &v);
	}
	return write_metrics(r, &v, rr->elapsed_ns, true) ? EXIT_USAGE : EXIT_CLEAN;
}

static int report_check(struct run *r)
{
	const struct env *env = r->env;
	struct verdict v;
	int code;

	code = verdict_compute(env, r->plan, r->rr, &v);
	out_check(stdout, env->json, env, r->plan, r->rr, &v, r->ks);
	if (r->junit) {
		int err = out_junit(r->junit, env, r->plan, r->rr, &v, r->ks);

		err = (r->junit == stdout ? fflush(r->junit) : fclose(r->junit)) || err;
		r->junit = NULL;
		if (err) {
			fprintf(stderr, "kptwatch: cannot write %s: %s\n", env->junit,
				strerror(errno));
			code = EXIT_USAGE;
		}
	}
	if (write_metrics(r, &v, r->rr->elapsed_ns, true))
		code = EXIT_USAGE;
	return code;
}

int run_report(struct run *r)
{
	switch (r->env->cmd) {
	case CMD_TRACE:
		return report_trace(r);
	case CMD_HIST:
		return report_hist(r);
	case CMD_CHECK:
		return report_check(r);
	default:
		return EXIT_USAGE;
	}
}

void run_close(struct run *r)
{
	if (r->junit && r->junit != stdout)
		fclose(r->junit);
	r->junit = NULL;
	for (int d = 0; d < OM_DIALECTS; d++)
		om_out_close(&r->om[d]);
	ring_buffer__free(r->rb);
	r->rb = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The run's event callback reads no map while the programs are attached;
 * run_collect(), after detaching, reads the violations' stacks. The stack
 * maps' fds are -1 here, so every read they get shows up as a read error.
 * Needs root for the ring buffer map; skipped without.
 */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "run.h"
#include "unit.h"

static int rb_fd;
static const __u64 no_pending;

static void setup(struct run *r, struct env *env, struct run_result *rr, enum kpt_cmd cmd)
{
	memset(r, 0, sizeof(*r));
	memset(env, 0, sizeof(*env));
	memset(rr, 0, sizeof(*rr));
	env->cmd = cmd;
	r->env = env;
	r->rr = rr;
	r->maps = (struct run_maps){ .events = rb_fd, .pages = -1, .counters = -1,
				     .hists = -1, .stacks = -1, .q_stacks = -1,
				     .pending_depth = &no_pending };
}

static struct kpt_event viol_event(__u64 pfn)
{
	return (struct kpt_event){ .type = KPT_EV_VIOLATION, .pfn = pfn, .stack_id = 3,
				   .q_stack_id = 5 | KPT_STACK_Q };
}

/* 200 violations, as a pte_bypass run gives: not one map read during the run */
static void test_event_reads_no_map(void)
{
	struct run_result *rr = malloc(sizeof(*rr));
	struct env env;
	struct run r;

	setup(&r, &env, rr, CMD_CHECK);
	for (int i = 0; i < 200; i++) {
		struct kpt_event e = viol_event(0x1000 + i);

		run_event(&r, &e, sizeof(e));
	}
	CHECK(rr->read_errors == 0, "%d map reads failed during the run: %s", rr->read_errors,
	      rr->read_error);
	CHECK(rr->nviols == KPT_MAX_VIOL, "kept %d", rr->nviols);
	CHECK(rr->viols[0].ev.pfn == 0x1000 && rr->viols[0].ev.stack_id == 3 &&
	      rr->viols[0].ev.q_stack_id == (5 | KPT_STACK_Q), "the event is kept with its ids");
	CHECK(rr->viols[0].nips == -1 && rr->viols[0].nq_ips == -1, "stacks marked unread: %d %d",
	      rr->viols[0].nips, rr->viols[0].nq_ips);
	free(rr);
}

/* after detaching, run_collect reads both stacks of each kept violation */
static void test_collect_reads_stacks(void)
{
	struct run_result *rr = malloc(sizeof(*rr));
	struct kpt_event e = viol_event(0x2000);
	struct env env;
	struct run r;

	setup(&r, &env, rr, CMD_CHECK);
	CHECK(!run_open(&r), "ring buffer");
	run_event(&r, &e, sizeof(e));
	CHECK(rr->read_errors == 0, "no read before collect");
	run_collect(&r);
	CHECK(!strncmp(rr->read_error, "stack: ", 7), "the stacks are read first: %s",
	      rr->read_error);
	/* 2 stacks, then counters, histograms, pending: all on fd -1 */
	CHECK(rr->read_errors == 5, "read errors %d", rr->read_errors);
	CHECK(rr->viols[0].nips == 0 && rr->viols[0].nq_ips == 0, "unreadable stacks are empty");
	run_close(&r);
	free(rr);
}

/* trace prints a violation at once, and says its stacks come at the end */
static void test_trace_prints_live(void)
{
	struct run_result *rr = malloc(sizeof(*rr));
	struct kpt_event e = viol_event(0x3000);
	struct env env;
	struct run r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len), *saved = stdout;

	setup(&r, &env, rr, CMD_TRACE);
	stdout = f;
	run_event(&r, &e, sizeof(e));
	fflush(f);
	stdout = saved;
	fclose(f);
	CHECK(buf && strstr(buf, "pfn 0x3000") && strstr(buf, "stacks: when the trace ends"),
	      "printed: %s", buf ? buf : "(nothing)");
	CHECK(rr->read_errors == 0, "no read");
	free(buf);
	free(rr);
}

int main(void)
{
	rb_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "kpt_t_rb", 0, 0, 4096, NULL);
	if (rb_fd < 0) {
		printf("ok 1 - test_run # SKIP cannot create BPF maps (%s): run as root\n",
		       strerror(errno));
		return 0;
	}
	RUN(test_event_reads_no_map);
	RUN(test_collect_reads_stacks);
	RUN(test_trace_prints_live);
	close(rb_fd);
	return unit_done();
}

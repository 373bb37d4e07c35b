/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpf tier harness: each case gets a freshly loaded testrun skeleton,
 * feeds it an event sequence through BPF_PROG_TEST_RUN and asserts exact
 * counters, histograms, pending-map contents and ring events.
 */
#ifndef KPT_TB_H
#define KPT_TB_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "kptwatch.h"
#include "testrun.skel.h"
#include "../../bpf/testrun.h"

#define TB_MAX_EVENTS	256

struct tb {
	struct testrun_bpf *skel;
	struct ring_buffer *rb;
	int ncpu;
	int nev;
	struct kpt_event ev[TB_MAX_EVENTS];
	char why[512];
};

struct tb_opts {
	__u32 pages_max;	/* the pages map's size, 0: default */
	bool emit_live;
	__u64 vmemmap_hint;	/* 0: what the program finds */
	__u64 phys_addr_mask;	/* 0: architectural */
	__u32 watched_words;	/* 0: the object's watched bitmap */
};

struct tb_kv {
	int idx;
	__u64 val;
};

int tb_open(struct tb *t, const struct tb_opts *o);
void tb_close(struct tb *t);
/* One event on a CPU; returns the program's return value or -errno. */
long tb_run(struct tb *t, int cpu, __u64 op, __u64 now, __u64 task,
	    __u64 a0, __u64 a1, __u64 a2, __u64 a3, __u64 a4, __u64 a5);
__u64 tb_counter(struct tb *t, int idx, int cpu);	/* cpu -1: sum */
__u64 tb_counter_of(int fd, int ncpu, int idx, int cpu);
int tb_hist(struct tb *t, int metric, struct kpt_hist *out);
int tb_pending(struct tb *t, __u64 pfn, struct kpt_pending *out);
int tb_pending_count(struct tb *t);
int tb_table(struct tb *t, __u64 pfn, struct kpt_table *out);
int tb_table_count(struct tb *t);
/* pfn's bit in the watched bitmap: 0 or 1, -errno beyond it */
int tb_watched(struct tb *t, __u64 pfn);
int tb_events(struct tb *t);	/* drain the ring into t->ev, t->nev */
int tb_check_counters(struct tb *t, const struct tb_kv *want, int n,
		      int line);
const char *tb_counter_name(int idx);

/* Case helpers: on failure, record why and make the case return -1. */
#define TB_FAIL(t, ...) do {						\
	snprintf((t)->why, sizeof((t)->why), __VA_ARGS__);		\
	return -1;							\
} while (0)

#define EXPECT_EQ(t, got, want) do {					\
	unsigned long long _g = (got), _w = (want);			\
	if (_g != _w)							\
		TB_FAIL(t, "line %d: %s = %llu (%#llx), want %llu (%#llx)", \
			__LINE__, #got, _g, _g, _w, _w);		\
} while (0)

#define EXPECT_TRUE(t, cond) do {					\
	if (!(cond))							\
		TB_FAIL(t, "line %d: %s is false", __LINE__, #cond);	\
} while (0)

/* Every counter listed must match and every other one must be zero. */
#define WANT_COUNTERS(t, ...) do {					\
	const struct tb_kv _kv[] = { __VA_ARGS__ };			\
	if (tb_check_counters(t, _kv, sizeof(_kv) / sizeof(_kv[0]),	\
			      __LINE__))				\
		return -1;						\
} while (0)

#define PT(p)	(KPT_C_POINT_BASE + (p))

/* Shorthands for the events, on a CPU. */
/* Q(t, cpu, now, pfn, order, point, va_start, va_end): task 0x100, stack 7 */
#define Q(t, cpu, now, pfn, order, point, ...)				\
	tb_run(t, cpu, KPT_TOP_QUEUE, now, 0x100, pfn, order, point,	\
	       __VA_ARGS__, 7)
/* IB(t, cpu, now, task, start, end) */
#define IB(t, cpu, now, task, ...)					\
	tb_run(t, cpu, KPT_TOP_INVAL_BEGIN, now, task, __VA_ARGS__,	\
	       0, 0, 0, 0)
#define IE(t, cpu, now, task)						\
	tb_run(t, cpu, KPT_TOP_INVAL_END, now, task, 0, 0, 0, 0, 0, 0)
#define DB(t, cpu, now, task)						\
	tb_run(t, cpu, KPT_TOP_DRAIN_BEGIN, now, task, 0, 0, 0, 0, 0, 0)
#define DE(t, cpu, now, task)						\
	tb_run(t, cpu, KPT_TOP_DRAIN_END, now, task, 0, 0, 0, 0, 0, 0)
#define F(t, cpu, now, task, pfn, order)				\
	tb_run(t, cpu, KPT_TOP_FREE, now, task, pfn, order, 99, 0, 0, 0)
/* L(t, now, pfn, level): a table learned at a link point */
#define L(t, now, pfn, level)						\
	tb_run(t, 0, KPT_TOP_LEARN, now, 0, pfn, level, KPT_TS_LINK, 0, 0, 0)
/* N(t, now, pfn, point, va_start, va_end): a free point's note, stack 8 */
#define N(t, now, pfn, point, ...)					\
	tb_run(t, 0, KPT_TOP_QUEUE, now, 0x200, pfn, 0, point, __VA_ARGS__, 8)

#define ALL		0ULL, ~0ULL	/* TLB_FLUSH_ALL range */
#define NOVA		0, 0

typedef int (*tb_case_fn)(struct tb *t);

struct tb_case {
	const char *name;
	tb_case_fn fn;
	struct tb_opts opts;
};

extern const struct tb_case tb_rule_cases[];
extern const int tb_rule_ncases;

/* Load-only checks of the real attach programs (test_load.c). */
int tb_load_checks(int *passed, int *failed);
int tb_load_each(int *passed, int *failed);
int tb_free_checks(int *passed, int *failed);

#endif /* KPT_TB_H */

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpf tier harness: load, feed, read back. See tb.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tb.h"

static const char *const counter_names[KPT_C_MAX] = {
	[KPT_C_QUEUED] = "QUEUED",
	[KPT_C_FREED_OK] = "FREED_OK",
	[KPT_C_VIOLATION] = "VIOLATION",
	[KPT_C_RANGE_VIOLATION] = "RANGE_VIOLATION",
	[KPT_C_MAP_FULL] = "MAP_FULL",
	[KPT_C_RB_DROP] = "RB_DROP",
	[KPT_C_INVAL_BEGIN] = "INVAL_BEGIN",
	[KPT_C_INVAL_END] = "INVAL_END",
	[KPT_C_INVAL_UNPAIRED] = "INVAL_UNPAIRED",
	[KPT_C_DRAIN_BEGIN] = "DRAIN_BEGIN",
	[KPT_C_DRAIN_END] = "DRAIN_END",
	[KPT_C_DRAIN_UNPAIRED] = "DRAIN_UNPAIRED",
	[KPT_C_REQUEUED] = "REQUEUED",
	[KPT_C_HIST_CLAMP] = "HIST_CLAMP",
	[KPT_C_RANGE_UNKNOWN] = "RANGE_UNKNOWN",
	[KPT_C_UNKNOWN] = "UNKNOWN",
	[KPT_C_WALK_TRUNC] = "WALK_TRUNC",
	[KPT_C_TABLE_WALKED] = "TABLE_WALKED",
	[KPT_C_TABLE_LINKED] = "TABLE_LINKED",
	[KPT_C_TABLE_SPLIT] = "TABLE_SPLIT",
	[KPT_C_TABLE_FREED] = "TABLE_FREED",
	[KPT_C_WALK_RACE] = "WALK_RACE",
	[PT(KPT_PT_NONE)] = "POINT(none)",
	[PT(KPT_PT_ASYNC_FREE_DTOR)] = "POINT(async_free_dtor)",
	[PT(KPT_PT_ASYNC_FREE_LIST)] = "POINT(async_free_page_list)",
	[PT(KPT_PT_ASYNC_FREE_PAGES)] = "POINT(async_free_pages)",
	[PT(KPT_PT_PAGETABLE_FREE_KERNEL)] = "POINT(pagetable_free_kernel)",
	[PT(KPT_PT_PMD_FREE_PTE_PAGE)] = "POINT(pmd_free_pte_page)",
	[PT(KPT_PT_PUD_FREE_PMD_PAGE)] = "POINT(pud_free_pmd_page)",
	[PT(KPT_PT_FREE_PAGETABLE)] = "POINT(free_pagetable)",
};

const char *tb_counter_name(int idx)
{
	if (idx >= 0 && idx < KPT_C_MAX && counter_names[idx])
		return counter_names[idx];
	return "?";
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct tb *t = ctx;

	if (len != sizeof(struct kpt_event) || t->nev >= TB_MAX_EVENTS)
		return -E2BIG;
	memcpy(&t->ev[t->nev++], data, sizeof(struct kpt_event));
	return 0;
}

int tb_open(struct tb *t, const struct tb_opts *o)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu <= 0) {
		snprintf(t->why, sizeof(t->why), "possible cpus: %d", t->ncpu);
		return -1;
	}
	t->skel = testrun_bpf__open();
	if (!t->skel) {
		snprintf(t->why, sizeof(t->why), "open: %s", strerror(errno));
		return -1;
	}
	if (o && o->pages_max)
		bpf_map__set_max_entries(t->skel->maps.pages, o->pages_max);
	if (o && o->watched_words)
		bpf_map__set_max_entries(t->skel->maps.watched, o->watched_words);
	t->skel->rodata->snap_ncpu = t->ncpu;
	if (o) {
		t->skel->rodata->emit_live = o->emit_live;
		t->skel->rodata->vmemmap_base_hint = o->vmemmap_hint;
		t->skel->rodata->phys_addr_mask = o->phys_addr_mask;
	}
	err = testrun_bpf__load(t->skel);
	if (err) {
		snprintf(t->why, sizeof(t->why), "load: %s", strerror(-err));
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event,
				 t, NULL);
	if (!t->rb) {
		snprintf(t->why, sizeof(t->why), "ring: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	testrun_bpf__destroy(t->skel);
	t->skel = NULL;
	return -1;
}

void tb_close(struct tb *t)
{
	ring_buffer__free(t->rb);
	testrun_bpf__destroy(t->skel);
	t->rb = NULL;
	t->skel = NULL;
}

/* Which of testrun.bpf.c's programs handles op. */
static struct bpf_program *tb_prog(struct tb *t, __u64 op)
{
	switch (op) {
	case KPT_TOP_PMD_ENTRY:
	case KPT_TOP_PMD_TABLE:
	case KPT_TOP_FREE_PAGETABLE:
		return t->skel->progs.testrun_point;
	case KPT_TOP_PTDESC_LIST:
		return t->skel->progs.testrun_list;
	case KPT_TOP_WALK_ADDR:
	case KPT_TOP_WALK:
	case KPT_TOP_WALK_ACTIVE:
		return t->skel->progs.testrun_walk;
	case KPT_TOP_SPLIT_RANGE:
	case KPT_TOP_SPLIT_LEARN:
		return t->skel->progs.testrun_split;
	case KPT_TOP_SPLIT_CPA:
		return t->skel->progs.testrun_cpa;
	}
	return t->skel->progs.testrun;
}

long tb_run(struct tb *t, int cpu, __u64 op, __u64 now, __u64 task,
	    __u64 a0, __u64 a1, __u64 a2, __u64 a3, __u64 a4, __u64 a5)
{
	__u64 args[KPT_TEST_NARGS] = { op, now, task, a0, a1, a2, a3, a4, a5 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.ctx_in = args,
		.ctx_size_in = sizeof(args),
		.flags = BPF_F_TEST_RUN_ON_CPU,
		.cpu = cpu % t->ncpu,
	);
	int err;
	struct bpf_program *pg = tb_prog(t, op);

	err = bpf_prog_test_run_opts(bpf_program__fd(pg), &opts);
	if (err)
		return -errno;
	return (int)opts.retval;
}

/* Counter idx of a per-CPU counters map (fd): cpu's, or (cpu < 0) the sum. */
__u64 tb_counter_of(int fd, int ncpu, int idx, int cpu)
{
	__u64 v[ncpu], sum = 0;
	__u32 key = idx;
	int i;

	if (bpf_map_lookup_elem(fd, &key, v))
		return ~0ULL;
	if (cpu >= 0)
		return v[cpu % ncpu];
	for (i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

__u64 tb_counter(struct tb *t, int idx, int cpu)
{
	return tb_counter_of(bpf_map__fd(t->skel->maps.counters), t->ncpu, idx, cpu);
}

int tb_hist(struct tb *t, int metric, struct kpt_hist *out)
{
	struct kpt_hist *v;
	__u32 key = metric;
	int i, s;

	v = calloc(t->ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.hists), &key, v)) {
		free(v);
		return -errno;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < t->ncpu; i++) {
		for (s = 0; s < (int)KPT_HIST_SLOTS; s++)
			out->slots[s] += v[i].slots[s];
		out->count += v[i].count;
		out->sum += v[i].sum;
		if (v[i].max > out->max)
			out->max = v[i].max;
	}
	free(v);
	return 0;
}

static int page_of(struct tb *t, __u64 pfn, struct kpt_page *pg)
{
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.pages), &pfn, pg))
		return -errno;
	return 0;
}

/* The page's pending part, -ENOENT when it is not pending. */
int tb_pending(struct tb *t, __u64 pfn, struct kpt_pending *out)
{
	struct kpt_page pg;
	int err = page_of(t, pfn, &pg);

	if (err)
		return err;
	if (!pg.pending)
		return -ENOENT;
	*out = pg.q;
	return 0;
}

/* The page's table part, -ENOENT when it is no known table. */
int tb_table(struct tb *t, __u64 pfn, struct kpt_table *out)
{
	struct kpt_page pg;
	int err = page_of(t, pfn, &pg);

	if (err)
		return err;
	if (!pg.table)
		return -ENOENT;
	*out = pg.tbl;
	return 0;
}

int tb_watched(struct tb *t, __u64 pfn)
{
	__u32 w = pfn / 64;
	__u64 v;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.watched), &w, &v))
		return -errno;
	return (v >> (pfn % 64)) & 1;
}

/* Entries of the pages map with the table (table) or pending flag set. */
static int page_count(struct tb *t, bool table)
{
	int fd = bpf_map__fd(t->skel->maps.pages), n = 0;
	__u64 key, next, *prev = NULL;
	struct kpt_page pg;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &pg) && (table ? pg.table : pg.pending))
			n++;
	}
	return n;
}

int tb_table_count(struct tb *t)
{
	return page_count(t, true);
}

int tb_pending_count(struct tb *t)
{
	return page_count(t, false);
}

int tb_events(struct tb *t)
{
	t->nev = 0;
	return ring_buffer__consume(t->rb);
}

int tb_check_counters(struct tb *t, const struct tb_kv *want, int n, int line)
{
	__u64 exp[KPT_C_MAX] = {}, got;
	int i;

	for (i = 0; i < n; i++)
		exp[want[i].idx] = want[i].val;
	for (i = 0; i < KPT_C_MAX; i++) {
		got = tb_counter(t, i, -1);
		if (got != exp[i]) {
			snprintf(t->why, sizeof(t->why),
				 "line %d: counter %s = %llu, want %llu", line,
				 tb_counter_name(i), (unsigned long long)got,
				 (unsigned long long)exp[i]);
			return -1;
		}
	}
	return 0;
}

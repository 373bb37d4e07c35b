// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kptwatch.bpf.o's own page-free programs, run through BPF_PROG_TEST_RUN:
 * the raw_tp pair, whose body the tp_btf pair shares (tp_btf programs
 * cannot be test-run). Each reads its page back through the per-CPU
 * stamp; a wrong slot or a page that is not the argument shows as a
 * verdict on the wrong pfn here. The interrupt that makes _nest the only
 * program run for a free is played by running _nest alone.
 */
#include <errno.h>
#include <string.h>

#include "tb.h"
#include "kptwatch.skel.h"

#define HINT		0xffffea0000000000ULL	/* vmemmap_base, as hinted */
#define PAGE_OF(pfn)	(HINT + (pfn) * 64)	/* struct page: 64 bytes */

struct ft {
	struct kptwatch_bpf *s;
	int ncpu;
	char why[512];
};

static int free_run(struct ft *f, struct bpf_program *p, __u64 pfn)
{
	__u64 args[2] = { PAGE_OF(pfn), 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = 0);

	return bpf_prog_test_run_opts(bpf_program__fd(p), &o) ? -errno : 0;
}

static __u64 counter(struct ft *f, int idx)
{
	return tb_counter_of(bpf_map__fd(f->s->maps.counters), f->ncpu, idx, -1);
}

/* pfn handed over with no flush since: its free is a violation */
static int pending(struct ft *f, __u64 pfn)
{
	int wfd = bpf_map__fd(f->s->maps.watched);
	struct kpt_page pg = { .pending = 1 };
	__u32 w = pfn / 64;
	__u64 bits = 0;

	pg.q.q_ts = pg.q.q_last_ts = 1;
	if (bpf_map_lookup_elem(wfd, &w, &bits))
		return -1;
	bits |= 1ULL << (pfn % 64);
	return bpf_map_update_elem(bpf_map__fd(f->s->maps.pages), &pfn, &pg, BPF_NOEXIST) ||
	       bpf_map_update_elem(wfd, &w, &bits, BPF_ANY);
}

static int free_steps(struct ft *f)
{
	struct bpf_program *main_p = f->s->progs.raw_tp_page_free;
	struct bpf_program *nest = f->s->progs.raw_tp_page_free_nest;
	struct kpt_page pg;
	__u64 pfn;

	/* an ordinary page: the main program stamps it, _nest leaves it */
	EXPECT_EQ(f, free_run(f, main_p, 100), 0);
	EXPECT_EQ(f, free_run(f, nest, 100), 0);
	EXPECT_EQ(f, counter(f, KPT_C_NESTED_FREE), 0);

	/* _nest alone (the main program skipped): _nest judges the page */
	EXPECT_EQ(f, pending(f, 200), 0);
	EXPECT_EQ(f, free_run(f, nest, 200), 0);
	EXPECT_EQ(f, counter(f, KPT_C_NESTED_FREE), 1);
	EXPECT_EQ(f, counter(f, KPT_C_VIOLATION), 1);
	pfn = 200;
	EXPECT_EQ(f, bpf_map_lookup_elem(bpf_map__fd(f->s->maps.pages), &pfn, &pg) ?
		  -errno : 0, -ENOENT);

	/* the main program judges its own page, and _nest then stays out */
	EXPECT_EQ(f, pending(f, 300), 0);
	EXPECT_EQ(f, pending(f, 301), 0);
	EXPECT_EQ(f, free_run(f, main_p, 300), 0);
	EXPECT_EQ(f, counter(f, KPT_C_VIOLATION), 2);
	EXPECT_EQ(f, free_run(f, nest, 300), 0);
	EXPECT_EQ(f, counter(f, KPT_C_NESTED_FREE), 1);
	/* its neighbour, never freed, is still pending: the pfn was exact */
	pfn = 301;
	EXPECT_EQ(f, bpf_map_lookup_elem(bpf_map__fd(f->s->maps.pages), &pfn, &pg) ?
		  -errno : 0, 0);
	EXPECT_EQ(f, pg.pending, 1);
	return 0;
}

int tb_free_checks(int *passed, int *failed)
{
	struct ft f = { .ncpu = libbpf_num_possible_cpus() };
	struct bpf_program *p;
	int err;

	f.s = kptwatch_bpf__open();
	if (!f.s) {
		printf("FAIL page_free_stamp: open: %s\n", strerror(errno));
		(*failed)++;
		return -1;
	}
	bpf_object__for_each_program(p, f.s->obj)
		bpf_program__set_autoload(p, p == f.s->progs.raw_tp_page_free ||
					     p == f.s->progs.raw_tp_page_free_nest);
	f.s->rodata->vmemmap_base_hint = HINT;
	err = kptwatch_bpf__load(f.s);
	if (err)
		snprintf(f.why, sizeof(f.why), "load: %s", strerror(-err));
	else
		err = free_steps(&f);
	printf("%s page_free_stamp%s%s\n", err ? "FAIL" : "ok", err ? ": " : "",
	       err ? f.why : "");
	if (err)
		(*failed)++;
	else
		(*passed)++;
	kptwatch_bpf__destroy(f.s);
	return err;
}

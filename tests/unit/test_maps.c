// SPDX-License-Identifier: GPL-2.0
/*
 * The map readers against real BPF maps made here: per-CPU sums, the
 * pending walk with its ages. Needs root (map creation); skipped without.
 */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hist.h"
#include "maps.h"
#include "unit.h"

static int ncpu;

static void test_counters(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "kpt_t_cnt", 4, 8, KPT_C_MAX, NULL);
	__u64 *v = calloc(ncpu, 8), out[KPT_C_MAX];

	CHECK(fd >= 0, "create: %s", strerror(errno));
	for (int c = 0; c < ncpu; c++)
		v[c] = c + 1;
	for (__u32 k = 0; k < KPT_C_MAX; k += 3)
		CHECK(!bpf_map_update_elem(fd, &k, v, 0), "update %u", k);
	CHECK(!read_counters(fd, out), "read");
	for (__u32 k = 0; k < KPT_C_MAX; k++)
		CHECK(out[k] == (k % 3 ? 0 : (__u64)ncpu * (ncpu + 1) / 2), "counter %u = %llu", k,
		      (unsigned long long)out[k]);
	close(fd);
	free(v);
}

static void test_hists(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "kpt_t_hist", 4, sizeof(struct kpt_hist),
				KPT_M_MAX, NULL);
	struct kpt_hist *v = calloc(ncpu, sizeof(*v)), *out = calloc(KPT_M_MAX, sizeof(*out));
	__u32 k = KPT_M_INVAL_DUR;

	CHECK(fd >= 0, "create: %s", strerror(errno));
	for (int c = 0; c < ncpu; c++) {
		v[c].slots[kpt_hist_slot(1000 * (c + 1))] = 1;
		v[c].count = 1;
		v[c].sum = 1000 * (c + 1);
		v[c].max = 1000 * (c + 1);
	}
	CHECK(!bpf_map_update_elem(fd, &k, v, 0), "update");
	CHECK(!read_hists(fd, out), "read");
	CHECK(out[k].count == (__u64)ncpu && out[k].max == 1000ULL * ncpu, "merged count %llu max %llu",
	      (unsigned long long)out[k].count, (unsigned long long)out[k].max);
	CHECK(out[KPT_M_ENQ_TO_FREE].count == 0, "other metrics empty");
	close(fd);
	free(v);
	free(out);
}

static void test_pending(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "kpt_t_pages", 8, sizeof(struct kpt_page),
				1024, NULL);
	struct run_result *rr = calloc(1, sizeof(*rr));
	__u64 now = now_ns();

	CHECK(fd >= 0, "create: %s", strerror(errno));
	for (__u64 pfn = 1; pfn <= 300; pfn++) {
		/* ages 1..300 ms */
		struct kpt_page p = { .q = { .q_ts = now - pfn * 1000000, .point = 5 },
				      .pending = 1, .table = pfn & 1 };

		CHECK(!bpf_map_update_elem(fd, &pfn, &p, 0), "update %llu", (unsigned long long)pfn);
	}
	/* known tables not handed over: not pending, however old */
	for (__u64 pfn = 1001; pfn <= 1020; pfn++) {
		struct kpt_page p = { .tbl = { .ts = 1 }, .table = 1 };

		CHECK(!bpf_map_update_elem(fd, &pfn, &p, 0), "update %llu", (unsigned long long)pfn);
	}
	CHECK(!read_pending(fd, now, 100000000, rr), "read");
	CHECK(rr->pending == 300, "pending %llu", (unsigned long long)rr->pending);
	CHECK(rr->pending_oldest_ns == 300000000, "oldest %llu",
	      (unsigned long long)rr->pending_oldest_ns);
	CHECK(rr->pending_over_age == 200, "over 100ms: %llu", (unsigned long long)rr->pending_over_age);
	CHECK(!read_pending(fd, now, 0, rr) && rr->pending_over_age == 0, "no limit, none over");
	/* queued after the end (during the teardown): not pending at the end */
	for (__u64 pfn = 301; pfn <= 310; pfn++) {
		struct kpt_page p = { .q = { .q_ts = now + pfn, .point = 5 }, .pending = 1 };

		CHECK(!bpf_map_update_elem(fd, &pfn, &p, 0), "update %llu", (unsigned long long)pfn);
	}
	CHECK(!read_pending(fd, now, 100000000, rr) && rr->pending == 300 &&
	      rr->pending_over_age == 200, "after the end: %llu pending, %llu over age",
	      (unsigned long long)rr->pending, (unsigned long long)rr->pending_over_age);
	close(fd);
	free(rr);
}

static void test_stack_none(void)
{
	__u64 ips[KPT_STACK_DEPTH];

	CHECK(read_stack(-1, -2, ips) == 0, "no stack id: nothing");
}

/*
 * A read that fails must say so: zeros from a map that could not be read
 * look like a clean run. A bad fd stands for any failing read.
 */
static void test_read_errors(void)
{
	struct run_result *rr = calloc(1, sizeof(*rr));
	struct kpt_hist *h = calloc(KPT_M_MAX, sizeof(*h));
	__u64 c[KPT_C_MAX], ips[KPT_STACK_DEPTH];
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "kpt_t_pages", 8, sizeof(struct kpt_page),
				16, NULL);
	int err;

	memset(c, 0xff, sizeof(c));
	CHECK((err = read_counters(-1, c)) == -EBADF, "counters on a bad fd: %d", err);
	CHECK(!c[0] && !c[KPT_C_MAX - 1], "what was not read is zero");
	CHECK((err = read_hists(-1, h)) == -EBADF, "hists on a bad fd: %d", err);
	CHECK((err = read_pending(-1, now_ns(), 0, rr)) == -EBADF, "pending walk on a bad fd: %d",
	      err);
	CHECK((err = read_stack(-1, 5, ips)) == -EBADF, "stack on a bad fd: %d", err);
	/* an empty map is a finished walk, not an error */
	CHECK(fd >= 0 && !read_pending(fd, now_ns(), 0, rr) && !rr->pending, "empty pending map");
	close(fd);
	/* a stack map without that id: the stack is lost, and that is said */
	fd = bpf_map_create(BPF_MAP_TYPE_STACK_TRACE, "kpt_t_stk", 4, sizeof(ips), 16, NULL);
	CHECK(fd >= 0 && (err = read_stack(fd, 5, ips)) == -ENOENT, "stack id not found: %d", err);

	CHECK(read_failed(rr, "counters", 0) == 0 && !rr->read_errors, "success records nothing");
	CHECK(read_failed(rr, "counters", -EBADF) == -EBADF && rr->read_errors == 1 &&
	      !strcmp(rr->read_error, "counters: Bad file descriptor"), "recorded: %d %s",
	      rr->read_errors, rr->read_error);
	read_failed(rr, "stack", -ENOENT);
	CHECK(rr->read_errors == 2 && strstr(rr->read_error, "counters"), "the first is kept: %s",
	      rr->read_error);
	close(fd);
	free(h);
	free(rr);
}

int main(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kpt_t_probe", 4, 4, 1, NULL);

	if (fd < 0) {
		printf("ok 1 - test_maps # SKIP cannot create BPF maps (%s): run as root\n",
		       strerror(errno));
		return 0;
	}
	close(fd);
	ncpu = libbpf_num_possible_cpus();
	RUN(test_counters);
	RUN(test_hists);
	RUN(test_pending);
	RUN(test_stack_none);
	RUN(test_read_errors);
	return unit_done();
}

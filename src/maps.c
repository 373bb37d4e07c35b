// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hist.h"
#include "maps.h"

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
__u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int read_counters(int fd, __u64 *counters)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < KPT_C_MAX; k++) {
		counters[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			counters[k] += v[c];
	}
	free(v);
	return 0;
}

int read_hists(int fd, struct kpt_hist *hists)
{
	int ncpu = libbpf_num_possible_cpus();
	struct kpt_hist *v;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < KPT_M_MAX; k++) {
		memset(&hists[k], 0, sizeof(hists[k]));
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			hist_merge(&hists[k], &v[c]);
	}
	free(v);
	return 0;
}

int read_pending(int fd, __u64 now, __u64 max_age, struct run_result *rr)
{
	__u64 key, next, *prev = NULL;
	struct kpt_pending p;

	rr->pending = rr->pending_oldest_ns = rr->pending_over_age = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &p))
			continue;	/* drained while we walked */
		__u64 age = now > p.q_ts ? now - p.q_ts : 0;

		rr->pending++;
		if (age > rr->pending_oldest_ns)
			rr->pending_oldest_ns = age;
		if (max_age && age > max_age)
			rr->pending_over_age++;
	}
	return 0;
}

int read_stack(int fd, __s32 id, __u64 *ips)
{
	int n = 0;

	if (id < 0 || bpf_map_lookup_elem(fd, &id, ips))
		return 0;
	while (n < KPT_STACK_DEPTH && ips[n])
		n++;
	return n;
}

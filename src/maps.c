// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the BPF maps. A read that fails is an error the caller must
 * record (read_failed): its figures would otherwise read as zeros, and
 * zeros look clean.
 */
#include <errno.h>
#include <stdio.h>
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

int read_failed(struct run_result *rr, const char *what, int err)
{
	if (err >= 0)
		return err;
	if (!rr->read_errors++)
		snprintf(rr->read_error, sizeof(rr->read_error), "%s: %s", what, strerror(-err));
	return err;
}

/*
 * Sum a per-CPU array of n records of size sz, each a run of __u64, into
 * out. Every index of an array exists: any failed lookup is an error. The
 * other entries are still read; the first error is returned.
 */
static int read_percpu(int fd, __u32 n, size_t sz, void *out,
		       void (*merge)(void *dst, const void *src))
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	char *v;

	memset(out, 0, n * sz);
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc(ncpu, sz);
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < n; k++) {
		int e = bpf_map_lookup_elem(fd, &k, v);

		if (e) {
			err = err ? err : e;
			continue;
		}
		for (int c = 0; c < ncpu; c++)
			merge((char *)out + k * sz, v + c * sz);
	}
	free(v);
	return err;
}

static void add_u64(void *dst, const void *src)
{
	*(__u64 *)dst += *(const __u64 *)src;
}

static void add_hist(void *dst, const void *src)
{
	kpt_hist_merge(dst, src);
}

int read_counters(int fd, __u64 *counters)
{
	return read_percpu(fd, KPT_C_MAX, sizeof(*counters), counters, add_u64);
}

int read_hists(int fd, struct kpt_hist *hists)
{
	return read_percpu(fd, KPT_M_MAX, sizeof(*hists), hists, add_hist);
}

int read_pending(int fd, __u64 now, __u64 max_age, struct run_result *rr)
{
	__u64 key, next, *prev = NULL;
	struct kpt_page pg;
	int err;

	rr->pending = rr->pending_oldest_ns = rr->pending_over_age = 0;
	while (!(err = bpf_map_get_next_key(fd, prev, &next))) {
		key = next;
		prev = &key;
		err = bpf_map_lookup_elem(fd, &key, &pg);
		if (err == -ENOENT)
			continue;	/* drained while we walked */
		if (err)
			return err;
		if (!pg.pending)
			continue;	/* a known table, not handed over */
		if (pg.q.q_ts > now)
			continue;	/* queued after the end, while detaching */
		__u64 age = now - pg.q.q_ts;

		rr->pending++;
		if (age > rr->pending_oldest_ns)
			rr->pending_oldest_ns = age;
		if (max_age && age > max_age)
			rr->pending_over_age++;
	}
	/* ENOENT ends the walk; anything else cut it short */
	return err == -ENOENT ? 0 : err;
}

int read_stack(int fd, __s32 id, __u64 *ips)
{
	int n = 0, err;

	memset(ips, 0, KPT_STACK_DEPTH * sizeof(*ips));
	if (id < 0)
		return 0;
	err = bpf_map_lookup_elem(fd, &id, ips);
	if (err) {
		memset(ips, 0, KPT_STACK_DEPTH * sizeof(*ips));
		return err;
	}
	while (n < KPT_STACK_DEPTH && ips[n])
		n++;
	return n;
}

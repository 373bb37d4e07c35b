/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * hist -i's figures while the programs are attached. A map read from user
 * space runs under bpf_disable_instrumentation(): it raises bpf_prog_active
 * on its CPU, and the kernel skips every kprobe and tracepoint program that
 * fires there until the read returns (on a preemptible kernel, in whatever
 * task runs there meanwhile). A syscall program run by BPF_PROG_TEST_RUN
 * raises nothing: it sums the per-CPU counters and histograms into .bss,
 * which user space reads through the skeleton's mmap.
 */
#ifndef KPT_SNAPSHOT_BPF_H
#define KPT_SNAPSHOT_BPF_H

#include "rule.bpf.h"

const volatile __u32 snap_ncpu = 1;	/* possible CPUs: set by user space */

__u64 snap_counters[KPT_C_MAX];
struct kpt_hist snap_hists[KPT_M_MAX];

static long kpt_snap_zero(__u32 m, void *data)
{
	__u64 *w;

	if (m >= KPT_M_MAX)
		return 1;
	w = (__u64 *)&snap_hists[m];
	/* volatile stores: clang would make a memset of the loop, BPF has none */
	for (__u32 i = 0; i < sizeof(struct kpt_hist) / sizeof(__u64); i++)
		KPT_WRITE_ONCE(w[i], 0);
	return 0;
}

static long kpt_snap_hist(__u32 m, void *data)
{
	__u32 cpu = *(__u32 *)data, key = m;
	struct kpt_hist *h, *d;

	if (m >= KPT_M_MAX)
		return 1;
	/* the bounded index before the call: key goes through the stack */
	d = &snap_hists[m];
	h = bpf_map_lookup_percpu_elem(&hists, &key, cpu);
	if (h)
		kpt_hist_merge(d, h);
	return 0;
}

/*
 * One counter of one CPU. A callback, not a loop around the lookup: the
 * key goes through the stack, and older verifiers (6.12) lose a loop
 * index's bound there and reject the loop as infinite.
 */
static long kpt_snap_counter(__u32 c, void *data)
{
	__u32 cpu = *(__u32 *)data, key = c;
	__u64 *d, *v;

	if (c >= KPT_C_MAX)
		return 1;
	d = &snap_counters[c];
	v = bpf_map_lookup_percpu_elem(&counters, &key, cpu);
	if (v)
		*d += *v;
	return 0;
}

static long kpt_snap_cpu(__u32 cpu, void *data)
{
	bpf_loop(KPT_C_MAX, kpt_snap_counter, &cpu, 0);
	bpf_loop(KPT_M_MAX, kpt_snap_hist, &cpu, 0);
	return 0;
}

/* The totals over every CPU, as read_counters() and read_hists() sum them. */
static __always_inline int kpt_snapshot(void)
{
	for (__u32 c = 0; c < KPT_C_MAX; c++)
		KPT_WRITE_ONCE(snap_counters[c], 0);
	bpf_loop(KPT_M_MAX, kpt_snap_zero, NULL, 0);
	bpf_loop(snap_ncpu, kpt_snap_cpu, NULL, 0);
	return 0;
}

#endif /* KPT_SNAPSHOT_BPF_H */

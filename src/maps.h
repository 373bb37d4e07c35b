/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the BPF maps: per-CPU sums, the pending walk, stacks. */
#ifndef KPT_MAPS_H
#define KPT_MAPS_H

#include <linux/types.h>
#include "report.h"

int read_counters(int fd, __u64 *counters);
int read_hists(int fd, struct kpt_hist *hists);
/* Count pages still pending at now (CLOCK_MONOTONIC ns) and their ages. */
int read_pending(int fd, __u64 now, __u64 max_age, struct run_result *rr);
/* A stack's addresses; returns how many (0 when unknown). */
int read_stack(int fd, __s32 id, __u64 *ips);
__u64 now_ns(void);

#endif

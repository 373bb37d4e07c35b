/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the BPF maps: per-CPU sums, the pending walk, stacks. */
#ifndef KPT_MAPS_H
#define KPT_MAPS_H

#include <linux/types.h>
#include "report.h"

/*
 * Each reader returns 0 or the first -errno; what could not be read is
 * left zero. A caller hands the error to read_failed, never drops it.
 */
int read_counters(int fd, __u64 *counters);
int read_hists(int fd, struct kpt_hist *hists);
/*
 * Count pages still pending at now (CLOCK_MONOTONIC ns, the end of the
 * watch) and their ages. A page queued after now is not counted: the
 * teardown detaches the page-free programs first, so nothing could have
 * seen it freed.
 */
int read_pending(int fd, __u64 now, __u64 max_age, struct run_result *rr);
/*
 * A stack's addresses; returns how many: 0 when the BPF side had no id
 * (its failure is counted there), -errno when the id could not be read.
 */
int read_stack(int fd, __s32 id, __u64 *ips);
/*
 * Record a failed read of what ("counters", ...) in rr, which makes the
 * verdict incomplete. Returns err; err >= 0 records nothing.
 */
int read_failed(struct run_result *rr, const char *what, int err);
__u64 now_ns(void);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The log-linear histograms of include/kptwatch.h: merge, percentiles, text. */
#ifndef KPT_HIST_H
#define KPT_HIST_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "kptwatch.h"

/* Exclusive upper bound of a slot. */
__u64 hist_slot_hi(__u32 slot);
/*
 * Nearest-rank percentile (pct in (0, 100]) read off the slot that holds
 * it: the slot's midpoint, capped at the recorded max. The true value lies
 * in the same slot, so the error is at most half a slot: exact below 8,
 * within 1/16 (6.25%) of the value above.
 */
__u64 hist_percentile(const struct kpt_hist *h, double pct);
/*
 * cur - prev, for hist -i. max is exact when the interval set a new overall
 * max; otherwise it is the top of the highest slot that grew, capped at
 * the overall max.
 */
void hist_sub(struct kpt_hist *d, const struct kpt_hist *cur, const struct kpt_hist *prev);
/* "812ns", "12.3us", "1.02ms", "2.50s"; plain numbers when !ns. */
char *fmt_value(char *buf, size_t len, __u64 v, bool ns);
/* The histogram in power-of-two rows like libbpf-tools, at most 80 columns. */
void hist_print(FILE *f, const char *title, const struct kpt_hist *h, bool ns);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Histogram arithmetic. The kernel fills log-linear slots (8 per power of
 * two); percentiles are read at full resolution, and the text rendering
 * folds each power of two into one row, as libbpf-tools print them.
 */
#include <string.h>
#include "hist.h"

__u64 hist_slot_hi(__u32 slot)
{
	return kpt_hist_slot_lo(slot + 1);
}

__u64 hist_percentile(const struct kpt_hist *h, double pct)
{
	__u64 total = 0, rank, seen = 0;

	for (__u32 i = 0; i < KPT_HIST_SLOTS; i++)
		total += h->slots[i];
	if (!total)
		return 0;
	if (pct >= 100)
		return h->max;
	rank = (__u64)(pct / 100.0 * total);
	if ((double)rank < pct / 100.0 * total)
		rank++;		/* ceil */
	if (!rank)
		rank = 1;
	for (__u32 i = 0; i < KPT_HIST_SLOTS; i++) {
		__u64 lo, hi, mid;

		seen += h->slots[i];
		if (seen < rank)
			continue;
		if (i == KPT_HIST_SLOTS - 1)
			return h->max;	/* clamped values: only max is known */
		lo = kpt_hist_slot_lo(i);
		hi = hist_slot_hi(i) - 1;
		mid = lo + (hi - lo) / 2;
		return h->max && mid > h->max ? h->max : mid;
	}
	return h->max;
}

char *fmt_value(char *buf, size_t len, __u64 v, bool ns)
{
	static const struct { __u64 div; const char *unit; } u[] = {
		{ 60000000000ULL, "m" }, { 1000000000, "s" }, { 1000000, "ms" }, { 1000, "us" },
	};

	if (!ns) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	}
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		double d = (double)v / u[i].div;

		if (v < u[i].div)
			continue;
		snprintf(buf, len, d >= 100 ? "%.0f%s" : d >= 10 ? "%.1f%s" : "%.2f%s", d,
			 u[i].unit);
		return buf;
	}
	snprintf(buf, len, "%lluns", (unsigned long long)v);
	return buf;
}

/* Row 0 holds 0, row r >= 1 holds [2^(r-1), 2^r). */
#define ROWS (KPT_HIST_MAX_LOG2 + 3)

static int row_of(__u64 lo)
{
	int r = 0;

	while (lo) {
		lo >>= 1;
		r++;
	}
	return r;
}

void hist_print(FILE *f, const char *title, const struct kpt_hist *h, bool ns)
{
	__u64 rows[ROWS] = {}, top = 0;
	int first = -1, last = -1, w = 5, bar;
	char p50[16], p90[16], p99[16], mx[16], avg[16], hi[24];

	for (__u32 i = 0; i < KPT_HIST_SLOTS; i++)
		rows[row_of(kpt_hist_slot_lo(i))] += h->slots[i];
	for (int r = 0; r < ROWS; r++) {
		if (!rows[r])
			continue;
		if (first < 0)
			first = r;
		last = r;
		if (rows[r] > top)
			top = rows[r];
	}
	if (first < 0) {
		fprintf(f, "%s: no samples\n", title);
		return;
	}
	fprintf(f, "%s: count %llu", title, (unsigned long long)h->count);
	fprintf(f, "  avg %s  p50 %s  p90 %s  p99 %s  max %s\n",
		fmt_value(avg, sizeof(avg), h->count ? h->sum / h->count : 0, ns),
		fmt_value(p50, sizeof(p50), hist_percentile(h, 50), ns),
		fmt_value(p90, sizeof(p90), hist_percentile(h, 90), ns),
		fmt_value(p99, sizeof(p99), hist_percentile(h, 99), ns),
		fmt_value(mx, sizeof(mx), h->max, ns));
	w = snprintf(hi, sizeof(hi), "%llu", last ? (1ULL << (last - 1)) * 2 - 1 : 0ULL);
	if (w < 5)
		w = 5;
	/* "LO -> HI : COUNT    |BAR|" in 80 columns */
	bar = 80 - 2 * w - 4 - 3 - 8 - 3;
	if (bar > 40)
		bar = 40;
	fprintf(f, "%*s%-*s : count    distribution\n", w + 4, ns ? "nsecs" : "value", w, "");
	for (int r = first; r <= last; r++) {
		unsigned long long lo = r ? 1ULL << (r - 1) : 0, up = r ? 2 * lo - 1 : 0;
		int n = top ? (int)((rows[r] * bar + top - 1) / top) : 0;
		char stars[64];

		memset(stars, '*', n);
		stars[n] = 0;
		fprintf(f, "%*llu -> %-*llu : %-8llu |%-*s|\n", w, lo, w, up,
			(unsigned long long)rows[r], bar, stars);
	}
	fprintf(f, "\n");
}

void hist_sub(struct kpt_hist *d, const struct kpt_hist *cur, const struct kpt_hist *prev)
{
	__u32 top = 0;

	for (__u32 i = 0; i < KPT_HIST_SLOTS; i++) {
		d->slots[i] = cur->slots[i] - prev->slots[i];
		if (d->slots[i])
			top = i;
	}
	d->count = cur->count - prev->count;
	d->sum = cur->sum - prev->sum;
	/* a new overall max happened in this interval; else its slot's edge */
	d->max = !d->count ? 0 : cur->max > prev->max ? cur->max :
		 hist_slot_hi(top) - 1 < cur->max ? hist_slot_hi(top) - 1 : cur->max;
}

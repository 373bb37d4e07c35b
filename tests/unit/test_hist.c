// SPDX-License-Identifier: GPL-2.0
/* Histogram slots and percentiles against brute force on random values. */
#include <linux/types.h>
#include "hist.h"
#include "unit.h"

static __u64 rng = 88172645463325252ULL;

static __u64 xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* What the BPF side does with one value. */
static void add(struct kpt_hist *h, __u64 v)
{
	__u32 s = kpt_hist_slot(v);

	h->slots[s >= KPT_HIST_SLOTS ? KPT_HIST_SLOTS - 1 : s]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static int cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void test_slot_bounds(void)
{
	__u64 prev = 0;

	for (__u32 s = 0; s < KPT_HIST_SLOTS; s++) {
		__u64 lo = kpt_hist_slot_lo(s), hi = hist_slot_hi(s);

		CHECK(kpt_hist_slot(lo) == s, "slot(lo(%u)) = %u", s, kpt_hist_slot(lo));
		CHECK(kpt_hist_slot(hi - 1) == s, "slot(hi(%u)-1) = %u", s, kpt_hist_slot(hi - 1));
		CHECK(s == 0 || lo > prev, "slot %u lo %llu not above %llu", s,
		      (unsigned long long)lo, (unsigned long long)prev);
		/* log-linear: at most 1/8 of the value wide */
		CHECK(lo < KPT_HIST_SUB || (hi - lo) * KPT_HIST_SUB <= lo, "slot %u too wide", s);
		prev = lo;
	}
	CHECK(kpt_hist_slot(~0ULL) == KPT_HIST_SLOTS, "huge value must be past the end");
	CHECK(kpt_hist_slot(0) == 0 && kpt_hist_slot(7) == 7 && kpt_hist_slot(8) == 8,
	      "small values get a slot each");
}

/* Nearest rank, the definition hist_percentile() follows. */
static __u64 exact(const __u64 *sorted, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * n);

	if ((double)rank < p / 100.0 * n)
		rank++;
	return sorted[rank ? rank - 1 : 0];
}

static void check_dist(const char *name, __u64 (*gen)(void), size_t n)
{
	static const double ps[] = { 1, 25, 50, 90, 99, 99.9, 100 };
	struct kpt_hist *h = calloc(1, sizeof(*h));
	__u64 *v = calloc(n, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		v[i] = gen();
		add(h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		__u64 x = exact(v, n, ps[k]), e = hist_percentile(h, ps[k]);
		__u32 s = kpt_hist_slot(x);
		__u64 half = (hist_slot_hi(s) - kpt_hist_slot_lo(s)) / 2;
		__u64 err = e > x ? e - x : x - e;

		CHECK(kpt_hist_slot(e) == s, "%s p%g: estimate %llu in slot %u, exact %llu in %u",
		      name, ps[k], (unsigned long long)e, kpt_hist_slot(e),
		      (unsigned long long)x, s);
		CHECK(err <= half, "%s p%g: |%llu - %llu| > half slot %llu", name, ps[k],
		      (unsigned long long)e, (unsigned long long)x, (unsigned long long)half);
		/* the documented bound: exact below 8, else within 1/16 */
		CHECK(x < 8 ? err == 0 : err * 16 <= x, "%s p%g: error %llu beyond 1/16 of %llu",
		      name, ps[k], (unsigned long long)err, (unsigned long long)x);
	}
	CHECK(hist_percentile(h, 100) == v[n - 1], "%s: p100 must be the max", name);
	free(v);
	free(h);
}

static __u64 gen_small(void) { return xorshift() % 20; }
static __u64 gen_uniform(void) { return 1000 + xorshift() % 1000000; }
/* spread over every power of two the histogram holds (below 2^48) */
static __u64 gen_logu(void) { return xorshift() >> (xorshift() % 48 + 16); }
static __u64 gen_const(void) { return 123456; }
static __u64 gen_bimodal(void)
{
	return xorshift() % 4 ? 5000 + xorshift() % 100 : 20000000 + xorshift() % 1000000;
}

static void test_percentiles_vs_bruteforce(void)
{
	check_dist("small", gen_small, 1000);
	check_dist("uniform", gen_uniform, 20000);
	check_dist("log-uniform", gen_logu, 20000);
	check_dist("constant", gen_const, 100);
	check_dist("bimodal", gen_bimodal, 5000);
	check_dist("one", gen_uniform, 1);
}

static void test_empty(void)
{
	struct kpt_hist h = {};

	CHECK(hist_percentile(&h, 50) == 0, "empty p50 must be 0");
	CHECK(hist_percentile(&h, 100) == 0, "empty p100 must be 0");
}

static void test_clamped_last_slot(void)
{
	struct kpt_hist h = {};

	add(&h, 1ULL << 62);
	add(&h, 1ULL << 61);
	CHECK(h.slots[KPT_HIST_SLOTS - 1] == 2, "values past the end land in the last slot");
	CHECK(hist_percentile(&h, 50) == 1ULL << 62, "clamped slot reads as max");
}

static void test_merge(void)
{
	struct kpt_hist *one = calloc(1, sizeof(*one)), *cpu = calloc(4, sizeof(*cpu));
	struct kpt_hist *m = calloc(1, sizeof(*m));

	for (int i = 0; i < 5000; i++) {
		__u64 v = gen_logu();

		add(one, v);
		add(&cpu[xorshift() % 4], v);
	}
	for (int c = 0; c < 4; c++)
		kpt_hist_merge(m, &cpu[c]);
	CHECK(!memcmp(m, one, sizeof(*m)), "merged per-CPU histograms differ from one");
	free(one);
	free(cpu);
	free(m);
}

static void test_render_80_columns(void)
{
	struct kpt_hist *h = calloc(1, sizeof(*h));
	char *buf = NULL, *line, *save;
	size_t len = 0;
	unsigned long long total = 0, cnt, lo, hi;
	FILE *f = open_memstream(&buf, &len);
	int rows = 0;

	for (int i = 0; i < 3000; i++)
		add(h, gen_logu() >> 10);
	add(h, 1ULL << 47);
	hist_print(f, "enq_to_free", h, true);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		CHECK(strlen(line) <= 80, "line longer than 80: '%s'", line);
		if (sscanf(line, " %llu -> %llu : %llu", &lo, &hi, &cnt) == 3) {
			total += cnt;
			rows++;
			CHECK(lo == 0 ? hi == 0 : hi == 2 * lo - 1, "row bounds %llu -> %llu", lo,
			      hi);
		}
	}
	CHECK(total == h->count, "rows sum to %llu, count %llu", total,
	      (unsigned long long)h->count);
	CHECK(rows >= 20, "expected the full range of rows, got %d", rows);
	free(buf);
	free(h);
}

static void test_fmt_value(void)
{
	static const struct { __u64 v; bool ns; const char *s; } c[] = {
		{ 812, true, "812ns" }, { 12300, true, "12.3us" }, { 1020000, true, "1.02ms" },
		{ 2500000000ULL, true, "2.50s" }, { 90000000000ULL, true, "1.50m" },
		{ 150000, true, "150us" }, { 42, false, "42" },
	};
	char b[32];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		CHECK(!strcmp(fmt_value(b, sizeof(b), c[i].v, c[i].ns), c[i].s),
		      "%llu -> '%s', want '%s'", (unsigned long long)c[i].v, b, c[i].s);
}

static void test_interval_delta(void)
{
	struct kpt_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct kpt_hist *d = calloc(1, sizeof(*d));

	add(a, 100);
	add(a, 5000);
	*b = *a;
	add(b, 300);
	hist_sub(d, b, a);
	CHECK(d->count == 1 && d->sum == 300 && d->slots[kpt_hist_slot(300)] == 1,
	      "one new sample");
	CHECK(d->max >= 300 && d->max < hist_slot_hi(kpt_hist_slot(300)),
	      "max within the sample's slot: %llu", (unsigned long long)d->max);
	*a = *b;
	add(b, 9000);
	hist_sub(d, b, a);
	CHECK(d->max == 9000, "a new overall max is exact: %llu", (unsigned long long)d->max);
	hist_sub(d, b, b);
	CHECK(d->count == 0 && d->max == 0, "nothing new");
	free(a);
	free(b);
	free(d);
}

int main(void)
{
	RUN(test_slot_bounds);
	RUN(test_percentiles_vs_bruteforce);
	RUN(test_empty);
	RUN(test_clamped_last_slot);
	RUN(test_merge);
	RUN(test_render_80_columns);
	RUN(test_fmt_value);
	RUN(test_interval_delta);
	return unit_done();
}

// SPDX-License-Identifier: GPL-2.0
/* JSON output parses with jq and says the right things; JUnit validates. */
#include <unistd.h>
#include "hist.h"
#include "output.h"
#include "unit.h"

static struct ksyms *ks;

/* Run fn into a string. */
#define CAPTURE(buf, call) do {						\
	size_t _len;							\
	FILE *f = open_memstream(&(buf), &_len);			\
	call;								\
	fclose(f);							\
} while (0)

static int jq(const char *filter, const char *text)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "jq -e '%s' >/dev/null 2>&1", filter);
	return unit_pipe(cmd, text);
}

static struct kpt_event event(int type)
{
	struct kpt_event e = {
		.ts = 2000001000, .q_ts = 2000000000, .pfn = 0x1234, .va_start = 0xffffc90000200000,
		.va_end = 0xffffc90000400000, .range_start = 0xffffc90000000000,
		.range_end = 0xffffc90000100000, .value = 1000, .stack_id = 7, .pid = 42, .cpu = 1,
		.type = type, .point = KPT_PT_PMD_FREE_PTE_PAGE, .order = 0,
	};

	memcpy(e.comm, "kworker/1:\"x\"\t", 14);
	return e;
}

static const __u64 ips[] = { 0xffffffff81349fc4ULL, 0xffffffff81631450ULL };
/* the hand-over's stack: pud_free_pmd_page+0x20, vfree+0x8 */
static const __u64 q_ips[] = { 0xffffffff81349cf0ULL, 0xffffffff81624b08ULL };

static void test_checker_works(void)
{
	CHECK(jq(".", "{\"a\":1}\n") == 0, "jq must accept valid JSON");
	CHECK(jq(".", "{\"a\":1,}\n") != 0, "jq must refuse broken JSON");
	CHECK(unit_pipe("xmllint --noout - 2>/dev/null", "<a><b></a>") != 0,
	      "xmllint must refuse broken XML");
}

static void test_trace_ndjson(void)
{
	char *buf = NULL;

	CAPTURE(buf, for (int t = KPT_EV_ENQUEUE; t <= KPT_EV_RANGE_VIOLATION; t++) {
		struct kpt_event e = event(t);
		bool v = t >= KPT_EV_VIOLATION;

		out_event_json(f, &e, 2000000000, v ? ips : NULL, v ? 2 : 0, v ? q_ips : NULL,
			       v ? 2 : 0, ks);
	});
	CHECK(jq("select(length > 0)", buf) == 0, "NDJSON parses: %s", buf);
	CHECK(unit_pipe("jq -s -e 'length == 8' >/dev/null", buf) == 0, "eight lines");
	CHECK(unit_pipe("jq -s -e '[.[].event] == [\"enqueue\",\"drain_begin\","
			"\"drain_end\",\"inval_begin\",\"inval_end\",\"free\",\"violation\","
			"\"range_violation\"]' >/dev/null", buf) == 0, "event names in order");
	CHECK(unit_pipe("jq -s -e '.[6] | .pfn == \"0x1234\" and .latency_ns == 1000 and "
			".point == \"pmd_free_pte_page\" and "
			".stack[0] == \"pmd_free_pte_page+0x14\" and .rel_ns == 1000 and "
			".comm == \"kworker/1:\\\"x\\\"\\t\"' >/dev/null", buf) == 0,
	      "violation fields: %s", buf);
	CHECK(unit_pipe("jq -s -e '.[6] | .stack == [\"pmd_free_pte_page+0x14\", "
			"\"__free_pages+0x10\"] and .q_stack == [\"pud_free_pmd_page+0x20\", "
			"\"vfree+0x8\"]' >/dev/null", buf) == 0, "both stacks: %s", buf);
	CHECK(unit_pipe("jq -s -e '.[4] | .dur_ns == 1000 and "
			".range_start == \"0xffffc90000000000\"' >/dev/null", buf) == 0,
	      "inval_end fields");
	for (char *p = buf; (p = strchr(p, '\n')); p++)
		CHECK(p[1] == 0 || p[1] == '{', "one document per line");
	free(buf);
}

static void test_trace_text(void)
{
	char *buf = NULL;

	CAPTURE(buf, for (int t = KPT_EV_ENQUEUE; t <= KPT_EV_RANGE_VIOLATION; t++) {
		struct kpt_event e = event(t);
		bool v = t >= KPT_EV_VIOLATION;

		out_event_text(f, &e, 2000000000, v ? ips : NULL, v ? 2 : 0, v ? q_ips : NULL,
			       v ? 2 : 0, ks);
	});
	CHECK(strstr(buf, "0.000001     1   42      kworker/1:\"x\"\\x09 enqueue  "),
	      "enqueue line: %s", buf);
	CHECK(!strchr(buf, '\t'), "control characters in comm are escaped");
	CHECK(strstr(buf, "pfn 0x1234 order 0 from pmd_free_pte_page after 1.00us: NOT FLUSHED"),
	      "violation line: %s", buf);
	CHECK(strstr(buf, "range 0xffffc90000000000-0xffffc90000100000 took 1.00us"), "inval_end");
	CHECK(strstr(buf, "pages 1000 took 1.00us"), "drain_end: %s", buf);
	CHECK(strstr(buf, "  pmd_free_pte_page+0x14\n"), "stack line");
	CHECK(strstr(buf, " freed by:\n               pmd_free_pte_page+0x14\n"
		      "               __free_pages+0x10\n"
		      "             handed over (q(P)) by:\n               pud_free_pmd_page+0x20\n"
		      "               vfree+0x8\n"), "both stacks, labelled: %s", buf);
	free(buf);
}

/* without --handover-stacks: the free's stack, the hand-over point named */
static void test_violation_no_q_stack(void)
{
	struct kpt_event e = event(KPT_EV_VIOLATION);
	char *buf = NULL;

	e.q_stack_id = -2;
	e.point = KPT_PT_ASYNC_FREE;
	CAPTURE(buf, out_event_text(f, &e, 2000000000, ips, 2, NULL, 0, ks));
	CHECK(strstr(buf, " freed by:\n               pmd_free_pte_page+0x14\n"), "%s", buf);
	CHECK(strstr(buf, "handed over (q(P)) at kernel_pgtable_async_free: stack not recorded "
		      "(--handover-stacks)\n"), "the point, and how to get its stack: %s", buf);
	CHECK(!strstr(buf, "no stack"), "no 'no stack' line: %s", buf);
	free(buf);
	/* a capture that failed is not called unrecorded */
	e.q_stack_id = -17;
	CAPTURE(buf, out_event_text(f, &e, 2000000000, ips, 2, NULL, 0, ks));
	CHECK(strstr(buf, "no stack of the hand-over (stack id -17)"), "%s", buf);
	free(buf);
}

static void fill(struct run_result *rr)
{
	memset(rr, 0, sizeof(*rr));
	for (__u64 v = 1; v < 100000; v = v * 3 / 2 + 1) {
		struct kpt_hist *h = &rr->hists[KPT_M_ENQ_TO_FREE];

		h->slots[kpt_hist_slot(v)]++;
		h->count++;
		h->sum += v;
		h->max = v;
	}
	rr->counters[KPT_C_QUEUED] = 10;
	rr->counters[KPT_C_VIOLATION] = 1;
	rr->counters[KPT_C_POINT_BASE + KPT_PT_PMD_FREE_PTE_PAGE] = 10;
	rr->viols[0].ev = event(KPT_EV_VIOLATION);
	memcpy(rr->viols[0].ips, ips, sizeof(ips));
	rr->viols[0].nips = 2;
	memcpy(rr->viols[0].q_ips, q_ips, sizeof(q_ips));
	rr->viols[0].nq_ips = 2;
	rr->nviols = 1;
	rr->elapsed_ns = 1500000000;
	rr->t0 = 2000000000;
}

static void test_utf8_seq(void)
{
	static const struct { const char *s; int len; __u32 cp; } c[] = {
		{ "a", 1, 'a' }, { "\xc3\xb6", 2, 0xf6 }, { "\xe2\x82\xac", 3, 0x20ac },
		{ "\xf0\x9f\x98\x80", 4, 0x1f600 }, { "\xc2\x9b", 2, 0x9b },
		{ "\xff", 0, 0 }, { "\xfe", 0, 0 }, { "\x80", 0, 0 },
		{ "\xc0\xaf", 0, 0 },			/* overlong '/' */
		{ "\xe0\x80\xaf", 0, 0 },		/* overlong, three bytes */
		{ "\xed\xa0\x80", 0, 0 },		/* a UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", 0, 0 },	/* past U+10FFFF */
		{ "\xe2\x82", 0, 0 },			/* cut short */
		{ "\xc3(", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		__u32 cp = 0;
		int len = utf8_seq(c[i].s, strlen(c[i].s), &cp);

		CHECK(len == c[i].len && (!len || cp == c[i].cp), "case %zu: len %d cp %#x", i,
		      len, cp);
	}
}

/*
 * A comm and symbol names are bytes from the kernel: invalid UTF-8 and
 * control characters must leave every format valid (jq, xmllint) and put
 * no raw control byte on a terminal.
 */
static void build_check(struct env *env, struct plan *p, struct run_result *rr,
			struct verdict *v);

/* The same bytes in JUnit: xmllint accepts the file, the bytes read as \xNN. */
static void junit_raw_bytes(const struct ksyms *k, const __u64 *bad_ips);

static const char bad_comm[KPT_COMM_LEN] = "k\xff\xfe\x1b[31m\x01\xc3\xb6\xc0\xaf";

static void test_raw_bytes(void)
{
	struct ksyms *k = ksyms_parse("ffffffff81349f00 T bad\xffsym\x1b[2J\n"
				      "ffffffff81631400 T fine_sym\n");
	__u64 bad_ips[] = { 0xffffffff81349f10ULL, 0xffffffff81631410ULL };
	struct kpt_event e = event(KPT_EV_VIOLATION);
	char *buf = NULL;

	CHECK(k && ksyms_search(k, bad_ips[0]), "the fixture parses");
	memcpy(e.comm, bad_comm, KPT_COMM_LEN);
	CAPTURE(buf, out_event_json(f, &e, 2000000000, bad_ips, 2, NULL, 0, k));
	CHECK(jq(".", buf) == 0, "JSON with raw bytes parses: %s", buf);
	CHECK(jq(".comm == \"k\\u00ff\\u00fe\\u001b[31m\\u0001\u00f6\\u00c0\\u00af\"", buf) == 0,
	      "comm: bad bytes as \\u00XX, valid UTF-8 kept: %s", buf);
	CHECK(jq(".stack[0] == \"bad\\u00ffsym\\u001b[2J+0x10\"", buf) == 0, "symbol: %s", buf);
	CHECK(!memchr(buf, 0xff, strlen(buf)) && !memchr(buf, 0x1b, strlen(buf)), "no raw bytes");
	free(buf);

	CAPTURE(buf, out_event_text(f, &e, 2000000000, bad_ips, 2, NULL, 0, k));
	for (char *p = buf; *p; p++)
		CHECK((unsigned char)*p >= 0x20 || *p == '\n', "raw control byte %#x in text",
		      (unsigned char)*p);
	CHECK(!memchr(buf, 0xff, strlen(buf)), "raw 0xff in text");
	CHECK(strstr(buf, "k\\xff\\xfe\\x1b[31m\\x01\xc3\xb6\\xc0\\xaf"), "comm escaped: %s", buf);
	CHECK(strstr(buf, "bad\\xffsym\\x1b[2J+0x10"), "symbol escaped: %s", buf);
	free(buf);
	junit_raw_bytes(k, bad_ips);
	ksyms_free(k);
}

static void junit_raw_bytes(const struct ksyms *k, const __u64 *bad_ips)
{
	struct env env;
	struct plan p;
	struct run_result rr;
	struct verdict v;
	char path[] = "/tmp/kpt-junit-XXXXXX", cmd[512];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	build_check(&env, &p, &rr, &v);
	memcpy(rr.viols[0].ev.comm, bad_comm, KPT_COMM_LEN);
	memcpy(rr.viols[0].ips, bad_ips, 2 * sizeof(*bad_ips));
	CHECK(out_junit(f, &env, &p, &rr, &v, k) == 0, "write %s", path);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s 2>&1", path);
	CHECK(unit_pipe(cmd, "") == 0, "JUnit with raw bytes must be well-formed XML");
	snprintf(cmd, sizeof(cmd), "xmllint --xpath '//testcase[@name=\"no_violation\"]/failure' "
		 "%s | grep -qF 'comm k\\xff\\xfe\\x1b[31m\\x01\xc3\xb6\\xc0\\xaf' && "
		 "xmllint --xpath '//failure' %s | grep -qF 'bad\\xffsym\\x1b[2J+0x10'",
		 path, path);
	CHECK(unit_pipe(cmd, "") == 0, "comm and symbol in the failure (%s)", path);
	unlink(path);
}

static void test_hist_json(void)
{
	struct run_result rr;
	char *buf = NULL, filter[256];

	fill(&rr);
	CAPTURE(buf, out_hist_json(f, &rr, NULL, NULL));
	CHECK(jq(".", buf) == 0, "hist JSON parses: %s", buf);
	snprintf(filter, sizeof(filter), ".command == \"hist\" and (.metrics | length) == %d and "
		 ".metrics[0].name == \"enq_to_free\" and .metrics[0].p50 == %llu and "
		 ".counters.queued == 10", KPT_M_MAX,
		 (unsigned long long)hist_percentile(&rr.hists[0], 50));
	CHECK(jq(filter, buf) == 0, "hist fields (%s)", filter);
	CHECK(jq(".metrics[0].count == ([.metrics[0].slots[].count] | add)", buf) == 0,
	      "slots sum to the count");
	free(buf);
}

/*
 * hist -i: each interval is one NDJSON line of its own, carrying its drops,
 * map_full and violations, and one that lost events says so in text too.
 */
static void test_hist_intervals(void)
{
	struct run_result rr;
	__u64 c[KPT_C_MAX] = {};
	struct hist_interval iv = { .n = 2, .rel_ns = 2000000000, .dur_ns = 1000000000,
				    .counters = c, .coverage = "complete", .plan_complete = true };
	struct verdict v = { .n = 2 };
	char *buf = NULL;

	fill(&rr);
	iv.hists = rr.hists;
	c[KPT_C_QUEUED] = 5;
	c[KPT_C_RB_DROP] = 3;
	c[KPT_C_MAP_FULL] = 1;
	c[KPT_C_VIOLATION] = 2;
	c[KPT_C_RANGE_VIOLATION] = 1;
	v.r[0].kind = R_INCOMPLETE;
	snprintf(v.r[0].text, sizeof(v.r[0].text), "ring buffer dropped 3 events");
	v.r[1].kind = R_FAIL;
	snprintf(v.r[1].text, sizeof(v.r[1].text), "1 page freed before an IOMMU flush");
	CAPTURE(buf, out_interval_json(f, &iv); c[KPT_C_RB_DROP] = c[KPT_C_MAP_FULL] = 0;
		c[KPT_C_VIOLATION] = c[KPT_C_RANGE_VIOLATION] = 0; iv.n = 3;
		out_interval_json(f, &iv);
		iv.n = 4; iv.plan_complete = false; iv.coverage = "partial: no free_pagetable";
		out_interval_json(f, &iv);
		out_hist_summary_json(f, &rr, 4, NULL, &v));
	CHECK(unit_pipe("jq -s -e 'length == 4' >/dev/null", buf) == 0, "four lines: %s", buf);
	for (char *p = buf; (p = strchr(p, '\n')); p++)
		CHECK(p[1] == 0 || p[1] == '{', "one document per line");
	CHECK(unit_pipe("jq -s -e '.[0] | .event == \"interval\" and .interval == 2 and "
			".drops == 3 and .map_full == 1 and .violations == 3 and .incomplete and "
			".counters.queued == 5 and .dur_ns == 1000000000 and "
			"(.metrics | length) > 0' >/dev/null", buf) == 0, "interval 2: %s", buf);
	CHECK(unit_pipe("jq -s -e '.[1] | .interval == 3 and .drops == 0 and "
			"(.incomplete | not) and .coverage == \"complete\"' >/dev/null", buf) == 0,
	      "interval 3: %s", buf);
	CHECK(unit_pipe("jq -s -e '.[2] | .interval == 4 and .drops == 0 and .incomplete and "
			".coverage == \"partial: no free_pagetable\"' >/dev/null", buf) == 0,
	      "interval 4, coverage incomplete: %s", buf);
	CHECK(unit_pipe("jq -s -e '.[3] | .event == \"summary\" and .intervals == 4 and "
			".counters.queued == 10 and .violations == 1 and .incomplete and "
			".incomplete_reasons == [\"ring buffer dropped 3 events\"]' >/dev/null",
			buf) == 0, "summary: %s", buf);
	free(buf);

	c[KPT_C_RB_DROP] = 4;
	iv.plan_complete = true;
	CAPTURE(buf, out_interval_text(f, &iv); iv.plan_complete = false; c[KPT_C_RB_DROP] = 0;
		out_interval_text(f, &iv); out_incomplete_text(f, &v));
	CHECK(strstr(buf, "interval 4, +2.000s") && strstr(buf, "enq_to_free"), "text: %s", buf);
	CHECK(strstr(buf, "drops 4  map_full 0  violations 0  INCOMPLETE (events lost)\n"),
	      "drops shown: %s", buf);
	CHECK(strstr(buf, "drops 0  map_full 0  violations 0  INCOMPLETE (coverage)\n"),
	      "coverage shown: %s", buf);
	CHECK(strstr(buf, "\nincomplete: ring buffer dropped 3 events\n") &&
	      !strstr(buf, "IOMMU flush"), "only the incomplete reasons: %s", buf);
	free(buf);
}

static void build_check(struct env *env, struct plan *p, struct run_result *rr, struct verdict *v)
{
	struct plan_input in = { .kernel_btf = true, .btf_loaded = true };

	memset(env, 0, sizeof(*env));
	for (int i = 0; i < PP_MAX; i++)
		in.btf_func[i] = i != PP_PAGETABLE_FREE_KERNEL;
	plan_build(&in, p);
	fill(rr);
	env->max_ns[KPT_M_ENQ_TO_FREE] = 1000;
	env->max_ns[KPT_M_DRAIN_DUR] = 1000;
	rr->pending = 2;
	rr->cmd_ran = true;
	rr->cmd_status = 1 << 8;
	verdict_compute(env, p, rr, v);
}

static void test_check_json(void)
{
	static char *argv_cmd[] = { "sh", "-c", "exit 1", NULL };
	struct env env;
	struct plan p;
	struct run_result rr;
	struct verdict v;
	char *buf = NULL;

	build_check(&env, &p, &rr, &v);
	env.argv_cmd = argv_cmd;
	CAPTURE(buf, out_check(f, true, &env, &p, &rr, &v, ks));
	CHECK(jq(".", buf) == 0, "check JSON parses: %s", buf);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1, "one document, one line");
	CHECK(jq(".verdict == \"failed\" and .exit_code == 1 and .violations_total == 1", buf) == 0,
	      "verdict: %s", buf);
	CHECK(jq(".violations[0].rel_ns == 1000", buf) == 0, "times relative to the run's start");
	CHECK(jq(".violations[0].stack == [\"pmd_free_pte_page+0x14\",\"__free_pages+0x10\"]",
		 buf) == 0, "symbolized stack");
	CHECK(jq(".violations[0].q_stack == [\"pud_free_pmd_page+0x20\",\"vfree+0x8\"]",
		 buf) == 0, "the hand-over's stack");
	CHECK(jq(".command_run.exit_code == 1 and .command_run.argv[2] == \"exit 1\" and "
		 ".command_run.failed", buf) == 0, "command");
	CHECK(jq(".limits.enq_to_free == 1000 and .pending.count == 2 and "
		 ".plan.shape == \"seed\" and (.reasons | map(.kind) | index(\"fail\")) != null",
		 buf) == 0, "limits, pending, plan");
	free(buf);

	CAPTURE(buf, out_check(f, false, &env, &p, &rr, &v, ks));
	CHECK(strstr(buf, "verdict: failed (exit 1)"), "text verdict: %s", buf);
	CHECK(strstr(buf, "pmd_free_pte_page+0x14"), "text stack");
	CHECK(strstr(buf, "handed over (q(P)) by:\n               pud_free_pmd_page+0x20\n"),
	      "text: the hand-over's stack: %s", buf);
	free(buf);
}

static void test_junit(void)
{
	struct env env;
	struct plan p;
	struct run_result rr;
	struct verdict v;
	char path[] = "/tmp/kpt-junit-XXXXXX", cmd[2048];
	int fd = mkstemp(path), n;
	FILE *f = fdopen(fd, "w");

	build_check(&env, &p, &rr, &v);
	memcpy(rr.viols[0].ev.comm, "<&'\">\x01", 7);
	CHECK(out_junit(f, &env, &p, &rr, &v, ks) == 0, "write %s", path);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	CHECK(unit_pipe(cmd, "") == 0, "JUnit must be well-formed XML");
	/* no_violation, max_enq_to_free, command fail; max_drain and the rest pass */
	n = snprintf(cmd, sizeof(cmd), "test \"$(xmllint --xpath 'count(//testcase)' %s)\" = 7 && "
		 "test \"$(xmllint --xpath 'count(//failure)' %s)\" = 3 && "
		 "test \"$(xmllint --xpath 'string(/testsuites/@failures)' %s)\" = 3 && "
		 "xmllint --xpath '//testcase[@name=\"no_violation\"]/failure' %s | "
		 "grep -q pmd_free_pte_page+0x14 && "
		 "xmllint --xpath '//testcase[@name=\"no_violation\"]/failure' %s | "
		 "grep -A1 'handed over' | grep -q pud_free_pmd_page+0x20 && "
		 "xmllint --xpath '//testcase[@name=\"max_enq_to_free\"]/failure' %s >/dev/null && "
		 "! xmllint --xpath '//testcase[@name=\"max_drain\"]/failure' %s >/dev/null 2>&1",
		 path, path, path, path, path, path, path);
	CHECK(n < (int)sizeof(cmd), "command truncated");
	CHECK(unit_pipe(cmd, "") == 0, "JUnit content (%s)", path);
	unlink(path);
	/* a full disk shows as an error, not as a report that ends early */
	f = fopen("/dev/full", "w");
	if (f) {
		setvbuf(f, NULL, _IONBF, 0);
		CHECK(out_junit(f, &env, &p, &rr, &v, ks) < 0, "write error on /dev/full");
		fclose(f);
	}
}

static void test_probe_json(void)
{
	struct plan_input in = { .kernel_btf = true, .btf_loaded = true, .fentry_err = -1 };
	struct probe_info pi = { .release = "6.18.44", .btf_source = "/sys/kernel/btf/vmlinux",
				 .nlinks = -1 };
	struct plan p;
	char *buf = NULL;

	in.btf_func[PP_PMD_FREE_PTE_PAGE] = in.btf_func[PP_PAGE_FREE] = true;
	plan_build(&in, &p);
	CAPTURE(buf, out_probe(f, true, &p, &pi, 2));
	CHECK(jq(".command == \"probe\" and .exit_code == 2 and .plan.shape == \"unpatched\" and "
		 ".plan.usable == false and (.plan.points | length) == 18 and "
		 "(.plan.points[] | select(.func == \"pmd_free_pte_page\") | "
		 ".method == \"missing\" and (.why | test(\"EPERM\")))", buf) == 0,
	      "probe JSON: %s", buf);
	free(buf);
	CAPTURE(buf, out_probe(f, false, &p, &pi, 2));
	for (char *l = buf, *n; l && *l; l = n ? n + 1 : NULL) {
		n = strchr(l, '\n');
		CHECK((n ? n - l : (long)strlen(l)) <= 80, "probe line over 80: %.*s",
		      (int)(n ? n - l : (long)strlen(l)), l);
	}
	CHECK(strstr(buf, "refused by the kernel: EPERM"), "probe text names EPERM");
	free(buf);
	/* a path or a name in the text is escaped: no raw ESC on the terminal */
	snprintf(p.layout.why, sizeof(p.layout.why), "no System.map at /boot/\x1b[2J\xff");
	CAPTURE(buf, out_probe(f, false, &p, &pi, 2));
	CHECK(!strchr(buf, 0x1b) && !strchr(buf, 0xff) && strstr(buf, "/boot/\\x1b[2J\\xff"),
	      "layout reason escaped: %s", buf);
	free(buf);
}

/* Clones under kprobes and the layout's bases, in both forms. */
static void test_probe_clones_layout(void)
{
	struct ksyms *k = ksyms_parse("ffffffff81084a10 T pud_free_pmd_page\n"
				      "ffffffff81084c40 T pmd_free_pte_page\n"
				      "ffffffff81086100 t free_pagetable.isra.0\n"
				      "ffffffff81086200 t free_pagetable.constprop.0\n");
	struct plan_input in = { .kernel_btf = true, .btf_loaded = true, .kprobes = true,
				 .ksyms = k };
	struct probe_info pi = { .release = "6.12.117", .nlinks = -1 };
	struct plan p;
	char *buf = NULL;

	in.btf_func[PP_PMD_FREE_PTE_PAGE] = in.btf_func[PP_PUD_FREE_PMD_PAGE] = true;
	in.btf_func[PP_PAGE_FREE] = true;
	in.layout.src = LAYOUT_SYSTEM_MAP;
	snprintf(in.layout.why, sizeof(in.layout.why),
		 "vmemmap_base and page_offset_base from /boot/System.map-6.12.117");
	plan_build(&in, &p);
	layout_check(&p.layout, 0xfffff41f00000000ULL, 0xffff89ab80000000ULL);
	CAPTURE(buf, out_probe(f, true, &p, &pi, 0));
	CHECK(jq(".plan.layout.source == \"system-map\" and "
		 ".plan.layout.vmemmap_base == \"0xfffff41f00000000\" and "
		 ".plan.layout.page_offset_base == \"0xffff89ab80000000\" and "
		 "(.plan.points[] | select(.func == \"free_pagetable\") | .method == \"kprobe\" "
		 "and .clones == [\"free_pagetable.constprop.0\"] and "
		 ".clones_total == 1 and .partial == true)", buf) == 0, "probe JSON: %s", buf);
	free(buf);
	CAPTURE(buf, out_probe(f, false, &p, &pi, 0));
	CHECK(strstr(buf, "layout:   system-map: vmemmap_base and page_offset_base from"),
	      "layout line: %s", buf);
	CHECK(strstr(buf, "vmemmap_base 0xfffff41f00000000, page_offset_base 0xffff89ab80000000"),
	      "bases line: %s", buf);
	CHECK(strstr(buf, "on free_pagetable.constprop.0") &&
	      strstr(buf, "free_pagetable.isra.0) not watched"),
	      "clones line: %s", buf);
	free(buf);
	ksyms_free(k);
}

int main(void)
{
	char *text = unit_fixture("host-6.18.kallsyms");

	ks = ksyms_parse(text);
	free(text);
	RUN(test_checker_works);
	RUN(test_trace_ndjson);
	RUN(test_trace_text);
	RUN(test_violation_no_q_stack);
	RUN(test_utf8_seq);
	RUN(test_raw_bytes);
	RUN(test_hist_json);
	RUN(test_hist_intervals);
	RUN(test_check_json);
	RUN(test_junit);
	RUN(test_probe_json);
	RUN(test_probe_clones_layout);
	ksyms_free(ks);
	return unit_done();
}

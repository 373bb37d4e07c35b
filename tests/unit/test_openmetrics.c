// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics writers (src/openmetrics.c): both dialects pass
 * tests/unit/om_check.awk, and promtool and an OpenMetrics parser where
 * installed; every checker refuses broken expositions kept here; the
 * figures are exact (bucket bounds, cumulative counts, seconds); the FILE
 * is replaced by rename, never written in place.
 */
#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include "hist.h"
#include "openmetrics.h"
#include "unit.h"

#define CAPTURE(buf, call) do {						\
	size_t _len;							\
	FILE *f = open_memstream(&(buf), &_len);			\
	call;								\
	fclose(f);							\
} while (0)

static const char *const dialects[] = { "openmetrics", "prometheus" };

/* tests/unit/om_check.awk on text; its exit status, its findings in out */
static int om_check(enum om_dialect d, const char *text, char *out, size_t len)
{
	char path[] = "/tmp/kpt-om-XXXXXX", cmd[256];
	int fd = mkstemp(path);
	FILE *p;
	size_t n = 0;
	int st;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "awk -v dialect=%s -f tests/unit/om_check.awk %s 2>&1",
		 dialects[d], path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out)
		n = fread(out, 1, len - 1, p);
	if (out)
		out[n] = 0;
	st = pclose(p);
	unlink(path);
	return st >= 0 && (st & 0x7f) == 0 ? (st >> 8) & 0xff : -1;
}

/* promtool, from $PROMTOOL or the PATH; NULL when there is none */
static const char *promtool(void)
{
	const char *p = getenv("PROMTOOL");

	if (p && *p)
		return access(p, X_OK) ? NULL : p;
	return system("command -v promtool >/dev/null 2>&1") ? NULL : "promtool";
}

/* Debian's python3-prometheus-client has a strict OpenMetrics parser */
#define OM_PARSE "/usr/bin/python3 -c 'import sys; " \
	"from prometheus_client.openmetrics.parser import text_string_to_metric_families as p; " \
	"[f for f in p(sys.stdin.read())]' >/dev/null 2>&1"

static bool have_om_parser(void)
{
	return !system("/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' "
		       ">/dev/null 2>&1");
}

/* ---- the checkers can fail ---- */

#define GOOD_HIST							\
	"# HELP kptwatch_x_seconds a latency\n"				\
	"# TYPE kptwatch_x_seconds histogram\n"
#define GOOD_TAIL							\
	"kptwatch_x_seconds_bucket{le=\"0.001\"} 1\n"			\
	"kptwatch_x_seconds_bucket{le=\"+Inf\"} 2\n"			\
	"kptwatch_x_seconds_sum 0.5\n"					\
	"kptwatch_x_seconds_count 2\n"

static const struct {
	const char *why, *text, *says;
} broken[] = {
	{ "sample before TYPE", "kptwatch_a 1\n# HELP kptwatch_a x\n# TYPE kptwatch_a gauge\n"
	  "# EOF\n", "before its family's # TYPE" },
	{ "buckets not cumulative", GOOD_HIST "kptwatch_x_seconds_bucket{le=\"0.001\"} 3\n"
	  "kptwatch_x_seconds_bucket{le=\"0.002\"} 2\n" "kptwatch_x_seconds_bucket{le=\"+Inf\"} 3\n"
	  "kptwatch_x_seconds_sum 1\nkptwatch_x_seconds_count 3\n# EOF\n", "cumulative" },
	{ "le not rising", GOOD_HIST "kptwatch_x_seconds_bucket{le=\"0.002\"} 1\n"
	  "kptwatch_x_seconds_bucket{le=\"0.001\"} 1\n" "kptwatch_x_seconds_bucket{le=\"+Inf\"} 1\n"
	  "kptwatch_x_seconds_sum 1\nkptwatch_x_seconds_count 1\n# EOF\n", "does not rise" },
	{ "+Inf is not _count", GOOD_HIST "kptwatch_x_seconds_bucket{le=\"+Inf\"} 2\n"
	  "kptwatch_x_seconds_sum 1\nkptwatch_x_seconds_count 3\n# EOF\n",
	  "is not the +Inf bucket's" },
	{ "no +Inf bucket", GOOD_HIST "kptwatch_x_seconds_bucket{le=\"0.001\"} 2\n"
	  "kptwatch_x_seconds_sum 1\nkptwatch_x_seconds_count 2\n# EOF\n", "no le=\"+Inf\"" },
	{ "a bad metric name", "# HELP kptwatch-a x\n# TYPE kptwatch-a gauge\nkptwatch-a 1\n"
	  "# EOF\n", "bad metric name" },
	{ "no # EOF", GOOD_HIST GOOD_TAIL, "no # EOF" },
	{ "a line after # EOF", GOOD_HIST GOOD_TAIL "# EOF\nkptwatch_x_seconds_count 2\n",
	  "after # EOF" },
	{ "a bad escape in a label value", "# HELP kptwatch_a x\n# TYPE kptwatch_a gauge\n"
	  "kptwatch_a{v=\"a\\tb\"} 1\n# EOF\n", "bad escape" },
	{ "a raw double quote in HELP", "# HELP kptwatch_a say \"x\"\n# TYPE kptwatch_a gauge\n"
	  "kptwatch_a 1\n# EOF\n", "unescaped double quote" },
	{ "a counter declared with _total", "# HELP kptwatch_a_total x\n"
	  "# TYPE kptwatch_a_total counter\nkptwatch_a_total 1\n# EOF\n", "_total suffix" },
	{ "a timestamp", "# HELP kptwatch_a x\n# TYPE kptwatch_a gauge\nkptwatch_a 1 1700000\n"
	  "# EOF\n", "timestamp" },
	{ "families interleaved", "# HELP kptwatch_a x\n# TYPE kptwatch_a gauge\nkptwatch_a 1\n"
	  "# HELP kptwatch_b x\n# TYPE kptwatch_b gauge\nkptwatch_b 1\n"
	  "# HELP kptwatch_a x\n# TYPE kptwatch_a gauge\n# EOF\n", "interleaved" },
	{ "no kptwatch_ prefix", "# HELP a x\n# TYPE a gauge\na 1\n# EOF\n", "prefix" },
};

static void test_checkers_fail(void)
{
	const char *pt = promtool();
	char out[4096], cmd[512];

	CHECK(om_check(OM_OPENMETRICS, GOOD_HIST GOOD_TAIL "# EOF\n", out, sizeof(out)) == 0,
	      "a good exposition is refused: %s", out);
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		int st = om_check(OM_OPENMETRICS, broken[i].text, out, sizeof(out));

		CHECK(st == 1 && strstr(out, broken[i].says),
		      "om_check.awk took %s (exit %d, wanted '%s'): %s", broken[i].why, st,
		      broken[i].says, out);
	}
	CHECK(om_check(OM_PROMETHEUS, "# HELP kptwatch_a x\n# TYPE kptwatch_a counter\n"
		       "kptwatch_a 1\n", out, sizeof(out)) == 1 &&
	      strstr(out, "without its _total"), "0.0.4: a counter without _total: %s", out);
	CHECK(om_check(OM_PROMETHEUS, GOOD_HIST GOOD_TAIL "# EOF\n", out, sizeof(out)) == 1 &&
	      strstr(out, "# EOF in the 0.0.4 format"), "0.0.4 with # EOF: %s", out);
	CHECK(om_check(OM_PROMETHEUS, "# HELP kptwatch_a say \\\"x\\\"\n"
		       "# TYPE kptwatch_a gauge\nkptwatch_a 1\n", out, sizeof(out)) == 1,
	      "0.0.4 HELP with \\\": %s", out);

	if (pt) {
		/* 0.0.4 as node_exporter reads it: a counter's HELP goes with _total */
		snprintf(cmd, sizeof(cmd), "%s check metrics >/dev/null 2>&1", pt);
		CHECK(unit_pipe(cmd, "# HELP kptwatch_a_total x\n# TYPE kptwatch_a_total counter\n"
				"kptwatch_a_total 1\n") == 0, "promtool refuses a good file");
		CHECK(unit_pipe(cmd, "# HELP kptwatch_a x\n# TYPE kptwatch_a counter\n"
				"kptwatch_a_total 1\n# EOF\n") != 0,
		      "promtool takes OpenMetrics counters for 0.0.4");
	} else {
		printf("# promtool not found (PROMTOOL=...): its checks skipped\n");
	}
	if (have_om_parser()) {
		CHECK(unit_pipe(OM_PARSE, GOOD_HIST GOOD_TAIL "# EOF\n") == 0,
		      "the OpenMetrics parser refuses a good exposition");
		CHECK(unit_pipe(OM_PARSE, GOOD_HIST GOOD_TAIL) != 0,
		      "the OpenMetrics parser takes one without # EOF");
		CHECK(unit_pipe(OM_PARSE, broken[1].text) != 0,
		      "the OpenMetrics parser takes buckets that are not cumulative");
	} else {
		printf("# no python3-prometheus-client: the OpenMetrics parser's checks skipped\n");
	}
}

/* ---- the figures ---- */

static void add(struct kpt_hist *h, __u64 v)
{
	h->slots[kpt_hist_slot(v) < KPT_HIST_SLOTS ? kpt_hist_slot(v) : KPT_HIST_SLOTS - 1]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static struct run_result rr;
static struct env env;
static struct verdict v;

static void fill(void)
{
	memset(&rr, 0, sizeof(rr));
	/* 100 ns, 1 us, 5 ms and 100 s: the first bucket, two inside, +Inf only */
	add(&rr.hists[KPT_M_ENQ_TO_FREE], 100);
	add(&rr.hists[KPT_M_ENQ_TO_FREE], 1000);
	add(&rr.hists[KPT_M_ENQ_TO_FREE], 5000000);
	add(&rr.hists[KPT_M_ENQ_TO_FREE], 100000000000ULL);
	/* either side of a bound: 1023 ns is <= 1.023e-06, 1024 is not */
	add(&rr.hists[KPT_M_INVAL_DUR], 1023);
	add(&rr.hists[KPT_M_INVAL_DUR], 1024);
	for (__u64 p = 0; p <= 4; p++)
		add(&rr.hists[KPT_M_DRAIN_PAGES], p);
	rr.counters[KPT_C_QUEUED] = 10;
	rr.counters[KPT_C_VIOLATION] = 1;
	rr.counters[KPT_C_POINT_BASE + KPT_PT_UNNAMED] = 7;
	rr.pending = 2;
	rr.pending_oldest_ns = 1500000;
	memset(&env, 0, sizeof(env));
	env.cmd = CMD_CHECK;
	verdict_compute(&env, NULL, &rr, &v);
}

static char *expose(enum om_dialect d, bool final)
{
	struct om_report r = { .env = &env, .rr = &rr, .v = &v, .elapsed_ns = 2000000001,
			       .wall_ns = 1700000000123456789ULL, .final = final };
	char *buf = NULL;

	CAPTURE(buf, CHECK(out_openmetrics(f, d, &r) == 0, "write"));
	return buf;
}

static void test_grammar(void)
{
	char out[4096];

	fill();
	for (int d = 0; d < OM_DIALECTS; d++) {
		for (int final = 0; final <= 1; final++) {
			char *buf = expose(d, final);

			CHECK(om_check(d, buf, out, sizeof(out)) == 0, "%s, final %d: %s\n%s",
			      dialects[d], final, out, buf);
			free(buf);
		}
	}
}

static void test_validators(void)
{
	const char *pt = promtool();
	char cmd[512], *buf;

	fill();
	if (pt) {
		buf = expose(OM_PROMETHEUS, true);
		/* lint problems print on stderr; there must be none */
		snprintf(cmd, sizeof(cmd), "test -z \"$(%s check metrics 2>&1 >/dev/null)\"", pt);
		CHECK(unit_pipe(cmd, buf) == 0, "promtool check metrics: %s", buf);
		free(buf);
	}
	if (have_om_parser()) {
		buf = expose(OM_OPENMETRICS, true);
		CHECK(unit_pipe(OM_PARSE, buf) == 0, "the OpenMetrics parser: %s", buf);
		free(buf);
	}
}

static void test_figures(void)
{
	char *om, *pr;

	fill();
	om = expose(OM_OPENMETRICS, true);
	pr = expose(OM_PROMETHEUS, false);
	static const char *const want[] = {
		"# HELP kptwatch_enq_to_free_seconds q(P) to the buddy free of P\n"
		"# TYPE kptwatch_enq_to_free_seconds histogram\n"
		"# UNIT kptwatch_enq_to_free_seconds seconds\n"
		"kptwatch_enq_to_free_seconds_bucket{le=\"2.55e-07\"} 1\n",
		"kptwatch_enq_to_free_seconds_bucket{le=\"1.023e-06\"} 2\n",
		"kptwatch_enq_to_free_seconds_bucket{le=\"0.004194303\"} 2\n"
		"kptwatch_enq_to_free_seconds_bucket{le=\"0.008388607\"} 3\n",
		"kptwatch_enq_to_free_seconds_bucket{le=\"68.719476735\"} 3\n"
		"kptwatch_enq_to_free_seconds_bucket{le=\"+Inf\"} 4\n"
		"kptwatch_enq_to_free_seconds_sum 100.005001100\n"
		"kptwatch_enq_to_free_seconds_count 4\n",
		"kptwatch_inval_seconds_bucket{le=\"5.11e-07\"} 0\n"
		"kptwatch_inval_seconds_bucket{le=\"1.023e-06\"} 1\n"
		"kptwatch_inval_seconds_bucket{le=\"2.047e-06\"} 2\n",
		"# HELP kptwatch_drain_pages pages freed by one drain\n"
		"# TYPE kptwatch_drain_pages histogram\n"
		"kptwatch_drain_pages_bucket{le=\"0.0\"} 1\n"
		"kptwatch_drain_pages_bucket{le=\"1.0\"} 2\n"
		"kptwatch_drain_pages_bucket{le=\"3.0\"} 4\n"
		"kptwatch_drain_pages_bucket{le=\"7.0\"} 5\n",
		"kptwatch_drain_pages_bucket{le=\"1.048575e+06\"} 5\n"
		"kptwatch_drain_pages_bucket{le=\"+Inf\"} 5\n"
		"kptwatch_drain_pages_sum 10\n",
		"# HELP kptwatch_queued pages handed over to the deferral (q(P))\n"
		"# TYPE kptwatch_queued counter\nkptwatch_queued_total 10\n",
		"# TYPE kptwatch_point_pages counter\n",
		"kptwatch_point_pages_total{point=\"unnamed path\"} 7\n",
		/* the version is the writer's object's, which may be older */
		"kptwatch_run_info{command=\"check\",version=\"",
		"\",shape=\"unknown\"} 1\n",
		"# TYPE kptwatch_run info\n",
		"kptwatch_report_timestamp_seconds 1700000000.123456789\n",
		"kptwatch_elapsed_seconds 2.000000001\n",
		"kptwatch_verdict{result=\"clean\"} 0\nkptwatch_verdict{result=\"failed\"} 1\n"
		"kptwatch_verdict{result=\"incomplete\"} 0\n",
		"kptwatch_pending_pages 2\n",
		"kptwatch_pending_oldest_seconds 0.001500000\n",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(strstr(om, want[i]), "OpenMetrics lacks:\n%s", want[i]);
	CHECK(strlen(om) > 6 && !strcmp(om + strlen(om) - 6, "# EOF\n"), "# EOF last");
	/* 0.0.4: the sample's own name declared, no UNIT, no EOF */
	CHECK(strstr(pr, "# HELP kptwatch_queued_total pages handed over to the deferral (q(P))\n"
		     "# TYPE kptwatch_queued_total counter\nkptwatch_queued_total 10\n"),
	      "0.0.4 counter: %s", pr);
	CHECK(strstr(pr, "# TYPE kptwatch_run_info gauge\n"), "0.0.4 info as a gauge");
	CHECK(!strstr(pr, "# UNIT") && !strstr(pr, "# EOF"), "0.0.4: no UNIT, no EOF");
	CHECK(!strstr(pr, "pending_pages"), "not final: no pending pages");
	free(pr);

	/* hist has no verdict */
	env.cmd = CMD_HIST;
	pr = expose(OM_OPENMETRICS, false);
	CHECK(!strstr(pr, "kptwatch_verdict") && strstr(pr, "command=\"hist\""), "hist: %s", pr);
	free(pr);
	free(om);
}

/* Every bound is 2^k - 1 ns (or pages), written exactly: k by k, no gap. */
static void test_bounds_exact(void)
{
	char *om, *p;
	int k;

	fill();
	om = expose(OM_OPENMETRICS, true);
	p = om;
	for (k = 8; (p = strstr(p, "kptwatch_enq_to_free_seconds_bucket{le=\"")); k++) {
		char *end;
		double s;

		p += strlen("kptwatch_enq_to_free_seconds_bucket{le=\"");
		if (!strncmp(p, "+Inf", 4))
			break;
		s = strtod(p, &end);
		CHECK(*end == '"', "le %.20s", p);
		CHECK((long long)(s * 1e9 + 0.5) == (1LL << k) - 1,
		      "bucket %d: le %.20s is not 2^%d - 1 ns", k - 8, p, k);
	}
	CHECK(k == 37, "%d bounds, wanted 2^8 - 1 to 2^36 - 1 ns", k - 8);
	free(om);
}

static void test_label_escape(void)
{
	char *buf = NULL;

	CAPTURE(buf, om_label_value(f, "a\\b\"c\nd\xff\x01\xc3\xb6 e"));
	CHECK(!strcmp(buf, "a\\\\b\\\"c\\nd\\\\xff\\\\x01\xc3\xb6 e"), "escaped: %s", buf);
	free(buf);
}

/* ---- the FILE ---- */

static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void test_file(void)
{
	char dir[] = "/tmp/kpt-om-dir-XXXXXX", path[128], link[128], err[512], *text = NULL;
	struct om_report r = { .env = &env, .rr = &rr, .v = &v, .final = false };
	struct om_out o;
	struct stat st;
	ino_t ino;
	mode_t old = umask(022);
	FILE *f;

	fill();
	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/kptwatch.prom", dir);

	/* up front: the temporary file is there, the target not yet */
	CHECK(om_out_open(&o, "--prom", path, OM_PROMETHEUS, err, sizeof(err)) == 0, "%s", err);
	CHECK(count_tmp(dir) == 1 && stat(path, &st), "one hidden temporary file, no target");
	CHECK(om_out_write(&o, &r) == 0, "first write");
	CHECK(!stat(path, &st) && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644,
	      "in place, 0644 as fopen would make it: %o", st.st_mode);
	CHECK(count_tmp(dir) == 0, "no temporary file left");
	ino = st.st_ino;
	CHECK(om_out_write(&o, &r) == 0, "second write");
	CHECK(!stat(path, &st) && st.st_ino != ino, "replaced by rename, not rewritten");
	om_out_close(&o);
	f = fopen(path, "r");
	if (f) {
		size_t n;

		text = calloc(1, 65536);
		n = fread(text, 1, 65535, f);
		text[n] = 0;
		fclose(f);
		CHECK(om_check(OM_PROMETHEUS, text, err, sizeof(err)) == 0, "the file: %s", err);
		free(text);
	}

	/* a mode of its own is kept, a symlink stays one */
	chmod(path, 0640);
	snprintf(link, sizeof(link), "%s/link.prom", dir);
	CHECK(!symlink("kptwatch.prom", link), "symlink");
	CHECK(om_out_open(&o, "--prom", link, OM_PROMETHEUS, err, sizeof(err)) == 0, "%s", err);
	r.final = true;
	CHECK(om_out_write(&o, &r) == 0, "write through a symlink");
	om_out_close(&o);
	CHECK(!lstat(link, &st) && S_ISLNK(st.st_mode), "the symlink is still one");
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0640, "mode kept: %o", st.st_mode);
	CHECK(count_tmp(dir) == 0, "no temporary file left");

	/* closed unused: the temporary file goes */
	CHECK(om_out_open(&o, "--openmetrics", path, OM_OPENMETRICS, err, sizeof(err)) == 0,
	      "%s", err);
	om_out_close(&o);
	CHECK(count_tmp(dir) == 0, "an unused temporary file is removed");

	/* what cannot be used is said up front, in one line */
	CHECK(om_out_open(&o, "--prom", dir, OM_PROMETHEUS, err, sizeof(err)) < 0 &&
	      strstr(err, "--prom /tmp/kpt-om-dir-") && strstr(err, ": Is a directory"),
	      "a directory: %s", err);
	CHECK(om_out_open(&o, "--openmetrics", "/nonexistent/dir/x.prom", OM_OPENMETRICS, err,
			  sizeof(err)) < 0 &&
	      !strcmp(err, "--openmetrics /nonexistent/dir/x.prom: No such file or directory"),
	      "no such directory: %s", err);

	/* a device is written as it is, once, never renamed over */
	CHECK(om_out_open(&o, "--prom", "/dev/null", OM_PROMETHEUS, err, sizeof(err)) == 0,
	      "%s", err);
	r.final = false;
	CHECK(om_out_write(&o, &r) == 0, "/dev/null mid-run");
	r.final = true;
	CHECK(om_out_write(&o, &r) == 0, "/dev/null at the end");
	om_out_close(&o);
	CHECK(!stat("/dev/null", &st) && S_ISCHR(st.st_mode), "/dev/null is still a device");

	unlink(link);
	unlink(path);
	CHECK(!rmdir(dir), "rmdir %s: %s", dir, strerror(errno));
	umask(old);
}

int main(void)
{
	RUN(test_checkers_fail);
	RUN(test_grammar);
	RUN(test_validators);
	RUN(test_figures);
	RUN(test_bounds_exact);
	RUN(test_label_escape);
	RUN(test_file);
	return unit_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * hist's and check's figures for a metrics scraper, in two dialects:
 *
 *   OpenMetrics 1.0 text: counters are declared without their _total
 *   suffix (# TYPE kptwatch_queued counter, then kptwatch_queued_total),
 *   the run's labels are an info family, # UNIT goes with the _seconds
 *   families and # EOF ends the exposition.
 *
 *   The Prometheus text format 0.0.4, which node_exporter's textfile
 *   collector and promtool parse: it declares the sample's own name
 *   (# TYPE kptwatch_queued_total counter), has no info type (a gauge
 *   named _info), no # UNIT, no # EOF, and takes no \" in HELP. Read as
 *   0.0.4, an OpenMetrics file loses its counters' TYPE and HELP, which
 *   is why both exist.
 *
 * Every name comes from include/kptwatch.h's lists (names.c), prefixed
 * kptwatch_; the samples are the same in both dialects.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "hist.h"
#include "json.h"
#include "openmetrics.h"

enum om_type { OM_GAUGE, OM_COUNTER, OM_HISTOGRAM, OM_INFO };

static const char *const om_types[] = {
	[OM_GAUGE] = "gauge", [OM_COUNTER] = "counter", [OM_HISTOGRAM] = "histogram",
	[OM_INFO] = "info",
};
/* what OpenMetrics adds to the family's name in its one sample name */
static const char *const om_suffix[] = { [OM_COUNTER] = "_total", [OM_INFO] = "_info" };

struct omw {
	FILE *f;
	enum om_dialect d;
};

struct om_label {
	const char *k, *v;
};

/*
 * Bucket bounds. The kernel's slots are log-linear in integer ns (pages
 * for the size metrics); the export folds them into one bucket per power
 * of two, the rows hist prints: le = 2^k - 1, the largest value the rows
 * below 2^k hold. The values are integers, so that bound is exact: a value
 * v <= 2^k - 1 is in those rows and nowhere else, and 2^k - 1 ns is written
 * in seconds digit for digit ((2^k - 1) * 10^-9, no float in between).
 * Latencies get k = 8..36 (255 ns to 68.7 s; faster ones count in the
 * first bucket), sizes (drain_pages, pending_depth) k = 0..20 (0 to
 * 1048575 pages, --max-pending's bound), each then +Inf: 30 and 22
 * series rather than the 376 slots, a fleet's storage being the cost.
 */
#define OM_NS_K_MIN	8
#define OM_NS_K_MAX	36
#define OM_PAGES_K_MIN	0
#define OM_PAGES_K_MAX	20

void om_label_value(FILE *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	/*
	 * Both formats want UTF-8 and escape these three. What is no valid
	 * UTF-8, and control characters, go as the text \xNN, as in JUnit:
	 * a 0.0.4 parser refuses any other escape.
	 */
	while (n) {
		unsigned char c = *s;
		__u32 cp;
		int len = utf8_seq(s, n, &cp);

		if (len > 1 && cp >= 0xa0) {
			fwrite(s, 1, len, f);
		} else if (c == '\\' || c == '"') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (len == 1 && c >= 0x20 && c < 0x7f) {
			fputc(c, f);
		} else {
			len = len ? len : 1;
			for (int i = 0; i < len; i++)
				fprintf(f, "\\\\x%02x", (unsigned char)s[i]);
		}
		len = len ? len : 1;
		s += len;
		n -= len;
	}
}

/* HELP text: OpenMetrics escapes a double quote too, 0.0.4 refuses \". */
static void help_text(struct omw *w, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", w->f);
		else if (*s == '\n')
			fputs("\\n", w->f);
		else if (*s == '"' && w->d == OM_OPENMETRICS)
			fputs("\\\"", w->f);
		else
			fputc(*s, w->f);
	}
}

/*
 * The metadata of family kptwatch_NAME, before its samples. unit, when
 * given, is NAME's suffix already ("_seconds"), as OpenMetrics wants.
 */
static void family(struct omw *w, const char *name, enum om_type t, const char *unit,
		   const char *help)
{
	bool prom = w->d == OM_PROMETHEUS;
	const char *sfx = prom && om_suffix[t] ? om_suffix[t] : "";

	fprintf(w->f, "# HELP kptwatch_%s%s ", name, sfx);
	help_text(w, help);
	fprintf(w->f, "\n# TYPE kptwatch_%s%s %s\n", name, sfx,
		prom && t == OM_INFO ? "gauge" : om_types[t]);
	if (unit && !prom)
		fprintf(w->f, "# UNIT kptwatch_%s %s\n", name, unit);
}

/* "kptwatch_NAMESFX{k="v",...} ", up to the value */
static void sample(struct omw *w, const char *name, const char *sfx, const struct om_label *l,
		   int n)
{
	fprintf(w->f, "kptwatch_%s%s", name, sfx);
	for (int i = 0; i < n; i++) {
		fprintf(w->f, "%s%s=\"", i ? "," : "{", l[i].k);
		om_label_value(w->f, l[i].v);
		fputc('"', w->f);
	}
	fputs(n ? "} " : " ", w->f);
}

/* ns as seconds, exactly: every digit of the integer */
static void put_seconds(FILE *f, __u64 ns)
{
	fprintf(f, "%llu.%09llu\n", (unsigned long long)(ns / 1000000000ULL),
		(unsigned long long)(ns % 1000000000ULL));
}

/*
 * n * 10^exp10 as OpenMetrics' canonical number for an le label, which is
 * Go's shortest %g with ".0" added to a plain integer: 2.55e-07,
 * 0.000131071, 34.359738367, 7.0, 1.048575e+06. The bounds have at most
 * 11 significant digits, fewer than DBL_DIG (15): no shorter decimal reads
 * back as the same float64, so their own digits are the shortest form.
 */
static char *om_canon(char *buf, size_t len, __u64 n, int exp10)
{
	char d[24], s[64];
	int nd, dp, x, o = 0;

	if (!n) {
		snprintf(buf, len, "0.0");
		return buf;
	}
	nd = snprintf(d, sizeof(d), "%llu", (unsigned long long)n);
	while (nd > 1 && d[nd - 1] == '0') {
		d[--nd] = 0;
		exp10++;
	}
	dp = nd + exp10;	/* digits before the decimal point */
	x = dp - 1;		/* the exponent in d.ddd form */
	if (x < -4 || x >= 6) {
		snprintf(buf, len, "%c%s%s" "e%c%02d", d[0], nd > 1 ? "." : "", d + 1,
			 x < 0 ? '-' : '+', abs(x));
		return buf;
	}
	/* here -4 <= x < 6: at most 4 leading and 5 trailing zeros */
	if (dp <= 0) {
		s[o++] = '0';
		s[o++] = '.';
		for (int i = dp; i < 0; i++)
			s[o++] = '0';
		memcpy(s + o, d, nd);
		o += nd;
	} else {
		for (int i = 0; i < dp; i++)
			s[o++] = i < nd ? d[i] : '0';
		s[o++] = '.';
		if (dp < nd) {
			memcpy(s + o, d + dp, nd - dp);
			o += nd - dp;
		} else {
			s[o++] = '0';
		}
	}
	s[o] = 0;
	snprintf(buf, len, "%s", s);
	return buf;
}

/*
 * One histogram, cumulative at each bound. The count is the slots' sum,
 * not h->count: read while the kernel writes (hist -i), the two can be a
 * sample apart, and +Inf must equal _count.
 */
static void histogram(struct omw *w, int m, const struct kpt_hist *h)
{
	bool ns = metric_is_ns(m);
	int kmin = ns ? OM_NS_K_MIN : OM_PAGES_K_MIN, kmax = ns ? OM_NS_K_MAX : OM_PAGES_K_MAX;
	char name[64], le[32];
	__u64 cum = 0, total = 0;
	__u32 i = 0;

	for (__u32 s = 0; s < KPT_HIST_SLOTS; s++)
		total += h->slots[s];
	snprintf(name, sizeof(name), "%s%s", metric_name(m), ns ? "_seconds" : "");
	family(w, name, OM_HISTOGRAM, ns ? "seconds" : NULL, metric_what(m));
	for (int k = kmin; k <= kmax; k++) {
		__u64 bound = (1ULL << k) - 1;
		struct om_label l = { "le", om_canon(le, sizeof(le), bound, ns ? -9 : 0) };

		while (i < KPT_HIST_SLOTS && hist_slot_hi(i) - 1 <= bound)
			cum += h->slots[i++];
		sample(w, name, "_bucket", &l, 1);
		fprintf(w->f, "%llu\n", (unsigned long long)cum);
	}
	sample(w, name, "_bucket", &(struct om_label){ "le", "+Inf" }, 1);
	fprintf(w->f, "%llu\n", (unsigned long long)total);
	sample(w, name, "_sum", NULL, 0);
	if (ns)
		put_seconds(w->f, h->sum);
	else
		fprintf(w->f, "%llu\n", (unsigned long long)h->sum);
	sample(w, name, "_count", NULL, 0);
	fprintf(w->f, "%llu\n", (unsigned long long)total);
}

static void gauge_u64(struct omw *w, const char *name, const char *help, __u64 v)
{
	family(w, name, OM_GAUGE, NULL, help);
	sample(w, name, "", NULL, 0);
	fprintf(w->f, "%llu\n", (unsigned long long)v);
}

static void gauge_seconds(struct omw *w, const char *name, const char *help, __u64 ns)
{
	family(w, name, OM_GAUGE, "seconds", help);
	sample(w, name, "", NULL, 0);
	put_seconds(w->f, ns);
}

int out_openmetrics(FILE *f, enum om_dialect d, const struct om_report *r)
{
	struct omw w = { .f = f, .d = d };
	const struct run_result *rr = r->rr;
	const __u64 *c = rr->counters;
	bool incomplete = r->plan && !r->plan->complete;
	char b[64];

	for (int i = 0; r->v && i < r->v->n; i++)
		incomplete |= r->v->r[i].kind == R_INCOMPLETE;

	family(&w, "run", OM_INFO, NULL, "the run: its command, kptwatch's version, the kernel's "
	       "shape");
	sample(&w, "run", "_info", (struct om_label[]){
		{ "command", cmd_name(r->env->cmd) }, { "version", KPT_VERSION },
		{ "shape", r->plan ? shape_name(r->plan->shape) : "unknown" } }, 3);
	fputs("1\n", f);
	gauge_seconds(&w, "report_timestamp_seconds", "when these figures were read, since the "
		      "Unix epoch", r->wall_ns);
	gauge_seconds(&w, "elapsed_seconds", "time watched, up to these figures", r->elapsed_ns);
	if (r->env->cmd == CMD_CHECK && r->v) {
		/* one series per result, so that none comes and goes */
		static const int codes[] = { EXIT_CLEAN, EXIT_FAIL, EXIT_INCOMPLETE };

		family(&w, "verdict", OM_GAUGE, NULL, "check's verdict: 1 for its result");
		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			sample(&w, "verdict", "", &(struct om_label){ "result",
			       verdict_name(codes[i]) }, 1);
			fprintf(f, "%d\n", r->v->code == codes[i]);
		}
	}
	gauge_u64(&w, "incomplete", "1: the figures are incomplete (events lost, a map full or "
		  "unread, a critical point missing, the layout unknown)", incomplete);
	if (r->final) {
		gauge_u64(&w, "pending_pages", "pages still pending at the end", rr->pending);
		gauge_seconds(&w, "pending_oldest_seconds", "age of the oldest page still pending "
			      "at the end", rr->pending_oldest_ns);
	}
	for (int m = 0; m < KPT_M_MAX; m++)
		histogram(&w, m, &rr->hists[m]);
	for (int i = 0; i < KPT_C_POINT_BASE; i++) {
		const char *name = counter_name(i, b, sizeof(b));

		family(&w, name, OM_COUNTER, NULL, counter_what(i));
		sample(&w, name, "_total", NULL, 0);
		fprintf(f, "%llu\n", (unsigned long long)c[i]);
	}
	family(&w, "point_pages", OM_COUNTER, NULL, counter_what(KPT_C_POINT_BASE));
	for (int pt = KPT_PT_NONE + 1; pt < KPT_PT_MAX; pt++) {
		sample(&w, "point_pages", "_total", &(struct om_label){ "point", point_name(pt) },
		       1);
		fprintf(f, "%llu\n", (unsigned long long)c[KPT_C_POINT_BASE + pt]);
	}
	if (d == OM_OPENMETRICS)
		fputs("# EOF\n", f);
	return fflush(f) || ferror(f) ? -1 : 0;
}

/* ---- the FILE ---- */

static int om_fail(char *err, size_t len, const struct om_out *o, int e)
{
	snprintf(err, len, "%s %s: %s", o->opt, o->path, strerror(e));
	return -1;
}

/*
 * A new temporary file beside the target, hidden and not named *.prom:
 * the textfile collector reads only *.prom files, and never this one.
 */
static int om_tmp(struct om_out *o)
{
	const char *slash = strrchr(o->target, '/');
	int dirlen = slash ? (int)(slash - o->target) + 1 : 0, fd;

	if (snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.XXXXXX", dirlen, o->target,
		     o->target + dirlen) >= (int)sizeof(o->tmp)) {
		o->tmp[0] = 0;
		return -ENAMETOOLONG;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		o->tmp[0] = 0;
		return -e;
	}
	return 0;
}

int om_out_open(struct om_out *o, const char *opt, const char *path, enum om_dialect d,
		char *err, size_t len)
{
	struct stat st, so;
	mode_t mask;
	int e;

	memset(o, 0, sizeof(*o));
	o->opt = opt;
	o->path = path;
	o->dialect = d;
	if (!stat(path, &st)) {
		/* kptwatch's own stdout: after the text, as --junit /dev/stdout */
		if (!fstat(STDOUT_FILENO, &so) && st.st_dev == so.st_dev &&
		    st.st_ino == so.st_ino) {
			o->f = stdout;
			return 0;
		}
		if (S_ISDIR(st.st_mode))
			return om_fail(err, len, o, EISDIR);
		/* a pipe or a device cannot be replaced: renaming over it would */
		if (!S_ISREG(st.st_mode)) {
			o->f = fopen(path, "w");
			return o->f ? 0 : om_fail(err, len, o, errno);
		}
		/* a symlink stays one: what it points to is replaced */
		if (!realpath(path, o->target))
			return om_fail(err, len, o, errno);
		o->mode = st.st_mode & 0777;
	} else {
		if (snprintf(o->target, sizeof(o->target), "%s", path) >= (int)sizeof(o->target))
			return om_fail(err, len, o, ENAMETOOLONG);
		/* what fopen() would make: the collector, not root, reads it */
		mask = umask(0);
		umask(mask);
		o->mode = 0666 & ~mask;
	}
	o->replace = true;
	e = om_tmp(o);
	return e ? om_fail(err, len, o, -e) : 0;
}

bool om_out_stdout(const struct om_out *o)
{
	return o->path && o->f == stdout;
}

static int om_write_error(struct om_out *o, const struct om_report *r, int e)
{
	/* once, and again at the end: the last word is the run's */
	if (!o->failed || r->final)
		fprintf(stderr, "kptwatch: cannot write %s %s: %s\n", o->opt, o->path,
			strerror(e));
	o->failed = true;
	return -1;
}

int om_out_write(struct om_out *o, const struct om_report *r)
{
	int e = 0;

	if (!o->path)
		return 0;
	if (!o->replace) {
		if (!r->final || !o->f)
			return 0;
		errno = 0;
		if (out_openmetrics(o->f, o->dialect, r))
			e = errno ? errno : EIO;
		if (o->f != stdout && fclose(o->f) && !e)
			e = errno;
		o->f = NULL;
		return e ? om_write_error(o, r, e) : 0;
	}
	if (!o->f && (e = -om_tmp(o)))
		return om_write_error(o, r, e);
	errno = 0;
	if (out_openmetrics(o->f, o->dialect, r))
		e = errno ? errno : EIO;
	if (!e && fchmod(fileno(o->f), o->mode))
		e = errno;
	if (fclose(o->f) && !e)
		e = errno;
	o->f = NULL;
	if (!e && rename(o->tmp, o->target))
		e = errno;
	if (e)
		unlink(o->tmp);
	o->tmp[0] = 0;
	return e ? om_write_error(o, r, e) : 0;
}

void om_out_close(struct om_out *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics writers for hist and check: OpenMetrics 1.0 text
 * (--openmetrics FILE) and the Prometheus text format 0.0.4 that
 * node_exporter's textfile collector parses (--prom FILE). The same
 * families in both; they differ where the formats do (see openmetrics.c).
 *
 * A FILE is replaced, never rewritten in place: each exposition goes to a
 * temporary file beside it, renamed over it when complete, so a collector
 * reading it sees the previous exposition or the new one, never a part.
 */
#ifndef KPT_OPENMETRICS_H
#define KPT_OPENMETRICS_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "report.h"

enum om_dialect { OM_OPENMETRICS, OM_PROMETHEUS, OM_DIALECTS };

/* What one exposition holds. */
struct om_report {
	const struct env *env;		/* the command; check has a verdict */
	const struct plan *plan;	/* NULL: not known */
	const struct run_result *rr;	/* totals since the start of the run */
	const struct verdict *v;	/* verdict_compute() on rr */
	__u64 elapsed_ns;		/* of the run, up to these figures */
	__u64 wall_ns;			/* CLOCK_REALTIME of the figures */
	bool final;			/* the run is over: pending pages were read */
};

/*
 * The exposition of r to f; -1 on a write error. Histograms are exported
 * cumulative, counters as totals: a file rewritten every interval is what
 * a scraper expects of a process that runs on.
 */
int out_openmetrics(FILE *f, enum om_dialect d, const struct om_report *r);

/* s as a label value: backslash, double quote and newline escaped. */
void om_label_value(FILE *f, const char *s);

/* One metrics FILE, opened up front and replaced at each write. */
struct om_out {
	const char *opt;		/* "--openmetrics", for messages */
	const char *path;		/* as given; NULL: not asked for */
	enum om_dialect dialect;
	FILE *f;			/* the open temporary file, or stdout/the FILE itself */
	bool replace;			/* regular file: write f at tmp, rename over target */
	bool failed;			/* a write failed and was reported */
	mode_t mode;			/* the file's mode once renamed */
	char target[PATH_MAX];		/* path, symlinks resolved */
	char tmp[PATH_MAX];		/* f's name while replace */
};

/*
 * Check path now, before anything is loaded or run: its directory must
 * take a new file (the first temporary file is made there) and the path
 * must not be a directory. The path of kptwatch's stdout, or any other
 * file that is no regular file (a pipe, /dev/stderr), is written as it
 * is, once at the end. 0, or -1 with a one-line message in err.
 */
int om_out_open(struct om_out *o, const char *opt, const char *path, enum om_dialect d,
		char *err, size_t len);
/* True when o is kptwatch's stdout: a document there keeps COMMAND's out. */
bool om_out_stdout(const struct om_out *o);
/*
 * Write r and put it in place; a FILE that is no regular file only when
 * r->final. 0, or -1 after a one-line message on stderr (once per FILE).
 */
int om_out_write(struct om_out *o, const struct om_report *r);
/* Drop a temporary file no write used (the run ended early). */
void om_out_close(struct om_out *o);

#endif

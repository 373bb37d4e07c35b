/* SPDX-License-Identifier: GPL-2.0 */
/* Command line: subcommands, options, durations and sizes. */
#ifndef KPT_OPTIONS_H
#define KPT_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "kptwatch.h"
#include "names.h"

enum kpt_cmd { CMD_NONE, CMD_PROBE, CMD_TRACE, CMD_HIST, CMD_CHECK };

/* Exit codes, shared by every subcommand. */
enum kpt_exit {
	EXIT_CLEAN = 0,		/* clean verdict, or the run ended normally */
	EXIT_FAIL = 1,		/* violation, limit exceeded or command failed */
	EXIT_USAGE = 2,		/* usage or setup error */
	EXIT_INCOMPLETE = 3,	/* the verdict cannot cover everything */
};

#define KPT_LAT_METRICS	4	/* KPT_M_ENQ_TO_FREE .. KPT_M_DRAIN_DUR */
#define KPT_RINGBUF_DEFAULT	(256 * 1024)
/*
 * --max-pending's upper bound. The pages map is preallocated with two
 * entries per pending page (KPT_PAGES_MAX): each N takes about
 * KPT_PENDING_ENTRY_BYTES of kernel memory (two hash elements with their
 * keys, struct kpt_page and buckets; bpftool's memlock for the default
 * 65536 is 22 021 184 bytes), so the bound is ~170 MiB.
 */
#define KPT_MAX_PENDING		524288
#define KPT_PENDING_ENTRY_BYTES	340

#define KPT_STR_(x)	#x
#define KPT_STR(x)	KPT_STR_(x)

struct env {
	enum kpt_cmd cmd;
	bool json;
	bool kprobes;		/* --kprobes: skip fentry, use kprobes */
	bool handover_stacks;	/* --handover-stacks: a stack per q(P) */
	int verbose;
	const char *junit;
	const char *openmetrics;	/* hist, check --openmetrics FILE */
	const char *prom;		/* hist, check --prom FILE: text format 0.0.4 */
	const char *btf_path;
	const char *system_map;	/* --system-map */
	__u64 interval_ns;	/* hist -i */
	__u64 count;		/* hist -c, 0: unlimited */
	__u64 duration_ns;	/* -d, 0: until a signal (or the command ends) */
	__u64 max_ns[KPT_LAT_METRICS];		/* --max, 0: no limit */
	__u64 max_pending_age_ns;		/* 0: no limit */
	__u32 max_pending;
	__u32 ringbuf_size;
	char **argv_cmd;	/* check -- COMMAND ARGS... */
	bool help, version;
	char err[256];		/* one-line message when parsing fails */
};

int env_parse(struct env *env, int argc, char **argv);
void env_usage(FILE *f, enum kpt_cmd cmd);
const char *cmd_name(enum kpt_cmd cmd);

int parse_duration(const char *s, __u64 *ns, char *err, size_t errlen);
int parse_count(const char *s, __u64 max, __u64 *out, char *err, size_t errlen);
int parse_size(const char *s, __u64 *bytes, char *err, size_t errlen);

/* Metric names as the command line and the JSON output spell them. */
bool metric_is_ns(int metric);

#endif

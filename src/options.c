// SPDX-License-Identifier: GPL-2.0
/*
 * Option parsing. Every subcommand takes the same option table; options
 * that make no sense for a subcommand are refused after parsing, with a
 * one-line message in env->err and EXIT_USAGE from the caller.
 *
 * Durations need a unit: ns, us, ms, s, m or h, with an optional decimal
 * fraction ("1.5ms"). A bare number is refused: "-i 1" could mean a second
 * (bcc) or a nanosecond (the kernel), and a guess here would be silent.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"

bool metric_is_ns(int m)
{
	return m < KPT_LAT_METRICS;
}

static const char *const cmd_names[] = {
	[CMD_NONE] = "", [CMD_PROBE] = "probe", [CMD_TRACE] = "trace",
	[CMD_HIST] = "hist", [CMD_CHECK] = "check",
};

const char *cmd_name(enum kpt_cmd cmd)
{
	return cmd_names[cmd];
}

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct { const char *sfx; __u64 mult; } units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000ULL },
	{ "m", 60000000000ULL }, { "h", 3600000000000ULL },
};

/* Largest duration accepted: INT64_MAX ns, about 292 years. */
#define DURATION_MAX	((__u64)INT64_MAX)

int parse_duration(const char *s, __u64 *ns, char *err, size_t len)
{
	__u64 whole = 0, frac = 0, fdiv = 1, mult = 0;
	const char *p = s, *unit;
	int digits = 0;

	if (!s || !*s)
		return fail(err, len, "empty duration");
	if (*p == '-')
		return fail(err, len, "negative duration '%s'", s);
	if (*p == '+')
		p++;
	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (whole > (DURATION_MAX - (*p - '0')) / 10)
			return fail(err, len, "duration '%s' out of range", s);
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++) {
			if (fdiv >= 1000000000ULL)
				return fail(err, len, "duration '%s' has more than 9 decimals", s);
			frac = frac * 10 + (*p - '0');
			fdiv *= 10;
		}
	}
	if (!digits)
		return fail(err, len, "malformed duration '%s' (try 500us, 10ms, 2s, 1m)", s);
	unit = p;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i].sfx))
			mult = units[i].mult;
	if (!mult) {
		if (!*unit)
			return fail(err, len, "duration '%s' needs a unit: ns, us, ms, s, m or h",
				    s);
		return fail(err, len, "malformed duration '%s' (try 500us, 10ms, 2s, 1m)", s);
	}
	if (whole > DURATION_MAX / mult)
		return fail(err, len, "duration '%s' out of range", s);
	/* frac < 1e9 and mult <= 3.6e12: the product needs 128 bits */
	unsigned __int128 f = (unsigned __int128)frac * mult;
	if (f % fdiv)
		return fail(err, len, "duration '%s' is finer than 1ns", s);
	*ns = whole * mult;
	if ((__u64)(f / fdiv) > DURATION_MAX - *ns)
		return fail(err, len, "duration '%s' out of range", s);
	*ns += (__u64)(f / fdiv);
	return 0;
}

int parse_count(const char *s, __u64 max, __u64 *out, char *err, size_t len)
{
	__u64 v = 0;
	const char *p = s;

	if (!s || !*s)
		return fail(err, len, "empty number");
	if (*p == '-')
		return fail(err, len, "negative number '%s'", s);
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return fail(err, len, "malformed number '%s'", s);
		if (v > (max - (*p - '0')) / 10)
			return fail(err, len, "number '%s' out of range (max %llu)", s,
				    (unsigned long long)max);
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

/* Bytes with an optional K, M or G suffix (powers of 1024). */
int parse_size(const char *s, __u64 *bytes, char *err, size_t len)
{
	char num[32];
	size_t n = s ? strlen(s) : 0;
	__u64 mult = 1, v;

	if (!n || n >= sizeof(num))
		return fail(err, len, "malformed size '%s'", s ? s : "");
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'K': case 'k': mult = 1ULL << 10; break;
	case 'M': case 'm': mult = 1ULL << 20; break;
	case 'G': case 'g': mult = 1ULL << 30; break;
	}
	if (mult > 1)
		num[n - 1] = 0;
	if (parse_count(num, UINT64_MAX, &v, err, len))
		return fail(err, len, "malformed size '%s' (try 256K, 4M)", s);
	if (v > UINT64_MAX / mult)
		return fail(err, len, "size '%s' out of range", s);
	*bytes = v * mult;
	return 0;
}

enum {
	OPT_JUNIT = 0x100, OPT_BTF, OPT_SYSTEM_MAP, OPT_MAX, OPT_MAX_AGE, OPT_MAX_PENDING,
	OPT_RINGBUF, OPT_JSON, OPT_KPROBES, OPT_OPENMETRICS, OPT_PROM, OPT_Q_STACKS,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "openmetrics", required_argument, NULL, OPT_OPENMETRICS },
	{ "prom", required_argument, NULL, OPT_PROM },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "system-map", required_argument, NULL, OPT_SYSTEM_MAP },
	{ "kprobes", no_argument, NULL, OPT_KPROBES },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "max", required_argument, NULL, OPT_MAX },
	{ "max-pending-age", required_argument, NULL, OPT_MAX_AGE },
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "handover-stacks", no_argument, NULL, OPT_Q_STACKS },
	{},
};

static int opt_duration(struct env *env, const char *opt, const char *arg, __u64 *ns)
{
	char e[160];

	if (parse_duration(arg, ns, e, sizeof(e)))
		return fail(env->err, sizeof(env->err), "%s: %s", opt, e);
	if (!*ns)
		return fail(env->err, sizeof(env->err), "%s: duration must be greater than zero",
			    opt);
	return 0;
}

static int opt_max(struct env *env, const char *arg)
{
	char name[32];
	const char *eq = strchr(arg, '=');
	int m;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return fail(env->err, sizeof(env->err),
			    "--max: expected METRIC=DURATION, got '%s'", arg);
	memcpy(name, arg, eq - arg);
	name[eq - arg] = 0;
	m = metric_by_name(name);
	if (m < 0 || !metric_is_ns(m))
		return fail(env->err, sizeof(env->err),
			    "--max: unknown metric '%s' (enq_to_free, enq_to_drain, inval, drain)",
			    name);
	return opt_duration(env, "--max", eq + 1, &env->max_ns[m]);
}

/*
 * The pages map is a preallocated hash: every entry costs kernel memory
 * from the start, whether used or not. Cap it where that stops being a
 * reasonable thing to take without asking.
 */
static int opt_max_pending(struct env *env, const char *arg)
{
	char e[160];
	__u64 v;

	if (parse_count(arg, UINT32_MAX, &v, e, sizeof(e)))
		return fail(env->err, sizeof(env->err), "--max-pending: %s", e);
	if (!v)
		return fail(env->err, sizeof(env->err), "--max-pending: must be at least 1");
	if (v > KPT_MAX_PENDING)
		return fail(env->err, sizeof(env->err),
			    "--max-pending: %s out of range (at most %u: each entry is ~%u bytes "
			    "of kernel memory, allocated up front)", arg, KPT_MAX_PENDING,
			    KPT_PENDING_ENTRY_BYTES);
	env->max_pending = v;
	return 0;
}

static int opt_ringbuf(struct env *env, const char *arg)
{
	char e[160];
	__u64 v;

	if (parse_size(arg, &v, e, sizeof(e)))
		return fail(env->err, sizeof(env->err), "--ringbuf-size: %s", e);
	if (v < 4096 || v > (1ULL << 30))
		return fail(env->err, sizeof(env->err),
			    "--ringbuf-size: %s out of range (4K to 1G)", arg);
	/* the kernel wants a power of two; round up */
	for (env->ringbuf_size = 4096; env->ringbuf_size < v; env->ringbuf_size <<= 1)
		;
	return 0;
}

#define MISSING_CMD "missing command (probe, trace, hist, check; see --help)"

static int parse_cmd(struct env *env, const char *s)
{
	for (int c = CMD_PROBE; c <= CMD_CHECK; c++)
		if (!strcmp(s, cmd_names[c])) {
			env->cmd = c;
			return 0;
		}
	return fail(env->err, sizeof(env->err),
		    "unknown command '%s' (probe, trace, hist, check; see --help)", s);
}

/* Refuse options that the subcommand would ignore. */
static int check_combination(struct env *env, const bool *seen)
{
	static const struct { int opt; const char *name; unsigned cmds; } only[] = {
		{ 'i', "-i", 1 << CMD_HIST },
		{ 'c', "-c", 1 << CMD_HIST },
		{ 'd', "-d", 1 << CMD_TRACE | 1 << CMD_HIST | 1 << CMD_CHECK },
		{ OPT_JUNIT, "--junit", 1 << CMD_CHECK },
		{ OPT_OPENMETRICS, "--openmetrics", 1 << CMD_HIST | 1 << CMD_CHECK },
		{ OPT_PROM, "--prom", 1 << CMD_HIST | 1 << CMD_CHECK },
		{ OPT_MAX, "--max", 1 << CMD_CHECK },
		{ OPT_MAX_AGE, "--max-pending-age", 1 << CMD_CHECK },
		{ OPT_MAX_PENDING, "--max-pending",
		  1 << CMD_TRACE | 1 << CMD_HIST | 1 << CMD_CHECK },
		{ OPT_RINGBUF, "--ringbuf-size", 1 << CMD_TRACE | 1 << CMD_HIST | 1 << CMD_CHECK },
		{ OPT_Q_STACKS, "--handover-stacks", 1 << CMD_TRACE | 1 << CMD_CHECK },
	};

	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
		if (seen[only[i].opt] && !(only[i].cmds & (1u << env->cmd)))
			return fail(env->err, sizeof(env->err), "%s does not apply to '%s'",
				    only[i].name, cmd_names[env->cmd]);
	if (seen['c'] && !seen['i'])
		return fail(env->err, sizeof(env->err), "-c needs -i INTERVAL");
	if (env->argv_cmd && seen['d'])
		return fail(env->err, sizeof(env->err),
			    "check: give -d DURATION or -- COMMAND, not both");
	return 0;
}

/*
 * Global options may come before the command ("kptwatch -v probe") or
 * after it; every option is then checked against the command it ended
 * up with. '+' stops getopt at the first non-option: the command, or the
 * COMMAND after "--", whose own options stay intact.
 */
int env_parse(struct env *env, int argc, char **argv)
{
	bool seen[OPT_Q_STACKS + 1] = {};
	__u64 v;
	int opt;
	char e[160];

	memset(env, 0, sizeof(*env));
	env->max_pending = KPT_DEFAULT_PENDING;
	env->ringbuf_size = KPT_RINGBUF_DEFAULT;

	optind = 0;
	opterr = 0;
	for (;;) {
		opt = getopt_long(argc, argv, "+:hVvi:c:d:", longopts, NULL);
		if (opt == -1) {
			/* the first non-option is the command; options go on after it */
			if (env->cmd != CMD_NONE || optind >= argc ||
			    !strcmp(argv[optind - 1], "--"))
				break;
			if (parse_cmd(env, argv[optind]))
				return -1;
			optind++;
			continue;
		}
		if (opt > 0 && opt < (int)(sizeof(seen)))
			seen[opt] = true;
		switch (opt) {
		case 'h':
			/* "check --help" is check's help; "--help check" too */
			env->help = true;
			if (env->cmd != CMD_NONE)
				return 0;
			break;
		case 'V': env->version = true; return 0;
		case 'v': env->verbose++; break;
		case OPT_JSON: env->json = true; break;
		case OPT_KPROBES: env->kprobes = true; break;
		case OPT_Q_STACKS: env->handover_stacks = true; break;
		case OPT_JUNIT: env->junit = optarg; break;
		case OPT_OPENMETRICS: env->openmetrics = optarg; break;
		case OPT_PROM: env->prom = optarg; break;
		case OPT_BTF: env->btf_path = optarg; break;
		case OPT_SYSTEM_MAP: env->system_map = optarg; break;
		case 'i':
			if (opt_duration(env, "-i", optarg, &env->interval_ns))
				return -1;
			break;
		case 'd':
			if (opt_duration(env, "-d", optarg, &env->duration_ns))
				return -1;
			break;
		case 'c':
			if (parse_count(optarg, UINT32_MAX, &v, e, sizeof(e)))
				return fail(env->err, sizeof(env->err), "-c: %s", e);
			if (!v)
				return fail(env->err, sizeof(env->err),
					    "-c: count must be at least 1");
			env->count = v;
			break;
		case OPT_MAX:
			if (opt_max(env, optarg))
				return -1;
			break;
		case OPT_MAX_AGE:
			if (opt_duration(env, "--max-pending-age", optarg,
					 &env->max_pending_age_ns))
				return -1;
			break;
		case OPT_MAX_PENDING:
			if (opt_max_pending(env, optarg))
				return -1;
			break;
		case OPT_RINGBUF:
			if (opt_ringbuf(env, optarg))
				return -1;
			break;
		case ':':
			return fail(env->err, sizeof(env->err), "%s needs an argument",
				    argv[optind - 1]);
		default:
			if (optopt)
				return fail(env->err, sizeof(env->err), "unknown option '-%c'",
					    optopt);
			return fail(env->err, sizeof(env->err), "unknown option '%s'",
				    argv[optind - 1]);
		}
	}
	/* --help wins over anything else wrong on the line, and is per command */
	if (env->help)
		return 0;
	if (env->cmd == CMD_NONE)
		return fail(env->err, sizeof(env->err), MISSING_CMD);
	if (optind < argc) {
		if (env->cmd != CMD_CHECK || strcmp(argv[optind - 1], "--"))
			return fail(env->err, sizeof(env->err), "unexpected argument '%s'",
				    argv[optind]);
		env->argv_cmd = argv + optind;
	} else if (optind >= 2 && !strcmp(argv[optind - 1], "--") && env->cmd == CMD_CHECK) {
		return fail(env->err, sizeof(env->err),
			    "check: '--' must be followed by a command");
	}
	return check_combination(env, seen);
}

/*
 * Help, all of it or one command's: the synopsis, what the command does,
 * and only the options that apply to it (the same table
 * check_combination() enforces).
 */
#define ALL_RUN	(1u << CMD_TRACE | 1u << CMD_HIST | 1u << CMD_CHECK)
#define ALL	(1u << CMD_PROBE | ALL_RUN)

static const struct { unsigned cmds; const char *text; } cmd_help[] = {
	{ 1u << CMD_PROBE,
"  probe                   show the kernel shape and the attach plan; load the\n"
"                          BPF programs without attaching them\n" },
	{ 1u << CMD_TRACE,
"  trace [-d DURATION]     one line per event (enqueue, drain, invalidation,\n"
"                          free, violation) until Ctrl-C or DURATION\n" },
	{ 1u << CMD_HIST,
"  hist [-i INTERVAL [-c COUNT]] [-d DURATION]\n"
"                          latency histograms with p50/p90/p99/max; with -i,\n"
"                          one report per INTERVAL, with its drops, map_full\n"
"                          and violations (--json: one line each, as it ends)\n" },
	{ 1u << CMD_CHECK,
"  check [-d DURATION | -- COMMAND [ARGS...]]\n"
"                          CI verdict: watch for DURATION, or while COMMAND runs\n"
"                          (in a process group of its own; with --json its\n"
"                          stdout goes to stderr)\n" },
};

static const struct { unsigned cmds; const char *text; } opt_help[] = {
	{ ALL, "  -h, --help              this help (after a command: that command's)\n" },
	{ ALL, "  -V, --version           print the version\n" },
	{ ALL, "  -v, --verbose           libbpf's log and the attach decisions (-vv: more)\n" },
	{ ALL, "      --json              JSON: one document (probe, hist, check); NDJSON\n"
	       "                          for trace and hist -i\n" },
	{ 1u << CMD_CHECK,
	       "      --junit FILE        check: also write a JUnit XML report to FILE\n"
	       "                          (opened before the run: an error is exit 2)\n" },
	{ 1u << CMD_HIST | 1u << CMD_CHECK,
	       "      --openmetrics FILE  hist, check: also write the figures to FILE as\n"
	       "                          OpenMetrics, replaced whole (hist -i: each interval)\n" },
	{ 1u << CMD_HIST | 1u << CMD_CHECK,
	       "      --prom FILE         hist, check: the same in the Prometheus text format\n"
	       "                          node_exporter's textfile collector reads (*.prom)\n" },
	{ ALL, "      --btf FILE          kernel BTF to use when the kernel has none\n" },
	{ ALL,
"      --system-map FILE   where the memory layout variables are, when kallsyms\n"
"                          lists no data symbols (default: /boot/System.map-REL)\n" },
	{ ALL, "      --kprobes           use kprobes even where fentry would work\n" },
	{ 1u << CMD_HIST, "  -i, --interval DUR      hist: print every DUR\n" },
	{ 1u << CMD_HIST, "  -c, --count N           hist: stop after N intervals\n" },
	{ ALL_RUN, "  -d, --duration DUR      stop after DUR\n" },
	{ 1u << CMD_CHECK,
	       "      --max METRIC=DUR    check: fail if METRIC's maximum exceeds DUR; METRIC is\n"
	       "                          enq_to_free, enq_to_drain, inval or drain\n" },
	{ 1u << CMD_CHECK,
	       "      --max-pending-age DUR\n"
	       "                          check: fail if a page is still pending after DUR\n" },
	{ ALL_RUN,
"      --max-pending N     pages tracked at once (default "
	KPT_STR(KPT_DEFAULT_PENDING) ", at most\n"
"                          " KPT_STR(KPT_MAX_PENDING) "; ~"
	KPT_STR(KPT_PENDING_ENTRY_BYTES) " bytes of kernel memory each,\n"
	       "                          allocated up front)\n" },
	{ ALL_RUN, "      --ringbuf-size SIZE event ring buffer, e.g. 4M (default 256K)\n" },
	{ 1u << CMD_TRACE | 1u << CMD_CHECK,
	       "      --handover-stacks   trace, check: also record the stack of each hand-over\n"
	       "                          and free-point unlink, shown with a violation (a\n"
	       "                          stack walk per page)\n" },
};

void env_usage(FILE *f, enum kpt_cmd cmd)
{
	unsigned mask = cmd == CMD_NONE ? ~0u : 1u << cmd;

	if (cmd == CMD_NONE)
		fprintf(f, "Usage: kptwatch [OPTIONS] COMMAND [OPTIONS]\n"
			"Watch the kernel defer page-table frees until the IOMMU has flushed "
			"them.\n\nCommands:\n");
	else
		fprintf(f, "Usage: kptwatch %s [OPTIONS]%s\n\n", cmd_names[cmd],
			cmd == CMD_CHECK ? " [-- COMMAND [ARGS...]]" : "");
	for (size_t i = 0; i < sizeof(cmd_help) / sizeof(cmd_help[0]); i++)
		if (cmd_help[i].cmds & mask)
			fputs(cmd_help[i].text, f);
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i < sizeof(opt_help) / sizeof(opt_help[0]); i++)
		if (opt_help[i].cmds & mask)
			fputs(opt_help[i].text, f);
	if (cmd != CMD_PROBE)
		fprintf(f, "\nDurations take a unit: ns, us, ms, s, m, h (e.g. 500us, 10ms, 1.5s, "
			"1m).\n");
	if (cmd == CMD_PROBE)
		fprintf(f, "\nExit codes: 0 ready; 2 nothing can be watched, or a usage or setup\n"
			"            error; 3 a critical point missing or the layout unknown.\n");
	else if (cmd == CMD_TRACE || cmd == CMD_HIST)
		fprintf(f, "\nExit codes: 0 the run ended (duration, count or Ctrl-C);\n"
			"            2 usage or setup error.\n");
	else
		fprintf(f,
"\n"
"Exit codes: 0 clean; 1 violation, limit exceeded or COMMAND failed;\n"
"            2 usage or setup error; 3 verdict incomplete (drops, map full,\n"
"            a needed point missing).\n");
	if (cmd != CMD_NONE) {
		fprintf(f, "\nGlobal options may also come before the command. "
			"See kptwatch(8).\n");
		return;
	}
	fprintf(f,
"\n"
"Examples:\n"
"  kptwatch probe                      what can be watched on this kernel\n"
"  kptwatch trace -d 10s               live events for ten seconds\n"
"  kptwatch hist -i 1s -c 5            five one-second histograms\n"
"  kptwatch hist -i 1m --prom /var/lib/prometheus/node-exporter/kptwatch.prom\n"
"  kptwatch check -d 30s --max-pending-age 1s\n"
"  kptwatch check --junit out.xml --max enq_to_free=10ms -- ./workload.sh\n"
"  kptwatch check --help               check's options only\n");
}

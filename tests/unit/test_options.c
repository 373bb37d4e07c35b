// SPDX-License-Identifier: GPL-2.0
/* Durations, sizes and whole command lines, good and malformed. */
#include "options.h"
#include "unit.h"

static struct env env;
static char *argv[64];
static char line_buf[512];

/* Split on spaces and parse like main() would. */
static int parse(const char *line)
{
	int argc = 0;
	char *save, *tok;

	snprintf(line_buf, sizeof(line_buf), "%s", line);
	for (tok = strtok_r(line_buf, " ", &save); tok && argc < 63;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return env_parse(&env, argc, argv);
}

static void test_durations_good(void)
{
	static const struct { const char *s; __u64 ns; } c[] = {
		{ "500us", 500000 }, { "10ms", 10000000 }, { "2s", 2000000000ULL },
		{ "1m", 60000000000ULL }, { "1h", 3600000000000ULL }, { "7ns", 7 },
		{ "1.5ms", 1500000 }, { "0.25s", 250000000 }, { "+3s", 3000000000ULL },
		{ "0ms", 0 }, { "9223372036854775807ns", 9223372036854775807ULL },
	};
	char err[160];
	__u64 ns;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ns = 1;
		CHECK(!parse_duration(c[i].s, &ns, err, sizeof(err)), "'%s': %s", c[i].s, err);
		CHECK(ns == c[i].ns, "'%s' -> %llu, want %llu", c[i].s, (unsigned long long)ns,
		      (unsigned long long)c[i].ns);
	}
}

static void test_durations_bad(void)
{
	static const struct { const char *s, *msg; } c[] = {
		{ "", "empty" }, { "10", "needs a unit" }, { "-5ms", "negative" },
		{ "abc", "malformed" }, { "5 ms", "malformed" }, { "5mss", "malformed" },
		{ "ms", "malformed" }, { ".", "malformed" }, { "1.5ns", "finer than 1ns" },
		{ "99999999999999999999s", "out of range" }, { "3000000h", "out of range" },
		{ "9223372036854775808ns", "out of range" }, { "1.0000000001s", "9 decimals" },
		{ "10MS", "malformed" }, { "1e3ms", "malformed" },
	};
	char err[160];
	__u64 ns;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		err[0] = 0;
		CHECK(parse_duration(c[i].s, &ns, err, sizeof(err)) < 0, "'%s' accepted", c[i].s);
		CHECK(strstr(err, c[i].msg), "'%s': message '%s' lacks '%s'", c[i].s, err,
		      c[i].msg);
		CHECK(!strchr(err, '\n'), "'%s': message must be one line", c[i].s);
	}
}

static void test_sizes(void)
{
	char err[160];
	__u64 v;

	CHECK(!parse_size("4M", &v, err, sizeof(err)) && v == 4 << 20, "4M -> %llu",
	      (unsigned long long)v);
	CHECK(!parse_size("256k", &v, err, sizeof(err)) && v == 256 << 10, "256k");
	CHECK(!parse_size("4096", &v, err, sizeof(err)) && v == 4096, "4096");
	CHECK(parse_size("4X", &v, err, sizeof(err)) < 0, "4X accepted");
	CHECK(parse_size("-1M", &v, err, sizeof(err)) < 0, "-1M accepted");
	CHECK(parse_size("99999999999999999999G", &v, err, sizeof(err)) < 0, "overflow accepted");
	CHECK(parse_size("17179869184G", &v, err, sizeof(err)) < 0, "2^64 bytes accepted");
}

static void test_command_lines_good(void)
{
	CHECK(!parse("kptwatch probe") && env.cmd == CMD_PROBE, "probe: %s", env.err);
	CHECK(env.max_pending == KPT_DEFAULT_PENDING && env.ringbuf_size == KPT_RINGBUF_DEFAULT,
	      "defaults");

	CHECK(!parse("kptwatch hist -i 1s -c 5 --json") && env.cmd == CMD_HIST, "hist: %s",
	      env.err);
	CHECK(env.interval_ns == 1000000000ULL && env.count == 5 && env.json, "hist values");

	CHECK(!parse("kptwatch check -d 30s --max enq_to_free=10ms --max inval=500us "
		     "--max-pending-age 1s --junit out.xml -v -v"), "check: %s", env.err);
	CHECK(env.duration_ns == 30000000000ULL && env.max_ns[KPT_M_ENQ_TO_FREE] == 10000000 &&
	      env.max_ns[KPT_M_INVAL_DUR] == 500000 && env.max_ns[KPT_M_DRAIN_DUR] == 0,
	      "check limits");
	CHECK(env.max_pending_age_ns == 1000000000ULL && !strcmp(env.junit, "out.xml") &&
	      env.verbose == 2, "check options");

	CHECK(!parse("kptwatch check --json -- make -j2 -C dir test"), "check cmd: %s", env.err);
	CHECK(env.argv_cmd && !strcmp(env.argv_cmd[0], "make") &&
	      !strcmp(env.argv_cmd[1], "-j2") && !strcmp(env.argv_cmd[4], "test") &&
	      !env.argv_cmd[5], "command argv");
	CHECK(env.json, "--json before --");

	CHECK(!parse("kptwatch trace --ringbuf-size 5000 --max-pending 1024 --kprobes"),
	      "trace: %s", env.err);
	CHECK(env.ringbuf_size == 8192 && env.max_pending == 1024 && env.kprobes,
	      "ringbuf rounds up to a power of two: %u", env.ringbuf_size);

	CHECK(!parse("kptwatch --help") && env.help, "--help");
	CHECK(!parse("kptwatch check --help") && env.help && env.cmd == CMD_CHECK, "check --help");
	CHECK(!parse("kptwatch --version") && env.version, "--version");
	CHECK(!parse("kptwatch probe --btf /tmp/vmlinux") &&
	      !strcmp(env.btf_path, "/tmp/vmlinux"), "--btf");
}

/* Global options before the command: "kptwatch -v probe". */
static void test_options_before_command(void)
{
	CHECK(!parse("kptwatch -v probe") && env.cmd == CMD_PROBE && env.verbose == 1,
	      "-v probe: %s", env.err);
	CHECK(!parse("kptwatch --btf /tmp/vmlinux -v probe --json") && env.cmd == CMD_PROBE &&
	      !strcmp(env.btf_path, "/tmp/vmlinux") && env.json && env.verbose == 1,
	      "--btf FILE -v probe --json: %s", env.err);
	CHECK(!parse("kptwatch --json check -d 1s") && env.cmd == CMD_CHECK && env.json &&
	      env.duration_ns == 1000000000ULL, "--json check -d 1s: %s", env.err);
	CHECK(!parse("kptwatch -v check -- ls -v") && env.cmd == CMD_CHECK && env.verbose == 1 &&
	      env.argv_cmd && !strcmp(env.argv_cmd[1], "-v") && !env.argv_cmd[2],
	      "COMMAND keeps its own options: %s", env.err);
	CHECK(!parse("kptwatch -h check") && env.help && env.cmd == CMD_CHECK, "-h check");
	CHECK(!parse("kptwatch check --max-pending 524288") && env.max_pending == 524288,
	      "the cap itself is fine: %s", env.err);
}

static char *usage_of(enum kpt_cmd cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	env_usage(f, cmd);
	fclose(f);
	return buf;
}

/* Each command's --help lists its own options and no others. */
static void test_usage_per_command(void)
{
	char *all = usage_of(CMD_NONE), *probe = usage_of(CMD_PROBE);
	char *hist = usage_of(CMD_HIST), *check = usage_of(CMD_CHECK);

	CHECK(strstr(all, "--junit") && strstr(all, "--interval") && strstr(all, "Examples:"),
	      "full help");
	CHECK(!strncmp(probe, "Usage: kptwatch probe", 21) && strstr(probe, "--btf") &&
	      !strstr(probe, "--junit") && !strstr(probe, "--duration") &&
	      !strstr(probe, "--max-pending") && !strstr(probe, "  trace"), "probe: %s", probe);
	CHECK(strstr(hist, "--interval") && strstr(hist, "--count") && !strstr(hist, "--junit") &&
	      !strstr(hist, "--max METRIC"), "hist: %s", hist);
	CHECK(!strncmp(check, "Usage: kptwatch check", 21) && strstr(check, "--junit") &&
	      strstr(check, "--max METRIC") && !strstr(check, "--interval") &&
	      !strstr(check, "  probe"), "check: %s", check);
	CHECK(strstr(all, "at most\n                          524288; ~340 bytes"),
	      "--max-pending's bound in the help");
	free(all);
	free(probe);
	free(hist);
	free(check);
}

static void test_command_lines_bad(void)
{
	static const struct { const char *line, *msg; } c[] = {
		{ "kptwatch", "missing command" },
		{ "kptwatch frob", "unknown command 'frob'" },
		{ "kptwatch hist -i 0s", "greater than zero" },
		{ "kptwatch hist -i 10", "needs a unit" },
		{ "kptwatch hist -i -1s", "negative" },
		{ "kptwatch hist -c 5", "-c needs -i" },
		{ "kptwatch hist -i 1s -c 0", "at least 1" },
		{ "kptwatch hist -i 1s -c -3", "negative" },
		{ "kptwatch hist -i 1s -c 99999999999", "out of range" },
		{ "kptwatch hist -i", "needs an argument" },
		{ "kptwatch probe -d 5s", "-d does not apply to 'probe'" },
		{ "kptwatch trace --junit x.xml", "--junit does not apply" },
		{ "kptwatch hist --max inval=1ms", "--max does not apply" },
		{ "kptwatch check --max foo=1ms", "unknown metric 'foo'" },
		{ "kptwatch check --max drain_pages=1ms", "unknown metric" },
		{ "kptwatch check --max enq_to_free", "METRIC=DURATION" },
		{ "kptwatch check --max enq_to_free=", "empty duration" },
		{ "kptwatch check --max-pending-age 0s", "greater than zero" },
		{ "kptwatch check -d 5s -- ls", "not both" },
		{ "kptwatch check --", "must be followed by a command" },
		{ "kptwatch trace -- ls", "unexpected argument 'ls'" },
		{ "kptwatch trace extra", "unexpected argument 'extra'" },
		{ "kptwatch probe --bogus", "unknown option '--bogus'" },
		{ "kptwatch probe -x", "unknown option '-x'" },
		{ "kptwatch trace --ringbuf-size 1K", "out of range" },
		{ "kptwatch trace --ringbuf-size 2G", "out of range" },
		{ "kptwatch trace --ringbuf-size lots", "malformed size" },
		{ "kptwatch trace --max-pending 0", "at least 1" },
		{ "kptwatch trace --max-pending 99999999", "out of range" },
		{ "kptwatch -v", "missing command" },
		{ "kptwatch -v -- probe", "missing command" },
		{ "kptwatch -d 1s frob", "unknown command 'frob'" },
		{ "kptwatch -d 5s probe", "-d does not apply to 'probe'" },
		{ "kptwatch check --max-pending 16777216", "at most 524288" },
		{ "kptwatch check --max-pending 524289", "kernel memory" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		CHECK(parse(c[i].line) < 0, "'%s' accepted", c[i].line);
		CHECK(strstr(env.err, c[i].msg), "'%s': message '%s' lacks '%s'", c[i].line,
		      env.err, c[i].msg);
	}
}

static void test_metric_names(void)
{
	CHECK(metric_by_name("enq_to_free") == KPT_M_ENQ_TO_FREE, "enq_to_free");
	CHECK(metric_by_name("enq_to_drain") == KPT_M_ENQ_TO_DRAIN, "enq_to_drain");
	CHECK(metric_by_name("inval") == KPT_M_INVAL_DUR, "inval");
	CHECK(metric_by_name("drain") == KPT_M_DRAIN_DUR, "drain");
	CHECK(metric_by_name("pending_depth") == KPT_M_PENDING_DEPTH &&
	      !metric_is_ns(KPT_M_PENDING_DEPTH), "pending_depth is a count");
	CHECK(metric_by_name("nope") < 0, "unknown metric");
}

static void test_usage_fits(void)
{
	char *buf = NULL, *line, *save;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (int c = CMD_NONE; c <= CMD_CHECK; c++)
		env_usage(f, c);
	fclose(f);
	CHECK(strstr(buf, "Examples:") && strstr(buf, "kptwatch check"), "help has examples");
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		CHECK(strlen(line) <= 80, "help line over 80 columns: '%s'", line);
	free(buf);
}

int main(void)
{
	RUN(test_durations_good);
	RUN(test_durations_bad);
	RUN(test_sizes);
	RUN(test_command_lines_good);
	RUN(test_command_lines_bad);
	RUN(test_options_before_command);
	RUN(test_usage_per_command);
	RUN(test_metric_names);
	RUN(test_usage_fits);
	return unit_done();
}

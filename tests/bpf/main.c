// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpf tier: the rule's state machine through BPF_PROG_TEST_RUN on the
 * running kernel, plus load-only checks of the real attach programs.
 * Prints "ok NAME" or "FAIL NAME: why" per case and a closing
 * "bpf: N passed, M failed". Exit 0 all passed, 1 a failure, 77 skipped.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tb.h"

static int verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int passed = 0, failed = 0, each = 0, i, opt;
	struct tb *t;

	while ((opt = getopt(argc, argv, "av")) != -1) {
		if (opt == 'v')
			verbose++;
		else if (opt == 'a')
			each = 1;	/* also load each real program alone */
		else {
			fprintf(stderr, "usage: %s [-a] [-v] [CASE]\n", argv[0]);
			return 2;
		}
	}
	if (optind < argc)
		only = argv[optind];

	if (geteuid() != 0) {
		printf("SKIP bpf tier: needs root\n");
		return 77;
	}
	libbpf_set_print(print_libbpf);
	setvbuf(stdout, NULL, _IOLBF, 0);

	t = calloc(1, sizeof(*t));
	if (!t)
		return 1;
	for (i = 0; i < tb_rule_ncases; i++) {
		const struct tb_case *c = &tb_rule_cases[i];

		if (only && strcmp(only, c->name))
			continue;
		if (tb_open(t, &c->opts)) {
			printf("FAIL %s: %s\n", c->name, t->why);
			failed++;
			continue;
		}
		t->why[0] = 0;
		if (c->fn(t)) {
			printf("FAIL %s: %s\n", c->name, t->why);
			failed++;
		} else {
			printf("ok %s\n", c->name);
			passed++;
		}
		tb_close(t);
	}
	if (!only) {
		tb_load_checks(&passed, &failed);
		tb_free_checks(&passed, &failed);
	}
	if (each)
		tb_load_each(&passed, &failed);
	free(t);

	printf("bpf: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

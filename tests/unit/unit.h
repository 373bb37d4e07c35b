/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny test harness: TEST functions with CHECK assertions, one "ok" or
 * "not ok" line per test (TAP style) for run.sh to count.
 */
#ifndef KPT_UNIT_H
#define KPT_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_fails, unit_passed, unit_failed, unit_n;

#define CHECK(cond, ...) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);					\
		fputc('\n', stderr);						\
		unit_fails++;							\
	}									\
} while (0)

#define RUN(fn) unit_run(#fn, fn)

static inline void unit_run(const char *name, void (*fn)(void))
{
	int before = unit_fails;

	fn();
	fflush(stderr);
	if (unit_fails > before) {
		unit_failed++;
		printf("not ok %d - %s\n", ++unit_n, name);
	} else {
		unit_passed++;
		printf("ok %d - %s\n", ++unit_n, name);
	}
	fflush(stdout);
}

static inline int unit_done(void)
{
	return unit_failed ? 1 : 0;
}

/* A fixture under tests/unit/data (or $UNIT_DATA), NUL-terminated. */
static inline char *unit_fixture(const char *name)
{
	const char *dir = getenv("UNIT_DATA") ? getenv("UNIT_DATA") : "tests/unit/data";
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "  cannot open fixture %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		exit(2);
	fclose(f);
	return buf;
}

/* Feed text to a shell command's stdin; its exit status, -1 if it died. */
static inline int unit_pipe(const char *cmd, const char *text)
{
	FILE *p = popen(cmd, "w");
	int st;

	if (!p)
		return -1;
	fputs(text, p);
	st = pclose(p);
	return st >= 0 && (st & 0x7f) == 0 ? (st >> 8) & 0xff : -1;
}

#endif

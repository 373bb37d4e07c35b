/* SPDX-License-Identifier: GPL-2.0 */
/* A small streaming JSON writer: compact, one document per line. */
#ifndef KPT_JSON_H
#define KPT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define JW_DEPTH 16

struct jw {
	FILE *f;
	int depth;
	bool comma[JW_DEPTH];
};

void jw_init(struct jw *w, FILE *f);
/* key is NULL inside arrays and for the top level. */
void jw_open(struct jw *w, const char *key, char brace);
void jw_close(struct jw *w, char brace);
void jw_str(struct jw *w, const char *key, const char *v);
void jw_u64(struct jw *w, const char *key, __u64 v);
void jw_i64(struct jw *w, const char *key, long long v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
void jw_hex(struct jw *w, const char *key, __u64 v);	/* "0x..." string */
/* Close the document with a newline. */
void jw_end(struct jw *w);

/*
 * The valid UTF-8 sequence at s (at most n bytes): its length and code
 * point, or 0 when s does not start one (a stray byte, an overlong form,
 * a surrogate, past U+10FFFF, cut short).
 */
int utf8_seq(const char *s, size_t n, __u32 *cp);

#endif

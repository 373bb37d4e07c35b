// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "json.h"

void jw_init(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->comma[0] = false;
}

int utf8_seq(const char *str, size_t n, __u32 *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	__u32 c, min;
	int len;

	if (!n)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;	/* a continuation byte, C0/C1 (overlong), F5..FF */
	}
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and past U+10FFFF are no UTF-8 */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/*
 * Strings from the kernel (a task's comm, symbol names) are bytes, not
 * text: a comm of "k\xff\xfe" made the document invalid. Valid UTF-8 goes
 * through; control characters and every byte that is not part of a valid
 * sequence become \u00XX, the code point of the same value (0xff ->
 * \u00ff), so the output is always valid JSON and nothing is dropped.
 */
static void put_str(FILE *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	fputc('"', f);
	while (n) {
		unsigned char c = *s;
		__u32 cp;
		int len = utf8_seq(s, n, &cp);

		if (len > 1) {
			/* C1 controls are valid UTF-8, but still controls */
			if (cp < 0xa0)
				fprintf(f, "\\u%04x", cp);
			else
				fwrite(s, 1, len, f);
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c >= 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
		len = len ? len : 1;
		s += len;
		n -= len;
	}
	fputc('"', f);
}

static void key(struct jw *w, const char *k)
{
	if (w->comma[w->depth])
		fputc(',', w->f);
	w->comma[w->depth] = true;
	if (k) {
		put_str(w->f, k);
		fputc(':', w->f);
	}
}

void jw_open(struct jw *w, const char *k, char brace)
{
	key(w, k);
	fputc(brace, w->f);
	if (w->depth < JW_DEPTH - 1)
		w->depth++;
	w->comma[w->depth] = false;
}

void jw_close(struct jw *w, char brace)
{
	fputc(brace, w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_str(struct jw *w, const char *k, const char *v)
{
	key(w, k);
	if (v)
		put_str(w->f, v);
	else
		fputs("null", w->f);
}

void jw_u64(struct jw *w, const char *k, __u64 v)
{
	key(w, k);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_i64(struct jw *w, const char *k, long long v)
{
	key(w, k);
	fprintf(w->f, "%lld", v);
}

void jw_bool(struct jw *w, const char *k, bool v)
{
	key(w, k);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *k)
{
	key(w, k);
	fputs("null", w->f);
}

void jw_hex(struct jw *w, const char *k, __u64 v)
{
	key(w, k);
	fprintf(w->f, "\"0x%llx\"", (unsigned long long)v);
}

void jw_end(struct jw *w)
{
	fputc('\n', w->f);
	fflush(w->f);
	w->depth = 0;
	w->comma[0] = false;
}

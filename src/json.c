// SPDX-License-Identifier: GPL-2.0
#include "json.h"

void jw_init(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->comma[0] = false;
}

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
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

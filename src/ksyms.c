// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kallsyms reader. The listing is read a line at a time and only
 * the names are kept, in large chunks: the address and type columns of
 * the text would double what a 120k-symbol kernel costs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "ksyms.h"

/*
 * By address, then by line: symbols at one address (aliases) keep the
 * listing's order, as ksyms_search() counts on.
 */
static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sift_down(struct ksym *s, size_t i, size_t n)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		struct ksym t;

		if (c + 1 < n && cmp_addr(&s[c], &s[c + 1]) < 0)
			c++;
		if (cmp_addr(&s[i], &s[c]) >= 0)
			return;
		t = s[i];
		s[i] = s[c];
		s[c] = t;
	}
}

/*
 * Sort by address in place. kallsyms is nearly sorted already (vmlinux in
 * address order, then modules and BPF); glibc's qsort() would copy the
 * whole array to merge-sort it, a peak as big as the symbols themselves.
 */
static void sort_syms(struct ksym *s, size_t n)
{
	size_t i;

	for (i = 1; i < n && cmp_addr(&s[i - 1], &s[i]) <= 0; i++)
		;
	if (i >= n)
		return;
	for (i = n / 2; i-- > 0;)
		sift_down(s, i, n);
	for (i = n; i-- > 1;) {
		struct ksym t = s[0];

		s[0] = s[i];
		s[i] = t;
		sift_down(s, 0, i);
	}
}

/* Sort, and find vmlinux's text ranges. */
static void finish(struct ksyms *ks)
{
	sort_syms(ks->syms, ks->n);
	ks->stext = ks->etext = ks->sinittext = ks->einittext = 0;
	for (size_t i = 0; i < ks->n; i++) {
		const struct ksym *k = &ks->syms[i];

		if (k->mod || k->name[0] != '_')
			continue;
		if (!strcmp(k->name, "_stext"))
			ks->stext = k->addr;
		else if (!strcmp(k->name, "_etext"))
			ks->etext = k->addr;
		else if (!strcmp(k->name, "_sinittext"))
			ks->sinittext = k->addr;
		else if (!strcmp(k->name, "_einittext"))
			ks->einittext = k->addr;
	}
}

#define KSYMS_CHUNK	(256 << 10)

/* A copy of s[0..len) in the names chunks; NULL without memory. */
static const char *keep_name(struct ksyms *ks, const char *s, size_t len)
{
	char *d;

	if (!ks->nchunks || ks->fill + len + 1 > KSYMS_CHUNK) {
		char **c = realloc(ks->chunks, (ks->nchunks + 1) * sizeof(*c));

		if (!c)
			return NULL;
		ks->chunks = c;
		c[ks->nchunks] = malloc(len + 1 > KSYMS_CHUNK ? len + 1 : KSYMS_CHUNK);
		if (!c[ks->nchunks])
			return NULL;
		ks->nchunks++;
		ks->fill = 0;
	}
	d = ks->chunks[ks->nchunks - 1] + ks->fill;
	memcpy(d, s, len);
	d[len] = 0;
	ks->fill += len + 1;
	return d;
}

/*
 * One line, "ADDR TYPE NAME[\t[MODULE]]", up to its newline or NUL;
 * anything else is skipped. -ENOMEM if it could not be kept.
 */
static int add_line(struct ksyms *ks, const char *line)
{
	const char *end, *name, *tag;
	struct ksym k = {};
	size_t len, tl;

	k.addr = strtoull(line, (char **)&end, 16);
	if (end == line || *end != ' ' || !end[1] || end[2] != ' ')
		return 0;
	k.type = end[1];
	name = end + 3;
	len = strcspn(name, " \t\n");
	if (!len)
		return 0;
	/* "\t[module]", "\t[bpf]": keep the tag, without its brackets */
	tag = name + len + strspn(name + len, " \t");
	tl = strcspn(tag, "\n");
	if (tag > name + len && tl >= 2 && tag[0] == '[' && tag[tl - 1] == ']') {
		const struct ksym *last = ks->n ? &ks->syms[ks->n - 1] : NULL;

		/* a module's symbols come together: one copy of its name */
		if (last && last->mod && strlen(last->mod) == tl - 2 &&
		    !strncmp(last->mod, tag + 1, tl - 2))
			k.mod = last->mod;
		else if (!(k.mod = keep_name(ks, tag + 1, tl - 2)))
			return -ENOMEM;
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap + ks->cap / 2 : 1024;
		struct ksym *s = realloc(ks->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		ks->syms = s;
		ks->cap = cap;
	}
	if (!(k.name = keep_name(ks, name, len)))
		return -ENOMEM;
	k.seq = ks->seq++;
	ks->syms[ks->n++] = k;
	return 0;
}

/* Done adding: give back the array's unused tail, sort. */
static struct ksyms *done(struct ksyms *ks)
{
	if (ks->n && ks->n < ks->cap) {
		struct ksym *s = realloc(ks->syms, ks->n * sizeof(*s));

		if (s) {
			ks->syms = s;
			ks->cap = ks->n;
		}
	}
	finish(ks);
	return ks;
}

struct ksyms *ksyms_parse(const char *listing)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	const char *line, *next;

	for (line = listing; ks && line && *line; line = next) {
		next = strchr(line, '\n');
		if (add_line(ks, line)) {
			ksyms_free(ks);
			ks = NULL;
		}
		next = next ? next + 1 : NULL;
	}
	if (!ks) {
		errno = ENOMEM;
		return NULL;
	}
	return done(ks);
}

/*
 * A listing from a file, plain or gzip (gzread passes a plain file
 * through: System.map.gz reads the same). NULL with errno set.
 */
struct ksyms *ksyms_load(const char *path)
{
	gzFile f = gzopen(path, "rb");
	struct ksyms *ks = f ? calloc(1, sizeof(*ks)) : NULL;
	bool cont = false;
	char line[1024];
	int err = 0;

	if (!f)
		return NULL;
	/*
	 * /proc/kallsyms fills whatever a read asks for: zlib's default 8 KiB
	 * made a read syscall per ~150 symbols, thousands per listing.
	 */
	gzbuffer(f, 128 * 1024);
	while (ks && !err && gzgets(f, line, sizeof(line))) {
		size_t l = strlen(line);
		bool whole = l && line[l - 1] == '\n';

		/* a line longer than the buffer is no symbol: drop all of it */
		if (!cont && (whole || gzeof(f)))
			err = add_line(ks, line);
		cont = !whole;
	}
	if (!err && !gzeof(f))
		err = -EIO;
	gzclose(f);
	if (!ks || err) {
		ksyms_free(ks);
		errno = ks ? -err : ENOMEM;
		return NULL;
	}
	return done(ks);
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->nchunks; i++)
		free(ks->chunks[i]);
	free(ks->chunks);
	free(ks->syms);
	free(ks);
}

static bool in_range(__u64 addr, __u64 start, __u64 end)
{
	return start && end && addr >= start && addr < end;
}

/* Where the symbol at index i ends, 0 when it holds only its own address. */
static __u64 sym_end(const struct ksyms *ks, size_t i)
{
	const struct ksym *k = &ks->syms[i];
	/* i is the last symbol at its address: the next one is above it */
	__u64 next = i + 1 < ks->n ? ks->syms[i + 1].addr : 0;
	__u64 bound;

	if (k->mod)
		return next;
	if (!ks->stext || !ks->etext)
		return next;		/* no ranges known: the next symbol */
	if (in_range(k->addr, ks->stext, ks->etext))
		bound = ks->etext;
	else if (in_range(k->addr, ks->sinittext, ks->einittext))
		bound = ks->einittext;
	else
		return 0;		/* data, markers, _end: no code lies there */
	return next && next < bound ? next : bound;
}

const struct ksym *ksyms_search(const struct ksyms *ks, __u64 addr)
{
	size_t lo = 0, hi = ks ? ks->n : 0;
	__u64 end;

	/* find the first symbol above addr; the one before it holds addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (addr == ks->syms[lo - 1].addr)
		return &ks->syms[lo - 1];
	end = sym_end(ks, lo - 1);
	return addr < end ? &ks->syms[lo - 1] : NULL;
}

static int is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* "name.constprop.0" for name: a '.' after it, and no ".cold" anywhere. */
static int is_clone(const char *sym, const char *name, size_t len)
{
	return !strncmp(sym, name, len) && sym[len] == '.' && !strstr(sym + len, ".cold");
}

int ksyms_resolve(const struct ksyms *ks, const char *name, const char **sym)
{
	size_t len = strlen(name);
	const char *clone = NULL;
	int n = 0, exact = 0;

	*sym = NULL;
	for (size_t i = 0; ks && i < ks->n; i++) {
		const struct ksym *k = &ks->syms[i];

		if (!is_text(k->type))
			continue;
		if (!strcmp(k->name, name)) {
			if (!exact)
				n++;
			exact = 1;
			*sym = k->name;
		} else if (is_clone(k->name, name, len)) {
			n++;
			if (!clone)
				clone = k->name;
		}
	}
	if (!exact)
		*sym = clone;
	return n;
}

int ksyms_clones(const struct ksyms *ks, const char *name, const char **out, int max)
{
	size_t len = strlen(name);
	int n = 0;

	for (size_t i = 0; ks && i < ks->n; i++) {
		const struct ksym *k = &ks->syms[i];

		if (!is_text(k->type) || !is_clone(k->name, name, len))
			continue;
		if (n < max)
			out[n] = k->name;
		n++;
	}
	return n;
}

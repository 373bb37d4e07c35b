// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kallsyms reader. The listing is kept as one buffer; each line's
 * name is cut in place, so a 120k-symbol kernel costs two allocations.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "ksyms.h"

/*
 * By address, then by where the name lies in the listing: symbols at one
 * address (aliases) keep the listing's order, as ksyms_search() counts on.
 */
static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
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

/* Parse text, which the result owns from now on (freed on error too). */
static struct ksyms *parse_owned(char *text)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0;
	char *line, *next;

	if (!ks) {
		free(text);
		goto err;
	}
	ks->text = text;
	for (line = ks->text; line && *line; line = next) {
		char *end, *name, *mod, type;
		__u64 addr;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		addr = strtoull(line, &end, 16);
		if (end == line || *end != ' ' || !end[1] || end[2] != ' ')
			continue;
		type = end[1];
		name = end + 3;
		mod = name + strcspn(name, " \t");
		/* "\t[module]", "\t[bpf]": keep the tag, without its brackets */
		if (*mod) {
			*mod++ = 0;
			mod += strspn(mod, " \t");
			if (*mod == '[' && mod[1] && mod[strlen(mod) - 1] == ']') {
				mod[strlen(mod) - 1] = 0;
				mod++;
			} else {
				mod = NULL;
			}
		} else {
			mod = NULL;
		}
		if (!*name)
			continue;
		if (ks->n == cap) {
			struct ksym *s;

			cap = cap ? cap * 2 : 1024;
			s = realloc(ks->syms, cap * sizeof(*s));
			if (!s)
				goto err;
			ks->syms = s;
		}
		ks->syms[ks->n++] = (struct ksym){ .addr = addr, .name = name, .mod = mod,
						   .type = type };
	}
	/* the array doubled as it grew: give back the unused tail */
	if (ks->n && ks->n < cap) {
		struct ksym *s = realloc(ks->syms, ks->n * sizeof(*s));

		if (s)
			ks->syms = s;
	}
	finish(ks);
	return ks;
err:
	ksyms_free(ks);
	errno = ENOMEM;
	return NULL;
}

struct ksyms *ksyms_parse(const char *listing)
{
	char *text = strdup(listing);

	if (!text) {
		errno = ENOMEM;
		return NULL;
	}
	return parse_owned(text);
}

/* The "[bpf]" lines of f: a few, where the whole listing is megabytes. */
static char *read_bpf_lines(gzFile f)
{
	char *buf = calloc(1, 1), line[512];
	size_t len = 0;

	while (buf && gzgets(f, line, sizeof(line))) {
		size_t l = strlen(line);
		char *b;

		if (!strstr(line, "\t[bpf]"))
			continue;
		b = realloc(buf, len + l + 1);
		if (!b) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		memcpy(buf + len, line, l + 1);
		len += l;
	}
	if (!buf)
		errno = ENOMEM;
	return buf;
}

/* A listing from a file, plain or gzip, as one string; NULL with errno set. */
static char *read_listing(const char *path, bool bpf_only)
{
	/* gzread passes a plain file through: System.map.gz reads the same */
	gzFile f = gzopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int n;

	if (!f)
		return NULL;
	if (bpf_only) {
		buf = read_bpf_lines(f);
		gzclose(f);
		return buf;
	}
	do {
		if (cap - len < 65536) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 1 << 20);

			if (!b) {
				free(buf);
				gzclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = b;
		}
		n = gzread(f, buf + len, cap - len - 1);
		if (n > 0)
			len += n;
	} while (n > 0);
	gzclose(f);
	if (n < 0) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

struct ksyms *ksyms_load(const char *path)
{
	char *text = read_listing(path, false);

	return text ? parse_owned(text) : NULL;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->nmore; i++)
		free(ks->more[i]);
	free(ks->more);
	free(ks->syms);
	free(ks->text);
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

static bool has_sym(const struct ksyms *ks, const struct ksym *k)
{
	const struct ksym *s = ksyms_search(ks, k->addr);

	/* ksyms_search gives the last symbol at the address: walk back */
	for (size_t i = s ? s - ks->syms + 1 : 0; i > 0 && ks->syms[i - 1].addr == k->addr; i--)
		if (!strcmp(ks->syms[i - 1].name, k->name))
			return true;
	return false;
}

static bool is_bpf(const struct ksym *k)
{
	return k->mod && !strcmp(k->mod, "bpf");
}

int ksyms_add_bpf(struct ksyms *ks, const char *path)
{
	struct ksyms *now;
	struct ksym *syms;
	char **more, *text;
	size_t n = 0;

	if (!ks)
		return 0;
	text = read_listing(path, true);
	now = text ? parse_owned(text) : NULL;
	if (!now)
		return -errno;
	for (size_t i = 0; i < now->n; i++)
		n += is_bpf(&now->syms[i]);
	syms = n ? realloc(ks->syms, (ks->n + n) * sizeof(*syms)) : NULL;
	if (syms)
		ks->syms = syms;
	more = syms ? realloc(ks->more, (ks->nmore + 1) * sizeof(*more)) : NULL;
	if (more)
		ks->more = more;
	if (!more) {
		ksyms_free(now);
		return n ? -ENOMEM : 0;
	}
	/* ks->n stays put until the end: has_sym searches the sorted part */
	n = 0;
	for (size_t i = 0; i < now->n; i++)
		if (is_bpf(&now->syms[i]) && !has_sym(ks, &now->syms[i]))
			ks->syms[ks->n + n++] = now->syms[i];
	/* the names point into now's listing: keep it */
	ks->more[ks->nmore++] = now->text;
	now->text = NULL;
	ksyms_free(now);
	ks->n += n;
	finish(ks);
	return n;
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

// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kallsyms reader. The listing is kept as one buffer; each line's
 * name is cut in place, so a 120k-symbol kernel costs two allocations.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "ksyms.h"

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ksyms *ksyms_parse(const char *listing)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0;
	char *line, *next;

	if (!ks || !(ks->text = strdup(listing)))
		goto err;
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
	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_addr);
	return ks;
err:
	ksyms_free(ks);
	errno = ENOMEM;
	return NULL;
}

struct ksyms *ksyms_load(const char *path)
{
	/* gzread passes a plain file through: System.map.gz reads the same */
	gzFile f = gzopen(path, "rb");
	struct ksyms *ks;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int n;

	if (!f)
		return NULL;
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
	ks = ksyms_parse(buf);
	free(buf);
	return ks;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->text);
	free(ks);
}

const struct ksym *ksyms_search(const struct ksyms *ks, __u64 addr)
{
	size_t lo = 0, hi = ks ? ks->n : 0;

	/* find the first symbol above addr; the one before it holds addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &ks->syms[lo - 1] : NULL;
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

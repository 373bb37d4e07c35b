// SPDX-License-Identifier: GPL-2.0
/*
 * Memory layout bases: from kallsyms, from a System.map, or unknown. See
 * layout.h for why this matters.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "layout.h"
#include "kptwatch.h"

#define VMEMMAP_SYM	"vmemmap_base"
#define PAGE_OFFSET_SYM	"page_offset_base"

/*
 * A System.map is taken for the running kernel when this share of
 * kallsyms' global functions sit at its addresses plus one offset.
 */
#define MAP_MATCH_PCT	95

static bool is_data(char type)
{
	return strchr("dDbBrR", type) != NULL;
}

static const struct ksym *find_name(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; ks && i < ks->n; i++)
		if (!strcmp(ks->syms[i].name, name))
			return &ks->syms[i];
	return NULL;
}

/* addr in [start, end] of kallsyms' text ranges; false if a bound is not listed */
static bool in_range(__u64 addr, const struct ksym *start, const struct ksym *end)
{
	return start && end && addr >= start->addr && addr <= end->addr;
}

/*
 * Does kallsyms come from a kernel built with CONFIG_KALLSYMS_ALL? Without
 * it, scripts/kallsyms keeps the symbols inside _stext.._etext and
 * _sinittext.._einittext and every __start_* and __stop_* section marker,
 * whatever their type: data-typed symbols are listed either way (the
 * markers, __init_begin at _sinittext). Only a data symbol of vmlinux that
 * is no marker and lies outside those ranges proves the option; module
 * symbols prove nothing, modules list their data regardless. Without
 * _stext and _etext nothing is proven.
 */
static bool kallsyms_all(const struct ksyms *ks)
{
	const struct ksym *st = find_name(ks, "_stext"), *et = find_name(ks, "_etext");
	const struct ksym *si = find_name(ks, "_sinittext"), *ei = find_name(ks, "_einittext");

	if (!st || !et)
		return false;
	for (size_t i = 0; i < ks->n; i++) {
		const struct ksym *s = &ks->syms[i];

		if (!is_data(s->type) || s->mod || !strncmp(s->name, "__start_", 8) ||
		    !strncmp(s->name, "__stop_", 7) || in_range(s->addr, st, et) ||
		    in_range(s->addr, si, ei))
			continue;
		return true;
	}
	return false;
}

/* Is name one of the symbols at addr? ksyms_search gives the last of them. */
static bool sym_at(const struct ksyms *ks, __u64 addr, const char *name)
{
	const struct ksym *s = ksyms_search(ks, addr);

	for (size_t i = s ? s - ks->syms + 1 : 0; i > 0 && ks->syms[i - 1].addr == addr; i--)
		if (!strcmp(ks->syms[i - 1].name, name))
			return true;
	return false;
}

/*
 * KASLR moves the whole image by one offset, which _stext gives. Every
 * global function of kallsyms in the image must then be where the map
 * says, less a few the map may name differently; a map of another build
 * fails this. Module functions lie above the image and are not counted.
 */
static int map_offset(const struct ksyms *kallsyms, const struct ksyms *map, __u64 *off,
		      char *why, size_t len)
{
	const struct ksym *k = find_name(kallsyms, "_stext");
	const struct ksym *m = find_name(map, "_stext");
	size_t seen = 0, found = 0;
	size_t t = map->n;
	__u64 top;

	if (!k || !m) {
		snprintf(why, len, "has no _stext%s", k ? "" : " (nor has kallsyms)");
		return -1;
	}
	*off = k->addr - m->addr;
	/* the highest global function: the listing is sorted by address */
	while (t > 0 && map->syms[t - 1].type != 'T')
		t--;
	top = t ? map->syms[t - 1].addr : 0;
	for (size_t i = 0; i < kallsyms->n; i++) {
		const struct ksym *s = &kallsyms->syms[i];

		if (s->type != 'T' || s->addr - *off > top || s->addr < k->addr)
			continue;
		seen++;
		found += sym_at(map, s->addr - *off, s->name);
	}
	if (!seen || found * 100 < seen * MAP_MATCH_PCT) {
		snprintf(why, len, "does not match the running kernel (%zu of %zu functions "
			 "in place)", found, seen);
		return -1;
	}
	return 0;
}

enum layout_src layout_resolve(const struct layout_input *in, struct layout *l)
{
	const struct ksym *kv = find_name(in->kallsyms, VMEMMAP_SYM);
	const struct ksym *kp = find_name(in->kallsyms, PAGE_OFFSET_SYM);
	const char *map = in->system_map_path ? in->system_map_path : "System.map";
	char why[160] = "cannot be checked: kallsyms unreadable";
	__u64 off;

	memset(l, 0, sizeof(*l));
	/*
	 * The programs read the variables where kallsyms lists them: handing
	 * them the addresses spares libbpf its own pass over kallsyms for
	 * typeless ksyms, a second full read of the listing at load time.
	 * Addresses hidden by kptr_restrict read as 0: no layout from them.
	 */
	if (kv && kp && kv->addr && kp->addr) {
		l->src = LAYOUT_KALLSYMS;
		l->vmemmap_base_addr = kv->addr;
		l->page_offset_base_addr = kp->addr;
		snprintf(l->why, sizeof(l->why), "%s and %s from kallsyms", VMEMMAP_SYM,
			 PAGE_OFFSET_SYM);
		return l->src;
	}
	if (!kv && !kp && kallsyms_all(in->kallsyms)) {
		l->src = LAYOUT_FIXED;
		snprintf(l->why, sizeof(l->why), "kallsyms lists all data symbols but no %s",
			 VMEMMAP_SYM);
		return l->src;
	}
	if (in->system_map && in->kallsyms &&
	    !map_offset(in->kallsyms, in->system_map, &off, why, sizeof(why))) {
		const struct ksym *mv = find_name(in->system_map, VMEMMAP_SYM);
		const struct ksym *mp = find_name(in->system_map, PAGE_OFFSET_SYM);

		if (mv && mp) {
			l->src = LAYOUT_SYSTEM_MAP;
			l->vmemmap_base_addr = mv->addr + off;
			l->page_offset_base_addr = mp->addr + off;
			snprintf(l->why, sizeof(l->why), "%s and %s from %s", VMEMMAP_SYM,
				 PAGE_OFFSET_SYM, map);
		} else if (!mv && !mp) {
			l->src = LAYOUT_FIXED;
			snprintf(l->why, sizeof(l->why), "%s has no %s", map,
				 VMEMMAP_SYM);
		} else {
			l->src = LAYOUT_UNKNOWN;
			snprintf(l->why, sizeof(l->why), "%s has only one of %s and %s", map,
				 VMEMMAP_SYM, PAGE_OFFSET_SYM);
		}
		return l->src;
	}
	l->src = LAYOUT_UNKNOWN;
	if (kv || kp)
		snprintf(l->why, sizeof(l->why), "kallsyms has only one of %s and %s",
			 VMEMMAP_SYM, PAGE_OFFSET_SYM);
	else if (in->system_map)
		snprintf(l->why, sizeof(l->why), "%s not in kallsyms and %s %s", VMEMMAP_SYM,
			 map, why);
	else
		snprintf(l->why, sizeof(l->why), "%s not in kallsyms (no CONFIG_KALLSYMS_ALL) "
			 "and no System.map for this kernel: give --system-map FILE", VMEMMAP_SYM);
	return l->src;
}

/*
 * KASLR moves the regions in PUD_SIZE steps and the defaults are aligned
 * further; every base sits in the kernel half (0xff11... with 5 levels).
 */
#define BASE_ALIGN	(1ULL << 30)
#define KERNEL_HALF	0xff00000000000000ULL

static bool plausible(__u64 base)
{
	return base >= KERNEL_HALF && !(base & (BASE_ALIGN - 1));
}

enum layout_src layout_check(struct layout *l, __u64 vmemmap_base, __u64 page_offset_base)
{
	bool vm_ok = plausible(vmemmap_base);

	l->vmemmap_base = vmemmap_base;
	l->page_offset_base = page_offset_base;
	if ((vm_ok && plausible(page_offset_base)) || l->src == LAYOUT_UNKNOWN)
		return l->src;
	snprintf(l->why, sizeof(l->why), "%s read as %#llx, which is no layout base%s",
		 vm_ok ? PAGE_OFFSET_SYM : VMEMMAP_SYM,
		 (unsigned long long)(vm_ok ? page_offset_base : vmemmap_base),
		 l->src == LAYOUT_SYSTEM_MAP ? " (a System.map of another kernel?)" : "");
	l->src = LAYOUT_UNKNOWN;
	return l->src;
}

const char *layout_src_name(enum layout_src src)
{
	switch (src) {
	case LAYOUT_KALLSYMS: return "kallsyms";
	case LAYOUT_FIXED: return "fixed";
	case LAYOUT_SYSTEM_MAP: return "system-map";
	case LAYOUT_UNKNOWN: return "unknown";
	}
	return "?";
}

int layout_input_load(struct layout_input *in, const struct ksyms *kallsyms,
		      const char *path, const char *release)
{
	char p[2][256];
	bool given = path;

	memset(in, 0, sizeof(*in));
	in->kallsyms = kallsyms;
	snprintf(p[0], sizeof(p[0]), "/boot/System.map-%s", release);
	snprintf(p[1], sizeof(p[1]), "/lib/modules/%s/build/System.map", release);
	for (int i = 0; !path && i < 2; i++)
		if (!access(p[i], R_OK))
			path = p[i];
	if (path)
		in->system_map = ksyms_load(path);
	/* only a file the user named must be there */
	if (!in->system_map && given)
		return -(errno ? errno : EIO);
	if (in->system_map)
		in->system_map_path = strdup(path);
	return 0;
}

void layout_input_free(struct layout_input *in)
{
	ksyms_free((struct ksyms *)in->system_map);
	free((char *)in->system_map_path);
	memset(in, 0, sizeof(*in));
}

int layout_probe(struct layout *l, const struct ksyms *kallsyms, const char *path,
		 const char *release)
{
	struct layout_input in = { .kallsyms = kallsyms };
	int err;

	if (path && access(path, R_OK))
		return -errno;
	/* the usual case, kallsyms says it all: read no more files */
	if (layout_resolve(&in, l) != LAYOUT_UNKNOWN)
		return 0;
	err = layout_input_load(&in, kallsyms, path, release);
	if (!err)
		layout_resolve(&in, l);
	layout_input_free(&in);
	return err;
}

__u64 layout_phys_mask(const char *cpuinfo)
{
	const char *l = cpuinfo ? strstr(cpuinfo, "address sizes") : NULL;
	unsigned int bits;

	if (!l || sscanf(l, "address sizes : %u bits physical", &bits) != 1 ||
	    bits <= 12 || bits > 52)
		return 0;
	return ((1ULL << bits) - 1) & ~0xfffULL;
}

__u64 layout_phys_mask_probe(void)
{
	static char buf[32768];
	FILE *f = fopen("/proc/cpuinfo", "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return layout_phys_mask(buf);
}

/* One line of /proc/zoneinfo: a zone's "spanned" comes before its "start_pfn:". */
static void zone_line(const char *l, unsigned long long *spanned, unsigned long long *top)
{
	unsigned long long start;

	if (sscanf(l, " spanned %llu", spanned) == 1)
		return;
	if (sscanf(l, " start_pfn: %llu", &start) != 1 || !*spanned)
		return;
	if (start + *spanned > *top)
		*top = start + *spanned;
	*spanned = 0;
}

static __u32 words_for(unsigned long long top)
{
	if (!top)
		return 0;
	if ((top + 63) / 64 > KPT_WATCHED_WORDS_MAX)
		return KPT_WATCHED_WORDS_MAX;
	return (__u32)((top + 63) / 64);
}

__u32 layout_watched_words(const char *zoneinfo)
{
	unsigned long long spanned = 0, top = 0;
	const char *l;

	for (l = zoneinfo; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		zone_line(l, &spanned, &top);
	return words_for(top);
}

/* Line by line: with many CPUs the per-CPU sections make the file large. */
__u32 layout_watched_words_probe(void)
{
	unsigned long long spanned = 0, top = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	__u32 words;

	if (!f)
		return KPT_WATCHED_WORDS_DEFAULT;
	while (getline(&line, &cap, f) > 0)
		zone_line(line, &spanned, &top);
	free(line);
	fclose(f);
	words = words_for(top);
	return words ? words : KPT_WATCHED_WORDS_DEFAULT;
}

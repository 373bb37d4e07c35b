// SPDX-License-Identifier: GPL-2.0
/* Where the layout bases come from: kallsyms, config, System.map, unknown. */
#include <stdbool.h>
#include "layout.h"
#include "kptwatch.h"
#include "unit.h"

#define NFUNC	200
#define KASLR	0x1e400000ULL		/* the running kernel's text offset */
#define MAP_VMEMMAP	0xffffffff82a1c008ULL
#define MAP_PAGE_OFF	0xffffffff82a1c010ULL

/*
 * A System.map-like listing: _stext, NFUNC global functions 0x40 apart
 * (from the skew-th one on, 0x80 apart: another build), a static
 * function, _etext, and the two layout variables when vars is set. off relocates
 * it (kallsyms of a KASLR boot); data false drops the data symbols
 * (kallsyms without KALLSYMS_ALL); module adds a module's functions.
 */
static struct ksyms *listing(__u64 off, bool vars, bool data, bool module, int skew)
{
	static char buf[NFUNC * 48 + 1024];
	__u64 a = 0xffffffff81000000ULL;
	size_t n = 0;

	n += snprintf(buf + n, sizeof(buf) - n, "%llx T _stext\n", a + off);
	for (int i = 0; i < NFUNC; i++) {
		a += i >= skew ? 0x80 : 0x40;
		n += snprintf(buf + n, sizeof(buf) - n, "%llx T func_%d\n", a + off, i);
	}
	n += snprintf(buf + n, sizeof(buf) - n, "%llx t local_fn\n%llx T _etext\n", a + 0x40 + off,
		      a + 0x80 + off);
	if (data)
		n += snprintf(buf + n, sizeof(buf) - n, "%llx D init_mm\n",
			      0xffffffff82a00000ULL + off);
	if (vars && data)
		n += snprintf(buf + n, sizeof(buf) - n, "%llx D vmemmap_base\n%llx D page_offset_base\n",
			      MAP_VMEMMAP + off, MAP_PAGE_OFF + off);
	if (module)
		for (int i = 0; i < NFUNC / 4; i++)
			n += snprintf(buf + n, sizeof(buf) - n, "%llx T mod_fn_%d\t[kptwatch_test]\n",
				      0xffffffffc0010000ULL + i * 0x40, i);
	return ksyms_parse(buf);
}

static enum layout_src resolve(struct ksyms *k, struct ksyms *map, struct layout *l)
{
	struct layout_input in = {
		.kallsyms = k, .system_map = map, .system_map_path = map ? "/boot/System.map-x" : NULL,
	};

	return layout_resolve(&in, l);
}

/* KALLSYMS_ALL: the variables are listed; the programs get their addresses. */
static void test_kallsyms(void)
{
	struct ksyms *k = listing(KASLR, true, true, true, NFUNC);
	struct layout l;

	CHECK(resolve(k, NULL, &l) == LAYOUT_KALLSYMS, "%s", l.why);
	CHECK(l.vmemmap_base_addr == MAP_VMEMMAP + KASLR &&
	      l.page_offset_base_addr == MAP_PAGE_OFF + KASLR, "the listed addresses: %llx %llx",
	      (unsigned long long)l.vmemmap_base_addr, (unsigned long long)l.page_offset_base_addr);
	ksyms_free(k);
	/* kptr_restrict: every address 0, nothing to read the variables at */
	k = ksyms_parse("0 T _stext\n0 D vmemmap_base\n0 D page_offset_base\n0 T _etext\n");
	CHECK(k && resolve(k, NULL, &l) != LAYOUT_KALLSYMS, "hidden addresses: %s", l.why);
	ksyms_free(k);
}

/* Data symbols listed but no variables: a constant layout. */
static void test_fixed_from_kallsyms(void)
{
	struct ksyms *k = listing(0, false, true, false, NFUNC);
	struct layout l;

	CHECK(resolve(k, NULL, &l) == LAYOUT_FIXED, "%s", l.why);
	CHECK(strstr(l.why, "data symbols"), "%s", l.why);
	ksyms_free(k);
}

/*
 * Every kernel lists its section markers, typed as data, and __init_begin
 * (B, at _sinittext): none of them shows CONFIG_KALLSYMS_ALL. Recorded on
 * the build host, which has it off and RANDOMIZE_MEMORY on; taking its
 * layout as fixed decoded pfns with the wrong bases.
 */
static void test_markers_only(void)
{
	char *text = unit_fixture("host-6.18-markers.kallsyms");
	size_t len = strlen(text);
	struct ksyms *k = ksyms_parse(text);
	struct layout l;
	int data = 0;

	for (size_t i = 0; k && i < k->n; i++)
		data += !!strchr("dDbBrR", k->syms[i].type);
	CHECK(data >= 70, "the fixture lists the host's data-typed symbols: %d", data);
	CHECK(resolve(k, NULL, &l) == LAYOUT_UNKNOWN, "markers only: %s %s",
	      layout_src_name(l.src), l.why);
	CHECK(strstr(l.why, "--system-map FILE"), "says what to do: %s", l.why);
	ksyms_free(k);

	/* a module lists its data whatever the config: still no proof */
	text = realloc(text, len + 256);
	strcat(text, "ffffffffc0351000 t sva_test_fn\t[kptwatch_test]\n"
	       "ffffffffc0355000 d sva_test_state\t[kptwatch_test]\n"
	       "ffffffffc0356000 b sva_test_count\t[kptwatch_test]\n");
	k = ksyms_parse(text);
	CHECK(resolve(k, NULL, &l) == LAYOUT_UNKNOWN, "module data: %s", l.why);
	ksyms_free(k);

	/* one real variable of vmlinux outside the text: KALLSYMS_ALL */
	strcat(text, "ffffffff82e0a2c0 D init_mm\n");
	k = ksyms_parse(text);
	CHECK(resolve(k, NULL, &l) == LAYOUT_FIXED, "init_mm listed: %s", l.why);
	ksyms_free(k);

	/* without _etext the text range is unknown: nothing proven */
	k = ksyms_parse("ffffffff81000000 T _stext\nffffffff82e0a2c0 D init_mm\n");
	CHECK(resolve(k, NULL, &l) == LAYOUT_UNKNOWN, "no _etext: %s", l.why);
	ksyms_free(k);
	free(text);
}

/* The case System.map is for: found, relocated by the text offset. */
static void test_system_map(void)
{
	struct ksyms *k = listing(KASLR, false, false, true, NFUNC);
	struct ksyms *map = listing(0, true, true, false, NFUNC);
	struct layout l;

	CHECK(resolve(k, map, &l) == LAYOUT_SYSTEM_MAP, "%s", l.why);
	CHECK(l.vmemmap_base_addr == MAP_VMEMMAP + KASLR, "vmemmap_base at %llx",
	      (unsigned long long)l.vmemmap_base_addr);
	CHECK(l.page_offset_base_addr == MAP_PAGE_OFF + KASLR, "page_offset_base at %llx",
	      (unsigned long long)l.page_offset_base_addr);
	CHECK(strstr(l.why, "/boot/System.map-x"), "%s", l.why);
	ksyms_free(map);
	/* a map without the variables: constant layout */
	map = listing(0, false, true, false, NFUNC);
	CHECK(resolve(k, map, &l) == LAYOUT_FIXED, "%s", l.why);
	ksyms_free(map);
	ksyms_free(k);
}

/* Another build's map: most functions elsewhere. Never trusted. */
static void test_system_map_mismatch(void)
{
	struct ksyms *k = listing(KASLR, false, false, false, NFUNC);
	struct ksyms *map = listing(0, true, true, false, NFUNC / 2);
	struct ksyms *few = listing(0, true, true, false, NFUNC - 5);
	struct layout l;

	CHECK(resolve(k, map, &l) == LAYOUT_UNKNOWN, "%s", l.why);
	CHECK(strstr(l.why, "does not match"), "%s", l.why);
	CHECK(!l.vmemmap_base_addr, "no address from a wrong map");
	/* 5 of 201 moved is still another build */
	CHECK(resolve(k, few, &l) == LAYOUT_SYSTEM_MAP, "97%% in place is a match: %s",
	      l.why);
	ksyms_free(few);
	few = listing(0, true, true, false, NFUNC - 15);
	CHECK(resolve(k, few, &l) == LAYOUT_UNKNOWN, "92%% in place is not: %s", l.why);
	ksyms_free(few);
	ksyms_free(map);
	ksyms_free(k);
}

/*
 * Nothing says where the variables are: unknown, and what to do. Even
 * where the layout happens to be fixed: the config cannot say so (6.12
 * leaves DYNAMIC_MEMORY_LAYOUT out when off, 7.x has no such option).
 */
static void test_unknown(void)
{
	struct ksyms *k = listing(KASLR, false, false, false, NFUNC);
	struct layout l;

	CHECK(resolve(k, NULL, &l) == LAYOUT_UNKNOWN, "%s", l.why);
	CHECK(strstr(l.why, "--system-map"), "%s", l.why);
	CHECK(resolve(NULL, NULL, &l) == LAYOUT_UNKNOWN, "kallsyms unreadable: %s", l.why);
	ksyms_free(k);
	/* one variable without the other is not a layout we know */
	k = ksyms_parse("ffffffff81000000 T _stext\nffffffff82a1c008 D vmemmap_base\n");
	CHECK(resolve(k, NULL, &l) == LAYOUT_UNKNOWN, "%s", l.why);
	ksyms_free(k);
}

/* What the BPF side read must look like a base, or nothing is trusted. */
static void test_check(void)
{
	struct layout l = { .src = LAYOUT_SYSTEM_MAP };

	CHECK(layout_check(&l, 0xffffd4c0c0000000ULL, 0xffff9b2a40000000ULL) == LAYOUT_SYSTEM_MAP,
	      "randomized bases: %s", l.why);
	CHECK(l.vmemmap_base == 0xffffd4c0c0000000ULL, "values kept");
	CHECK(layout_check(&l, 0xffffea0000000000ULL, 0xff11000000000000ULL) == LAYOUT_SYSTEM_MAP,
	      "5-level default page offset: %s", l.why);
	CHECK(layout_check(&l, 0xffffd4c0c0000000ULL, 0xffffffff81e3c4a0ULL) == LAYOUT_UNKNOWN &&
	      strstr(l.why, "page_offset_base read as 0xffffffff81e3c4a0") &&
	      strstr(l.why, "another kernel"), "a pointer is no base: %s", l.why);
	l.src = LAYOUT_KALLSYMS;
	CHECK(layout_check(&l, 0, 0xffff888000000000ULL) == LAYOUT_UNKNOWN &&
	      strstr(l.why, "vmemmap_base read as 0"), "unread: %s", l.why);
	l.src = LAYOUT_FIXED;
	CHECK(layout_check(&l, 0x12345000, 0xffff888000000000ULL) == LAYOUT_UNKNOWN,
	      "user half: %s", l.why);
}

/*
 * Issue 13 item 6: the pfn mask follows the kernel's physical address
 * width, which on AMD SME/SEV excludes the encryption bit (bit 47 here).
 */
static void test_phys_mask(void)
{
	const char *sme = "processor\t: 0\nflags\t\t: fpu sme sev\n"
			  "address sizes\t: 43 bits physical, 48 bits virtual\n";

	CHECK(layout_phys_mask(sme) == 0x000007fffffff000ULL, "SME: %#llx",
	      (unsigned long long)layout_phys_mask(sme));
	CHECK(!(layout_phys_mask(sme) & (1ULL << 47)), "the C-bit is no pfn bit");
	CHECK(layout_phys_mask("address sizes\t: 52 bits physical, 57 bits virtual\n") ==
	      0x000ffffffffff000ULL, "52 bits");
	CHECK(layout_phys_mask("model name\t: x\n") == 0, "no line: 0 (architectural mask)");
	CHECK(layout_phys_mask("address sizes\t: 99 bits physical\n") == 0, "nonsense: 0");
}

/*
 * The watched bitmap covers every pfn a zone spans; an empty zone (no
 * start_pfn line) and the per-CPU sections in between change nothing.
 */
static void test_watched_words(void)
{
	const char *zi =
		"Node 0, zone      DMA\n  pages free     3840\n        spanned  4095\n"
		"  start_pfn:           1\n"
		"Node 0, zone   Normal\n        spanned  5505024\n        present  5505024\n"
		"  pagesets\n    cpu: 0\n              count: 12\n"
		"  start_pfn:           1048576\n"
		"Node 0, zone  Movable\n        spanned  0\n"
		"Node 1, zone   Normal\n        spanned  100\n  start_pfn:           64\n";

	CHECK(layout_watched_words(zi) == (1048576 + 5505024) / 64, "two nodes: %u",
	      layout_watched_words(zi));
	CHECK(layout_watched_words("Node 0, zone DMA\n  spanned 65\n  start_pfn: 0\n") == 2,
	      "rounded up to a whole word");
	CHECK(layout_watched_words("") == 0, "no zone: 0");
	CHECK(layout_watched_words("  spanned 1000000000000\n  start_pfn: 0\n") ==
	      KPT_WATCHED_WORDS_MAX, "capped");
}

int main(void)
{
	RUN(test_kallsyms);
	RUN(test_fixed_from_kallsyms);
	RUN(test_markers_only);
	RUN(test_system_map);
	RUN(test_system_map_mismatch);
	RUN(test_unknown);
	RUN(test_check);
	RUN(test_phys_mask);
	RUN(test_watched_words);
	return unit_done();
}

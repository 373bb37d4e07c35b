// SPDX-License-Identifier: GPL-2.0
/* Stack symbolization by binary search over a kallsyms listing. */
#include <errno.h>
#include <unistd.h>
#include "output.h"
#include "unit.h"

static void test_search(void)
{
	struct ksyms *k = ksyms_parse(
		"ffffffff81349fb0 T pmd_free_pte_page\n"
		"ffffffff81000000 T _stext\n"
		"ffffffff81349cd0 T pud_free_pmd_page\n"
		"garbage line\n"
		"ffffffffc0351000 t sva_test_fn\t[idxd]\n"
		"ffffffff81631440 T __free_pages\n");
	const struct ksym *s;

	CHECK(k && k->n == 5, "5 symbols, got %zu", k ? k->n : 0);
	CHECK(!ksyms_search(k, 0xffffffff80ffffffULL), "below the first symbol");
	s = ksyms_search(k, 0xffffffff81349fb0ULL);
	CHECK(s && !strcmp(s->name, "pmd_free_pte_page"), "exact address");
	s = ksyms_search(k, 0xffffffff81349fafULL);
	CHECK(s && !strcmp(s->name, "pud_free_pmd_page"), "one byte before the next");
	s = ksyms_search(k, 0xffffffffc0351000ULL);
	CHECK(s && !strcmp(s->name, "sva_test_fn") && s->mod && !strcmp(s->mod, "idxd"),
	      "module symbol, tag kept apart: %s", s ? s->name : "");
	/* the last symbol has no end to go by: its own address only */
	CHECK(!ksyms_search(k, 0xffffffffc0351234ULL), "past the last");
	CHECK(!ksyms_search(k, ~0ULL), "far past the last");
	for (size_t i = 1; i < k->n; i++)
		CHECK(k->syms[i - 1].addr <= k->syms[i].addr, "sorted at %zu", i);
	ksyms_free(k);
}

static void test_fixture_and_format(void)
{
	char *text = unit_fixture("host-6.18.kallsyms"), b[128];
	struct ksyms *k = ksyms_parse(text);

	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff81349fc4ULL), "pmd_free_pte_page+0x14"),
	      "got %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff81342611ULL), "free_pagetable.constprop.0+0x1"),
	      "got %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0x1000), "0x1000"), "unknown address: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), NULL, 0xffffffff81349fc4ULL), "0xffffffff81349fc4"),
	      "no kallsyms: %s", b);
	ksyms_free(k);
	free(text);
}

/* The listing without its [bpf] lines: kallsyms as kptwatch reads it at start. */
static char *without_bpf(const char *text)
{
	char *out = calloc(1, strlen(text) + 1), *o = out;

	for (const char *l = text, *e; *l; l = e) {
		e = strchr(l, '\n');
		e = e ? e + 1 : l + strlen(l);
		if (!memmem(l, e - l, "[bpf]", 5)) {
			memcpy(o, l, e - l);
			o += e - l;
		}
	}
	return out;
}

/*
 * Frames in BPF programs and trampolines: kallsyms as read at start does
 * not list kptwatch's own programs, and the nearest symbol below them is
 * a section marker far away (on 7.3, __pi__end+0x1deffa12). Never print a
 * symbol+offset that is not where the address lies; once the programs are
 * loaded, name them as the kernel does.
 */
static void test_bpf_frames(void)
{
	char *text = unit_fixture("host-6.18-bpf.kallsyms"), *start = without_bpf(text), b[128];
	const char *dir = getenv("UNIT_DATA") ? getenv("UNIT_DATA") : "tests/unit/data";
	struct ksyms *k = ksyms_parse(start);
	const __u64 prog = 0xffffffffc002687cULL + 0x5c, tramp = 0xffffffffc002a000ULL + 0x6e;
	char path[512];

	CHECK(k && k->etext == 0xffffffff82276988ULL && k->einittext == 0xffffffff837f5870ULL,
	      "text ranges found");
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, prog), "0xffffffffc00268d8"),
	      "a program not listed is no marker's offset: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, tramp), "0xffffffffc002a06e"),
	      "nor is a trampoline: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff814ca9f0ULL + 0xeb), "bpf_trace_run2+0xeb"),
	      "a real frame stays: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff814cabb0ULL - 1), "bpf_trace_run2+0x1bf"),
	      "the last byte before the next symbol: %s", b);
	/* past _etext (padding, then rodata) and past the markers: nothing */
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff82276990ULL), "0xffffffff82276990"),
	      "past _etext: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff83b28980ULL), "0xffffffff83b28980"),
	      "past the last marker: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff837f5860ULL), "_sinittext+0x76860"),
	      "init text is bounded by _einittext, not the marker: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff837f5880ULL), "0xffffffff837f5880"),
	      "past _einittext: %s", b);

	/* kallsyms read again once the programs are loaded lists them */
	snprintf(path, sizeof(path), "%s/host-6.18-bpf.kallsyms", dir);
	ksyms_free(k);
	k = ksyms_load(path);
	CHECK(k, "load %s", path);
	if (!k)
		goto out;
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, prog),
		      "bpf_prog_9f2bf05a46a32654_tp_btf_page_free+0x5c"), "named as the kernel does: %s",
	      b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, tramp), "bpf_trampoline_6442525446+0x6e"),
	      "the trampoline named: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffffc0201040ULL), "0xffffffffc0201040"),
	      "the last symbol of the listing still has no end: %s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffffc0028110ULL + 0x10),
		      "bpf_prog_a5c9f93b0d9560e5_layout_read+0x10"), "%s", b);
	CHECK(!strcmp(sym_fmt(b, sizeof(b), k, 0xffffffff814ca9f0ULL + 0xeb), "bpf_trace_run2+0xeb"),
	      "vmlinux unchanged: %s", b);
out:
	ksyms_free(k);
	free(start);
	free(text);
}

static void test_big_listing(void)
{
	size_t n = 200000, len = n * 40;
	char *text = malloc(len), *p = text;
	struct ksyms *k;
	const struct ksym *s;

	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%016llx t f%zu\n", 0xffffffff81000000ULL + (n - i) * 16, n - i);
	k = ksyms_parse(text);
	CHECK(k && k->n == n, "all parsed");
	s = ksyms_search(k, 0xffffffff81000000ULL + 12345 * 16 + 7);
	CHECK(s && !strcmp(s->name, "f12345"), "found %s", s ? s->name : "");
	ksyms_free(k);
	free(text);
}

/*
 * Sorting in place keeps aliases in the listing's order, as ksyms_search()
 * (the last alias wins) and its callers walking back expect: a listing out
 * of order, with eight names at one address spread through it.
 */
static void test_aliases_keep_order(void)
{
	char text[4096], *p = text, name[16];
	struct ksyms *k;
	const struct ksym *s;
	int a = 0;

	p += sprintf(p, "ffffffff81000000 T _stext\n");
	for (int i = 40; i > 0; i--) {
		p += sprintf(p, "%016llx T f%d\n", 0xffffffff81000000ULL + i * 0x100, i);
		if (i % 5 == 0)
			p += sprintf(p, "ffffffff81001480 T alias%d\n", a++);
	}
	k = ksyms_parse(text);
	CHECK(k && k->n == 49, "49 symbols");
	s = ksyms_search(k, 0xffffffff81001480ULL);
	CHECK(s && !strcmp(s->name, "alias7"), "the last alias of the listing: %s",
	      s ? s->name : "");
	for (int i = 0; s && i < 8; i++) {
		snprintf(name, sizeof(name), "alias%d", i);
		CHECK(!strcmp(s[i - 7].name, name), "alias %d in listing order: %s", i,
		      s[i - 7].name);
	}
	ksyms_free(k);
}

/*
 * A file is read a line at a time: a line longer than the reader's buffer
 * is dropped whole (its tail is no line of its own), the rest is read,
 * module tags included, as ksyms_parse() reads the same text.
 */
static void test_load_long_line(void)
{
	char path[] = "/tmp/kptw-ksyms-XXXXXX", name[3000];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct ksyms *k;
	const struct ksym *s;

	CHECK(f, "temp file");
	if (!f)
		return;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	/* the tail of the long line looks like a symbol line */
	fprintf(f, "ffffffff81000000 T _stext\n"
		   "ffffffff81000100 T %s ffffffff81000180 T tail_of_long\n"
		   "ffffffff81000200 T after_long\n"
		   "ffffffffc0000000 t mod_fn\t[idxd]\n"
		   "ffffffffc0000100 t mod_fn2\t[idxd]", name);
	fclose(f);
	k = ksyms_load(path);
	unlink(path);
	CHECK(k && k->n == 4, "4 symbols, got %zu", k ? k->n : 0);
	s = k ? ksyms_search(k, 0xffffffff81000200ULL) : NULL;
	CHECK(s && !strcmp(s->name, "after_long"), "line after the long one: %s",
	      s ? s->name : "");
	s = k ? ksyms_search(k, 0xffffffffc0000100ULL) : NULL;
	CHECK(s && !strcmp(s->name, "mod_fn2") && s->mod && !strcmp(s->mod, "idxd"),
	      "last line without a newline, module tag");
	CHECK(k && s && s[-1].mod == s->mod, "one copy of a module's name");
	CHECK(!ksyms_load("/nonexistent/kallsyms") && errno == ENOENT, "missing file: ENOENT");
	ksyms_free(k);
}

int main(void)
{
	RUN(test_search);
	RUN(test_fixture_and_format);
	RUN(test_bpf_frames);
	RUN(test_big_listing);
	RUN(test_aliases_keep_order);
	RUN(test_load_long_line);
	return unit_done();
}

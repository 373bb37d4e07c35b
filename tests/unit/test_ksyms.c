// SPDX-License-Identifier: GPL-2.0
/* Stack symbolization by binary search over a kallsyms listing. */
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
	s = ksyms_search(k, 0xffffffffc0351234ULL);
	CHECK(s && !strcmp(s->name, "sva_test_fn"), "module symbol, tag dropped: %s", s ? s->name : "");
	s = ksyms_search(k, ~0ULL);
	CHECK(s && !strcmp(s->name, "sva_test_fn"), "past the last");
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

int main(void)
{
	RUN(test_search);
	RUN(test_fixture_and_format);
	RUN(test_big_listing);
	return unit_done();
}

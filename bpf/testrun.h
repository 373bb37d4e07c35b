/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The test entry point's calling convention, shared by testrun.bpf.c and
 * tests/bpf/. BPF_PROG_TEST_RUN hands a raw_tp program up to 12 u64
 * arguments; args[0] selects the event, args[1] is its time and args[2]
 * the task key, the rest is per event as listed. tests/bpf/harness.c
 * knows which of testrun.bpf.c's programs runs each.
 */
#ifndef KPT_TESTRUN_H
#define KPT_TESTRUN_H

enum kpt_test_op {
	KPT_TOP_QUEUE = 1,	/* pfn, order, point, va_start, va_end, stack */
	KPT_TOP_INVAL_BEGIN,	/* start, end */
	KPT_TOP_INVAL_END,
	KPT_TOP_DRAIN_BEGIN,
	KPT_TOP_DRAIN_END,
	KPT_TOP_FREE,		/* pfn, order, stack (KPT_TEST_STACK_LAZY) */
	KPT_TOP_PMD_ENTRY,	/* pmd value, addr: as pmd_free_pte_page() */
	KPT_TOP_PMD_TABLE,	/* pud value, addr: as pud_free_pmd_page(),
				 * the PMD table is test_table's value */
	KPT_TOP_PAGE_TO_PFN,	/* struct page address -> test_out */
	KPT_TOP_PTDESC_LIST,	/* n (<= KPT_TEST_LIST_MAX), cycle: builds a
				 * list of n fake ptdescs in test_list and
				 * walks it as
				 * kernel_pgtable_async_free_page_list() */
	KPT_TOP_LAYOUT_BASE,	/* hint, addr, *addr, default:
				 * kpt_layout_base() -> test_out. addr 1
				 * stands for test_layout_addr, which gets
				 * *addr; the cache is test_layout_seen */
	KPT_TOP_LEARN,		/* pfn, level, src, va: kpt_rule_learn() */
	KPT_TOP_FREE_PAGETABLE,	/* page, order: as free_pagetable() */
	KPT_TOP_WALK_ADDR,	/* -> test_out: address of test_tables[0] */
	KPT_TOP_WALK,		/* base, la57: walks test_tables[0] as the
				 * top table; -> test_out: its result */
	KPT_TOP_WALK_ACTIVE,	/* on: sets walk_active as a walk would, so
				 * that frees look as if made mid-walk */
	KPT_TOP_LINK_VA,	/* base, entry address, level: kpt_link_va()
				 * -> test_out */
	/* the split walk; test_tables[0] is the top table */
	KPT_TOP_SPLIT_RANGE,	/* base, start, npages, la57: kpt_split_range()
				 * -> test_out: tables learned, -1 if the walk
				 * did not finish */
	KPT_TOP_SPLIT_LEARN,	/* table, entry, pfn, level, va: kpt_split_learn()
				 * of pfn as read from test_tables[table]
				 * .e[entry], which may hold something else by
				 * now (a race) -> test_out: tables learned */
	KPT_TOP_SPLIT_CPA,	/* base, flags, npages, pgd, elem0, elem1: a
				 * struct cpa_data built in test_cpa, whose
				 * vaddr (or pages) is an array holding elem0,
				 * elem1, walked by kpt_split_cpa() -> test_out */
};

#define KPT_TEST_LIST_MAX	3
#define KPT_TEST_LIST_WALK	4096	/* decode.bpf.h's KPT_LIST_MAX */

/*
 * test_list's value. The program links the fake ptdescs through pt_list
 * (wherever CO-RE puts it, reported in pt_list_off) and records their
 * addresses in page_addr, so the test can work out the pfns the walk must
 * have queued. It places them so that each pt_list starts a new 64-byte
 * "struct page" unit: a walk that forgot to step back from pt_list to the
 * ptdesc would compute the next pfn.
 */
struct kpt_test_list {
	__u64 head[2];				/* struct list_head */
	__u64 pt_list_off;
	__u64 scratch;
	__u64 page_addr[KPT_TEST_LIST_MAX];
	__u64 pages[KPT_TEST_LIST_MAX + 1][8];	/* struct page: 64 bytes */
};

#define KPT_TEST_NARGS		9
#define KPT_TEST_TABLES		6	/* test_tables: fake 4 KiB tables */
#define KPT_TEST_TABLE_ENTRIES	512	/* test_table: one PMD table */
/* Stack argument asking the rule to capture the real stack itself. */
#define KPT_TEST_STACK_LAZY	(-2147483647 - 1)

#endif /* KPT_TESTRUN_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The test entry point's calling convention, shared by testrun.bpf.c and
 * tests/bpf/. BPF_PROG_TEST_RUN hands a raw_tp program up to 12 u64
 * arguments; args[0] selects the event, args[1] is its time and args[2]
 * the task key, the rest is per event as listed.
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
};

#define KPT_TEST_NARGS		9
#define KPT_TEST_TABLE_ENTRIES	512	/* test_table: one PMD table */
/* Stack argument asking the rule to capture the real stack itself. */
#define KPT_TEST_STACK_LAZY	(-2147483647 - 1)

#endif /* KPT_TESTRUN_H */

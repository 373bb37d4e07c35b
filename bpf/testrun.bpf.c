// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test entry point: feeds synthetic events, with their time and task given
 * explicitly, into the same rule and decoders the real attach points call
 * (kptwatch.bpf.c). Run through BPF_PROG_TEST_RUN by tests/bpf/; never
 * attached.
 */
#include "decode.bpf.h"
#include "testrun.h"

char LICENSE[] SEC("license") = "GPL";

/* A fake PMD table for KPT_TOP_PMD_TABLE: map memory is kernel memory. */
struct kpt_test_table {
	__u64 e[KPT_TEST_TABLE_ENTRIES];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpt_test_table);
} test_table SEC(".maps");

__u64 test_out;

SEC("raw_tp")
int testrun(__u64 *ctx)
{
	__u64 op = ctx[0], now = ctx[1], task = ctx[2];
	__u64 a0 = ctx[3], a1 = ctx[4], a2 = ctx[5];
	__u64 a3 = ctx[6], a4 = ctx[7], a5 = ctx[8];
	struct kpt_test_table *t;
	__u32 zero = 0;

	switch (op) {
	case KPT_TOP_QUEUE:
		return kpt_rule_queue(now, task, a0, a1, a2, a3, a4, (__s32)a5);
	case KPT_TOP_INVAL_BEGIN:
		return kpt_rule_inval_begin(now, task, a0, a1);
	case KPT_TOP_INVAL_END:
		return kpt_rule_inval_end(now, task);
	case KPT_TOP_DRAIN_BEGIN:
		return kpt_rule_drain_begin(now, task);
	case KPT_TOP_DRAIN_END:
		return kpt_rule_drain_end(now, task);
	case KPT_TOP_FREE:
		return kpt_rule_page_free(ctx, now, task, a0, a1, (__s32)a2);
	case KPT_TOP_PMD_ENTRY:
		return kpt_point_pmd_entry(now, task, a0, a1,
					   KPT_PT_PMD_FREE_PTE_PAGE, KPT_STACK_NONE);
	case KPT_TOP_PMD_TABLE:
		t = bpf_map_lookup_elem(&test_table, &zero);
		if (!t)
			return -1;
		return kpt_point_pmd_table(now, task, a0, (__u64)t->e, a1,
					   KPT_PT_PUD_FREE_PMD_PAGE, KPT_STACK_NONE);
	case KPT_TOP_PAGE_TO_PFN:
		test_out = kpt_page_to_pfn(a0);
		return 0;
	}
	return -1;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test entry point: feeds synthetic events, with their time and task given
 * explicitly, into the same rule and decoders the real attach points call
 * (kptwatch.bpf.c). Run through BPF_PROG_TEST_RUN by tests/bpf/; never
 * attached.
 */
#include "walk.bpf.h"
#include "split.bpf.h"
#include "snapshot.bpf.h"
#include "testrun.h"

char LICENSE[] SEC("license") = "GPL";

_Static_assert(KPT_TEST_LIST_WALK == KPT_LIST_MAX, "testrun.h out of date");

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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpt_test_list);
} test_list SEC(".maps");

/*
 * Fake page tables for the walk. An mmapable array keeps its values page
 * aligned, as real tables are: entries can then point at them with a
 * "physical" address pa such that base + pa is the value's address.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KPT_TEST_TABLES);
	__uint(map_flags, 1U << 10);		/* BPF_F_MMAPABLE */
	__type(key, __u32);
	__type(value, struct kpt_test_table);
} test_tables SEC(".maps");

__u64 test_out;
__u64 test_layout_addr, test_layout_seen;

/*
 * Link n fake ptdescs into l->head through pt_list, then walk them. With
 * cycle set the last one points back at the first instead of the head,
 * a list the walk must give up on.
 */
static __always_inline int test_ptdesc_list(__u64 now, __u64 task, __u64 n,
					    __u64 cycle)
{
	__u64 off = bpf_core_field_offset(struct ptdesc, pt_list);
	struct kpt_test_list *l;
	void *prev, *first;
	__u64 addr, shift;
	__u32 zero = 0;
	int i;

	l = bpf_map_lookup_elem(&test_list, &zero);
	if (!l || n > KPT_TEST_LIST_MAX || off > 48)
		return -1;
	/* The address as a number: through memory, not a pointer cast. */
	l->scratch = (__u64)l->pages;
	addr = KPT_READ_ONCE(l->scratch) + off - kpt_vmemmap_base();
	shift = (64 - (addr & 63)) & 63;	/* pt_list on a 64-byte unit */
	l->pt_list_off = off;

	first = (void *)l->pages + shift + off;
	prev = l->head;
	for (i = 0; i < KPT_TEST_LIST_MAX && i < n; i++) {
		void *page = (void *)l->pages + shift + i * 64;

		*(void **)prev = page + off;	/* prev->next */
		l->page_addr[i] = (__u64)page;
		prev = page + off;
	}
	/* last->next: the head, or the first node for a cycle */
	*(void **)prev = cycle && n ? first : (void *)l->head;
	return kpt_point_ptdesc_list(now, task, (__u64)l->head,
				     KPT_PT_ASYNC_FREE_LIST, KPT_STACK_NONE);
}

SEC("raw_tp")
int testrun(__u64 *ctx)
{
	__u64 op = ctx[0], now = ctx[1], task = ctx[2];
	__u64 a0 = ctx[3], a1 = ctx[4], a2 = ctx[5];
	__u64 a3 = ctx[6], a4 = ctx[7], a5 = ctx[8];

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
		if (!kpt_rule_free_watched(a0))
			return 0;
		return kpt_rule_page_free(ctx, now, task, a0, a1, (__s32)a2);
	case KPT_TOP_PAGE_TO_PFN:
		test_out = kpt_page_to_pfn(a0);
		return 0;
	case KPT_TOP_LEARN:
		return kpt_rule_learn(now, a0, a1, a2, a3);
	case KPT_TOP_LINK_VA:
		test_out = kpt_link_va(a0, a1, a2);
		return 0;
	case KPT_TOP_LAYOUT_BASE:
		test_layout_addr = a2;
		/* an address given as a number, as user space gives it */
		test_out = (__u64)&test_layout_addr;
		test_out = kpt_layout_base(a0, a1 == 1 ? KPT_READ_ONCE(test_out) : a1,
					   &test_layout_seen, a3);
		return 0;
	}
	return -1;
}

/*
 * The free points that decode a table or a list, in a program of their
 * own: inlined into testrun they made its frame so large that, with the
 * deepest callee, it passed the 512 bytes a 6.12 kernel allows all frames
 * together (6.12's x86 JIT has no private stacks).
 */
SEC("raw_tp")
int testrun_point(__u64 *ctx)
{
	__u64 op = ctx[0], now = ctx[1], task = ctx[2];
	__u64 a0 = ctx[3], a1 = ctx[4];
	struct kpt_test_table *t;
	__u32 zero = 0;

	switch (op) {
	case KPT_TOP_PMD_ENTRY:
		return kpt_point_pmd_entry(now, task, a0, a1,
					   KPT_PT_PMD_FREE_PTE_PAGE, KPT_STACK_NONE);
	case KPT_TOP_PMD_TABLE:
		t = bpf_map_lookup_elem(&test_table, &zero);
		if (!t)
			return -1;
		return kpt_point_pmd_table(now, task, a0, (__u64)t->e, a1,
					   KPT_PT_PUD_FREE_PMD_PAGE, KPT_STACK_NONE);
	case KPT_TOP_FREE_PAGETABLE:
		return kpt_point_free_pagetable(now, task, a0, a1, 9);
	}
	return -1;
}

/* The list walk's state and its callees' frames need a program alone. */
SEC("raw_tp")
int testrun_list(__u64 *ctx)
{
	if (ctx[0] != KPT_TOP_PTDESC_LIST)
		return -1;
	return test_ptdesc_list(ctx[1], ctx[2], ctx[3], ctx[4]);
}

/* The walk ops, in a program of their own: the walk alone is large. */
SEC("raw_tp")
int testrun_walk(__u64 *ctx)
{
	__u64 op = ctx[0], now = ctx[1];
	__u64 a0 = ctx[3], a1 = ctx[4];
	struct kpt_test_table *t;
	__u32 zero = 0;

	switch (op) {
	case KPT_TOP_WALK_ADDR:
		t = bpf_map_lookup_elem(&test_tables, &zero);
		if (!t)
			return -1;
		test_out = (__u64)t->e;
		test_out = KPT_READ_ONCE(test_out);
		return 0;
	case KPT_TOP_WALK:
		t = bpf_map_lookup_elem(&test_tables, &zero);
		if (!t)
			return -1;
		test_out = kpt_walk_kernel(now, (__u64)t->e, a0, a1);
		return 0;
	case KPT_TOP_WALK_ACTIVE:
		KPT_WRITE_ONCE(walk_active, a0);
		return 0;
	}
	return -1;
}

/*
 * A struct cpa_data for KPT_TOP_SPLIT_CPA: its fields written through
 * CO-RE, so they sit where the running kernel's BTF puts them, and the
 * array its vaddr or pages points at.
 */
struct kpt_test_cpa {
	__u64 cpa[16];
	__u64 scratch;
	__u64 elem[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpt_test_cpa);
} test_cpa SEC(".maps");

/* The split walk (split.bpf.h) over test_tables, as the fexit of
 * __change_page_attr_set_clr() walks init_mm's. */
SEC("raw_tp")
int testrun_split(__u64 *ctx)
{
	__u64 op = ctx[0], now = ctx[1];
	__u64 a0 = ctx[3], a1 = ctx[4], a2 = ctx[5];
	__u64 a3 = ctx[6], a4 = ctx[7];
	struct kpt_split_walk w = { .now = now };
	struct kpt_test_table *t;
	__u32 zero = 0, ix;

	t = bpf_map_lookup_elem(&test_tables, &zero);
	if (!t)
		return -1;
	/* addresses as numbers: through memory, not a pointer cast */
	test_out = (__u64)t->e;
	w.top = KPT_READ_ONCE(test_out);

	switch (op) {
	case KPT_TOP_SPLIT_RANGE:
		w.base = a0;
		w.la57 = a3;
		test_out = kpt_split_range(&w, a1, a2);
		if (!w.done)
			test_out = -1;
		return 0;
	case KPT_TOP_SPLIT_LEARN:
		ix = a0 < KPT_TEST_TABLES ? a0 : 0;
		t = bpf_map_lookup_elem(&test_tables, &ix);
		if (!t)
			return -1;
		test_out = (__u64)&t->e[a1 & (KPT_PTRS_PER_PMD - 1)];
		kpt_split_learn(&w, KPT_READ_ONCE(test_out), a2, a3, a4);
		test_out = w.learned;
		return 0;
	}
	return -1;
}

/*
 * kpt_split_cpa() over a cpa_data built here: apart from testrun_split,
 * whose walk state on the stack would leave too little for its callees
 * on 6.12 (see testrun_point).
 */
SEC("raw_tp")
int testrun_cpa(__u64 *ctx)
{
	__u64 op = ctx[0], now = ctx[1];
	__u64 a0 = ctx[3], a1 = ctx[4], a2 = ctx[5];
	__u64 a3 = ctx[6], a4 = ctx[7], a5 = ctx[8];
	struct kpt_test_table *t;
	struct kpt_test_cpa *c;
	struct cpa_data *cpa;
	__u32 zero = 0;
	__u64 top;

	t = bpf_map_lookup_elem(&test_tables, &zero);
	if (!t || op != KPT_TOP_SPLIT_CPA)
		return -1;
	test_out = (__u64)t->e;
	top = KPT_READ_ONCE(test_out);

	c = bpf_map_lookup_elem(&test_cpa, &zero);
	if (!c || bpf_core_type_size(struct cpa_data) > sizeof(c->cpa))
		return -1;
	__builtin_memset(c->cpa, 0, sizeof(c->cpa));
	c->elem[0] = a4;
	c->elem[1] = a5;
	c->scratch = (__u64)c->elem;
	cpa = (void *)c->cpa;
	cpa->numpages = a2;
	cpa->flags = a1;
	cpa->pgd = (void *)a3;
	if (a1 & KPT_CPA_PAGES_ARRAY)
		cpa->pages = (void *)KPT_READ_ONCE(c->scratch);
	else
		cpa->vaddr = (void *)KPT_READ_ONCE(c->scratch);
	c->scratch = (__u64)c->cpa;
	test_out = kpt_split_cpa(now, KPT_READ_ONCE(c->scratch), top, a0, false);
	return 0;
}

/* snapshot.bpf.h, as kptwatch.bpf.c runs it for hist -i */
SEC("syscall")
int testrun_snapshot(void *ctx)
{
	return kpt_snapshot();
}

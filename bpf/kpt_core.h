/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The few kernel and UAPI types the kptwatch BPF programs touch.
 *
 * A full vmlinux.h is megabytes and bpftool 7.1 dumps 7.x BTF lossily
 * (design.md), so this header declares only what is used. Kernel structs
 * carry preserve_access_index: libbpf relocates every field offset and
 * type size against the running kernel's BTF, so the layouts below only
 * need the right member names, not the right offsets.
 */
#ifndef KPT_CORE_H
#define KPT_CORE_H

/* BPF C cannot pull <linux/types.h>: -target bpf has no asm/ include dir. */
typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true	1
#define false	0
#define NULL	((void *)0)

/* UAPI values from <linux/bpf.h>; stable ABI, copied as numbers. */
enum {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_STACK_TRACE = 7,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

#define BPF_F_NO_PREALLOC	(1U << 0)
#define BPF_LOCAL_STORAGE_GET_F_CREATE	(1ULL << 0)

/* The ring buffer's reserve never blocks; no flags needed. */

/* Kernel types, relocated by CO-RE. */
struct list_head {
	struct list_head *next;
	struct list_head *prev;
} __attribute__((preserve_access_index));

/* Only its size is used: page -> pfn on SPARSEMEM_VMEMMAP. */
struct page {
	unsigned long flags;
} __attribute__((preserve_access_index));

/*
 * struct ptdesc overlays struct page (6.12 and 7.x both static_assert it),
 * so a ptdesc pointer is a page pointer. pt_list sits in an anonymous
 * union in the kernel; CO-RE finds it by name.
 */
struct ptdesc {
	struct list_head pt_list;
} __attribute__((preserve_access_index));

struct work_struct;

/* Only the kernel half of the current task's top table is read. */
struct mm_struct {
	unsigned long *pgd;
} __attribute__((preserve_access_index));

struct task_struct {
	struct mm_struct *mm;
	struct mm_struct *active_mm;	/* a kernel thread's borrowed mm */
} __attribute__((preserve_access_index));

/*
 * x86 CPA's request (arch/x86/mm/pat/set_memory.c), static there but in
 * BTF wherever __change_page_attr_set_clr() is (6.12, 7.3). Only what the
 * split walk reads (bpf/split.bpf.h).
 */
struct cpa_data {
	unsigned long *vaddr;
	unsigned long *pgd;		/* pgd_t *: NULL for init_mm */
	unsigned long numpages;
	unsigned int flags;
	struct page **pages;
} __attribute__((preserve_access_index));

/* x86_64 kernel pt_regs, kernel member names (bpf_tracing.h wants these). */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
} __attribute__((preserve_access_index));

/* bpf_tracing.h picks kernel register names (di, si, ...) with this. */
#define __VMLINUX_H__

/*
 * x86_64 page-table geometry, identical for 4- and 5-level paging at the
 * PMD and PUD levels the free points work on.
 */
#define KPT_PAGE_SHIFT		12
#define KPT_PMD_SIZE		(1ULL << 21)
#define KPT_PUD_SIZE		(1ULL << 30)
#define KPT_PTRS_PER_PMD	512
#define KPT_PTE_PFN_MASK	0x000ffffffffff000ULL
#define KPT_PAGE_PRESENT	(1ULL << 0)
#define KPT_PAGE_PSE		(1ULL << 7)	/* leaf at PMD/PUD level */
#define KPT_TLB_FLUSH_ALL	(~0ULL)
/* Lowest direct-map base with 4-level paging; 5-level ones lie below. */
#define KPT_L4_KERNEL_START	0xffff800000000000ULL

/* Layout without KASLR of the memory regions (no DYNAMIC_MEMORY_LAYOUT). */
#define KPT_DEFAULT_VMEMMAP_BASE	0xffffea0000000000ULL
#define KPT_DEFAULT_PAGE_OFFSET		0xffff888000000000ULL

#endif /* KPT_CORE_H */

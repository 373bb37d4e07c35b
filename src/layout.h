/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the x86_64 memory layout bases come from. kptwatch turns struct
 * page pointers into pfns through vmemmap_base and reads PMD tables
 * through page_offset_base. With CONFIG_DYNAMIC_MEMORY_LAYOUT (KASLR of
 * the memory regions, 5-level paging) both are variables set at boot;
 * without it they are constants the BPF side knows. 7.x kernels have no
 * such option: 5-level support is always built in and the bases are
 * always variables, so the config cannot tell a fixed layout from a
 * variable one and is not consulted. kallsyms lists the variables only
 * with CONFIG_KALLSYMS_ALL; a System.map relocated by the running
 * kernel's text offset finds them otherwise.
 */
#ifndef KPT_LAYOUT_H
#define KPT_LAYOUT_H

#include <stddef.h>
#include <linux/types.h>
#include "ksyms.h"

enum layout_src {
	LAYOUT_KALLSYMS,	/* both variables in kallsyms: libbpf resolves them */
	LAYOUT_FIXED,		/* no such variables: the constants apply */
	LAYOUT_SYSTEM_MAP,	/* found in System.map, relocated */
	LAYOUT_UNKNOWN,		/* variables, but nobody says where: pfns unreliable */
};

struct layout {
	enum layout_src src;
	__u64 vmemmap_base_addr;	/* LAYOUT_SYSTEM_MAP: where to read */
	__u64 page_offset_base_addr;
	__u64 vmemmap_base;		/* the values in use, 0: not read */
	__u64 page_offset_base;
	char why[224];
};

struct layout_input {
	const struct ksyms *kallsyms;	/* NULL: unreadable */
	const struct ksyms *system_map;	/* NULL: none given or found */
	const char *system_map_path;	/* for messages */
};

/* Fills l; returns l->src. Pure: tests feed it recorded listings. */
enum layout_src layout_resolve(const struct layout_input *in, struct layout *l);
const char *layout_src_name(enum layout_src src);

/*
 * Take the bases the BPF side read. Values that cannot be x86_64 layout
 * bases (outside the kernel half, not on a 1 GiB boundary, or unread)
 * make the layout unknown; returns l->src.
 */
enum layout_src layout_check(struct layout *l, __u64 vmemmap_base, __u64 page_offset_base);

/*
 * Gather the inputs for the running kernel: System.map from path (an
 * error if unreadable) or the usual places for this release, plain or
 * gzip. Fills in (caller frees with layout_input_free) and returns 0, or
 * -errno for an unreadable path.
 */
int layout_input_load(struct layout_input *in, const struct ksyms *kallsyms,
		      const char *path, const char *release);
void layout_input_free(struct layout_input *in);

/*
 * The physical-address bits of a page-table entry, from the kernel's own
 * "address sizes : N bits physical" line of /proc/cpuinfo: with AMD
 * SME/SEV the kernel has already taken off the encryption bit and the
 * reduction it implies. Returns the mask (bits 12..N-1), 0 if not found.
 */
__u64 layout_phys_mask(const char *cpuinfo);
/* The same from /proc/cpuinfo. */
__u64 layout_phys_mask_probe(void);

/*
 * The u64 words of the watched bitmap (bpf/rule.bpf.h) that cover every
 * pfn the zones span in zoneinfo (/proc/zoneinfo's text), capped at
 * KPT_WATCHED_WORDS_MAX; 0 if it names no zone. Pages above are still
 * judged, only without the bitmap's shortcut.
 */
__u32 layout_watched_words(const char *zoneinfo);
/* The same from /proc/zoneinfo; KPT_WATCHED_WORDS_DEFAULT if unreadable. */
__u32 layout_watched_words_probe(void);

/* Load and resolve for the running kernel; -errno if path is unreadable. */
int layout_probe(struct layout *l, const struct ksyms *kallsyms, const char *path,
		 const char *release);

#endif

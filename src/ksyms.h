/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel symbols from /proc/kallsyms: stack symbolization and name lookup. */
#ifndef KPT_KSYMS_H
#define KPT_KSYMS_H

#include <stddef.h>
#include <linux/types.h>

struct ksym {
	__u64 addr;
	const char *name;
	const char *mod;	/* "ext4", "bpf", "__builtin__ftrace"; NULL: vmlinux */
	char type;
	__u32 seq;		/* line in the listing: aliases keep its order */
};

struct ksyms {
	struct ksym *syms;	/* sorted by address */
	size_t n, cap;
	__u32 seq;		/* lines taken so far */
	char **chunks;		/* the names, copied out of the listing */
	size_t nchunks, fill;	/* fill: bytes used in the last chunk */
	/* vmlinux's text ranges, 0 when not listed: no function reaches past them */
	__u64 stext, etext, sinittext, einittext;
};

struct ksyms *ksyms_parse(const char *listing);
/* A listing from a file, plain or gzip; NULL with errno set. */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *ks);

/*
 * The symbol containing addr: the last one at or below it, if addr lies
 * before its end, else NULL. kallsyms gives no sizes, so the end is the
 * next symbol's address, bounded for vmlinux by _etext or _einittext; a
 * vmlinux symbol outside those ranges, or the last of the listing, holds
 * only its own address. An address in code kallsyms does not list (a BPF
 * program loaded since, a trampoline) is then never taken for a piece of
 * the function before it.
 */
const struct ksym *ksyms_search(const struct ksyms *ks, __u64 addr);

/*
 * The function symbol a kprobe must use for a source-level name: the name
 * itself, or a compiler clone ("free_pagetable.constprop.0", ".isra.N",
 * ".part.N"). ".cold" sections are never a function entry. Returns the
 * number of candidates (0: none); *sym gets the exact name if present,
 * else the first clone by address.
 */
int ksyms_resolve(const struct ksyms *ks, const char *name, const char **sym);

/*
 * The clones of name (never name itself), by address: the first max go to
 * out; returns how many there are in all.
 */
int ksyms_clones(const struct ksyms *ks, const char *name, const char **out, int max);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Feature probes, plan input from the running kernel, and loading and
 * attaching a planned bpf_object with fentry -> kprobe and tp_btf -> raw_tp
 * fallbacks. Works on the bpf_object, never on the skeleton, so it
 * compiles and is tested without one.
 */
#ifndef KPT_ATTACH_H
#define KPT_ATTACH_H

#include <stdbool.h>
#include "plan.h"

struct bpf_object;
struct bpf_link;
struct btf;

#define KPT_MAX_LINKS	64

struct attach_state {
	struct bpf_link *links[KPT_MAX_LINKS];
	/* each link's program and, for a kprobe, the symbol it is on */
	const struct bpf_program *progs[KPT_MAX_LINKS];
	const char *syms[KPT_MAX_LINKS];
	int nlinks;
	/*
	 * attach_plan() stopped: an attach was refused whose fallback was
	 * not loaded. Detach, and load and attach again with
	 * plan_input.all_twins set.
	 */
	bool reload;
};

/* 0 with root or CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN), -EPERM without. */
int check_privileges(void);

/*
 * Fill a plan input from the running kernel: BTF (btf_path, else the
 * kernel's), /proc/kallsyms, kprobe support, and the fentry and tp_btf
 * probes. Returns 0, or -ENOENT when no BTF can be had. *btf_src says
 * which file the BTF came from. The input keeps a reference to *ks.
 */
int plan_input_probe(struct plan_input *in, const char *btf_path, bool force_kprobes,
		     struct ksyms **ks, const char **btf_src, int verbose);

/* Set autoload and attach targets on the object for the plan. */
void attach_setup(struct bpf_object *obj, const struct plan *p);
/*
 * A program failed to load: take its point to the next method (fentry ->
 * kprobe -> missing, tp_btf -> raw_tp -> missing). Returns 0 when the plan
 * changed and loading again makes sense, -1 for an unknown program.
 */
int plan_demote(struct plan *p, const char *prog_name, int err);
/* Count the programs that will load. */
int attach_nprogs(struct bpf_object *obj);
/*
 * Attach in an order that never leaves a queued page unjudged: the page
 * free, the flush and the drain before the enqueue and free points, and
 * the link points after them, so that no table is known before its
 * hand-over can be seen. Points that fail are dropped from the plan with
 * the reason; returns the number of links made.
 */
int attach_plan(struct bpf_object *obj, struct plan *p, struct attach_state *st, int verbose);
/* Detach everything, the page-free programs (the judge) first. */
void attach_destroy(struct attach_state *st);

struct run_result;
/*
 * The runs the kernel skipped: bpf_prog_info.recursion_misses of every
 * loaded program, and the missed hits of each kprobe and kretprobe link
 * (perf link info, Linux 6.7). Fills rr->misses; a point whose kprobes'
 * misses this kernel cannot give is marked in rr->kprobe_unread. Call it
 * before attach_destroy: a kprobe's count goes with its link. Returns 0,
 * or the first -errno (also recorded with read_failed).
 */
int read_prog_misses(struct bpf_object *obj, const struct attach_state *st,
		     const struct plan *p, struct run_result *rr);
/* Can this kernel give a kprobe link's missed count? From its BTF. */
bool kprobe_missed_readable(const struct btf *btf);
/* The plan point a program name ("fexit_inval") serves, or -1. */
int prog_point(const struct plan *p, const char *prog_name);

/* True for load or attach errors that mean "this kernel refuses fentry". */
bool fentry_refused(int err);

#endif

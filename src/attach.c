// SPDX-License-Identifier: GPL-2.0
/*
 * Feature probes and attaching with fallbacks.
 *
 * Features and the kernel commits they need:
 * - fentry/fexit: BPF trampolines, fec56f5890d9 ("bpf: Introduce BPF
 *   trampoline"), v5.5. Some kernels refuse them anyway (lockdown, LSM,
 *   no trampoline on the arch): EPERM or ENOTSUPP at load.
 * - tp_btf: ac4414b5ca47 ("bpf: Implement accurate raw_tp context access
 *   via BTF"), v5.5. raw_tp: c4f6699dfcb8 ("bpf: introduce
 *   BPF_RAW_TRACEPOINT"), v4.17.
 * - kprobes through perf: e12f03d7031a ("perf/core: Implement the
 *   'perf_kprobe' PMU"), v4.17; libbpf falls back to tracefs kprobe_events.
 *
 * These are the attach types' own dates. The programs need more: bpf_loop()
 * (e6f2dd0f8067, v5.17) and bpf_get_func_arg() (f92c1e183604, v5.17), so
 * kptwatch as a whole needs 5.17.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "maps.h"
#include "report.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	bool admin, bpf, perfmon;

	if (geteuid() == 0)
		return 0;
	if (syscall(SYS_capget, &h, d))
		return -EPERM;
	admin = d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
	bpf = d[CAP_BPF / 32].effective & (1u << (CAP_BPF % 32));
	perfmon = d[CAP_PERFMON / 32].effective & (1u << (CAP_PERFMON % 32));
	return admin || (bpf && perfmon) ? 0 : -EPERM;
}

bool fentry_refused(int err)
{
	err = err < 0 ? -err : err;
	return err == EPERM || err == ENOTSUPP || err == EOPNOTSUPP || err == EACCES;
}

static bool kprobes_available(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", F_OK) ||
	       !access("/sys/kernel/tracing/kprobe_events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", F_OK);
}

/* The running kernel's preemption model (plan.h): uname and sched/preempt. */
static enum kpt_preempt preempt_probe(char *desc, size_t len)
{
	char buf[128] = "";
	struct utsname un;
	FILE *f = fopen("/sys/kernel/debug/sched/preempt", "r");
	bool got = f && fgets(buf, sizeof(buf), f);

	if (f)
		fclose(f);
	if (uname(&un))
		un.version[0] = 0;
	return preempt_model(un.version, got ? buf : NULL, desc, len);
}

/* Load "return 0" as a tracing program against a BTF id: 0 or -errno. */
static int probe_tracing(enum bpf_attach_type type, int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "kpt_probe", "GPL", insns, 2, &opts);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int plan_input_probe(struct plan_input *in, const char *btf_path, bool force_kprobes,
		     struct ksyms **ks, const char **btf_src, int verbose)
{
	struct btf *btf = NULL, *kbtf = NULL;
	__s32 ids[PP_MAX];
	char name[96];
	int err = 0, target = -1;

	memset(in, 0, sizeof(*in));
	in->force_kprobes = force_kprobes;
	in->kernel_btf = !access("/sys/kernel/btf/vmlinux", R_OK);
	if (in->kernel_btf)
		kbtf = btf__load_vmlinux_btf();
	if (!kbtf)
		in->kernel_btf = false;
	btf = btf_path ? btf__parse(btf_path, NULL) : kbtf;
	*btf_src = btf_path ? btf_path : kbtf ? "/sys/kernel/btf/vmlinux" : NULL;
	if (!btf) {
		err = btf_path ? -errno : -ENOENT;
		*btf_src = NULL;
		goto out;
	}
	in->btf_loaded = true;
	for (int i = 0; i < PP_MAX; i++) {
		ids[i] = btf__find_by_name_kind(btf, plan_btf_name(i, name, sizeof(name)),
						i == PP_PAGE_FREE ? BTF_KIND_TYPEDEF :
						BTF_KIND_FUNC);
		in->btf_func[i] = ids[i] > 0;
		/* the probes need the running kernel's ids, not --btf's */
		if (kbtf && btf != kbtf)
			ids[i] = btf__find_by_name_kind(kbtf, name, i == PP_PAGE_FREE ?
							BTF_KIND_TYPEDEF : BTF_KIND_FUNC);
	}
	in->kprobe_missed = kprobe_missed_readable(kbtf);
	/*
	 * Only the ids are needed from here: drop the kernel's BTF before
	 * reading kallsyms, so that the two (megabytes each) never sit in
	 * memory together.
	 */
	if (btf != kbtf)
		btf__free(btf);
	btf__free(kbtf);
	btf = NULL;
	*ks = ksyms_load("/proc/kallsyms");
	in->ksyms = *ks;
	in->kprobes = kprobes_available();
	in->preempt = preempt_probe(in->preempt_desc, sizeof(in->preempt_desc));

	if (!in->kernel_btf || force_kprobes)
		return 0;
	/* fentry: try one planned target that the kernel can resolve by name */
	for (int i = 0; i < PP_PAGE_FREE && target <= 0; i++) {
		const char *sym = NULL;

		plan_btf_name(i, name, sizeof(name));
		if (!in->btf_func[i])
			continue;
		/* a function kallsyms knows only as a clone cannot take fentry */
		if (in->ksyms && (!ksyms_resolve(in->ksyms, name, &sym) || strcmp(sym, name)))
			continue;
		target = ids[i];
	}
	if (target > 0)
		in->fentry_err = probe_tracing(BPF_TRACE_FENTRY, target);
	if (verbose)
		fprintf(stderr, "kptwatch: fentry probe on %s: %s\n",
			target > 0 ? name : "(no target)",
			target <= 0 ? "skipped" :
			in->fentry_err ? strerror(-in->fentry_err) : "ok");
	target = ids[PP_PAGE_FREE];
	if (target > 0)
		in->tp_btf_err = probe_tracing(BPF_TRACE_RAW_TP, target);
	if (verbose)
		fprintf(stderr, "kptwatch: tp_btf probe on mm_page_free: %s\n",
			target <= 0 ? "no type" :
			in->tp_btf_err ? strerror(-in->tp_btf_err) : "ok");
	return 0;
out:
	if (btf != kbtf)
		btf__free(btf);
	btf__free(kbtf);
	return err;
}

static struct bpf_program *prog(struct bpf_object *obj, const char *kind, const char *suffix)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", kind, suffix);
	return bpf_object__find_program_by_name(obj, name);
}

static void load(struct bpf_object *obj, const char *kind, const char *suffix, bool on,
		 const char *target)
{
	struct bpf_program *pg = prog(obj, kind, suffix);

	if (!pg)
		return;
	bpf_program__set_autoload(pg, on);
	if (on && target)
		bpf_program__set_attach_target(pg, 0, target);
}

/*
 * The programs the plan attaches, and the fallbacks it will need. A
 * point's kprobe twin loads behind fentry for the clones of its function;
 * the twins of the others (and raw_tp behind tp_btf) only once an attach
 * was refused (p->all_twins, attach_plan()): verifying them all costs
 * every start a fifth of its time for a fallback nearly never taken.
 */
/* Could a kprobe stand in for this fentry point (the kernel, kallsyms, its load)? */
static bool twin_possible(const struct plan *p, const struct plan_point *pt)
{
	return p->kprobes && pt->nsyms && !pt->no_twin;
}

/* Does attach_setup() load the kprobe twin behind this fentry point? */
static bool twin_loaded(const struct plan *p, const struct plan_point *pt)
{
	return twin_possible(p, pt) && (pt->nclones || p->all_twins);
}

void attach_setup(struct bpf_object *obj, const struct plan *p)
{
	enum kpt_method pf = p->pts[PP_PAGE_FREE].method;
	bool raw_tp = pf == METH_RAW_TP || (pf == METH_TP_BTF && p->all_twins);

	for (int i = 0; i < PP_PAGE_FREE; i++) {
		const struct plan_point *pt = &p->pts[i];
		bool fentry = pt->method == METH_FENTRY;
		bool kprobe = pt->method == METH_KPROBE || (fentry && twin_loaded(p, pt));

		load(obj, "fentry", pt->prog, fentry && !pt->exit_only, pt->func);
		load(obj, "fexit", pt->prog, fentry && pt->paired, pt->func);
		load(obj, "kprobe", pt->prog, kprobe, NULL);
		load(obj, "kretprobe", pt->prog, kprobe && pt->paired, NULL);
	}
	load(obj, "tp_btf", "page_free", pf == METH_TP_BTF, NULL);
	load(obj, "raw_tp", "page_free", raw_tp, NULL);
	load(obj, "tp_btf", "page_free_nest", pf == METH_TP_BTF, NULL);
	load(obj, "raw_tp", "page_free_nest", raw_tp, NULL);
}

/* Program names are KIND_SUFFIX, SUFFIX a plan point's prog. */
static const char *const kinds[] = { "fentry_", "fexit_", "kprobe_", "kretprobe_", "tp_btf_",
				     "raw_tp_" };
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* The kinds index of name's prefix, NKINDS for none; *point the point, or -1. */
static size_t prog_kind(const struct plan *p, const char *name, int *point)
{
	size_t k, n = 0;

	*point = -1;
	for (k = 0; k < NKINDS; k++)
		if (!strncmp(name, kinds[k], (n = strlen(kinds[k]))))
			break;
	for (int i = 0; k < NKINDS && i < PP_MAX; i++)
		if (p->pts[i].prog && !strcmp(p->pts[i].prog, name + n))
			*point = i;
	return k;
}

int prog_point(const struct plan *p, const char *name)
{
	int i;

	prog_kind(p, name, &i);
	return i;
}

int plan_demote(struct plan *p, const char *name, int err)
{
	char e[64], why[160];
	size_t k;
	int i;

	k = prog_kind(p, name, &i);
	if (i < 0)
		return -1;
	plan_errstr(err, e, sizeof(e));
	snprintf(why, sizeof(why), "%s did not load: %s", name, e);
	switch (p->pts[i].method) {
	case METH_FENTRY:
		if (k >= 2) {		/* only the kprobe fallback failed */
			p->pts[i].no_twin = true;
			return 0;
		}
		if (p->kprobes && p->pts[i].nsyms && !p->pts[i].no_twin) {
			p->pts[i].method = METH_KPROBE;
			snprintf(p->pts[i].why, sizeof(p->pts[i].why), "%s; kprobe used", why);
			return 0;
		}
		break;
	case METH_TP_BTF:
		p->pts[i].method = METH_RAW_TP;
		snprintf(p->pts[i].why, sizeof(p->pts[i].why), "%s; raw_tp used", why);
		return 0;
	case METH_MISSING:
		return -1;
	default:
		break;
	}
	plan_drop(p, i, why);
	return 0;
}

int attach_nprogs(struct bpf_object *obj)
{
	struct bpf_program *pg;
	int n = 0;

	bpf_object__for_each_program(pg, obj)
		n += bpf_program__autoload(pg);
	return n;
}

static int add_link(struct attach_state *st, struct bpf_link *l, const struct bpf_program *pg,
		    const char *sym)
{
	int err = libbpf_get_error(l);

	if (err)
		return err;
	if (st->nlinks == KPT_MAX_LINKS) {
		bpf_link__destroy(l);
		return -E2BIG;
	}
	st->progs[st->nlinks] = pg;
	st->syms[st->nlinks] = sym;
	st->links[st->nlinks++] = l;
	return 0;
}

static int attach_prog(struct attach_state *st, struct bpf_program *pg)
{
	if (!pg || !bpf_program__autoload(pg))
		return -ENOENT;
	return add_link(st, bpf_program__attach(pg), pg, NULL);
}

/* The kprobe (and kretprobe) of a point on one kallsyms name, or neither. */
static int attach_kprobe_on(struct bpf_object *obj, const struct plan_point *pt,
			    const char *sym, struct attach_state *st)
{
	struct bpf_program *ret = prog(obj, "kretprobe", pt->prog);
	struct bpf_program *ent = prog(obj, "kprobe", pt->prog);
	int err;

	if (!ent || !bpf_program__autoload(ent) ||
	    (pt->paired && (!ret || !bpf_program__autoload(ret))))
		return -ENOENT;
	if (pt->paired) {
		err = add_link(st, bpf_program__attach_kprobe(ret, true, sym), ret, sym);
		if (err)
			return err;
	}
	err = add_link(st, bpf_program__attach_kprobe(ent, false, sym), ent, sym);
	if (err && pt->paired)
		bpf_link__destroy(st->links[--st->nlinks]);
	return err;
}

/*
 * The clones of a point's function, which fentry on the function itself
 * does not see; skip is the one already attached. A clone that will not
 * take its kprobe leaves the point partial, not lost.
 */
static void attach_clones(struct bpf_object *obj, struct plan_point *pt, const char *skip,
			  struct attach_state *st)
{
	int n = pt->nclones < KPT_MAX_CLONES ? pt->nclones : KPT_MAX_CLONES;

	for (int i = 0; i < n; i++) {
		int err;

		if (skip && !strcmp(pt->clones[i], skip))
			continue;
		err = attach_kprobe_on(obj, pt, pt->clones[i], st);
		if (err)
			plan_partial(pt, "kprobe on %s: %s", pt->clones[i], strerror(-err));
	}
}

/* A kprobe point: the function (or its first clone), then the other clones. */
static int attach_kprobe(struct bpf_object *obj, struct plan_point *pt, struct attach_state *st)
{
	int err = attach_kprobe_on(obj, pt, pt->sym, st);

	if (!err)
		attach_clones(obj, pt, pt->sym, st);
	return err;
}

/*
 * build/kptwatch-test only: KPTWATCH_TEST_REFUSE=FUNC makes the fentry
 * (or, for mm_page_free, tp_btf) attach on FUNC fail with EBUSY, as an
 * ftrace user holding the function would, so that tests/vm can drive the
 * fallbacks. The shipped binary has no such switch.
 */
static bool test_refused(const char *func)
{
#ifdef KPT_TEST_HOOKS
	const char *f = getenv("KPTWATCH_TEST_REFUSE");

	return f && func && !strcmp(f, func);
#else
	return false;
#endif
}

static int attach_fentry(struct bpf_object *obj, const struct plan_point *pt,
			 struct attach_state *st)
{
	struct bpf_program *ent = prog(obj, "fentry", pt->prog);
	int err;

	if (test_refused(pt->func))
		return -EBUSY;

	if (pt->paired && (err = attach_prog(st, prog(obj, "fexit", pt->prog))))
		return err;
	/* a link or split point is one fexit: it reads the arguments at return */
	if (pt->exit_only || (pt->paired && !ent))
		return 0;
	if ((err = attach_prog(st, ent))) {
		/* no half-attached pair: drop the fexit just made */
		if (pt->paired)
			bpf_link__destroy(st->links[--st->nlinks]);
		return err;
	}
	return 0;
}

/*
 * The kernel skips a tracing program that is already running on the CPU:
 * a page freed from an interrupt that lands while the page-free program
 * runs would go unseen. A second program, attached beside it, judges only
 * such nested frees (kptwatch.bpf.c); without it they are lost and every
 * skipped run makes the verdict incomplete.
 */
static void attach_nest(struct bpf_object *obj, struct plan_point *pt, const char *kind,
			struct attach_state *st)
{
	int err = attach_prog(st, prog(obj, kind, "page_free_nest"));

	if (err)
		plan_partial(pt, "no fallback for frees nested in the page-free program (%s): "
			     "each skipped run is lost", strerror(-err));
}

int attach_plan(struct bpf_object *obj, struct plan *p, struct attach_state *st, int verbose)
{
	/*
	 * The link points come last. A table they learn while its enqueue
	 * point is not attached yet is handed over unseen, and its free is
	 * then a bypass: a false violation for every table the kernel links
	 * and frees while the programs attach, which under churn is many
	 * (attaching takes seconds under load). Tables linked before them
	 * are found by the walk, or go unjudged.
	 */
	static const int order[] = {
		PP_PAGE_FREE, PP_INVAL, PP_WORK_FUNC, PP_ASYNC_FREE_DTOR,
		PP_ASYNC_FREE_LIST, PP_ASYNC_FREE_PAGES, PP_ASYNC_FREE, PP_ASYNC_FREE_BOOTMEM,
		PP_PAGETABLE_FREE_KERNEL, PP_PMD_FREE_PTE_PAGE, PP_PUD_FREE_PMD_PAGE,
		PP_FREE_PAGETABLE, PP_PTE_ALLOC_KERNEL, PP_PMD_ALLOC, PP_PUD_ALLOC,
		PP_P4D_ALLOC, PP_ALLOC_LOW_PAGES, PP_CPA_SPLIT,
	};
	char why[192];
	int err = 0;
	size_t k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		struct plan_point *pt = &p->pts[order[k]];

		switch (pt->method) {
		case METH_MISSING:
			continue;
		case METH_TP_BTF:
			err = test_refused("mm_page_free") ? -EBUSY :
			      attach_prog(st, prog(obj, "tp_btf", "page_free"));
			if (!err) {
				attach_nest(obj, pt, "tp_btf", st);
				continue;
			}
			if (!p->all_twins)
				goto reload;
			snprintf(pt->why, sizeof(pt->why), "tp_btf attach: %s", strerror(-err));
			pt->method = METH_RAW_TP;
			/* fall through */
		case METH_RAW_TP:
			err = attach_prog(st, prog(obj, "raw_tp", "page_free"));
			if (!err)
				attach_nest(obj, pt, "raw_tp", st);
			break;
		case METH_FENTRY:
			err = attach_fentry(obj, pt, st);
			if (!err) {
				if (pt->nclones && p->kprobes && !pt->no_twin)
					attach_clones(obj, pt, NULL, st);
				else if (pt->nclones && !pt->partial)
					plan_partial(pt, "calls to %d clone(s) unseen: the kprobe "
						     "did not load", pt->nclones);
				break;
			}
			if (twin_possible(p, pt) && !twin_loaded(p, pt))
				goto reload;	/* its kprobe twin was not loaded */
			snprintf(pt->why, sizeof(pt->why), "fentry attach: %s; kprobe used",
				 strerror(-err));
			if (attach_kprobe(obj, pt, st))
				break;
			pt->method = METH_KPROBE;
			err = 0;
			break;
		case METH_KPROBE:
			err = attach_kprobe(obj, pt, st);
			break;
		}
		if (verbose)
			fprintf(stderr, "kptwatch: attach %s by %s: %s\n", pt->func,
				method_name(pt->method), err ? strerror(-err) : "ok");
		if (err) {
			snprintf(why, sizeof(why), "%s attach failed: %s", method_name(pt->method),
				 strerror(-err));
			plan_drop(p, order[k], why);
		}
	}
	plan_finish(p);		/* a clone that did not attach makes it partial */
	return st->nlinks;
reload:
	/* a start that takes twice as long says why */
	fprintf(stderr, "kptwatch: attaching %s by %s failed: %s; loading again with the "
		"fallbacks\n", p->pts[order[k]].func, method_name(p->pts[order[k]].method),
		strerror(-err));
	st->reload = true;
	return st->nlinks;
}

/*
 * The page-free programs go first. They judge, and a judge that outlives
 * the other points judges frees whose history it missed: a table handed
 * over after its enqueue point went is a bypass, a page flushed after the
 * flush point went is unflushed, false violations for whatever the kernel
 * frees during the teardown. Without the judge the rest only count; they
 * go in the reverse of their attach order, the enqueue points early, so
 * that few pages are queued with no one left to see them freed.
 */
static bool is_page_free(const struct bpf_program *pg)
{
	/* tp_btf and raw_tp: the only tracepoint programs are on mm_page_free */
	return pg && (bpf_program__type(pg) == BPF_PROG_TYPE_RAW_TRACEPOINT ||
		      bpf_program__expected_attach_type(pg) == BPF_TRACE_RAW_TP);
}

void attach_destroy(struct attach_state *st)
{
	for (int i = 0; i < st->nlinks; i++) {
		if (is_page_free(st->progs[i])) {
			bpf_link__destroy(st->links[i]);
			st->links[i] = NULL;
		}
	}
	while (st->nlinks > 0)
		bpf_link__destroy(st->links[--st->nlinks]);
}

/* The member called name of struct or union id, anonymous members searched too; 0: none. */
static __u32 btf_member_type(const struct btf *btf, __u32 id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	const struct btf_member *m;

	if (!t || !btf_is_composite(t))
		return 0;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);
		__u32 in;

		if (n && *n && !strcmp(n, name))
			return m->type;
		if ((!n || !*n) && (in = btf_member_type(btf, m->type, name)))
			return in;
	}
	return 0;
}

/*
 * perf_event.kprobe.missed of struct bpf_link_info came with 6.7 ("bpf: Add
 * missed value to kprobe perf link info", with the count of kprobe runs
 * skipped for bpf_prog_active in recursion_misses, "bpf: Count missed stats
 * in trace_call_bpf"). An older kernel leaves the field zero: no misses and
 * no way to know look the same, so ask its BTF whether the field exists.
 */
bool kprobe_missed_readable(const struct btf *btf)
{
	__s32 id = btf ? btf__find_by_name_kind(btf, "bpf_link_info", BTF_KIND_STRUCT) : -1;
	__u32 pe, kp;

	if (id <= 0)
		return false;
	pe = btf_member_type(btf, id, "perf_event");
	kp = pe ? btf_member_type(btf, pe, "kprobe") : 0;
	return kp && btf_member_type(btf, kp, "missed");
}

/*
 * struct bpf_link_info as of 6.7 for the one member read here: the UAPI
 * headers of libbpf 1.1's Debian (Linux 6.1) lack perf_event. The union
 * is padded to 6.12's size; the kernel takes a longer struct as long as
 * the tail it does not know is zero.
 */
struct kpt_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 :32;
	union {
		struct {
			__u32 type;		/* enum bpf_perf_event_type */
			__u32 :32;
			struct {
				__u64 func_name;
				__u32 name_len;
				__u32 offset;
				__u64 addr;
				__u64 missed;
				__u64 cookie;
			} kprobe;
		} perf_event;
		__u64 pad[6];
	};
};

#define KPT_PERF_EVENT_KPROBE		3	/* BPF_PERF_EVENT_KPROBE */
#define KPT_PERF_EVENT_KRETPROBE	4

static void add_miss(struct run_result *rr, const char *prog, const char *sym, int point,
		     __u64 recursion, __u64 kprobe)
{
	struct prog_misses *m;

	if (rr->nmisses++ >= KPT_MAX_MISSES)
		return;
	m = &rr->misses[rr->nmisses - 1];
	snprintf(m->prog, sizeof(m->prog), "%s%s%s", prog, sym ? " on " : "", sym ? sym : "");
	m->point = point;
	m->recursion = recursion;
	m->kprobe = kprobe;
}

int read_prog_misses(struct bpf_object *obj, const struct attach_state *st,
		     const struct plan *p, struct run_result *rr)
{
	bool readable = p->kprobe_missed;
	struct bpf_program *pg;
	int err = 0;

	rr->nmisses = 0;
	memset(rr->kprobe_unread, 0, sizeof(rr->kprobe_unread));
	/* recursion misses: every loaded program, whatever its attach type */
	bpf_object__for_each_program(pg, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(pg), e;

		if (fd < 0)
			continue;
		e = bpf_obj_get_info_by_fd(fd, &info, &len);
		if (e) {
			err = err ? err : e;
			read_failed(rr, bpf_program__name(pg), e);
			continue;
		}
		if (info.recursion_misses)
			add_miss(rr, bpf_program__name(pg), NULL,
				 prog_point(p, bpf_program__name(pg)), info.recursion_misses, 0);
	}
	/* kprobe misses: a kprobe's own count (another kprobe running on that
	 * CPU, a kretprobe out of instances), per link */
	for (int i = 0; i < st->nlinks; i++) {
		const char *name = st->progs[i] ? bpf_program__name(st->progs[i]) : "";
		struct kpt_link_info info = {};
		__u32 len = sizeof(info);
		int point;
		size_t k = prog_kind(p, name, &point);
		int e;

		if (k != 2 && k != 3)		/* kprobe_, kretprobe_ */
			continue;
		if (!readable) {
			if (point >= 0)
				rr->kprobe_unread[point] = true;
			continue;
		}
		e = bpf_obj_get_info_by_fd(bpf_link__fd(st->links[i]), &info, &len);
		if (e || (info.perf_event.type != KPT_PERF_EVENT_KPROBE &&
			  info.perf_event.type != KPT_PERF_EVENT_KRETPROBE)) {
			/* a kprobe made through tracefs has no BPF link to ask */
			if (point >= 0)
				rr->kprobe_unread[point] = true;
			continue;
		}
		if (info.perf_event.kprobe.missed)
			add_miss(rr, name, st->syms[i], point, 0, info.perf_event.kprobe.missed);
	}
	return err;
}

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
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "attach.h"

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
	for (int i = 0; i < PP_MAX; i++)
		in->btf_func[i] = btf__find_by_name_kind(btf, plan_btf_name(i, name, sizeof(name)),
							 i == PP_PAGE_FREE ? BTF_KIND_TYPEDEF :
							 BTF_KIND_FUNC) > 0;
	*ks = ksyms_load("/proc/kallsyms");
	in->ksyms = *ks;
	in->kprobes = kprobes_available();

	if (!kbtf || force_kprobes)
		goto out;
	/* fentry: try one planned target that the kernel can resolve by name */
	for (int i = 0; i < PP_PAGE_FREE && target <= 0; i++) {
		const char *sym = NULL;

		plan_btf_name(i, name, sizeof(name));
		if (!in->btf_func[i])
			continue;
		/* a function kallsyms knows only as a clone cannot take fentry */
		if (in->ksyms && (!ksyms_resolve(in->ksyms, name, &sym) || strcmp(sym, name)))
			continue;
		target = btf__find_by_name_kind(kbtf, name, BTF_KIND_FUNC);
	}
	if (target > 0)
		in->fentry_err = probe_tracing(BPF_TRACE_FENTRY, target);
	if (verbose)
		fprintf(stderr, "kptwatch: fentry probe on %s: %s\n", target > 0 ? name : "(no target)",
			target > 0 ? (in->fentry_err ? strerror(-in->fentry_err) : "ok") : "skipped");
	target = btf__find_by_name_kind(kbtf, "btf_trace_mm_page_free", BTF_KIND_TYPEDEF);
	if (target > 0)
		in->tp_btf_err = probe_tracing(BPF_TRACE_RAW_TP, target);
	if (verbose)
		fprintf(stderr, "kptwatch: tp_btf probe on mm_page_free: %s\n",
			target > 0 ? (in->tp_btf_err ? strerror(-in->tp_btf_err) : "ok") : "no type");
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

void attach_setup(struct bpf_object *obj, const struct plan *p)
{
	for (int i = 0; i < PP_PAGE_FREE; i++) {
		const struct plan_point *pt = &p->pts[i];
		bool fentry = pt->method == METH_FENTRY;
		/* kprobe twins also load behind fentry, for a refused attach */
		bool kprobe = pt->method == METH_KPROBE ||
			      (fentry && p->kprobes && pt->nsyms && !pt->no_twin);

		load(obj, "fentry", pt->prog, fentry, pt->func);
		load(obj, "fexit", pt->prog, fentry && pt->paired, pt->func);
		load(obj, "kprobe", pt->prog, kprobe, NULL);
		load(obj, "kretprobe", pt->prog, kprobe && pt->paired, NULL);
	}
	load(obj, "tp_btf", "page_free", p->pts[PP_PAGE_FREE].method == METH_TP_BTF, NULL);
	load(obj, "raw_tp", "page_free", p->pts[PP_PAGE_FREE].method != METH_MISSING, NULL);
}

int plan_demote(struct plan *p, const char *name, int err)
{
	static const char *const kinds[] = { "fentry_", "fexit_", "kprobe_", "kretprobe_",
					     "tp_btf_", "raw_tp_" };
	char e[64], why[160];
	size_t k, n = 0;
	int i;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strncmp(name, kinds[k], (n = strlen(kinds[k]))))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return -1;
	for (i = 0; i < PP_MAX && strcmp(p->pts[i].prog, name + n); i++)
		;
	if (i == PP_MAX)
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

static int add_link(struct attach_state *st, struct bpf_link *l)
{
	int err = libbpf_get_error(l);

	if (err)
		return err;
	if (st->nlinks == KPT_MAX_LINKS) {
		bpf_link__destroy(l);
		return -E2BIG;
	}
	st->links[st->nlinks++] = l;
	return 0;
}

static int attach_prog(struct attach_state *st, struct bpf_program *pg)
{
	if (!pg || !bpf_program__autoload(pg))
		return -ENOENT;
	return add_link(st, bpf_program__attach(pg));
}

/* The kprobe (and kretprobe) of a point on one kallsyms name, or neither. */
static int attach_kprobe_on(struct bpf_object *obj, const struct plan_point *pt,
			    const char *sym, struct attach_state *st)
{
	struct bpf_program *ret = prog(obj, "kretprobe", pt->prog);
	struct bpf_program *ent = prog(obj, "kprobe", pt->prog);
	int err;

	if (!ent || !bpf_program__autoload(ent) || (pt->paired && (!ret || !bpf_program__autoload(ret))))
		return -ENOENT;
	if (pt->paired && (err = add_link(st, bpf_program__attach_kprobe(ret, true, sym))))
		return err;
	err = add_link(st, bpf_program__attach_kprobe(ent, false, sym));
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

static int attach_fentry(struct bpf_object *obj, const struct plan_point *pt,
			 struct attach_state *st)
{
	int err;

	if (pt->paired && (err = attach_prog(st, prog(obj, "fexit", pt->prog))))
		return err;
	if ((err = attach_prog(st, prog(obj, "fentry", pt->prog)))) {
		/* no half-attached pair: drop the fexit just made */
		if (pt->paired)
			bpf_link__destroy(st->links[--st->nlinks]);
		return err;
	}
	return 0;
}

int attach_plan(struct bpf_object *obj, struct plan *p, struct attach_state *st, int verbose)
{
	static const int order[] = {
		PP_PAGE_FREE, PP_INVAL, PP_WORK_FUNC, PP_ASYNC_FREE_DTOR, PP_ASYNC_FREE_LIST,
		PP_ASYNC_FREE_PAGES, PP_PAGETABLE_FREE_KERNEL, PP_PMD_FREE_PTE_PAGE,
		PP_PUD_FREE_PMD_PAGE, PP_FREE_PAGETABLE,
	};
	char why[192];
	int err = 0;

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		struct plan_point *pt = &p->pts[order[k]];

		switch (pt->method) {
		case METH_MISSING:
			continue;
		case METH_TP_BTF:
			err = attach_prog(st, prog(obj, "tp_btf", "page_free"));
			if (!err)
				continue;
			snprintf(pt->why, sizeof(pt->why), "tp_btf attach: %s", strerror(-err));
			pt->method = METH_RAW_TP;
			/* fall through */
		case METH_RAW_TP:
			err = attach_prog(st, prog(obj, "raw_tp", "page_free"));
			break;
		case METH_FENTRY:
			err = attach_fentry(obj, pt, st);
			if (!err) {
				if (pt->nclones && p->kprobes && !pt->no_twin)
					attach_clones(obj, pt, NULL, st);
				else if (pt->nclones && !pt->partial)
					plan_partial(pt, "calls to %d clone(s) unseen: the kprobe did not load",
						     pt->nclones);
				break;
			}
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
}

void attach_destroy(struct attach_state *st)
{
	while (st->nlinks > 0)
		bpf_link__destroy(st->links[--st->nlinks]);
}

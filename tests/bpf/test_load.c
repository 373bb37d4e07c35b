// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Load-only checks of kptwatch.bpf.o on the running kernel. The build
 * host refuses fentry (EPERM, at load) and cannot attach kprobes, but it
 * verifies the mm_page_free programs and the kprobe flavour; fentry and
 * every real attach are the VM tier's. Naming every program and map
 * below also pins the interface user space plans against: a rename breaks
 * this file's build.
 */
#include <errno.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* kernel-internal, seen from BPF syscalls */
#endif
#include <string.h>

#include "tb.h"
#include "kptwatch.skel.h"

static void report(const char *name, int err, const char *why, int *passed,
		   int *failed)
{
	if (err) {
		printf("FAIL %s: %s\n", name, why);
		(*failed)++;
	} else {
		printf("ok %s\n", name);
		(*passed)++;
	}
}

/* Every program and map user space relies on, by skeleton member. */
static int check_names(struct kptwatch_bpf *s, char *why, size_t len)
{
	const struct bpf_program *progs[] = {
		s->progs.fentry_async_free_dtor,
		s->progs.fentry_async_free_page_list,
		s->progs.fentry_async_free_pages,
		s->progs.fentry_pagetable_free_kernel,
		s->progs.fentry_pmd_free_pte_page,
		s->progs.fentry_pud_free_pmd_page,
		s->progs.fentry_free_pagetable,
		s->progs.fentry_work_func,
		s->progs.fexit_work_func,
		s->progs.fentry_inval,
		s->progs.fexit_inval,
		s->progs.kprobe_async_free_dtor,
		s->progs.kprobe_async_free_page_list,
		s->progs.kprobe_async_free_pages,
		s->progs.kprobe_pagetable_free_kernel,
		s->progs.kprobe_pmd_free_pte_page,
		s->progs.kprobe_pud_free_pmd_page,
		s->progs.kprobe_free_pagetable,
		s->progs.kprobe_work_func,
		s->progs.kretprobe_work_func,
		s->progs.kprobe_inval,
		s->progs.kretprobe_inval,
		s->progs.tp_btf_page_free,
		s->progs.raw_tp_page_free,
		s->progs.fexit_cpa_split,
		s->progs.kprobe_cpa_split,
		s->progs.kretprobe_cpa_split,
	};
	const struct {
		const struct bpf_map *map;
		enum bpf_map_type type;
		__u32 max_entries, value_size;
	} maps[] = {
		{ s->maps.pages, BPF_MAP_TYPE_HASH, KPT_PAGES_MAX(KPT_DEFAULT_PENDING),
		  sizeof(struct kpt_page) },
		{ s->maps.hists, BPF_MAP_TYPE_PERCPU_ARRAY, KPT_M_MAX,
		  sizeof(struct kpt_hist) },
		{ s->maps.counters, BPF_MAP_TYPE_PERCPU_ARRAY, KPT_C_MAX,
		  sizeof(__u64) },
		{ s->maps.events, BPF_MAP_TYPE_RINGBUF, 1 << 20, 0 },
		{ s->maps.stacks, BPF_MAP_TYPE_STACK_TRACE, 0,
		  KPT_STACK_DEPTH * sizeof(__u64) },
		{ s->maps.q_stacks, BPF_MAP_TYPE_STACK_TRACE, 0,
		  KPT_Q_STACK_DEPTH * sizeof(__u64) },
	};
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		if (!progs[i]) {
			snprintf(why, len, "program %zu missing", i);
			return -1;
		}
	}
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const struct bpf_map *m = maps[i].map;

		if (bpf_map__type(m) != maps[i].type ||
		    (maps[i].max_entries &&
		     bpf_map__max_entries(m) != maps[i].max_entries) ||
		    (maps[i].value_size &&
		     bpf_map__value_size(m) != maps[i].value_size)) {
			snprintf(why, len, "map %s: type %d max %u value %u",
				 bpf_map__name(m), bpf_map__type(m),
				 bpf_map__max_entries(m),
				 bpf_map__value_size(m));
			return -1;
		}
	}
	if (s->rodata->emit_live || !s->rodata->free_pagetable_has_order) {
		snprintf(why, len, "knob defaults changed");
		return -1;
	}
	return 0;
}

/*
 * Load only the named programs of a fresh kptwatch object; target, when
 * given, retargets them (fentry/fexit) to another kernel function.
 */
static int load_as(const char *const *names, int n, const char *target,
		   char *why, size_t len)
{
	struct kptwatch_bpf *s;
	struct bpf_program *p;
	int err, i, keep;

	s = kptwatch_bpf__open();
	if (!s) {
		snprintf(why, len, "open: %s", strerror(errno));
		return -1;
	}
	bpf_object__for_each_program(p, s->obj) {
		keep = 0;
		for (i = 0; i < n; i++)
			keep |= !strcmp(bpf_program__name(p), names[i]);
		bpf_program__set_autoload(p, keep);
		if (keep && target)
			bpf_program__set_attach_target(p, 0, target);
	}
	err = kptwatch_bpf__load(s);
	if (err) {
		snprintf(why, len, "load: %s", strerror(-err));
		goto out;
	}
	bpf_object__for_each_program(p, s->obj) {
		for (i = 0; i < n; i++) {
			if (strcmp(bpf_program__name(p), names[i]))
				continue;
			if (bpf_program__fd(p) < 0) {
				snprintf(why, len, "%s has no fd", names[i]);
				err = -1;
			}
		}
	}
out:
	kptwatch_bpf__destroy(s);
	return err;
}

static int load_only(const char *const *names, int n, char *why, size_t len)
{
	return load_as(names, n, NULL, why, len);
}

/*
 * -a: every program on its own, as the kernel at hand allows. A missing
 * target (ESRCH/ENOENT) or refused fentry (EPERM) is a skip; anything
 * else, a verifier rejection above all, fails. Meant for the VM guests,
 * where the kernel has the targets.
 */
int tb_load_each(int *passed, int *failed)
{
	struct kptwatch_bpf *s;
	struct bpf_program *p;
	char why[256], label[128];
	const char *name;
	int err, n = 0, i;

	s = kptwatch_bpf__open();
	if (!s) {
		printf("FAIL load_each: open: %s\n", strerror(errno));
		(*failed)++;
		return -1;
	}
	bpf_object__for_each_program(p, s->obj)
		n++;
	for (i = 0; i < n; i++) {
		int j = 0;

		bpf_object__for_each_program(p, s->obj) {
			if (j++ == i)
				break;
		}
		name = bpf_program__name(p);
		why[0] = 0;
		err = load_only(&name, 1, why, sizeof(why));
		snprintf(label, sizeof(label), "load_%s", name);
		/*
		 * No such function here: verify the program body anyway on
		 * free_pages(), which every kernel has. Arguments come from
		 * bpf_get_func_arg(), so any two-argument target will do.
		 */
		if ((err == -ESRCH || err == -ENOENT) &&
		    (!strncmp(name, "fentry_", 7) || !strncmp(name, "fexit_", 6))) {
			err = load_as(&name, 1, "free_pages", why, sizeof(why));
			snprintf(label, sizeof(label), "load_%s@free_pages",
				 name);
		}
		if (err == -ESRCH || err == -ENOENT || err == -EPERM ||
		    err == -ENOTSUPP) {
			printf("skip %s: %s\n", label, why);
			continue;
		}
		report(label, err, why, passed, failed);
	}
	kptwatch_bpf__destroy(s);
	return 0;
}

int tb_load_checks(int *passed, int *failed)
{
	static const char *const tp[] = { "tp_btf_page_free" };
	static const char *const raw[] = { "raw_tp_page_free" };
	static const char *const kprobes[] = {
		"kprobe_async_free_dtor", "kprobe_async_free_page_list",
		"kprobe_async_free_pages", "kprobe_pagetable_free_kernel",
		"kprobe_pmd_free_pte_page", "kprobe_pud_free_pmd_page",
		"kprobe_free_pagetable", "kprobe_work_func",
		"kretprobe_work_func", "kprobe_inval", "kretprobe_inval",
	};
	static const char *const cpa[] = { "kprobe_cpa_split", "kretprobe_cpa_split" };
	struct kptwatch_bpf *s;
	char why[256] = "";
	int err;

	s = kptwatch_bpf__open();
	err = s ? check_names(s, why, sizeof(why)) : -1;
	if (!s)
		snprintf(why, sizeof(why), "open: %s", strerror(errno));
	kptwatch_bpf__destroy(s);
	report("interface_names", err, why, passed, failed);

	err = load_only(tp, 1, why, sizeof(why));
	report("load_tp_btf_page_free", err, why, passed, failed);
	err = load_only(raw, 1, why, sizeof(why));
	report("load_raw_tp_page_free", err, why, passed, failed);
	/* The fallback flavour verifies here even though it cannot attach. */
	err = load_only(kprobes, sizeof(kprobes) / sizeof(kprobes[0]), why,
			sizeof(why));
	report("load_kprobe_programs", err, why, passed, failed);
	/* CPA's splits: the range walk (split.bpf.h) behind the kprobe pair */
	err = load_only(cpa, sizeof(cpa) / sizeof(cpa[0]), why, sizeof(why));
	report("load_kprobe_cpa_split", err, why, passed, failed);
	return 0;
}

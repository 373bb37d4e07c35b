// SPDX-License-Identifier: GPL-2.0
/*
 * kptwatch: watch kernel page-table pages from their free or enqueue point
 * to the page allocator, and check that an IOMMU flush came in between.
 *
 * The loader reads top to bottom: parse options, probe the kernel and plan,
 * open the skeleton, set knobs, map sizes and autoload, load, attach, poll
 * the ring buffer, print, clean up. Nothing is pinned: when the process
 * dies, its links and maps go with it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "command.h"
#include "hist.h"
#include "maps.h"
#include "options.h"
#include "output.h"
#include "run.h"
#include "kptwatch.skel.h"

static struct env env;
static struct run_result rr;

/* The first program libbpf reports as failing, to demote its point. */
static char failed_prog[64];

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && !failed_prog[0]) {
		char msg[256], name[64];
		va_list cp;

		va_copy(cp, args);
		vsnprintf(msg, sizeof(msg), fmt, cp);
		va_end(cp);
		if (sscanf(msg, "libbpf: prog '%63[^']'", name) == 1 && strstr(msg, "fail"))
			snprintf(failed_prog, sizeof(failed_prog), "%s", name);
	}
	if (!env.verbose || (level == LIBBPF_DEBUG && env.verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/*
 * Open, size, plan and load. If the kernel refuses fentry as a whole, plan
 * again without it; if one program fails, demote its point (fentry ->
 * kprobe, tp_btf -> raw_tp, else missing) and load again.
 */
static int open_and_load(struct kptwatch_bpf **out, struct plan_input *in, struct plan *p,
			 struct ksyms **ks, bool *loaded, char *msg, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = env.btf_path);
	/* the same for every attempt: read /proc/cpuinfo and zoneinfo once */
	__u64 phys_mask = layout_phys_mask_probe();
	__u32 watched_words = layout_watched_words_probe();
	struct kptwatch_bpf *skel;
	bool had_ksyms;
	int err = 0;

	plan_build(in, p);
	for (int attempt = 0; attempt < 2 * PP_MAX; attempt++) {
		bool fentry = false;

		/*
		 * libbpf parses the kernel's BTF to set the attach targets and
		 * load: megabytes that would sit beside kallsyms at the peak of
		 * the run. The plan keeps its own copies of the names it
		 * attaches to; a retry plans anew with kallsyms read again, a
		 * run reads it once attached (main()).
		 */
		had_ksyms = *ks;
		ksyms_free(*ks);
		*ks = NULL;
		in->ksyms = NULL;
		skel = kptwatch_bpf__open_opts(&opts);
		if (!skel) {
			err = -errno;
			snprintf(msg, len, "cannot open the BPF object: %s", strerror(-err));
			return err;
		}
		skel->rodata->emit_live = env.cmd == CMD_TRACE;
		skel->rodata->vmemmap_base_addr = p->layout.vmemmap_base_addr;
		skel->rodata->page_offset_base_addr = p->layout.page_offset_base_addr;
		skel->rodata->phys_addr_mask = phys_mask;
		skel->rodata->snap_ncpu = libbpf_num_possible_cpus();
		/*
		 * A stack walk per hand-over: the costliest thing kptwatch did
		 * on the hot path (issue 12), so only when asked for.
		 */
		skel->rodata->capture_q_stack = env.handover_stacks;
		bpf_map__set_max_entries(skel->maps.pages, KPT_PAGES_MAX(env.max_pending));
		bpf_map__set_max_entries(skel->maps.events, env.ringbuf_size);
		bpf_map__set_max_entries(skel->maps.watched, watched_words);
		attach_setup(skel->obj, p);
		failed_prog[0] = 0;
		err = kptwatch_bpf__load(skel);
		if (had_ksyms && err) {
			*ks = ksyms_load("/proc/kallsyms");
			in->ksyms = *ks;
			if (!*ks)
				fprintf(stderr, "kptwatch: cannot read /proc/kallsyms again: %s; "
					"stacks unsymbolized\n", strerror(errno));
		}
		if (!err) {
			*out = skel;
			*loaded = true;
			return 0;
		}
		kptwatch_bpf__destroy(skel);
		for (int i = 0; i < PP_PAGE_FREE; i++)
			fentry |= p->pts[i].method == METH_FENTRY;
		if (fentry && fentry_refused(err) && !in->fentry_err) {
			in->fentry_err = err;
			plan_build(in, p);
			continue;
		}
		if (env.verbose && failed_prog[0])
			fprintf(stderr, "kptwatch: %s failed to load, demoting its point\n",
				failed_prog);
		if (!failed_prog[0] || plan_demote(p, failed_prog, err))
			break;
	}
	snprintf(msg, len, "loading the BPF programs failed: %s (run with -v for libbpf's log)",
		 strerror(-err));
	return err;
}

/* Run one of the syscall programs once (BPF_PROG_RUN); false if it did not. */
static bool run_once(struct bpf_program *pg)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int fd = bpf_program__fd(pg);

	return fd >= 0 && !bpf_prog_test_run_opts(fd, &opts);
}

/* The layout bases the loaded programs will decode with; see layout_read. */
static void read_layout(struct kptwatch_bpf *skel, struct plan *p)
{
	bool ran = run_once(skel->progs.layout_read);

	layout_check(&p->layout, ran ? skel->bss->layout_vmemmap_base : 0,
		     ran ? skel->bss->layout_page_offset : 0);
	plan_finish(p);
}

/*
 * Learn the kernel page tables that exist now (walk.bpf.h). Run after
 * everything is attached, so that a table linked or freed meanwhile is
 * seen by its point; frees during the walk are reconciled by the walk.
 */
static void walk_tables(struct kptwatch_bpf *skel, struct run_result *rr)
{
	rr->walk_ran = true;
	rr->walk_tables = run_once(skel->progs.table_walk) ? skel->bss->walk_result : -1;
	if (env.verbose)
		fprintf(stderr, "kptwatch: walk of init_mm's tables: %lld table(s)%s\n",
			(long long)rr->walk_tables, rr->walk_tables < 0 ? ", failed" : "");
}

/*
 * An attach was refused whose fallback (a kprobe twin, raw_tp) was not
 * loaded (attach_setup() loads only what the plan needs): start over,
 * once, with every fallback loaded. What the first programs saw goes with
 * their maps. 0, or -1 with the reason printed.
 */
static int reload_all_twins(struct kptwatch_bpf **skel, struct plan_input *in,
			    struct plan *p, struct ksyms **ks, bool want_ksyms,
			    struct probe_info *pi, struct attach_state *st)
{
	attach_destroy(st);
	st->reload = false;
	kptwatch_bpf__destroy(*skel);
	*skel = NULL;
	/* the plan's clones and kprobe symbols come from kallsyms */
	if (want_ksyms && !*ks && !(*ks = ksyms_load("/proc/kallsyms")))
		fprintf(stderr, "kptwatch: cannot read /proc/kallsyms again: %s; "
			"clones unresolved, stacks unsymbolized\n", strerror(errno));
	in->ksyms = *ks;
	in->all_twins = true;
	if (open_and_load(skel, in, p, ks, &pi->loaded, pi->load_msg, sizeof(pi->load_msg))) {
		fprintf(stderr, "kptwatch: %s\n", pi->load_msg);
		return -1;
	}
	pi->nprogs = attach_nprogs((*skel)->obj);
	read_layout(*skel, p);
	attach_plan((*skel)->obj, p, st, env.verbose);
	return 0;
}

/* The maps a run reads. */
static struct run_maps run_maps(struct kptwatch_bpf *skel)
{
	return (struct run_maps){
		.events = bpf_map__fd(skel->maps.events),
		.pages = bpf_map__fd(skel->maps.pages),
		.counters = bpf_map__fd(skel->maps.counters),
		.hists = bpf_map__fd(skel->maps.hists),
		.stacks = bpf_map__fd(skel->maps.stacks),
		.q_stacks = bpf_map__fd(skel->maps.q_stacks),
		.snapshot = bpf_program__fd(skel->progs.snapshot),
		.snap_counters = skel->bss->snap_counters,
		.snap_hists = skel->bss->snap_hists,
		.pending_depth = &skel->bss->pending_depth,
	};
}

/*
 * The run loop's tests need a kernel where something attaches, and the
 * build host attaches only the page-free tracepoint. build/kptwatch-test,
 * built with KPT_TEST_HOOKS for tests/unit/test_cli.sh only, then runs
 * with whatever attached when KPTWATCH_TEST_UNUSABLE is set: the verdict
 * is incomplete (3) at best. The shipped binary has no such switch.
 */
#ifdef KPT_TEST_HOOKS
#define test_unusable()	(getenv("KPTWATCH_TEST_UNUSABLE") != NULL)
#else
#define test_unusable()	false
#endif

/* Why --btf FILE could not be used, in one line. */
static void btf_error(const char *path, int err)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "kptwatch: --btf %s: %s\n", path, strerror(errno));
		return;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
		fprintf(stderr, "kptwatch: --btf %s: not a regular file\n", path);
	else if (err == -ENOMEM)
		fprintf(stderr, "kptwatch: --btf %s: %s\n", path, strerror(-err));
	else
		/* libbpf says ENOENT for an ELF file without .BTF, 4001 for text */
		fprintf(stderr, "kptwatch: --btf %s: no BTF in it (want raw BTF such as "
			"/sys/kernel/btf/vmlinux, or an ELF file with a .BTF section)\n", path);
	close(fd);
}

/* BTF, kallsyms and the memory layout: the plan's input. */
static int probe_kernel(struct plan_input *in, struct ksyms **ks, struct probe_info *pi)
{
	static struct utsname un;
	int err;

	err = plan_input_probe(in, env.btf_path, env.kprobes, ks, &pi->btf_source, env.verbose);
	if (err) {
		if (env.btf_path)
			btf_error(env.btf_path, err);
		else
			fprintf(stderr, "kptwatch: the kernel has no BTF "
				"(/sys/kernel/btf/vmlinux): give one with --btf FILE\n");
		return err;
	}
	if (!*ks)
		fprintf(stderr, "kptwatch: cannot read /proc/kallsyms: clones unresolved, "
			"stacks unsymbolized\n");
	uname(&un);
	pi->release = un.release;
	err = layout_probe(&in->layout, *ks, env.system_map, un.release);
	if (err) {
		fprintf(stderr, "kptwatch: cannot read --system-map %s: %s\n", env.system_map,
			strerror(-err));
		return err;
	}
	/* a map that was asked for and does not fit is a mistake, not a guess */
	if (env.system_map && in->layout.src == LAYOUT_UNKNOWN) {
		fprintf(stderr, "kptwatch: --system-map %s: %s\n", env.system_map, in->layout.why);
		return -EINVAL;
	}
	return 0;
}

/* Two FILEs on the same file: is the JUnit report going to stdout? */
static bool same_file(FILE *a, FILE *b)
{
	struct stat sa, sb;

	return !fstat(fileno(a), &sa) && !fstat(fileno(b), &sb) &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Output files are opened before anything is loaded or run: a path that
 * cannot be written is a usage error now, not a lost verdict at the end.
 * --junit /dev/stdout writes through stdout itself: a second open file
 * description would have an offset of its own and overwrite the report.
 * The metrics files are checked the same way (om_out_open).
 */
static int open_outputs(struct run *r)
{
	static const struct { const char *opt; enum om_dialect d; } om[] = {
		{ "--openmetrics", OM_OPENMETRICS }, { "--prom", OM_PROMETHEUS },
	};
	const char *om_path[] = { env.openmetrics, env.prom };
	char err[PATH_MAX + 64];

	for (size_t i = 0; i < sizeof(om) / sizeof(om[0]); i++) {
		if (om_path[i] && om_out_open(&r->om[om[i].d], om[i].opt, om_path[i], om[i].d,
					      err, sizeof(err))) {
			fprintf(stderr, "kptwatch: %s\n", err);
			return -1;
		}
	}
	if (!env.junit)
		return 0;
	r->junit = fopen(env.junit, "w");
	if (!r->junit) {
		fprintf(stderr, "kptwatch: --junit %s: %s\n", env.junit, strerror(errno));
		return -1;
	}
	if (same_file(r->junit, stdout)) {
		fclose(r->junit);
		r->junit = stdout;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kptwatch_bpf *skel = NULL;
	struct attach_state st = {};
	struct plan_input in;
	struct plan plan;
	struct probe_info pi = { .nlinks = -1 };
	struct ksyms *ks = NULL;
	bool want_ksyms;
	struct run r = { .env = &env, .rr = &rr };
	int err, code = EXIT_USAGE;

	if (env_parse(&env, argc, argv)) {
		fprintf(stderr, "kptwatch: %s\n", env.err);
		return EXIT_USAGE;
	}
	if (env.help) {
		env_usage(stdout, env.cmd);
		return EXIT_CLEAN;
	}
	if (env.version) {
		printf("kptwatch %s\n", KPT_VERSION);
		return EXIT_CLEAN;
	}
	if (open_outputs(&r)) {
		run_close(&r);
		return EXIT_USAGE;
	}
	/* a document on stdout is kept clean of COMMAND's output */
	r.cmd_stdout_to_stderr = env.json || r.junit == stdout ||
				 om_out_stdout(&r.om[OM_OPENMETRICS]) ||
				 om_out_stdout(&r.om[OM_PROMETHEUS]);
	run_signals();
	if (check_privileges()) {
		fprintf(stderr, "kptwatch: needs root (CAP_BPF and CAP_PERFMON): run with sudo\n");
		goto cleanup;
	}
	libbpf_set_print(libbpf_print_fn);
	if (probe_kernel(&in, &ks, &pi))
		goto cleanup;

	want_ksyms = ks;
	err = open_and_load(&skel, &in, &plan, &ks, &pi.loaded, pi.load_msg, sizeof(pi.load_msg));
	if (skel) {
		pi.nprogs = attach_nprogs(skel->obj);
		read_layout(skel, &plan);
	}

	if (env.cmd == CMD_PROBE) {
		code = !pi.loaded || !plan.usable ? EXIT_USAGE :
		       plan.complete ? EXIT_CLEAN : EXIT_INCOMPLETE;
		out_probe(stdout, env.json, &plan, &pi, code);
		goto cleanup;
	}
	if (err) {
		fprintf(stderr, "kptwatch: %s\n", pi.load_msg);
		goto cleanup;
	}
	if (!plan.usable && !test_unusable()) {
		fprintf(stderr, "kptwatch: nothing to watch on this kernel (%s shape): %s; "
			"'kptwatch probe' says why\n", shape_name(plan.shape),
			plan_coverage(&plan));
		goto cleanup;
	}

	if (plan.layout.src == LAYOUT_UNKNOWN)
		fprintf(stderr, "kptwatch: warning: memory layout unknown: %s\n", plan.layout.why);
	attach_plan(skel->obj, &plan, &st, env.verbose);
	if (st.reload && reload_all_twins(&skel, &in, &plan, &ks, want_ksyms, &pi, &st))
		goto cleanup;
	if (!plan.usable && (!test_unusable() || !st.nlinks)) {
		fprintf(stderr, "kptwatch: attaching failed: %s; 'kptwatch probe -v' says more\n",
			plan_coverage(&plan));
		goto cleanup;
	}
	pi.nlinks = st.nlinks;
	walk_tables(skel, &rr);
	if (env.verbose)
		out_probe(stderr, false, &plan, &pi, plan.usable ? plan.complete ? 0 : 3 : 2);
	fprintf(stderr, "kptwatch: %s shape, %d links; coverage %s\n", shape_name(plan.shape),
		st.nlinks, plan_coverage(&plan));
	/*
	 * kallsyms again, for the stacks: read now that the programs and
	 * trampolines they pass through are listed, and after the line that
	 * says the watch has begun (the load let go of the first reading).
	 */
	if (want_ksyms && !ks) {
		ks = ksyms_load("/proc/kallsyms");
		if (!ks)
			fprintf(stderr, "kptwatch: cannot read /proc/kallsyms again: %s; "
				"stacks unsymbolized\n", strerror(errno));
	}

	r.plan = &plan;
	r.ks = ks;
	r.maps = run_maps(skel);
	if (run_open(&r) || run_loop(&r))
		goto cleanup;
	/* a kprobe's missed count goes with its link: read before detaching */
	read_prog_misses(skel->obj, &st, &plan, &rr);
	/* detach first, so the maps stand still while they are read */
	attach_destroy(&st);
	run_collect(&r);
	code = run_report(&r);

cleanup:
	run_close(&r);
	attach_destroy(&st);
	kptwatch_bpf__destroy(skel);
	ksyms_free(ks);
	return code;
}

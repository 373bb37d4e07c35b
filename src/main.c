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
#include "kptwatch.skel.h"

static struct env env;
static volatile sig_atomic_t exiting;
static struct run_result rr;

struct ctx {
	struct kptwatch_bpf *skel;
	const struct ksyms *ks;
	__u64 t0;
};

static void sig_handler(int sig)
{
	exiting = sig;
}

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

static int handle_event(void *data_ctx, void *data, size_t size)
{
	struct ctx *c = data_ctx;
	const struct kpt_event *e = data;
	__u64 ips[KPT_STACK_DEPTH];
	int nips = 0;
	bool viol;

	if (size < sizeof(*e))
		return 0;
	viol = e->type == KPT_EV_VIOLATION || e->type == KPT_EV_RANGE_VIOLATION;
	if (viol)
		nips = read_stack(bpf_map__fd(c->skel->maps.stacks), e->stack_id, ips);
	if (viol && rr.nviols < KPT_MAX_VIOL) {
		struct viol *v = &rr.viols[rr.nviols++];

		v->ev = *e;
		memcpy(v->ips, ips, sizeof(ips));
		v->nips = nips;
	}
	if (env.cmd != CMD_TRACE)
		return 0;
	if (env.json)
		out_event_json(stdout, e, c->t0, ips, nips, c->ks);
	else
		out_event_text(stdout, e, c->t0, ips, nips, c->ks);
	return 0;
}

/*
 * Open, size, plan and load. If the kernel refuses fentry as a whole, plan
 * again without it; if one program fails, demote its point (fentry ->
 * kprobe, tp_btf -> raw_tp, else missing) and load again.
 */
static int open_and_load(struct kptwatch_bpf **out, struct plan_input *in, struct plan *p,
			 bool *loaded, char *msg, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = env.btf_path);
	struct kptwatch_bpf *skel;
	int err = 0;

	plan_build(in, p);
	for (int attempt = 0; attempt < 2 * PP_MAX; attempt++) {
		bool fentry = false;

		skel = kptwatch_bpf__open_opts(&opts);
		if (!skel) {
			err = -errno;
			snprintf(msg, len, "cannot open the BPF object: %s", strerror(-err));
			return err;
		}
		skel->rodata->emit_live = env.cmd == CMD_TRACE;
		skel->rodata->vmemmap_base_addr = p->layout.vmemmap_base_addr;
		skel->rodata->page_offset_base_addr = p->layout.page_offset_base_addr;
		bpf_map__set_max_entries(skel->maps.pending, env.max_pending);
		bpf_map__set_max_entries(skel->maps.events, env.ringbuf_size);
		attach_setup(skel->obj, p);
		failed_prog[0] = 0;
		err = kptwatch_bpf__load(skel);
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
			fprintf(stderr, "kptwatch: %s failed to load, demoting its point\n", failed_prog);
		if (!failed_prog[0] || plan_demote(p, failed_prog, err))
			break;
	}
	snprintf(msg, len, "loading the BPF programs failed: %s (run with -v for libbpf's log)",
		 strerror(-err));
	return err;
}

/* The layout bases the loaded programs will decode with; see layout_read. */
static void read_layout(struct kptwatch_bpf *skel, struct plan *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int fd = bpf_program__fd(skel->progs.layout_read);
	bool ran = fd >= 0 && !bpf_prog_test_run_opts(fd, &opts);

	layout_check(&p->layout, ran ? skel->bss->layout_vmemmap_base : 0,
		     ran ? skel->bss->layout_page_offset : 0);
	plan_finish(p);
}

static void read_results(struct kptwatch_bpf *skel)
{
	read_counters(bpf_map__fd(skel->maps.counters), rr.counters);
	read_hists(bpf_map__fd(skel->maps.hists), rr.hists);
}

static void print_interval(FILE *json, struct kptwatch_bpf *skel, struct kpt_hist *prev,
			   __u64 t, int n)
{
	struct kpt_hist d[KPT_M_MAX];
	struct jw w;

	read_results(skel);
	for (int m = 0; m < KPT_M_MAX; m++)
		hist_sub(&d[m], &rr.hists[m], &prev[m]);
	memcpy(prev, rr.hists, sizeof(rr.hists));
	if (json) {
		jw_init(&w, json);
		w.comma[0] = n > 0;
		jw_open(&w, NULL, '{');
		jw_u64(&w, "rel_ns", t);
		out_hists_json(&w, "metrics", d);
		jw_close(&w, '}');
		return;
	}
	{
		char hm[16];
		time_t now = time(NULL);

		strftime(hm, sizeof(hm), "%H:%M:%S", localtime(&now));
		printf("%s  interval %d, +%.3fs\n", hm, n + 1, t / 1e9);
	}
	out_hists_text(stdout, d);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct kptwatch_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct attach_state st = {};
	struct plan_input in;
	struct plan plan;
	struct probe_info pi = { .nlinks = -1 };
	struct ksyms *ks = NULL;
	struct kpt_hist prev[KPT_M_MAX] = {};
	struct verdict v;
	struct utsname un;
	struct ctx c = {};
	char *ivals = NULL;
	size_t ivals_len = 0;
	FILE *ivals_f = NULL;
	__u64 start, deadline = 0, next_ival = 0, settle = 0;
	pid_t child = 0;
	int err, code = EXIT_USAGE, nival = 0;

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
	/* from here on, SIGINT and SIGTERM end the run with its summary */
	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	if (check_privileges()) {
		fprintf(stderr, "kptwatch: needs root (CAP_BPF and CAP_PERFMON): run with sudo\n");
		return EXIT_USAGE;
	}
	libbpf_set_print(libbpf_print_fn);

	err = plan_input_probe(&in, env.btf_path, env.kprobes, &ks, &pi.btf_source, env.verbose);
	if (err) {
		if (env.btf_path)
			fprintf(stderr, "kptwatch: cannot read BTF from %s: %s\n", env.btf_path,
				strerror(-err));
		else
			fprintf(stderr, "kptwatch: the kernel has no BTF (/sys/kernel/btf/vmlinux): "
				"give one with --btf FILE\n");
		goto cleanup;
	}
	if (!ks)
		fprintf(stderr, "kptwatch: cannot read /proc/kallsyms: clones unresolved, "
			"stacks unsymbolized\n");
	uname(&un);
	pi.release = un.release;
	err = layout_probe(&in.layout, ks, env.system_map, un.release);
	if (err) {
		fprintf(stderr, "kptwatch: cannot read --system-map %s: %s\n", env.system_map,
			strerror(-err));
		goto cleanup;
	}
	/* a map that was asked for and does not fit is a mistake, not a guess */
	if (env.system_map && in.layout.src == LAYOUT_UNKNOWN) {
		fprintf(stderr, "kptwatch: --system-map %s: %s\n", env.system_map, in.layout.why);
		goto cleanup;
	}

	err = open_and_load(&skel, &in, &plan, &pi.loaded, pi.load_msg, sizeof(pi.load_msg));
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
	/*
	 * KPTWATCH_TEST_UNUSABLE=1 runs anyway with what did attach: only for
	 * tests of the run loop on a kernel like the build host's, where
	 * nothing but the page-free tracepoint attaches. The verdict is then
	 * incomplete (3), never clean.
	 */
	if (!plan.usable && !getenv("KPTWATCH_TEST_UNUSABLE")) {
		fprintf(stderr, "kptwatch: nothing to watch on this kernel (%s shape): %s; "
			"'kptwatch probe' says why\n", shape_name(plan.shape), plan_coverage(&plan));
		goto cleanup;
	}

	if (plan.layout.src == LAYOUT_UNKNOWN)
		fprintf(stderr, "kptwatch: warning: memory layout unknown: %s\n", plan.layout.why);
	attach_plan(skel->obj, &plan, &st, env.verbose);
	if (!plan.usable && (!getenv("KPTWATCH_TEST_UNUSABLE") || !st.nlinks)) {
		fprintf(stderr, "kptwatch: attaching failed: %s; 'kptwatch probe -v' says more\n",
			plan_coverage(&plan));
		goto cleanup;
	}
	pi.nlinks = st.nlinks;
	if (env.verbose)
		out_probe(stderr, false, &plan, &pi, plan.usable ? plan.complete ? 0 : 3 : 2);
	fprintf(stderr, "kptwatch: %s shape, %d links; coverage %s\n", shape_name(plan.shape),
		st.nlinks, plan_coverage(&plan));

	c.skel = skel;
	c.ks = ks;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, &c, NULL);
	if (!rb) {
		fprintf(stderr, "kptwatch: cannot open the ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	if (env.cmd == CMD_HIST && env.json && env.interval_ns)
		ivals_f = open_memstream(&ivals, &ivals_len);
	if (env.cmd == CMD_TRACE && !env.json)
		out_trace_header(stdout);

	start = c.t0 = rr.t0 = now_ns();
	if (env.duration_ns)
		deadline = start + env.duration_ns;
	if (env.interval_ns)
		next_ival = start + env.interval_ns;
	if (env.argv_cmd && !exiting) {
		child = cmd_start(env.argv_cmd, false, &rr);
		if (child < 0) {
			fprintf(stderr, "kptwatch: cannot start %s: %s\n", env.argv_cmd[0],
				strerror(errno));
			goto cleanup;
		}
		if (!child)
			settle = now_ns();
	}

	while (!exiting) {
		__u64 now;

		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "kptwatch: ring buffer: %s\n", strerror(-err));
			break;
		}
		now = now_ns();
		if (child > 0 && cmd_done(child, &rr)) {
			/* what it left in its group ends with it, as on a signal */
			if (cmd_reap_group(child, 5000))
				fprintf(stderr, "kptwatch: the command left processes behind; "
					"ended them\n");
			child = 0;
			settle = now;
		}
		/*
		 * After COMMAND, wait up to a second for the pages it queued
		 * to drain: the work item runs after the command returns.
		 */
		if (settle) {
			__u64 key;

			if (bpf_map_get_next_key(bpf_map__fd(skel->maps.pending), NULL, &key) ||
			    now - settle >= 1000000000ULL)
				break;
		}
		if (next_ival && now >= next_ival) {
			print_interval(ivals_f, skel, prev, now - start, nival++);
			next_ival += env.interval_ns;
			if (env.count && (__u64)nival >= env.count)
				break;
		}
		if (deadline && now >= deadline)
			break;
	}
	rr.interrupted = exiting != 0;
	if (child > 0) {
		/* interrupted: pass the signal on and collect the command */
		cmd_stop(child, exiting ? exiting : SIGTERM, 5000, &rr);
	}

	/* detach first, so the maps stand still while they are read */
	attach_destroy(&st);
	ring_buffer__consume(rb);
	rr.elapsed_ns = now_ns() - start;
	read_results(skel);
	read_pending(bpf_map__fd(skel->maps.pending), now_ns(), env.max_pending_age_ns, &rr);

	switch (env.cmd) {
	case CMD_TRACE: {
		struct verdict tv;

		verdict_compute(&env, &plan, &rr, &tv);
		if (env.json) {
			struct jw w;

			jw_init(&w, stdout);
			jw_open(&w, NULL, '{');
			jw_str(&w, "event", "summary");
			jw_u64(&w, "elapsed_ns", rr.elapsed_ns);
			out_counters_json(&w, "counters", rr.counters);
			out_pending_json(&w, &rr, 0);
			jw_close(&w, '}');
			jw_end(&w);
		} else {
			fprintf(stderr, "\n");
			out_counters_text(stderr, rr.counters);
			for (int i = 0; i < tv.n; i++)
				fprintf(stderr, "%s\n", tv.r[i].text);
		}
		code = EXIT_CLEAN;
		break;
	}
	case CMD_HIST:
		if (env.interval_ns && !env.json && (nival == 0 || rr.interrupted))
			print_interval(NULL, skel, prev, rr.elapsed_ns, nival++);
		if (ivals_f) {
			if (rr.interrupted || nival == 0)
				print_interval(ivals_f, skel, prev, rr.elapsed_ns, nival++);
			fclose(ivals_f);
			ivals_f = NULL;
		}
		if (env.json) {
			out_hist_json(stdout, &rr, ivals);
		} else if (!env.interval_ns) {
			char a[16];

			out_hists_text(stdout, rr.hists);
			out_counters_text(stdout, rr.counters);
			printf("pending at the end: %llu, oldest %s\n", (unsigned long long)rr.pending,
			       fmt_value(a, sizeof(a), rr.pending_oldest_ns, true));
		}
		code = EXIT_CLEAN;
		break;
	case CMD_CHECK:
		code = verdict_compute(&env, &plan, &rr, &v);
		out_check(stdout, env.json, &env, &plan, &rr, &v, ks);
		if (env.junit && out_junit(env.junit, &env, &plan, &rr, &v, ks)) {
			fprintf(stderr, "kptwatch: cannot write %s: %s\n", env.junit, strerror(errno));
			code = EXIT_USAGE;
		}
		break;
	default:
		break;
	}

cleanup:
	if (ivals_f)
		fclose(ivals_f);
	free(ivals);
	attach_destroy(&st);
	ring_buffer__free(rb);
	kptwatch_bpf__destroy(skel);
	ksyms_free(ks);
	return code;
}

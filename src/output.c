// SPDX-License-Identifier: GPL-2.0
/* Text, JSON and JUnit writers for probe, trace, hist and check. */
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include "hist.h"
#include "output.h"

char *term_str(char *dst, size_t len, const char *src, size_t n)
{
	size_t o = 0;

	n = strnlen(src, n);
	while (n && o + 1 < len) {
		unsigned char c = *src;
		__u32 cp;
		int l = utf8_seq(src, n, &cp);

		if ((l > 1 && cp >= 0xa0) || (l == 1 && c >= 0x20 && c < 0x7f)) {
			if (o + l >= len)
				break;
			memcpy(dst + o, src, l);
			o += l;
		} else {
			/* a control character or a byte of no valid sequence */
			l = l ? l : 1;
			for (int i = 0; i < l; i++) {
				if (o + 4 >= len)
					goto out;
				o += snprintf(dst + o, len - o, "\\x%02x", (unsigned char)src[i]);
			}
		}
		src += l;
		n -= l;
	}
out:
	dst[o < len ? o : len - 1] = 0;
	return dst;
}

char *sym_fmt(char *buf, size_t len, const struct ksyms *ks, __u64 addr)
{
	const struct ksym *k = ksyms_search(ks, addr);

	if (k)
		snprintf(buf, len, "%s+0x%llx", k->name, (unsigned long long)(addr - k->addr));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	return buf;
}

/* sym_fmt() for the terminal: a symbol name is bytes from the kernel. */
static char *sym_term(char *buf, size_t len, const struct ksyms *ks, __u64 addr)
{
	char raw[128];

	return term_str(buf, len, sym_fmt(raw, sizeof(raw), ks, addr), sizeof(raw));
}

/* ---- probe ---- */

void out_plan_json(struct jw *w, const char *key, const struct plan *p)
{
	char b[24], mb[320];

	jw_open(w, key, '{');
	jw_str(w, "shape", shape_name(p->shape));
	jw_bool(w, "kernel_btf", p->kernel_btf);
	jw_bool(w, "kprobes", p->kprobes);
	jw_i64(w, "fentry_error", p->fentry_err);
	jw_str(w, "preempt", p->preempt_desc);
	jw_bool(w, "usable", p->usable);
	jw_bool(w, "complete", p->complete);
	jw_bool(w, "rule_sound", p->rule_sound);
	jw_str(w, "coverage", plan_coverage(p));
	jw_str(w, "tables", plan_membership(p, mb, sizeof(mb)));
	jw_open(w, "layout", '{');
	jw_str(w, "source", layout_src_name(p->layout.src));
	jw_str(w, "detail", p->layout.why);
	snprintf(b, sizeof(b), "%#llx", (unsigned long long)p->layout.vmemmap_base);
	jw_str(w, "vmemmap_base", p->layout.vmemmap_base ? b : NULL);
	snprintf(b, sizeof(b), "%#llx", (unsigned long long)p->layout.page_offset_base);
	jw_str(w, "page_offset_base", p->layout.page_offset_base ? b : NULL);
	jw_close(w, '}');
	jw_open(w, "points", '[');
	for (int i = 0; i < PP_MAX; i++) {
		const struct plan_point *pt = &p->pts[i];

		jw_open(w, NULL, '{');
		jw_str(w, "func", pt->func);
		jw_str(w, "role", role_name(pt->role));
		jw_bool(w, "needed", pt->needed);
		jw_bool(w, "critical", pt->critical);
		jw_bool(w, "in_btf", pt->in_btf);
		jw_i64(w, "kallsyms", pt->nsyms);
		jw_str(w, "symbol", pt->sym);
		jw_open(w, "clones", '[');
		for (int c = 0; c < pt->nclones && c < KPT_MAX_CLONES; c++)
			jw_str(w, NULL, pt->clones[c]);
		jw_close(w, ']');
		jw_i64(w, "clones_total", pt->nclones);
		jw_bool(w, "partial", pt->partial);
		jw_str(w, "method", method_name(pt->method));
		jw_str(w, "why", pt->why[0] ? pt->why : NULL);
		jw_str(w, "cost", pt->method == METH_MISSING && pt->needed ? pt->cost : NULL);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static const char *found_str(const struct plan_point *pt, char *buf, size_t len)
{
	if (pt->role == ROLE_PAGE_FREE)
		snprintf(buf, len, "%s", pt->in_btf ? "btf" : "-");
	else if (!pt->in_btf && !pt->nsyms)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s%s%s", pt->in_btf ? "btf" : "",
			 pt->in_btf && pt->nsyms ? "," : "",
			 !pt->nsyms ? "" : strcmp(pt->sym, pt->func) ? "clone" : "ksym");
	return buf;
}

/*
 * Print text indented, wrapped at 80 columns on spaces. What it quotes
 * (symbol names, paths, reasons) can hold any byte: escape it first.
 */
static void wrap(FILE *f, int indent, int cont, const char *raw)
{
	char safe[4 * 320 + 1];
	const char *text = term_str(safe, sizeof(safe), raw, strlen(raw));
	int width = 80 - indent - 2;

	while (*text) {
		int n = strlen(text);

		if (n > width) {
			n = width;
			while (n > 0 && text[n] != ' ')
				n--;
			if (!n)
				n = width;
		}
		fprintf(f, "%*s%.*s\n", indent, "", n, text);
		text += n;
		while (*text == ' ')
			text++;
		indent = cont;
		width = 80 - indent - 2;
	}
}

/* Every JSON document opens the same way, so consumers can tell them apart. */
static void doc_open(struct jw *w, FILE *f, const char *command)
{
	jw_init(w, f);
	jw_open(w, NULL, '{');
	jw_str(w, "tool", "kptwatch");
	jw_str(w, "version", KPT_VERSION);
	jw_str(w, "command", command);
}

void out_probe(FILE *f, bool json, const struct plan *p, const struct probe_info *pi, int code)
{
	char fb[64], line[400], mb[320];

	if (json) {
		struct jw w;

		doc_open(&w, f, "probe");
		jw_str(&w, "kernel", pi->release);
		jw_str(&w, "btf", pi->btf_source);
		out_plan_json(&w, "plan", p);
		jw_bool(&w, "loaded", pi->loaded);
		jw_i64(&w, "programs", pi->nprogs);
		jw_str(&w, "load_error", pi->load_msg[0] ? pi->load_msg : NULL);
		jw_i64(&w, "exit_code", code);
		jw_close(&w, '}');
		jw_end(&w);
		return;
	}
	fprintf(f, "kernel:   %s\n", pi->release ? pi->release : "?");
	fprintf(f, "btf:      %s\n", pi->btf_source ? pi->btf_source : "none (try --btf FILE)");
	fprintf(f, "shape:    %s\n", shape_name(p->shape));
	snprintf(line, sizeof(line), "layout:   %s: %s", layout_src_name(p->layout.src),
		 p->layout.why);
	wrap(f, 0, 10, line);
	snprintf(line, sizeof(line), "tables:   %s", plan_membership(p, mb, sizeof(mb)));
	wrap(f, 0, 10, line);
	if (p->layout.vmemmap_base)
		fprintf(f, "          vmemmap_base %#llx, page_offset_base %#llx\n",
			(unsigned long long)p->layout.vmemmap_base,
			(unsigned long long)p->layout.page_offset_base);
	if (p->fentry_err) {
		plan_errstr(p->fentry_err, fb, sizeof(fb));
		snprintf(line, sizeof(line), "refused by the kernel: %s", fb);
	}
	if (!p->fentry_err && p->preempt == PREEMPT_FULL && p->kprobes)
		snprintf(line, sizeof(line), "not used: fully preemptible kernel (%s), "
			 "a preempted fentry program makes its next run on the CPU miss",
			 p->preempt_desc);
	else if (!p->fentry_err && p->preempt != PREEMPT_NO)
		snprintf(line, sizeof(line), "available; %s: runs it misses if a task is "
			 "preempted inside a program are counted", p->preempt_desc);
	fprintf(f, "fentry:   %s\n", p->force_kprobes ? "not used (--kprobes)" :
		!p->kernel_btf ? "impossible: the kernel has no BTF" :
		p->fentry_err || p->preempt != PREEMPT_NO ? line : "available");
	fprintf(f, "kprobes:  %s\n",
		p->kprobes ? "available" : "none (no kprobe PMU, no kprobe_events)");
	fprintf(f, "\n%-36s %-10s %-9s %s\n", "POINT", "ROLE", "FOUND", "ATTACH");
	for (int i = 0; i < PP_MAX; i++) {
		const struct plan_point *pt = &p->pts[i];
		bool absent = !pt->needed && pt->method == METH_MISSING;

		fprintf(f, "%-36s %-10s %-9s %s\n", pt->func, role_name(pt->role),
			found_str(pt, fb, sizeof(fb)), absent ? "-" : method_name(pt->method));
		if (absent)
			continue;
		if (pt->method == METH_KPROBE && strcmp(pt->sym, pt->func) && pt->nclones < 2) {
			snprintf(line, sizeof(line), "on %s", pt->sym);
			wrap(f, 2, 7, line);
		} else if ((pt->method == METH_KPROBE || pt->method == METH_FENTRY) &&
			   pt->nclones && p->kprobes) {
			int n = snprintf(line, sizeof(line), "clones, by kprobe:");

			for (int c = 0; c < pt->nclones && c < KPT_MAX_CLONES &&
					n < (int)sizeof(line); c++)
				n += snprintf(line + n, sizeof(line) - n, "%s %s", c ? "," : "",
					      pt->clones[c]);
			wrap(f, 2, 7, line);
		}
		if (pt->why[0]) {
			snprintf(line, sizeof(line), "why: %s", pt->why);
			wrap(f, 2, 7, line);
		}
		if (pt->needed && pt->method == METH_MISSING) {
			snprintf(line, sizeof(line), "cost: %s%s", pt->cost,
				 pt->critical ? "" : " (verdict unaffected)");
			wrap(f, 2, 7, line);
		}
	}
	fprintf(f, "(-: not in this kernel, and not part of the %s shape)\n", shape_name(p->shape));
	fprintf(f, "\nprograms: %s", pi->loaded ? "loaded and verified" : "not loaded");
	if (pi->loaded && pi->nlinks < 0)
		fprintf(f, " (%d, not attached)", pi->nprogs);
	else if (pi->loaded)
		fprintf(f, " (%d), %d links attached", pi->nprogs, pi->nlinks);
	if (pi->load_msg[0])
		fprintf(f, ": %s", pi->load_msg);
	fputc('\n', f);
	snprintf(line, sizeof(line), "coverage: %s", plan_coverage(p));
	wrap(f, 0, 10, line);
	if (pi->nlinks >= 0)
		return;
	fprintf(f, "verdict:  %s (exit %d)\n", code == EXIT_CLEAN ? "ready" :
		code == EXIT_INCOMPLETE ? "incomplete" : "cannot watch this kernel", code);
}

/* ---- events ---- */

static double rel_s(__u64 ts, __u64 t0)
{
	return ts >= t0 ? (ts - t0) / 1e9 : -((t0 - ts) / 1e9);
}

void out_trace_header(FILE *f)
{
	fprintf(f, "%-12s %-3s %-7s %-15s %-15s %s\n", "TIME(s)", "CPU", "PID", "COMM",
		"EVENT", "DETAILS");
}

static bool is_violation(const struct kpt_event *e)
{
	return e->type == KPT_EV_VIOLATION || e->type == KPT_EV_RANGE_VIOLATION;
}

/* One stack, a frame a line under the event, with a heading that says whose. */
static void stack_text(FILE *f, const char *whose, const __u64 *ips, int nips,
		       const struct ksyms *ks)
{
	char s[512];

	if (!nips)
		return;
	fprintf(f, "%-12s %s\n", "", whose);
	for (int i = 0; i < nips; i++)
		fprintf(f, "%-12s   %s\n", "", sym_term(s, sizeof(s), ks, ips[i]));
}

void out_event_text(FILE *f, const struct kpt_event *e, __u64 t0, const __u64 *ips, int nips,
		    const __u64 *q_ips, int nq_ips, const struct ksyms *ks)
{
	char a[16], b[160], comm[KPT_COMM_LEN * 4 + 1];

	switch (e->type) {
	case KPT_EV_ENQUEUE:
		snprintf(b, sizeof(b), "pfn 0x%llx order %u at %s depth %llu",
			 (unsigned long long)e->pfn, e->order, point_name(e->point),
			 (unsigned long long)e->value);
		break;
	case KPT_EV_DRAIN_BEGIN:
		b[0] = 0;
		break;
	case KPT_EV_DRAIN_END:
		snprintf(b, sizeof(b), "pages %llu took %s", (unsigned long long)e->value,
			 fmt_value(a, sizeof(a), e->ts - e->q_ts, true));
		break;
	case KPT_EV_INVAL_BEGIN:
		snprintf(b, sizeof(b), "range 0x%llx-0x%llx seq %llu",
			 (unsigned long long)e->range_start, (unsigned long long)e->range_end,
			 (unsigned long long)e->value);
		break;
	case KPT_EV_INVAL_END:
		snprintf(b, sizeof(b), "range 0x%llx-0x%llx took %s",
			 (unsigned long long)e->range_start, (unsigned long long)e->range_end,
			 fmt_value(a, sizeof(a), e->value, true));
		break;
	default:
		snprintf(b, sizeof(b), "pfn 0x%llx order %u from %s after %s%s",
			 (unsigned long long)e->pfn, e->order, point_name(e->point),
			 fmt_value(a, sizeof(a), e->value, true),
			 e->type == KPT_EV_VIOLATION ? ": NOT FLUSHED" :
			 e->type == KPT_EV_RANGE_VIOLATION ? ": range missed its VA" : "");
	}
	/* a task name is user data: no raw control bytes on the terminal */
	term_str(comm, sizeof(comm), e->comm, KPT_COMM_LEN);
	fprintf(f, "%-12.6f %-3u %-7u %-15s %-15s %s\n", rel_s(e->ts, t0), e->cpu, e->pid,
		comm, event_name(e->type), b);
	if (e->type == KPT_EV_RANGE_VIOLATION || (e->type == KPT_EV_VIOLATION && e->va_end))
		fprintf(f, "%-12s va 0x%llx-0x%llx last range 0x%llx-0x%llx\n", "",
			(unsigned long long)e->va_start, (unsigned long long)e->va_end,
			(unsigned long long)e->range_start, (unsigned long long)e->range_end);
	if (!is_violation(e)) {
		stack_text(f, "stack:", ips, nips, ks);
		return;
	}
	if (nips < 0) {
		fprintf(f, "%-12s stacks: when the trace ends\n", "");
		return;
	}
	stack_text(f, "freed by:", ips, nips, ks);
	stack_text(f, "handed over (q(P)) by:", q_ips, nq_ips, ks);
	if (!nips)
		fprintf(f, "%-12s no stack of the free (stack id %d)\n", "", e->stack_id);
	if (!nq_ips && e->q_stack_id == KPT_STACK_NONE)
		fprintf(f, "%-12s handed over (q(P)) at %s: stack not recorded "
			"(--handover-stacks)\n", "", point_name(e->point));
	else if (!nq_ips)
		fprintf(f, "%-12s no stack of the hand-over (stack id %d)\n", "", e->q_stack_id);
}

static void stack_json(struct jw *w, const char *key, const __u64 *ips, int nips,
		       const struct ksyms *ks)
{
	char s[128];

	jw_open(w, key, '[');
	for (int i = 0; i < nips; i++)
		jw_str(w, NULL, sym_fmt(s, sizeof(s), ks, ips[i]));
	jw_close(w, ']');
}

static void event_fields(struct jw *w, const struct kpt_event *e, __u64 t0, const __u64 *ips,
			 int nips, const __u64 *q_ips, int nq_ips, const struct ksyms *ks)
{
	char comm[KPT_COMM_LEN + 1];

	memcpy(comm, e->comm, KPT_COMM_LEN);
	comm[KPT_COMM_LEN] = 0;
	jw_str(w, "event", event_name(e->type));
	jw_u64(w, "ts_ns", e->ts);
	jw_i64(w, "rel_ns", (long long)(e->ts - t0));
	jw_u64(w, "cpu", e->cpu);
	jw_u64(w, "pid", e->pid);
	jw_str(w, "comm", comm);
	switch (e->type) {
	case KPT_EV_DRAIN_BEGIN:
		break;
	case KPT_EV_DRAIN_END:
		jw_u64(w, "pages", e->value);
		jw_u64(w, "dur_ns", e->ts - e->q_ts);
		break;
	case KPT_EV_INVAL_BEGIN:
	case KPT_EV_INVAL_END:
		jw_hex(w, "range_start", e->range_start);
		jw_hex(w, "range_end", e->range_end);
		if (e->type == KPT_EV_INVAL_END)
			jw_u64(w, "dur_ns", e->value);
		else
			jw_u64(w, "seq", e->value);
		break;
	default:
		jw_hex(w, "pfn", e->pfn);
		jw_u64(w, "order", e->order);
		jw_str(w, "point", point_name(e->point));
		jw_u64(w, "q_ts_ns", e->q_ts);
		if (e->type == KPT_EV_ENQUEUE)
			jw_u64(w, "depth", e->value);
		else
			jw_u64(w, "latency_ns", e->value);
		jw_hex(w, "va_start", e->va_start);
		jw_hex(w, "va_end", e->va_end);
		if (e->type != KPT_EV_ENQUEUE) {
			jw_hex(w, "range_start", e->range_start);
			jw_hex(w, "range_end", e->range_end);
		}
		jw_i64(w, "stack_id", e->stack_id);
		jw_i64(w, "q_stack_id", e->q_stack_id);
	}
	/*
	 * "stack": the free's; "q_stack": the hand-over's, for a violation.
	 * nips < 0: not read yet, they follow in a "stacks" record.
	 */
	if (nips < 0)
		return;
	if (nips || is_violation(e))
		stack_json(w, "stack", ips, nips, ks);
	if (is_violation(e))
		stack_json(w, "q_stack", q_ips, nq_ips, ks);
}

void out_event_json(FILE *f, const struct kpt_event *e, __u64 t0, const __u64 *ips, int nips,
		    const __u64 *q_ips, int nq_ips, const struct ksyms *ks)
{
	struct jw w;

	jw_init(&w, f);
	jw_open(&w, NULL, '{');
	event_fields(&w, e, t0, ips, nips, q_ips, nq_ips, ks);
	jw_close(&w, '}');
	jw_end(&w);
}

void out_viols_text(FILE *f, const struct run_result *rr, const struct ksyms *ks)
{
	for (int i = 0; i < rr->nviols; i++)
		out_event_text(f, &rr->viols[i].ev, rr->t0, rr->viols[i].ips, rr->viols[i].nips,
			       rr->viols[i].q_ips, rr->viols[i].nq_ips, ks);
}

void out_stacks_json(FILE *f, const struct viol *v, __u64 t0, const struct ksyms *ks)
{
	struct jw w;

	jw_init(&w, f);
	jw_open(&w, NULL, '{');
	jw_str(&w, "event", "stacks");
	jw_str(&w, "of", event_name(v->ev.type));
	jw_u64(&w, "ts_ns", v->ev.ts);
	jw_i64(&w, "rel_ns", (long long)(v->ev.ts - t0));
	jw_hex(&w, "pfn", v->ev.pfn);
	stack_json(&w, "stack", v->ips, v->nips, ks);
	stack_json(&w, "q_stack", v->q_ips, v->nq_ips, ks);
	jw_close(&w, '}');
	jw_end(&w);
}

/* ---- histograms and counters ---- */

void out_hists_text(FILE *f, const struct kpt_hist *hists)
{
	for (int m = 0; m < KPT_M_MAX; m++)
		hist_print(f, metric_name(m), &hists[m], metric_is_ns(m));
}

void out_hists_json(struct jw *w, const char *key, const struct kpt_hist *hists)
{
	jw_open(w, key, '[');
	for (int m = 0; m < KPT_M_MAX; m++) {
		const struct kpt_hist *h = &hists[m];

		jw_open(w, NULL, '{');
		jw_str(w, "name", metric_name(m));
		jw_str(w, "unit", metric_is_ns(m) ? "ns" : "pages");
		jw_u64(w, "count", h->count);
		jw_u64(w, "sum", h->sum);
		jw_u64(w, "avg", h->count ? h->sum / h->count : 0);
		jw_u64(w, "p50", hist_percentile(h, 50));
		jw_u64(w, "p90", hist_percentile(h, 90));
		jw_u64(w, "p99", hist_percentile(h, 99));
		jw_u64(w, "max", h->max);
		jw_open(w, "slots", '[');
		for (__u32 i = 0; i < KPT_HIST_SLOTS; i++) {
			if (!h->slots[i])
				continue;
			jw_open(w, NULL, '{');
			jw_u64(w, "lo", kpt_hist_slot_lo(i));
			jw_u64(w, "hi", hist_slot_hi(i) - 1);
			jw_u64(w, "count", h->slots[i]);
			jw_close(w, '}');
		}
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

void out_counters_json(struct jw *w, const char *key, const __u64 *c)
{
	char b[64];

	jw_open(w, key, '{');
	for (int i = 0; i < KPT_C_MAX; i++)
		if (i != KPT_C_POINT_BASE + KPT_PT_NONE)
			jw_u64(w, counter_name(i, b, sizeof(b)), c[i]);
	jw_close(w, '}');
}

void out_counters_text(FILE *f, const __u64 *c)
{
	char b[64];
	int col = 0;

	fprintf(f, "counters:\n");
	for (int i = 0; i < KPT_C_MAX; i++) {
		if (i == KPT_C_POINT_BASE + KPT_PT_NONE || (i >= KPT_C_POINT_BASE && !c[i]))
			continue;
		col += fprintf(f, "  %s %llu", counter_name(i, b, sizeof(b)),
			       (unsigned long long)c[i]);
		if (col > 60) {
			fputc('\n', f);
			col = 0;
		}
	}
	if (col)
		fputc('\n', f);
}

void out_pending_json(struct jw *w, const struct run_result *rr, __u64 max_age)
{
	jw_open(w, "pending", '{');
	jw_u64(w, "count", rr->pending);
	jw_u64(w, "oldest_ns", rr->pending_oldest_ns);
	jw_u64(w, "over_age", rr->pending_over_age);
	if (max_age)
		jw_u64(w, "max_age_ns", max_age);
	else
		jw_null(w, "max_age_ns");
	jw_close(w, '}');
}

/* "coverage", "incomplete" and its reasons, for hist's documents */
static void incomplete_json(struct jw *w, const struct plan *p, const struct verdict *v)
{
	bool incomplete = p && !p->complete;

	for (int i = 0; v && i < v->n; i++)
		incomplete |= v->r[i].kind == R_INCOMPLETE;
	jw_str(w, "coverage", p ? plan_coverage(p) : NULL);
	jw_bool(w, "incomplete", incomplete);
	jw_open(w, "incomplete_reasons", '[');
	for (int i = 0; v && i < v->n; i++)
		if (v->r[i].kind == R_INCOMPLETE)
			jw_str(w, NULL, v->r[i].text);
	jw_close(w, ']');
}

void out_incomplete_text(FILE *f, const struct verdict *v)
{
	char line[sizeof(v->r[0].text) + 16];

	for (int i = 0; i < v->n; i++) {
		if (v->r[i].kind != R_INCOMPLETE)
			continue;
		snprintf(line, sizeof(line), "incomplete: %s", v->r[i].text);
		wrap(f, 0, 12, line);
	}
}

void out_hist_json(FILE *f, const struct run_result *rr, const struct plan *p,
		   const struct verdict *v)
{
	struct jw w;

	doc_open(&w, f, "hist");
	jw_u64(&w, "elapsed_ns", rr->elapsed_ns);
	jw_bool(&w, "interrupted", rr->interrupted);
	incomplete_json(&w, p, v);
	out_hists_json(&w, "metrics", rr->hists);
	out_counters_json(&w, "counters", rr->counters);
	out_pending_json(&w, rr, 0);
	jw_close(&w, '}');
	jw_end(&w);
}

static __u64 iv_violations(const struct hist_interval *iv)
{
	return iv->counters[KPT_C_VIOLATION] + iv->counters[KPT_C_RANGE_VIOLATION];
}

/* Lost events, unread maps: this interval's figures are not all there. */
static bool iv_lost(const struct hist_interval *iv)
{
	return iv->counters[KPT_C_RB_DROP] || iv->counters[KPT_C_MAP_FULL] || iv->read_errors;
}

/* ... nor are they when the plan misses a critical point or the layout */
static bool iv_incomplete(const struct hist_interval *iv)
{
	return iv_lost(iv) || !iv->plan_complete;
}

void out_interval_text(FILE *f, const struct hist_interval *iv)
{
	char hm[16];
	time_t now = time(NULL);

	strftime(hm, sizeof(hm), "%H:%M:%S", localtime(&now));
	fprintf(f, "%s  interval %d, +%.3fs\n", hm, iv->n, iv->rel_ns / 1e9);
	out_hists_text(f, iv->hists);
	fprintf(f, "drops %llu  map_full %llu  violations %llu%s%s%s\n",
		(unsigned long long)iv->counters[KPT_C_RB_DROP],
		(unsigned long long)iv->counters[KPT_C_MAP_FULL],
		(unsigned long long)iv_violations(iv),
		iv->read_errors ? "  map reads failed" : "",
		iv_incomplete(iv) ? "  INCOMPLETE" : "",
		!iv->plan_complete ? " (coverage)" : iv_lost(iv) ? " (events lost)" : "");
	fflush(f);
}

void out_interval_json(FILE *f, const struct hist_interval *iv)
{
	struct jw w;

	doc_open(&w, f, "hist");
	jw_str(&w, "event", "interval");
	jw_i64(&w, "interval", iv->n);
	jw_u64(&w, "rel_ns", iv->rel_ns);
	jw_u64(&w, "dur_ns", iv->dur_ns);
	jw_u64(&w, "drops", iv->counters[KPT_C_RB_DROP]);
	jw_u64(&w, "map_full", iv->counters[KPT_C_MAP_FULL]);
	jw_u64(&w, "violations", iv_violations(iv));
	jw_i64(&w, "read_errors", iv->read_errors);
	jw_bool(&w, "incomplete", iv_incomplete(iv));
	jw_str(&w, "coverage", iv->coverage);
	out_hists_json(&w, "metrics", iv->hists);
	out_counters_json(&w, "counters", iv->counters);
	jw_close(&w, '}');
	jw_end(&w);	/* a newline and a flush: one line per interval, as it ends */
}

void out_hist_summary_json(FILE *f, const struct run_result *rr, int nintervals,
			   const struct plan *p, const struct verdict *v)
{
	struct jw w;

	doc_open(&w, f, "hist");
	jw_str(&w, "event", "summary");
	jw_i64(&w, "intervals", nintervals);
	jw_u64(&w, "elapsed_ns", rr->elapsed_ns);
	jw_bool(&w, "interrupted", rr->interrupted);
	jw_u64(&w, "drops", rr->counters[KPT_C_RB_DROP]);
	jw_u64(&w, "map_full", rr->counters[KPT_C_MAP_FULL]);
	jw_u64(&w, "violations", rr->counters[KPT_C_VIOLATION] +
	       rr->counters[KPT_C_RANGE_VIOLATION]);
	jw_i64(&w, "read_errors", rr->read_errors);
	incomplete_json(&w, p, v);
	out_hists_json(&w, "metrics", rr->hists);
	out_counters_json(&w, "counters", rr->counters);
	out_pending_json(&w, rr, 0);
	jw_close(&w, '}');
	jw_end(&w);
}

/* ---- check ---- */

const char *const reason_kinds[] = { "fail", "incomplete", "note" };

void out_check(FILE *f, bool json, const struct env *env, const struct plan *p,
	       const struct run_result *rr, const struct verdict *v, const struct ksyms *ks)
{
	char b[96];

	if (json) {
		struct jw w;

		doc_open(&w, f, "check");
		jw_str(&w, "verdict", verdict_name(v->code));
		jw_i64(&w, "exit_code", v->code);
		jw_u64(&w, "elapsed_ns", rr->elapsed_ns);
		jw_bool(&w, "interrupted", rr->interrupted);
		jw_open(&w, "reasons", '[');
		for (int i = 0; i < v->n; i++) {
			jw_open(&w, NULL, '{');
			jw_str(&w, "kind", reason_kinds[v->r[i].kind]);
			jw_str(&w, "text", v->r[i].text);
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
		jw_u64(&w, "violations_total", rr->counters[KPT_C_VIOLATION] +
		       rr->counters[KPT_C_RANGE_VIOLATION]);
		jw_open(&w, "violations", '[');
		for (int i = 0; i < rr->nviols; i++) {
			jw_open(&w, NULL, '{');
			const struct viol *vi = &rr->viols[i];

			event_fields(&w, &vi->ev, rr->t0, vi->ips, vi->nips, vi->q_ips, vi->nq_ips,
				     ks);
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
		out_pending_json(&w, rr, env->max_pending_age_ns);
		jw_open(&w, "limits", '{');
		for (int m = 0; m < KPT_LAT_METRICS; m++)
			if (env->max_ns[m])
				jw_u64(&w, metric_name(m), env->max_ns[m]);
		jw_close(&w, '}');
		if (rr->cmd_ran) {
			jw_open(&w, "command_run", '{');
			jw_open(&w, "argv", '[');
			for (char **a = env->argv_cmd; a && *a; a++)
				jw_str(&w, NULL, *a);
			jw_close(&w, ']');
			jw_str(&w, "status", cmd_status_str(rr, b, sizeof(b)));
			if (!rr->cmd_errno && WIFEXITED(rr->cmd_status))
				jw_i64(&w, "exit_code", WEXITSTATUS(rr->cmd_status));
			else
				jw_null(&w, "exit_code");
			jw_bool(&w, "failed", cmd_failed(rr));
			jw_close(&w, '}');
		}
		if (p)
			out_plan_json(&w, "plan", p);
		out_hists_json(&w, "metrics", rr->hists);
		out_counters_json(&w, "counters", rr->counters);
		jw_close(&w, '}');
		jw_end(&w);
		return;
	}
	out_viols_text(f, rr, ks);
	if (rr->nviols)
		fputc('\n', f);
	out_hists_text(f, rr->hists);
	out_counters_text(f, rr->counters);
	if (rr->cmd_ran)
		fprintf(f, "command: %s\n", cmd_status_str(rr, b, sizeof(b)));
	if (p)
		fprintf(f, "shape: %s; coverage: %s\n", shape_name(p->shape), plan_coverage(p));
	for (int i = 0; i < v->n; i++) {
		char t[sizeof(v->r[i].text) * 4];

		/* a reason can quote a symbol or program name: bytes from the kernel */
		fprintf(f, "%-10s %s\n", reason_kinds[v->r[i].kind],
			term_str(t, sizeof(t), v->r[i].text, sizeof(v->r[i].text)));
	}
	fprintf(f, "verdict: %s (exit %d)\n", verdict_name(v->code), v->code);
}

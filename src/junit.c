// SPDX-License-Identifier: GPL-2.0
/*
 * JUnit XML for check: one test case per promise the run can break
 * (no violation, no range violation, complete, pending drained, each
 * --max limit, the command), failed with the verdict's reasons and the
 * violations' stacks.
 */
#include <string.h>
#include "output.h"

/*
 * Text into XML 1.0: the markup characters as entities, valid UTF-8 as it
 * is, and what XML cannot hold (control characters, bytes that are no
 * valid UTF-8 such as a comm of "k\xff\xfe", U+FFFE/U+FFFF) as the text
 * \xNN per byte, so the report always parses and nothing is dropped.
 */
static void xml_str(FILE *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n) {
		unsigned char c = *s;
		__u32 cp;
		int len = utf8_seq(s, n, &cp);

		if (len > 1 && cp >= 0xa0 && cp != 0xfffe && cp != 0xffff) {
			fwrite(s, 1, len, f);
		} else if (len > 1) {
			for (int i = 0; i < len; i++)
				fprintf(f, "\\x%02x", (unsigned char)s[i]);
		} else {
			switch (c) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&apos;", f); break;
			default:
				if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t')
					fputc(c, f);
				else
					fprintf(f, "\\x%02x", c);
			}
		}
		len = len ? len : 1;
		s += len;
		n -= len;
	}
}

static void xml_stack(FILE *f, const char *whose, const __u64 *ips, int nips,
		      const struct ksyms *ks)
{
	char s[128];

	if (!nips)
		return;
	fprintf(f, "\n  %s", whose);
	for (int j = 0; j < nips; j++) {
		fputs("\n    ", f);
		xml_str(f, sym_fmt(s, sizeof(s), ks, ips[j]));
	}
}

struct jcase {
	char name[48];
	bool failed;
	char msg[512];
};

static void jcase_add(struct jcase *cases, int *n, const char *name, enum reason_kind kind,
		      const struct verdict *v, const char *prefix)
{
	struct jcase *c = &cases[(*n)++];

	snprintf(c->name, sizeof(c->name), "%s", name);
	c->failed = false;
	c->msg[0] = 0;
	for (int i = 0; i < v->n; i++) {
		const char *t = v->r[i].text;

		/* "^x": the reason starts with x; else x anywhere in it */
		if (v->r[i].kind != kind || (prefix && (prefix[0] == '^' ?
		    strncmp(t, prefix + 1, strlen(prefix + 1)) : !strstr(t, prefix))))
			continue;
		c->failed = true;
		strncat(c->msg, v->r[i].text, sizeof(c->msg) - strlen(c->msg) - 2);
		strcat(c->msg, "\n");
	}
}

int out_junit(FILE *f, const struct env *env, const struct plan *p,
	      const struct run_result *rr, const struct verdict *v, const struct ksyms *ks)
{
	struct jcase cases[4 + KPT_LAT_METRICS + 2];
	int n = 0, failures = 0;
	char name[48], needle[48];
	double t = rr->elapsed_ns / 1e9;

	jcase_add(cases, &n, "no_violation", R_FAIL, v, "before an IOMMU flush");
	jcase_add(cases, &n, "no_range_violation", R_FAIL, v, "ranges not covering");
	jcase_add(cases, &n, "complete", R_INCOMPLETE, v, NULL);
	jcase_add(cases, &n, "pending_drained", R_FAIL, v, "still pending");
	for (int m = 0; m < KPT_LAT_METRICS; m++) {
		if (!env->max_ns[m])
			continue;
		snprintf(name, sizeof(name), "max_%s", metric_name(m));
		snprintf(needle, sizeof(needle), "^%s max ", metric_name(m));
		jcase_add(cases, &n, name, R_FAIL, v, needle);
	}
	if (rr->cmd_ran)
		jcase_add(cases, &n, "command", R_FAIL, v, "^command ");
	for (int i = 0; i < n; i++)
		failures += cases[i].failed;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"kptwatch\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
		"time=\"%.3f\">\n",
		n, failures, t);
	fprintf(f, "  <testsuite name=\"kptwatch.check\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
		"skipped=\"0\" time=\"%.3f\">\n", n, failures, t);
	fprintf(f, "    <properties>\n");
	fprintf(f, "      <property name=\"version\" value=\"");
	xml_str(f, KPT_VERSION);
	fprintf(f, "\"/>\n      <property name=\"verdict\" value=\"%s\"/>\n",
		verdict_name(v->code));
	fprintf(f, "      <property name=\"exit_code\" value=\"%d\"/>\n", v->code);
	if (p) {
		fprintf(f, "      <property name=\"shape\" value=\"%s\"/>\n", shape_name(p->shape));
		fprintf(f, "      <property name=\"coverage\" value=\"");
		xml_str(f, plan_coverage(p));
		fprintf(f, "\"/>\n");
	}
	fprintf(f, "    </properties>\n");
	for (int i = 0; i < n; i++) {
		fprintf(f, "    <testcase classname=\"kptwatch.check\" name=\"%s\" time=\"%.3f\"",
			cases[i].name, t);
		if (!cases[i].failed) {
			fprintf(f, "/>\n");
			continue;
		}
		fprintf(f, ">\n      <failure type=\"%s\" message=\"", cases[i].name);
		{
			char first[sizeof(cases[i].msg)];

			snprintf(first, sizeof(first), "%.*s", (int)strcspn(cases[i].msg, "\n"),
				 cases[i].msg);
			xml_str(f, first);
		}
		fprintf(f, "\">");
		xml_str(f, cases[i].msg);
		if (!strcmp(cases[i].name, "no_violation") ||
		    !strcmp(cases[i].name, "no_range_violation")) {
			for (int k = 0; k < rr->nviols; k++) {
				const struct viol *vi = &rr->viols[k];
				char s[128];

				if ((vi->ev.type == KPT_EV_VIOLATION) != (i == 0))
					continue;
				fprintf(f, "\npfn 0x%llx order %u from %s pid %u cpu %u comm ",
					(unsigned long long)vi->ev.pfn, vi->ev.order,
					point_name(vi->ev.point), vi->ev.pid, vi->ev.cpu);
				snprintf(s, sizeof(s), "%.*s", KPT_COMM_LEN, vi->ev.comm);
				xml_str(f, s);
				xml_stack(f, "freed by:", vi->ips, vi->nips, ks);
				xml_stack(f, "handed over (q(P)) by:", vi->q_ips, vi->nq_ips, ks);
			}
		}
		fprintf(f, "</failure>\n    </testcase>\n");
	}
	fprintf(f, "    <system-out>");
	for (int i = 0; i < v->n; i++) {
		xml_str(f, reason_kinds[v->r[i].kind]);
		fputs(": ", f);
		xml_str(f, v->r[i].text);
		fputc('\n', f);
	}
	fprintf(f, "verdict: %s</system-out>\n  </testsuite>\n</testsuites>\n",
		verdict_name(v->code));
	return fflush(f) || ferror(f) ? -1 : 0;
}

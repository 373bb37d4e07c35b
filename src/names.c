// SPDX-License-Identifier: GPL-2.0
/* The name tables, expanded from the lists in include/kptwatch.h. */
#include <stdio.h>
#include <string.h>
#include "names.h"

#define N_PT(id, name, kind)	[KPT_PT_##id] = name,
#define K_PT(id, name, kind)	[KPT_PT_##id] = kind,
#define N_M(id, name, what)	[KPT_M_##id] = name,
#define W_M(id, name, what)	[KPT_M_##id] = what,
#define N_C(id, name, what)	[KPT_C_##id] = name,
#define W_C(id, name, what)	[KPT_C_##id] = what,
#define N_EV(id, name)		[KPT_EV_##id] = name,

static const char *const points[KPT_PT_MAX] = { KPT_POINTS(N_PT) };
static const char *const point_kinds[KPT_PT_MAX] = { KPT_POINTS(K_PT) };
static const char *const metrics[KPT_M_MAX] = { KPT_METRICS(N_M) };
static const char *const metrics_what[KPT_M_MAX] = { KPT_METRICS(W_M) };
static const char *const counters[KPT_C_POINT_BASE] = { KPT_COUNTERS(N_C) };
static const char *const counters_what[KPT_C_POINT_BASE] = { KPT_COUNTERS(W_C) };
static const char *const events[KPT_EV_MAX] = { KPT_EVENTS(N_EV) };

const char *point_name(int pt)
{
	return pt >= 0 && pt < KPT_PT_MAX ? points[pt] : "?";
}

const char *point_kind(int pt)
{
	return pt >= 0 && pt < KPT_PT_MAX ? point_kinds[pt] : "?";
}

const char *metric_name(int m)
{
	return m >= 0 && m < KPT_M_MAX ? metrics[m] : "?";
}

const char *metric_what(int m)
{
	return m >= 0 && m < KPT_M_MAX ? metrics_what[m] : "?";
}

int metric_by_name(const char *name)
{
	for (int m = 0; m < KPT_M_MAX; m++)
		if (!strcmp(name, metrics[m]))
			return m;
	return -1;
}

const char *counter_name(int c, char *buf, size_t len)
{
	if (c >= 0 && c < KPT_C_POINT_BASE)
		return counters[c];
	snprintf(buf, len, "point.%s", point_name(c - KPT_C_POINT_BASE));
	return buf;
}

const char *counter_what(int c)
{
	if (c >= 0 && c < KPT_C_POINT_BASE)
		return counters_what[c];
	return "pages seen at this point";
}

const char *event_name(int type)
{
	return type > 0 && type < KPT_EV_MAX ? events[type] : "?";
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Names of points, metrics, counters and events: include/kptwatch.h's lists. */
#ifndef KPT_NAMES_H
#define KPT_NAMES_H

#include <stddef.h>
#include <linux/types.h>
#include "kptwatch.h"

const char *point_name(int point);
/* "enqueue" or "free": the role a point plays in the rule. */
const char *point_kind(int point);
const char *metric_name(int metric);
const char *metric_what(int metric);
int metric_by_name(const char *name);
/* "queued", ..., "point.<function>" past KPT_C_POINT_BASE */
const char *counter_name(int c, char *buf, size_t len);
const char *counter_what(int c);
const char *event_name(int type);

#endif

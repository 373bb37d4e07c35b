/* SPDX-License-Identifier: GPL-2.0 */
/* check -- COMMAND: start, poll and stop the workload. */
#ifndef KPT_COMMAND_H
#define KPT_COMMAND_H

#include <sys/types.h>
#include "report.h"

/*
 * Start argv. Returns its pid; 0 when it could not be executed (the reason
 * is in rr->cmd_errno, rr->cmd_ran is set); -1 when fork failed.
 */
pid_t cmd_start(char **argv, struct run_result *rr);
/* True once pid has ended; its status is in rr. */
bool cmd_done(pid_t pid, struct run_result *rr);
/* Send sig, wait; SIGKILL after grace_ms if it does not end. */
void cmd_stop(pid_t pid, int sig, int grace_ms, struct run_result *rr);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* check -- COMMAND: start, poll and stop the workload. */
#ifndef KPT_COMMAND_H
#define KPT_COMMAND_H

#include <stdbool.h>
#include <sys/types.h>
#include "report.h"

/*
 * Start argv in a process group of its own (pgid == pid). With
 * stdout_to_stderr the command's stdout is kptwatch's stderr, so that a
 * machine-readable document on kptwatch's stdout stays clean. Returns its
 * pid; 0 when it could not be executed (the reason is in rr->cmd_errno,
 * rr->cmd_ran is set); -1 when fork failed.
 */
pid_t cmd_start(char **argv, bool stdout_to_stderr, struct run_result *rr);
/* True once pid has ended; its status is in rr. */
bool cmd_done(pid_t pid, struct run_result *rr);
/*
 * Send sig to the command's whole process group and wait for the command;
 * SIGKILL the group after grace_ms if it does not end. What is left in the
 * group once the command has ended gets the same treatment.
 */
void cmd_stop(pid_t pid, int sig, int grace_ms, struct run_result *rr);
/*
 * The command has ended by itself: end what it left running in its group
 * (SIGTERM, SIGKILL after grace_ms). Returns how many were still there.
 */
int cmd_reap_group(pid_t pgid, int grace_ms);

#endif

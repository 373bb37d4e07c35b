// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of check. It starts only after everything is attached, in
 * kptwatch's process group (Ctrl-C reaches both), and dies with kptwatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "command.h"

pid_t cmd_start(char **argv, struct run_result *rr)
{
	sigset_t block, old;
	int pfd[2], e = 0;
	pid_t pid;

	/* an exec failure comes back through a CLOEXEC pipe */
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	/* a signal between fork and exec must not run our handler in the child */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		/* should kptwatch die unexpectedly, the workload goes too */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[0], argv);
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pfd[1]);
	if (pid > 0 && read(pfd[0], &e, sizeof(e)) == sizeof(e)) {
		rr->cmd_errno = e;
		waitpid(pid, &rr->cmd_status, 0);
		rr->cmd_ran = true;
		pid = 0;
	}
	close(pfd[0]);
	if (pid < 0)
		errno = e;
	return pid;
}

bool cmd_done(pid_t pid, struct run_result *rr)
{
	if (waitpid(pid, &rr->cmd_status, WNOHANG) != pid)
		return false;
	rr->cmd_ran = true;
	return true;
}

void cmd_stop(pid_t pid, int sig, int grace_ms, struct run_result *rr)
{
	kill(pid, sig);
	for (int ms = 0; !cmd_done(pid, rr); ms += 10) {
		if (ms == grace_ms) {
			fprintf(stderr, "kptwatch: the command ignores the signal, killing it\n");
			kill(pid, SIGKILL);
		}
		usleep(10000);
	}
}

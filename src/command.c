// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of check. It starts only after everything is attached, in
 * a process group of its own, and dies with kptwatch.
 *
 * Why a group of its own: the command is usually a shell script, and a
 * signal to the shell alone leaves its children running (SIGTERM to
 * "sh -c 'sleep 30; true'" kills sh, sleep lives on). kptwatch signals the
 * group instead. The price is that Ctrl-C on the terminal reaches only
 * kptwatch, which passes it on, and that the command is not the terminal's
 * foreground group (it should not read the terminal).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "command.h"

pid_t cmd_start(char **argv, bool stdout_to_stderr, struct run_result *rr)
{
	sigset_t block, old;
	int pfd[2], e = 0;
	pid_t pid;

	/*
	 * What the command leaves behind when its shell exits is reparented
	 * to us, not to init, so that group_gone() can reap it: a zombie
	 * still counts as a member of its group.
	 */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* an exec failure comes back through a CLOEXEC pipe */
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	/* a signal between fork and exec must not run our handler in the child */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		/* should kptwatch die unexpectedly, the workload goes too */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			e = errno;
		else
			execvp(argv[0], argv);
		e = e ? e : errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	e = errno;
	/* both sides set the group, so that it exists before anyone signals it */
	if (pid > 0)
		setpgid(pid, pid);
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

/* Wait up to ms for the group to empty; true if it did. */
static bool group_gone(pid_t pgid, int ms)
{
	for (;;) {
		/* a leftover that is our own child would stay a zombie: reap it */
		while (waitpid(-pgid, NULL, WNOHANG) > 0)
			;
		if (kill(-pgid, 0) < 0 && errno == ESRCH)
			return true;
		if (ms <= 0)
			return false;
		usleep(10000);
		ms -= 10;
	}
}

int cmd_reap_group(pid_t pgid, int grace_ms)
{
	if (group_gone(pgid, 0))
		return 0;
	kill(-pgid, SIGTERM);
	if (!group_gone(pgid, grace_ms)) {
		kill(-pgid, SIGKILL);
		group_gone(pgid, 1000);
	}
	return 1;
}

void cmd_stop(pid_t pid, int sig, int grace_ms, struct run_result *rr)
{
	int ms = 0;

	kill(-pid, sig);
	for (; !cmd_done(pid, rr); ms += 10) {
		if (ms == grace_ms) {
			fprintf(stderr, "kptwatch: the command ignores the signal, killing it\n");
			kill(-pid, SIGKILL);
		}
		usleep(10000);
	}
	/* the command is gone; give the rest of its group what is left of the grace */
	if (!group_gone(pid, ms < grace_ms ? grace_ms - ms : 0)) {
		kill(-pid, SIGKILL);
		group_gone(pid, 1000);
	}
}

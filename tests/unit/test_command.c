// SPDX-License-Identifier: GPL-2.0
/* check -- COMMAND: exit status, exec failure, stopping and escalation. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include "command.h"
#include "unit.h"

static char **sh(const char *script)
{
	static char *argv[4];

	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	argv[3] = NULL;
	return argv;
}

static pid_t start(const char *script, struct run_result *rr)
{
	memset(rr, 0, sizeof(*rr));
	return cmd_start(sh(script), rr);
}

static void wait_done(pid_t pid, struct run_result *rr)
{
	for (int i = 0; i < 500 && !cmd_done(pid, rr); i++)
		usleep(10000);
}

static void test_exit_status(void)
{
	struct run_result rr;
	char b[64];
	pid_t pid = start("exit 3", &rr);

	CHECK(pid > 0, "started");
	wait_done(pid, &rr);
	CHECK(rr.cmd_ran && WIFEXITED(rr.cmd_status) && WEXITSTATUS(rr.cmd_status) == 3,
	      "status %#x", rr.cmd_status);
	CHECK(cmd_failed(&rr) && !strcmp(cmd_status_str(&rr, b, sizeof(b)), "exited 3"), "%s", b);
	pid = start("true", &rr);
	wait_done(pid, &rr);
	CHECK(rr.cmd_ran && !cmd_failed(&rr), "true succeeds");
}

static void test_exec_failure(void)
{
	static char *argv[] = { "/nonexistent/kpt-cmd", NULL };
	struct run_result rr = {};
	char b[64];

	CHECK(cmd_start(argv, &rr) == 0, "exec failure reported at once");
	CHECK(rr.cmd_ran && rr.cmd_errno == ENOENT, "errno %d", rr.cmd_errno);
	CHECK(cmd_failed(&rr) && strstr(cmd_status_str(&rr, b, sizeof(b)), "could not run"), "%s", b);
}

static void test_stop(void)
{
	struct run_result rr;
	pid_t pid = start("exec sleep 30", &rr);

	usleep(50000);
	CHECK(!cmd_done(pid, &rr), "still running");
	cmd_stop(pid, SIGTERM, 2000, &rr);
	CHECK(WIFSIGNALED(rr.cmd_status) && WTERMSIG(rr.cmd_status) == SIGTERM,
	      "stopped by TERM: %#x", rr.cmd_status);
	CHECK(kill(pid, 0) < 0, "gone");
}

static void test_stop_escalates(void)
{
	struct run_result rr;
	pid_t pid = start("trap '' TERM; while :; do sleep 0.05; done", &rr);

	usleep(100000);
	cmd_stop(pid, SIGTERM, 200, &rr);
	CHECK(WIFSIGNALED(rr.cmd_status) && WTERMSIG(rr.cmd_status) == SIGKILL,
	      "ignored TERM, got KILL: %#x", rr.cmd_status);
}

int main(void)
{
	RUN(test_exit_status);
	RUN(test_exec_failure);
	RUN(test_stop);
	RUN(test_stop_escalates);
	return unit_done();
}

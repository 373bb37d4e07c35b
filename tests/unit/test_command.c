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
	return cmd_start(sh(script), false, rr);
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

	CHECK(cmd_start(argv, false, &rr) == 0, "exec failure reported at once");
	CHECK(rr.cmd_ran && rr.cmd_errno == ENOENT, "errno %d", rr.cmd_errno);
	CHECK(cmd_failed(&rr) && strstr(cmd_status_str(&rr, b, sizeof(b)), "could not run"),
	      "%s", b);
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

/* A process that is gone, or a zombie nobody has reaped yet. */
static bool dead(pid_t pid)
{
	char path[64], st = 0;
	FILE *f;

	if (kill(pid, 0) < 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fscanf(f, "%*d %*s %c", &st) != 1)
		st = 0;
	fclose(f);
	return st == 'Z' || st == 'X';
}

static pid_t read_pid(const char *path)
{
	FILE *f;
	int pid = 0;

	for (int i = 0; i < 1000 && !pid; i++) {
		f = fopen(path, "r");
		if (f && fscanf(f, "%d", &pid) != 1)
			pid = 0;
		if (f)
			fclose(f);
		if (!pid)
			usleep(10000);
	}
	return pid;
}

/*
 * A command that ignores SIGTERM gets SIGKILL after the grace period. It
 * says when its trap is set: signalled any earlier, the shell would die
 * of the TERM, and the test would pass or fail by the machine's load.
 */
static void test_stop_escalates(void)
{
	char path[] = "/tmp/kpt-cmd-XXXXXX", script[160];
	struct run_result rr;
	pid_t pid;
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	snprintf(script, sizeof(script),
		 "trap '' TERM; echo $$ > %s; while :; do sleep 0.05; done", path);
	pid = start(script, &rr);
	CHECK(pid > 0 && read_pid(path) == pid, "started %d, trap set", pid);
	cmd_stop(pid, SIGTERM, 200, &rr);
	CHECK(WIFSIGNALED(rr.cmd_status) && WTERMSIG(rr.cmd_status) == SIGKILL,
	      "ignored TERM, got KILL: %#x", rr.cmd_status);
	unlink(path);
}

/*
 * SIGTERM to "sh -c 'sleep 30; true'" must reach the sleep too: the
 * command runs in a process group of its own and the group is signalled.
 */
static void test_stop_group(void)
{
	char path[] = "/tmp/kpt-cmd-XXXXXX", script[160];
	struct run_result rr;
	pid_t pid, spid;
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	/* sleep in the background only to learn its pid; sh waits for it */
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; wait $!; true", path);
	pid = start(script, &rr);
	spid = read_pid(path);
	CHECK(pid > 0 && spid > 0, "started %d, sleep %d", pid, spid);
	CHECK(getpgid(pid) == pid, "own process group: pgid %d, pid %d", getpgid(pid), pid);
	cmd_stop(pid, SIGTERM, 2000, &rr);
	for (int i = 0; i < 100 && spid > 0 && !dead(spid); i++)
		usleep(10000);
	CHECK(spid > 0 && dead(spid), "sleep %d left behind", spid);
	if (spid > 0 && !dead(spid))
		kill(spid, SIGKILL);
	unlink(path);
}

/* A command that ends by itself does not leave its group running either. */
static void test_reap_group(void)
{
	char path[] = "/tmp/kpt-cmd-XXXXXX", script[160];
	struct run_result rr;
	pid_t pid, spid;
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s", path);
	pid = start(script, &rr);
	spid = read_pid(path);
	wait_done(pid, &rr);
	CHECK(rr.cmd_ran && WIFEXITED(rr.cmd_status), "sh exited: %#x", rr.cmd_status);
	CHECK(spid > 0 && !dead(spid), "the background sleep %d runs on", spid);
	CHECK(cmd_reap_group(pid, 2000) == 1, "leftovers found");
	CHECK(spid > 0 && dead(spid), "sleep %d left behind", spid);
	CHECK(cmd_reap_group(pid, 2000) == 0, "nothing left");
	if (spid > 0 && !dead(spid))
		kill(spid, SIGKILL);
	unlink(path);
}

/* stdout_to_stderr: the command writes to our stderr, stdout stays clean. */
static void test_stdout_to_stderr(void)
{
	static char *argv[] = { "sh", "-c", "echo noise", NULL };
	struct run_result rr = {};
	int out[2], err[2], so, se;
	char b[64];
	ssize_t n;
	pid_t pid;

	if (pipe(out) || pipe(err)) {
		CHECK(0, "pipe");
		return;
	}
	fflush(stdout);
	fflush(stderr);
	so = dup(STDOUT_FILENO);
	se = dup(STDERR_FILENO);
	dup2(out[1], STDOUT_FILENO);
	dup2(err[1], STDERR_FILENO);
	pid = cmd_start(argv, true, &rr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	close(out[1]);
	close(err[1]);
	wait_done(pid, &rr);
	n = read(out[0], b, sizeof(b));
	CHECK(n == 0, "nothing on stdout, got %zd bytes", n);
	n = read(err[0], b, sizeof(b) - 1);
	b[n > 0 ? n : 0] = 0;
	CHECK(!strcmp(b, "noise\n"), "stderr: '%s'", b);
	close(out[0]);
	close(err[0]);
}

int main(void)
{
	RUN(test_exit_status);
	RUN(test_exec_failure);
	RUN(test_stop);
	RUN(test_stop_escalates);
	RUN(test_stop_group);
	RUN(test_reap_group);
	RUN(test_stdout_to_stderr);
	return unit_done();
}

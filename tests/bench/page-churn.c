// SPDX-License-Identifier: GPL-2.0
/*
 * page-churn SECS [PAGES]: the everyday side of watching. Maps PAGES
 * anonymous pages (default 16), writes one byte to each, unmaps them, for
 * SECS seconds; prints "ops=N pages=N wall_ns=N". Every page it frees runs
 * kptwatch's page-free program (and a bpftrace script's mm_page_free
 * probe) although none is a kernel page table: the cost a system pays for
 * each page it frees while kptwatch watches. tests/bench/guest-bench.sh
 * runs it for --mode user_pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int number(const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return !errno && end != s && !*end && *out >= lo && *out <= hi ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned long long t0, t, end, ops = 0;
	long secs, pages = 16, psz = sysconf(_SC_PAGESIZE), i;
	char *p;

	if (argc < 2 || argc > 3 || number(argv[1], 1, 3600, &secs) ||
	    (argc == 3 && number(argv[2], 1, 4096, &pages))) {
		fprintf(stderr, "usage: %s SECS [PAGES]: SECS 1..3600, PAGES 1..4096\n",
			argv[0]);
		return 2;
	}
	t0 = now_ns();
	end = t0 + secs * 1000000000ULL;
	do {
		/* a batch between clock reads: the clock is not the workload */
		for (i = 0; i < 64; i++) {
			long j;

			p = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				fprintf(stderr, "page-churn: mmap: %s\n", strerror(errno));
				return 1;
			}
			for (j = 0; j < pages; j++)
				p[j * psz] = 1;
			munmap(p, pages * psz);
			ops++;
		}
		t = now_ns();
	} while (t < end);
	printf("ops=%llu pages=%llu wall_ns=%llu\n", ops, ops * pages, t - t0);
	return 0;
}

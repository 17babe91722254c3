/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target's global state and what every part uses: the options,
 * logging, clocks, statistics and the reload of the configuration file.
 * Everything but main() (target.c), so that a connection can be driven
 * in-process (tests/fuzz/fuzz_tgt_conn.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

char *tgt_config_path; /* -c, absolute */
int tgt_verbose;
struct tgt_global g;
struct tgt_opts opts = {
	.mdts = 5,                  /* 128 KiB */
	.queue_size = 128,
	.max_io_queues = 8,
	.maxh2cdata = 128 * 1024,
	.io_incapsule = 8192,
	.busy_poll_us = 0,
	.lba_size = 4096,
	.max_conns = 1024,
	.login_ms = 10000,
};


/* ---- logging and time --------------------------------------------------- */

void tgt_log(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (level > tgt_verbose)
		return;
	n = snprintf(buf, sizeof buf, "%s: ", TGT_NAME);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	/* one write: lines of different threads do not mix */
	if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
}

uint64_t tgt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t tgt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void stats_add(struct tgt_stats *to, const struct tgt_stats *from)
{
	to->io += from->io;
	to->reads += from->reads;
	to->writes += from->writes;
	to->others += from->others;
	to->rbytes += from->rbytes;
	to->wbytes += from->wbytes;
	to->errors += from->errors;
	to->admin += from->admin;
	to->cpu_ns += from->cpu_ns;
}

/* ---- statistics --------------------------------------------------------- */

/* Every association's counters, then the totals with the process's CPU
 * time per I/O command (getrusage: all threads, the accept loop too). */
void stats_print(FILE *out)
{
	struct tgt_stats total = { 0 }, st;
	struct rusage ru;
	struct tgt_ctrl *ctrl;
	uint64_t assoc = 0;
	double user, sys;
	char line[1024];
	int q;

	pthread_mutex_lock(&g.lock);
	for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next) {
		ctrl_stats(ctrl, &st, &q, true);
		ctrl_format(line, sizeof line, ctrl, &st, q, "live");
		fprintf(out, "%s: stats %s\n", TGT_NAME, line);
		stats_add(&total, &st);
		assoc++;
	}
	for (char *h = g.history, *nl; h && *h; h = nl + 1) {
		nl = strchr(h, '\n');
		fprintf(out, "%s: stats %.*s\n", TGT_NAME, (int)(nl - h), h);
	}
	stats_add(&total, &g.ended);
	assoc += g.ended_count;
	pthread_mutex_unlock(&g.lock);

	getrusage(RUSAGE_SELF, &ru);
	user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	fprintf(out,
		"%s: stats total associations=%" PRIu64 " io=%" PRIu64
		" reads=%" PRIu64 " writes=%" PRIu64 " read_bytes=%" PRIu64
		" write_bytes=%" PRIu64 " errors=%" PRIu64
		" cpu_user_s=%.3f cpu_sys_s=%.3f cpu_us_per_io=%.2f queue_cpu_us_per_io=%.2f"
		" connections=%u\n",
		TGT_NAME, assoc, total.io, total.reads, total.writes,
		total.rbytes, total.wbytes, total.errors, user, sys,
		total.io ? (user + sys) * 1e6 / (double)total.io : 0.0,
		total.io ? (double)total.cpu_ns / 1e3 / (double)total.io : 0.0,
		__atomic_load_n(&g.nr_conns, __ATOMIC_RELAXED));
	fflush(out);
}

int tgt_reload(char *err, size_t errlen)
{
	const char *config_abs = tgt_config_path;

	if (!config_abs) {
		snprintf(err, errlen, "no configuration file (-c) to reload");
		return -1;
	}
	if (config_load(config_abs, false, err, errlen) < 0)
		return -1;
	infox("configuration %s reloaded", config_abs);
	return 0;
}


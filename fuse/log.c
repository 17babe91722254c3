/* SPDX-License-Identifier: MIT */
/*
 * Logging: where the daemon's messages go (syslog or standard error, -o
 * log=), debug lines, and the one-line reason start-up failed (libfuse's
 * own first error included).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <syslog.h>

#include "fuse.h"

static char g_err[1024];          /* why start-up failed */
static bool g_started;            /* start-up done: libfuse logs go to stderr */
static bool g_debug;
/* Messages go to syslog, or to standard error (see log_setup). */
static bool g_syslog;

/* Where a daemon's messages go (-o log=): syslog when asked, or with auto
 * when there is a syslog (/dev/log); otherwise standard error, which the
 * daemon keeps when it is a terminal, a file or a socket (systemd's
 * journal) -- not a pipe, or "$(nvmeof-mount ...)" would wait for the
 * daemon to exit.  In the foreground, auto is standard error. */
void log_setup(const struct mount_opts *o)
{
	struct stat st;

	if (o->log_to == LOG_TO_SYSLOG)
		g_syslog = true;
	else if (o->log_to == LOG_TO_AUTO && !o->foreground)
		g_syslog = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
	if (g_syslog)
		openlog(PROG, LOG_PID, LOG_DAEMON);
}

/* The daemon's standard error once start-up is done: kept unless messages
 * go to syslog or it is a pipe (see log_setup). */
bool keep_stderr(const struct mount_opts *o)
{
	struct stat st;

	if (g_syslog || fstat(STDERR_FILENO, &st) < 0)
		return false;
	if (o->log_to == LOG_TO_STDERR)
		return true;
	return !S_ISFIFO(st.st_mode);
}

void note(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = 0;

	if (!g_syslog)
		n = snprintf(line, sizeof line, PROG ": ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (g_syslog) {
		syslog(LOG_NOTICE, "%s", line);
		return;
	}
	n = (int)strlen(line);
	line[n++] = '\n';
	/* one write: lines of several threads do not interleave */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void dbg(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (!g_debug)
		return;
	n = snprintf(line, sizeof line, PROG ": ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* one write: lines of several threads do not interleave */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g_err, sizeof g_err, fmt, ap);
	va_end(ap);
}

/* libfuse's own messages: the first error of start-up becomes ours.  It
 * may come in pieces ("unknown option(s): `" ... "'\n"): gather them up to
 * the newline. */
void fuse_log_cb(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static bool collecting = true;
	char msg[512];
	size_t n, have;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!g_started && level <= FUSE_LOG_ERR && collecting) {
		have = strlen(g_err);
		snprintf(g_err + have, sizeof g_err - have, "%s", msg);
		n = strlen(g_err);
		if (n && g_err[n - 1] == '\n') {
			while (n && g_err[n - 1] == '\n')
				g_err[--n] = 0;
			collecting = false;
		}
	}
	if (g_started || g_debug)
		fputs(msg, stderr);
}

void log_set_debug(bool on)
{
	g_debug = on;
}

/* Start-up is done: libfuse's messages go to stderr from now on. */
void log_started(void)
{
	g_started = true;
}

const char *startup_err(void)
{
	return g_err;
}

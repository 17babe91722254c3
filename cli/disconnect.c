/* SPDX-License-Identifier: MIT */
/*
 * nvmeof disconnect / reconnect: control a running nvmeof-mount(8).  The
 * daemon takes a verb written to the control attribute of its mount's
 * root, user.nvmeof.control; a mount is an nvmeof mount when this
 * process's mount table lists it with the type fuse.nvmeof.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CONTROL_XATTR "user.nvmeof.control"
#define OUR_FSTYPE "fuse.nvmeof"
#define EXIT_NOPERM 77      /* EX_NOPERM: not the mount's owner */
/* How long disconnect waits for the mount to leave the mount table. */
#define UNMOUNT_WAIT_MS 10000

struct mnt {
	char path[PATH_MAX];
	char fstype[64];
	long user_id;            /* -1: not given */
};

/* The kernel writes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

/* One line of /proc/self/mountinfo (proc(5)): mount point, type and the
 * user_id= of the super options.  False when malformed. */
static bool parse_line(char *line, struct mnt *m)
{
	char *save = NULL, *p, *dash, *uid;
	int i;

	dash = strstr(line, " - ");
	if (!dash)
		return false;
	*dash = 0;
	for (i = 0, p = strtok_r(line, " ", &save); p && i < 4; i++)
		p = strtok_r(NULL, " ", &save);
	if (!p)
		return false;
	unescape(p);
	snprintf(m->path, sizeof m->path, "%s", p);
	save = NULL;
	p = strtok_r(dash + 3, " \n", &save);
	snprintf(m->fstype, sizeof m->fstype, "%s", p ? p : "");
	p = p ? strtok_r(NULL, " \n", &save) : NULL;   /* source */
	p = p ? strtok_r(NULL, " \n", &save) : NULL;   /* super options */
	uid = p ? strstr(p, "user_id=") : NULL;
	m->user_id = uid && (uid == p || uid[-1] == ',') ? strtol(uid + 8, NULL, 10) : -1;
	return true;
}

/* The mount table: *out (malloc()ed), how many, or -errno. */
static int read_mounts(struct mnt **out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	struct mnt *v = NULL, *t;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		t = realloc(v, (size_t)(n + 1) * sizeof *v);
		if (!t) {
			n = -ENOMEM;
			break;
		}
		v = t;
		if (parse_line(line, &v[n]))
			n++;
	}
	free(line);
	fclose(f);
	if (n < 0) {
		free(v);
		return n;
	}
	*out = v;
	return n;
}

/* What is mounted on top at path: its entry, false if nothing is. */
static bool mounted_at(const char *path, struct mnt *m)
{
	struct mnt *v = NULL;
	int i, n = read_mounts(&v);
	bool found = false;

	for (i = 0; i < n; i++) {
		if (!strcmp(v[i].path, path)) {
			*m = v[i];   /* the last line is the one on top */
			found = true;
		}
	}
	free(v);
	return found;
}

/* An absolute path, resolved where it can be: a mount whose daemon is
 * gone answers ENOTCONN, and another user's FUSE mount EACCES, to anything
 * below it; then the path as given, made absolute. */
static int abs_path(const char *arg, char *out, size_t len)
{
	char *r = realpath(arg, NULL);
	char cwd[PATH_MAX];
	size_t n;

	if (r) {
		snprintf(out, len, "%s", r);
		free(r);
		return 0;
	}
	if (errno != ENOTCONN && errno != EACCES)
		return -errno;
	out[0] = 0;
	if (arg[0] != '/' && !getcwd(cwd, sizeof cwd))
		return -errno;
	if ((size_t)snprintf(out, len, "%s%s%s", arg[0] == '/' ? "" : cwd,
			     arg[0] == '/' || !strcmp(cwd, "/") ? "" : "/", arg) >= len)
		return -ENAMETOOLONG;
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = 0;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send verb to the daemon of the nvmeof mount at arg.  0 or an exit code. */
static int control(const char *cmd, const char *arg, const char *verb, bool wait_gone)
{
	char path[PATH_MAX + 2];
	struct mnt m;
	long until;
	int rc = abs_path(arg, path, sizeof path);

	if (rc < 0) {
		fprintf(stderr, "nvmeof %s: %s: %s\n", cmd, arg, strerror(-rc));
		return EXIT_USAGE;
	}
	if (!mounted_at(path, &m)) {
		fprintf(stderr, "nvmeof %s: %s: not a mount point (no nvmeof-mount there)\n",
			cmd, arg);
		return EXIT_USAGE;
	}
	if (strcmp(m.fstype, OUR_FSTYPE) != 0) {
		fprintf(stderr, "nvmeof %s: %s: not an nvmeof mount (a %s file system is mounted there)\n",
			cmd, arg, m.fstype);
		return EXIT_USAGE;
	}
	if (setxattr(path, CONTROL_XATTR, verb, strlen(verb), 0) < 0) {
		int e = errno;

		switch (e) {
		case ENOTCONN:
			fprintf(stderr, "nvmeof %s: %s: the mount's daemon is gone (a stale mount); clear it with: fusermount3 -u %s\n",
				cmd, arg, path);
			return EXIT_UNAVAILABLE;
		case EACCES: case EPERM:
			fprintf(stderr, "nvmeof %s: %s: %s (only the user who mounted it, or root, may)\n",
				cmd, arg, strerror(e));
			return EXIT_NOPERM;
		case ENOTSUP:
			fprintf(stderr, "nvmeof %s: %s: this nvmeof-mount does not take commands (an older version?)\n",
				cmd, arg);
			return EXIT_PROTOCOL;
		case ESHUTDOWN:
			fprintf(stderr, "nvmeof %s: %s: the association has ended (disconnected, or ctrl-loss-tmo ran out); mount again\n",
				cmd, arg);
			return EXIT_IOERR;
		case EINVAL:
			fprintf(stderr, "nvmeof %s: %s: the daemon refused '%s'\n", cmd, arg, verb);
			return EXIT_PROTOCOL;
		default:
			fprintf(stderr, "nvmeof %s: %s: %s\n", cmd, arg, strerror(e));
			return EXIT_IOERR;
		}
	}
	/* The secret files connect wrote for this mount: no longer needed,
	 * the daemon reconnects no more. */
	if (!strcmp(verb, "disconnect"))
		cli_secret_remove(path);
	if (!wait_gone)
		return 0;
	/* The daemon unmounts once its associations have ended. */
	until = now_ms() + UNMOUNT_WAIT_MS;
	while (mounted_at(path, &m) && !strcmp(m.fstype, OUR_FSTYPE)) {
		if (now_ms() > until) {
			fprintf(stderr, "nvmeof %s: %s: still mounted %d s after the daemon took the command\n",
				cmd, arg, UNMOUNT_WAIT_MS / 1000);
			return EXIT_IOERR;
		}
		usleep(10000);
	}
	return 0;
}

/* Every nvmeof mount this user may control (root: all). */
static int disconnect_all(void)
{
	struct mnt *v = NULL;
	int i, n = read_mounts(&v), rc = 0, r;
	unsigned done = 0;
	long uid = (long)getuid();

	if (n < 0) {
		fprintf(stderr, "nvmeof disconnect: /proc/self/mountinfo: %s\n", strerror(-n));
		return EXIT_OSERR;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].fstype, OUR_FSTYPE) || (uid != 0 && v[i].user_id != uid))
			continue;
		r = control("disconnect", v[i].path, "disconnect", true);
		if (r && !rc)
			rc = r;
		if (!r)
			printf("disconnected %s\n", v[i].path);
		done++;
	}
	free(v);
	if (!done)
		fprintf(stderr, "nvmeof disconnect: no nvmeof mount%s\n",
			uid ? " of this user" : "");
	return rc;
}

static void usage(FILE *f, const char *cmd)
{
	if (!strcmp(cmd, "disconnect-all"))
		fprintf(f, "Usage: nvmeof disconnect-all [-h]\n"
			   "The same as 'nvmeof disconnect --all': end every nvmeof-mount(8)\n"
			   "mount this user may control.\n\n"
			   "  -h, --help     show this help\n");
	else if (!strcmp(cmd, "disconnect"))
		fprintf(f, "Usage: nvmeof disconnect MOUNTPOINT | --all\n"
			   "End the associations of an nvmeof-mount(8) mount now: pending and\n"
			   "new I/O fails with EIO, the mount is detached and its daemon exits.\n\n"
			   "  -a, --all      every nvmeof mount this user may control\n"
			   "  -h, --help     show this help\n");
	else
		fprintf(f, "Usage: nvmeof reconnect MOUNTPOINT [HOST:PORT]\n"
			   "Drop an nvmeof-mount(8) mount's association and reconnect now,\n"
			   "to HOST:PORT when given (kept for later reconnects).\n\n"
			   "  -h, --help     show this help\n");
}

static int usage_error(const char *cmd, const char *msg, const char *arg)
{
	fprintf(stderr, "nvmeof %s: %s%s%s%s\n", cmd, msg, arg ? " '" : "",
		arg ? arg : "", arg ? "'" : "");
	fprintf(stderr, "Try 'nvmeof %s --help' for more information.\n", cmd);
	return EXIT_USAGE;
}

int cli_mount_cmd(const char *cmd, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = !strcmp(cmd, "disconnect-all");
	bool disc = all || !strcmp(cmd, "disconnect");
	char verb[320];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, disc && !all ? "ah" : "h",
				disc && !all ? lopts : lopts + 1, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'h':
			usage(stdout, cmd);
			return 0;
		default:
			return usage_error(cmd, "unknown option", argv[optind - 1]);
		}
	}
	if (disc) {
		if (all && optind < argc)
			return usage_error(cmd, "no mount point with --all:", argv[optind]);
		if (all)
			return disconnect_all();
		if (optind >= argc)
			return usage_error(cmd, "no mount point (or --all)", NULL);
		if (optind + 1 < argc)
			return usage_error(cmd, "unexpected argument", argv[optind + 1]);
		return control(cmd, argv[optind], "disconnect", true);
	}
	if (optind >= argc)
		return usage_error(cmd, "no mount point", NULL);
	if (optind + 2 < argc)
		return usage_error(cmd, "unexpected argument", argv[optind + 2]);
	if (optind + 1 < argc) {
		char host[256], port[32];

		if (nvmeof_parse_address(argv[optind + 1], host, sizeof host, port, sizeof port,
					 "") < 0 || !host[0])
			return usage_error(cmd, "expected HOST[:PORT], not", argv[optind + 1]);
		snprintf(verb, sizeof verb, "reconnect %s", argv[optind + 1]);
	} else {
		snprintf(verb, sizeof verb, "reconnect");
	}
	return control(cmd, argv[optind], verb, false);
}

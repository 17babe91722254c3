/* SPDX-License-Identifier: MIT */
/*
 * The mount point: the mount table as this process sees it
 * (/proc/self/mountinfo, see proc(5)) -- which file system is mounted on a
 * path, whether ours is still attached anywhere --, and the checks before
 * mounting (a directory, nothing mounted there, a stale mount cleared).
 *
 *   36 35 0:52 / /mnt/nvme rw,nosuid,nodev,relatime shared:1 - fuse.nvmeof \
 *      127.0.0.1:4420 rw,user_id=0,group_id=0,default_permissions
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuse.h"

/* The kernel writes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

/* One line; false when it is not in the expected shape. */
static bool parse_line(char *line, struct mnt_entry *e)
{
	char *save = NULL, *f[6], *p, *dash;
	int i;

	dash = strstr(line, " - ");
	if (!dash)
		return false;
	*dash = 0;
	for (i = 0, p = strtok_r(line, " ", &save); p && i < 6;
	     p = strtok_r(NULL, " ", &save))
		f[i++] = p;
	if (i < 6 ||
	    sscanf(f[2], "%u:%u", &e->major, &e->minor) != 2)
		return false;
	unescape(f[4]);
	snprintf(e->mountpoint, sizeof e->mountpoint, "%s", f[4]);
	save = NULL;
	p = strtok_r(dash + 3, " \n", &save);
	snprintf(e->fstype, sizeof e->fstype, "%s", p ? p : "");
	p = strtok_r(NULL, " \n", &save); /* source */
	p = p ? strtok_r(NULL, " \n", &save) : NULL;
	snprintf(e->super_opts, sizeof e->super_opts, "%s", p ? p : "");
	return true;
}

int mountinfo_scan(bool (*fn)(const struct mnt_entry *e, void *arg),
		   void *arg)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	struct mnt_entry *e;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f)
		return -errno;
	e = malloc(sizeof *e);
	if (!e) {
		fclose(f);
		return -ENOMEM;
	}
	while (getline(&line, &cap, f) > 0) {
		if (parse_line(line, e) && fn(e, arg)) {
			rc = 1;
			break;
		}
	}
	free(line);
	free(e);
	fclose(f);
	return rc;
}

struct find_arg {
	const char *path;
	struct mnt_entry *out;
	bool found;
};

static bool find_cb(const struct mnt_entry *e, void *arg)
{
	struct find_arg *a = arg;

	/* The last line wins: it is the one on top. */
	if (!strcmp(e->mountpoint, a->path)) {
		*a->out = *e;
		a->found = true;
	}
	return false;
}

bool mountinfo_find(const char *path, struct mnt_entry *out)
{
	struct find_arg a = { path, out, false };

	return mountinfo_scan(find_cb, &a) >= 0 && a.found;
}

struct dev_arg {
	unsigned major, minor;
};

static bool dev_cb(const struct mnt_entry *e, void *arg)
{
	const struct dev_arg *a = arg;

	return e->major == a->major && e->minor == a->minor &&
	       !strncmp(e->fstype, "fuse", 4);
}

int mountinfo_has_dev(unsigned major, unsigned minor)
{
	struct dev_arg a = { major, minor };

	return mountinfo_scan(dev_cb, &a);
}

bool mnt_is_fuse(const struct mnt_entry *e)
{
	return !strcmp(e->fstype, "fuse") || !strncmp(e->fstype, "fuse.", 5);
}

/* user_id=N of a FUSE mount's super options; -1 if absent. */
long mnt_user_id(const struct mnt_entry *e)
{
	const char *p = strstr(e->super_opts, "user_id=");

	if (!p || (p != e->super_opts && p[-1] != ','))
		return -1;
	return strtol(p + 8, NULL, 10);
}

/* ---- checks before anything is started --------------------------------- */

/* A FUSE mount whose daemon died (SIGKILL, a crash) stays in the mount
 * table, and everything below it answers ENOTCONN ("Transport endpoint is
 * not connected").  A stale nvmeof mount of this user (root: of anyone) is
 * detached here, with a warning; any other is explained.  0 when cleared. */
static int clear_stale_mount(const struct mount_opts *o)
{
	struct mnt_entry *e = malloc(sizeof *e);
	char path[PATH_MAX], cwd[PATH_MAX];
	int rc = -1, st;
	size_t n;
	pid_t pid;

	if (!e)
		return -1;
	if (o->mnt_abs)
		snprintf(path, sizeof path, "%s", o->mnt_abs);
	else if (o->mountpoint[0] != '/' && !getcwd(cwd, sizeof cwd))
		goto out;
	else if ((size_t)snprintf(path, sizeof path, "%s%s%s",
			     o->mountpoint[0] == '/' ? "" : cwd,
			     o->mountpoint[0] == '/' || !strcmp(cwd, "/") ? "" : "/",
			     o->mountpoint) >= sizeof path)
		goto out;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = 0;
	if (!mountinfo_find(path, e) || !mnt_is_fuse(e)) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(ENOTCONN));
		goto out;
	}
	if (strcmp(e->fstype, "fuse.nvmeof") != 0 ||
	    (getuid() != 0 && mnt_user_id(e) != (long)getuid())) {
		fprintf(stderr, PROG ": mount point %s: a stale %s mount whose daemon is gone (%s); clear it with: fusermount3 -u %s\n",
			o->mountpoint, e->fstype, strerror(ENOTCONN), path);
		goto out;
	}
	if (getuid() == 0) {
		if (umount2(path, MNT_DETACH) == 0)
			rc = 0;
	} else {
		pid = fork();
		if (pid == 0) {
			execlp("fusermount3", "fusermount3", "-u", "-z", "-q",
			       path, (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &st, 0) == pid &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0)
			rc = 0;
	}
	if (rc == 0)
		fprintf(stderr, PROG ": warning: %s held a stale nvmeof mount (its daemon had died): cleared it\n",
			path);
	else
		fprintf(stderr, PROG ": mount point %s: a stale nvmeof mount whose daemon is gone, and clearing it failed; try: fusermount3 -u %s\n",
			o->mountpoint, path);
out:
	free(e);
	return rc;
}

int check_mountpoint(struct mount_opts *o)
{
	struct statx stx;
	struct stat st, pst;
	char *parent;

	o->mnt_abs = realpath(o->mountpoint, NULL);
	if (!o->mnt_abs && errno == ENOTCONN) {
		if (clear_stale_mount(o) < 0)
			return -1;
		o->mnt_abs = realpath(o->mountpoint, NULL);
	}
	if (!o->mnt_abs) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(errno));
		return -1;
	}
	if (stat(o->mnt_abs, &st) < 0 && errno == ENOTCONN) {
		if (clear_stale_mount(o) < 0)
			return -1;
	}
	if (stat(o->mnt_abs, &st) < 0) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(ENOTDIR));
		return -1;
	}
	/* Something already mounted there: refuse rather than stack. */
	if (statx(AT_FDCWD, o->mnt_abs, AT_NO_AUTOMOUNT, STATX_BASIC_STATS,
		  &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		fprintf(stderr, PROG ": mount point %s is busy: a file system is already mounted there\n",
			o->mountpoint);
		return -1;
	}
	if (asprintf(&parent, "%s/..", o->mnt_abs) >= 0) {
		if (strcmp(o->mnt_abs, "/") && stat(parent, &pst) == 0 &&
		    pst.st_dev != st.st_dev) {
			fprintf(stderr, PROG ": mount point %s is busy: a file system is already mounted there\n",
				o->mountpoint);
			free(parent);
			return -1;
		}
		free(parent);
	}
	return 0;
}

int check_dev_fuse(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO)) {
		fprintf(stderr, PROG ": /dev/fuse: %s (is the fuse module loaded?)\n",
			strerror(errno));
		return -1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

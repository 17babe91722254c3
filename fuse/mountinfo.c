/* SPDX-License-Identifier: MIT */
/*
 * The mount table as this process sees it (/proc/self/mountinfo, see
 * proc(5)): which file system is mounted on a path, and whether ours is
 * still attached anywhere.
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

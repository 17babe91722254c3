/* SPDX-License-Identifier: MIT */
/*
 * Control of a running mount: the verbs of the control attribute
 * (nvmeof disconnect, nvmeof reconnect), and a lazy unmount noticed in the
 * mount table, which end the associations or move them.
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

#include "fuse.h"

/* ---- control: nvmeof disconnect / reconnect ------------------------------ */

/* "reconnect [HOST[:PORT]]": every subsystem's association drops its
 * connection and reconnects now, to the new address when given.  In the
 * worker: the library only hands the request to its admin thread (and
 * waits at most 2 s for it to take it), and the caller learns whether it
 * was taken. */
static int control_reconnect(struct fs *fs, const char *addr)
{
	char host[256] = "", port[32] = "";
	unsigned i, n, done = 0;
	int rc = 0;

	if (addr && (nvmeof_parse_address(addr, host, sizeof host, port,
					  sizeof port, "") < 0 || !host[0]))
		return -EINVAL;
	n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);
		struct nvmeof_ctrl *c = fc ? __atomic_load_n(&fc->ctrl,
							      __ATOMIC_ACQUIRE) : NULL;
		int r;

		if (!c || fctrl_gone(fc))
			continue;
		r = nvmeof_ctrl_reconnect(c, host[0] ? host : NULL,
					  port[0] ? port : NULL);
		if (r < 0) {
			note("%s: reconnect: %s", fc->addr, nvmeof_get_error());
			if (!rc)
				rc = r;
			continue;
		}
		note("%s: reconnecting now%s%s, as asked", fc->addr,
		     addr ? " to " : "", addr ? addr : "");
		done++;
	}
	/* The association has ended (disconnect, ctrl_loss_tmo): ESHUTDOWN
	 * tells the caller that mounting again is what is left. */
	if (!done)
		return rc == -ENOTCONN || !rc ? -ESHUTDOWN : rc;
	return 0;
}

/* From a worker (setxattr on the root): the main thread does the work, so
 * that no worker waits in the library for the associations to end. */
int control_request(struct fs *fs, const char *value, size_t size)
{
	char verb[320];
	uint64_t one = 1;
	int what;

	/* "disconnect", "reconnect", "reconnect HOST:PORT"; a trailing
	 * newline (echo into setfattr) is forgiven. */
	if (size >= sizeof verb)
		return -EINVAL;
	memcpy(verb, value, size);
	verb[size] = 0;
	while (size && (verb[size - 1] == '\n' || verb[size - 1] == 0))
		verb[--size] = 0;
	if (!strcmp(verb, "disconnect"))
		what = CTL_DISCONNECT;
	else if (!strcmp(verb, "reconnect") || !strncmp(verb, "reconnect ", 10))
		return control_reconnect(fs, verb[9] ? verb + 10 : NULL);
	else
		return -EINVAL;
	pthread_mutex_lock(&fs->ev_lock);
	/* A disconnect asked for stays asked for. */
	if (fs->ctl_verb != CTL_DISCONNECT)
		fs->ctl_verb = what;
	pthread_mutex_unlock(&fs->ev_lock);
	(void)!write(fs->ctl_fd, &one, sizeof one);
	return 0;
}

/* End every association now: what is pending and whatever comes until the
 * workers stop fails with EIO; nothing waits for a reconnect. */
/* End the associations now (only those not live when down_only): what is
 * pending on them, and whatever comes until the workers stop, fails with
 * EIO; nothing waits for a reconnect. */
static void fail_assocs(struct fs *fs, const char *why, bool down_only)
{
	unsigned i, n;

	pthread_mutex_lock(&fs->ev_lock);
	fs->stopping = true; /* the event thread adds nothing more */
	pthread_cond_broadcast(&fs->ev_cond);
	pthread_mutex_unlock(&fs->ev_lock);
	if (fs->disc && (!down_only || strcmp(nvmeof_ctrl_state(fs->disc), "live")))
		(void)nvmeof_ctrl_fail(fs->disc, why);
	n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);
		struct nvmeof_mpath *mp = fc ? __atomic_load_n(&fc->mp,
							       __ATOMIC_ACQUIRE) : NULL;

		if (!mp || fctrl_gone(fc))
			continue;
		if (down_only && !strcmp(nvmeof_mpath_state(mp), "live"))
			continue;
		(void)nvmeof_mpath_fail(mp, why);
	}
}

void fail_all(struct fs *fs, const char *why)
{
	note("%s: ending every association", why);
	fail_assocs(fs, why, false);
}

/* A signal: a live association's commands are given their drain time at
 * teardown; one that is reconnecting ends now, so that its waiting
 * requests are answered EIO before the mount goes (not aborted with it). */
void fail_down(struct fs *fs, const char *why)
{
	fail_assocs(fs, why, true);
}

/* Returns true when the daemon is to stop. */
bool control_run(struct fs *fs)
{
	uint64_t v;
	int what;

	(void)!read(fs->ctl_fd, &v, sizeof v);
	pthread_mutex_lock(&fs->ev_lock);
	what = fs->ctl_verb;
	fs->ctl_verb = CTL_NONE;
	pthread_mutex_unlock(&fs->ev_lock);
	if (what == CTL_DISCONNECT) {
		fail_all(fs, "disconnected by the user");
		return true;
	}
	return false;
}

/* The mount as the mount table shows it (its device), to notice a lazy
 * unmount (umount -l) while files are still open: the FUSE connection
 * then lives on, and nothing else tells us. */
bool find_own_mount(struct fs *fs, const char *mnt)
{
	struct mnt_entry *e = malloc(sizeof *e);
	bool ok;

	if (!e)
		return false;
	ok = mountinfo_find(mnt, e) && mnt_is_fuse(e);
	if (ok) {
		fs->dev_major = e->major;
		fs->dev_minor = e->minor;
	}
	free(e);
	return ok;
}

bool still_mounted(struct fs *fs)
{
	/* An unreadable table is no reason to stop. */
	return mountinfo_has_dev(fs->dev_major, fs->dev_minor) != 0;
}


/* SPDX-License-Identifier: MIT */
/*
 * Events: the library's callbacks (async events, changes of state) and the
 * event thread that rescans namespaces and re-reads the discovery log, so
 * that no callback waits on the network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fuse.h"

/* ---- events ---------------------------------------------------------------- */

/* NVMe Base 2.0 §5.2: AEN dword 0 = type (2:0), info (15:8), log (23:16). */
void tree_event_cb(void *arg, uint32_t dw0, const uint32_t *nsids, size_t nr)
{
	struct fctrl *fc = arg;

	(void)nsids;
	dbg("async event 0x%08x (%zu namespaces)", dw0, nr);
	if ((dw0 & 7) != 2 || ((dw0 >> 8) & 0xff) != 0)
		return; /* only Notice: Namespace Attribute Changed */
	pthread_mutex_lock(&fc->fs->ev_lock);
	fc->rescan = true;
	pthread_cond_signal(&fc->fs->ev_cond);
	pthread_mutex_unlock(&fc->fs->ev_lock);
}

/* The association changed state (library admin thread).  Workers watch
 * state_gen to pick up the queues' new sockets; after a reconnect the
 * namespaces may have changed while we were away: rescan. */
void tree_state_cb(void *arg, const char *state, const char *why)
{
	struct fctrl *fc = arg;

	__atomic_add_fetch(&fc->state_gen, 1, __ATOMIC_RELEASE);
	/* nvmeof reconnect MNT ADDR: live at the new address */
	if (!strcmp(state, "live"))
		ctrl_addr(fc->addr, sizeof fc->addr, fc->ctrl);
	/* Each change once, in words (issue 5); in a tree, of which one. */
	if (fc->fs->multi)
		note("%s %s: %s: %s", fc->addr, fc->name, state, why ? why : "");
	else
		note("%s: %s: %s", fc->addr, state, why ? why : "");
	if (strcmp(state, "live") != 0)
		return;
	pthread_mutex_lock(&fc->fs->ev_lock);
	fc->rescan = true;
	pthread_cond_signal(&fc->fs->ev_cond);
	pthread_mutex_unlock(&fc->fs->ev_lock);
}

/* The discovery association's events and state (library admin thread):
 * a Discovery Log Page Change notice, or a reconnect (the log may have
 * changed meanwhile), has the event thread read the log again. */
void tree_disc_event_cb(void *arg, uint32_t dw0, const uint32_t *nsids,
			size_t nr)
{
	struct fs *fs = arg;

	(void)nsids;
	(void)nr;
	dbg("discovery: async event 0x%08x", dw0);
	if ((dw0 & 7) != 2 || ((dw0 >> 8) & 0xff) != 0xf0)
		return; /* only Notice: Discovery Log Page Change */
	pthread_mutex_lock(&fs->ev_lock);
	fs->disc_events++;
	fs->disc_rescan = true;
	pthread_cond_signal(&fs->ev_cond);
	pthread_mutex_unlock(&fs->ev_lock);
}

void tree_disc_state_cb(void *arg, const char *state, const char *why)
{
	struct fs *fs = arg;

	char addr[300];

	ctrl_addr(addr, sizeof addr, fs->disc);
	note("discovery %s: %s: %s", addr, state, why ? why : "");
	if (strcmp(state, "live") != 0)
		return;
	pthread_mutex_lock(&fs->ev_lock);
	fs->disc_rescan = true;
	pthread_cond_signal(&fs->ev_cond);
	pthread_mutex_unlock(&fs->ev_lock);
}

static void *ev_thread(void *arg)
{
	struct fs *fs = arg;

	pthread_mutex_lock(&fs->ev_lock);
	while (!fs->stopping) {
		unsigned i;
		bool any = false;

		if (fs->disc_rescan) {
			fs->disc_rescan = false;
			any = true;
			pthread_mutex_unlock(&fs->ev_lock);
			disc_refresh(fs);
			pthread_mutex_lock(&fs->ev_lock);
		}
		for (i = 0; i < fs->nr_ctrls; i++) {
			struct fctrl *fc = fs->ctrls[i];

			if (!fc->rescan || fctrl_gone(fc))
				continue;
			fc->rescan = false;
			any = true;
			pthread_mutex_unlock(&fs->ev_lock);
			if (tree_rescan(fc) < 0)
				dbg("rescan of %s: %s", fc->name,
				    nvmeof_get_error());
			pthread_mutex_lock(&fs->ev_lock);
		}
		if (!any && !fs->stopping)
			pthread_cond_wait(&fs->ev_cond, &fs->ev_lock);
	}
	pthread_mutex_unlock(&fs->ev_lock);
	return NULL;
}

int tree_start_events(struct fs *fs)
{
	unsigned i;
	int rc;

	rc = pthread_create(&fs->ev_thread, NULL, ev_thread, fs);
	if (rc)
		return -rc;
	fs->ev_running = true;
	for (i = 0; i < fs->nr_ctrls; i++) {
		nvmeof_mpath_set_event_cb(fs->ctrls[i]->mp, tree_event_cb,
					  fs->ctrls[i]);
		nvmeof_mpath_set_state_cb(fs->ctrls[i]->mp, tree_state_cb,
					  fs->ctrls[i]);
	}
	if (fs->disc) {
		nvmeof_set_event_cb(fs->disc, tree_disc_event_cb, fs);
		nvmeof_set_state_cb(fs->disc, tree_disc_state_cb, fs);
		/* What changed between the first read and now. */
		pthread_mutex_lock(&fs->ev_lock);
		fs->disc_rescan = true;
		pthread_cond_signal(&fs->ev_cond);
		pthread_mutex_unlock(&fs->ev_lock);
	}
	return 0;
}

bool tree_stop_events(struct fs *fs)
{
	struct timespec ts;
	unsigned i;

	if (fs->ev_running) {
		pthread_mutex_lock(&fs->ev_lock);
		fs->stopping = true;
		pthread_cond_broadcast(&fs->ev_cond);
		pthread_mutex_unlock(&fs->ev_lock);
		/* A rescan may wait on the admin queue while it reconnects. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		if (pthread_timedjoin_np(fs->ev_thread, NULL, &ts))
			return false;
		fs->ev_running = false;
	}
	/* The event thread adds and removes: once it has stopped. */
	for (i = 0; i < fs->nr_ctrls; i++) {
		if (!fs->ctrls[i]->mp)
			continue;
		nvmeof_mpath_set_event_cb(fs->ctrls[i]->mp, NULL, NULL);
		nvmeof_mpath_set_state_cb(fs->ctrls[i]->mp, NULL, NULL);
	}
	if (fs->disc) {
		nvmeof_set_event_cb(fs->disc, NULL, NULL);
		nvmeof_set_state_cb(fs->disc, NULL, NULL);
	}
	return true;
}


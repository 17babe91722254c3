/* SPDX-License-Identifier: MIT */
/*
 * Connecting: one subsystem (-n), or what the discovery controller lists
 * (referrals followed); a tree keeps its discovery association and follows
 * the log as it changes (disc_refresh, on the event thread).
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

/* ---- connecting ------------------------------------------------------------- */

/* The library's message, with the address in front unless it names it. */
static void lib_err(const char *what, const struct mount_opts *o)
{
	const char *m = nvmeof_get_error();

	if (strstr(m, o->host))
		set_err("%s%s", what, m);
	else
		set_err("%s:%s: %s%s", o->host, o->port, what, m);
}

static void base_opts(const struct mount_opts *o, struct nvmeof_opts *no)
{
	nvmeof_opts_init(no);
	no->hostnqn = o->hostnqn;
	no->hostid = o->hostid;
	no->host_iface = o->host_iface;
	no->host_traddr = o->host_traddr;
	no->nr_io_queues = o->nr_io_queues;
	no->queue_size = o->queue_size;
	if (o->kato_ms >= 0)
		no->kato_ms = o->kato_ms;
	if (o->io_timeout_s > 0)
		no->io_timeout_ms = o->io_timeout_s * 1000;
	if (o->reconnect_delay_s >= 0)
		no->reconnect_delay = o->reconnect_delay_s;
	if (o->ctrl_loss_tmo_s >= -1)
		no->ctrl_loss_tmo = o->ctrl_loss_tmo_s;
	if (o->fast_io_fail_tmo_s >= -1)
		no->fast_io_fail_tmo = o->fast_io_fail_tmo_s;
	no->busy_poll_us = o->busy_poll_us;
	no->hdr_digest = o->hdr_digest;
	no->data_digest = o->data_digest;
	no->dhchap_secret_file = o->dhchap_secret_file;
	no->dhchap_ctrl_secret_file = o->dhchap_ctrl_secret_file;
	no->tls = o->tls;
	no->tls_key_file = o->tls_key_file;
	no->tls_psk_file = o->tls_psk_file;
	no->tls_psk_derivation = o->tls_psk_derivation;
	no->tls_identity = o->tls_identity;
}

/* At mount, before any other thread: the next slot. */
static struct fctrl *add_ctrl(struct fs *fs, struct nvmeof_mpath *mp)
{
	struct nvmeof_ctrl *c = nvmeof_mpath_ctrl(mp);
	struct fctrl *fc;

	if (fs->nr_ctrls == MAX_CTRLS)
		return NULL;
	fc = calloc(1, sizeof *fc);
	if (!fc)
		return NULL;
	fc->fs = fs;
	fc->idx = fs->nr_ctrls;
	fc->mp = mp;
	fc->ctrl = c;
	snprintf(fc->name, sizeof fc->name, "%s", nvmeof_ctrl_subnqn(c));
	ctrl_addr(fc->addr, sizeof fc->addr, c);
	fs->ctrls[fs->nr_ctrls++] = fc;
	return fc;
}

static bool wildcard_addr(const char *a)
{
	return !*a || !strcmp(a, "0.0.0.0") || !strcmp(a, "::");
}

/* A tree keeps its discovery association with this keep-alive timeout
 * unless -k gives one (nvme discover --persistent's default). */
#define DISC_KATO_MS 30000

static void disc_opts(const struct mount_opts *o, struct nvmeof_opts *no)
{
	base_opts(o, no);
	no->traddr = o->host;
	no->trsvcid = o->port;
	no->subnqn = NULL;
	no->nr_io_queues = 0;
	no->kato_ms = 0;
}

static bool is_nvm_tcp(const struct nvmeof_disc_entry *e)
{
	return e->subtype == 2 && e->trtype == 3;
}

/* Follow the referrals of log (up to 4 levels in all, as at mount before
 * the association was kept) and append what they list. */
static void follow_referrals(const struct mount_opts *o,
			     struct nvmeof_disc_log *log)
{
	uint64_t i, n = log->numrec;

	for (i = 0; i < n; i++) {
		const struct nvmeof_disc_entry *e = &log->entries[i];
		struct nvmeof_disc_log *sub = NULL;
		struct nvmeof_disc_entry *t;
		struct nvmeof_opts r;

		if (e->subtype != 1 || e->trtype != 3)
			continue;
		disc_opts(o, &r);
		r.traddr = wildcard_addr(e->traddr) ? o->host : e->traddr;
		r.trsvcid = e->trsvcid[0] ? e->trsvcid : o->port;
		if (nvmeof_discover_all(&r, 3, &sub) < 0) {
			dbg("referral %s:%s: %s", r.traddr, r.trsvcid,
			    nvmeof_get_error());
			continue;
		}
		t = sub->numrec ? realloc(log->entries,
					  (size_t)(log->numrec + sub->numrec) *
						  sizeof *t) : NULL;
		if (t) {
			memcpy(t + log->numrec, sub->entries,
			       (size_t)sub->numrec * sizeof *t);
			log->entries = t;
			log->numrec += sub->numrec;
		}
		nvmeof_disc_log_free(sub);
	}
}

/* Where a discovery log entry says its subsystem is, as HOST:PORT.  A
 * target listening on every address advertises 0.0.0.0: reach it where
 * we reached its discovery controller. */
static void entry_addr(const struct mount_opts *o,
		       const struct nvmeof_disc_entry *e, char *buf, size_t len)
{
	const char *h = wildcard_addr(e->traddr) ? o->host : e->traddr;

	snprintf(buf, len, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h,
		 e->trsvcid[0] ? e->trsvcid : o->port);
}

/* Connect to the NVM subsystem of a discovery log entry (its first path). */
static int connect_entry(const struct mount_opts *o,
			 const struct nvmeof_disc_entry *e,
			 struct nvmeof_mpath **mpp, char *err, size_t errlen)
{
	struct nvmeof_opts no;
	char addr[300];
	const char *a[1] = { addr };
	int rc;

	base_opts(o, &no);
	entry_addr(o, e, addr, sizeof addr);
	no.subnqn = e->subnqn;
	dbg("discovered %s at %s", e->subnqn, addr);
	/* TSAS/TREQ: TLS where the port offers it and we have a key */
	rc = nvmeof_disc_entry_tls(e, o->tls);
	if (rc < 0) {
		/* a long NQN may cut the hint: the NQN and address first */
		if (snprintf(err, errlen, "%s at %s: the port requires TLS (TREQ): "
			     "give -o tls_key_file=PATH", e->subnqn, addr) >= (int)errlen)
			dbg("the port requires TLS (TREQ): give -o tls_key_file=PATH");
		return rc;
	}
	no.tls = rc == 1;
	rc = nvmeof_mpath_connect(&no, a, 1, o->iopolicy, mpp);
	if (rc < 0)
		snprintf(err, errlen, "%s at %s: %s", e->subnqn, addr,
			 nvmeof_get_error());
	return rc;
}

/* Another entry of a subsystem shown: one more path to it. */
static void add_entry_path(const struct mount_opts *o, struct fctrl *fc,
			   const struct nvmeof_disc_entry *e)
{
	char addr[300];
	int rc;

	entry_addr(o, e, addr, sizeof addr);
	rc = nvmeof_mpath_add_path(fc->mp, addr);
	if (rc >= 0)
		note("%s: path %d at %s (from the discovery log)", fc->name, rc,
		     addr);
	else if (rc != -EEXIST)
		note("warning: %s: path at %s: %s", fc->name, addr,
		     nvmeof_get_error());
}

/* A path of a shown subsystem whose address the log no longer lists for
 * it leaves the group (the last one stays: the subsystem goes as a
 * whole when none is listed). */
static void remove_gone_paths(struct fs *fs, struct fctrl *fc,
			      const struct nvmeof_disc_log *log)
{
	const struct mount_opts *o = fs->o;

	for (unsigned i = 0; i < NVMEOF_MPATH_MAX_PATHS && !fs->stopping; i++) {
		struct nvmeof_mpath_path_info in;
		struct nvmeof_ctrl *pc;
		char addr[300], ea[300];
		bool listed = false;

		if (nvmeof_mpath_path_info(fc->mp, i, &in) < 0)
			continue;
		snprintf(addr, sizeof addr, strchr(in.traddr, ':') ? "[%s]:%s" : "%s:%s",
			 in.traddr, in.trsvcid);
		for (uint64_t k = 0; k < log->numrec && !listed; k++) {
			const struct nvmeof_disc_entry *e = &log->entries[k];

			if (!is_nvm_tcp(e) || strcmp(e->subnqn, fc->name))
				continue;
			entry_addr(o, e, ea, sizeof ea);
			listed = !strcmp(ea, addr);
		}
		if (listed)
			continue;
		pc = nvmeof_mpath_path_ctrl(fc->mp, i);
		if (nvmeof_mpath_remove_path(fc->mp, addr) < 0) {
			note("warning: %s: path %u at %s: %s", fc->name, i, addr,
			     nvmeof_get_error());
			continue;
		}
		note("%s: path %u at %s: no longer in the discovery log: removing the path",
		     fc->name, i, addr);
		/* The admin files' association was that path's: another
		 * one's now (the group frees the old one only at the end,
		 * so a reader still holding it gets errors, not a crash). */
		if (pc && __atomic_load_n(&fc->ctrl, __ATOMIC_ACQUIRE) == pc) {
			struct nvmeof_ctrl *nc = nvmeof_mpath_ctrl(fc->mp);

			if (nc) {
				__atomic_store_n(&fc->ctrl, nc, __ATOMIC_RELEASE);
				ctrl_addr(fc->addr, sizeof fc->addr, nc);
			}
		}
		pthread_mutex_lock(&fs->ev_lock);
		fs->disc_paths_removed++;
		pthread_mutex_unlock(&fs->ev_lock);
	}
}

/* Without -n: what the discovery controller lists, as nvme connect-all.
 * Several NVM subsystems listed make a tree, which keeps the discovery
 * association (persistent: keep-alive, reconnect, Discovery Log Change
 * events) to follow the log; one makes a flat mount, which does not. */
static int connect_discovered(struct fs *fs, const struct mount_opts *o)
{
	struct nvmeof_disc_log *log = NULL;
	struct nvmeof_ctrl *dc = NULL;
	struct nvmeof_opts no;
	uint64_t i, j;
	unsigned tried = 0, listed = 0;
	char first_err[600] = "", err[600];
	int rc, first_rc = 0;
	uint16_t first_status = 0;

	disc_opts(o, &no);
	no.kato_ms = o->kato_ms > 0 ? o->kato_ms : DISC_KATO_MS;
	no.ctrl_loss_tmo = -1; /* for as long as the tree is mounted */
	rc = nvmeof_connect(&no, &dc);
	/* a key for the subsystems, a discovery port without TLS: the log's
	 * entries still say where TLS goes */
	if (rc < 0 && no.tls && (rc == -EPROTO || rc == -ECONNRESET) &&
	    strstr(nvmeof_get_error(), "TLS handshake with")) {
		note("warning: %s; reading the discovery log without TLS (each subsystem "
		     "gets TLS where its entry offers it)", nvmeof_get_error());
		no.tls = false;
		rc = nvmeof_connect(&no, &dc);
	}
	if (rc == 0)
		rc = nvmeof_discover(dc, &log);
	if (rc < 0) {
		lib_err("discovery: ", o);
		if (dc)
			nvmeof_disconnect(dc);
		return rc;
	}
	follow_referrals(o, log);
	for (i = 0; i < log->numrec; i++) {
		struct nvmeof_disc_entry *e = &log->entries[i];
		struct nvmeof_mpath *c;
		unsigned k;
		bool dup = false;

		if (!is_nvm_tcp(e))
			continue; /* NVM subsystems over TCP only */
		for (j = 0; j < i; j++)
			if (is_nvm_tcp(&log->entries[j]) &&
			    !strcmp(log->entries[j].subnqn, e->subnqn))
				break;
		if (j == i)
			listed++;
		for (k = 0; k < fs->nr_ctrls && !dup; k++)
			if (!strcmp(fs->ctrls[k]->name, e->subnqn)) {
				dup = true; /* another path to it */
				add_entry_path(o, fs->ctrls[k], e);
			}
		if (dup)
			continue;
		tried++;
		rc = connect_entry(o, e, &c, err, sizeof err);
		if (rc < 0) {
			if (!first_err[0]) {
				snprintf(first_err, sizeof first_err, "%s", err);
				first_rc = rc;
				first_status = nvmeof_last_status();
			}
			fprintf(stderr, PROG ": warning: %s\n", err);
			continue;
		}
		if (!add_ctrl(fs, c)) {
			nvmeof_mpath_disconnect(c);
			nvmeof_disc_log_free(log);
			nvmeof_disconnect(dc);
			set_err("out of memory");
			return -ENOMEM;
		}
	}
	fs->disc_genctr = log->genctr;
	fs->disc_reads = 1;
	fs->disc_read_ms = (int64_t)time(NULL) * 1000;
	nvmeof_disc_log_free(log);
	if (!fs->nr_ctrls) {
		nvmeof_disconnect(dc);
		if (tried) {
			/* the exit status says why the first one failed */
			set_err("%s", first_err);
			fs->start_status = first_status;
			return first_rc;
		}
		set_err("%s:%s: the discovery controller lists no NVM subsystem reachable over TCP",
			o->host, o->port);
		return -EHOSTUNREACH; /* nothing to connect to: exit 69 */
	}
	fs->multi = listed > 1;
	if (fs->multi)
		fs->disc = dc;
	else
		nvmeof_disconnect(dc); /* flat, and it stays flat */
	return 0;
}

static struct fctrl *shown(struct fs *fs, const char *nqn)
{
	unsigned i;

	for (i = 0; i < fs->nr_ctrls; i++)
		if (!fctrl_gone(fs->ctrls[i]) && !strcmp(fs->ctrls[i]->name, nqn))
			return fs->ctrls[i];
	return NULL;
}

static bool listed_in(const struct nvmeof_disc_log *log, const char *nqn)
{
	uint64_t i;

	for (i = 0; i < log->numrec; i++)
		if (is_nvm_tcp(&log->entries[i]) &&
		    !strcmp(log->entries[i].subnqn, nqn))
			return true;
	return false;
}

static void disc_error(struct fs *fs, const char *msg)
{
	pthread_mutex_lock(&fs->ev_lock);
	snprintf(fs->disc_err, sizeof fs->disc_err, "%s", msg);
	pthread_mutex_unlock(&fs->ev_lock);
}

/* The event thread, on a Discovery Log Change event or a reconnect of the
 * discovery association: read the log again; a subsystem no longer listed
 * loses its directory (and association), a new one gets both; a path
 * (address) of a subsystem shown comes and goes with its entry. */
void disc_refresh(struct fs *fs)
{
	const struct mount_opts *o = fs->o;
	struct nvmeof_disc_log *log = NULL;
	char err[600];
	unsigned i;
	uint64_t k;

	if (!fs->disc || strcmp(nvmeof_ctrl_state(fs->disc), "live") != 0)
		return;
	if (nvmeof_discover(fs->disc, &log) < 0) {
		snprintf(err, sizeof err, "reading the discovery log: %s",
			 nvmeof_get_error());
		note("%s", err);
		disc_error(fs, err);
		return;
	}
	follow_referrals(o, log);
	pthread_mutex_lock(&fs->ev_lock);
	fs->disc_reads++;
	fs->disc_genctr = log->genctr;
	fs->disc_read_ms = (int64_t)time(NULL) * 1000;
	fs->disc_err[0] = 0;
	pthread_mutex_unlock(&fs->ev_lock);
	dbg("discovery log: generation %llu, %llu records",
	    (unsigned long long)log->genctr, (unsigned long long)log->numrec);
	for (i = 0; i < fs->nr_ctrls && !fs->stopping; i++) {
		struct fctrl *fc = fs->ctrls[i];

		if (fctrl_gone(fc) || listed_in(log, fc->name))
			continue;
		note("%s: no longer in the discovery log: removing it", fc->name);
		/* Counted first: whoever sees the directory gone (or its
		 * files fail) finds it counted in the status file. */
		pthread_mutex_lock(&fs->ev_lock);
		fs->disc_removed++;
		pthread_mutex_unlock(&fs->ev_lock);
		tree_remove_ctrl(fs, fc, "the discovery log no longer lists the subsystem");
	}
	for (k = 0; k < log->numrec && !fs->stopping; k++) {
		const struct nvmeof_disc_entry *e = &log->entries[k];
		struct nvmeof_mpath *c;
		struct fctrl *sfc;

		if (!is_nvm_tcp(e))
			continue;
		if ((sfc = shown(fs, e->subnqn))) {
			add_entry_path(o, sfc, e); /* a new path, or known */
			continue;
		}
		if (connect_entry(o, e, &c, err, sizeof err) < 0) {
			note("warning: %s", err);
			disc_error(fs, err);
			continue;
		}
		if (nvmeof_ctrl_nr_io_queues(nvmeof_mpath_ctrl(c)) == 0) {
			snprintf(err, sizeof err,
				 "%s: the controller granted no I/O queue",
				 e->subnqn);
		} else if (tree_add_ctrl(fs, c, err, sizeof err) == 0) {
			char addr[300];

			ctrl_addr(addr, sizeof addr, nvmeof_mpath_ctrl(c));
			note("%s: listed in the discovery log: added (%s)",
			     e->subnqn, addr);
			pthread_mutex_lock(&fs->ev_lock);
			fs->disc_added++;
			pthread_mutex_unlock(&fs->ev_lock);
			continue;
		}
		note("warning: %s", err);
		disc_error(fs, err);
		nvmeof_mpath_disconnect(c);
	}
	/* A path whose entry went leaves its subsystem's group. */
	for (i = 0; i < fs->nr_ctrls && !fs->stopping; i++) {
		struct fctrl *fc = fs->ctrls[i];

		if (!fctrl_gone(fc) && fc->mp && listed_in(log, fc->name))
			remove_gone_paths(fs, fc, log);
	}
	nvmeof_disc_log_free(log);
}

int connect_all(struct fs *fs, const struct mount_opts *o)
{
	struct nvmeof_opts no;
	struct nvmeof_mpath *c;
	int rc;

	if (!o->subnqn)
		return connect_discovered(fs, o);
	base_opts(o, &no);
	no.subnqn = o->subnqn;
	rc = nvmeof_mpath_connect(&no, (const char *const *)o->paths,
				  o->nr_paths, o->iopolicy, &c);
	if (rc < 0) {
		fs->start_status = nvmeof_last_status();
		lib_err("", o);
		return rc;
	}
	if (!add_ctrl(fs, c)) {
		nvmeof_mpath_disconnect(c);
		set_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}


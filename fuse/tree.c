/* SPDX-License-Identifier: MIT */
/*
 * The tree: inode numbers, lookup/getattr/readdir/open of every node, the
 * contents of the pseudo-files, and namespace rescans on async events.
 *
 *   (root = the controller, or one directory per subsystem NQN and a
 *    status of the discovery association that keeps that list current)
 *     identify  identify.bin  status
 *     log/      error smart firmware changed-ns cmd-effects [ana] (+ .bin)
 *     n1  n1.identify  n1.identify.bin  n2 ...
 *
 * Inode numbers are computed, not allocated: (controller + 1) << 40 | kind
 * << 32 | nsid, and FUSE_ROOT_ID for the root.  So lookup needs no table
 * and forget needs no bookkeeping; a namespace that goes away keeps its
 * number and answers ENOENT.
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

#define ENTRY_TIMEOUT 1.0
#define ATTR_TIMEOUT 1.0

/* ---- log pages ----------------------------------------------------------- */

struct logdef {
	const char *name;
	uint8_t lid;
	enum nvmeof_describe_kind kind;
	size_t size; /* 0: computed */
};

static const struct logdef logs[] = {
	{ "error", 0x01, NVMEOF_DESC_LOG_ERROR, 0 },
	{ "smart", 0x02, NVMEOF_DESC_LOG_SMART, 512 },
	{ "firmware", 0x03, NVMEOF_DESC_LOG_FIRMWARE, 512 },
	{ "changed-ns", 0x04, NVMEOF_DESC_LOG_CHANGED_NS, 4096 },
	{ "cmd-effects", 0x05, NVMEOF_DESC_LOG_CMD_EFFECTS, 4096 },
	{ "ana", 0x0c, NVMEOF_DESC_LOG_ANA, 0 },
};
#define NR_LOGS ((int)(sizeof logs / sizeof logs[0]))
#define LOG_ANA 5

static bool log_present(const struct fctrl *fc, int i)
{
	return i >= 0 && i < NR_LOGS && (i != LOG_ANA || fc->ana);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Get Log Page with RAE set (NVMe Base 2.0 §5.16: Retain Asynchronous
 * Event): reading a pseudo-file must not consume an event the library's
 * handler is due to see.  Split in 64 KiB pieces by offset. */
static int get_log(struct fctrl *fc, uint8_t lid, void *buf, size_t len)
{
	uint8_t *b = buf;
	uint64_t off = 0;

	while (off < len) {
		uint8_t sqe[64] = { 0 };
		uint32_t n = (uint32_t)(len - off < 65536 ? len - off : 65536);
		uint32_t numd = n / 4 - 1;
		int rc;

		sqe[0] = 0x02; /* Get Log Page */
		put_le32(sqe + 4, 0xffffffff);
		put_le32(sqe + 40, lid | 1u << 15 | (numd & 0xffff) << 16);
		put_le32(sqe + 44, numd >> 16);
		put_le32(sqe + 48, (uint32_t)off);
		put_le32(sqe + 52, (uint32_t)(off >> 32));
		rc = nvmeof_admin_cmd(fc->ctrl, sqe, b + off, n, false, NULL);
		if (rc < 0)
			return rc;
		off += n;
	}
	return 0;
}

/* ANA log (NVMe Base 2.0 §5.16.1.13): its length depends on the groups. */
static int get_ana_log(struct fctrl *fc, uint8_t **out, size_t *lenp)
{
	size_t len = 4096;

	for (int tries = 0; tries < 4; tries++) {
		uint8_t *b = calloc(1, len);
		size_t need = 16, off = 16;
		unsigned ngrps, g;
		int rc;

		if (!b)
			return -ENOMEM;
		rc = get_log(fc, 0x0c, b, len);
		if (rc < 0) {
			free(b);
			return rc;
		}
		ngrps = (unsigned)(b[8] | b[9] << 8);
		for (g = 0; g < ngrps; g++) {
			uint32_t nn;

			if (off + 32 > len) {
				need = off + 32;
				break;
			}
			nn = get_le32(b + off + 4);
			off += 32 + (size_t)nn * 4;
			need = off;
			if (off > len)
				break;
		}
		if (need <= len) {
			*out = b;
			*lenp = need;
			return 0;
		}
		free(b);
		if (need > (16u << 20))
			return -EPROTO;
		len = (need + 4095) & ~(size_t)4095;
	}
	return -EPROTO;
}

static int fetch_log(struct fctrl *fc, int i, uint8_t **out, size_t *lenp)
{
	size_t len;
	uint8_t *b;
	int rc;

	if (i == LOG_ANA)
		return get_ana_log(fc, out, lenp);
	len = logs[i].size ? logs[i].size : (size_t)fc->elpe * 64;
	b = calloc(1, len);
	if (!b)
		return -ENOMEM;
	rc = get_log(fc, logs[i].lid, b, len);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	*lenp = len;
	return 0;
}

/* ---- inode numbers -------------------------------------------------------- */

/* NQNs hold ':', which qemu-img and others read as a protocol prefix
 * ("nqn.2026-11.org.example:disk/n1"): a tree's root also has a symbolic
 * link per subsystem, named with '_' for each ':', to its directory. */
static bool has_colon(const char *name)
{
	return strchr(name, ':') != NULL;
}

/* name with '_' for each ':' */
static void colon_free(const char *name, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "%s", name);
	for (p = buf; *p; p++)
		if (*p == ':')
			*p = '_';
}

static void link_name(const struct fctrl *fc, char *buf, size_t len)
{
	colon_free(fc->name, buf, len);
}


struct fctrl *tree_ctrl_at(struct fs *fs, unsigned idx)
{
	if (idx >= __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE))
		return NULL;
	return __atomic_load_n(&fs->ctrls[idx], __ATOMIC_ACQUIRE);
}

/* A slot's fctrl if it is shown. */
static struct fctrl *ctrl_at(struct fs *fs, unsigned idx)
{
	struct fctrl *fc = tree_ctrl_at(fs, idx);

	return fc && !fctrl_gone(fc) ? fc : NULL;
}

fuse_ino_t tree_ino(const struct node *n)
{
	unsigned kind = n->kind;

	if (n->kind == K_ROOT || (n->kind == K_CTRL && !n->fs->multi))
		return FUSE_ROOT_ID;
	if (n->kind == K_DSTATUS)
		return (fuse_ino_t)K_DSTATUS << 32;
	if (n->kind == K_LOG)
		kind = K_LOG + 2u * (unsigned)n->log + (n->bin ? 1 : 0);
	return (fuse_ino_t)(n->fc->idx + 1) << 40 | (fuse_ino_t)kind << 32 |
	       n->nsid;
}

int tree_decode(struct fs *fs, fuse_ino_t ino, struct node *n)
{
	unsigned kind;

	memset(n, 0, sizeof *n);
	n->fs = fs;
	if (ino == FUSE_ROOT_ID) {
		if (fs->multi) {
			n->kind = K_ROOT;
		} else {
			n->kind = K_CTRL;
			n->fc = ctrl_at(fs, 0);
		}
		return 0;
	}
	if (ino == (fuse_ino_t)K_DSTATUS << 32) {
		n->kind = K_DSTATUS;
		return fs->multi ? 0 : -ENOENT;
	}
	n->fc = ctrl_at(fs, (unsigned)(ino >> 40) - 1);
	if (!n->fc)
		return -ENOENT;
	kind = (unsigned)(ino >> 32) & 0xff;
	n->nsid = (uint32_t)ino;
	if (kind >= K_LOG) {
		n->kind = K_LOG;
		n->log = (int)(kind - K_LOG) / 2;
		n->bin = (kind - K_LOG) & 1;
		return log_present(n->fc, n->log) ? 0 : -ENOENT;
	}
	if ((kind < K_CTRL || kind > K_NSIDBIN) && kind != K_LINK)
		return -ENOENT;
	n->kind = (enum node_kind)kind;
	if ((n->kind == K_CTRL || n->kind == K_LINK) && !fs->multi)
		return -ENOENT;
	if (n->kind == K_LINK && !has_colon(n->fc->name))
		return -ENOENT;
	if (n->kind == K_NSDATA || n->kind == K_NSID || n->kind == K_NSIDBIN)
		return tree_ns(n->fc, n->nsid) ? 0 : -ENOENT;
	return 0;
}

static bool is_dir(const struct node *n)
{
	return n->kind == K_ROOT || n->kind == K_CTRL || n->kind == K_LOGDIR;
}

/* ---- namespaces ----------------------------------------------------------- */

static struct fns *ns_find_locked(struct fctrl *fc, uint32_t nsid)
{
	size_t lo = 0, hi = fc->nr_ns;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (fc->ns[mid]->nsid == nsid)
			return fc->ns[mid];
		if (fc->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct fns *tree_ns(struct fctrl *fc, uint32_t nsid)
{
	struct fns *ns;

	pthread_rwlock_rdlock(&fc->ns_lock);
	ns = ns_find_locked(fc, nsid);
	if (ns && !ns->present)
		ns = NULL;
	pthread_rwlock_unlock(&fc->ns_lock);
	return ns;
}

static void ns_apply(struct fns *ns, const struct nvmeof_ns_info *info)
{
	ns->lba_size = info->lba_size;
	ns->lba_shift = (uint32_t)__builtin_ctz(info->lba_size);
	ns->ro = info->write_protected || ns->fc->fs->o->read_only;
	ns->rzad = info->read_zeroes_after_dealloc;
	__atomic_store_n(&ns->size, info->nsze * info->lba_size,
			 __ATOMIC_RELAXED);
}

static struct fns *ns_insert_locked(struct fctrl *fc, uint32_t nsid)
{
	struct fns *ns;
	size_t i;

	if (fc->nr_ns == fc->ns_cap) {
		size_t cap = fc->ns_cap ? fc->ns_cap * 2 : 16;
		struct fns **t = realloc(fc->ns, cap * sizeof *t);

		if (!t)
			return NULL;
		fc->ns = t;
		fc->ns_cap = cap;
	}
	ns = calloc(1, sizeof *ns);
	if (!ns)
		return NULL;
	ns->fc = fc;
	ns->nsid = nsid;
	io_ns_init(ns);
	for (i = fc->nr_ns; i > 0 && fc->ns[i - 1]->nsid > nsid; i--)
		fc->ns[i] = fc->ns[i - 1];
	fc->ns[i] = ns;
	fc->nr_ns++;
	return ns;
}

enum { CH_ADDED = 1, CH_REMOVED = 2, CH_RESIZED = 4 };

struct change {
	uint32_t nsid;
	int what;
};

/* Re-read the active namespace list and each namespace's identity.
 * Changes are collected under the write lock, told to the kernel after. */
static int rescan(struct fctrl *fc, struct change **chp, size_t *nrp)
{
	struct nvmeof_ns_info *infos = NULL;
	struct change *ch = NULL;
	uint32_t *ids = NULL;
	size_t n = 0, i, nch = 0, good = 0;
	int rc;

	*chp = NULL;
	*nrp = 0;
	rc = nvmeof_ns_list(fc->ctrl, &ids, &n);
	if (rc < 0)
		return rc;
	infos = calloc(n ? n : 1, sizeof *infos);
	if (!infos) {
		free(ids);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (nvmeof_ns_info(fc->ctrl, ids[i], &infos[good]) == 0)
			good++;
		else
			dbg("namespace %u: %s", ids[i], nvmeof_get_error());
	}
	pthread_rwlock_wrlock(&fc->ns_lock);
	ch = calloc(fc->nr_ns + good + 1, sizeof *ch);
	if (!ch) {
		pthread_rwlock_unlock(&fc->ns_lock);
		free(infos);
		free(ids);
		return -ENOMEM;
	}
	/* Gone: present before, not in the list now. */
	for (i = 0; i < fc->nr_ns; i++) {
		struct fns *ns = fc->ns[i];
		size_t j;

		if (!ns->present)
			continue;
		for (j = 0; j < good; j++)
			if (infos[j].nsid == ns->nsid)
				break;
		if (j == good) {
			__atomic_store_n(&ns->present, false, __ATOMIC_RELAXED);
			ch[nch++] = (struct change){ ns->nsid, CH_REMOVED };
		}
	}
	for (i = 0; i < good; i++) {
		struct fns *ns = ns_find_locked(fc, infos[i].nsid);
		uint64_t old;

		if (!ns) {
			ns = ns_insert_locked(fc, infos[i].nsid);
			if (!ns) {
				rc = -ENOMEM;
				break;
			}
		}
		old = ns->size;
		if (!ns->present) {
			static uint64_t gen;

			ns_apply(ns, &infos[i]);
			__atomic_store_n(&ns->present, true, __ATOMIC_RELAXED);
			/* Unique over the mount: a subsystem that comes back
			 * reuses its inode numbers, not their generations. */
			ns->generation = __atomic_add_fetch(&gen, 1,
							    __ATOMIC_RELAXED);
			ch[nch++] = (struct change){ ns->nsid, CH_ADDED };
		} else {
			ns_apply(ns, &infos[i]);
			if (ns->size != old)
				ch[nch++] = (struct change){ ns->nsid, CH_RESIZED };
		}
	}
	pthread_rwlock_unlock(&fc->ns_lock);
	free(infos);
	free(ids);
	*chp = ch;
	*nrp = nch;
	return rc;
}

int tree_ctrl_init(struct fctrl *fc, char *err, size_t errlen)
{
	struct change *ch;
	size_t nch;
	int rc;

	memcpy(fc->idctrl, nvmeof_ctrl_identify(fc->ctrl), sizeof fc->idctrl);
	fc->elpe = (uint32_t)fc->idctrl[262] + 1;
	fc->ana = (fc->idctrl[76] & 0x08) != 0;
	pthread_rwlock_init(&fc->ns_lock, NULL);
	rc = rescan(fc, &ch, &nch);
	free(ch);
	if (rc < 0)
		snprintf(err, errlen, "%s: listing namespaces: %s", fc->addr,
			 nvmeof_get_error());
	return rc;
}

void tree_ctrl_free(struct fctrl *fc)
{
	size_t i;

	for (i = 0; i < fc->nr_ns; i++) {
		io_ns_fini(fc->ns[i]);
		free(fc->ns[i]);
	}
	free(fc->ns);
	pthread_rwlock_destroy(&fc->ns_lock);
}

static fuse_ino_t ctrl_dir_ino(struct fctrl *fc)
{
	struct node n = { .fs = fc->fs, .kind = K_CTRL, .fc = fc };

	return tree_ino(&n);
}

int tree_rescan(struct fctrl *fc)
{
	struct change *ch;
	size_t nch, i;
	int rc = rescan(fc, &ch, &nch);
	fuse_ino_t dir = ctrl_dir_ino(fc);
	struct fuse_session *se = fc->fs->se;

	for (i = 0; i < nch; i++) {
		static const char *const sfx[] = { "", ".identify",
						   ".identify.bin" };
		struct node n = { .fs = fc->fs, .kind = K_NSDATA, .fc = fc,
				  .nsid = ch[i].nsid };
		char name[32];

		dbg("namespace %u %s", ch[i].nsid,
		    ch[i].what == CH_ADDED ? "appeared" :
		    ch[i].what == CH_REMOVED ? "went away" : "changed size");
		if (!se)
			continue;
		if (ch[i].what == CH_RESIZED) {
			fuse_lowlevel_notify_inval_inode(se, tree_ino(&n),
							 0, 0);
			continue;
		}
		for (unsigned k = 0; k < 3; k++) {
			snprintf(name, sizeof name, "n%u%s", ch[i].nsid, sfx[k]);
			fuse_lowlevel_notify_inval_entry(se, dir, name,
							 strlen(name));
		}
		fuse_lowlevel_notify_inval_inode(se, tree_ino(&n), 0, 0);
	}
	free(ch);
	return rc;
}

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
		nvmeof_set_event_cb(fs->ctrls[i]->ctrl, tree_event_cb,
				    fs->ctrls[i]);
		nvmeof_set_state_cb(fs->ctrls[i]->ctrl, tree_state_cb,
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
		if (!fs->ctrls[i]->ctrl)
			continue;
		nvmeof_set_event_cb(fs->ctrls[i]->ctrl, NULL, NULL);
		nvmeof_set_state_cb(fs->ctrls[i]->ctrl, NULL, NULL);
	}
	if (fs->disc) {
		nvmeof_set_event_cb(fs->disc, NULL, NULL);
		nvmeof_set_state_cb(fs->disc, NULL, NULL);
	}
	return true;
}

/* ---- subsystems coming and going (event thread) ------------------------- */

static void inval_root_entry(struct fs *fs, const char *name)
{
	if (!fs->se)
		return;
	fuse_lowlevel_notify_inval_entry(fs->se, FUSE_ROOT_ID, name,
					 strlen(name));
	if (has_colon(name)) {
		char ln[NVMEOF_NQN_MAX + 1];

		colon_free(name, ln, sizeof ln);
		fuse_lowlevel_notify_inval_entry(fs->se, FUSE_ROOT_ID, ln,
						 strlen(ln));
	}
	fuse_lowlevel_notify_inval_inode(fs->se, FUSE_ROOT_ID, 0, 0);
}

int tree_add_ctrl(struct fs *fs, struct nvmeof_ctrl *c, char *err,
		  size_t errlen)
{
	struct fctrl *fc, *old = NULL;
	unsigned i, idx, n = fs->nr_ctrls;

	fc = calloc(1, sizeof *fc);
	if (!fc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fc->fs = fs;
	fc->ctrl = c;
	snprintf(fc->name, sizeof fc->name, "%s", nvmeof_ctrl_subnqn(c));
	ctrl_addr(fc->addr, sizeof fc->addr, c);
	/* A subsystem that comes back takes its old slot (and inodes). */
	for (i = 0, idx = n; i < n; i++) {
		if (!strcmp(fs->ctrls[i]->name, fc->name)) {
			if (!fctrl_gone(fs->ctrls[i])) {
				snprintf(err, errlen, "%s is mounted already",
					 fc->name);
				free(fc);
				return -EEXIST;
			}
			idx = i;
			old = fs->ctrls[i];
			break;
		}
	}
	if (idx == MAX_CTRLS) {
		snprintf(err, errlen, "%u subsystems were mounted already",
			 MAX_CTRLS);
		free(fc);
		return -ENOSPC;
	}
	fc->idx = idx;
	if (tree_ctrl_init(fc, err, errlen) < 0) {
		tree_ctrl_free(fc);
		free(fc);
		return -EIO;
	}
	if (fs->ev_running) {
		nvmeof_set_event_cb(c, tree_event_cb, fc);
		nvmeof_set_state_cb(c, tree_state_cb, fc);
	}
	if (old) {
		old->grave_next = fs->graveyard;
		fs->graveyard = old;
	}
	__atomic_store_n(&fs->ctrls[idx], fc, __ATOMIC_RELEASE);
	if (idx == n)
		__atomic_store_n(&fs->nr_ctrls, n + 1, __ATOMIC_RELEASE);
	inval_root_entry(fs, fc->name);
	return 0;
}

void tree_remove_ctrl(struct fs *fs, struct fctrl *fc, const char *why)
{
	struct nvmeof_ctrl *c = fc->ctrl;
	size_t i;

	/* Gone first: lookups, new opens and the workers' polls stop. */
	__atomic_store_n(&fc->gone, true, __ATOMIC_SEQ_CST);
	pthread_rwlock_wrlock(&fc->ns_lock);
	for (i = 0; i < fc->nr_ns; i++)
		__atomic_store_n(&fc->ns[i]->present, false, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&fc->ns_lock);
	inval_root_entry(fs, fc->name);
	/* What is pending fails with EIO now (the state callback says so
	 * once); nothing waits for a reconnect that cannot succeed. */
	nvmeof_set_event_cb(c, NULL, NULL);
	nvmeof_ctrl_fail(c, why);
	nvmeof_set_state_cb(c, NULL, NULL);
	if (!workers_quiesce(fs, 10000)) {
		/* A worker still inside: keep the (failed) handle. */
		note("%s: a worker is still busy with it; its association stays until unmount",
		     fc->name);
		return;
	}
	__atomic_store_n(&fc->ctrl, NULL, __ATOMIC_RELEASE);
	(void)nvmeof_disconnect(c);
}

/* ---- pseudo-file contents ------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
			char *t = realloc(b->p, cap);

			if (!t) {
				b->oom = true;
				return;
			}
			b->p = t;
			b->cap = cap;
		}
	}
}

static void wall_time(int64_t ms, char *buf, size_t len);

/* The reconnect counters of libnvmeof(3) (nvmeof_ctrl_status). */
static void reconnect_counters(struct sbuf *b,
			       const struct nvmeof_ctrl_status *cs)
{
	char t[64];

	sb_printf(b, "reconnects    : %u\n", cs->reconnects);
	sb_printf(b, "losses        : %u\n", cs->losses);
	sb_printf(b, "attempts_total: %u\n", cs->attempts_total);
	sb_printf(b, "reconnect_asks: %u\n", cs->requests);
	if (strcmp(cs->state, "live") != 0)
		sb_printf(b, "attempts      : %u\n", cs->attempts);
	wall_time(cs->next_attempt_ms, t, sizeof t);
	if (t[0] && !strcmp(cs->state, "reconnecting"))
		sb_printf(b, "next_attempt  : %s\n", t);
	if (cs->last_error[0])
		sb_printf(b, "last_error    : %s\n", cs->last_error);
}

static int status_text(struct fctrl *fc, char **data, size_t *len)
{
	struct nvmeof_ctrl *c = fc->ctrl;
	struct nvmeof_ctrl_status cs;
	struct nvmeof_stats st;
	struct sbuf b = { 0 };
	char since[64] = "", addr[300];
	size_t i, buf_kib;
	unsigned nbufs;

	nvmeof_ctrl_stats(c, &st);
	nvmeof_ctrl_status(c, &cs);
	if (cs.since_ms > 0) {
		time_t t = (time_t)(cs.since_ms / 1000);
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S %z", &tm);
	}
	ctrl_addr(addr, sizeof addr, c);
	sb_printf(&b, "address       : %s\n", addr);
	sb_printf(&b, "transport     : tcp\n");
	sb_printf(&b, "subnqn        : %s\n", nvmeof_ctrl_subnqn(c));
	sb_printf(&b, "hostnqn       : %s\n", nvmeof_ctrl_hostnqn(c));
	sb_printf(&b, "cntlid        : %u\n", nvmeof_ctrl_cntlid(c));
	sb_printf(&b, "state         : %s\n", cs.state);
	if (since[0])
		sb_printf(&b, "state_since   : %s\n", since);
	reconnect_counters(&b, &cs);
	sb_printf(&b, "io_queues     : %d\n", nvmeof_ctrl_nr_io_queues(c));
	sb_printf(&b, "queue_size    : %d\n", nvmeof_ctrl_queue_size(c));
	sb_printf(&b, "keep_alive_ms : %d\n", nvmeof_ctrl_kato_ms(c));
	sb_printf(&b, "mdts_bytes    : %" PRIu32 "\n",
		  nvmeof_ctrl_mdts_bytes(c));
	sb_printf(&b, "read_only     : %s\n",
		  fc->fs->o->read_only ? "yes" : "no");
	sb_printf(&b, "workers       : %d\n", fc->fs->nr_workers);
	io_buffer_stats(&nbufs, &buf_kib);
	sb_printf(&b, "buffers       : %u\n", nbufs);
	sb_printf(&b, "buffer_kib    : %zu\n", buf_kib);
	sb_printf(&b, "namespaces    :");
	pthread_rwlock_rdlock(&fc->ns_lock);
	for (i = 0; i < fc->nr_ns; i++)
		if (fc->ns[i]->present)
			sb_printf(&b, " %u", fc->ns[i]->nsid);
	pthread_rwlock_unlock(&fc->ns_lock);
	sb_printf(&b, "\n");
	sb_printf(&b, "commands      : %" PRIu64 "\n", st.commands);
	sb_printf(&b, "errors        : %" PRIu64 "\n", st.errors);
	sb_printf(&b, "bytes_read    : %" PRIu64 "\n", st.bytes_read);
	sb_printf(&b, "bytes_written : %" PRIu64 "\n", st.bytes_written);
	sb_printf(&b, "retries       : %" PRIu64 "\n", st.retries);
	sb_printf(&b, "aborts        : %" PRIu64 "\n", st.aborts);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*data = b.p;
	*len = b.len;
	return 0;
}

static void wall_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	buf[0] = 0;
	if (ms > 0 && localtime_r(&t, &tm))
		strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm);
}

/* A tree's root status: the discovery association that keeps it current. */
static int disc_status_text(struct fs *fs, char **data, size_t *len)
{
	struct nvmeof_ctrl *c = fs->disc;
	struct nvmeof_ctrl_status cs;
	struct sbuf b = { 0 };
	char t[64];
	unsigned i, n;

	if (!c) {
		/* The association could not be made at mount. */
		sb_printf(&b, "discovery     : none\n");
	} else {
		const uint8_t *id = nvmeof_ctrl_identify(c);
		uint32_t oaes = (uint32_t)id[92] | (uint32_t)id[93] << 8 |
				(uint32_t)id[94] << 16 | (uint32_t)id[95] << 24;

		nvmeof_ctrl_status(c, &cs);
		ctrl_addr(t, sizeof t, c);
		sb_printf(&b, "discovery     : %s\n", t);
		sb_printf(&b, "subnqn        : %s\n", nvmeof_ctrl_subnqn(c));
		sb_printf(&b, "hostnqn       : %s\n", nvmeof_ctrl_hostnqn(c));
		sb_printf(&b, "cntlid        : %u\n", nvmeof_ctrl_cntlid(c));
		sb_printf(&b, "state         : %s\n", cs.state);
		wall_time(cs.since_ms, t, sizeof t);
		if (t[0])
			sb_printf(&b, "state_since   : %s\n", t);
		reconnect_counters(&b, &cs);
		sb_printf(&b, "keep_alive_ms : %d\n", nvmeof_ctrl_kato_ms(c));
		/* Without OAES bit 31 no event comes: the list stays as read
		 * at mount and after each reconnect. */
		sb_printf(&b, "log_events    : %s\n",
			  oaes & (1u << 31) ? "yes" : "not supported");
	}
	pthread_mutex_lock(&fs->ev_lock);
	sb_printf(&b, "events        : %u\n", fs->disc_events);
	sb_printf(&b, "log_reads     : %u\n", fs->disc_reads);
	sb_printf(&b, "genctr        : %" PRIu64 "\n", fs->disc_genctr);
	wall_time(fs->disc_read_ms, t, sizeof t);
	if (t[0])
		sb_printf(&b, "last_read     : %s\n", t);
	if (fs->disc_err[0])
		sb_printf(&b, "read_error    : %s\n", fs->disc_err);
	sb_printf(&b, "added         : %u\n", fs->disc_added);
	sb_printf(&b, "removed       : %u\n", fs->disc_removed);
	pthread_mutex_unlock(&fs->ev_lock);
	sb_printf(&b, "subsystems    :");
	n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct fctrl *fc = ctrl_at(fs, i);

		if (fc)
			sb_printf(&b, " %s", fc->name);
	}
	sb_printf(&b, "\n");
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*data = b.p;
	*len = b.len;
	return 0;
}

static int copy_out(const void *src, size_t n, char **data, size_t *len)
{
	char *p = malloc(n ? n : 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, src, n);
	*data = p;
	*len = n;
	return 0;
}

static int describe_out(enum nvmeof_describe_kind kind, const void *raw,
			size_t n, char **data, size_t *len)
{
	char *t = nvmeof_describe(kind, raw, n, 0);

	if (!t)
		return -(errno ? errno : EIO);
	*data = t;
	*len = strlen(t);
	return 0;
}

int tree_content(const struct node *n, char **data, size_t *len)
{
	struct fctrl *fc = n->fc;
	uint8_t *raw = NULL;
	size_t rlen = 0;
	int rc;

	switch (n->kind) {
	case K_ID:
		return describe_out(NVMEOF_DESC_ID_CTRL, fc->idctrl,
				    sizeof fc->idctrl, data, len);
	case K_IDBIN:
		return copy_out(fc->idctrl, sizeof fc->idctrl, data, len);
	case K_STATUS:
		return status_text(fc, data, len);
	case K_DSTATUS:
		return disc_status_text(n->fs, data, len);
	case K_NSID:
	case K_NSIDBIN:
		raw = malloc(4096);
		if (!raw)
			return -ENOMEM;
		rc = nvmeof_identify(fc->ctrl, 0x00, n->nsid, 0, raw);
		if (rc == 0)
			rc = n->kind == K_NSIDBIN ?
			     copy_out(raw, 4096, data, len) :
			     describe_out(NVMEOF_DESC_ID_NS, raw, 4096, data,
					  len);
		free(raw);
		return rc;
	case K_LOG:
		rc = fetch_log(fc, n->log, &raw, &rlen);
		if (rc < 0)
			return rc;
		if (n->bin) {
			*data = (char *)raw;
			*len = rlen;
			return 0;
		}
		rc = describe_out(logs[n->log].kind, raw, rlen, data, len);
		free(raw);
		return rc;
	default:
		return -EISDIR;
	}
}

/* ---- attributes ------------------------------------------------------------ */

/* Directories in a directory (its link count is 2 more). */
static unsigned subdirs(const struct node *n)
{
	unsigned i, k = 0;

	if (n->kind == K_CTRL)
		return 1; /* log/ */
	if (n->kind != K_ROOT)
		return 0;
	for (i = 0; i < __atomic_load_n(&n->fs->nr_ctrls, __ATOMIC_ACQUIRE); i++)
		if (ctrl_at(n->fs, i))
			k++;
	return k;
}

static int node_stat(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = tree_ino(n);
	st->st_uid = n->fs->uid;
	st->st_gid = n->fs->gid;
	st->st_atim = st->st_mtim = st->st_ctim = n->fs->mtime;
	st->st_blksize = 4096;
	st->st_nlink = 1;
	switch (n->kind) {
	case K_ROOT:
	case K_CTRL:
	case K_LOGDIR:
		st->st_mode = S_IFDIR | 0555;
		/* The owner may set the control attribute on the root (the
		 * kernel asks for write permission); nothing is created. */
		if (st->st_ino == FUSE_ROOT_ID)
			st->st_mode |= 0200;
		st->st_nlink = 2 + subdirs(n);
		return 0;
	case K_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)strlen(n->fc->name);
		return 0;
	case K_NSDATA: {
		struct fns *ns = tree_ns(n->fc, n->nsid);

		if (!ns)
			return -ENOENT;
		st->st_mode = S_IFREG | (ns->ro ? 0444 : 0644);
		st->st_size = (off_t)__atomic_load_n(&ns->size,
						     __ATOMIC_RELAXED);
		st->st_blksize = ns->lba_size;
		st->st_blocks = st->st_size / 512;
		return 0;
	}
	case K_IDBIN:
	case K_NSIDBIN:
		st->st_mode = S_IFREG | 0444;
		st->st_size = 4096;
		return 0;
	case K_LOG:
		if (n->bin && logs[n->log].size) {
			st->st_mode = S_IFREG | 0444;
			st->st_size = (off_t)logs[n->log].size;
			return 0;
		}
		if (n->bin && n->log != LOG_ANA) {
			st->st_mode = S_IFREG | 0444;
			st->st_size = (off_t)n->fc->elpe * 64;
			return 0;
		}
		/* the size of what a read would see now */
		/* fall through */
	default: {
		char *data = NULL;
		size_t len = 0;
		int rc = tree_content(n, &data, &len);

		free(data);
		st->st_mode = S_IFREG | 0444;
		/* A page that cannot be read still shows; open says why. */
		st->st_size = rc < 0 ? 0 : (off_t)len;
		return 0;
	}
	}
}

static double attr_timeout(const struct node *n)
{
	return is_dir(n) || n->kind == K_NSDATA || n->kind == K_IDBIN ||
	       n->kind == K_NSIDBIN ? ATTR_TIMEOUT : 0.0;
}

/* ---- names ---------------------------------------------------------------- */

static const char *const ctrl_fixed[] = { "identify", "identify.bin", "status",
					  "log" };
static const enum node_kind ctrl_fixed_kind[] = { K_ID, K_IDBIN, K_STATUS,
						  K_LOGDIR };

/* "n<nsid>" with an optional suffix; returns the kind or -1. */
static int parse_ns_name(const char *name, uint32_t *nsid)
{
	const char *p = name + 1;
	uint64_t v = 0;

	if (name[0] != 'n' || *p < '1' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v >= 0xffffffffull)
			return -1;
		p++;
	}
	*nsid = (uint32_t)v;
	if (!*p)
		return K_NSDATA;
	if (!strcmp(p, ".identify"))
		return K_NSID;
	if (!strcmp(p, ".identify.bin"))
		return K_NSIDBIN;
	return -1;
}

static int lookup_child(const struct node *dir, const char *name,
			struct node *out)
{
	unsigned i;

	memset(out, 0, sizeof *out);
	out->fs = dir->fs;
	out->fc = dir->fc;
	switch (dir->kind) {
	case K_ROOT:
		if (!strcmp(name, "status")) {
			out->kind = K_DSTATUS;
			return 0;
		}
		for (i = 0; i < __atomic_load_n(&dir->fs->nr_ctrls, __ATOMIC_ACQUIRE);
		     i++) {
			struct fctrl *fc = ctrl_at(dir->fs, i);

			if (fc && !strcmp(fc->name, name)) {
				out->kind = K_CTRL;
				out->fc = fc;
				return 0;
			}
		}
		for (i = 0; i < __atomic_load_n(&dir->fs->nr_ctrls, __ATOMIC_ACQUIRE);
		     i++) {
			struct fctrl *fc = ctrl_at(dir->fs, i);
			char ln[NVMEOF_NQN_MAX + 1];

			if (!fc || !has_colon(fc->name))
				continue;
			link_name(fc, ln, sizeof ln);
			if (!strcmp(ln, name)) {
				out->kind = K_LINK;
				out->fc = fc;
				return 0;
			}
		}
		return -ENOENT;
	case K_CTRL: {
		int k;

		for (i = 0; i < 4; i++) {
			if (!strcmp(ctrl_fixed[i], name)) {
				out->kind = ctrl_fixed_kind[i];
				return 0;
			}
		}
		k = parse_ns_name(name, &out->nsid);
		if (k < 0 || !tree_ns(dir->fc, out->nsid))
			return -ENOENT;
		out->kind = (enum node_kind)k;
		return 0;
	}
	case K_LOGDIR:
		for (i = 0; i < (unsigned)NR_LOGS; i++) {
			size_t l = strlen(logs[i].name);

			if (!log_present(dir->fc, (int)i) ||
			    strncmp(logs[i].name, name, l))
				continue;
			if (!name[l] || !strcmp(name + l, ".bin")) {
				out->kind = K_LOG;
				out->log = (int)i;
				out->bin = name[l] != 0;
				return 0;
			}
		}
		return -ENOENT;
	default:
		return -ENOTDIR;
	}
}

/* ---- open file handles ------------------------------------------------------ */

/* Every handle is on a list: at unmount the kernel drops the RELEASE
 * requests it has not handed over yet (a file closed just before), so
 * teardown frees what is left instead of leaking it. */
struct fh_track {
	struct fh_track *prev, *next;
};
static struct fh_track fh_all = { &fh_all, &fh_all };
static pthread_mutex_t fh_lock = PTHREAD_MUTEX_INITIALIZER;

static void *fh_alloc(size_t n)
{
	struct fh_track *t = malloc(sizeof *t + n);

	if (!t)
		return NULL;
	pthread_mutex_lock(&fh_lock);
	t->next = fh_all.next;
	t->prev = &fh_all;
	fh_all.next->prev = t;
	fh_all.next = t;
	pthread_mutex_unlock(&fh_lock);
	return t + 1;
}

static void fh_free(void *h)
{
	struct fh_track *t = (struct fh_track *)h - 1;

	pthread_mutex_lock(&fh_lock);
	t->prev->next = t->next;
	t->next->prev = t->prev;
	pthread_mutex_unlock(&fh_lock);
	free(t);
}

void tree_free_handles(void)
{
	while (fh_all.next != &fh_all)
		fh_free(fh_all.next + 1);
}

/* ---- operations ------------------------------------------------------------ */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	/* 1 MiB requests: libfuse derives max_pages (256) from max_write. */
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* Without it an io_submit() of O_DIRECT I/O waits for each request:
	 * queue depth through libaio needs it. */
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* O_TRUNC comes as a setattr we ignore: a namespace keeps its size
	 * (dd without conv=notrunc must not make the kernel think it is 0). */
	conn->want &= ~(unsigned)FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
				  FUSE_CAP_SPLICE_MOVE);
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* Background requests (readahead, async direct I/O) in flight: at
	 * least what the queues can carry. */
	conn->max_background = fs->max_background;
	conn->congestion_threshold = fs->max_background * 3 / 4;
	dbg("init: protocol 7.%u, max_write %u, max_background %u, want 0x%x",
	    conn->proto_minor, conn->max_write, conn->max_background,
	    conn->want);
}

static void reply_node_entry(fuse_req_t req, const struct node *n)
{
	struct fuse_entry_param e;
	int rc;

	memset(&e, 0, sizeof e);
	rc = node_stat(n, &e.attr);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	e.ino = e.attr.st_ino;
	if (n->kind == K_NSDATA) {
		struct fns *ns = tree_ns(n->fc, n->nsid);

		e.generation = ns ? ns->generation : 0;
	}
	e.attr_timeout = attr_timeout(n);
	e.entry_timeout = ENTRY_TIMEOUT;
	fuse_reply_entry(req, &e);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node dir, n;
	int rc = tree_decode(fuse_req_userdata(req), parent, &dir);

	if (rc == 0)
		rc = lookup_child(&dir, name, &n);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_node_entry(req, &n);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);

	(void)fi;
	if (rc == 0)
		rc = node_stat(&n, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, attr_timeout(&n));
}

/* The size of a namespace cannot change: truncation to its size or less
 * (O_TRUNC, dd without conv=notrunc) is accepted and does nothing, as on a
 * block device; beyond it is EFBIG.  Mode, owner and times are ignored. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);

	(void)fi;
	if (rc == 0)
		rc = node_stat(&n, &st);
	if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		if (n.kind != K_NSDATA)
			rc = is_dir(&n) ? -EISDIR : -EACCES;
		else if (attr->st_size > st.st_size)
			rc = -EFBIG;
		else if (n.fs->o->read_only || !(st.st_mode & 0200))
			rc = -EROFS;
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, attr_timeout(&n));
}

struct dirent_ent {
	const char *name;
	struct node n;
	uint64_t cookie;
};

/* Append one entry; false when the reply buffer is full. */
static bool add_ent(fuse_req_t req, char *buf, size_t size, size_t *pos,
		    const char *name, const struct node *n, uint64_t cookie)
{
	struct stat st;
	size_t l;

	memset(&st, 0, sizeof st);
	st.st_ino = tree_ino(n);
	st.st_mode = is_dir(n) ? S_IFDIR : n->kind == K_LINK ? S_IFLNK : S_IFREG;
	l = fuse_add_direntry(req, buf + *pos, size - *pos, name, &st,
			      (off_t)cookie);
	if (l > size - *pos)
		return false;
	*pos += l;
	return true;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct node dir, n;
	char *buf;
	size_t pos = 0, i;
	uint64_t o = (uint64_t)off;
	int rc = tree_decode(fuse_req_userdata(req), ino, &dir);

	(void)fi;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (!is_dir(&dir)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Cookies are stable names, not positions: a namespace appearing
	 * between two calls does not shift the others. */
	if (o < 1 && !add_ent(req, buf, size, &pos, ".", &dir, 1))
		goto out;
	if (o < 2) {
		struct node parent = dir;

		if (dir.kind == K_LOGDIR)
			parent.kind = K_CTRL;
		else if (dir.kind == K_CTRL && dir.fs->multi)
			parent.kind = K_ROOT;
		if (!add_ent(req, buf, size, &pos, "..", &parent, 2))
			goto out;
	}
	memset(&n, 0, sizeof n);
	n.fs = dir.fs;
	n.fc = dir.fc;
	switch (dir.kind) {
	case K_ROOT:
		if (o < 3) {
			n.kind = K_DSTATUS;
			if (!add_ent(req, buf, size, &pos, "status", &n, 3))
				goto out;
		}
		/* A cookie per slot: directories that come and go between
		 * two calls do not shift the others. */
		for (i = 0; i < __atomic_load_n(&dir.fs->nr_ctrls, __ATOMIC_ACQUIRE);
		     i++) {
			uint64_t c = 4 + i;

			if (c <= o)
				continue;
			n.kind = K_CTRL;
			n.fc = ctrl_at(dir.fs, (unsigned)i);
			if (!n.fc)
				continue;
			if (!add_ent(req, buf, size, &pos, n.fc->name, &n, c))
				goto out;
		}
		/* then the links, with cookies past every slot's */
		for (i = 0; i < __atomic_load_n(&dir.fs->nr_ctrls, __ATOMIC_ACQUIRE);
		     i++) {
			uint64_t c = 4 + MAX_CTRLS + i;
			char ln[NVMEOF_NQN_MAX + 1];

			if (c <= o)
				continue;
			n.kind = K_LINK;
			n.fc = ctrl_at(dir.fs, (unsigned)i);
			if (!n.fc || !has_colon(n.fc->name))
				continue;
			link_name(n.fc, ln, sizeof ln);
			if (!add_ent(req, buf, size, &pos, ln, &n, c))
				goto out;
		}
		break;
	case K_LOGDIR:
		for (i = 0; i < (size_t)NR_LOGS * 2; i++) {
			uint64_t c = 3 + i;
			char name[32];

			if (c <= o || !log_present(dir.fc, (int)(i / 2)))
				continue;
			n.kind = K_LOG;
			n.log = (int)(i / 2);
			n.bin = i & 1;
			snprintf(name, sizeof name, "%s%s", logs[n.log].name,
				 n.bin ? ".bin" : "");
			if (!add_ent(req, buf, size, &pos, name, &n, c))
				goto out;
		}
		break;
	case K_CTRL: {
		uint32_t *ids = NULL;
		size_t nr = 0;

		for (i = 0; i < 4; i++) {
			uint64_t c = 3 + i;

			if (c <= o)
				continue;
			n.kind = ctrl_fixed_kind[i];
			if (!add_ent(req, buf, size, &pos, ctrl_fixed[i], &n, c))
				goto out;
		}
		pthread_rwlock_rdlock(&dir.fc->ns_lock);
		ids = malloc((dir.fc->nr_ns + 1) * sizeof *ids);
		if (ids)
			for (i = 0; i < dir.fc->nr_ns; i++)
				if (dir.fc->ns[i]->present)
					ids[nr++] = dir.fc->ns[i]->nsid;
		pthread_rwlock_unlock(&dir.fc->ns_lock);
		for (i = 0; i < nr; i++) {
			static const char *const sfx[] = { "", ".identify",
							   ".identify.bin" };
			static const enum node_kind kinds[] = {
				K_NSDATA, K_NSID, K_NSIDBIN };

			for (unsigned k = 0; k < 3; k++) {
				uint64_t c = 16 + (uint64_t)ids[i] * 4 + k;
				char name[40];

				if (c <= o)
					continue;
				n.kind = kinds[k];
				n.nsid = ids[i];
				snprintf(name, sizeof name, "n%u%s", ids[i],
					 sfx[k]);
				if (!add_ent(req, buf, size, &pos, name, &n, c)) {
					free(ids);
					goto out;
				}
			}
		}
		free(ids);
		break;
	}
	default:
		break;
	}
out:
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);
	int acc = fi->flags & O_ACCMODE;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (is_dir(&n)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (n.kind == K_NSDATA) {
		struct fns *ns = tree_ns(n.fc, n.nsid);
		struct fh_data *h;

		if (!ns) {
			fuse_reply_err(req, ENOENT);
			return;
		}
		if (acc != O_RDONLY && ns->ro) {
			fuse_reply_err(req, EROFS);
			return;
		}
		h = fh_alloc(sizeof *h);
		if (!h) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		h->magic = FH_DATA_MAGIC;
		h->ns = ns;
		h->flags = fi->flags;
		fi->fh = (uint64_t)(uintptr_t)h;
		fi->keep_cache = 0;
		fi->direct_io = 0;
		if (fuse_reply_open(req, fi) != 0)
			fh_free(h);
		return;
	}
	if (acc != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	{
		char *data = NULL;
		size_t len = 0;
		struct fh_pseudo *p;

		/* One snapshot per open: every read of this open sees it. */
		rc = tree_content(&n, &data, &len);
		if (rc < 0) {
			dbg("open %llx: %s", (unsigned long long)ino,
			    nvmeof_get_error());
			fuse_reply_err(req, fuse_errno(rc));
			return;
		}
		p = fh_alloc(sizeof *p + len);
		if (!p) {
			free(data);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		p->magic = FH_PSEUDO_MAGIC;
		p->len = len;
		memcpy(p->data, data, len);
		free(data);
		fi->fh = (uint64_t)(uintptr_t)p;
		/* The kernel neither caches it nor trusts st_size. */
		fi->direct_io = 1;
		fi->keep_cache = 0;
		if (fuse_reply_open(req, fi) != 0)
			fh_free(p);
	}
}

/* fi's namespace handle, when its namespace is still there.  Otherwise
 * NULL, with the request answered: not_data for a handle of another kind
 * (a pseudo-file), EIO when the namespace was removed under the open file,
 * as for a disk that went away. */
static struct fh_data *live_data(fuse_req_t req, struct fuse_file_info *fi,
				 int not_data)
{
	struct fh_data *h = (struct fh_data *)(uintptr_t)fi->fh;

	if (h->magic != FH_DATA_MAGIC) {
		fuse_reply_err(req, not_data);
		return NULL;
	}
	if (!__atomic_load_n(&h->ns->present, __ATOMIC_RELAXED)) {
		fuse_reply_err(req, EIO);
		return NULL;
	}
	return h;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	int magic = *(int *)(uintptr_t)fi->fh;

	(void)ino;
	if (magic == FH_DATA_MAGIC) {
		struct fh_data *h = live_data(req, fi, 0);

		if (h)
			io_read(req, h->ns, size, off);
		return;
	}
	{
		struct fh_pseudo *p = (struct fh_pseudo *)(uintptr_t)fi->fh;
		char *copy;

		if (off < 0 || (size_t)off >= p->len) {
			fuse_reply_buf(req, NULL, 0);
			return;
		}
		if (size > p->len - (size_t)off)
			size = p->len - (size_t)off;
		/* From a copy: the reader may close the file (RELEASE, on
		 * another worker, frees p) as soon as the reply is in the
		 * kernel, and ASan's writev reads the buffer after that. */
		copy = malloc(size);
		if (!copy) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		memcpy(copy, p->data + off, size);
		fuse_reply_buf(req, copy, size);
		free(copy);
	}
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh_data *h = live_data(req, fi, EBADF);

	(void)ino;
	if (h)
		io_write(req, h->ns, buf, size, off, h->flags | fi->flags);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	fh_free((void *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct fh_data *h = (struct fh_data *)(uintptr_t)fi->fh;

	(void)ino;
	(void)datasync;
	if (h->magic == FH_DATA_MAGIC && h->ns->ro) {
		fuse_reply_err(req, 0);
		return;
	}
	h = live_data(req, fi, 0);
	if (h)
		io_fsync(req, h->ns);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length, struct fuse_file_info *fi)
{
	struct fh_data *h = live_data(req, fi, EOPNOTSUPP);

	(void)ino;
	if (h)
		io_fallocate(req, h->ns, mode, offset, length);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct node n;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);

	if (rc == 0 && n.kind != K_LINK)
		rc = -EINVAL;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, n.fc->name);
}

/* The control attribute of the root (nvmeof disconnect/reconnect); every
 * other name is not supported (ENOSYS would make the kernel stop sending
 * setxattr at all). */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	int rc = -ENOTSUP;

	(void)flags;
	if (ino == FUSE_ROOT_ID && !strcmp(name, CONTROL_XATTR)) {
		const struct fuse_ctx *ctx = fuse_req_ctx(req);

		/* The kernel checked write permission on the root (the
		 * owner's); allow_other must not let anyone else in. */
		struct fs *fs = fuse_req_userdata(req);

		rc = ctx->uid == 0 || ctx->uid == fs->uid ?
		     control_request(fs, value, size) : -EPERM;
	}
	fuse_reply_err(req, -rc);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fuse_req_userdata(req);
	struct statvfs sv;
	uint64_t bytes = 0, files = 0;
	unsigned c;
	size_t i;

	(void)ino;
	for (c = 0; c < __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE); c++) {
		struct fctrl *fc = ctrl_at(fs, c);

		if (!fc)
			continue;
		pthread_rwlock_rdlock(&fc->ns_lock);
		for (i = 0; i < fc->nr_ns; i++) {
			if (fc->ns[i]->present) {
				bytes += fc->ns[i]->size;
				files += 3;
			}
		}
		pthread_rwlock_unlock(&fc->ns_lock);
		files += 4 + 2 * NR_LOGS;
	}
	memset(&sv, 0, sizeof sv);
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = bytes / 4096;
	sv.f_files = files;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops tree_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.readdir = op_readdir,
	.statfs = op_statfs,
	.fallocate = op_fallocate,
	.setxattr = op_setxattr,
	.readlink = op_readlink,
};

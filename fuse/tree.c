/* SPDX-License-Identifier: MIT */
/*
 * The tree: inode numbers, the namespace table of each controller and its
 * rescans, subsystem directories coming and going, attributes, names
 * (lookup, listing).  What the files hold is content.c's; the FUSE ops
 * over all this are ops.c's.
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

#define ATTR_TIMEOUT 1.0

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
	if ((kind < K_CTRL || kind > K_NSIDBIN) && kind != K_LINK &&
	    kind != K_PATHS)
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

bool tree_is_dir(const struct node *n)
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
	/* the paths match their namespaces again (a mismatch: said, and
	 * that path keeps its old map) */
	if (fc->mp && nvmeof_mpath_rescan(fc->mp) < 0)
		note("%s: %s", fc->name, nvmeof_get_error());
	rc = nvmeof_ns_list(fctrl_admin(fc), &ids, &n);
	if (rc < 0)
		return rc;
	infos = calloc(n ? n : 1, sizeof *infos);
	if (!infos) {
		free(ids);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (nvmeof_ns_info(fctrl_admin(fc), ids[i], &infos[good]) == 0)
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

int tree_add_ctrl(struct fs *fs, struct nvmeof_mpath *mp, char *err,
		  size_t errlen)
{
	struct nvmeof_ctrl *c = nvmeof_mpath_ctrl(mp);
	struct fctrl *fc, *old = NULL;
	unsigned i, idx, n = fs->nr_ctrls;

	fc = calloc(1, sizeof *fc);
	if (!fc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fc->fs = fs;
	fc->mp = mp;
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
		nvmeof_mpath_set_event_cb(mp, tree_event_cb, fc);
		nvmeof_mpath_set_state_cb(mp, tree_state_cb, fc);
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
	struct nvmeof_mpath *mp = fc->mp;
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
	nvmeof_mpath_set_event_cb(mp, NULL, NULL);
	nvmeof_mpath_fail(mp, why);
	nvmeof_mpath_set_state_cb(mp, NULL, NULL);
	if (!workers_quiesce(fs, 10000)) {
		/* A worker still inside: keep the (failed) handle. */
		note("%s: a worker is still busy with it; its association stays until unmount",
		     fc->name);
		return;
	}
	__atomic_store_n(&fc->ctrl, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&fc->mp, NULL, __ATOMIC_RELEASE);
	(void)nvmeof_mpath_disconnect(mp);
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

int tree_stat(const struct node *n, struct stat *st)
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
		if (n->bin && log_size(n->log)) {
			st->st_mode = S_IFREG | 0444;
			st->st_size = (off_t)log_size(n->log);
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

double tree_attr_timeout(const struct node *n)
{
	return tree_is_dir(n) || n->kind == K_NSDATA || n->kind == K_IDBIN ||
	       n->kind == K_NSIDBIN ? ATTR_TIMEOUT : 0.0;
}

/* ---- names ---------------------------------------------------------------- */

static const char *const ctrl_fixed[] = { "identify", "identify.bin", "status",
					  "log", "paths" };
static const enum node_kind ctrl_fixed_kind[] = { K_ID, K_IDBIN, K_STATUS,
						  K_LOGDIR, K_PATHS };
#define NR_FIXED 5

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

int tree_lookup(const struct node *dir, const char *name,
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

		for (i = 0; i < NR_FIXED; i++) {
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
			size_t l = strlen(log_name((int)i));

			if (!log_present(dir->fc, (int)i) ||
			    strncmp(log_name((int)i), name, l))
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

/* ---- listing a directory ---------------------------------------------------
 * Cookies are stable names, not positions: a namespace or a subsystem
 * appearing between two calls does not shift the others. */

static bool list_root(const struct node *dir, struct node *n, uint64_t o,
		      tree_ent_fn fn, void *arg)
{
	unsigned i;

	if (o < 3) {
		n->kind = K_DSTATUS;
		if (!fn(arg, "status", n, 3))
			return false;
	}
	/* A cookie per slot: directories that come and go between two
	 * calls do not shift the others. */
	for (i = 0; i < __atomic_load_n(&dir->fs->nr_ctrls, __ATOMIC_ACQUIRE); i++) {
		uint64_t c = 4 + i;

		n->kind = K_CTRL;
		n->fc = ctrl_at(dir->fs, i);
		if (c <= o || !n->fc)
			continue;
		if (!fn(arg, n->fc->name, n, c))
			return false;
	}
	/* then the links, with cookies past every slot's */
	for (i = 0; i < __atomic_load_n(&dir->fs->nr_ctrls, __ATOMIC_ACQUIRE); i++) {
		uint64_t c = 4 + MAX_CTRLS + i;
		char ln[NVMEOF_NQN_MAX + 1];

		n->kind = K_LINK;
		n->fc = ctrl_at(dir->fs, i);
		if (c <= o || !n->fc || !has_colon(n->fc->name))
			continue;
		link_name(n->fc, ln, sizeof ln);
		if (!fn(arg, ln, n, c))
			return false;
	}
	return true;
}

static bool list_logdir(const struct node *dir, struct node *n, uint64_t o,
			tree_ent_fn fn, void *arg)
{
	int i;

	for (i = 0; i < NR_LOGS * 2; i++) {
		uint64_t c = 3 + (uint64_t)i;
		char name[32];

		if (c <= o || !log_present(dir->fc, i / 2))
			continue;
		n->kind = K_LOG;
		n->log = i / 2;
		n->bin = i & 1;
		snprintf(name, sizeof name, "%s%s", log_name(n->log),
			 n->bin ? ".bin" : "");
		if (!fn(arg, name, n, c))
			return false;
	}
	return true;
}

/* The present namespaces' IDs, malloc()ed (NULL: none or no memory). */
static uint32_t *present_nsids(struct fctrl *fc, size_t *nr)
{
	uint32_t *ids;
	size_t i;

	*nr = 0;
	pthread_rwlock_rdlock(&fc->ns_lock);
	ids = malloc((fc->nr_ns + 1) * sizeof *ids);
	if (ids)
		for (i = 0; i < fc->nr_ns; i++)
			if (fc->ns[i]->present)
				ids[(*nr)++] = fc->ns[i]->nsid;
	pthread_rwlock_unlock(&fc->ns_lock);
	return ids;
}

static bool list_ctrl(const struct node *dir, struct node *n, uint64_t o,
		      tree_ent_fn fn, void *arg)
{
	static const char *const sfx[] = { "", ".identify", ".identify.bin" };
	static const enum node_kind kinds[] = { K_NSDATA, K_NSID, K_NSIDBIN };
	uint32_t *ids;
	size_t i, nr;
	bool more = true;

	for (i = 0; i < NR_FIXED; i++) {
		uint64_t c = 3 + i;

		if (c <= o)
			continue;
		n->kind = ctrl_fixed_kind[i];
		if (!fn(arg, ctrl_fixed[i], n, c))
			return false;
	}
	ids = present_nsids(dir->fc, &nr);
	for (i = 0; i < nr && more; i++) {
		for (unsigned k = 0; k < 3 && more; k++) {
			uint64_t c = 16 + (uint64_t)ids[i] * 4 + k;
			char name[40];

			if (c <= o)
				continue;
			n->kind = kinds[k];
			n->nsid = ids[i];
			snprintf(name, sizeof name, "n%u%s", ids[i], sfx[k]);
			more = fn(arg, name, n, c);
		}
	}
	free(ids);
	return more;
}

bool tree_list(const struct node *dir, uint64_t o, tree_ent_fn fn, void *arg)
{
	struct node n;

	if (o < 1 && !fn(arg, ".", dir, 1))
		return false;
	if (o < 2) {
		struct node parent = *dir;

		if (dir->kind == K_LOGDIR)
			parent.kind = K_CTRL;
		else if (dir->kind == K_CTRL && dir->fs->multi)
			parent.kind = K_ROOT;
		if (!fn(arg, "..", &parent, 2))
			return false;
	}
	memset(&n, 0, sizeof n);
	n.fs = dir->fs;
	n.fc = dir->fc;
	switch (dir->kind) {
	case K_ROOT:
		return list_root(dir, &n, o, fn, arg);
	case K_LOGDIR:
		return list_logdir(dir, &n, o, fn, arg);
	case K_CTRL:
		return list_ctrl(dir, &n, o, fn, arg);
	default:
		return true;
	}
}

/* For statfs: bytes of every present namespace, and the files shown. */
void tree_usage(struct fs *fs, uint64_t *bytes, uint64_t *files)
{
	unsigned c;
	size_t i;

	*bytes = *files = 0;
	for (c = 0; c < __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE); c++) {
		struct fctrl *fc = ctrl_at(fs, c);

		if (!fc)
			continue;
		pthread_rwlock_rdlock(&fc->ns_lock);
		for (i = 0; i < fc->nr_ns; i++) {
			if (fc->ns[i]->present) {
				*bytes += fc->ns[i]->size;
				*files += 3;
			}
		}
		pthread_rwlock_unlock(&fc->ns_lock);
		*files += 4 + 2 * NR_LOGS;
	}
}


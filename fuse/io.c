/* SPDX-License-Identifier: MIT */
/*
 * Namespace data: read, write, read-modify-write of unaligned edges, fsync
 * and fallocate, mapped onto NVM commands of the calling worker's queue.
 *
 * Reads and aligned writes are asynchronous: the handler submits and
 * returns, the completion callback replies to the kernel.  Their contexts
 * come from the worker's pool (no malloc once warm).  Their data lives in
 * the FUSE receive buffer the request arrived in: a write's data is there
 * already, a read's lands there; the handler takes that buffer over, the
 * worker receives the next request into another one.
 *
 * Unaligned writes, Write Zeroes and deallocation are synchronous (rare,
 * and they must hold their range exclusive across a read and a write).
 * Range locks are striped by 64 KiB granule; see struct stripe in fuse.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuse.h"

__thread struct worker *tls_worker;

enum { OP_READ = 1, OP_WRITE, OP_FLUSH };

struct ioctx {
	struct ioctx *next;       /* free list */
	struct ioctx *all_next;   /* pool.all_ctx */
	bool in_use;
	struct worker *owner;
	fuse_req_t req;
	struct fns *ns;
	int op;
	void *buf;                /* pool buffer (a read not fitting rbuf) */
	int cls;                  /* its class, -1: malloc()ed, none: -2 */
	void *rbuf;               /* receive buffer taken over */
	char *data;               /* where a read's data lands */
	size_t head, len;
	uint64_t stripes;         /* held shared (writes) */
};

/* ---- pools -------------------------------------------------------------- */

/*
 * The receive buffers (1 MiB and a page each, made by libfuse) are shared
 * by all workers in one free list: there are as many as requests were ever
 * in flight at once, plus one per worker, and that peak comes as soon as
 * the load reaches its queue depth.  Lists per worker, or per size, each
 * grow to their own peak, reached at random times long after (the slow
 * growth bench/rss-soak.sh measured).  The list is a FIFO: every buffer
 * takes its turn, so each one's pages are all touched (resident) within
 * moments, not at the rare times a LIFO reaches down to it.  The size-class
 * pools below serve only read-modify-write and the rare read that does not
 * fit.
 */
static struct {
	pthread_mutex_t lock;
	void **free;              /* a ring: nfree from head */
	unsigned head, nfree, cap;
	unsigned total;           /* made (or being made) by libfuse, not freed */
	size_t size;              /* usable bytes of one, once one came back */
} rbufs = { .lock = PTHREAD_MUTEX_INITIALIZER };
static size_t pool_bytes;         /* size-class buffers held (atomic) */

/* Where a read's data can land in receive buffer rb of usable size n:
 * on the first page boundary past the request (its header is 80 bytes),
 * as a pool buffer would be: copies to and from it are fastest aligned.
 * NULL if bytes do not fit from there. */
static char *rbuf_data(void *rb, size_t n, size_t bytes)
{
	uintptr_t a = ((uintptr_t)rb + 128 + 4095) & ~(uintptr_t)4095;

	return a - (uintptr_t)rb + bytes <= n ? (char *)a : NULL;
}

int io_rbufs_init(unsigned cap)
{
	rbufs.free = calloc(cap ? cap : 1, sizeof(void *));
	rbufs.cap = cap ? cap : 1;
	rbufs.head = rbufs.nfree = 0;
	return rbufs.free ? 0 : -ENOMEM;
}

void io_rbufs_fini(void)
{
	unsigned i;

	for (i = 0; i < rbufs.nfree; i++)
		free(rbufs.free[(rbufs.head + i) % rbufs.cap]);
	free(rbufs.free);
	rbufs.free = NULL;
	rbufs.head = rbufs.nfree = rbufs.cap = 0;
	rbufs.total = 0;
	rbufs.size = 0;
}

void *io_rbuf_get(void)
{
	void *b = NULL;

	pthread_mutex_lock(&rbufs.lock);
	if (rbufs.nfree) {
		b = rbufs.free[rbufs.head];
		rbufs.head = (rbufs.head + 1) % rbufs.cap;
		rbufs.nfree--;
	} else {
		rbufs.total++; /* NULL: libfuse makes one */
	}
	pthread_mutex_unlock(&rbufs.lock);
	return b;
}

void io_rbuf_put(void *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&rbufs.lock);
	if (!rbufs.size)
		rbufs.size = malloc_usable_size(b);
	if (rbufs.nfree < rbufs.cap) {
		rbufs.free[(rbufs.head + rbufs.nfree++) % rbufs.cap] = b;
		b = NULL;
	} else {
		rbufs.total--;
	}
	pthread_mutex_unlock(&rbufs.lock);
	free(b);
}

void io_buffer_stats(unsigned *nr_rbufs, size_t *kib)
{
	size_t bytes;

	pthread_mutex_lock(&rbufs.lock);
	/* From a FUSE request (the status file): its buffer is one too. */
	if (!rbufs.size && tls_worker && tls_worker->cur_rbuf)
		rbufs.size = malloc_usable_size(tls_worker->cur_rbuf);
	*nr_rbufs = rbufs.total;
	bytes = rbufs.total * rbufs.size;
	pthread_mutex_unlock(&rbufs.lock);
	bytes += __atomic_load_n(&pool_bytes, __ATOMIC_RELAXED);
	*kib = bytes >> 10;
}

#define CLASS_MIN 4096u

static int size_class(size_t n)
{
	int c = 0;
	size_t sz = CLASS_MIN;

	while (sz < n && c < NR_CLASSES) {
		sz <<= 1;
		c++;
	}
	return c < NR_CLASSES ? c : -1;
}

int pool_init(struct pool *p, unsigned qd)
{
	int c;

	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	for (c = 0; c < NR_CLASSES; c++) {
		/* Keep enough for a full queue of small requests, fewer of
		 * the big ones (their pages are touched only when used). */
		unsigned cap = c < 6 ? qd : qd < 32 ? qd : 32;

		p->cap[c] = cap ? cap : 1;
		p->bufs[c] = calloc(p->cap[c], sizeof(void *));
		if (!p->bufs[c])
			return -ENOMEM;
	}
	return 0;
}

void pool_fini(struct pool *p)
{
	struct ioctx *x, *n;
	unsigned i;
	int c;

	for (x = p->all_ctx; x; x = n) {
		n = x->all_next;
		if (x->in_use && x->req)
			fuse_reply_err(x->req, EIO);
		if (x->buf && x->cls >= 0)
			__atomic_sub_fetch(&pool_bytes, (size_t)CLASS_MIN << x->cls,
					   __ATOMIC_RELAXED);
		free(x->buf);
		io_rbuf_put(x->rbuf);
		free(x);
	}
	for (c = 0; c < NR_CLASSES; c++) {
		for (i = 0; i < p->nbufs[c]; i++) {
			free(p->bufs[c][i]);
			__atomic_sub_fetch(&pool_bytes, (size_t)CLASS_MIN << c,
					   __ATOMIC_RELAXED);
		}
		free(p->bufs[c]);
	}
	pthread_mutex_destroy(&p->lock);
	memset(p, 0, sizeof *p);
}

static void *buf_get(struct pool *p, size_t n, int *cls)
{
	int c = size_class(n);
	void *b = NULL;

	*cls = c;
	if (c >= 0) {
		pthread_mutex_lock(&p->lock);
		if (p->nbufs[c])
			b = p->bufs[c][--p->nbufs[c]];
		pthread_mutex_unlock(&p->lock);
		n = (size_t)CLASS_MIN << c;
	}
	if (!b) {
		if (posix_memalign(&b, 4096, n))
			return NULL;
		if (c >= 0)
			__atomic_add_fetch(&pool_bytes, n, __ATOMIC_RELAXED);
	}
	return b;
}

static void buf_put(struct pool *p, void *b, int c)
{
	if (!b)
		return;
	if (c >= 0) {
		pthread_mutex_lock(&p->lock);
		if (p->nbufs[c] < p->cap[c]) {
			p->bufs[c][p->nbufs[c]++] = b;
			b = NULL;
		}
		pthread_mutex_unlock(&p->lock);
		if (b)
			__atomic_sub_fetch(&pool_bytes, (size_t)CLASS_MIN << c,
					   __ATOMIC_RELAXED);
	}
	free(b);
}

static struct ioctx *ctx_get(struct worker *w)
{
	struct pool *p = &w->pool;
	struct ioctx *x;

	pthread_mutex_lock(&p->lock);
	x = p->free_ctx;
	if (x) {
		p->free_ctx = x->next;
	} else {
		x = calloc(1, sizeof *x);
		if (x) {
			x->all_next = p->all_ctx;
			p->all_ctx = x;
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (!x)
		return NULL;
	x->in_use = true;
	x->req = NULL;
	x->owner = w;
	x->buf = NULL;
	x->cls = -2;
	x->rbuf = NULL;
	x->data = NULL;
	x->stripes = 0;
	x->next = NULL;
	return x;
}

static void ctx_put(struct ioctx *x)
{
	struct pool *p = &x->owner->pool;

	if (x->buf)
		buf_put(p, x->buf, x->cls);
	if (x->rbuf)
		io_rbuf_put(x->rbuf);
	x->buf = x->rbuf = NULL;
	x->req = NULL;
	pthread_mutex_lock(&p->lock);
	x->in_use = false;
	x->next = p->free_ctx;
	p->free_ctx = x;
	pthread_mutex_unlock(&p->lock);
}

/* ---- range locks -------------------------------------------------------- */

void io_ns_init(struct fns *ns)
{
	int i;

	for (i = 0; i < NR_STRIPES; i++) {
		pthread_mutex_init(&ns->stripes[i].m, NULL);
		pthread_cond_init(&ns->stripes[i].cond, NULL);
		ns->stripes[i].shared = 0;
		ns->stripes[i].excl = false;
	}
}

void io_ns_fini(struct fns *ns)
{
	int i;

	for (i = 0; i < NR_STRIPES; i++) {
		pthread_mutex_destroy(&ns->stripes[i].m);
		pthread_cond_destroy(&ns->stripes[i].cond);
	}
}

static uint64_t stripe_mask(uint64_t off, uint64_t len)
{
	uint64_t first = off >> STRIPE_SHIFT, last, r, mask = 0;

	if (!len)
		return 0;
	last = (off + len - 1) >> STRIPE_SHIFT;
	if (last - first >= NR_STRIPES - 1)
		return ~0ull;
	for (r = first; r <= last; r++)
		mask |= 1ull << (r % NR_STRIPES);
	return mask;
}

static void shared_release(struct fns *ns, uint64_t mask)
{
	while (mask) {
		struct stripe *s = &ns->stripes[__builtin_ctzll(mask)];

		mask &= mask - 1;
		pthread_mutex_lock(&s->m);
		if (--s->shared == 0)
			pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->m);
	}
}

/* Never waits: false if a stripe is held exclusive (nothing kept). */
static bool shared_try(struct fns *ns, uint64_t mask)
{
	uint64_t got = 0, m = mask;

	while (m) {
		int i = __builtin_ctzll(m);
		struct stripe *s = &ns->stripes[i];
		bool busy;

		m &= m - 1;
		pthread_mutex_lock(&s->m);
		busy = s->excl;
		if (!busy)
			s->shared++;
		pthread_mutex_unlock(&s->m);
		if (busy) {
			shared_release(ns, got);
			return false;
		}
		got |= 1ull << i;
	}
	return true;
}

/* Stripes in ascending order (no cycles between two exclusive holders).
 * While waiting, this worker keeps completing its own queue's commands:
 * an aligned write of ours may be what holds the stripe shared. */
static void excl_acquire(struct fns *ns, uint64_t mask)
{
	while (mask) {
		struct stripe *s = &ns->stripes[__builtin_ctzll(mask)];

		mask &= mask - 1;
		pthread_mutex_lock(&s->m);
		while (s->excl || s->shared) {
			struct timespec ts;

			pthread_mutex_unlock(&s->m);
			io_poll_all(ns->fc->fs, 0);
			pthread_mutex_lock(&s->m);
			if (!s->excl && !s->shared)
				break;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&s->cond, &s->m, &ts);
		}
		s->excl = true;
		pthread_mutex_unlock(&s->m);
	}
}

static void excl_release(struct fns *ns, uint64_t mask)
{
	while (mask) {
		struct stripe *s = &ns->stripes[__builtin_ctzll(mask)];

		mask &= mask - 1;
		pthread_mutex_lock(&s->m);
		s->excl = false;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->m);
	}
}

/* ---- polling ------------------------------------------------------------ */

void io_poll_all(struct fs *fs, int timeout_ms)
{
	unsigned i, n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);

		if (fc && !fctrl_gone(fc)) /* removed: see tree_remove_ctrl */
			(void)nvmeof_mpath_poll(fc->mp, timeout_ms);
	}
}

static void inflight_add(struct worker *w, int n)
{
	__atomic_add_fetch(&w->inflight, n, __ATOMIC_RELAXED);
}

static uint64_t ns_size(const struct fns *ns)
{
	return __atomic_load_n(&ns->size, __ATOMIC_RELAXED);
}

/* ---- read ----------------------------------------------------------------- */

static void read_done(void *arg, int err, uint16_t status)
{
	struct ioctx *x = arg;
	struct worker *w = x->owner;

	if (err || status) {
		dbg("read nsid %u: %s", x->ns->nsid,
		    status ? nvmeof_status_str(status) : strerror(-err));
		fuse_reply_err(x->req, fuse_errno(err ? err : -5));
	} else {
		fuse_reply_buf(x->req, x->data + x->head, x->len);
	}
	ctx_put(x);
	inflight_add(w, -1);
}

void io_read(fuse_req_t req, struct fns *ns, size_t size, off_t off)
{
	struct worker *w = tls_worker;
	uint64_t nsz = ns_size(ns), slba, elba;
	uint32_t shift = ns->lba_shift;
	struct ioctx *x;
	size_t bytes;
	int rc;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if ((uint64_t)off >= nsz || !size) {
		fuse_reply_buf(req, NULL, 0); /* end of the namespace */
		return;
	}
	if (size > nsz - (uint64_t)off)
		size = (size_t)(nsz - (uint64_t)off);
	slba = (uint64_t)off >> shift;
	elba = ((uint64_t)off + size + ns->lba_size - 1) >> shift;
	bytes = (size_t)((elba - slba) << shift);
	x = ctx_get(w);
	if (!x) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (w->cur_rbuf &&
	    (x->data = rbuf_data(w->cur_rbuf, malloc_usable_size(w->cur_rbuf),
				 bytes))) {
		/* The data lands in the buffer the request came in. */
		x->rbuf = w->cur_rbuf;
		w->rbuf_taken = true;
	} else {
		x->buf = buf_get(&w->pool, bytes, &x->cls);
		if (!x->buf) {
			ctx_put(x);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		x->data = x->buf;
	}
	x->req = req;
	x->ns = ns;
	x->op = OP_READ;
	x->head = (size_t)((uint64_t)off - (slba << shift));
	x->len = size;
	inflight_add(w, 1);
	rc = nvmeof_mpath_submit_read(ns->fc->mp, ns->nsid, slba,
				(uint32_t)(elba - slba), x->data, read_done, x);
	if (rc < 0) {
		inflight_add(w, -1);
		dbg("read nsid %u off %lld: %s", ns->nsid, (long long)off,
		    nvmeof_get_error());
		if (x->rbuf == w->cur_rbuf) {
			/* Not submitted: the worker keeps its buffer. */
			x->rbuf = NULL;
			w->rbuf_taken = false;
		}
		ctx_put(x);
		fuse_reply_err(req, fuse_errno(rc));
	}
}

/* ---- write ---------------------------------------------------------------- */

static void write_done(void *arg, int err, uint16_t status)
{
	struct ioctx *x = arg;
	struct worker *w = x->owner;

	shared_release(x->ns, x->stripes);
	if (err || status) {
		dbg("write nsid %u: %s", x->ns->nsid,
		    status ? nvmeof_status_str(status) : strerror(-err));
		fuse_reply_err(x->req, fuse_errno(err ? err : -5));
	} else {
		fuse_reply_write(x->req, x->len);
	}
	ctx_put(x);
	inflight_add(w, -1);
}

/* Read one block into dst (synchronous, on this worker's queue). */
static int read_block(struct fns *ns, uint64_t lba, void *dst)
{
	return nvmeof_mpath_read(ns->fc->mp, ns->nsid, lba, 1, dst);
}

/* Write [off, off+size) with the range held exclusive: the partial blocks
 * at either edge are read first and merged (read-modify-write).  data NULL
 * writes zeroes. */
static int write_locked(struct fns *ns, const char *data, size_t size,
			uint64_t off, bool fua)
{
	struct worker *w = tls_worker;
	uint32_t shift = ns->lba_shift, lba = ns->lba_size;
	uint64_t slba = off >> shift;
	uint64_t elba = (off + size + lba - 1) >> shift;
	size_t bytes = (size_t)((elba - slba) << shift);
	size_t head = (size_t)(off & (lba - 1));
	size_t tail = (size_t)((off + size) & (lba - 1));
	int cls = -2, rc = 0;
	char *b = NULL;

	/* Whole blocks (an aligned write that found its range busy): no
	 * merge, no copy, and no 1 MiB bounce buffer kept in the pool. */
	if (data && !head && !tail) {
		rc = nvmeof_mpath_write(ns->fc->mp, ns->nsid, slba,
				  (uint32_t)(elba - slba), data, fua);
		goto out;
	}
	b = buf_get(&w->pool, bytes, &cls);
	if (!b)
		return -ENOMEM;
	if (head)
		rc = read_block(ns, slba, b);
	if (!rc && tail && (elba - 1 != slba || !head))
		rc = read_block(ns, elba - 1, b + bytes - lba);
	if (!rc) {
		if (data)
			memcpy(b + head, data, size);
		else
			memset(b + head, 0, size);
		rc = nvmeof_mpath_write(ns->fc->mp, ns->nsid, slba,
				  (uint32_t)(elba - slba), b, fua);
	}
out:
	if (rc < 0)
		dbg("write nsid %u off %llu len %zu: %s", ns->nsid,
		    (unsigned long long)off, size, nvmeof_get_error());
	buf_put(&w->pool, b, cls);
	return rc;
}

void io_write(fuse_req_t req, struct fns *ns, const char *buf, size_t size,
	      off_t off, int flags)
{
	struct worker *w = tls_worker;
	uint64_t nsz = ns_size(ns), mask;
	uint32_t shift = ns->lba_shift;
	bool fua = (flags & (O_DSYNC | O_SYNC)) != 0;
	struct ioctx *x;
	int rc;

	if (ns->ro) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!size) {
		fuse_reply_write(req, 0);
		return;
	}
	if ((uint64_t)off >= nsz) {
		fuse_reply_err(req, ENOSPC);
		return;
	}
	/* Partly past the end: write what fits (the caller sees a short
	 * write, then ENOSPC), as a block device does. */
	if (size > nsz - (uint64_t)off)
		size = (size_t)(nsz - (uint64_t)off);
	mask = stripe_mask((uint64_t)off, size);

	if ((((uint64_t)off | size) & (ns->lba_size - 1)) == 0 &&
	    shared_try(ns, mask)) {
		x = ctx_get(w);
		if (!x) {
			shared_release(ns, mask);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		x->req = req;
		x->ns = ns;
		x->op = OP_WRITE;
		x->len = size;
		x->stripes = mask;
		if (w->cur_rbuf && buf >= (const char *)w->cur_rbuf &&
		    buf < (const char *)w->cur_rbuf + 4096) {
			/* The data stays where the kernel put it. */
			x->rbuf = w->cur_rbuf;
			w->rbuf_taken = true;
		} else {
			x->buf = buf_get(&w->pool, size, &x->cls);
			if (!x->buf) {
				shared_release(ns, mask);
				ctx_put(x);
				fuse_reply_err(req, ENOMEM);
				return;
			}
			memcpy(x->buf, buf, size);
			buf = x->buf;
		}
		inflight_add(w, 1);
		rc = nvmeof_mpath_submit_write(ns->fc->mp, ns->nsid,
					 (uint64_t)off >> shift,
					 (uint32_t)(size >> shift), buf, fua,
					 write_done, x);
		if (rc < 0) {
			inflight_add(w, -1);
			dbg("write nsid %u off %lld: %s", ns->nsid,
			    (long long)off, nvmeof_get_error());
			shared_release(ns, mask);
			if (x->rbuf == w->cur_rbuf) {
				/* Not submitted: the worker keeps its buffer. */
				x->rbuf = NULL;
				w->rbuf_taken = false;
			}
			ctx_put(x);
			fuse_reply_err(req, fuse_errno(rc));
		}
		return;
	}

	/* Unaligned (or racing an exclusive holder): synchronous. */
	excl_acquire(ns, mask);
	rc = write_locked(ns, buf, size, (uint64_t)off, fua);
	excl_release(ns, mask);
	if (rc < 0)
		fuse_reply_err(req, fuse_errno(rc));
	else
		fuse_reply_write(req, size);
}

/* ---- fsync ---------------------------------------------------------------- */

static void flush_done(void *arg, int err, uint16_t status)
{
	struct ioctx *x = arg;
	struct worker *w = x->owner;

	fuse_reply_err(x->req, err || status ? fuse_errno(err ? err : -5) : 0);
	ctx_put(x);
	inflight_add(w, -1);
}

void io_fsync(fuse_req_t req, struct fns *ns)
{
	struct worker *w = tls_worker;
	struct ioctx *x = ctx_get(w);
	int rc;

	if (!x) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	x->req = req;
	x->ns = ns;
	x->op = OP_FLUSH;
	inflight_add(w, 1);
	rc = nvmeof_mpath_submit_flush(ns->fc->mp, ns->nsid, flush_done, x);
	if (rc < 0) {
		inflight_add(w, -1);
		ctx_put(x);
		fuse_reply_err(req, fuse_errno(rc));
	}
}

/* ---- fallocate ------------------------------------------------------------ */

#define ONCS_DSM (1u << 2)
#define ONCS_WRITE_ZEROES (1u << 3)
#define ZERO_CHUNK_BLOCKS (1ull << 30)

static uint16_t ctrl_oncs(const struct fctrl *fc)
{
	return (uint16_t)(fc->idctrl[520] | fc->idctrl[521] << 8);
}

/* Zero whole blocks [slba, slba+nlb): Deallocate when reads of
 * deallocated blocks return zeroes (punch only), else Write Zeroes, else
 * plain writes of a zeroed buffer.  A controller may advertise a command
 * its backing store cannot do (Linux nvmet on tmpfs: Write Zeroes fails
 * with SC 83h): a failure with an NVMe status means "try the next way",
 * and the namespace remembers it; a transport error is final. */
static int zero_blocks(struct fns *ns, uint64_t slba, uint64_t nlb,
		       bool punch)
{
	struct nvmeof_mpath *c = ns->fc->mp;
	uint16_t oncs = ctrl_oncs(ns->fc);
	int rc = 0;

	if (punch && ns->rzad && (oncs & ONCS_DSM) &&
	    !__atomic_load_n(&ns->no_dsm, __ATOMIC_RELAXED)) {
		struct nvmeof_range r[256];
		uint64_t s = slba, left = nlb;

		while (left && rc == 0) {
			unsigned n = 0;

			while (left && n < 256) {
				uint64_t k = left < 0xffffffffull ? left :
					     0xffffffffull;

				r[n].slba = s;
				r[n].nlb = (uint32_t)k;
				s += k;
				left -= k;
				n++;
			}
			rc = nvmeof_mpath_deallocate(c, ns->nsid, r, n);
		}
		if (rc == 0 || !nvmeof_last_status())
			return rc;
		dbg("namespace %u: Deallocate: %s; writing zeroes instead",
		    ns->nsid, nvmeof_get_error());
		__atomic_store_n(&ns->no_dsm, true, __ATOMIC_RELAXED);
		rc = 0;
	}
	if ((oncs & ONCS_WRITE_ZEROES) &&
	    !__atomic_load_n(&ns->no_wz, __ATOMIC_RELAXED)) {
		while (nlb) {
			uint64_t k = nlb < ZERO_CHUNK_BLOCKS ? nlb :
				     ZERO_CHUNK_BLOCKS;

			rc = nvmeof_mpath_write_zeroes(c, ns->nsid, slba, (uint32_t)k,
						 punch);
			if (rc < 0)
				break;
			slba += k;
			nlb -= k;
		}
		if (rc == 0 || !nvmeof_last_status())
			return rc;
		dbg("namespace %u: Write Zeroes: %s; writing zeroed blocks instead",
		    ns->nsid, nvmeof_get_error());
		__atomic_store_n(&ns->no_wz, true, __ATOMIC_RELAXED);
		rc = 0;
	}
	{
		size_t chunk = 1u << 20;
		uint64_t per = chunk >> ns->lba_shift;
		void *z = calloc(1, chunk);

		if (!z)
			return -ENOMEM;
		if (!per)
			per = 1;
		while (nlb && rc == 0) {
			uint64_t k = nlb < per ? nlb : per;

			rc = nvmeof_mpath_write(c, ns->nsid, slba, (uint32_t)k, z,
					  false);
			slba += k;
			nlb -= k;
		}
		free(z);
	}
	return rc;
}

void io_fallocate(fuse_req_t req, struct fns *ns, int mode, off_t off,
		  off_t len)
{
	uint64_t nsz = ns_size(ns), end, a, b, mask;
	uint32_t lba = ns->lba_size;
	bool punch = mode & FALLOC_FL_PUNCH_HOLE;
	int rc = 0;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
		     FALLOC_FL_ZERO_RANGE)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	end = (uint64_t)off + (uint64_t)len;
	if (end > nsz && !(mode & FALLOC_FL_KEEP_SIZE)) {
		/* The namespace cannot grow. */
		fuse_reply_err(req, ENOSPC);
		return;
	}
	if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))) {
		fuse_reply_err(req, 0); /* every block is already there */
		return;
	}
	if (ns->ro) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if ((uint64_t)off >= nsz) {
		fuse_reply_err(req, 0);
		return;
	}
	if (end > nsz)
		end = nsz;
	mask = stripe_mask((uint64_t)off, end - (uint64_t)off);
	excl_acquire(ns, mask);
	a = ((uint64_t)off + lba - 1) & ~(uint64_t)(lba - 1);
	b = end & ~(uint64_t)(lba - 1);
	if (a >= b) {
		/* Inside one block, or across one boundary without a whole
		 * block: zero the bytes by read-modify-write. */
		rc = write_locked(ns, NULL, (size_t)(end - (uint64_t)off),
				  (uint64_t)off, false);
	} else {
		if ((uint64_t)off < a)
			rc = write_locked(ns, NULL, (size_t)(a - (uint64_t)off),
					  (uint64_t)off, false);
		if (!rc && b < end)
			rc = write_locked(ns, NULL, (size_t)(end - b), b, false);
		if (!rc)
			rc = zero_blocks(ns, a >> ns->lba_shift,
					 (b - a) >> ns->lba_shift, punch);
	}
	excl_release(ns, mask);
	if (rc < 0)
		dbg("fallocate nsid %u: %s", ns->nsid, nvmeof_get_error());
	fuse_reply_err(req, rc < 0 ? fuse_errno(rc) : 0);
}

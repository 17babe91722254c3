/* SPDX-License-Identifier: MIT */
/*
 * Multipath (doc/multipath.md): a group of associations (paths) to one
 * subsystem.  The layer sits above the associations and uses their
 * asynchronous interface: a command goes to the path the I/O policy picks
 * among the live paths of the best ANA class for its namespace, with our
 * own completion callback in between.  That callback sends the command
 * again when the path failed it (lost: the paths of a group of several run
 * with fast_io_fail_tmo 0, so a lost path hands back every command without
 * a completion at once) or answered with an ANA status (SCT 3h).
 *
 * Sending again happens in the thread that submitted the command (its
 * queues on every path are bound to it): a command to resend goes on that
 * thread's list and the thread is woken through an eventfd in its epoll
 * set, which nvmeof_mpath_poll() drains.  Commands that find no usable path
 * wait on the same list.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "host.h"

#define MP_MAX_NS 256
#define MP_WAIT_POLL_MS 50
#define MP_INFLIGHT_POLL_MS 100
#define MP_CHANGE_POLL_MS 200

enum { P_LIVE, P_CONNECTING, P_FAILED };
enum { POL_NUMA, POL_RR, POL_QD };
static const char *const pol_names[] = { "numa", "round-robin", "queue-depth" };

enum { OP_READ, OP_WRITE, OP_FLUSH, OP_WZ, OP_DSM };

struct mp_ns {
	uint32_t nsid;           /* as the group's callers number it */
	uint8_t nguid[16], eui64[8], uuid[16];
	bool has_uuid;
};

struct mpath_g;

struct mp_path {
	unsigned id;
	struct nvmeof_mpath *g;
	char traddr[257], trsvcid[33];
	struct nvmeof_ctrl *ctrl;   /* atomic: set once */
	int state;                  /* P_*, atomic */
	unsigned gen;               /* bumped on each state change */
	uint64_t reads, writes, errors; /* atomic */
	int inflight;               /* atomic */
	pthread_mutex_t lock;       /* last_error, the ANA cache */
	char last_error[256];
	uint32_t nsid_map[MP_MAX_NS]; /* group ns -> NSID on this path (0: none) */
	/* ANA: states per group namespace from the log of generation
	 * cache_gen (ctrl->ana_reads); an SCT 3h status overrides one until
	 * the log is read again */
	uint64_t cache_gen;         /* atomic; UINT64_MAX: none */
	unsigned cache_nns;
	uint8_t cache[MP_MAX_NS];
	uint8_t ovr[MP_MAX_NS];
	uint64_t ovr_gen[MP_MAX_NS];
	bool reread;                /* read log 0Ch again (group thread) */
	uint64_t change_until_ns;   /* poll the log while in change, until */
	uint64_t next_connect_ns;   /* never connected: the next attempt */
	bool removed;               /* nvmeof_mpath_remove_path(): atomic */
};

struct mp_req;

struct mp_thread {
	struct nvmeof_mpath *g;
	struct mp_thread *next;
	int epfd, evfd;
	int reg_fd[NVMEOF_MPATH_MAX_PATHS];
	unsigned reg_gen[NVMEOF_MPATH_MAX_PATHS];
	short reg_ev[NVMEOF_MPATH_MAX_PATHS];
	unsigned rr;
	int inflight;               /* atomic */
	bool sleeping;              /* in nvmeof_mpath_poll()'s wait: atomic */
	bool pending;               /* the list was fed or evfd written since
				     * drain() last looked: atomic */
	pthread_mutex_t lock;       /* the list */
	struct mp_req *head, *tail;
};

struct mp_req {
	struct mp_req *next;
	struct mp_thread *t;
	int op;
	int k;                      /* group namespace, -1: unmatched nsid */
	uint32_t nsid;
	uint64_t slba;
	uint32_t nlb;
	void *buf;
	bool flag;                  /* fua / deallocate */
	struct nvmeof_range *ranges;
	unsigned nr;
	nvmeof_cb cb;
	void *arg;
	int path;
	uint64_t wait_since_ns;     /* 0: not waiting */
};

struct nvmeof_mpath {
	struct nvmeof_opts opts;    /* the caller's, strings copied */
	char subnqn[NVMEOF_NQN_MAX + 1], hostnqn[NVMEOF_NQN_MAX + 1],
	     hostid[64], iface[64], srcaddr[257];
	char *secrets[6];
	int policy;                 /* atomic */
	unsigned nr;                /* atomic: paths published */
	struct mp_path *paths[NVMEOF_MPATH_MAX_PATHS];
	pthread_mutex_t lock;       /* threads, paths added */
	pthread_mutex_t ns_lock;    /* the ns table's writers (admin commands
				     * under it: never taken in callbacks) */
	struct mp_thread *threads;
	pthread_key_t key;
	struct mp_ns ns[MP_MAX_NS];
	unsigned nns;               /* atomic */
	bool closing;               /* atomic */
	bool ended;                 /* nvmeof_mpath_fail(): atomic */
	bool multi;                 /* paths hand back lost commands */
	nvmeof_state_cb state_cb;
	void *state_arg;
	nvmeof_event_cb event_cb;
	void *event_arg;
	uint64_t failovers, ana_retries, waits; /* atomic */
	/* the group thread: ANA log reads, paths never connected */
	pthread_t tid;
	bool thread_on;
	pthread_cond_t cond;
	bool kick;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define DEC(x) __atomic_sub_fetch(&(x), 1, __ATOMIC_RELAXED)

const char *nvmeof_ana_state_name(uint8_t s)
{
	switch (s) {
	case 0x01: return "optimized";
	case 0x02: return "non-optimized";
	case 0x03: return "inaccessible";
	case 0x04: return "persistent-loss";
	case 0x0f: return "change";
	default: return "unknown";
	}
}

static const char *path_state_name(int s)
{
	return s == P_LIVE ? "live" : s == P_CONNECTING ? "connecting" : "failed";
}

/* ---- threads ---------------------------------------------------------- */

static void thread_wake(struct mp_thread *t)
{
	uint64_t one = 1;

	/* The count first, the flag after: a drain() that sees the flag
	 * reads the count, so none is left behind to keep the thread's
	 * epoll set readable with the flag clear. */
	(void)!write(t->evfd, &one, sizeof one);
	__atomic_store_n(&t->pending, true, __ATOMIC_SEQ_CST);
}

static void wake_all(struct nvmeof_mpath *g)
{
	pthread_mutex_lock(&g->lock);
	for (struct mp_thread *t = g->threads; t; t = t->next)
		thread_wake(t);
	pthread_mutex_unlock(&g->lock);
}

static struct mp_thread *thread_get(struct nvmeof_mpath *g)
{
	struct mp_thread *t = pthread_getspecific(g->key);
	struct epoll_event ev = { .events = EPOLLIN };

	if (t)
		return t;
	t = calloc(1, sizeof *t);
	if (!t) {
		set_error(ENOMEM, "out of memory");
		return NULL;
	}
	t->g = g;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.u32 = UINT32_MAX;
	if (t->epfd < 0 || t->evfd < 0 ||
	    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &ev) < 0) {
		int e = errno;

		if (t->epfd >= 0)
			close(t->epfd);
		if (t->evfd >= 0)
			close(t->evfd);
		free(t);
		set_error(e, "multipath: epoll/eventfd: %s", strerror(e));
		return NULL;
	}
	for (unsigned i = 0; i < NVMEOF_MPATH_MAX_PATHS; i++)
		t->reg_fd[i] = -1;
	t->rr = (unsigned)(uintptr_t)t >> 6;
	pthread_mutex_init(&t->lock, NULL);
	pthread_setspecific(g->key, t);
	pthread_mutex_lock(&g->lock);
	t->next = g->threads;
	g->threads = t;
	pthread_mutex_unlock(&g->lock);
	return t;
}

static void push_retry(struct mp_thread *t, struct mp_req *r)
{
	r->next = NULL;
	pthread_mutex_lock(&t->lock);
	if (t->tail)
		t->tail->next = r;
	else
		t->head = r;
	t->tail = r;
	__atomic_store_n(&t->pending, true, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&t->lock);
	thread_wake(t);
}

/* ---- namespaces --------------------------------------------------------- */

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* 1: the same namespace, 0: another one, -1: nothing to compare. */
static int ns_same(const struct mp_ns *a, const struct nvmeof_ns_info *b)
{
	if (!zero(a->nguid, 16) && !zero(b->nguid, 16))
		return !memcmp(a->nguid, b->nguid, 16);
	if (!zero(a->eui64, 8) && !zero(b->eui64, 8))
		return !memcmp(a->eui64, b->eui64, 8);
	if (a->has_uuid && b->has_uuid)
		return !memcmp(a->uuid, b->uuid, 16);
	if (zero(a->nguid, 16) && zero(b->nguid, 16) && zero(a->eui64, 8) &&
	    zero(b->eui64, 8) && !a->has_uuid && !b->has_uuid)
		return -1;
	return 0;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* Match the namespaces of path p (association c) with the group's
 * (g->ns_lock held). */
static int path_scan(struct nvmeof_mpath *g, struct mp_path *p,
		     struct nvmeof_ctrl *c)
{
	uint32_t *nsids = NULL;
	size_t n = 0;
	int rc = nvmeof_ns_list(c, &nsids, &n);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct nvmeof_ns_info in;
		unsigned k, nns = g->nns;
		int same_nsid = -1;

		rc = nvmeof_ns_info(c, nsids[i], &in);
		if (rc < 0)
			goto out;
		for (k = 0; k < nns; k++) {
			if (ns_same(&g->ns[k], &in) == 1)
				break;
			if (g->ns[k].nsid == nsids[i])
				same_nsid = (int)k;
		}
		if (k == nns && same_nsid >= 0) {
			const struct mp_ns *o = &g->ns[same_nsid];

			if (ns_same(o, &in) == 0) {
				char a[33], b[33];

				hex(a, in.nguid, 16);
				hex(b, o->nguid, 16);
				rc = set_error(EEXIST,
					       "multipath: namespace %u of path %u (%s:%s) has NGUID %s, but the group's namespace %u has NGUID %s: not the same namespace, path refused",
					       nsids[i], p->id, p->traddr, p->trsvcid,
					       a, o->nsid, b);
				goto out;
			}
			k = (unsigned)same_nsid; /* no identifiers: by NSID */
		}
		if (k == nns) {
			if (nns == MP_MAX_NS)
				continue;
			g->ns[k].nsid = nsids[i];
			memcpy(g->ns[k].nguid, in.nguid, 16);
			memcpy(g->ns[k].eui64, in.eui64, 8);
			memcpy(g->ns[k].uuid, in.uuid, 16);
			g->ns[k].has_uuid = in.has_uuid;
			STORE(p->nsid_map[k], nsids[i]);
			STORE(g->nns, nns + 1);
		} else {
			STORE(p->nsid_map[k], nsids[i]);
		}
	}
	rc = 0;
	STORE(p->cache_gen, UINT64_MAX);
out:
	free(nsids);
	return rc;
}

static int ns_index(struct nvmeof_mpath *g, uint32_t nsid)
{
	unsigned nns = LOAD(g->nns);

	for (unsigned k = 0; k < nns; k++)
		if (g->ns[k].nsid == nsid)
			return (int)k;
	return -1;
}

/* ---- ANA ------------------------------------------------------------------ */

static uint8_t ana_of(struct nvmeof_ctrl *c, uint32_t nsid)
{
	uint8_t s = 0;

	if (!nsid || nvmeof_ana_state(c, nsid, &s) < 0)
		return 0;
	return s;
}

/* The ANA state of group namespace k (or nsid when k < 0) on path p;
 * 01h for a controller without ANA, 0 when unknown. */
static uint8_t path_ana(struct mp_path *p, int k, uint32_t nsid)
{
	struct nvmeof_ctrl *c = LOAD(p->ctrl);
	uint64_t gen;
	uint8_t s;

	if (!ctrl_has_ana(c))
		return 0x01;
	if (k < 0)
		return ana_of(c, nsid);
	gen = __atomic_load_n(&c->ana_reads, __ATOMIC_ACQUIRE);
	if (LOAD(p->ovr[k]) && LOAD(p->ovr_gen[k]) == gen)
		return LOAD(p->ovr[k]);
	if (LOAD(p->cache_gen) != gen || (unsigned)k >= LOAD(p->cache_nns)) {
		unsigned nns = LOAD(p->g->nns);

		pthread_mutex_lock(&p->lock);
		for (unsigned i = 0; i < nns; i++)
			STORE(p->cache[i], ana_of(c, LOAD(p->nsid_map[i])));
		STORE(p->cache_nns, nns);
		STORE(p->cache_gen, gen);
		pthread_mutex_unlock(&p->lock);
	}
	s = LOAD(p->cache[k]);
	return s;
}

static void group_kick(struct nvmeof_mpath *g)
{
	pthread_mutex_lock(&g->lock);
	g->kick = true;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* ---- choosing a path ---------------------------------------------------- */

/* The path for a command of namespace k; -1 if none is usable now.
 * *hope: some path may become usable (not all failed). */
static int pick(struct nvmeof_mpath *g, struct mp_thread *t, int k,
		uint32_t nsid, unsigned exclude, bool *hope)
{
	unsigned n = LOAD(g->nr), cand[NVMEOF_MPATH_MAX_PATHS], nc = 0;
	int best = 3, pol = LOAD(g->policy);

	*hope = false;
	if (LOAD(g->ended))
		return -1;
	if (n == 1 && !LOAD(g->multi)) {
		/* One path: it is the association, whatever its state. */
		*hope = true;
		return LOAD(g->paths[0]->ctrl) && !(exclude & 1) ? 0 : -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct mp_path *p = g->paths[i];
		int st = LOAD(p->state), cls;
		uint32_t pn;
		uint8_t s;

		if (LOAD(p->removed))
			continue;
		/* a path never connected is tried again by the group thread */
		if (st != P_FAILED || !LOAD(p->ctrl))
			*hope = true;
		if (st != P_LIVE || (exclude & (1u << i)) || !LOAD(p->ctrl))
			continue;
		pn = k >= 0 ? LOAD(p->nsid_map[k]) : nsid;
		if (!pn)
			continue;
		s = path_ana(p, k, nsid);
		cls = s == 0x01 || s == 0 ? 0 : s == 0x02 ? 1 : 3;
		if (cls > best || cls == 3)
			continue;
		if (cls < best) {
			best = cls;
			nc = 0;
		}
		cand[nc++] = i;
	}
	if (!nc)
		return -1;
	if (pol == POL_NUMA || nc == 1)
		return (int)cand[0];
	if (pol == POL_RR)
		return (int)cand[t->rr++ % nc];
	{
		unsigned start = t->rr++ % nc, bi = cand[start];
		int bq = LOAD(g->paths[bi]->inflight);

		for (unsigned j = 1; j < nc; j++) {
			unsigned i = cand[(start + j) % nc];
			int q = LOAD(g->paths[i]->inflight);

			if (q < bq) {
				bq = q;
				bi = i;
			}
		}
		return (int)bi;
	}
}

/* ---- submitting and completing ----------------------------------------- */

static void req_done(struct mp_req *r, int err, uint16_t status)
{
	struct mp_thread *t = r->t;
	nvmeof_cb cb = r->cb;
	void *arg = r->arg;

	free(r->ranges);
	free(r);
	__atomic_sub_fetch(&t->inflight, 1, __ATOMIC_SEQ_CST);
	cb(arg, err, status);
	/* Run by another thread (one sharing a queue, an admin thread):
	 * the submitter may be asleep waiting for it. */
	if (__atomic_load_n(&t->sleeping, __ATOMIC_SEQ_CST) &&
	    pthread_getspecific(t->g->key) != t)
		thread_wake(t);
}

static bool path_err(int err)
{
	switch (-err) {
	case EIO: case ECONNRESET: case ENOTCONN: case ETIMEDOUT: case EPIPE:
	case ECONNREFUSED: case ECONNABORTED: case ESHUTDOWN: case ENETDOWN:
	case ENETUNREACH: case EHOSTUNREACH:
		return true;
	default:
		return false;
	}
}

static void set_path_error(struct mp_path *p, const char *fmt, ...)
	NVMEOF_PRINTF(2, 3);
static void set_path_error(struct mp_path *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->lock);
	va_start(ap, fmt);
	vsnprintf(p->last_error, sizeof p->last_error, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&p->lock);
}

static void mp_done(void *arg, int err, uint16_t status)
{
	struct mp_req *r = arg;
	struct nvmeof_mpath *g = r->t->g;
	struct mp_path *p = g->paths[r->path];
	unsigned sct = (status >> 8) & 7, sc = status & 0xff;

	DEC(p->inflight);
	if (!err && !status) {
		if (r->op == OP_READ)
			INC(p->reads);
		else if (r->op != OP_FLUSH)
			INC(p->writes);
		req_done(r, 0, 0);
		return;
	}
	INC(p->errors);
	/* Ended (nvmeof_mpath_fail(), disconnect) or nowhere else to go:
	 * the caller hears it now, from whichever thread this is. */
	if (LOAD(g->closing) || LOAD(g->ended) || LOAD(g->nr) < 2) {
		req_done(r, err, status);
		return;
	}
	if (status && sct == 3 && r->k >= 0 && (sc >= 1 && sc <= 3)) {
		struct nvmeof_ctrl *c = LOAD(p->ctrl);
		uint8_t s = sc == 1 ? 0x04 : sc == 2 ? 0x03 : 0x0f;

		/* Not this path for this namespace until its log is read
		 * again (the group thread does that now). */
		STORE(p->ovr_gen[r->k], __atomic_load_n(&c->ana_reads,
							 __ATOMIC_ACQUIRE));
		STORE(p->ovr[r->k], s);
		INC(g->ana_retries);
		set_path_error(p, "namespace %u: %s", r->nsid,
			       nvmeof_status_str(status));
		pthread_mutex_lock(&p->lock);
		p->reread = true;
		if (s == 0x0f) {
			unsigned anatt = LOAD(p->ctrl) ?
				((const uint8_t *)nvmeof_ctrl_identify(c))[342] : 10;
			p->change_until_ns = mono_ns() +
				(uint64_t)(anatt ? anatt : 10) * 1000000000ull;
		}
		pthread_mutex_unlock(&p->lock);
		group_kick(g);
		push_retry(r->t, r);
		return;
	}
	if (!status && path_err(err)) {
		INC(g->failovers);
		push_retry(r->t, r);
		return;
	}
	req_done(r, err, status);
}

static int submit_on(struct mp_path *p, struct mp_req *r, uint32_t nsid)
{
	struct nvmeof_ctrl *c = LOAD(p->ctrl);

	switch (r->op) {
	case OP_READ:
		return nvmeof_submit_read(c, nsid, r->slba, r->nlb, r->buf,
					  mp_done, r);
	case OP_WRITE:
		return nvmeof_submit_write(c, nsid, r->slba, r->nlb, r->buf,
					   r->flag, mp_done, r);
	case OP_FLUSH:
		return nvmeof_submit_flush(c, nsid, mp_done, r);
	case OP_WZ:
		return nvmeof_submit_write_zeroes(c, nsid, r->slba, r->nlb,
						  r->flag, mp_done, r);
	default:
		return nvmeof_submit_deallocate(c, nsid, r->ranges, r->nr,
						mp_done, r);
	}
}

/* Send r on a usable path.  0: sent (or waiting, or completed); < 0: an
 * error for the caller of a first submission (r not consumed). */
static int dispatch(struct mp_req *r, bool first)
{
	struct nvmeof_mpath *g = r->t->g;
	unsigned exclude = 0;

	for (;;) {
		bool hope;
		int i = pick(g, r->t, r->k, r->nsid, exclude, &hope), rc;
		struct mp_path *p;
		uint32_t nsid;

		if (i < 0) {
			uint64_t now = mono_ns();
			int tmo = g->opts.fast_io_fail_tmo >= 0 ?
				  g->opts.fast_io_fail_tmo : g->opts.ctrl_loss_tmo;

			if (!r->wait_since_ns) {
				r->wait_since_ns = now;
				INC(g->waits);
			}
			if (!hope || LOAD(g->closing) ||
			    (tmo >= 0 && now - r->wait_since_ns >=
					 (uint64_t)tmo * 1000000000ull)) {
				if (first)
					return set_error(EIO, "multipath: no usable path to namespace %u",
							 r->nsid);
				req_done(r, -EIO, 0);
				return 0;
			}
			/* Waits: nvmeof_mpath_poll() tries again. */
			r->next = NULL;
			pthread_mutex_lock(&r->t->lock);
			if (r->t->tail)
				r->t->tail->next = r;
			else
				r->t->head = r;
			r->t->tail = r;
			__atomic_store_n(&r->t->pending, true, __ATOMIC_SEQ_CST);
			pthread_mutex_unlock(&r->t->lock);
			return 0;
		}
		p = g->paths[i];
		nsid = r->k >= 0 ? LOAD(p->nsid_map[r->k]) : r->nsid;
		r->path = i;
		r->wait_since_ns = 0;
		INC(p->inflight);
		rc = submit_on(p, r, nsid);
		if (rc == 0)
			return 0;
		DEC(p->inflight);
		if (!path_err(rc) || LOAD(g->nr) < 2) {
			if (first)
				return rc;
			req_done(r, rc, nvmeof_last_status());
			return 0;
		}
		exclude |= 1u << i;
	}
}

static int submit(struct nvmeof_mpath *g, int op, uint32_t nsid, uint64_t slba,
		  uint32_t nlb, void *buf, bool flag,
		  const struct nvmeof_range *ranges, unsigned nr, nvmeof_cb cb,
		  void *arg)
{
	struct mp_thread *t = thread_get(g);
	struct mp_req *r;
	int rc;

	if (!t)
		return -nvmeof_get_errno();
	if (!cb)
		return set_error(EINVAL, "multipath: no callback");
	r = calloc(1, sizeof *r);
	if (!r)
		return set_error(ENOMEM, "out of memory");
	if (nr) {
		if (nr > 256 || !ranges) {
			free(r);
			return set_error(EINVAL, "deallocate: %u ranges (1 to 256)", nr);
		}
		r->ranges = malloc(nr * sizeof *ranges);
		if (!r->ranges) {
			free(r);
			return set_error(ENOMEM, "out of memory");
		}
		memcpy(r->ranges, ranges, nr * sizeof *ranges);
	}
	r->t = t;
	r->op = op;
	r->nsid = nsid;
	r->k = ns_index(g, nsid);
	r->slba = slba;
	r->nlb = nlb;
	r->buf = buf;
	r->flag = flag;
	r->nr = nr;
	r->cb = cb;
	r->arg = arg;
	__atomic_add_fetch(&t->inflight, 1, __ATOMIC_RELAXED);
	rc = dispatch(r, true);
	if (rc < 0) {
		__atomic_sub_fetch(&t->inflight, 1, __ATOMIC_RELAXED);
		free(r->ranges);
		free(r);
	}
	return rc;
}

int nvmeof_mpath_submit_read(struct nvmeof_mpath *g, uint32_t nsid,
			     uint64_t slba, uint32_t nlb, void *buf,
			     nvmeof_cb cb, void *arg)
{
	return submit(g, OP_READ, nsid, slba, nlb, buf, false, NULL, 0, cb, arg);
}

int nvmeof_mpath_submit_write(struct nvmeof_mpath *g, uint32_t nsid,
			      uint64_t slba, uint32_t nlb, const void *buf,
			      bool fua, nvmeof_cb cb, void *arg)
{
	return submit(g, OP_WRITE, nsid, slba, nlb, (void *)buf, fua, NULL, 0,
		      cb, arg);
}

int nvmeof_mpath_submit_flush(struct nvmeof_mpath *g, uint32_t nsid,
			      nvmeof_cb cb, void *arg)
{
	return submit(g, OP_FLUSH, nsid, 0, 0, NULL, false, NULL, 0, cb, arg);
}

/* ---- polling ---------------------------------------------------------------- */

/* Send again what waits on this thread's list.  Nothing to do unless the
 * list was fed or a wake-up sent since the last look: no system call and
 * no lock on the data path (it runs twice per poll). */
static int drain(struct mp_thread *t)
{
	struct mp_req *r;
	int before;
	uint64_t cnt;

	if (!__atomic_exchange_n(&t->pending, false, __ATOMIC_SEQ_CST))
		return 0;
	before = LOAD(t->inflight);
	(void)!read(t->evfd, &cnt, sizeof cnt); /* the wake-up is taken */
	pthread_mutex_lock(&t->lock);
	r = t->head;
	t->head = t->tail = NULL;
	pthread_mutex_unlock(&t->lock);
	while (r) {
		struct mp_req *next = r->next;

		(void)dispatch(r, false);
		r = next;
	}
	return before - LOAD(t->inflight) > 0 ? before - LOAD(t->inflight) : 0;
}

/* Bring the thread's epoll set up to date with its queues' sockets. */
static void sync_fds(struct mp_thread *t)
{
	struct nvmeof_mpath *g = t->g;
	unsigned n = LOAD(g->nr);

	for (unsigned i = 0; i < n; i++) {
		struct mp_path *p = g->paths[i];
		struct nvmeof_ctrl *c = LOAD(p->ctrl);
		unsigned gen = LOAD(p->gen);
		int fd = c && !LOAD(p->removed) ? nvmeof_poll_fd(c) : -1;
		short ev = fd >= 0 ? nvmeof_poll_events(c) : 0;
		struct epoll_event e = { .events = 0 };

		if (fd == t->reg_fd[i] && gen == t->reg_gen[i] &&
		    ev == t->reg_ev[i])
			continue;
		if (t->reg_fd[i] >= 0)
			(void)epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->reg_fd[i], NULL);
		t->reg_fd[i] = -1;
		t->reg_gen[i] = gen;
		t->reg_ev[i] = ev;
		if (fd < 0)
			continue;
		e.events = (ev & POLLIN ? EPOLLIN : 0) |
			   (ev & POLLOUT ? EPOLLOUT : 0);
		e.data.u32 = i;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &e) == 0)
			t->reg_fd[i] = fd;
	}
}

static int poll_once(struct mp_thread *t)
{
	struct nvmeof_mpath *g = t->g;
	unsigned n = LOAD(g->nr);
	int done;

	/* What the callbacks submit (to any path) goes out in one send per
	 * queue once all are polled: a queue plugs itself only while its
	 * own callbacks run, and a command sent again elsewhere (or the
	 * next one of round-robin) would otherwise cost a send each. */
	if (n > 1)
		nvmeof_mpath_plug(g);
	done = drain(t);
	for (unsigned i = 0; i < n; i++) {
		struct nvmeof_ctrl *c = LOAD(g->paths[i]->ctrl);
		int rc;

		/* a removed path: its commands came back when it ended */
		if (!c || LOAD(g->paths[i]->removed))
			continue;
		rc = nvmeof_poll(c, 0);
		if (rc > 0)
			done += rc;
	}
	done += drain(t);
	if (n > 1)
		(void)nvmeof_mpath_unplug(g);
	return done;
}

int nvmeof_mpath_poll(struct nvmeof_mpath *g, int timeout_ms)
{
	struct mp_thread *t = thread_get(g);
	uint64_t end;
	int done, mine;

	if (!t)
		return -nvmeof_get_errno();
	mine = LOAD(t->inflight);
	done = poll_once(t);
	if (done || timeout_ms == 0)
		return done;
	end = timeout_ms < 0 ? UINT64_MAX :
	      mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		struct epoll_event ev[8];
		uint64_t now = mono_ns(), cnt;
		int wait;
		bool waiting;

		if (now >= end)
			return 0;
		pthread_mutex_lock(&t->lock);
		waiting = t->head != NULL;
		pthread_mutex_unlock(&t->lock);
		wait = waiting ? MP_WAIT_POLL_MS : MP_INFLIGHT_POLL_MS;
		if (end != UINT64_MAX && (end - now) / 1000000ull < (uint64_t)wait)
			wait = (int)((end - now) / 1000000ull) + 1;
		sync_fds(t);
		__atomic_store_n(&t->sleeping, true, __ATOMIC_SEQ_CST);
		if (LOAD(t->inflight) < mine) {
			__atomic_store_n(&t->sleeping, false, __ATOMIC_SEQ_CST);
			return 0;
		}
		(void)epoll_wait(t->epfd, ev, 8, wait);
		__atomic_store_n(&t->sleeping, false, __ATOMIC_SEQ_CST);
		(void)!read(t->evfd, &cnt, sizeof cnt);
		done = poll_once(t);
		if (done)
			return done;
		/* A thread that shares a queue with us may have run our
		 * callbacks. */
		if (LOAD(t->inflight) < mine)
			return 0;
	}
}

int nvmeof_mpath_poll_fd(struct nvmeof_mpath *g)
{
	struct mp_thread *t = thread_get(g);
	struct nvmeof_ctrl *c;

	if (!t)
		return -nvmeof_get_errno();
	/* A group of one path that never had another is that association:
	 * nothing is ever sent again elsewhere, so the thread's queue socket
	 * says all there is to wait for, and a wake-up then crosses one
	 * epoll set instead of two (2 us of a 4K QD1 read through
	 * nvmeof-mount).  Not while data waits to be sent (POLLOUT is the
	 * set's to watch) nor while the association is down. */
	if (LOAD(g->nr) == 1 && !LOAD(g->multi) && !LOAD(g->paths[0]->removed) &&
	    (c = LOAD(g->paths[0]->ctrl)) && nvmeof_poll_events(c) == POLLIN) {
		int fd = nvmeof_poll_fd(c);

		if (fd >= 0)
			return fd;
	}
	sync_fds(t);
	return t->epfd;
}

void nvmeof_mpath_plug(struct nvmeof_mpath *g)
{
	unsigned n = LOAD(g->nr);

	for (unsigned i = 0; i < n; i++)
		if (LOAD(g->paths[i]->ctrl))
			nvmeof_plug(g->paths[i]->ctrl);
}

int nvmeof_mpath_unplug(struct nvmeof_mpath *g)
{
	unsigned n = LOAD(g->nr);

	for (unsigned i = 0; i < n; i++)
		if (LOAD(g->paths[i]->ctrl))
			(void)nvmeof_unplug(g->paths[i]->ctrl);
	return 0;
}

int nvmeof_mpath_inflight(struct nvmeof_mpath *g)
{
	struct mp_thread *t = thread_get(g);

	return t ? LOAD(t->inflight) : -nvmeof_get_errno();
}

/* ---- synchronous I/O ---------------------------------------------------------- */

struct mp_sync {
	bool done;
	int err;
	uint16_t status;
};

static void sync_cb(void *arg, int err, uint16_t status)
{
	struct mp_sync *s = arg;

	s->err = err;
	s->status = status;
	STORE(s->done, true);
}

static int sync_wait(struct nvmeof_mpath *g, struct mp_sync *s, int rc)
{
	if (rc < 0)
		return rc;
	/* Slices: another thread sharing a queue may complete ours. */
	while (!LOAD(s->done)) {
		rc = nvmeof_mpath_poll(g, MP_INFLIGHT_POLL_MS);
		if (rc < 0 && !LOAD(s->done))
			return rc;
	}
	if (s->status)
		return set_error_status(s->status, "multipath: I/O failed: %s",
					nvmeof_status_str(s->status));
	if (s->err)
		return set_error(-s->err, "multipath: I/O failed: %s",
				 strerror(-s->err));
	return 0;
}

int nvmeof_mpath_read(struct nvmeof_mpath *g, uint32_t nsid, uint64_t slba,
		      uint32_t nlb, void *buf)
{
	struct mp_sync s = { 0 };

	return sync_wait(g, &s, submit(g, OP_READ, nsid, slba, nlb, buf, false,
				       NULL, 0, sync_cb, &s));
}

int nvmeof_mpath_write(struct nvmeof_mpath *g, uint32_t nsid, uint64_t slba,
		       uint32_t nlb, const void *buf, bool fua)
{
	struct mp_sync s = { 0 };

	return sync_wait(g, &s, submit(g, OP_WRITE, nsid, slba, nlb, (void *)buf,
				       fua, NULL, 0, sync_cb, &s));
}

int nvmeof_mpath_flush(struct nvmeof_mpath *g, uint32_t nsid)
{
	struct mp_sync s = { 0 };

	return sync_wait(g, &s, submit(g, OP_FLUSH, nsid, 0, 0, NULL, false,
				       NULL, 0, sync_cb, &s));
}

int nvmeof_mpath_write_zeroes(struct nvmeof_mpath *g, uint32_t nsid,
			      uint64_t slba, uint32_t nlb, bool deallocate)
{
	struct mp_sync s = { 0 };

	return sync_wait(g, &s, submit(g, OP_WZ, nsid, slba, nlb, NULL,
				       deallocate, NULL, 0, sync_cb, &s));
}

int nvmeof_mpath_deallocate(struct nvmeof_mpath *g, uint32_t nsid,
			    const struct nvmeof_range *ranges, unsigned nr)
{
	struct mp_sync s = { 0 };

	if (!nr)
		return set_error(EINVAL, "deallocate: no range");
	return sync_wait(g, &s, submit(g, OP_DSM, nsid, 0, 0, NULL, false,
				       ranges, nr, sync_cb, &s));
}

/* ---- path states and events ---------------------------------------------- */

const char *nvmeof_mpath_state(struct nvmeof_mpath *g)
{
	unsigned n = LOAD(g->nr);
	bool connecting = false;

	for (unsigned i = 0; i < n; i++) {
		int s = LOAD(g->paths[i]->state);

		if (LOAD(g->paths[i]->removed))
			continue;
		if (s == P_LIVE)
			return "live";
		if (s == P_CONNECTING)
			connecting = true;
	}
	return connecting ? "reconnecting" : "failed";
}

static void on_state(void *arg, const char *state, const char *why)
{
	struct mp_path *p = arg;
	struct nvmeof_mpath *g = p->g;
	int s = !strcmp(state, "live") ? P_LIVE :
		!strcmp(state, "reconnecting") ? P_CONNECTING : P_FAILED;
	char msg[600];
	nvmeof_state_cb cb;
	void *cbarg;

	if (s != P_LIVE && why && *why)
		set_path_error(p, "%s", why);
	if (s == P_LIVE) {
		/* Its ANA log was read again as it came back. */
		STORE(p->cache_gen, UINT64_MAX);
	}
	STORE(p->state, s);
	__atomic_add_fetch(&p->gen, 1, __ATOMIC_RELEASE);
	wake_all(g);
	pthread_mutex_lock(&g->lock);
	cb = g->state_cb;
	cbarg = g->state_arg;
	pthread_mutex_unlock(&g->lock);
	if (!cb)
		return;
	if (LOAD(g->nr) == 1 && !LOAD(g->multi)) {
		/* One path: its own words, as the association says them. */
		cb(cbarg, state, why);
		return;
	}
	snprintf(msg, sizeof msg, "path %u %s:%s %s: %s", p->id, p->traddr,
		 p->trsvcid, state, why ? why : "");
	cb(cbarg, nvmeof_mpath_state(g), msg);
}

static void on_event(void *arg, uint32_t dw0, const uint32_t *nsids, size_t nr)
{
	struct mp_path *p = arg;
	struct nvmeof_mpath *g = p->g;
	nvmeof_event_cb cb;
	void *cbarg;

	if (((dw0 >> 16) & 0xff) == 0x0c) {
		/* ANA Change: the library read the log; see if some path is
		 * in change now. */
		wake_all(g);
		group_kick(g);
	}
	pthread_mutex_lock(&g->lock);
	cb = g->event_cb;
	cbarg = g->event_arg;
	pthread_mutex_unlock(&g->lock);
	if (cb)
		cb(cbarg, dw0, nsids, nr);
}

void nvmeof_mpath_set_state_cb(struct nvmeof_mpath *g, nvmeof_state_cb cb,
			       void *arg)
{
	pthread_mutex_lock(&g->lock);
	g->state_cb = cb;
	g->state_arg = arg;
	pthread_mutex_unlock(&g->lock);
}

void nvmeof_mpath_set_event_cb(struct nvmeof_mpath *g, nvmeof_event_cb cb,
			       void *arg)
{
	pthread_mutex_lock(&g->lock);
	g->event_cb = cb;
	g->event_arg = arg;
	pthread_mutex_unlock(&g->lock);
}

/* ---- connecting ---------------------------------------------------------- */

static void path_opts(struct nvmeof_mpath *g, struct mp_path *p,
		      struct nvmeof_opts *o)
{
	*o = g->opts;
	o->traddr = p->traddr;
	o->trsvcid = p->trsvcid;
	if (LOAD(g->multi)) {
		/* Lost commands come back at once to go elsewhere; the path
		 * itself tries again for ever.  The group's clocks are the
		 * caller's ctrl_loss_tmo / fast_io_fail_tmo. */
		o->fast_io_fail_tmo = 0;
		o->ctrl_loss_tmo = -1;
	}
}

/* Connect path p (not under g->lock); 0 or an error kept as its last. */
static int path_connect(struct nvmeof_mpath *g, struct mp_path *p)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c;
	int rc;

	path_opts(g, p, &o);
	STORE(p->state, P_CONNECTING);
	rc = nvmeof_connect(&o, &c);
	if (rc < 0) {
		set_path_error(p, "%s", nvmeof_get_error());
		STORE(p->state, P_FAILED);
		return rc;
	}
	if (g->subnqn[0] == '\0' && o.subnqn == NULL)
		snprintf(g->subnqn, sizeof g->subnqn, "%s", nvmeof_ctrl_subnqn(c));
	pthread_mutex_lock(&g->ns_lock);
	rc = path_scan(g, p, c);
	pthread_mutex_unlock(&g->ns_lock);
	/* Only a mismatch refuses the path: namespaces that could not be
	 * listed are matched by NSID. */
	if (rc < 0 && rc != -EEXIST)
		rc = 0;
	if (rc < 0) {
		char why[512];

		snprintf(why, sizeof why, "%s", nvmeof_get_error());
		set_path_error(p, "%s", why);
		STORE(p->state, P_FAILED);
		(void)nvmeof_disconnect(c);
		return set_error(-rc, "%s", why);
	}
	set_path_error(p, "%s", "");
	nvmeof_set_state_cb(c, on_state, p);
	nvmeof_set_event_cb(c, on_event, p);
	STORE(p->state, strcmp(nvmeof_ctrl_state(c), "live") ? P_CONNECTING : P_LIVE);
	STORE(p->ctrl, c);
	__atomic_add_fetch(&p->gen, 1, __ATOMIC_RELEASE);
	/* Removed while it connected: it ends now, as the others. */
	if (LOAD(p->removed))
		(void)nvmeof_ctrl_fail(c, "the path was removed");
	return 0;
}

static void *group_thread(void *arg)
{
	struct nvmeof_mpath *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->closing) {
		uint64_t now = mono_ns(), next = now + 3600ull * 1000000000ull;
		unsigned n = g->nr;
		bool woke = false;

		g->kick = false;
		for (unsigned i = 0; i < n && !g->closing; i++) {
			struct mp_path *p = g->paths[i];
			bool rd, change;
			int rc;

			if (LOAD(p->removed))
				continue;
			if (!p->ctrl) {
				if (g->ended)
					continue;
				if (now < p->next_connect_ns) {
					next = MIN(next, p->next_connect_ns);
					continue;
				}
				pthread_mutex_unlock(&g->lock);
				rc = path_connect(g, p);
				pthread_mutex_lock(&g->lock);
				now = mono_ns();
				if (rc < 0) {
					p->next_connect_ns = now +
						(uint64_t)MAX(g->opts.reconnect_delay, 1) *
						1000000000ull;
					next = MIN(next, p->next_connect_ns);
				}
				woke = true;
				continue;
			}
			pthread_mutex_lock(&p->lock);
			change = p->change_until_ns > now;
			rd = p->reread || change;
			p->reread = false;
			pthread_mutex_unlock(&p->lock);
			if (!rd || LOAD(p->state) != P_LIVE)
				continue;
			pthread_mutex_unlock(&g->lock);
			(void)ctrl_ana_refresh(LOAD(p->ctrl));
			pthread_mutex_lock(&g->lock);
			woke = true;
			if (change) {
				/* Still in change?  Look again soon, up to ANATT. */
				bool still = false;
				unsigned nns = g->nns;

				for (unsigned k = 0; k < nns; k++)
					if (path_ana(p, (int)k, 0) == 0x0f)
						still = true;
				pthread_mutex_lock(&p->lock);
				if (!still)
					p->change_until_ns = 0;
				pthread_mutex_unlock(&p->lock);
				if (still)
					next = MIN(next, now + MP_CHANGE_POLL_MS * 1000000ull);
			}
		}
		if (woke) {
			pthread_mutex_unlock(&g->lock);
			wake_all(g);
			pthread_mutex_lock(&g->lock);
		}
		if (g->kick || g->closing)
			continue;
		{
			struct timespec ts;
			uint64_t d = next - mono_ns();

			if ((int64_t)d <= 0)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			d += (uint64_t)ts.tv_nsec;
			ts.tv_sec += (time_t)(d / 1000000000ull);
			ts.tv_nsec = (long)(d % 1000000000ull);
			pthread_cond_timedwait(&g->cond, &g->lock, &ts);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static int new_path(struct nvmeof_mpath *g, const char *addr)
{
	struct mp_path *p;
	unsigned n = LOAD(g->nr);
	int rc;

	if (n >= NVMEOF_MPATH_MAX_PATHS)
		return set_error(ENOSPC, "multipath: at most %d paths",
				 NVMEOF_MPATH_MAX_PATHS);
	p = calloc(1, sizeof *p);
	if (!p)
		return set_error(ENOMEM, "out of memory");
	rc = nvmeof_parse_address(addr, p->traddr, sizeof p->traddr, p->trsvcid,
				  sizeof p->trsvcid, "4420");
	if (rc < 0) {
		free(p);
		return rc;
	}
	for (unsigned i = 0; i < n; i++)
		if (!LOAD(g->paths[i]->removed) &&
		    !strcmp(g->paths[i]->traddr, p->traddr) &&
		    !strcmp(g->paths[i]->trsvcid, p->trsvcid)) {
			free(p);
			return set_error(EEXIST, "multipath: %s is path %u already",
					 addr, i);
		}
	p->id = n;
	p->g = g;
	p->state = P_FAILED;
	p->cache_gen = UINT64_MAX;
	pthread_mutex_init(&p->lock, NULL);
	g->paths[n] = p;
	STORE(g->nr, n + 1);
	return (int)n;
}

static char *dup_opt(const char *s, char *buf, size_t len)
{
	if (!s)
		return NULL;
	snprintf(buf, len, "%s", s);
	return buf;
}

int nvmeof_mpath_connect(const struct nvmeof_opts *opts,
			 const char *const *addrs, unsigned nr,
			 const char *iopolicy, struct nvmeof_mpath **gp)
{
	struct nvmeof_mpath *g;
	const char **sec[6];
	int rc = 0, ok = 0;
	char first_err[512] = "";
	uint16_t first_status = 0; /* the NVMe status of that first failure */

	if (!opts || !addrs || !nr || !gp)
		return set_error(EINVAL, "nvmeof_mpath_connect: bad arguments");
	if (nr > NVMEOF_MPATH_MAX_PATHS)
		return set_error(EINVAL, "multipath: %u paths, at most %d", nr,
				 NVMEOF_MPATH_MAX_PATHS);
	g = calloc(1, sizeof *g);
	if (!g)
		return set_error(ENOMEM, "out of memory");
	g->opts = *opts;
	g->opts.subnqn = dup_opt(opts->subnqn, g->subnqn, sizeof g->subnqn);
	g->opts.hostnqn = dup_opt(opts->hostnqn, g->hostnqn, sizeof g->hostnqn);
	g->opts.hostid = dup_opt(opts->hostid, g->hostid, sizeof g->hostid);
	g->opts.host_iface = dup_opt(opts->host_iface, g->iface, sizeof g->iface);
	g->opts.host_traddr = dup_opt(opts->host_traddr, g->srcaddr,
				      sizeof g->srcaddr);
	sec[0] = &g->opts.dhchap_secret;
	sec[1] = &g->opts.dhchap_secret_file;
	sec[2] = &g->opts.dhchap_ctrl_secret;
	sec[3] = &g->opts.dhchap_ctrl_secret_file;
	sec[4] = &g->opts.tls_key;
	sec[5] = &g->opts.tls_key_file;
	for (int i = 0; i < 6; i++)
		if (*sec[i] && !(*sec[i] = g->secrets[i] = strdup(*sec[i])))
			rc = set_error(ENOMEM, "out of memory");
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_init(&g->ns_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_key_create(&g->key, NULL)) {
		rc = set_error(EAGAIN, "multipath: no thread key left");
		goto fail_key;
	}
	g->multi = nr > 1;
	if (rc == 0)
		rc = nvmeof_mpath_set_iopolicy(g, iopolicy);
	for (unsigned i = 0; rc >= 0 && i < nr; i++) {
		rc = new_path(g, addrs[i]);
		if (rc < 0)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	for (unsigned i = 0; i < nr; i++) {
		int r = path_connect(g, g->paths[i]);

		if (r == 0) {
			ok++;
		} else if (!first_err[0]) {
			rc = r;
			first_status = nvmeof_last_status();
			if (nr == 1)
				snprintf(first_err, sizeof first_err, "%s",
					 nvmeof_get_error());
			else
				snprintf(first_err, sizeof first_err, "%s:%s: %s",
					 g->paths[i]->traddr,
					 g->paths[i]->trsvcid,
					 nvmeof_get_error());
		}
	}
	if (!ok) {
		/* One path: the association's own error, as it was. */
		if (nr == 1)
			set_error(-rc, "%s", first_err);
		else
			rc = set_error(-rc, "no path connected (the first: %s)",
				       first_err);
		goto fail;
	}
	rc = 0;
	for (unsigned i = 0; i < nr; i++)
		g->paths[i]->next_connect_ns = mono_ns() +
			(uint64_t)MAX(g->opts.reconnect_delay, 1) * 1000000000ull;
	if (pthread_create(&g->tid, NULL, group_thread, g)) {
		rc = set_error(EAGAIN, "multipath: cannot start a thread");
		goto fail;
	}
	g->thread_on = true;
	*gp = g;
	return 0;
fail:
	{
		char why[512];

		snprintf(why, sizeof why, "%s", nvmeof_get_error());
		g->closing = true;
		for (unsigned i = 0; i < g->nr; i++) {
			if (g->paths[i]->ctrl)
				(void)nvmeof_disconnect(g->paths[i]->ctrl);
			pthread_mutex_destroy(&g->paths[i]->lock);
			free(g->paths[i]);
		}
		pthread_key_delete(g->key);
		set_error(-rc, "%s", why);
		/* a refused Connect stays a refusal for the caller */
		set_last_status(first_status);
	}
fail_key:
	for (int i = 0; i < 6; i++)
		free(g->secrets[i]);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	pthread_mutex_destroy(&g->ns_lock);
	free(g);
	return rc;
}

int nvmeof_mpath_add_path(struct nvmeof_mpath *g, const char *addr)
{
	int i;

	pthread_mutex_lock(&g->lock);
	i = new_path(g, addr);
	if (i >= 0 && !g->multi) {
		/* From now on lost commands go elsewhere: the first path
		 * hands them back at once, and tries again for ever. */
		struct nvmeof_ctrl *c = g->paths[0]->ctrl;

		STORE(g->multi, true);
		if (c) {
			__atomic_store_n(&c->opts.fast_io_fail_tmo, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&c->opts.ctrl_loss_tmo, -1, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&g->lock);
	if (i < 0)
		return i;
	if (path_connect(g, g->paths[i]) < 0) {
		pthread_mutex_lock(&g->lock);
		g->paths[i]->next_connect_ns = mono_ns() +
			(uint64_t)MAX(g->opts.reconnect_delay, 1) * 1000000000ull;
		pthread_mutex_unlock(&g->lock);
		group_kick(g);
	}
	return i;
}

int nvmeof_mpath_remove_path(struct nvmeof_mpath *g, const char *addr)
{
	char traddr[257], trsvcid[33];
	struct mp_path *p = NULL;
	struct nvmeof_ctrl *c;
	unsigned n, left = 0;
	int rc;

	if (!g || !addr)
		return set_error(EINVAL, "nvmeof_mpath_remove_path: bad arguments");
	rc = nvmeof_parse_address(addr, traddr, sizeof traddr, trsvcid,
				  sizeof trsvcid, "4420");
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g->lock);
	n = g->nr;
	for (unsigned i = 0; i < n; i++) {
		struct mp_path *q = g->paths[i];

		if (LOAD(q->removed))
			continue;
		left++;
		if (!p && !strcmp(q->traddr, traddr) && !strcmp(q->trsvcid, trsvcid))
			p = q;
	}
	if (!p) {
		pthread_mutex_unlock(&g->lock);
		return set_error(ENOENT, "multipath: no path at %s", addr);
	}
	if (left < 2) {
		pthread_mutex_unlock(&g->lock);
		return set_error(EBUSY, "multipath: %s is the last path: not removed (end the group instead)",
				 addr);
	}
	/* Never chosen again, never tried again by the group thread. */
	STORE(p->removed, true);
	set_path_error(p, "%s", "removed");
	pthread_mutex_unlock(&g->lock);
	/* Its association ends: what was outstanding on it comes back to
	 * mp_done() with EIO and goes to another path, as a lost path's.
	 * The association itself is freed with the group (a thread may be
	 * polling it right now). */
	c = LOAD(p->ctrl);
	if (c)
		(void)nvmeof_ctrl_fail(c, "the path was removed");
	wake_all(g);
	return 0;
}

int nvmeof_mpath_disconnect(struct nvmeof_mpath *g)
{
	int rc = 0;
	struct mp_thread *t;

	if (!g)
		return 0;
	pthread_mutex_lock(&g->lock);
	STORE(g->closing, true);
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	if (g->thread_on)
		pthread_join(g->tid, NULL);
	for (unsigned i = 0; i < g->nr; i++) {
		struct mp_path *p = g->paths[i];

		if (p->ctrl) {
			int r = nvmeof_disconnect(p->ctrl);

			if (r < 0 && rc == 0)
				rc = r;
		}
	}
	/* What still waits for a path fails now. */
	for (t = g->threads; t; t = t->next) {
		struct mp_req *r = t->head;

		t->head = t->tail = NULL;
		while (r) {
			struct mp_req *next = r->next;

			req_done(r, -ECANCELED, 0);
			r = next;
		}
	}
	while ((t = g->threads)) {
		g->threads = t->next;
		close(t->epfd);
		close(t->evfd);
		pthread_mutex_destroy(&t->lock);
		free(t);
	}
	for (unsigned i = 0; i < g->nr; i++) {
		pthread_mutex_destroy(&g->paths[i]->lock);
		free(g->paths[i]);
	}
	pthread_key_delete(g->key);
	for (int i = 0; i < 6; i++)
		free(g->secrets[i]);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	pthread_mutex_destroy(&g->ns_lock);
	free(g);
	return rc;
}

int nvmeof_mpath_fail(struct nvmeof_mpath *g, const char *why)
{
	unsigned n = LOAD(g->nr);

	STORE(g->ended, true);
	for (unsigned i = 0; i < n; i++) {
		struct nvmeof_ctrl *c = LOAD(g->paths[i]->ctrl);

		if (c)
			(void)nvmeof_ctrl_fail(c, why);
		else
			set_path_error(g->paths[i], "%s", why);
	}
	/* What waits for a path fails now, here (as nvmeof_ctrl_fail()
	 * runs the callbacks of what was pending). */
	pthread_mutex_lock(&g->lock);
	for (struct mp_thread *t = g->threads; t; t = t->next) {
		struct mp_req *r;

		pthread_mutex_lock(&t->lock);
		r = t->head;
		t->head = t->tail = NULL;
		pthread_mutex_unlock(&t->lock);
		pthread_mutex_unlock(&g->lock);
		while (r) {
			struct mp_req *next = r->next;

			req_done(r, -EIO, 0);
			r = next;
		}
		pthread_mutex_lock(&g->lock);
	}
	pthread_mutex_unlock(&g->lock);
	wake_all(g);
	return 0;
}

/* ---- what the group is ------------------------------------------------------ */

int nvmeof_mpath_set_iopolicy(struct nvmeof_mpath *g, const char *name)
{
	if (!name) {
		STORE(g->policy, POL_RR);
		return 0;
	}
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, pol_names[i])) {
			STORE(g->policy, i);
			return 0;
		}
	return set_error(EINVAL, "unknown I/O policy '%s' (numa, round-robin, queue-depth)",
			 name);
}

const char *nvmeof_mpath_iopolicy(struct nvmeof_mpath *g)
{
	return pol_names[LOAD(g->policy)];
}

unsigned nvmeof_mpath_nr_paths(struct nvmeof_mpath *g)
{
	unsigned n = LOAD(g->nr), k = 0;

	for (unsigned i = 0; i < n; i++)
		if (!LOAD(g->paths[i]->removed))
			k++;
	return k;
}

struct nvmeof_ctrl *nvmeof_mpath_path_ctrl(struct nvmeof_mpath *g, unsigned i)
{
	return i < LOAD(g->nr) && !LOAD(g->paths[i]->removed) ?
	       LOAD(g->paths[i]->ctrl) : NULL;
}

struct nvmeof_ctrl *nvmeof_mpath_ctrl(struct nvmeof_mpath *g)
{
	unsigned n = LOAD(g->nr);
	struct nvmeof_ctrl *any = NULL;

	for (unsigned i = 0; i < n; i++) {
		struct nvmeof_ctrl *c = LOAD(g->paths[i]->ctrl);

		if (LOAD(g->paths[i]->removed))
			continue;
		if (c && LOAD(g->paths[i]->state) == P_LIVE)
			return c;
		if (c && !any)
			any = c;
	}
	return any;
}

int nvmeof_mpath_rescan(struct nvmeof_mpath *g)
{
	unsigned n = LOAD(g->nr);
	int rc = 0;

	for (unsigned i = 0; i < n; i++) {
		struct mp_path *p = g->paths[i];
		int r;

		if (!LOAD(p->ctrl) || LOAD(p->state) != P_LIVE ||
		    LOAD(p->removed))
			continue;
		pthread_mutex_lock(&g->ns_lock);
		r = path_scan(g, p, LOAD(p->ctrl));
		pthread_mutex_unlock(&g->ns_lock);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

int nvmeof_mpath_path_info(struct nvmeof_mpath *g, unsigned i,
			   struct nvmeof_mpath_path_info *in)
{
	struct mp_path *p;
	struct nvmeof_ctrl *c;

	if (i >= LOAD(g->nr) || !in)
		return set_error(EINVAL, "multipath: no path %u", i);
	p = g->paths[i];
	if (LOAD(p->removed))
		return set_error(ENOENT, "multipath: path %u was removed", i);
	c = LOAD(p->ctrl);
	memset(in, 0, sizeof *in);
	in->id = i;
	snprintf(in->traddr, sizeof in->traddr, "%s", p->traddr);
	snprintf(in->trsvcid, sizeof in->trsvcid, "%s", p->trsvcid);
	in->cntlid = c ? nvmeof_ctrl_cntlid(c) : 0;
	in->state = path_state_name(LOAD(p->state));
	in->reads = LOAD(p->reads);
	in->writes = LOAD(p->writes);
	in->errors = LOAD(p->errors);
	in->inflight = LOAD(p->inflight);
	pthread_mutex_lock(&p->lock);
	snprintf(in->last_error, sizeof in->last_error, "%s", p->last_error);
	pthread_mutex_unlock(&p->lock);
	in->ana = c && ctrl_has_ana(c);
	if (in->ana) {
		const size_t gsz = sizeof(struct nvme_ana_group_desc);
		size_t off = sizeof(struct nvme_ana_log_hdr);

		pthread_mutex_lock(&c->ana_lock);
		if (c->ana_log) {
			/* checked by ctrl_ana_refresh() */
			uint16_t ng = le16_get(c->ana_log +
					       offsetof(struct nvme_ana_log_hdr, ngrps));

			for (unsigned j = 0; j < ng; j++) {
				const uint8_t *d = c->ana_log + off;
				uint32_t nn = le32_get(d + offsetof(struct nvme_ana_group_desc,
								    nnsids));

				if (in->nr_groups < 32) {
					in->grpid[in->nr_groups] =
						le32_get(d + offsetof(struct nvme_ana_group_desc,
								      grpid));
					in->grpstate[in->nr_groups++] =
						d[offsetof(struct nvme_ana_group_desc, state)] & 0xf;
				}
				off += gsz + 4 * (size_t)nn;
			}
		}
		pthread_mutex_unlock(&c->ana_lock);
	}
	return 0;
}

int nvmeof_mpath_paths_text(struct nvmeof_mpath *g, char *buf, size_t len)
{
	unsigned n = LOAD(g->nr);
	size_t off = 0;
	int w;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		struct nvmeof_mpath_path_info in;
		char ana[32 * 32] = "-";
		size_t a = 0;

		if (nvmeof_mpath_path_info(g, i, &in) < 0)
			continue;
		if (in.ana && in.nr_groups) {
			for (unsigned j = 0; j < in.nr_groups; j++)
				a += (size_t)snprintf(ana + a, sizeof ana - a, "%s%u:%s",
						      j ? "," : "", in.grpid[j],
						      nvmeof_ana_state_name(in.grpstate[j]));
		} else if (in.ana) {
			snprintf(ana, sizeof ana, "-");
		}
		for (char *q = in.last_error; *q; q++)
			if (*q == '\n')
				*q = ' ';
		w = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
			     "%u %s%s%s:%s cntlid=%u state=%s ana=%s reads=%" PRIu64
			     " writes=%" PRIu64 " inflight=%d errors=%" PRIu64
			     " last_error=%s\n",
			     i, strchr(in.traddr, ':') ? "[" : "", in.traddr,
			     strchr(in.traddr, ':') ? "]" : "", in.trsvcid,
			     in.cntlid, in.state, ana, in.reads, in.writes,
			     in.inflight, in.errors,
			     in.last_error[0] ? in.last_error : "-");
		if (w < 0)
			return -EIO;
		off += (size_t)w;
	}
	return (int)off;
}

void nvmeof_mpath_stats(struct nvmeof_mpath *g, struct nvmeof_mpath_stats *st)
{
	st->failovers = LOAD(g->failovers);
	st->ana_retries = LOAD(g->ana_retries);
	st->waits = LOAD(g->waits);
}

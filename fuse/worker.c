/* SPDX-License-Identifier: MIT */
/*
 * The workers: our own loop instead of fuse_session_loop_mt().  Each worker
 * waits on the FUSE device (shared, non-blocking: a read that loses the
 * race gets EAGAIN) and its own I/O queue of every controller; FUSE
 * requests submit and return, queue events run the completions, which
 * reply.  A request wakes one sleeping worker, not all (see wset_wait).
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
#include <sched.h>
#include <sys/epoll.h>

#include "busy_poll.h"
#include "fuse.h"

/* With commands in flight, wake up this often even without socket
 * events, so that nvmeof_poll() looks for commands past their timeout.
 * (Data the socket would not take at submit time is not waited for by
 * timer: the socket is watched for nvmeof_poll_events(), POLLOUT then.) */
#define INFLIGHT_POLL_MS 100
/* While an association reconnects, look for its new sockets this often. */
#define DOWN_POLL_MS 50
#define RECV_BATCH 16
/* A sched_yield() in a worker's busy-poll that returns this late ran
 * another thread: the CPU is busy and will not halt.  Shorter than the
 * library's default: a worker shares its CPU with the FUSE client (fio),
 * whose turn is the very work the spin delays. */
#define WORKER_YIELD_BUSY_NS 20000
#define DRAIN_MS 10000

/* ---- workers ----------------------------------------------------------------- */

static void request_stop(struct fs *fs)
{
	uint64_t one = 1;

	/* The counter stays non-zero: every poller sees it readable. */
	(void)!write(fs->stop_fd, &one, sizeof one);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What a worker knows of one controller's queue: its socket changes when
 * the library reconnects, and is not worth watching while the association
 * is down (a shut-down socket is readable forever). */
struct wqueue {
	struct fctrl *fc;        /* the slot's fctrl when last looked at */
	int fd;
	unsigned gen;            /* fctrl.state_gen when fd was read */
	bool reconnecting;
	bool plugged;            /* nvmeof_plug() for a batch of requests */
	/* what the worker's epoll set holds for this queue (wset_sync) */
	int reg_fd;              /* -1: nothing */
	short reg_events;
	unsigned reg_gen;
};

static bool all_live(struct fs *fs)
{
	unsigned i, n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);

		if (fc && !fctrl_gone(fc) &&
		    strcmp(nvmeof_mpath_state(fc->mp), "live"))
			return false;
	}
	return true;
}

/* The other side of tree_remove_ctrl(): every worker that was not asleep
 * in poll() when a controller was marked gone has been round its loop
 * since, so none still uses the controller. */
bool workers_quiesce(struct fs *fs, int timeout_ms)
{
	int i, n = __atomic_load_n(&fs->nr_workers, __ATOMIC_ACQUIRE);
	unsigned long *snap = calloc((size_t)n + 1, sizeof *snap);
	uint64_t until = mono_ms() + (uint64_t)timeout_ms;
	bool done = false;

	if (!snap)
		return false;
	for (i = 0; i < n; i++)
		snap[i] = __atomic_load_n(&fs->workers[i]->qs, __ATOMIC_SEQ_CST);
	while (!done) {
		done = true;
		for (i = 0; i < n; i++)
			if (!(snap[i] & 1) &&
			    __atomic_load_n(&fs->workers[i]->qs,
					    __ATOMIC_SEQ_CST) == snap[i])
				done = false;
		if (done || mono_ms() > until)
			break;
		usleep(1000);
	}
	free(snap);
	return done;
}

static void qs_bump(struct worker *w, unsigned long by)
{
	__atomic_add_fetch(&w->qs, by, __ATOMIC_SEQ_CST);
}

static void wqueue_refresh(struct fctrl *fc, struct wqueue *wq)
{
	const char *st;

	wq->gen = __atomic_load_n(&fc->state_gen, __ATOMIC_ACQUIRE);
	st = nvmeof_mpath_state(fc->mp);
	wq->reconnecting = !strcmp(st, "reconnecting");
	/* The group's descriptor for this thread: its queues on every path
	 * and its wake-ups (a command to send again); the same for the life
	 * of the group, watched in every state. */
	wq->fd = nvmeof_mpath_poll_fd(fc->mp);
	if (wq->fd < 0)
		wq->fd = -1;
}

/* Room for n controllers in a worker's poll set. */
static int wq_grow(struct pollfd **pfd, struct wqueue **wq, unsigned *cap,
		   unsigned n)
{
	unsigned ncap = n + 8;
	struct pollfd *p = realloc(*pfd, (2 + ncap) * sizeof *p);
	struct wqueue *q;

	if (!p)
		return -ENOMEM;
	*pfd = p;
	q = realloc(*wq, ncap * sizeof *q);
	if (!q)
		return -ENOMEM;
	memset(q + *cap, 0, (ncap - *cap) * sizeof *q);
	for (unsigned i = *cap; i < ncap; i++)
		q[i].reg_fd = -1;
	memset(p + 2 + *cap, 0, (ncap - *cap) * sizeof *p);
	*wq = q;
	*cap = ncap;
	return 0;
}

/* The blocking wait of a worker is an epoll_wait(), so that the FUSE
 * device can be watched with EPOLLEXCLUSIVE: a new request wakes one
 * sleeping worker, the first in line, instead of every worker.  With
 * poll() all of them woke for each request, all but one read nothing, and
 * the workers took turns: at queue depth 1 each request went to the other
 * I/O queue, so neither queue's thread in the target stayed warm.  Now the
 * first worker takes the requests while it keeps up, and the next one is
 * woken only while it is busy.  (The busy-poll still uses poll() with no
 * timeout, which waits on nothing.)
 *
 * Slots 0 and 1 of pfd (FUSE device, stop eventfd) are registered once;
 * wset_sync() brings the queues' sockets (slots 2..) up to date. */
#define WSET_EVENTS 64

static int wset_init(int epfd, struct pollfd *pfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };

	ev.data.u32 = 0;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[0].fd, &ev) < 0)
		return -errno;
	ev.events = EPOLLIN;
	ev.data.u32 = 1;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[1].fd, &ev) < 0)
		return -errno;
	return 0;
}

static void wset_sync(int epfd, const struct pollfd *pfd, struct wqueue *wq,
		      unsigned nc)
{
	unsigned i, j;

	for (i = 0; i < nc; i++) {
		struct wqueue *q = &wq[i];
		const struct pollfd *p = &pfd[2 + i];
		struct epoll_event ev = { .events = (uint32_t)p->events };

		ev.data.u32 = 2 + i;
		if (q->reg_fd == p->fd && (p->fd < 0 || (q->reg_gen == q->gen &&
							  q->reg_events == p->events)))
			continue;
		/* Same socket, other events. */
		if (p->fd >= 0 && q->reg_fd == p->fd && q->reg_gen == q->gen &&
		    epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev) == 0) {
			q->reg_events = p->events;
			continue;
		}
		if (q->reg_fd >= 0) {
			/* Gone (a closed socket left the set by itself), or
			 * another socket: the old number may be a newer socket
			 * of another queue by now, which then registers again. */
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, q->reg_fd, NULL);
			for (j = 0; j < nc; j++)
				if (j != i && wq[j].reg_fd == q->reg_fd)
					wq[j].reg_fd = -1;
			q->reg_fd = -1;
		}
		if (p->fd < 0)
			continue;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, p->fd, &ev) == 0 ||
		    (errno == EEXIST &&
		     epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev) == 0)) {
			q->reg_fd = p->fd;
			q->reg_events = p->events;
			q->reg_gen = q->gen;
		}
		/* Else it is not watched; the in-flight sweep still polls it. */
	}
}

/* poll()'s contract on the worker's set: revents filled, count returned. */
static int wset_wait(int epfd, struct pollfd *pfd, nfds_t n, int tmo)
{
	struct epoll_event ev[WSET_EVENTS];
	nfds_t k;
	int i, r = epoll_wait(epfd, ev, WSET_EVENTS, tmo);

	for (k = 0; k < n; k++)
		pfd[k].revents = 0;
	for (i = 0; i < r; i++)
		if (ev[i].data.u32 < n)
			pfd[ev[i].data.u32].revents = (short)ev[i].events;
	return r;
}

/* Requests received in one batch go out in one send per queue. */
static void plug_all(struct wqueue *wq, unsigned nc, bool plug)
{
	unsigned i;

	for (i = 0; i < nc; i++) {
		if (plug && wq[i].fd >= 0 && wq[i].fc && !fctrl_gone(wq[i].fc)) {
			nvmeof_mpath_plug(wq[i].fc->mp);
			wq[i].plugged = true;
		} else if (!plug && wq[i].plugged) {
			(void)nvmeof_mpath_unplug(wq[i].fc->mp);
			wq[i].plugged = false;
		}
	}
}

/* One worker's loop: its poll set (slot 0 the FUSE device, 1 the stop
 * eventfd, 2.. one queue per controller slot), what it knows of each
 * queue, and the busy-poll's back-off. */
struct wloop {
	struct worker *w;
	struct fs *fs;
	struct fuse_session *se;
	struct fuse_buf fbuf;
	struct pollfd *pfd;
	struct wqueue *wq;
	unsigned cap, nc;
	struct busy_poll bp; /* lib/busy_poll.h */
	uint64_t last_sweep;
	int epfd;
};

static int wloop_init(struct wloop *l, struct worker *w)
{
	memset(l, 0, sizeof *l);
	l->w = w;
	l->fs = w->fs;
	l->se = w->fs->se;
	busy_poll_init(&l->bp, (uint32_t)l->fs->busy_poll_ns);
	l->bp.yield_busy_ns = WORKER_YIELD_BUSY_NS;
	l->last_sweep = mono_ms();
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0 || wq_grow(&l->pfd, &l->wq, &l->cap,
				   __atomic_load_n(&l->fs->nr_ctrls, __ATOMIC_ACQUIRE)) < 0) {
		note("worker %d: %s", w->id, strerror(l->epfd < 0 ? errno : ENOMEM));
		return -1;
	}
	l->pfd[0].fd = fuse_session_fd(l->se);
	l->pfd[0].events = POLLIN;
	l->pfd[1].fd = l->fs->stop_fd;
	l->pfd[1].events = POLLIN;
	if (wset_init(l->epfd, l->pfd) < 0) {
		note("worker %d: epoll: %s", w->id, strerror(errno));
		return -1;
	}
	return 0;
}

static void wloop_fini(struct wloop *l)
{
	io_rbuf_put(l->fbuf.mem);
	free(l->pfd);
	free(l->wq);
	if (l->epfd >= 0)
		close(l->epfd);
}

/* The poll set for this round: each controller's queue socket while it is
 * live (subsystems come and go in a tree, see tree_add_ctrl).  *down: one
 * reconnects; *live: one socket is watched. */
static void wloop_build(struct wloop *l, bool *down, bool *live)
{
	struct pollfd *pfd;
	struct wqueue *wq;
	unsigned i;

	l->nc = __atomic_load_n(&l->fs->nr_ctrls, __ATOMIC_ACQUIRE);
	if (l->nc > l->cap && wq_grow(&l->pfd, &l->wq, &l->cap, l->nc) < 0)
		l->nc = l->cap;
	pfd = l->pfd;
	wq = l->wq;
	for (i = 0; i < l->nc; i++) {
		struct fctrl *fc = tree_ctrl_at(l->fs, i);

		pfd[2 + i].fd = -1;
		pfd[2 + i].events = POLLIN;
		if (!fc || fctrl_gone(fc)) {
			wq[i].fc = fc;
			wq[i].fd = -1;
			wq[i].reconnecting = false;
			continue;
		}
		if (fc != wq[i].fc) {
			/* The first call binds this thread to its
			 * I/O queue. */
			wq[i].fc = fc;
			wqueue_refresh(fc, &wq[i]);
		} else if (wq[i].reconnecting ||
			   __atomic_load_n(&fc->state_gen,
					   __ATOMIC_ACQUIRE) != wq[i].gen) {
			wqueue_refresh(fc, &wq[i]);
		}
		/* brings the group's set up to date with its sockets */
		wq[i].fd = nvmeof_mpath_poll_fd(fc->mp);
		pfd[2 + i].fd = wq[i].fd;
		*down |= wq[i].reconnecting;
		*live |= wq[i].fd >= 0;
	}
}

/* Wait for the FUSE device, the stop eventfd or a queue: busy-poll first
 * with commands in flight, then sleep in epoll_wait().  poll()'s result
 * (revents filled), with errno kept. */
static int wloop_wait(struct wloop *l, int inflight, bool live, bool down)
{
	struct worker *w = l->w;
	int r, tmo = -1;

	/* Commands parked for a reconnect need no 1 ms wake-ups. */
	if (inflight > 0)
		tmo = live || !down ? INFLIGHT_POLL_MS : DOWN_POLL_MS;
	else if (down)
		tmo = DOWN_POLL_MS;
	qs_bump(w, 1); /* quiescent: no controller in use */
	r = 0;
	/* Commands in flight: look for their completions (and new requests)
	 * without sleeping for a while, as the library's queues do, so that
	 * this CPU does not go idle (and halt) for the few microseconds they
	 * take; the back-off rules are busy_poll.h's. */
	{
		uint64_t now = busy_poll_clock_ns();
		uint64_t spin = busy_poll_budget(&l->bp, inflight > 0 && live, now,
						 UINT64_MAX);
		bool busy = false;

		if (spin) {
			r = busy_poll_spin(&l->bp, l->pfd, 2 + l->nc, now + spin, &busy);
			busy_poll_account(&l->bp, r > 0, busy);
		}
	}
	if (r == 0) {
		wset_sync(l->epfd, l->pfd, l->wq, l->nc);
		r = wset_wait(l->epfd, l->pfd, 2 + l->nc, tmo);
	}
	qs_bump(w, 1);
	return r;
}

/* The queues with events; every INFLIGHT_POLL_MS with commands in flight
 * every queue, events or not (timeouts), also when FUSE requests keep
 * poll() from timing out. */
static void wloop_poll_queues(struct wloop *l, int r, int inflight)
{
	bool sweep = false;
	unsigned i;

	if (inflight > 0 &&
	    (r == 0 || mono_ms() - l->last_sweep >= INFLIGHT_POLL_MS)) {
		sweep = true;
		l->last_sweep = mono_ms();
	}
	for (i = 0; i < l->nc; i++) {
		struct fctrl *fc = l->wq[i].fc;
		short rev = l->pfd[2 + i].fd >= 0 ? l->pfd[2 + i].revents : 0;

		/* Removed while we slept: not to be touched. */
		if (!fc || fctrl_gone(fc))
			continue;
		if (!rev && !sweep)
			continue;
		(void)nvmeof_mpath_poll(fc->mp, 0);
		/* Hung up: the association is going down, or has
		 * failed for good: look again at its state (a socket
		 * that is not live is not watched). */
		if (rev & (POLLHUP | POLLERR | POLLNVAL))
			wqueue_refresh(fc, &l->wq[i]);
	}
}

/* Up to RECV_BATCH FUSE requests, sent out in one send per queue.  True
 * when the session has ended (unmounted: ENODEV, or a fatal error). */
static bool wloop_receive(struct wloop *l)
{
	struct worker *w = l->w;
	bool stop = false;

	plug_all(l->wq, l->nc, true);
	for (int k = 0; k < RECV_BATCH; k++) {
		int res;

		if (!l->fbuf.mem)
			l->fbuf.mem = io_rbuf_get();
		l->fbuf.flags = 0;
		res = fuse_session_receive_buf(l->se, &l->fbuf);
		if (res == -EAGAIN) {
			if (k == 0)
				w->neagain++;
			break;
		}
		if (res == -EINTR)
			continue;
		if (res <= 0 || fuse_session_exited(l->se)) {
			fuse_session_exit(l->se);
			stop = true;
			break;
		}
		w->cur_rbuf = l->fbuf.mem;
		w->rbuf_taken = false;
		fuse_session_process_buf(l->se, &l->fbuf);
		if (w->rbuf_taken)
			l->fbuf.mem = NULL; /* a write holds it */
		w->cur_rbuf = NULL;
		w->nreq++;
	}
	plug_all(l->wq, l->nc, false);
	return stop;
}

/* Whatever we submitted completes before the association goes, if it
 * can: commands parked for a reconnect are answered EIO later. */
static void worker_drain(struct worker *w)
{
	uint64_t until = mono_ms() + DRAIN_MS;

	while (__atomic_load_n(&w->inflight, __ATOMIC_RELAXED) > 0 &&
	       mono_ms() < until && all_live(w->fs)) {
		io_poll_all(w->fs, 10);
		qs_bump(w, 2); /* went round: a quiescent point */
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct wloop l;
	bool stop = false;

	tls_worker = w;
	if (wloop_init(&l, w) < 0) {
		wloop_fini(&l);
		qs_bump(w, 1); /* quiescent for good */
		request_stop(w->fs);
		return NULL;
	}
	while (!stop) {
		int inflight = __atomic_load_n(&w->inflight, __ATOMIC_RELAXED);
		bool down = false, live = false;
		int r;

		wloop_build(&l, &down, &live);
		r = wloop_wait(&l, inflight, live, down);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		w->nwake++;
		if (r == 0)
			w->ntimeout++;
		if (l.pfd[1].revents)
			break;
		wloop_poll_queues(&l, r, inflight);
		if (l.pfd[0].revents)
			stop = wloop_receive(&l);
	}
	request_stop(w->fs);
	worker_drain(w);
	qs_bump(w, 1); /* odd for good: it touches no controller again */
	dbg("worker %d: %llu requests, %llu wake-ups (%llu by timeout, %llu lost races)",
	    w->id, (unsigned long long)w->nreq, (unsigned long long)w->nwake,
	    (unsigned long long)w->ntimeout, (unsigned long long)w->neagain);
	wloop_fini(&l);
	return NULL;
}

int start_workers(struct fs *fs, int nr, unsigned qd)
{
	int i, rc;

	/* Receive buffers kept free: one per request the kernel may have
	 * in flight (max_background) and one per worker; any more is freed. */
	if (io_rbufs_init(fs->max_background + (unsigned)nr) < 0)
		return -ENOMEM;
	fs->workers = calloc((size_t)nr, sizeof *fs->workers);
	if (!fs->workers)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		struct worker *w = calloc(1, sizeof *w);

		if (!w)
			return -ENOMEM;
		if (pool_init(&w->pool, qd) < 0) {
			pool_fini(&w->pool);
			free(w);
			return -ENOMEM;
		}
		w->id = i;
		w->fs = fs;
		fs->workers[i] = w;
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			pool_fini(&w->pool);
			free(w);
			fs->workers[i] = NULL;
			return -rc;
		}
		/* workers_quiesce() (event thread) may be counting them. */
		__atomic_store_n(&fs->nr_workers, fs->nr_workers + 1,
				 __ATOMIC_RELEASE);
	}
	return 0;
}

/* False if a worker is still inside the library after the grace time
 * (a synchronous command parked while the association reconnects). */
bool stop_workers(struct fs *fs)
{
	struct timespec ts;
	bool all = true;
	int i;

	request_stop(fs);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DRAIN_MS / 1000 + 2;
	for (i = 0; i < fs->nr_workers; i++) {
		if (pthread_timedjoin_np(fs->workers[i]->thread, NULL, &ts)) {
			dbg("worker %d does not stop", i);
			all = false;
		}
	}
	return all;
}

void free_workers(struct fs *fs)
{
	int i;

	for (i = 0; i < fs->nr_workers; i++) {
		pool_fini(&fs->workers[i]->pool);
		free(fs->workers[i]);
	}
	free(fs->workers);
	fs->workers = NULL;
	fs->nr_workers = 0;
	io_rbufs_fini();
}


/* SPDX-License-Identifier: MIT */
/*
 * Losing and regaining an association: every queue goes down and parks
 * its commands, the admin thread connects a whole new association (the
 * back-off: libnvmeof(3)) and the queues adopt it and send their commands
 * again; or the association ends (ctrl_loss_tmo, nvmeof_ctrl_fail()).
 * Also nvmeof_ctrl_reconnect() and the link watch (libnl-route).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/eventfd.h>

#include "host.h"
#include "netlink.h"

void ctrl_set_state(struct nvmeof_ctrl *c, int st, const char *why)
{
	nvmeof_state_cb cb;

	pthread_mutex_lock(&c->ev_lock);
	c->state = st;
	c->since_ms = wall_ms();
	cb = c->state_cb;
	pthread_mutex_unlock(&c->ev_lock);
	if (cb)
		cb(c->state_arg, ctrl_state_name(st), why);
}

/* A queue went down (its lock held: take no queue lock here). */
void ctrl_on_down(void *owner, struct queue *q)
{
	struct nvmeof_ctrl *c = owner;

	pthread_mutex_lock(&c->ev_lock);
	if (!c->need_reconnect) {
		c->need_reconnect = true;
		c->down_ns = now_ns();
		snprintf(c->last_error, sizeof c->last_error, "%s", q->dead_msg);
	}
	pthread_mutex_unlock(&c->ev_lock);
	admin_thread_wake(c);
}

void ctrl_for_each_queue(struct nvmeof_ctrl *c,
			   void (*fn)(struct queue *q, void *arg), void *arg)
{
	int i;

	for (i = -1; i < c->nr_io; i++) {
		struct queue *q = i < 0 ? c->admin : c->io[i];

		pthread_mutex_lock(&q->lock);
		fn(q, arg);
		pthread_mutex_unlock(&q->lock);
	}
}

void ctrl_take_down(struct queue *q, void *why)
{
	queue_set_down(q, ECONNRESET, why);
}

static void fail_forever(struct queue *q, void *why)
{
	queue_fail_parked(q, EIO, true, why);
}

static void fail_fast(struct queue *q, void *why)
{
	if (q->qid) /* I/O only: the admin queue keeps its commands */
		queue_fail_parked(q, EIO, false, why);
}

/* One attempt: a whole new association on temporary queues; only when all
 * of it stands do the queues adopt the new connections and resend. */
static int try_reconnect(struct nvmeof_ctrl *c)
{
	struct queue *qa = NULL, **qi;
	struct nvme_id_ctrl *id;
	int rc, i, granted = 0;

	qi = calloc((size_t)c->nr_io + 1, sizeof *qi);
	id = malloc(sizeof *id);
	if (!qi || !id) {
		free(qi);
		free(id);
		return set_error(ENOMEM, "out of memory");
	}
	rc = ctrl_connect_queue(c, 0, ADMIN_QUEUE_SIZE, ADMIN_INCAPSULE, &qa);
	if (rc < 0)
		goto out;
	rc = ctrl_enable(c, qa);
	if (rc < 0)
		goto out;
	rc = ctrl_identify(c, qa, id);
	if (rc < 0)
		goto out;
	if (c->nr_io) {
		rc = ctrl_set_nr_queues(c, qa, c->nr_io, &granted);
		if (rc < 0)
			goto out;
		if (granted < c->nr_io) {
			rc = set_error(EIO, "the controller now grants %d I/O queues, %d are in use",
				       granted, c->nr_io);
			goto out;
		}
	}
	for (i = 0; i < c->nr_io; i++) {
		rc = ctrl_connect_queue(c, (uint16_t)(i + 1), (uint16_t)c->qsize,
				   c->io_incapsule, &qi[i]);
		if (rc < 0) {
			rc = set_error(-rc, "I/O queue %d: %s", i + 1,
				       nvmeof_get_error());
			goto out;
		}
	}
	pthread_mutex_lock(&c->ns_lock);
	memcpy(&c->id_ctrl, id, sizeof *id);
	pthread_mutex_unlock(&c->ns_lock);
	(void)ctrl_publish_id(c); /* no memory: the old data stays published */
	ctrl_ns_forget(c, 0); /* formats may have changed */
	for (i = -1; i < c->nr_io; i++) {
		struct queue *q = i < 0 ? c->admin : c->io[i];
		struct queue *t = i < 0 ? qa : qi[i];

		pthread_mutex_lock(&q->lock);
		queue_adopt(q, t->conn);
		pthread_mutex_unlock(&q->lock);
		t->conn = NULL;
	}
	c->ka_sent_ns = now_ns();
	ctrl_set_async_events(c, c->admin);
	rc = 0;
out:
	for (i = 0; i < c->nr_io; i++)
		queue_destroy(qi[i]);
	queue_destroy(qa);
	free(qi);
	free(id);
	return rc;
}

static void end_queue(struct queue *q, void *why)
{
	queue_cancel(q, EIO, why);
	queue_drain(q);
}

bool ctrl_fail_asked(struct nvmeof_ctrl *c)
{
	bool f;

	pthread_mutex_lock(&c->ev_lock);
	f = c->fail_req && !c->fail_done;
	pthread_mutex_unlock(&c->ev_lock);
	return f;
}

/* As when ctrl_loss_tmo runs out, but now: every queue ends, what was
 * pending fails with EIO (callbacks run here), no reconnect follows.
 * Runs on the admin thread, or in the caller when there is none. */
void ctrl_do_fail(struct nvmeof_ctrl *c)
{
	char why[256];

	pthread_mutex_lock(&c->ev_lock);
	copy_str(why, sizeof why, c->fail_why);
	pthread_mutex_unlock(&c->ev_lock);
	ctrl_for_each_queue(c, end_queue, why);
	pthread_mutex_lock(&c->ev_lock);
	c->need_reconnect = false;
	copy_str(c->last_error, sizeof c->last_error, why);
	pthread_mutex_unlock(&c->ev_lock);
	ctrl_set_state(c, CTRL_FAILED, why);
	pthread_mutex_lock(&c->ev_lock);
	c->fail_done = true;
	pthread_cond_broadcast(&c->fail_cond);
	pthread_mutex_unlock(&c->ev_lock);
}

/* The back-off after a loss (libnvmeof(3)): the first attempts come
 * quickly, when a target that restarts or a link that flaps is likely
 * back, then one every reconnect_delay seconds after the previous attempt
 * ended.  Offsets from the loss, in ms. */
static const int64_t quick_attempt_ms[] = { 200, 500, 1000, 2000 };

/* A reconnect asked for by nvmeof_ctrl_reconnect() (ev_lock held): the
 * clocks start again and the next attempt is now. */
static bool take_request(struct nvmeof_ctrl *c, uint64_t *down_ns)
{
	if (!c->reconnect_asked)
		return false;
	c->reconnect_asked = false;
	c->started_seq = c->asked_seq;
	c->down_ns = *down_ns = now_ns();
	c->attempts = 0;
	pthread_cond_broadcast(&c->fail_cond);
	return true;
}

/* Use the address nvmeof_ctrl_reconnect() gave (ev_lock held). */
static void take_new_address(struct nvmeof_ctrl *c)
{
	struct ctrl_addr *a;

	if (!c->new_traddr[0] && !c->new_trsvcid[0])
		return;
	a = calloc(1, sizeof *a);
	if (!a)
		return; /* the next attempt tries again */
	copy_str(a->traddr, sizeof a->traddr,
		 c->new_traddr[0] ? c->new_traddr : ctrl_traddr(c));
	copy_str(a->trsvcid, sizeof a->trsvcid,
		 c->new_trsvcid[0] ? c->new_trsvcid : ctrl_trsvcid(c));
	a->older = c->moved;
	__atomic_store_n(&c->moved, a, __ATOMIC_RELEASE);
	c->new_traddr[0] = c->new_trsvcid[0] = '\0';
}

static void give_up(struct nvmeof_ctrl *c, const char *msg)
{
	ctrl_for_each_queue(c, fail_forever, (void *)msg);
	pthread_mutex_lock(&c->ev_lock);
	c->state = CTRL_FAILED; /* with need_reconnect: a request is refused */
	c->need_reconnect = false;
	c->next_attempt_ms = 0;
	pthread_mutex_unlock(&c->ev_lock);
	ctrl_set_state(c, CTRL_FAILED, msg);
}

void ctrl_reconnect_run(struct nvmeof_ctrl *c)
{
	char why[256], msg[600];
	bool fast_failed = false, asked;
	uint64_t down_ns;
	int64_t delay_ms = (int64_t)MAX(c->opts.reconnect_delay, 0) * 1000;
	int64_t loss_ms = c->opts.ctrl_loss_tmo < 0 ? -1 :
			  (int64_t)c->opts.ctrl_loss_tmo * 1000;
	int64_t fast_ms = c->opts.fast_io_fail_tmo < 0 ? -1 :
			  (int64_t)c->opts.fast_io_fail_tmo * 1000;
	int64_t next_ms; /* the next attempt, ms after the loss */

	pthread_mutex_lock(&c->ev_lock);
	down_ns = c->down_ns;
	asked = take_request(c, &down_ns);
	snprintf(why, sizeof why, "%s", c->last_error);
	c->attempts = 0;
	c->losses++;
	c->attempt_now = false;
	pthread_mutex_unlock(&c->ev_lock);
	/* Every queue belongs to the association that failed. */
	ctrl_for_each_queue(c, ctrl_take_down, why);
	if (loss_ms == 0 && !asked) {
		/* ctrl_loss_tmo 0: the association ends here, all of it, and
		 * what was pending fails with EIO (libnvmeof(3)). */
		snprintf(msg, sizeof msg, "not reconnecting (ctrl-loss-tmo 0): %s",
			 why);
		give_up(c, msg);
		return;
	}
	snprintf(msg, sizeof msg, "association lost (%s); reconnecting", why);
	ctrl_set_state(c, CTRL_RECONNECTING, msg);
	next_ms = asked ? 0 : quick_attempt_ms[0];

	while (!ctrl_stopping(c) && !ctrl_fail_asked(c)) {
		int64_t el = (int64_t)((now_ns() - down_ns) / 1000000ull), wait;
		unsigned n;
		int rc;

		/* With ctrl_loss_tmo 0 only an asked-for reconnect gets here,
		 * and it has one attempt. */
		if ((loss_ms > 0 && el >= loss_ms) ||
		    (loss_ms == 0 && c->attempts > 0)) {
			snprintf(msg, sizeof msg,
				 "gave up after ctrl-loss-tmo %d s and %u attempts: %s",
				 c->opts.ctrl_loss_tmo, c->attempts, why);
			give_up(c, msg);
			return;
		}
		if (fast_ms >= 0 && !fast_failed && el >= fast_ms) {
			snprintf(msg, sizeof msg,
				 "I/O failed after fast-io-fail-tmo %d s: %s",
				 c->opts.fast_io_fail_tmo, why);
			ctrl_for_each_queue(c, fail_fast, msg);
			fast_failed = true;
		}
		if (el < next_ms) {
			/* Until the next attempt, or sooner for a deadline,
			 * a request, the link coming back. */
			wait = next_ms - el;
			if (loss_ms > 0 && loss_ms - el < wait)
				wait = MAX(loss_ms - el, 0);
			if (fast_ms >= 0 && !fast_failed && fast_ms - el < wait)
				wait = MAX(fast_ms - el, 0);
			pthread_mutex_lock(&c->ev_lock);
			c->next_attempt_ms = wall_ms() + next_ms - el;
			pthread_mutex_unlock(&c->ev_lock);
			admin_thread_sleep(c, (int)MIN(wait, 3600000));
			pthread_mutex_lock(&c->ev_lock);
			if (take_request(c, &down_ns)) {
				fast_failed = false;
				next_ms = 0;
			} else if (c->attempt_now) {
				next_ms = (int64_t)((now_ns() - down_ns) / 1000000ull);
			}
			c->attempt_now = false;
			pthread_mutex_unlock(&c->ev_lock);
			continue;
		}
		pthread_mutex_lock(&c->ev_lock);
		take_new_address(c);
		n = ++c->attempts;
		c->attempts_total++;
		c->next_attempt_ms = 0;
		pthread_mutex_unlock(&c->ev_lock);
		rc = try_reconnect(c);
		pthread_mutex_lock(&c->ev_lock);
		if (rc == 0 && take_request(c, &down_ns)) {
			/* Asked again meanwhile (maybe for another address):
			 * this association goes too. */
			pthread_mutex_unlock(&c->ev_lock);
			ctrl_for_each_queue(c, ctrl_take_down, "a reconnect was asked for");
			fast_failed = false;
			next_ms = 0;
			continue;
		}
		if (rc == -EACCES && auth_rejected()) {
			/* DH-HMAC-CHAP refused: retrying cannot help. */
			pthread_mutex_unlock(&c->ev_lock);
			snprintf(msg, sizeof msg, "not reconnecting: %s", nvmeof_get_error());
			give_up(c, msg);
			return;
		}
		if (rc == 0) {
			c->reconnects++;
			c->need_reconnect = false;
			pthread_mutex_unlock(&c->ev_lock);
			snprintf(msg, sizeof msg,
				 "reconnected after %u attempt%s and %.1f s (cntlid %u, %s:%s)",
				 n, n == 1 ? "" : "s",
				 (double)(now_ns() - down_ns) / 1e9, c->cntlid,
				 ctrl_traddr(c), ctrl_trsvcid(c));
			ctrl_set_state(c, CTRL_LIVE, msg);
			return;
		}
		{
			char tmp[1024];

			snprintf(tmp, sizeof tmp, "%s (attempt %u: %s)", why, n,
				 nvmeof_get_error());
			copy_str(c->last_error, sizeof c->last_error, tmp);
		}
		el = (int64_t)((now_ns() - down_ns) / 1000000ull);
		next_ms = el + delay_ms;
		if (n < ARRAY_SIZE(quick_attempt_ms))
			next_ms = MIN(next_ms, MAX(quick_attempt_ms[n], el));
		if (take_request(c, &down_ns)) {
			fast_failed = false;
			next_ms = 0;
		}
		pthread_mutex_unlock(&c->ev_lock);
	}
	pthread_mutex_lock(&c->ev_lock);
	c->next_attempt_ms = 0;
	pthread_mutex_unlock(&c->ev_lock);
}

int nvmeof_ctrl_reconnect(struct nvmeof_ctrl *c, const char *traddr,
			  const char *trsvcid)
{
	struct timespec until;
	unsigned seq;
	bool drop;

	clear_error();
	if (!c)
		return set_error(EINVAL, "no controller");
	if (traddr && (!*traddr || strlen(traddr) >= sizeof c->new_traddr))
		return set_error(EINVAL, "bad target address '%s'", traddr);
	if (trsvcid && (!*trsvcid || strlen(trsvcid) >= sizeof c->new_trsvcid))
		return set_error(EINVAL, "bad port '%s'", trsvcid);
	pthread_mutex_lock(&c->ev_lock);
	if (c->fail_req || ctrl_stopping(c) || c->state == CTRL_FAILED) {
		pthread_mutex_unlock(&c->ev_lock);
		return set_error(ENOTCONN, "the association has ended: %s",
				 c->last_error[0] ? c->last_error : "failed");
	}
	if (!c->reconnects_on || !c->ka_running) {
		pthread_mutex_unlock(&c->ev_lock);
		return set_error(ENOTSUP, "this association does not reconnect (a one-shot discovery controller)");
	}
	if (traddr)
		copy_str(c->new_traddr, sizeof c->new_traddr, traddr);
	if (trsvcid)
		copy_str(c->new_trsvcid, sizeof c->new_trsvcid, trsvcid);
	c->requests++;
	c->reconnect_asked = true;
	seq = ++c->asked_seq;
	drop = !c->need_reconnect;
	if (drop) {
		c->need_reconnect = true;
		c->down_ns = now_ns();
		copy_str(c->last_error, sizeof c->last_error,
			 "a reconnect was asked for");
	}
	pthread_mutex_unlock(&c->ev_lock);
	/* Live until now: the admin thread is not adopting connections (it
	 * clears need_reconnect only once it is done), so the queues go down
	 * here and now, also when the admin thread waits for a command.
	 * Otherwise they are down already, or the admin thread's reconnect
	 * takes the new ones down when it sees the request. */
	if (drop)
		ctrl_for_each_queue(c, ctrl_take_down, "a reconnect was asked for");
	admin_thread_wake(c);
	pthread_mutex_lock(&c->admin->lock);
	pthread_cond_broadcast(&c->admin->cond);
	pthread_mutex_unlock(&c->admin->lock);
	/* Under way once the admin thread took the request (it may be busy
	 * with a command for a while: not longer than 2 s here).  From its
	 * own callbacks, do not wait for it. */
	if (pthread_equal(pthread_self(), c->ka_thread))
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&c->ev_lock);
	while ((int)(c->started_seq - seq) < 0 && !c->fail_done &&
	       !ctrl_stopping(c) &&
	       pthread_cond_timedwait(&c->fail_cond, &c->ev_lock, &until) == 0)
		;
	pthread_mutex_unlock(&c->ev_lock);
	return 0;
}

int nvmeof_ctrl_fail(struct nvmeof_ctrl *c, const char *why)
{
	pthread_mutex_lock(&c->ev_lock);
	if (!c->fail_req) {
		c->fail_req = true;
		copy_str(c->fail_why, sizeof c->fail_why,
			 why && *why ? why : "ended by the host");
	}
	pthread_mutex_unlock(&c->ev_lock);
	/* Without an admin thread (or from its callbacks) do it here;
	 * otherwise the admin thread does, between two reconnect attempts. */
	if (!c->ka_running || pthread_equal(pthread_self(), c->ka_thread)) {
		if (ctrl_fail_asked(c))
			ctrl_do_fail(c);
		return 0;
	}
	admin_thread_wake(c);
	pthread_mutex_lock(&c->admin->lock);
	pthread_cond_broadcast(&c->admin->cond);
	pthread_mutex_unlock(&c->admin->lock);
	pthread_mutex_lock(&c->ev_lock);
	while (!c->fail_done)
		pthread_cond_wait(&c->fail_cond, &c->ev_lock);
	pthread_mutex_unlock(&c->ev_lock);
	return 0;
}

/* The interface whose address the connection leaves from. */
static int iface_of_conn(struct tcp_conn *conn, char *name, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct ifaddrs *ifa, *i;
	int rc = -ENODEV;

	rc = conn->t->ops->local_addr(conn->t, &ss, &sl);
	if (rc < 0)
		return rc;
	rc = -ENODEV;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != ss.ss_family)
			continue;
		if (ss.ss_family == AF_INET &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
			    ((struct sockaddr_in *)&ss)->sin_addr.s_addr)
			break;
		if (ss.ss_family == AF_INET6 &&
		    !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, 16))
			break;
	}
	if (i) {
		copy_str(name, len, i->ifa_name);
		rc = 0;
	}
	freeifaddrs(ifa);
	return rc;
}

static void link_changed(void *arg, bool up)
{
	struct nvmeof_ctrl *c = arg;
	char why[128];

	if (up) {
		/* Try again now rather than at the next tick. */
		pthread_mutex_lock(&c->ev_lock);
		c->attempt_now = true;
		pthread_mutex_unlock(&c->ev_lock);
		admin_thread_wake(c);
		return;
	}
	snprintf(why, sizeof why, "link %s went down", c->link_ifname);
	ctrl_for_each_queue(c, ctrl_take_down, why);
}

static void *link_thread(void *arg)
{
	struct nvmeof_ctrl *c = arg;
	struct pollfd p[2] = {
		{ .fd = nl_watch_fd(c->link_watch), .events = POLLIN },
		{ .fd = c->link_stop_fd, .events = POLLIN },
	};

	while (!ctrl_stopping(c)) {
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents)
			(void)nl_watch_process(c->link_watch);
	}
	return NULL;
}

/* Watch the link of the association: down fails it at once, up brings the
 * next reconnect attempt forward.  Best effort: without netlink, the
 * association still recovers on keep-alive and TCP errors. */
void ctrl_link_watch_start(struct nvmeof_ctrl *c)
{
	if (c->host_iface[0])
		copy_str(c->link_ifname, sizeof c->link_ifname, c->host_iface);
	else if (iface_of_conn(c->admin->conn, c->link_ifname,
				 sizeof c->link_ifname) < 0)
		return;
	c->link_watch = nl_watch_open(c->link_ifname, link_changed, c);
	if (!c->link_watch) {
		clear_error();
		return;
	}
	c->link_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->link_stop_fd < 0 ||
	    pthread_create(&c->link_tid, NULL, link_thread, c)) {
		if (c->link_stop_fd >= 0)
			close(c->link_stop_fd);
		nl_watch_close(c->link_watch);
		c->link_watch = NULL;
		return;
	}
	c->link_running = true;
}

void ctrl_link_watch_stop(struct nvmeof_ctrl *c)
{
	uint64_t one = 1;

	if (!c->link_running)
		return;
	(void)!write(c->link_stop_fd, &one, sizeof one);
	pthread_join(c->link_tid, NULL);
	close(c->link_stop_fd);
	nl_watch_close(c->link_watch);
	c->link_watch = NULL;
	c->link_running = false;
}

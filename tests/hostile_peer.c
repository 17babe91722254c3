/* SPDX-License-Identifier: MIT */
/*
 * A scripted NVMe/TCP controller: see hostile_peer.h.  One thread accepts,
 * one thread per connection answers with blocking I/O (every wait is a
 * poll() of at most 100 ms that also looks at the stop flag, so hp_stop()
 * never waits long).  Commands are handled one at a time per connection,
 * as the tests issue them.  This file: the controller's life, its
 * connections and the ICReq exchange; hostile_peer_wire.c moves bytes and
 * PDUs, hostile_peer_admin.c answers Fabrics and admin commands,
 * hostile_peer_io.c answers Read and Write.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hostile_peer_int.h"

uint32_t hp_crc32c(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *b++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

uint8_t hp_pattern(uint64_t off)
{
	return (uint8_t)((off * 7) ^ (off >> 12) ^ 0x5a);
}

void hp_msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Fire the scripted misbehaviour once: true the first time only. */
bool hp_trigger(struct hp *p, bool applies)
{
	bool fire = false;

	if (!applies)
		return false;
	pthread_mutex_lock(&p->lock);
	if (!p->fired)
		fire = p->fired = true;
	pthread_mutex_unlock(&p->lock);
	return fire;
}

void hp_mark(struct hp *p)
{
	pthread_mutex_lock(&p->lock);
	p->fired = true;
	pthread_mutex_unlock(&p->lock);
}

/* ---- a connection ------------------------------------------------------ */

static int ic(struct hconn *c)
{
	struct hp *p = c->p;
	uint8_t req[128], resp[128] = { NVME_TCP_ICRESP, 0, 128, 0, 128 };
	uint8_t dgst;

	if (hp_rd(c, req, sizeof req) < 0)
		return -1;
	if (req[0] == 0x16 && (p->mode == HP_TLS_GARBAGE || p->mode == HP_TLS_SILENT)) {
		/* a TLS handshake record where an ICReq belongs */
		hp_mark(p);
		if (p->mode == HP_TLS_GARBAGE)
			hp_wr(c, resp, sizeof resp);
		while (!p->stop)
			hp_msleep(20);
		return -1;
	}
	if (req[0] != NVME_TCP_ICREQ)
		return -1;
	dgst = req[11] & 3;
	resp[10] = PEER_CPDA;
	le32_put(resp + 12, PEER_MAXH2C);
	switch (hp_trigger(p, p->mode >= HP_IC_PFV && p->mode <= HP_IC_TERM) ?
		p->mode : HP_NONE) {
	case HP_IC_PFV:
		le16_put(resp + 8, 1);
		break;
	case HP_IC_MAXH2C:
		le32_put(resp + 12, 2048);
		break;
	case HP_IC_CPDA:
		resp[10] = 32;
		break;
	case HP_IC_DGST:
		dgst = 3;
		break;
	case HP_IC_SILENT:
		while (!p->stop)
			hp_msleep(20);
		return -1;
	case HP_IC_SLOW:
		resp[11] = dgst;
		hp_wr_slow(c, resp, sizeof resp, 300);
		return -1;
	case HP_IC_TERM: {
		uint8_t t[24] = { NVME_TCP_C2H_TERM, 0, 24, 0, 24 };

		le16_put(t + 8, NVME_TCP_FES_UNSUPPORTED);
		hp_wr(c, t, sizeof t);
		return -1;
	}
	default:
		break;
	}
	resp[11] = dgst;
	c->hdgst = dgst & 1;
	c->ddgst = dgst & 2;
	return hp_wr(c, resp, sizeof resp);
}

static void *conn_thread(void *arg)
{
	struct hconn *c = arg;
	struct hp *p = c->p;

	if (ic(c) < 0)
		goto out;
	while (!p->stop) {
		struct rx r;
		const uint8_t *sqe;
		uint16_t cid;
		int rc;

		if (hp_recv_pdu(c, &r) < 0)
			break;
		if (r.type != NVME_TCP_CMD || r.plen < 72) {
			/* H2CTermReq (the host gave up on us) or out of
			 * step: this connection is over. */
			free(r.buf);
			break;
		}
		sqe = r.buf + 8;
		cid = le16_get(sqe + 2);
		if (sqe[0] == NVME_FABRICS_COMMAND)
			rc = hp_fabrics_cmd(c, sqe, cid, r.data, r.dlen);
		else if (c->qid == 0)
			rc = hp_admin_cmd(c, sqe, cid);
		else
			rc = hp_io_cmd(c, sqe, cid, r.data, r.dlen);
		free(r.buf);
		if (rc < 0)
			break;
	}
out:
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

static void *listen_thread(void *arg)
{
	struct hp *p = arg;
	struct pollfd pfd = { .fd = p->lfd, .events = POLLIN };

	while (!p->stop) {
		struct hconn *c;
		int fd, one = 1;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		fd = accept(p->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = calloc(1, sizeof *c);
		pthread_mutex_lock(&p->lock);
		if (!c || p->nconns == MAX_CONNS) {
			pthread_mutex_unlock(&p->lock);
			free(c);
			close(fd);
			continue;
		}
		c->p = p;
		c->fd = fd;
		if (pthread_create(&c->thread, NULL, conn_thread, c)) {
			pthread_mutex_unlock(&p->lock);
			free(c);
			close(fd);
			continue;
		}
		p->conns[p->nconns++] = c;
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

struct hp *hp_start(enum hp_mode mode)
{
	struct hp *p = calloc(1, sizeof *p);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;

	if (!p)
		return NULL;
	p->mode = mode;
	p->genctr = 1;
	pthread_mutex_init(&p->lock, NULL);
	p->ram = malloc((size_t)HP_NLBA * HP_LBA);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!p->ram || p->lfd < 0 ||
	    bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(p->lfd, 16) < 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail;
	for (uint64_t i = 0; i < (uint64_t)HP_NLBA * HP_LBA; i++)
		p->ram[i] = hp_pattern(i);
	snprintf(p->port, sizeof p->port, "%u", ntohs(sa.sin_port));
	if (pthread_create(&p->thread, NULL, listen_thread, p))
		goto fail;
	return p;
fail:
	if (p->lfd >= 0)
		close(p->lfd);
	free(p->ram);
	free(p);
	return NULL;
}

void hp_stop(struct hp *p)
{
	if (!p)
		return;
	p->stop = true;
	pthread_join(p->thread, NULL);
	for (int i = 0; i < p->nconns; i++) {
		shutdown(p->conns[i]->fd, SHUT_RDWR);
		pthread_join(p->conns[i]->thread, NULL);
		close(p->conns[i]->fd);
		free(p->conns[i]);
	}
	close(p->lfd);
	pthread_mutex_destroy(&p->lock);
	free(p->ram);
	free(p);
}

const char *hp_port(struct hp *p)
{
	return p->port;
}

bool hp_fired(struct hp *p)
{
	bool f;

	pthread_mutex_lock(&p->lock);
	f = p->fired;
	pthread_mutex_unlock(&p->lock);
	return f;
}

unsigned hp_io_cmds(struct hp *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->io_cmds;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void hp_ns_read(struct hp *p, uint64_t off, void *buf, uint32_t len)
{
	pthread_mutex_lock(&p->lock);
	memcpy(buf, p->ram + off, len);
	pthread_mutex_unlock(&p->lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * An association with one controller: bring-up (NVMe-oF 1.1 §3.3, NVMe
 * Base 2.0 §3.5.1 initialisation), the I/O queues, shutdown, and what the
 * handle tells.  Elsewhere: reconnect.c (losing and regaining it),
 * admin_thread.c (keep-alive, events, aborts), bindings.c (threads to I/O
 * queues), ns_cache.c (namespaces), admin.c (admin commands).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include <openssl/crypto.h>

#include "host.h"
#include "tls.h"

/* With MDTS 0 ("no limit") a command still carries at most 1 MiB: Linux
 * nvmet 6.1 answers Data SGL Length Invalid above 4 MiB although it
 * reports MDTS 0, and Linux's own host never sends more than 1 MiB. */
#define MAX_CMD_BYTES (1u << 20)

static uint64_t next_ctrl_id = 1;
void nvmeof_opts_init(struct nvmeof_opts *o)
{
	memset(o, 0, sizeof *o);
	o->nr_io_queues = 1;
	o->queue_size = 128;
	o->kato_ms = -1; /* default: 5 s, or none for a discovery controller */
	o->reconnect_delay = 10;
	o->ctrl_loss_tmo = 600;
	o->fast_io_fail_tmo = -1;
	o->connect_timeout_ms = 10000;
	o->io_timeout_ms = 30000;
	o->busy_poll_us = -1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* TLS: the key (string or file), then the connection in the derivation
 * that worked before, or the one asked for; with AUTO, RFC 8446 first and
 * libnvme's compat form when the target refuses that PSK. */
static int tls_connect(struct nvmeof_ctrl *c, struct tcp_connect_params *tp,
		       struct tcp_conn **conn)
{
	struct tls_key key = { 0 };
	uint8_t raw[TLS_KEY_MAX];
	struct tls_params tlp = {
		.key = &key,
		.hostnqn = c->hostnqn,
		.subnqn = c->subnqn,
		.identity_version = (unsigned)c->opts.tls_identity,
	};
	int d = c->tls_derivation ? c->tls_derivation : c->opts.tls_psk_derivation;
	int rc;

	if ((c->opts.tls_key != NULL) + (c->opts.tls_key_file != NULL) +
	    (c->opts.tls_psk_file != NULL) > 1)
		return set_error(EINVAL, "give one of the TLS key, its file or a TLS PSK file");
	if (c->opts.tls_psk_file) {
		rc = tls_psk_read_file(c->opts.tls_psk_file, raw);
		if (rc < 0)
			return rc;
		tlp.key = NULL;
		tlp.psk = raw;
		tlp.psk_len = (size_t)rc;
		d = NVMEOF_TLS_DERIVE_RFC; /* no fallback: nothing to derive */
		rc = 0;
	} else if (c->opts.tls_key_file)
		rc = tls_key_read_file(c->opts.tls_key_file, &key);
	else if (c->opts.tls_key)
		rc = tls_key_parse(c->opts.tls_key, &key) < 0 ?
		     set_error(EINVAL, "TLS key: %s", nvmeof_get_error()) : 0;
	else
		rc = set_error(EINVAL, "TLS needs a key (--tls-key, --tls-key-file or "
			       "--tls-psk-file)");
	if (rc < 0)
		return rc;
	tlp.derivation = d == NVMEOF_TLS_DERIVE_COMPAT ? TLS_DERIVE_COMPAT : TLS_DERIVE_RFC;
	tp->ops = &transport_tls;
	tp->tls = &tlp;
	rc = tcp_connect(tp, conn);
	/* Refused: an alert (EKEYREJECTED), or a peer that just closes during
	 * the handshake instead. */
	if (d == NVMEOF_TLS_DERIVE_AUTO &&
	    (rc == -EKEYREJECTED ||
	     (rc == -ECONNRESET && strstr(nvmeof_get_error(), "TLS handshake with")))) {
		char first[400];
		int rc1 = rc;

		snprintf(first, sizeof first, "%s", nvmeof_get_error());
		tlp.derivation = TLS_DERIVE_COMPAT;
		rc = tcp_connect(tp, conn);
		if (rc == rc1)
			rc = set_error(-rc, "%s; with the compat derivation %s", first,
					rc == -EKEYREJECTED ? "neither" : "too");
	}
	if (rc == 0) {
		struct tls_info ti;

		c->tls_derivation = (int)tlp.derivation;
		if (transport_tls_info((*conn)->t, &ti) == 0) {
			pthread_mutex_lock(&c->ev_lock);
			copy_str(c->tls_version, sizeof c->tls_version, ti.version);
			copy_str(c->tls_cipher, sizeof c->tls_cipher, ti.cipher);
			copy_str(c->tls_identity, sizeof c->tls_identity, ti.identity);
			c->ktls = ti.ktls_tx && ti.ktls_rx;
			c->tls_handshake_ms = ti.handshake_ms;
			pthread_mutex_unlock(&c->ev_lock);
		}
	}
	tls_key_wipe(&key);
	OPENSSL_cleanse(raw, sizeof raw);
	return rc;
}

int ctrl_connect_queue(struct nvmeof_ctrl *c, uint16_t qid, uint16_t size,
			 uint32_t max_incapsule, struct queue **out)
{
	struct tcp_connect_params tp = {
		.traddr = ctrl_traddr(c),
		.trsvcid = ctrl_trsvcid(c),
		.host_iface = c->host_iface,
		.host_traddr = c->host_traddr,
		.timeout_ms = c->opts.connect_timeout_ms,
		.hdgst = c->opts.hdr_digest,
		.ddgst = c->opts.data_digest,
		.maxr2t = 0, /* one R2T outstanding per command */
	};
	struct queue_opts qo = {
		.qid = qid,
		.size = size,
		.max_incapsule = max_incapsule,
		.io_timeout_ms = c->opts.io_timeout_ms,
		/* Only I/O queues spin: the admin queue's waits are long. */
		.busy_poll_ns = !qid ? 0 :
				c->opts.busy_poll_us < 0 ? NVMEOF_BUSY_POLL_US * 1000u :
				(uint32_t)MIN(c->opts.busy_poll_us, 1000000) * 1000u,
	};
	struct tcp_conn *conn;
	struct queue *q;
	uint16_t cntlid = 0;
	int rc;

	rc = c->opts.tls ? tls_connect(c, &tp, &conn) : tcp_connect(&tp, &conn);
	if (rc < 0)
		return rc;
	rc = queue_create(conn, &qo, &q);
	if (rc < 0) {
		tcp_close(conn);
		return rc;
	}
	rc = fabrics_connect(q, c->subnqn, c->hostnqn, c->hostid,
			     qid ? c->cntlid : NVMF_CNTLID_DYNAMIC,
			     (uint32_t)c->kato_ms,
			     c->opts.disable_sqflow ? NVMF_CATTR_DISABLE_SQFLOW : 0,
			     c->opts.connect_timeout_ms, &cntlid);
	if (rc >= 0)
		rc = auth_queue(c, q, (uint32_t)rc); /* DH-HMAC-CHAP */
	if (rc < 0) {
		queue_destroy(q);
		return rc;
	}
	if (!qid)
		/* a reconnect's new one: nvmeof_ctrl_cntlid() reads it */
		__atomic_store_n(&c->cntlid, cntlid, __ATOMIC_RELAXED);
	*out = q;
	return 0;
}

/* NVMe Base 2.0 §3.5.1: set CC.EN and wait for CSTS.RDY within CAP.TO. */
int ctrl_enable(struct nvmeof_ctrl *c, struct queue *q)
{
	int tmo = c->opts.connect_timeout_ms, rc;
	uint64_t csts = 0, deadline;
	uint32_t cc, wait_ms = 1;

	rc = fabrics_prop_get(q, NVME_REG_CAP, true, &c->cap, tmo);
	if (rc < 0)
		return set_error(-rc, "Property Get CAP: %s", nvmeof_get_error());
	rc = fabrics_prop_get(q, NVME_REG_VS, false, &csts, tmo);
	if (rc < 0)
		return set_error(-rc, "Property Get VS: %s", nvmeof_get_error());
	c->vs = (uint32_t)csts;
	cc = NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4);
	rc = fabrics_prop_set(q, NVME_REG_CC, false, cc, tmo);
	if (rc < 0)
		return set_error(-rc, "Property Set CC.EN: %s", nvmeof_get_error());
	deadline = now_ns() +
		   (uint64_t)MAX(NVME_CAP_TO(c->cap), 1u) * 500000000ull;
	for (;;) {
		rc = fabrics_prop_get(q, NVME_REG_CSTS, false, &csts, tmo);
		if (rc < 0)
			return set_error(-rc, "Property Get CSTS: %s",
					 nvmeof_get_error());
		if (csts & NVME_CSTS_CFS)
			return set_error(EIO, "%s: controller fatal status (CSTS.CFS) while enabling",
					 q->conn->peer);
		if (csts & NVME_CSTS_RDY)
			return 0;
		if (now_ns() > deadline)
			return set_error(ETIMEDOUT,
					 "%s: controller not ready (CSTS.RDY) within CAP.TO = %u ms",
					 q->conn->peer, NVME_CAP_TO(c->cap) * 500);
		sleep_ms(wait_ms);
		wait_ms = MIN(wait_ms * 2, 100u);
	}
}

/* Identify Controller during bring-up, on a queue not yet adopted. */
int ctrl_identify(struct nvmeof_ctrl *c, struct queue *q,
		  struct nvme_id_ctrl *id)
{
	int rc = admin_identify_q(q, NVME_CNS_CTRL, 0, 0, id,
				  c->opts.connect_timeout_ms);

	if (rc < 0)
		return set_error(-rc, "Identify Controller: %s", nvmeof_get_error());
	return 0;
}

int ctrl_set_nr_queues(struct nvmeof_ctrl *c, struct queue *q, int want,
			 int *granted)
{
	uint32_t v = (uint32_t)(want - 1), dw0 = 0;
	int rc;

	rc = admin_set_features_q(q, NVME_FEAT_NUM_QUEUES, v | v << 16, &dw0,
				  c->opts.connect_timeout_ms);
	if (rc < 0)
		return set_error(-rc, "Set Features Number of Queues: %s",
				 nvmeof_get_error());
	*granted = (int)MIN(dw0 & 0xffff, dw0 >> 16) + 1;
	return 0;
}

/* NVMe Base 2.0 §5.27.1.7: enable the notices we handle, of those the
 * controller reports in OAES.  A persistent discovery controller (one with
 * a keep-alive timeout) reports Discovery Log Page Change (bit 31, NVMe-oF
 * 1.1 §5.3); a one-shot one gets no Async Event Request at all. */
void ctrl_set_async_events(struct nvmeof_ctrl *c, struct queue *q)
{
	uint32_t oaes = le32toh(c->id_ctrl.oaes);
	uint32_t aec = !c->discovery ? oaes & NVME_OAES_NS_ATTR :
		       c->persistent ? oaes & NVME_OAES_DISC_CHANGE : 0;

	/* ANA Change notices (OAES/AEC bit 11) of a controller that reports
	 * ANA (CMIC bit 3); the log is read now and on every notice. */
	if (ctrl_has_ana(c))
		aec |= oaes & NVME_OAES_ANA;
	if (aec)
		(void)admin_set_features_q(q, NVME_FEAT_ASYNC_EVENT, aec, NULL,
					   c->opts.connect_timeout_ms);
	if (ctrl_has_ana(c))
		(void)ctrl_ana_refresh(c);
}

const char *ctrl_state_name(int st)
{
	switch (st) {
	case CTRL_LIVE: return "live";
	case CTRL_RECONNECTING: return "reconnecting";
	default: return "failed";
	}
}

int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup_identity(struct nvmeof_ctrl *c, const struct nvmeof_opts *o)
{
	char buf[NVMF_NQN_SIZE];
	int rc;

	if (o->hostnqn && *o->hostnqn) {
		rc = nvmeof_nqn_validate(o->hostnqn);
		if (rc < 0)
			return set_error(EINVAL, "host NQN: %s", nvmeof_get_error());
		copy_str(c->hostnqn, sizeof c->hostnqn, o->hostnqn);
	} else {
		rc = nvmeof_default_hostnqn(buf, sizeof buf);
		if (rc < 0)
			return rc;
		copy_str(c->hostnqn, sizeof c->hostnqn, buf);
	}
	if (o->hostid && *o->hostid) {
		copy_str(c->hostid_str, sizeof c->hostid_str, o->hostid);
	} else {
		rc = nvmeof_default_hostid(c->hostid_str, sizeof c->hostid_str);
		if (rc < 0)
			return rc;
	}
	if (uuid_parse(c->hostid_str, c->hostid) < 0)
		return set_error(EINVAL, "host ID '%s' is not a UUID",
				 c->hostid_str);
	return 0;
}

int nvmeof_connect(const struct nvmeof_opts *o, struct nvmeof_ctrl **ctrlp)
{
	struct nvmeof_ctrl *c;
	int rc, i, want, granted = 0;
	uint32_t mps;

	clear_error();
	if (!o || !o->traddr || !*o->traddr)
		return set_error(EINVAL, "no target address given");
	if (o->subnqn && *o->subnqn && nvmeof_nqn_validate(o->subnqn) < 0)
		return set_error(EINVAL, "subsystem NQN: %s", nvmeof_get_error());
	if (o->queue_size && (o->queue_size < 2 || o->queue_size > 1024))
		return set_error(EINVAL, "queue size %d is outside 2..1024",
				 o->queue_size);
	if (o->nr_io_queues < 0 || o->nr_io_queues > 128)
		return set_error(EINVAL, "number of I/O queues %d is outside 0..128",
				 o->nr_io_queues);

	c = calloc(1, sizeof *c);
	if (!c)
		return set_error(ENOMEM, "out of memory");
	c->id = __atomic_fetch_add(&next_ctrl_id, 1, __ATOMIC_RELAXED);
	live_add(c->id);
	c->opts = *o;
	pthread_mutex_init(&c->ns_lock, NULL);
	pthread_mutex_init(&c->ev_lock, NULL);
	pthread_mutex_init(&c->ana_lock, NULL);
	pthread_cond_init(&c->fail_cond, NULL);
	copy_str(c->traddr, sizeof c->traddr, o->traddr);
	copy_str(c->trsvcid, sizeof c->trsvcid,
		 o->trsvcid && *o->trsvcid ? o->trsvcid : "4420");
	copy_str(c->subnqn, sizeof c->subnqn,
		 o->subnqn && *o->subnqn ? o->subnqn : NVMF_DISCOVERY_NQN);
	copy_str(c->host_iface, sizeof c->host_iface, o->host_iface);
	copy_str(c->host_traddr, sizeof c->host_traddr, o->host_traddr);
	c->opts.traddr = c->traddr;
	c->opts.trsvcid = c->trsvcid;
	c->opts.subnqn = c->subnqn;
	c->opts.hostnqn = c->hostnqn;
	c->opts.hostid = c->hostid_str;
	c->opts.host_iface = c->host_iface;
	c->opts.host_traddr = c->host_traddr;
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = 10000;
	c->discovery = strcmp(c->subnqn, NVMF_DISCOVERY_NQN) == 0;
	c->kato_ms = o->kato_ms >= 0 ? o->kato_ms : c->discovery ? 0 : 5000;
	/* Like nvme discover --persistent: a discovery controller with a
	 * keep-alive timeout stays, reconnects and reports log changes. */
	c->persistent = c->discovery && c->kato_ms > 0;
	c->qsize = o->queue_size ? o->queue_size : 128;

	rc = setup_identity(c, o);
	if (rc < 0)
		goto fail;
	rc = ctrl_connect_queue(c, 0, ADMIN_QUEUE_SIZE, ADMIN_INCAPSULE, &c->admin);
	if (rc < 0)
		goto fail;
	rc = ctrl_enable(c, c->admin);
	if (rc < 0)
		goto fail;
	rc = ctrl_identify(c, c->admin, &c->id_ctrl);
	if (rc < 0)
		goto fail;
	rc = ctrl_publish_id(c);
	if (rc < 0)
		goto fail;
	mps = 12 + (uint32_t)((c->cap >> 48) & 0xf); /* CAP.MPSMIN */
	if (c->id_ctrl.mdts && mps + c->id_ctrl.mdts < 32)
		c->mdts_bytes = 1u << (mps + c->id_ctrl.mdts);
	else
		c->mdts_bytes = 0;
	/* IOCCSZ counts 16-byte units of the whole capsule (SQE included). */
	{
		uint32_t ioccsz = le32toh(c->id_ctrl.ioccsz);

		c->io_incapsule = ioccsz > 4 && ioccsz < (1u << 24) ?
				  ioccsz * 16 - 64 : 0;
	}

	want = c->discovery ? 0 : o->nr_io_queues;
	if (want > 0) {
		rc = ctrl_set_nr_queues(c, c->admin, want, &granted);
		if (rc < 0)
			goto fail;
		c->nr_io = MIN(want, granted);
	}
	if (c->nr_io) {
		uint32_t mqes = NVME_CAP_MQES(c->cap) + 1;

		if ((uint32_t)c->qsize > mqes)
			c->qsize = (int)mqes;
		c->io = calloc((size_t)c->nr_io, sizeof *c->io);
		if (!c->io) {
			rc = set_error(ENOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < c->nr_io; i++) {
			rc = ctrl_connect_queue(c, (uint16_t)(i + 1),
					   (uint16_t)c->qsize, c->io_incapsule,
					   &c->io[i]);
			if (rc < 0) {
				rc = set_error(-rc, "I/O queue %d: %s", i + 1,
					       nvmeof_get_error());
				goto fail;
			}
		}
	}
	ctrl_set_async_events(c, c->admin);
	if (c->kato_ms > 0 || !c->discovery) {
		rc = admin_thread_start(c);
		if (rc < 0)
			goto fail;
		/* From now on a failure is the association's, not one
		 * queue's: the queues park their commands and the admin
		 * thread reconnects (or, with ctrl_loss_tmo 0, ends every
		 * queue and fails what was pending with EIO). */
		if (!c->discovery || c->persistent) {
			for (i = -1; i < c->nr_io; i++) {
				struct queue *q = i < 0 ? c->admin : c->io[i];

				pthread_mutex_lock(&q->lock);
				q->owner = c;
				q->on_down = ctrl_on_down;
				q->on_timeout = ctrl_on_timeout;
				pthread_mutex_unlock(&q->lock);
			}
			c->reconnects_on = true;
			ctrl_link_watch_start(c);
		}
	}
	/* The admin thread runs already and reads them under ev_lock. */
	pthread_mutex_lock(&c->ev_lock);
	c->state = CTRL_LIVE;
	c->since_ms = wall_ms();
	pthread_mutex_unlock(&c->ev_lock);
	*ctrlp = c;
	return 0;
fail:
	{
		int e = nvmeof_get_errno();
		uint16_t st = nvmeof_last_status();
		char msg[512];

		copy_str(msg, sizeof msg, nvmeof_get_error());
		c->shutdown_done = true; /* no shutdown on a half-made association */
		nvmeof_disconnect(c);
		rc = set_error(e ? e : -rc, "%s", msg);
		set_last_status(st); /* the caller may look at the NVMe status */
		return rc;
	}
}

static int shutdown_ctrl(struct nvmeof_ctrl *c)
{
	uint64_t csts = 0, deadline;
	uint32_t wait_ms = 1, rtd3e = le32toh(c->id_ctrl.rtd3e);
	uint64_t limit_ms = MAX(5000u, rtd3e / 1000);
	int tmo = MIN(c->opts.connect_timeout_ms, 5000), rc;
	uint32_t cc = NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_IOSQES(6) |
		      NVME_CC_IOCQES(4) | NVME_CC_SHN_NORMAL;

	if (limit_ms > 60000)
		limit_ms = 60000;
	rc = fabrics_prop_set(c->admin, NVME_REG_CC, false, cc, tmo);
	if (rc < 0)
		return rc;
	deadline = now_ns() + limit_ms * 1000000ull;
	for (;;) {
		rc = fabrics_prop_get(c->admin, NVME_REG_CSTS, false, &csts, tmo);
		if (rc < 0)
			return rc;
		if ((csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_CMPLT)
			return 0;
		if (now_ns() > deadline)
			return set_error(ETIMEDOUT,
					 "controller did not report shutdown complete within %llu ms",
					 (unsigned long long)limit_ms);
		sleep_ms(wait_ms);
		wait_ms = MIN(wait_ms * 2, 100u);
	}
}

static void cancel_queue(struct queue *q, void *why)
{
	queue_cancel(q, ECANCELED, why);
	queue_drain(q);
}

int nvmeof_disconnect(struct nvmeof_ctrl *c)
{
	int rc = 0, i;

	if (!c)
		return 0;
	ctrl_link_watch_stop(c);
	admin_thread_stop(c);
	/* I/O queues first: what is still pending ends with ECANCELED (its
	 * callbacks run) and no thread is left inside before they go. */
	for (i = 0; c->io && i < c->nr_io; i++) {
		if (!c->io[i])
			continue;
		pthread_mutex_lock(&c->io[i]->lock);
		cancel_queue(c->io[i], "the association was disconnected");
		pthread_mutex_unlock(&c->io[i]->lock);
	}
	if (c->admin && !c->admin->dead && !c->admin->down && !c->shutdown_done) {
		pthread_mutex_lock(&c->admin->lock);
		c->admin->on_down = NULL; /* a failed shutdown is not reconnected */
		pthread_mutex_unlock(&c->admin->lock);
		rc = shutdown_ctrl(c);
	}
	if (c->admin) {
		pthread_mutex_lock(&c->admin->lock);
		cancel_queue(c->admin, "the association was disconnected");
		pthread_mutex_unlock(&c->admin->lock);
	}
	for (i = 0; c->io && i < c->nr_io; i++)
		queue_destroy(c->io[i]);
	queue_destroy(c->admin);
	free(c->io);
	ctrl_ns_free(c);
	while (c->moved) {
		struct ctrl_addr *a = c->moved;

		c->moved = a->older;
		free(a);
	}
	while (c->id_pub) {
		struct id_copy *o = c->id_pub->older;

		free(c->id_pub);
		c->id_pub = o;
	}
	pthread_mutex_destroy(&c->ns_lock);
	pthread_mutex_destroy(&c->ev_lock);
	ctrl_ana_free(c);
	pthread_mutex_destroy(&c->ana_lock);
	pthread_cond_destroy(&c->fail_cond);
	live_del(c->id);
	free(c);
	return rc;
}

uint32_t ctrl_max_cmd_bytes(struct nvmeof_ctrl *c, uint32_t shift)
{
	uint64_t m = MAX_CMD_BYTES;

	if (c->mdts_bytes && c->mdts_bytes < m)
		m = c->mdts_bytes;
	if (((uint64_t)65536 << shift) < m) /* NLB is 16 bits */
		m = (uint64_t)65536 << shift;
	return (uint32_t)m;
}

/* What nvmeof_ctrl_identify() hands out is read without a lock, so it is
 * never rewritten: when c->id_ctrl differs from the copy published last
 * (a reconnect found other data), a new copy is published; the old ones
 * stay until disconnect. */
int ctrl_publish_id(struct nvmeof_ctrl *c)
{
	struct id_copy *cur = __atomic_load_n(&c->id_pub, __ATOMIC_ACQUIRE), *n;

	if (cur && !memcmp(&cur->id, &c->id_ctrl, sizeof cur->id))
		return 0;
	n = malloc(sizeof *n);
	if (!n)
		return set_error(ENOMEM, "out of memory");
	memcpy(&n->id, &c->id_ctrl, sizeof n->id);
	n->older = cur;
	__atomic_store_n(&c->id_pub, n, __ATOMIC_RELEASE);
	return 0;
}

const void *nvmeof_ctrl_identify(struct nvmeof_ctrl *c)
{
	return &__atomic_load_n(&c->id_pub, __ATOMIC_ACQUIRE)->id;
}
uint16_t nvmeof_ctrl_cntlid(struct nvmeof_ctrl *c)
{
	return __atomic_load_n(&c->cntlid, __ATOMIC_RELAXED);
}
const char *nvmeof_ctrl_subnqn(struct nvmeof_ctrl *c) { return c->subnqn; }
const char *nvmeof_ctrl_hostnqn(struct nvmeof_ctrl *c) { return c->hostnqn; }
const char *nvmeof_ctrl_traddr(struct nvmeof_ctrl *c) { return ctrl_traddr(c); }
const char *nvmeof_ctrl_trsvcid(struct nvmeof_ctrl *c) { return ctrl_trsvcid(c); }
int nvmeof_ctrl_nr_io_queues(struct nvmeof_ctrl *c) { return c->nr_io; }
int nvmeof_ctrl_queue_size(struct nvmeof_ctrl *c) { return c->qsize; }
uint32_t nvmeof_ctrl_mdts_bytes(struct nvmeof_ctrl *c) { return c->mdts_bytes; }
uint64_t nvmeof_ctrl_cap(struct nvmeof_ctrl *c) { return c->cap; }
uint32_t nvmeof_ctrl_vs(struct nvmeof_ctrl *c) { return c->vs; }
bool nvmeof_ctrl_is_discovery(struct nvmeof_ctrl *c) { return c->discovery; }
int nvmeof_ctrl_kato_ms(struct nvmeof_ctrl *c) { return c->kato_ms; }

void nvmeof_set_event_cb(struct nvmeof_ctrl *c, nvmeof_event_cb cb, void *arg)
{
	c->event_arg = arg;
	__atomic_store_n(&c->event_cb, cb, __ATOMIC_RELEASE);
}

static void add_stats(struct queue *q, struct nvmeof_stats *st)
{
	pthread_mutex_lock(&q->lock);
	st->commands += q->n_cmds;
	st->errors += q->n_errors;
	st->bytes_read += q->n_read;
	st->bytes_written += q->n_written;
	st->retries += q->n_retries;
	st->c2h_success += q->n_c2h_success;
	pthread_mutex_unlock(&q->lock);
}

void nvmeof_ctrl_stats(struct nvmeof_ctrl *c, struct nvmeof_stats *st)
{
	int i;

	memset(st, 0, sizeof *st);
	add_stats(c->admin, st);
	for (i = 0; i < c->nr_io; i++)
		add_stats(c->io[i], st);
	pthread_mutex_lock(&c->ev_lock);
	st->aborts = c->n_aborts;
	pthread_mutex_unlock(&c->ev_lock);
}

const char *nvmeof_ctrl_state(struct nvmeof_ctrl *c)
{
	int st;

	pthread_mutex_lock(&c->ev_lock);
	st = c->state;
	pthread_mutex_unlock(&c->ev_lock);
	if (st == CTRL_LIVE) {
		bool dead;

		/* q->dead is written under the queue's lock (not nested in
		 * ev_lock here: the lock order is q->lock, then ev_lock). */
		pthread_mutex_lock(&c->admin->lock);
		dead = c->admin->dead != 0;
		pthread_mutex_unlock(&c->admin->lock);
		if (dead)
			st = CTRL_FAILED; /* no reconnect: a failure is final */
	}
	return ctrl_state_name(st);
}

void nvmeof_ctrl_status(struct nvmeof_ctrl *c, struct nvmeof_ctrl_status *st)
{
	memset(st, 0, sizeof *st);
	st->state = nvmeof_ctrl_state(c);
	pthread_mutex_lock(&c->ev_lock);
	st->since_ms = c->since_ms;
	st->attempts = c->attempts;
	st->reconnects = c->reconnects;
	snprintf(st->last_error, sizeof st->last_error, "%s", c->last_error);
	st->losses = c->losses;
	st->attempts_total = c->attempts_total;
	st->requests = c->requests;
	st->next_attempt_ms = c->next_attempt_ms;
	copy_str(st->traddr, sizeof st->traddr, ctrl_traddr(c));
	copy_str(st->trsvcid, sizeof st->trsvcid, ctrl_trsvcid(c));
	st->tls = c->opts.tls;
	if (st->tls) {
		copy_str(st->tls_version, sizeof st->tls_version, c->tls_version);
		copy_str(st->tls_cipher, sizeof st->tls_cipher, c->tls_cipher);
		copy_str(st->tls_identity, sizeof st->tls_identity, c->tls_identity);
		st->tls_derivation = c->opts.tls_psk_file ? "raw" :
				     tls_derivation_name(c->tls_derivation);
		st->ktls = c->ktls;
		st->tls_handshake_ms = c->tls_handshake_ms;
	}
	pthread_mutex_unlock(&c->ev_lock);
}

void nvmeof_set_state_cb(struct nvmeof_ctrl *c, nvmeof_state_cb cb, void *arg)
{
	pthread_mutex_lock(&c->ev_lock);
	c->state_arg = arg;
	c->state_cb = cb;
	pthread_mutex_unlock(&c->ev_lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * Internal structures of the host side.  Layers, each seeing only the one
 * below:
 *   ctrl/admin/io/discovery/fabrics  struct queue and SQEs
 *   queue.c    the queue core: command slots, completions, waiting
 *   tcp_pdu.c  NVMe/TCP: PDUs, R2T/H2CData, C2HData, digests
 *   transport  a byte stream: struct transport_ops (transport.h), plain
 *              TCP in tcp.c; only tcp.c sees a socket
 */
/*
 * Locks, and the order in which they nest (take the earlier first; never
 * the other way round):
 *
 *   1. queue.lock      everything in a struct queue.  At most one queue's
 *                      lock at a time: ctrl_for_each_queue() takes them in
 *                      turn, never two together.
 *   2. ctrl.ev_lock    state, events, aborts, reconnect requests and
 *                      counters of an association.  Taken inside a queue's
 *                      lock by its on_down/on_timeout callbacks; so no
 *                      queue lock may be taken while ev_lock is held.
 *   3. ctrl.ns_lock    writers of the namespace cache, and id_ctrl when a
 *                      reconnect rewrites it: a leaf.
 *      live_lock       bindings.c's set of live handles: a leaf.
 *
 * No library lock is held while a caller's callback runs: completions run
 * with the queue's lock released (run_completions), the state and event
 * callbacks with none held.
 *
 * The I/O path (submit, poll, a synchronous call) takes one lock: the
 * lock of the calling thread's queue, uncontended when threads and queues
 * match one to one.  Finding that queue (bindings.c, a thread-local table)
 * and the namespace's LBA size (ns_cache.c, a sequence counter) take none.
 */
#ifndef NVMEOF_HOST_H
#define NVMEOF_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "busy_poll.h"
#include "internal.h"
#include "nvme_spec.h"
#include "pdu.h"
#include "tls_key.h"
#include "transport.h"

/* ---- tcp_pdu.c: NVMe/TCP on a transport --------------------------------- */

#define TCP_RBUF_SIZE (64 * 1024)

/* One NVMe/TCP connection: what ICReq/ICResp agreed and the receive state
 * machine, over a transport that carries the bytes. */
struct tcp_conn {
	struct transport *t;
	char peer[80];          /* "addr:port" for messages */
	bool hdgst, ddgst;      /* negotiated */
	uint32_t tx_align;      /* (CPDA + 1) * 4 */
	uint32_t maxh2cdata;
	struct pdu_params rxp;  /* how received PDUs are validated */

	/* receive state */
	uint8_t *rbuf;
	uint32_t rpos, rlen;    /* unread bytes are rbuf[rpos..rlen) */
	uint32_t rx_completed;  /* PDUs without data since the budget's stop */
	bool rx_more;           /* tcp_pdu_rx stopped at its budget: more may
				   be held (rbuf, the transport) */
	struct rx_hint rxh;     /* how much a fill reads (pdu.h) */
	uint64_t rx_copied;     /* bytes copied out of the staging buffer
				   (headers and data) */
	int rstate;
	uint8_t hdr[PDU_MAX_HDR];
	uint32_t hdr_got;
	struct pdu_info info;
	uint8_t *dst;
	uint32_t dst_got;
	uint32_t skip_left;     /* padding (or discarded data) still to skip */
	uint32_t crc;
	uint8_t dgst[NVME_TCP_DIGEST_LEN];
	uint32_t dgst_got;
};

struct tcp_connect_params {
	const struct transport_ops *ops; /* NULL: plain TCP */
	const char *traddr;
	const char *trsvcid;
	const char *host_iface;
	const char *host_traddr;
	int timeout_ms;
	bool hdgst, ddgst;
	uint32_t maxr2t; /* 0's based, as in ICReq */
	const struct tls_params *tls; /* with ops = &transport_tls */
};

/* Connect the transport, exchange ICReq/ICResp; 0 with *out allocated. */
int tcp_connect(const struct tcp_connect_params *p, struct tcp_conn **out);
/* A connection on a connected transport, before ICReq (tests). */
int tcp_conn_new(struct transport *t, struct tcp_conn **out);
/* Close the connection and its transport. */
void tcp_close(struct tcp_conn *c);
/* Send a TermReq for a protocol error we detected, then shut it down. */
void tcp_terminate(struct tcp_conn *c, uint16_t fes, uint32_t fei,
		   const void *bad_hdr, size_t bad_len);

struct queue;
struct req;
/* The data path of a queue (lock held).  Build r's CapsuleCmd. */
void tcp_pdu_prepare(struct queue *q, struct req *r);
/* Send what is queued as far as the transport takes it, several PDUs per
 * call.  0 or a negative errno (connection failed, message recorded). */
int tcp_pdu_flush(struct queue *q);
/* Process what has arrived without blocking: PDUs completed (≥ 0), or a
 * negative errno when the connection is finished (message recorded). */
int tcp_pdu_rx(struct queue *q);

/* ---- queue.c: a queue pair ------------------------------------------------ */

struct queue;
struct req;

/* Internal completion: err 0 or -errno; status the NVMe status field. */
typedef void (*req_done_fn)(struct req *r, int err, uint16_t status);

enum req_dir { REQ_NONE, REQ_TO_HOST, REQ_TO_CTRL };
enum { TX_CAPSULE = 1, TX_H2C = 2 }; /* what a request's txhdr is */

struct req {
	struct nvme_sqe sqe;
	uint16_t cid;
	uint16_t gen;
	bool busy;              /* slot taken (until the callback has run) */
	bool in_flight;         /* submitted, no completion yet */
	bool no_timeout;        /* Async Event Requests wait forever */
	bool parked;            /* held while the association comes back */
	bool no_park;           /* fail rather than wait for a reconnect */
	uint64_t abort_ns;      /* when an Abort was asked for it */
	enum req_dir dir;
	uint8_t *buf;
	uint32_t len;
	bool incapsule;
	uint32_t xfer;          /* bytes received (reads) / asked by R2T (writes) */
	bool data_success;      /* C2HData carried SUCCESS */
	/* current R2T */
	uint16_t ttag;
	uint32_t r2t_off, r2t_end, h2c_off;
	/* transmit */
	struct req *tx_next;
	bool tx_queued;
	int tx_kind;            /* TX_CAPSULE or TX_H2C */
	uint8_t txhdr[PDU_MAX_TX_HDR];
	uint32_t txhdr_len;
	uint32_t tx_data_off, tx_data_len;
	uint8_t txdgst[NVME_TCP_DIGEST_LEN];
	uint32_t tx_done;       /* bytes of the current PDU already sent */
	/* completion */
	uint32_t dw0, dw1;
	uint16_t status;
	int err;
	const char *errmsg;     /* why err, when the queue knows better */
	bool ddgst_bad;         /* this try's data failed its digest */
	uint8_t ddgst_tries;    /* sent again for a data digest error */
	uint8_t abort_tries;    /* sent again after the controller aborted it */
	uint8_t timeouts;       /* times it outlived the I/O timeout */
	uint64_t start_ns;
	struct req *done_next;
	req_done_fn done;
	void *arg;
	void *arg2;
	nvmeof_cb ucb;          /* the caller's callback (io.c) */
	void *uarg;
	const char **uwhy;      /* where a sync caller wants errmsg (io.c) */
};

struct queue_opts {
	uint16_t qid;
	uint16_t size;          /* entries; at most size - 1 in flight */
	uint32_t max_incapsule; /* bytes of data a capsule may carry */
	int io_timeout_ms;
	uint32_t busy_poll_ns;  /* spin this long before sleeping in poll() */
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct tcp_conn *conn;
	uint16_t qid;
	uint16_t size;
	uint16_t nr_slots;
	uint32_t max_incapsule;
	int io_timeout_ms;
	uint64_t last_scan_ns;  /* timeouts last looked for (queue_wait) */
	struct busy_poll bp;    /* the poller's spin before poll() */
	struct req *slots;
	uint16_t *free_ids;     /* stack of free slot indices */
	uint16_t nr_free;
	uint16_t inflight;
	struct req *tx_head, *tx_tail;
	struct req *done_head, *done_tail; /* completed, callbacks pending */
	int in_callbacks;       /* threads running callbacks unlocked */
	int plugged;            /* > 0: submissions wait for one flush */
	bool poller;            /* a thread waits in poll() without the lock */
	int waiters;            /* threads in pthread_cond_wait */
	int wake_fd;            /* eventfd to wake the poller */
	int dead;               /* 0, or the errno the queue failed with */
	bool down;              /* connection lost; commands parked */
	bool fail_fast;         /* while down, fail new commands at once */
	int down_err;
	/* The owner (ctrl.c) is told, lock held: must not take queue locks. */
	void (*on_down)(void *owner, struct queue *q);
	void (*on_timeout)(void *owner, struct queue *q, uint16_t cid);
	void *owner;
	char dead_msg[256];
	/* counters (under lock) */
	uint64_t n_cmds, n_errors, n_read, n_written, n_retries;
	uint64_t n_callbacks;
	uint64_t n_c2h_success;
};

int queue_create(struct tcp_conn *conn, const struct queue_opts *o,
		 struct queue **out);
/* For the data path (lock held): the command in flight with this CID, or
 * NULL; its completion; the send list. */
struct req *queue_lookup(struct queue *q, uint16_t cid);
void queue_complete(struct queue *q, struct req *r, int err, uint16_t status);
void queue_tx_push(struct queue *q, struct req *r);
void queue_tx_pop(struct queue *q);
void queue_destroy(struct queue *q);

/* Take a free request (lock held).  Returns NULL if none is free. */
struct req *queue_get_req(struct queue *q);
/* Take a free request, processing completions until one is free. */
struct req *queue_get_req_wait(struct queue *q, int timeout_ms, int *rc);
/* Record "association failed: why" for the caller; returns -errno. */
int queue_dead_err(struct queue *q);
/* Queue r for sending (lock held).  Its SQE is filled except CID/DPTR. */
void queue_submit(struct queue *q, struct req *r);
/* Send what is queued (unless plugged elsewhere; lock held). */
void queue_kick(struct queue *q);
/* Drive I/O until pred(arg) is true or timeout_ms passes (-1 forever).
 * Lock held on entry and exit; completions run their done callbacks with
 * the lock released.  Returns 0, -ETIMEDOUT, or the queue's failure. */
int queue_wait(struct queue *q, bool (*pred)(void *), void *arg,
	       int timeout_ms);
/* The connection failed (lock held): with an on_down owner the queue goes
 * down and parks its commands; without one, every command fails. */
void queue_fail(struct queue *q, int err, const char *why);
void queue_abort_refused(struct queue *q, uint16_t cid);
/* The owner's periodic look for commands past the I/O timeout (lock
 * held), for callers that rarely or never wait on the queue themselves. */
void queue_scan_timeouts(struct queue *q);
/* Take the queue down on the owner's word (another queue failed). */
void queue_set_down(struct queue *q, int err, const char *why);
/* While down: fail the parked commands with -err; forever: the queue is
 * finished, else (fast_io_fail) new commands fail until it comes back. */
void queue_fail_parked(struct queue *q, int err, bool forever,
		       const char *why);
/* End the queue for good (lock held): every command, sent or parked,
 * completes with -err; no reconnect.  Then queue_drain() runs the
 * callbacks and waits until no other thread is inside the queue. */
void queue_cancel(struct queue *q, int err, const char *why);
void queue_drain(struct queue *q);
/* Bring a down queue back on a new, connected conn: resend what is parked. */
void queue_adopt(struct queue *q, struct tcp_conn *conn);

/* Synchronous command on q: fills CID/DPTR, waits for the completion.
 * Returns 0, a negative errno (message recorded), with *cqe_dw0 set. */
int queue_sync_cmd(struct queue *q, struct nvme_sqe *sqe, void *buf,
		   uint32_t len, enum req_dir dir, uint32_t *dw0,
		   uint32_t *dw1, int timeout_ms);

uint64_t now_ns(void);
extern __thread bool queue_tls_no_park;

/* ---- fabrics.c ------------------------------------------------------------ */

/* Returns 0 or the Connect response's AUTHREQ bits (DW0 bits 17/18, > 0). */
int fabrics_connect(struct queue *q, const char *subnqn, const char *hostnqn,
		    const uint8_t hostid[16], uint16_t cntlid, uint32_t kato_ms,
		    uint8_t cattr, int timeout_ms, uint16_t *cntlid_out);
/* Connect CATTR bit 2: SQ flow control disable (NVMe-oF 1.1 §3.3) */
#define NVMF_CATTR_DISABLE_SQFLOW 0x04
int fabrics_prop_get(struct queue *q, uint32_t ofst, bool eight,
		     uint64_t *val, int timeout_ms);
int fabrics_prop_set(struct queue *q, uint32_t ofst, bool eight, uint64_t val,
		     int timeout_ms);

/* ---- ctrl.c ------------------------------------------------------------- */

struct ns_cache {
	uint32_t nsid;
	uint32_t lba_shift;
};

/* An address an association moved to (nvmeof_ctrl_reconnect()): never
 * changed once published, kept until disconnect, so that the strings
 * nvmeof_ctrl_traddr() handed out stay valid and whole. */
struct ctrl_addr {
	char traddr[256], trsvcid[32];
	struct ctrl_addr *older;
};

/* A copy of Identify Controller that nvmeof_ctrl_identify() handed out:
 * never rewritten, kept until disconnect. */
struct id_copy {
	struct id_copy *older;
	struct nvme_id_ctrl id;
};

struct nvmeof_ctrl {
	uint64_t id;            /* unique per handle, for thread bindings */
	struct nvmeof_opts opts;
	char traddr[256], trsvcid[32], subnqn[NVMF_NQN_SIZE],
		hostnqn[NVMF_NQN_SIZE], hostid_str[40];
	char host_iface[64], host_traddr[256];
	uint8_t hostid[16];
	bool discovery;
	bool persistent;        /* a discovery controller with keep-alive */
	uint16_t cntlid;
	uint64_t cap;
	uint32_t vs;
	uint32_t mdts_bytes;    /* 0 = unlimited */
	uint32_t io_incapsule;
	struct nvme_id_ctrl id_ctrl;  /* the library's own: connect, admin thread */
	/* What nvmeof_ctrl_identify() hands out: callers read it without a lock,
	 * so it is never rewritten.  A reconnect that finds other data publishes
	 * a new copy (atomic pointer); the old ones live until the handle goes. */
	struct id_copy *id_pub;
	struct queue *admin;
	struct queue **io;
	int nr_io;
	int qsize;
	unsigned next_bind;
	pthread_mutex_t ns_lock; /* writers of ns_tab, id_ctrl on reconnect */
	struct ns_table *ns_tab; /* LBA sizes: readers take no lock (ns_cache.c) */
	unsigned ns_seq;
	/* keep-alive + async events */
	pthread_t ka_thread;
	bool ka_running;
	bool stopping;          /* set once, read by every thread: atomic */
	bool shutdown_done;
	int kato_ms;
	int nr_aer;             /* Async Event Requests outstanding */
	uint64_t aen_count;
	pthread_mutex_t ev_lock;
	uint32_t events[16];    /* AEN dword 0s not yet handled */
	unsigned nr_events;
	nvmeof_event_cb event_cb;
	void *event_arg;
	/* reconnect */
	int state;              /* CTRL_LIVE, CTRL_RECONNECTING, CTRL_FAILED */
	bool need_reconnect;    /* a queue went down */
	int wake_fd;            /* eventfd: wakes the admin thread */
	int64_t since_ms;
	uint64_t down_ns;
	unsigned attempts, reconnects; /* admin thread writes, under ev_lock */
	unsigned losses, attempts_total, requests;
	int64_t next_attempt_ms;
	bool reconnects_on;     /* queues report losses to us (not one-shot) */
	/* nvmeof_ctrl_reconnect(): asked (under ev_lock), with a new address */
	bool reconnect_asked, attempt_now;
	unsigned asked_seq, started_seq;
	char new_traddr[256], new_trsvcid[32];
	struct ctrl_addr *moved; /* NULL: still traddr/trsvcid above */
	char last_error[256];
	nvmeof_state_cb state_cb;
	void *state_arg;
	/* nvmeof_ctrl_fail(): asked, done (under ev_lock) */
	bool fail_req, fail_done;
	char fail_why[256];
	pthread_cond_t fail_cond;
	/* keep-alive in flight */
	bool ka_outstanding;
	uint64_t ka_sent_ns;
	/* the link under the association */
	char link_ifname[64];
	struct nl_watch *link_watch;
	pthread_t link_tid;
	int link_stop_fd;
	bool link_running;
	/* commands to abort: (qid << 16 | cid), filled by queue timeouts */
	uint32_t aborts[16];
	unsigned nr_aborts;
	uint64_t n_aborts;      /* Abort commands sent, ever */
	/* TLS: the derivation that completed a handshake (0 until one did) */
	int tls_derivation;
	/* what the last TLS handshake negotiated (under ev_lock) */
	char tls_version[16], tls_cipher[32], tls_identity[TLS_IDENTITY_MAX];
	bool ktls;
	double tls_handshake_ms;
	/* ANA (ana.c): the last valid log 0Ch, NULL if none */
	pthread_mutex_t ana_lock;
	uint8_t *ana_log;
	size_t ana_len;
	uint64_t ana_reads;     /* times the log was read */
};

enum { CTRL_LIVE, CTRL_RECONNECTING, CTRL_FAILED };

/* ---- ana.c: Asymmetric Namespace Access -------------------------------- */

bool ctrl_has_ana(const struct nvmeof_ctrl *c);
/* Read log 0Ch (re-arming the ANA Change notice) into the association's
 * copy; 0 also when the controller has no ANA. */
int ctrl_ana_refresh(struct nvmeof_ctrl *c);
void ctrl_ana_free(struct nvmeof_ctrl *c);
/* Every descriptor of a log 0Ch of len bytes inside them: 0, or -EPROTO
 * with the error set. */
int ana_log_check(const uint8_t *p, size_t len);

/* ---- admin.c: admin commands on a queue (bring-up, the admin thread) -- */

/* Synchronous; data (len > 0) moves to the host. */
int admin_cmd_q(struct queue *q, struct nvme_sqe *sqe, void *buf,
		uint32_t len, uint32_t *dw0, int timeout_ms);
int admin_identify_q(struct queue *q, uint8_t cns, uint32_t nsid,
		     uint16_t cntid, void *buf, int timeout_ms);
int admin_set_features_q(struct queue *q, uint8_t fid, uint32_t cdw11,
			 uint32_t *dw0, int timeout_ms);

/* ---- bindings.c: threads to I/O queues ---------------------------------- */

/* The I/O queue the calling thread is bound to (binds on first use). */
struct queue *ctrl_thread_queue(struct nvmeof_ctrl *c);
/* Handles not yet disconnected (a thread's bindings to others go). */
void live_add(uint64_t id);
void live_del(uint64_t id);

/* ---- ctrl.c ------------------------------------------------------------- */

#define ADMIN_QUEUE_SIZE 32
#define ADMIN_INCAPSULE 8192 /* NVMe/TCP §3.3.1: 8 KiB on the admin queue */

/* Copy, truncating to fit. */
static inline void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Where the association goes now. */
/* c->stopping is set once by the thread that stops the admin thread and
 * read by every thread that waits: atomic, not volatile. */
static inline bool ctrl_stopping(struct nvmeof_ctrl *c)
{
	return __atomic_load_n(&c->stopping, __ATOMIC_ACQUIRE);
}

/* Publish c->id_ctrl for nvmeof_ctrl_identify() when it differs from the
 * copy published last (ctrl.c). */
int ctrl_publish_id(struct nvmeof_ctrl *c);

static inline const char *ctrl_traddr(struct nvmeof_ctrl *c)
{
	struct ctrl_addr *a = __atomic_load_n(&c->moved, __ATOMIC_ACQUIRE);

	return a ? a->traddr : c->traddr;
}

static inline const char *ctrl_trsvcid(struct nvmeof_ctrl *c)
{
	struct ctrl_addr *a = __atomic_load_n(&c->moved, __ATOMIC_ACQUIRE);

	return a ? a->trsvcid : c->trsvcid;
}

static inline int ctrl_admin_timeout(const struct nvmeof_ctrl *c)
{
	return c->opts.io_timeout_ms > 0 ? c->opts.io_timeout_ms : 30000;
}

/* ctrl.c: bring-up steps, shared with reconnect.c. */
int ctrl_connect_queue(struct nvmeof_ctrl *c, uint16_t qid, uint16_t size,
		       uint32_t max_incapsule, struct queue **out);
int ctrl_enable(struct nvmeof_ctrl *c, struct queue *q);
int ctrl_identify(struct nvmeof_ctrl *c, struct queue *q,
		  struct nvme_id_ctrl *id);
int ctrl_set_nr_queues(struct nvmeof_ctrl *c, struct queue *q, int want,
		       int *granted);
void ctrl_set_async_events(struct nvmeof_ctrl *c, struct queue *q);
const char *ctrl_state_name(int st);
int64_t wall_ms(void);
/* Largest data length of one I/O command (MDTS, NLB width, our cap). */
uint32_t ctrl_max_cmd_bytes(struct nvmeof_ctrl *c, uint32_t shift);

/* ---- reconnect.c ---------------------------------------------------------- */

void ctrl_set_state(struct nvmeof_ctrl *c, int st, const char *why);
/* Queue callbacks (queue lock held: they take ev_lock, no queue lock). */
void ctrl_on_down(void *owner, struct queue *q);
void ctrl_for_each_queue(struct nvmeof_ctrl *c,
			 void (*fn)(struct queue *q, void *arg), void *arg);
void ctrl_take_down(struct queue *q, void *why);
/* Run on the admin thread: reconnect after a loss (returns live or
 * failed); nvmeof_ctrl_fail()'s work. */
void ctrl_reconnect_run(struct nvmeof_ctrl *c);
bool ctrl_fail_asked(struct nvmeof_ctrl *c);
void ctrl_do_fail(struct nvmeof_ctrl *c);
void ctrl_link_watch_start(struct nvmeof_ctrl *c);
void ctrl_link_watch_stop(struct nvmeof_ctrl *c);

/* ---- admin_thread.c ------------------------------------------------------ */

int admin_thread_start(struct nvmeof_ctrl *c);
void admin_thread_stop(struct nvmeof_ctrl *c);
void admin_thread_wake(struct nvmeof_ctrl *c);
/* Wait up to ms for a wake-up (link came back, a request, disconnect). */
void admin_thread_sleep(struct nvmeof_ctrl *c, int ms);
void ctrl_on_timeout(void *owner, struct queue *q, uint16_t cid);

/* ---- ns_cache.c ----------------------------------------------------------- */

/* LBA shift of a namespace, looked up by Identify on first use. */
int ctrl_lba_shift(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t *shift);
/* Forget one namespace (nsid 0: all of them). */
void ctrl_ns_forget(struct nvmeof_ctrl *c, uint32_t nsid);
void ctrl_ns_set(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t shift);
void ctrl_ns_free(struct nvmeof_ctrl *c);

/* ---- auth_host.c: DH-HMAC-CHAP on a queue after Connect ------------------- */

/* authreq: what fabrics_connect returned. 0 when no authentication is
 * needed or it succeeded; a negative errno (message recorded) otherwise. */
int auth_queue(struct nvmeof_ctrl *c, struct queue *q, uint32_t authreq);
/* True when this thread's last auth_queue() failed on the secrets (EACCES):
 * the controller refused our response, failed our check, or wanted a
 * secret we do not have. Reconnecting cannot help. */
bool auth_rejected(void);

#endif

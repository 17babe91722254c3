/* SPDX-License-Identifier: MIT */
/*
 * Internal structures of the host side: a TCP connection (tcp.c), a queue
 * pair on it (queue.c) and the association that owns the queues (ctrl.c).
 * Layering: ctrl/admin/io/discovery see struct queue and SQEs only; queue.c
 * sees PDUs; only tcp.c sees the socket.
 */
#ifndef NVMEOF_HOST_H
#define NVMEOF_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "internal.h"
#include "nvme_spec.h"
#include "pdu.h"

/* ---- tcp.c: one TCP connection speaking NVMe/TCP ------------------------ */

#define TCP_RBUF_SIZE (64 * 1024)

struct tcp_conn;

/* What the receive machine asks of its owner for each PDU. */
struct tcp_rx_ops {
	/* A whole header section arrived (digest checked).  For a PDU with
	 * data, return where the data goes in *dst (data_len bytes); returning
	 * NULL *dst discards it.  Return 0 or a negative errno (a protocol
	 * error: the message is already recorded with nvmeof_err()). */
	int (*on_hdr)(void *ctx, const struct pdu_info *info, const uint8_t *hdr,
		      uint8_t **dst);
	/* The data of the current PDU arrived; ddgst_ok false on a data
	 * digest mismatch. */
	int (*on_data)(void *ctx, const struct pdu_info *info,
		       const uint8_t *hdr, bool ddgst_ok);
};

struct tcp_conn {
	int fd;
	char peer[80];          /* "addr:port" for messages */
	bool hdgst, ddgst;      /* negotiated */
	uint32_t tx_align;      /* (CPDA + 1) * 4 */
	uint32_t maxh2cdata;
	struct pdu_params rxp;  /* how received PDUs are validated */

	/* receive state */
	uint8_t *rbuf;
	uint32_t rpos, rlen;    /* unread bytes are rbuf[rpos..rlen) */
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
	uint64_t rx_bytes, tx_bytes;
};

struct tcp_connect_params {
	const char *traddr;
	const char *trsvcid;
	const char *host_iface;
	const char *host_traddr;
	int timeout_ms;
	bool hdgst, ddgst;
	uint32_t maxr2t; /* 0's based, as in ICReq */
};

/* Connect, exchange ICReq/ICResp; returns 0 with *out allocated. */
int tcp_connect(const struct tcp_connect_params *p, struct tcp_conn **out);
void tcp_close(struct tcp_conn *c);
/* Send a TermReq for a protocol error we detected, then shut the socket. */
void tcp_terminate(struct tcp_conn *c, uint16_t fes, uint32_t fei,
		   const void *bad_hdr, size_t bad_len);
/* Process what has arrived without blocking.  Returns the number of PDUs
 * completed (≥ 0), or a negative errno when the connection is finished
 * (message recorded). */
int tcp_rx(struct tcp_conn *c, const struct tcp_rx_ops *ops, void *ctx);
/* Send without blocking; returns bytes sent (maybe 0) or a negative errno. */
ssize_t tcp_sendv(struct tcp_conn *c, const struct iovec *iov, int iovcnt);

/* ---- queue.c: a queue pair ------------------------------------------------ */

struct queue;
struct req;

/* Internal completion: err 0 or -errno; status the NVMe status field. */
typedef void (*req_done_fn)(struct req *r, int err, uint16_t status);

enum req_dir { REQ_NONE, REQ_TO_HOST, REQ_TO_CTRL };

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
	uint32_t busy_poll_ns;
	uint8_t spin_misses;    /* consecutive spins that found nothing */
	uint8_t spin_skip;      /* waits left to sleep at once after misses */
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
	uint16_t sqhd;
	unsigned users;         /* threads bound to this queue */
	/* counters (under lock) */
	uint64_t n_cmds, n_errors, n_read, n_written, n_retries;
	uint64_t n_callbacks;
	uint64_t n_c2h_success;
};

int queue_create(struct tcp_conn *conn, const struct queue_opts *o,
		 struct queue **out);
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
	pthread_mutex_t ns_lock;
	struct ns_cache *ns;
	size_t nr_ns, ns_cap;
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
};

enum { CTRL_LIVE, CTRL_RECONNECTING, CTRL_FAILED };

/* The I/O queue the calling thread is bound to (binds on first use). */
struct queue *ctrl_thread_queue(struct nvmeof_ctrl *c);
/* LBA shift of a namespace, looked up by Identify on first use. */
int ctrl_lba_shift(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t *shift);
void ctrl_ns_forget(struct nvmeof_ctrl *c, uint32_t nsid);
void ctrl_ns_set(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t shift);
/* Largest data length of one I/O command (MDTS, NLB width, our cap). */
uint32_t ctrl_max_cmd_bytes(struct nvmeof_ctrl *c, uint32_t shift);
int ctrl_admin_timeout(struct nvmeof_ctrl *c);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * libnvmeof: a userspace NVMe over Fabrics host (NVMe/TCP).
 *
 * Conventions:
 *  - Calls return 0 (or a count) on success and a negative errno on failure.
 *  - After a failure, nvmeof_get_error() gives a message in words for the
 *    calling thread, and nvmeof_last_status() the NVMe status field of the
 *    command that failed (0 when the failure was not an NVMe status).
 *  - A controller handle may be used from many threads at once.  Each thread
 *    that does I/O is bound to one I/O queue on its first use (round-robin);
 *    a queue shared by several threads is serialised by the library.
 *  - The library never prints and never exits.
 */
#ifndef NVMEOF_H
#define NVMEOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVMEOF_PORT 4420
#define NVMEOF_DISC_PORT 8009
#define NVMEOF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define NVMEOF_NQN_MAX 223

struct nvmeof_ctrl;

/* ---- errors ------------------------------------------------------------- */

/* Message of the last failure on this thread ("" if none). */
const char *nvmeof_get_error(void);
/* errno of the last failure on this thread (positive; 0 if none). */
int nvmeof_get_errno(void);
/* NVMe status field of the last failed command on this thread:
 * bits 10:8 SCT, 7:0 SC, bit 14 DNR, bit 13 More.  0 if none. */
uint16_t nvmeof_last_status(void);
/* A status field in words, e.g. "Invalid Field in Command (SCT 0h SC 02h)". */
const char *nvmeof_status_str(uint16_t status);

/* ---- connecting ---------------------------------------------------------- */

struct nvmeof_opts {
	const char *traddr;      /* host name, IPv4 or IPv6 address */
	const char *trsvcid;     /* port; NULL: 4420 */
	const char *subnqn;      /* NULL: the discovery subsystem */
	const char *hostnqn;     /* NULL: nvmeof_default_hostnqn() */
	const char *hostid;      /* UUID text; NULL: nvmeof_default_hostid() */
	const char *host_iface;  /* bind to this interface's address (libnl-route) */
	const char *host_traddr; /* bind to this source address */
	int nr_io_queues;        /* I/O queues asked for; 0: none (admin only) */
	int queue_size;          /* entries per I/O queue (2..1024) */
	int kato_ms;             /* keep-alive timeout; 0: none; -1: default */
	int connect_timeout_ms;  /* TCP connect + ICReq + Connect, per step */
	int io_timeout_ms;       /* a command older than this fails the association */
	bool hdr_digest;
	bool data_digest;
	/* Ask the controller not to do SQ flow control (Connect CATTR bit 2,
	 * like nvme-cli's --disable-sqflow); Linux nvmet then ends reads with
	 * C2HData SUCCESS, without a CapsuleResp. */
	bool disable_sqflow;
	/* When an established association fails (connection lost, TermReq,
	 * missed keep-alive, a command past io_timeout even after Abort),
	 * the library reconnects by itself with the same host NQN and ID and
	 * sends again every command that had no completion; I/O waits
	 * meanwhile.  The meaning is nvme-cli's: */
	int reconnect_delay;     /* seconds between attempts */
	int ctrl_loss_tmo;       /* give up after this many seconds (-1: never;
				  * 0: do not reconnect): pending and new I/O
				  * then fail with EIO */
	int fast_io_fail_tmo;    /* fail pending and new I/O with EIO after this
				  * many seconds while attempts go on (-1: off) */
	/* A thread waiting for completions of its I/O queue first checks the
	 * socket without sleeping for up to this many microseconds (while
	 * commands are in flight), then sleeps in poll(2): waking a sleeping
	 * thread (an idle CPU) can cost more than a short I/O.  0: never
	 * spin; -1: the default (NVMEOF_BUSY_POLL_US). */
	int busy_poll_us;
	/* DH-HMAC-CHAP in-band authentication: the host's secret and, for
	 * bidirectional authentication, the controller's, each a DHHC-1 string
	 * ("DHHC-1:00:...:", as nvme gen-dhchap-key makes) or a file holding one
	 * (which group and others must not be able to read); NULL: none. They
	 * are read when each queue connects (and reconnects) and wiped after
	 * use, so these strings must stay valid as long as the association
	 * lives; the hash and DH group are negotiated. */
	const char *dhchap_secret;
	const char *dhchap_secret_file;
	const char *dhchap_ctrl_secret;
	const char *dhchap_ctrl_secret_file;
	/* NVMe/TCP over TLS 1.3 with a pre-shared key (the secure channel), on
	 * every queue: the key in the PSK interchange format
	 * ("NVMeTLSkey-1:01:...:", as nvme gen-tls-key makes) or a file holding
	 * one (which group and others must not be able to read); the
	 * derivation of the TLS PSK (enum nvmeof_tls_derivation: AUTO tries
	 * RFC 8446, then libnvme's compat form, and keeps what worked); the
	 * identity version (0: NVMe0R0H, 1: NVMe1R0H with the PSK digest). */
	bool tls;
	const char *tls_key;
	const char *tls_key_file;
	int tls_psk_derivation;
	int tls_identity;
	/* Instead of tls_key/tls_key_file: a file (mode 0600) holding a TLS
	 * PSK already derived (from a kernel keyring, or check-tls-key's "TLS
	 * PSK" line), 64 or 96 hex digits; the cipher suite follows from the
	 * length, the identity is version 0, tls_psk_derivation is unused. */
	const char *tls_psk_file;
};

#define NVMEOF_BUSY_POLL_US 50

/* Defaults: port 4420, 1 I/O queue, queue size 128, KATO 5 s (0 for
 * discovery), connect timeout 10 s, I/O timeout 30 s, no digests,
 * reconnect delay 10 s, ctrl_loss_tmo 600 s, fast_io_fail_tmo off,
 * busy_poll_us -1 (NVMEOF_BUSY_POLL_US). */
void nvmeof_opts_init(struct nvmeof_opts *opts);

/* Connect an association: admin queue, controller enable, Identify, and the
 * I/O queues the controller grants.  On success *ctrlp is set. */
int nvmeof_connect(const struct nvmeof_opts *opts, struct nvmeof_ctrl **ctrlp);

/* Shut the controller down (CC.SHN, wait for CSTS.SHST), close every queue
 * and free the handle.  Commands still pending complete with -ECANCELED
 * (callbacks run, synchronous calls in other threads return) before the
 * queues go; no thread may submit once this is called.  Returns 0, or a negative errno if the shutdown did
 * not complete cleanly (the handle is freed either way). */
int nvmeof_disconnect(struct nvmeof_ctrl *ctrl);

/* ---- what the association is --------------------------------------------- */

/* Cached Identify Controller data (4096 bytes), read at connect and again
 * at each reconnect.  The data behind the pointer never changes and stays
 * valid until nvmeof_disconnect(); call again for what the last reconnect
 * read. */
const void *nvmeof_ctrl_identify(struct nvmeof_ctrl *ctrl);
uint16_t nvmeof_ctrl_cntlid(struct nvmeof_ctrl *ctrl);
const char *nvmeof_ctrl_subnqn(struct nvmeof_ctrl *ctrl);
const char *nvmeof_ctrl_hostnqn(struct nvmeof_ctrl *ctrl);
const char *nvmeof_ctrl_traddr(struct nvmeof_ctrl *ctrl);
const char *nvmeof_ctrl_trsvcid(struct nvmeof_ctrl *ctrl);
int nvmeof_ctrl_nr_io_queues(struct nvmeof_ctrl *ctrl);
int nvmeof_ctrl_queue_size(struct nvmeof_ctrl *ctrl);
/* Largest data transfer of one command in bytes (MDTS; 0 if unlimited). */
uint32_t nvmeof_ctrl_mdts_bytes(struct nvmeof_ctrl *ctrl);
uint64_t nvmeof_ctrl_cap(struct nvmeof_ctrl *ctrl);
uint32_t nvmeof_ctrl_vs(struct nvmeof_ctrl *ctrl);
bool nvmeof_ctrl_is_discovery(struct nvmeof_ctrl *ctrl);
/* Keep-alive timeout in force (ms; 0 = none). */
int nvmeof_ctrl_kato_ms(struct nvmeof_ctrl *ctrl);
/* "live", "reconnecting" or "failed". */
const char *nvmeof_ctrl_state(struct nvmeof_ctrl *ctrl);

struct nvmeof_ctrl_status {
	const char *state;       /* as nvmeof_ctrl_state() */
	int64_t since_ms;        /* wall clock (ms since the epoch) of the change */
	unsigned attempts;       /* reconnect attempts since it was lost */
	unsigned reconnects;     /* successful reconnects since connect */
	char last_error[256];    /* why it was last lost ("" if never) */
	/* Reconnect back-off (libnvmeof(3)): */
	unsigned losses;         /* times it was lost (or a reconnect asked for) */
	unsigned attempts_total; /* reconnect attempts since connect */
	unsigned requests;       /* reconnects asked with nvmeof_ctrl_reconnect() */
	int64_t next_attempt_ms; /* wall clock of the next attempt (0: none planned) */
	char traddr[256];        /* the address the association uses now */
	char trsvcid[32];
	/* TLS (nvmeof_opts.tls): what the last handshake negotiated */
	bool tls;
	char tls_version[16];    /* "TLSv1.3" */
	char tls_cipher[32];     /* "TLS_AES_128_GCM_SHA256" ... */
	char tls_identity[530];  /* NVMEOF_TLS_IDENTITY_MAX */
	const char *tls_derivation; /* "rfc" or "compat": the one that worked;
				     * "raw" for nvmeof_opts.tls_psk_file */
	bool ktls;               /* the kernel does the record layer (kTLS) */
	double tls_handshake_ms; /* the last handshake, TCP connected to done */
};
void nvmeof_ctrl_status(struct nvmeof_ctrl *ctrl, struct nvmeof_ctrl_status *st);

/* Called on each change of state (from the library's admin thread), with
 * the reason in words: for logging, and to refresh what depends on the
 * controller (after a reconnect the namespaces may have changed). */
typedef void (*nvmeof_state_cb)(void *arg, const char *state, const char *why);
void nvmeof_set_state_cb(struct nvmeof_ctrl *ctrl, nvmeof_state_cb cb,
			 void *arg);

/* End the association now, as if ctrl_loss_tmo had run out: no more
 * reconnect attempts (one under way finishes first), every queue closes,
 * pending and new commands fail with EIO, and the state becomes "failed"
 * with why as the reason.  For a host that learned the subsystem is gone
 * (a discovery log no longer lists it).  Returns once the pending commands
 * have completed (their callbacks have run); the handle stays valid until
 * nvmeof_disconnect(). */
int nvmeof_ctrl_fail(struct nvmeof_ctrl *ctrl, const char *why);

/* Drop the connection now and reconnect at once (no first delay), to
 * traddr and/or trsvcid when not NULL; a new address is kept for later
 * reconnects (nvmeof_ctrl_traddr() then names it; what it named before
 * stays valid until nvmeof_disconnect()).  Commands without a
 * completion are sent again on the new association, as after any loss;
 * the ctrl_loss_tmo and fast_io_fail_tmo clocks start again.  Returns 0
 * once the reconnect is under way, -ENOTCONN once the association has
 * ended (nvmeof_ctrl_fail(), ctrl_loss_tmo), -ENOTSUP for an association
 * that does not reconnect (a one-shot discovery controller). */
int nvmeof_ctrl_reconnect(struct nvmeof_ctrl *ctrl, const char *traddr,
			  const char *trsvcid);

/* Asynchronous events.  cb runs on the library's admin thread after the
 * event's log page was read: aen_dw0 is the completion dword 0 (type,
 * info, log page); for Namespace Attribute Changed, nsids lists the
 * changed namespaces from log 04h (nsids[0] == 0xffffffff: more than 1024,
 * rescan all).  A persistent discovery controller (see nvmeof_discover)
 * reports Discovery Log Page Change: type Notice (2), info F0h, log 70h;
 * read the log again with nvmeof_discover().  A controller that reports
 * ANA (Identify Controller CMIC bit 3) sends ANA Change: type Notice,
 * info 03h, log 0Ch; the library has read the log again when cb runs, and
 * nvmeof_ana_state() returns the new states.  cb must not call
 * nvmeof_disconnect(). */
typedef void (*nvmeof_event_cb)(void *arg, uint32_t aen_dw0,
				const uint32_t *nsids, size_t nr);
void nvmeof_set_event_cb(struct nvmeof_ctrl *ctrl, nvmeof_event_cb cb,
			 void *arg);

/* The ANA state (NVMe Base 2.0 §8.1.2: 01h optimized, 02h non-optimized,
 * 03h inaccessible, 04h persistent loss, 0Fh change) of namespace nsid
 * through this association, from the ANA log page the library read when
 * the association came up, after its last reconnect or on its last ANA
 * Change notice.  0; -EOPNOTSUPP when the controller does not report ANA,
 * -ENODATA when no valid log could be read, -ENOENT when the log does not
 * list nsid, -EINVAL for bad arguments. */
int nvmeof_ana_state(struct nvmeof_ctrl *ctrl, uint32_t nsid,
		     uint8_t *state);

struct nvmeof_stats {
	uint64_t commands;  /* completed commands, admin + I/O */
	uint64_t errors;    /* commands that completed with an error */
	uint64_t bytes_read;    /* namespace data of I/O commands (not Connect, not admin) */
	uint64_t bytes_written; /* the same, written */
	uint64_t retries;   /* commands sent again */
	uint64_t c2h_success; /* reads completed by C2HData SUCCESS alone */
	uint64_t aborts;    /* Abort commands sent for commands past the I/O timeout */
};
void nvmeof_ctrl_stats(struct nvmeof_ctrl *ctrl, struct nvmeof_stats *st);

/* ---- admin commands --------------------------------------------------- */

/* Identify: buf holds 4096 bytes. */
int nvmeof_identify(struct nvmeof_ctrl *ctrl, uint8_t cns, uint32_t nsid,
		    uint16_t cntid, void *buf);
/* Get Log Page of any length (split by MDTS, with offsets).  lsp is the
 * Log Specific Parameter (7 bits); OR NVMEOF_LOG_RAE into it to set Retain
 * Asynchronous Event, so that reading (e.g. log 04h for a user) does not
 * consume an event the library's admin thread is waiting to read. */
#define NVMEOF_LOG_RAE 0x80
int nvmeof_get_log_page(struct nvmeof_ctrl *ctrl, uint8_t lid, uint32_t nsid,
			uint8_t lsp, uint64_t offset, void *buf, size_t len);
/* Get/Set Features; *result receives completion dword 0 (may be NULL).
 * buf/len: optional data buffer (NULL/0 for none). */
int nvmeof_get_features(struct nvmeof_ctrl *ctrl, uint8_t fid, uint32_t nsid,
			uint8_t sel, uint32_t cdw11, uint32_t *result,
			void *buf, size_t len);
int nvmeof_set_features(struct nvmeof_ctrl *ctrl, uint8_t fid, uint32_t nsid,
			uint32_t cdw11, bool save, uint32_t *result,
			const void *buf, size_t len);
int nvmeof_keep_alive(struct nvmeof_ctrl *ctrl);

/* A raw admin command.  sqe is 64 bytes (the library sets CID and the data
 * pointer); data moves to the controller when write is true. */
int nvmeof_admin_cmd(struct nvmeof_ctrl *ctrl, const void *sqe, void *buf,
		     size_t len, bool write, uint32_t *result);

/* ---- namespaces ------------------------------------------------------- */

struct nvmeof_ns_info {
	uint32_t nsid;
	uint64_t nsze;          /* blocks */
	uint64_t ncap;
	uint64_t nuse;
	uint32_t lba_size;      /* bytes */
	uint16_t ms;            /* metadata bytes per block */
	bool write_protected;
	bool read_zeroes_after_dealloc; /* DLFEAT reads 01b */
	uint8_t nguid[16];
	uint8_t eui64[8];
	uint8_t uuid[16];
	bool has_uuid;
};

/* Active namespace IDs, ascending.  *nsids is malloc()ed; free() it. */
int nvmeof_ns_list(struct nvmeof_ctrl *ctrl, uint32_t **nsids, size_t *count);
/* Identify Namespace (+ descriptors) decoded; also refreshes the library's
 * cached LBA size for this namespace. */
int nvmeof_ns_info(struct nvmeof_ctrl *ctrl, uint32_t nsid,
		   struct nvmeof_ns_info *info);

/* ---- I/O ------------------------------------------------------------------
 * Lengths are in logical blocks of the namespace (its LBA size is looked up
 * with Identify Namespace the first time a namespace is used).  Requests
 * larger than MDTS are split; the call completes when every part has. */

int nvmeof_read(struct nvmeof_ctrl *ctrl, uint32_t nsid, uint64_t slba,
		uint32_t nlb, void *buf);
int nvmeof_write(struct nvmeof_ctrl *ctrl, uint32_t nsid, uint64_t slba,
		 uint32_t nlb, const void *buf, bool fua);
int nvmeof_flush(struct nvmeof_ctrl *ctrl, uint32_t nsid);
int nvmeof_write_zeroes(struct nvmeof_ctrl *ctrl, uint32_t nsid, uint64_t slba,
			uint32_t nlb, bool deallocate);

struct nvmeof_range {
	uint64_t slba;
	uint32_t nlb;
};
/* Dataset Management, deallocate attribute; at most 256 ranges. */
int nvmeof_deallocate(struct nvmeof_ctrl *ctrl, uint32_t nsid,
		      const struct nvmeof_range *ranges, unsigned nr);
/* A raw I/O command on the calling thread's I/O queue.  sqe is 64 bytes
 * (the library sets CID and the data pointer; opcode, NSID and CDWs go as
 * given); data moves to the controller when write is true.  One command,
 * never split: len above what one command may carry (MDTS) fails with
 * -EMSGSIZE.  *result receives completion dword 0 (may be NULL). */
int nvmeof_io_cmd(struct nvmeof_ctrl *ctrl, const void *sqe, void *buf,
		  size_t len, bool write, uint32_t *result);

/* Asynchronous interface.  A submit queues the command on the calling
 * thread's I/O queue and returns at once (if the queue is full it first
 * processes completions, which may run callbacks).  Callbacks run in the
 * thread that calls nvmeof_poll() (or a sync call) on that queue.
 * err is 0 or a negative errno; status is the NVMe status field. */
typedef void (*nvmeof_cb)(void *arg, int err, uint16_t status);

int nvmeof_submit_read(struct nvmeof_ctrl *ctrl, uint32_t nsid, uint64_t slba,
		       uint32_t nlb, void *buf, nvmeof_cb cb, void *arg);
int nvmeof_submit_write(struct nvmeof_ctrl *ctrl, uint32_t nsid, uint64_t slba,
			uint32_t nlb, const void *buf, bool fua, nvmeof_cb cb,
			void *arg);
int nvmeof_submit_flush(struct nvmeof_ctrl *ctrl, uint32_t nsid, nvmeof_cb cb,
			void *arg);
int nvmeof_submit_write_zeroes(struct nvmeof_ctrl *ctrl, uint32_t nsid,
			       uint64_t slba, uint32_t nlb, bool deallocate,
			       nvmeof_cb cb, void *arg);
int nvmeof_submit_deallocate(struct nvmeof_ctrl *ctrl, uint32_t nsid,
			     const struct nvmeof_range *ranges, unsigned nr,
			     nvmeof_cb cb, void *arg);

/* Process completions of the calling thread's queue, waiting up to
 * timeout_ms (-1: until at least one completes; 0: do not wait).
 * Returns the number of commands completed, or a negative errno. */
int nvmeof_poll(struct nvmeof_ctrl *ctrl, int timeout_ms);
/* Batch submissions (like the kernel's block plug): between nvmeof_plug()
 * and nvmeof_unplug(), commands submitted on this thread's queue are held
 * and then sent together, several PDUs per system call, by nvmeof_unplug()
 * (or by a poll on the queue).  Plugs nest. */
void nvmeof_plug(struct nvmeof_ctrl *ctrl);
int nvmeof_unplug(struct nvmeof_ctrl *ctrl);
/* Commands submitted by this thread's queue and not yet completed. */
int nvmeof_inflight(struct nvmeof_ctrl *ctrl);
/* The file descriptor to wait on for this thread's queue, with the events
 * nvmeof_poll_events() gives (POLLIN, and POLLOUT while the socket has not
 * taken everything submitted); then call nvmeof_poll(ctrl, 0).  The
 * descriptor changes when the association reconnects, and is -1 (events
 * 0) while it is down: ask again after each poll. */
int nvmeof_poll_fd(struct nvmeof_ctrl *ctrl);
short nvmeof_poll_events(struct nvmeof_ctrl *ctrl);

/* ---- discovery -------------------------------------------------------- */

/* Field values of a discovery log entry (NVMe-oF 1.1 §5.3). */
#define NVMEOF_TRTYPE_RDMA 1
#define NVMEOF_TRTYPE_FC 2
#define NVMEOF_TRTYPE_TCP 3
#define NVMEOF_TRTYPE_LOOP 254
#define NVMEOF_ADRFAM_IPV4 1
#define NVMEOF_ADRFAM_IPV6 2
#define NVMEOF_ADRFAM_IB 3
#define NVMEOF_ADRFAM_FC 4
#define NVMEOF_SUBTYPE_REFERRAL 1     /* another discovery service */
#define NVMEOF_SUBTYPE_NVME 2         /* an NVM subsystem */
#define NVMEOF_SUBTYPE_CURRENT_DISC 3 /* this discovery controller */

struct nvmeof_disc_entry {
	uint8_t trtype;   /* NVMEOF_TRTYPE_* */
	uint8_t adrfam;   /* NVMEOF_ADRFAM_* */
	uint8_t subtype;  /* NVMEOF_SUBTYPE_* */
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	uint8_t sectype;  /* TSAS for TCP: security type */
	char trsvcid[33];
	char traddr[257];
	char subnqn[257];
};

struct nvmeof_disc_log {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	struct nvmeof_disc_entry *entries; /* numrec entries */
};

/* Read the whole discovery log page (header, entries, header again while
 * the generation counter changes; bounded retries).
 *
 * A discovery controller connected with kato_ms > 0 is persistent (as
 * nvme discover --persistent): it has keep-alive, reconnects like any
 * association, enables the Discovery Log Page Change event (when OAES bit
 * 31 says the controller has it) and keeps an Async Event Request
 * outstanding, so the event callback hears of each change of the log.
 * With kato_ms 0 (the default for discovery) it is one-shot: none of that. */
int nvmeof_discover(struct nvmeof_ctrl *ctrl, struct nvmeof_disc_log **logp);
/* Follow referrals (subtype 1) recursively from opts' target, up to depth;
 * entries of every discovery controller are merged, duplicates removed. */
int nvmeof_discover_all(const struct nvmeof_opts *opts, int max_depth,
			struct nvmeof_disc_log **logp);
void nvmeof_disc_log_free(struct nvmeof_disc_log *log);
/* Decode a raw log page 70h (header + entries) without a controller. */
int nvmeof_disc_log_decode(const void *buf, size_t len,
			   struct nvmeof_disc_log **logp);

/* TLS in a discovery log entry of NVMe/TCP (NVMe/TCP 1.0 §4.2: TSAS byte 0
 * SECTYPE; NVMe Base 2.0 Figure 293: TREQ bits 1:0 the secure channel). */
#define NVMEOF_SECTYPE_NONE 0
#define NVMEOF_SECTYPE_TLS12 1
#define NVMEOF_SECTYPE_TLS13 2
#define NVMEOF_TREQ_NOT_SPECIFIED 0
#define NVMEOF_TREQ_REQUIRED 1
#define NVMEOF_TREQ_NOT_REQUIRED 2
#define NVMEOF_TREQ_SECURE_MASK 3
/* Whether to connect to entry e over TLS, with have_key telling whether
 * the host has a TLS key: 1 when the entry offers TLS (a SECTYPE, or TREQ
 * "required") and a key is there, 0 when it offers none or TLS is not
 * required and no key is given, -ENOKEY when TREQ says required and no
 * key is given (message: "the port requires TLS (TREQ) ..."). */
int nvmeof_disc_entry_tls(const struct nvmeof_disc_entry *e, bool have_key);
/* "required", "not required", "not specified" (TREQ bits 1:0) */
const char *nvmeof_treq_str(uint8_t treq);

/* ---- host identity ---------------------------------------------------- */

/* The host NQN: /etc/nvme/hostnqn if present and valid, otherwise a stable
 * nqn.2014-08.org.nvmexpress:uuid:<uuid> derived from the host ID.
 * Writes at most len bytes including the NUL.  */
int nvmeof_default_hostnqn(char *buf, size_t len);
/* The host ID as UUID text: /etc/nvme/hostid, else the UUID in the host
 * NQN, else the machine's DMI product UUID or /etc/machine-id, hashed. */
int nvmeof_default_hostid(char *buf, size_t len);
/* A fresh random nqn.2014-08.org.nvmexpress:uuid:<uuid>. */
int nvmeof_gen_hostnqn(char *buf, size_t len);
/* 0 if nqn is a valid NVMe Qualified Name (NVMe Base 2.0 §4.5), else
 * -EINVAL with the reason in nvmeof_get_error(). */
int nvmeof_nqn_validate(const char *nqn);

/* ---- DH-HMAC-CHAP secrets ------------------------------------------------ */

/* A secret in the DHHC-1 representation ("DHHC-1:HH:<base64 of key and
 * CRC-32>:"), as nvme-cli's gen-dhchap-key makes it: len bytes (32, 48, 64;
 * 0: the hash's length, or 32), from secret (len bytes) or random when
 * NULL, transformed with hmac 1-3 (SHA-256/384/512) and hostnqn, or not
 * (hmac 0).  out: 128 bytes suffice. */
int nvmeof_dhchap_key_generate(unsigned hmac, unsigned len, const char *hostnqn,
			       const uint8_t *secret, char *out, size_t outlen);
struct nvmeof_dhchap_key_info {
	unsigned hmac;   /* transformation indicator, 0-3 */
	unsigned len;    /* key bytes */
	uint32_t crc;    /* the CRC-32 it carries */
};
/* Check a DHHC-1 secret: header, indicator, base64, length and CRC-32. */
int nvmeof_dhchap_key_check(const char *key, struct nvmeof_dhchap_key_info *info);

/* ---- addresses ----------------------------------------------------------- */

/* Split "host", "host:port", "[v6]:port" or "v6"; host and port are
 * written NUL-terminated (port left as default_port if absent). */
int nvmeof_parse_address(const char *s, char *host, size_t hostlen,
			 char *port, size_t portlen, const char *default_port);

/* ---- TLS pre-shared keys (NVMe/TCP secure channel) ----------------------
 * A configured PSK in the PSK interchange format "NVMeTLSkey-1:HH:<base64 of
 * the key and its CRC-32>:" (HH 00, 01 SHA-256, 02 SHA-384; 32 or 48 bytes),
 * and the identity and TLS PSK derived from it for a host and a subsystem.
 * Two derivations exist in the field: RFC 8446 HKDF-Expand-Label (libnvme
 * >= 1.16, SPDK) and the "compat" form of libnvme <= 1.15 (nvme-cli 2.13). */
enum nvmeof_tls_derivation {
	NVMEOF_TLS_DERIVE_AUTO = 0,   /* connecting: RFC, then compat */
	NVMEOF_TLS_DERIVE_RFC = 1,
	NVMEOF_TLS_DERIVE_COMPAT = 2,
};
#define NVMEOF_TLS_KEY_STR_MAX 96
#define NVMEOF_TLS_IDENTITY_MAX 530
#define NVMEOF_TLS_PSK_MAX 48
struct nvmeof_tls_key_info {
	unsigned hmac;        /* 0, 1 or 2 */
	unsigned len;         /* key bytes: 32 or 48 */
	uint32_t crc;         /* the CRC-32 the key carries */
	const char *cipher;   /* "TLS_AES_128_GCM_SHA256" or "TLS_AES_256_GCM_SHA384" */
};
/* Check a key (header, hash, base64, length, CRC); info may be NULL. */
int nvmeof_tls_key_check(const char *key, struct nvmeof_tls_key_info *info);
/* A key of hash hmac (1: 32 bytes, 2: 48) made of bytes, or random bytes
 * when bytes is NULL, formatted into out (NVMEOF_TLS_KEY_STR_MAX). */
int nvmeof_tls_key_generate(unsigned hmac, const uint8_t *bytes, char *out,
			    size_t outlen);
/* The identity (version 0 "NVMe0R0H <hostnqn> <subnqn>", 1 with the PSK
 * digest) into identity (NVMEOF_TLS_IDENTITY_MAX) and the TLS PSK into psk
 * (NVMEOF_TLS_PSK_MAX) in derivation RFC or COMPAT; returns the PSK's
 * length. */
int nvmeof_tls_key_derive(const char *key, const char *hostnqn, const char *subnqn,
			  unsigned identity_version, enum nvmeof_tls_derivation d,
			  char *identity, size_t idlen, uint8_t *psk);


/* ---- multipath: one subsystem over several paths -------------------------
 * A group holds one association (a path) per address to one subsystem,
 * from one host NQN and host ID.  Namespaces are the same when their
 * Namespace Identification Descriptors (NGUID, EUI-64, UUID) match; a path
 * whose namespace of an NSID has other identifiers is refused.  I/O for a
 * namespace goes to a live path whose ANA state for it is optimized, else
 * non-optimized, never inaccessible, persistent loss or change; among
 * those the I/O policy chooses:
 *  - "numa": the first usable path in the order given (sticky);
 *  - "round-robin" (default): the next usable path per command, per thread;
 *  - "queue-depth": the usable path with the fewest commands in flight.
 * A command that completes with an ANA status (SCT 3h) is sent again at
 * once on another path, and that path's ANA log is read again.  When a path
 * is lost, its commands without a completion are sent again at once on
 * another usable path (a write is acknowledged only by its completion;
 * writing the same data twice is harmless); the path reconnects in the
 * background (for ever) and is used again once live.  A command that finds
 * no usable path waits; it fails with EIO once it waited ctrl_loss_tmo (or
 * fast_io_fail_tmo) seconds, or at once when every path has failed.
 * A group of one path behaves exactly as that association alone. */
struct nvmeof_mpath;

#define NVMEOF_MPATH_MAX_PATHS 16

/* Connect every address of addrs ("host", "host:port", "[v6]:port"; opts'
 * traddr/trsvcid are not used) with opts.  Succeeds when at least one path
 * connects; the others are listed as failed and tried again every
 * reconnect_delay seconds.  iopolicy: NULL or a name above. */
int nvmeof_mpath_connect(const struct nvmeof_opts *opts,
			 const char *const *addrs, unsigned nr,
			 const char *iopolicy, struct nvmeof_mpath **gp);
/* Another path (e.g. from a discovery log entry); its index, or an error. */
int nvmeof_mpath_add_path(struct nvmeof_mpath *g, const char *addr);
/* Remove the path at addr (e.g. its discovery log entry went): it is never
 * chosen or tried again, its association ends and what was outstanding on
 * it is sent again on another path, as a lost path's.  Its ID is not
 * reused; it leaves nvmeof_mpath_nr_paths() and the paths text, and
 * nvmeof_mpath_path_info() says -ENOENT for it.  -ENOENT: no such path;
 * -EBUSY: it is the last one (end the group instead). */
int nvmeof_mpath_remove_path(struct nvmeof_mpath *g, const char *addr);
/* End every path (as nvmeof_ctrl_fail()): pending and new I/O fails with
 * EIO, no path is tried again. */
int nvmeof_mpath_fail(struct nvmeof_mpath *g, const char *why);
/* Disconnect every path and free the group (as nvmeof_disconnect()). */
int nvmeof_mpath_disconnect(struct nvmeof_mpath *g);
/* -EINVAL for an unknown name. */
int nvmeof_mpath_set_iopolicy(struct nvmeof_mpath *g, const char *name);
const char *nvmeof_mpath_iopolicy(struct nvmeof_mpath *g);
/* The paths not removed (IDs stay: after a removal they may exceed it). */
unsigned nvmeof_mpath_nr_paths(struct nvmeof_mpath *g);
/* Path i's association (NULL while it has none: it never connected). */
struct nvmeof_ctrl *nvmeof_mpath_path_ctrl(struct nvmeof_mpath *g, unsigned i);
/* An association for admin commands: the first live path, else the first
 * that has one. */
struct nvmeof_ctrl *nvmeof_mpath_ctrl(struct nvmeof_mpath *g);
/* "live" (a path is), "reconnecting" (none is, one is trying), "failed". */
const char *nvmeof_mpath_state(struct nvmeof_mpath *g);
/* Called (from any path's admin thread) on every change of a path's state,
 * with the group's state and "path N ADDR:PORT: why". */
void nvmeof_mpath_set_state_cb(struct nvmeof_mpath *g, nvmeof_state_cb cb,
			       void *arg);
/* Asynchronous events of every path (see nvmeof_set_event_cb()). */
void nvmeof_mpath_set_event_cb(struct nvmeof_mpath *g, nvmeof_event_cb cb,
			       void *arg);
/* Read the namespaces of every path again and match them (after a
 * Namespace Attribute Changed notice); -EEXIST names a mismatch. */
int nvmeof_mpath_rescan(struct nvmeof_mpath *g);

struct nvmeof_mpath_path_info {
	unsigned id;
	char traddr[257];
	char trsvcid[33];
	uint16_t cntlid;
	const char *state;       /* "live", "connecting" or "failed" */
	bool ana;                /* the controller reports ANA */
	unsigned nr_groups;      /* ANA groups of its log (at most 32 listed) */
	uint32_t grpid[32];
	uint8_t grpstate[32];    /* 01h, 02h, 03h, 04h, 0Fh */
	uint64_t reads, writes;  /* commands completed on it */
	uint64_t errors;         /* failed on it (sent again elsewhere or not) */
	int inflight;
	char last_error[256];    /* "" when none */
};
int nvmeof_mpath_path_info(struct nvmeof_mpath *g, unsigned i,
			   struct nvmeof_mpath_path_info *info);
/* The paths as text, one line each:
 * "ID ADDR:PORT cntlid=N state=S ana=GRP:STATE[,...]|- reads=N writes=N
 * inflight=N errors=N last_error=TEXT|-".  Returns the length (as
 * snprintf). */
int nvmeof_mpath_paths_text(struct nvmeof_mpath *g, char *buf, size_t len);
/* "optimized", "non-optimized", "inaccessible", "persistent-loss",
 * "change" or "unknown". */
const char *nvmeof_ana_state_name(uint8_t state);
struct nvmeof_mpath_stats {
	uint64_t failovers;   /* commands sent again after their path was lost */
	uint64_t ana_retries; /* commands sent again after an SCT 3h status */
	uint64_t waits;       /* commands that found no usable path and waited */
};
void nvmeof_mpath_stats(struct nvmeof_mpath *g, struct nvmeof_mpath_stats *st);

/* I/O as nvmeof_read() and the others, nsid as the first path numbers it.
 * The asynchronous calls' callbacks run in the thread that calls
 * nvmeof_mpath_poll() (or a synchronous call) of the group. */
int nvmeof_mpath_read(struct nvmeof_mpath *g, uint32_t nsid, uint64_t slba,
		      uint32_t nlb, void *buf);
int nvmeof_mpath_write(struct nvmeof_mpath *g, uint32_t nsid, uint64_t slba,
		       uint32_t nlb, const void *buf, bool fua);
int nvmeof_mpath_flush(struct nvmeof_mpath *g, uint32_t nsid);
int nvmeof_mpath_write_zeroes(struct nvmeof_mpath *g, uint32_t nsid,
			      uint64_t slba, uint32_t nlb, bool deallocate);
int nvmeof_mpath_deallocate(struct nvmeof_mpath *g, uint32_t nsid,
			    const struct nvmeof_range *ranges, unsigned nr);
int nvmeof_mpath_submit_read(struct nvmeof_mpath *g, uint32_t nsid,
			     uint64_t slba, uint32_t nlb, void *buf,
			     nvmeof_cb cb, void *arg);
int nvmeof_mpath_submit_write(struct nvmeof_mpath *g, uint32_t nsid,
			      uint64_t slba, uint32_t nlb, const void *buf,
			      bool fua, nvmeof_cb cb, void *arg);
int nvmeof_mpath_submit_flush(struct nvmeof_mpath *g, uint32_t nsid,
			      nvmeof_cb cb, void *arg);
/* Process completions of the calling thread's queues on every path (and
 * commands waiting for a path), as nvmeof_poll(). */
int nvmeof_mpath_poll(struct nvmeof_mpath *g, int timeout_ms);
/* One descriptor for the calling thread: POLLIN means call
 * nvmeof_mpath_poll(g, 0).  Mostly an epoll set of its queues on every
 * path and a wake-up when a command must be sent again, the same for the
 * life of the group; but for a group of one path that has never had
 * another, while that association is live and nothing waits to be sent,
 * its queue socket itself (as nvmeof_poll_fd()).  Ask again before each
 * wait. */
int nvmeof_mpath_poll_fd(struct nvmeof_mpath *g);
void nvmeof_mpath_plug(struct nvmeof_mpath *g);
int nvmeof_mpath_unplug(struct nvmeof_mpath *g);
/* Commands of the calling thread not completed yet (waiting ones too). */
int nvmeof_mpath_inflight(struct nvmeof_mpath *g);


#ifdef __cplusplus
}
#endif
#endif /* NVMEOF_H */

/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target internals: a userspace NVMe/TCP controller.
 *
 * Threads: the main thread owns the listeners, the control socket, signals,
 * configuration changes and statistics; every accepted TCP connection (one
 * NVMe queue) gets a thread of its own that runs the PDU state machine
 * (tgt_conn.c) with blocking I/O.  Why not epoll: a queue is one host
 * thread's stream of commands, the kernel already schedules one thread per
 * queue well on a small box, a thread never hands a command to another one,
 * and a blocked send or a slow file read stalls only its own queue.
 *
 * Lock order (outer first): g.lock (lists of subsystems, controllers,
 * connections) -> ctrl->lock -> subsys->lock.  Namespaces are reference
 * counted so that an I/O thread never holds a lock while it does I/O.
 */
#ifndef NVMEOF_TARGET_H
#define NVMEOF_TARGET_H

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "auth.h"
#include "busy_poll.h"
#include "internal.h"
#include "nvme_spec.h"
#include "pdu.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define TGT_NAME "nvmeof-target"
#define TGT_DEFAULT_NQN "nqn.2026-11.org.example:nvmeof-target"
#define TGT_MAX_NSID 1024          /* Identify Controller NN */
#define TGT_AERL 3                 /* 0's based: 4 outstanding AERs */
#define TGT_ERRLOG_ENTRIES 64
#define TGT_MAX_LISTENERS 16
#define TGT_ADMIN_INCAPSULE 8192   /* NVMe/TCP 1.0 §3.3: admin queue */
#define TGT_ADMIN_SQSIZE 32        /* ASQSZ in the discovery log */
#define TGT_MAX_CNTLID 0xffef      /* NVMe-oF 1.1 §4.2: FFF0h..FFFFh reserved */
#define TGT_NONDATA_MAX 8192       /* R2T data of commands other than Write */
#define TGT_RBUF_SIZE (128u * 1024) /* one file read chunk */
#define TGT_RBUF_COUNT 4
#define TGT_ANA_GROUPS 32          /* ANAGRPMAX = NANAGRPID; ANAGRPIDs 1..32 */
#define TGT_ANATT 10               /* ANA transition time, seconds */

/* Status fields (NVMe Base 2.0 §4.2.3): SCT << 8 | SC, DNR set by callers */
#define SF_GEN(sc) NVME_SF(NVME_SCT_GENERIC, (sc))
#define SF_CMD(sc) NVME_SF(NVME_SCT_CMD_SPECIFIC, (sc))
#define SF_MEDIA(sc) NVME_SF(NVME_SCT_MEDIA, (sc))
#define NVME_SC_WRITE_FAULT 0x80   /* media errors (SCT 2) */
#define NVME_SC_READ_ERROR 0x81

/* ctrl->aen_masked */
#define AEN_BIT_NS 0x1   /* Namespace Attribute Changed notice sent */
#define AEN_BIT_DISC 0x2 /* Discovery Log Page Change notice sent */
#define AEN_BIT_ANA 0x4  /* Asymmetric Namespace Access Change notice sent */

/* Statuses of the admin and Fabrics commands (tgt_admin.c, tgt_fabrics.c,
 * tgt_ctrl.c) */
#define DNR NVME_SF_DNR_BIT
#define ST_INVALID_FIELD (SF_GEN(NVME_SC_INVALID_FIELD) | DNR)
#define ST_INVALID_OPCODE (SF_GEN(NVME_SC_INVALID_OPCODE) | DNR)
#define ST_SGL_LENGTH (SF_GEN(NVME_SC_SGL_INVALID_DATA) | DNR)
#define ST_CONNECT_PARAM (SF_CMD(NVME_SC_CONNECT_INVALID_PARAM) | DNR)

/* Connect response dword 0 for Connect Invalid Parameters (NVMe-oF 1.1
 * §3.3, Figure 21): IPO in bits 15:0, IATTR (bit 0: in the data) in 23:16. */
#define IPO_DATA(field) \
	((1u << 16) | (uint32_t)offsetof(struct nvmf_connect_data, field))
#define IPO_SQE(off) ((uint32_t)(off))

/* Relaxed statistics counters: written by one thread, read by the main one */
#define STAT_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STAT_ADD(x, n) __atomic_store_n(&(x), STAT_GET(x) + (n), __ATOMIC_RELAXED)

/* ---- logging ------------------------------------------------------------ */

extern int tgt_verbose;
void tgt_log(int level, const char *fmt, ...) NVMEOF_PRINTF(2, 3);
#define LOG_WARN 0
#define LOG_INFO 1
#define LOG_DEBUG 2
#define warnx(...) tgt_log(LOG_WARN, __VA_ARGS__)
#define infox(...) tgt_log(LOG_INFO, __VA_ARGS__)
#define debugx(...) tgt_log(LOG_DEBUG, __VA_ARGS__)

uint64_t tgt_now_ms(void);
uint64_t tgt_now_ns(void);

/* ---- options ------------------------------------------------------------ */

struct tgt_opts {
	unsigned mdts;           /* 2^mdts * 4 KiB; 0 = no limit */
	uint32_t queue_size;     /* CAP.MQES + 1 */
	uint32_t max_io_queues;
	uint32_t maxh2cdata;
	uint32_t io_incapsule;   /* in-capsule data bytes on I/O queues */
	uint32_t busy_poll_us;   /* I/O queues: spin before a blocking recv */
	uint32_t lba_size;       /* default for --ns */
	uint32_t max_conns;      /* --max-connections */
	uint32_t login_ms;       /* --login-timeout: ICReq and Connect within */
	bool read_only;          /* every namespace write protected */
	bool no_files;           /* file namespaces refused (in-process fuzzing) */
	const char *config;
	const char *control;
};
extern struct tgt_opts opts;
extern char *tgt_config_path;   /* -c, absolute; NULL: none */

/* --busy-poll, which the control socket may change while queues run. */
static inline uint32_t busy_poll_us(void)
{
	return __atomic_load_n(&opts.busy_poll_us, __ATOMIC_RELAXED);
}

static inline uint64_t tgt_mdts_bytes(void)
{
	return opts.mdts ? (4096ull << opts.mdts) : 0;
}

/* ---- listeners ---------------------------------------------------------- */

/* --tls of a listener: its secure channel (tgt_tls.c) */
enum tgt_tls_mode { TGT_TLS_OFF, TGT_TLS_REQUIRED, TGT_TLS_NOT_REQUIRED };

struct tgt_listener {
	int fd;
	int portid;              /* 1-based, in the discovery log */
	bool discovery_only;     /* --discovery-port */
	int family;
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;           /* as bound (port 0 resolved) */
	bool wildcard;
	char given[256];         /* as given to -l ("" for --discovery-port) */
	enum tgt_tls_mode tls;   /* --tls */
	bool removed;            /* listener-remove: closed, not listed */
	/* ANA (tgt_ana.c): the state of each group on this listener, read
	 * by the queues without a lock, written under g.lock */
	uint8_t ana_state[TGT_ANA_GROUPS + 1];
	uint64_t ana_chgcnt;     /* changes of this listener's ANA log */
	uint64_t ana_grp_chgcnt[TGT_ANA_GROUPS + 1];
};

/* ---- statistics --------------------------------------------------------- */

struct tgt_stats {
	uint64_t io;             /* NVM I/O commands */
	uint64_t reads, writes, others;
	uint64_t rbytes, wbytes;
	uint64_t errors;
	uint64_t admin;
	uint64_t cpu_ns;         /* thread CPU time of finished queues */
};
void stats_add(struct tgt_stats *to, const struct tgt_stats *from);

/* ---- namespaces and subsystems (tgt_subsys.c, backends in tgt_io.c) ----- */

enum ns_kind { NS_FILE, NS_BDEV, NS_RAM, NS_NULL };

struct ns_spec {
	enum ns_kind kind;
	char path[4096];
	uint64_t size;           /* ram / null */
	uint32_t lba_size;       /* 0: default */
	int ro;                  /* -1: default */
	uint32_t nsid;           /* 0: next free */
	uint32_t anagrpid;       /* 0: group 1 */
};

struct tgt_ns {
	uint32_t nsid;
	enum ns_kind kind;
	int fd;
	uint8_t *ram;
	size_t ram_map;          /* bytes mapped (the limit of a resize) */
	_Atomic uint64_t nblocks;
	unsigned lba_shift;
	bool ro;
	uint32_t anagrpid;       /* 1..TGT_ANA_GROUPS */
	atomic_int refs;
	char *desc;              /* canonical spec, for "list" and reload */
	uint8_t nguid[16];
	uint8_t uuid[16];
};

enum subsys_origin { ORIGIN_CLI, ORIGIN_CONFIG, ORIGIN_CONTROL };

/* A host allowed on a subsystem (tgt_host.c).  Room for what a host will
 * need besides its NQN (its DH-HMAC-CHAP keys). */
struct tgt_host_auth {
	struct dhchap_key key;      /* len 0: no DH-HMAC-CHAP for this host */
	struct dhchap_key ctrl_key; /* len 0: the host cannot check us */
	uint8_t hashes, groups;     /* allowed: bit (1 << id); 0 = any */
};
struct tgt_host {
	struct tgt_host *next;
	char nqn[NVMF_NQN_SIZE];
	struct tgt_host_auth auth;
};

struct tgt_subsys {
	struct tgt_subsys *next;
	char nqn[NVMF_NQN_SIZE];
	char serial[21];
	char model[41];
	char firmware[9];
	bool discovery;
	enum subsys_origin origin;
	atomic_int refs;
	pthread_mutex_t lock;    /* the namespace table, the hosts */
	struct tgt_ns *ns[TGT_MAX_NSID + 1];
	struct tgt_stats ended;  /* of its associations that ended (g.lock) */
	bool allow_any;          /* any host may connect (the default) */
	struct tgt_host *hosts;  /* else only these */
};

/* ---- faults (tgt_fault.c) ----------------------------------------------- */

enum fault_mode {
	F_DROP_AFTER,
	F_DROP_EVERY,
	F_DELAY,
	F_FAIL_NTH,
	F_CORRUPT_HDGST,
	F_CORRUPT_DDGST,
	F_BAD_HLEN,
	F_BAD_PLEN,
	F_C2H_UNKNOWN_CID,
	F_C2H_OVERFLOW,
	F_DOUBLE_COMPLETION,
	F_SILENT,
	F_NR
};
#define FS_IO 1u
#define FS_ADMIN 2u

struct fault {
	bool on;
	unsigned gen;            /* when it was armed: counting starts afresh */
	unsigned scope;          /* FS_IO | FS_ADMIN */
	uint32_t arg;            /* N or milliseconds */
	uint16_t status;         /* fail-nth: status field (with DNR) */
	const struct tgt_listener *lsn; /* @HOST:PORT: only its connections */
};

struct fault_set {
	struct fault f[F_NR];
	bool any;
};

extern atomic_uint fault_gen;
int fault_add(const char *spec, char *err, size_t errlen);
int fault_remove(const char *mode, char *err, size_t errlen);
void fault_snapshot(struct fault_set *fs, unsigned *gen);
void fault_describe(char *buf, size_t len);
const char *fault_name(enum fault_mode m);
/* Disarm fault m if it is still the arming gen: true for the one caller
 * that did (a fault that fires once for the whole target). */
bool fault_disarm_fired(enum fault_mode m, unsigned gen);


/* ---- controllers (associations) ----------------------------------------- */

struct tgt_conn;

struct tgt_ctrl {
	struct tgt_ctrl *next;
	uint16_t cntlid;
	struct tgt_subsys *subsys;  /* a reference */
	char hostnqn[NVMF_NQN_SIZE];
	uint8_t hostid[16];
	atomic_int refs;

	pthread_mutex_t lock;       /* everything below */
	bool dead;
	uint32_t cc, csts;
	uint32_t kato_ms;
	atomic_uint_fast64_t last_rx_ms;
	uint32_t aec;
	uint32_t nr_ioq;            /* granted by Set Features (1-based) */
	struct tgt_conn *admin;
	struct tgt_conn **ioq;      /* [1..opts.max_io_queues] */
	uint16_t aer_cid[TGT_AERL + 1];
	int nr_aer;
	uint32_t events[8];
	int nr_events;
	uint32_t aen_masked;        /* bit per AEN notice type sent, not yet cleared */
	uint32_t changed_ns[NVME_CHANGED_NS_MAX];
	uint32_t nr_changed_ns;     /* UINT32_MAX: overflow */
	struct nvme_error_log_entry errlog[TGT_ERRLOG_ENTRIES];
	uint64_t err_count;
	struct tgt_stats closed;    /* queues that have gone */
	int nr_queues_total;

	/* faults: association-wide part of the state */
	unsigned nth_gen;
	uint64_t nth_cmds;          /* fail-nth counter */
};

/* ---- connections (tgt_conn.c) ------------------------------------------- */

/* A command waiting for its data (R2T sent, H2CData expected). */
struct tgt_slot {
	bool used;
	int next_free;
	struct nvme_sqe sqe;
	struct tgt_ns *ns;       /* Write: a reference */
	uint64_t off;            /* Write: byte offset in the namespace */
	uint32_t len, rcvd;
	uint16_t status;
	bool fua;
	uint8_t *data;           /* other commands: the data (= buf), NULL for
				  * a Write, whose data goes to the namespace */
	uint8_t *buf;            /* TGT_NONDATA_MAX bytes, kept for reuse */
};

#define TX_IOV 256
#define TX_ARENA (32 * 1024)
#define TX_HOLD 32

struct ssl_st;

struct tgt_conn {
	struct tgt_conn *next;      /* g.conns */
	int fd;
	/* TLS (tgt_tls.c): NULL on a plaintext connection */
	struct ssl_st *ssl;
	bool tls_starved;           /* the last read wanted more from the socket */
	uint8_t *tls_wbuf;          /* small PDUs gathered into one record */
	char tls_hostnqn[NVMF_NQN_SIZE]; /* the host of the PSK identity */
	char tls_identity[600];     /* for the log */
	int evfd;                   /* admin queue: wakes it for AENs */
	pthread_t thread;
	atomic_bool finished;
	struct tgt_listener *lsn;
	char peer[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage local;

	struct tgt_ctrl *ctrl;      /* a reference, once connected */
	uint16_t qid;
	uint16_t sqsize;            /* entries */
	uint16_t sqhd;
	bool connected;
	bool auth_pending;          /* DH-HMAC-CHAP asked for, not yet done */
	struct tgt_auth *auth;      /* the queue's transaction (tgt_fabrics.c) */
	uint64_t accepted_ms;       /* --login-timeout counts from here */

	/* negotiated (ICReq/ICResp) */
	bool ic_done;
	bool hdgst, ddgst;
	uint32_t tx_align;          /* HPDA of the host, bytes */
	struct pdu_params rxp;

	/* receive */
	uint8_t *rx;
	size_t rx_cap, rx_off, rx_len;
	uint8_t *scratch;           /* one H2CData payload */
	struct rx_hint rxh;         /* how much a fill reads (lib/pdu.h) */
	struct busy_poll bp;        /* the receive's busy-poll (lib/busy_poll.h) */
	struct tgt_slot *slots;
	int free_slot;
	uint32_t nslots;
	uint32_t nr_pending;        /* slots in use: commands awaiting data */

	/* transmit */
	struct iovec iov[TX_IOV];
	int niov;
	size_t tx_queued;           /* bytes of small pieces the iovs hold */
	uint8_t *arena;
	size_t arena_used;
	uint8_t *rbuf[TGT_RBUF_COUNT];
	int rbuf_used;
	struct tgt_ns *hold[TX_HOLD]; /* namespaces whose RAM is being sent */
	int nhold;
	uint8_t *abuf;              /* admin data out */
	size_t abuf_cap;
	bool kill_after_flush;

	/* statistics: this thread writes, others read */
	struct tgt_stats st;

	/* faults */
	unsigned fgen;
	struct fault_set fs;
	unsigned fscope;            /* FS_IO or FS_ADMIN once connected */
	unsigned drop_gen[2];       /* drop-after, drop-every: the arming */
	uint64_t drop_done[2];      /* completions sent since */
	uint64_t delay_until_ns;
};

/* tgt_conn.c */
void *conn_thread(void *arg);
/* tgt_fabrics.c: end a queue's DH-HMAC-CHAP transaction, wiping it */
void auth_free(struct tgt_conn *c);
/* Queue a CapsuleResp (cid in host order; res = CQE dwords 0 and 1). */
void conn_complete(struct tgt_conn *c, uint16_t cid, uint16_t status,
		   uint64_t res);
/* Complete a command: error accounting and log, completion faults. */
void cmd_done(struct tgt_conn *c, const struct nvme_sqe *sqe,
	      uint16_t status, uint64_t res);
/* C2HData PDU(s) for a command: iov pieces, sent without copying. */
void conn_send_data(struct tgt_conn *c, uint16_t cid, uint32_t datao,
		    const struct iovec *iov, int iovcnt, uint32_t len,
		    bool last);
uint8_t *conn_rbuf(struct tgt_conn *c);
/* Keep a namespace reference until what is queued has been sent. */
void conn_hold_ns(struct tgt_conn *c, struct tgt_ns *ns);
uint8_t *conn_abuf(struct tgt_conn *c, size_t len);
int conn_flush(struct tgt_conn *c);
void conn_stop(struct tgt_conn *c);
bool conn_fault(struct tgt_conn *c, enum fault_mode m);
bool conn_fault_once(struct tgt_conn *c, enum fault_mode m);

/* tgt_fabrics.c */
void fabrics_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
		 const uint8_t *data, uint32_t dlen);

/* tgt_admin.c */
void admin_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
	       const uint8_t *data, uint32_t dlen);

/* tgt_ctrl.c */
struct tgt_ctrl *ctrl_new(struct tgt_subsys *s, const char *hostnqn,
			  const uint8_t hostid[16], uint32_t kato);
struct tgt_ctrl *ctrl_find(struct tgt_subsys *s, uint16_t cntlid,
			   const char *hostnqn, const uint8_t hostid[16]);
void ctrl_set_csts(struct tgt_ctrl *ctrl, uint32_t v);
void admin_events(struct tgt_conn *c);
bool ctrl_ready(struct tgt_ctrl *ctrl);
void ctrl_kill(struct tgt_ctrl *ctrl, const char *why);
void ctrl_put(struct tgt_ctrl *ctrl);
void ctrl_detach(struct tgt_conn *c);
void ctrl_ns_changed(struct tgt_ctrl *ctrl, uint32_t nsid);
void ctrl_disc_changed(struct tgt_ctrl *ctrl);
int ctrl_ana_changed(struct tgt_ctrl *ctrl, const struct tgt_listener *l);
void ctrl_log_error(struct tgt_conn *c, uint16_t cid, uint16_t status,
		    uint32_t nsid);
int ctrl_kato_check(struct tgt_conn *c);
void ctrl_stats(struct tgt_ctrl *ctrl, struct tgt_stats *st, int *queues,
		bool with_live_cpu);
/* One "key=value ..." line of an association's counters. */
int ctrl_format(char *buf, size_t len, struct tgt_ctrl *ctrl,
		const struct tgt_stats *st, int queues, const char *state);

/* tgt_io.c */
void io_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
	    const uint8_t *data, uint32_t dlen);
/* Check a Write that will arrive by R2T; on success *nsp holds a reference. */
uint16_t io_write_prep(struct tgt_conn *c, const struct nvme_sqe *sqe,
		       uint32_t dlen, struct tgt_ns **nsp, uint64_t *off);
/* Where H2CData for a Write may be received directly (NULL: use scratch). */
uint8_t *io_write_direct(struct tgt_ns *ns, uint64_t off, uint32_t len);
uint16_t io_write_data(struct tgt_ns *ns, uint64_t off, const void *buf,
		       uint32_t len);
uint16_t io_write_finish(struct tgt_ns *ns, bool fua);
void io_account_write(struct tgt_conn *c, uint32_t len, uint16_t status);
int ns_open(const struct ns_spec *spec, const char *subnqn, uint32_t nsid,
	    struct tgt_ns **out, char *err, size_t errlen);
int ns_resize(struct tgt_ns *ns, uint64_t size, char *err, size_t errlen);
void ns_put(struct tgt_ns *ns);
static inline void ns_get(struct tgt_ns *ns)
{
	atomic_fetch_add_explicit(&ns->refs, 1, memory_order_relaxed);
}
static inline uint64_t ns_blocks(struct tgt_ns *ns)
{
	return atomic_load_explicit(&ns->nblocks, memory_order_relaxed);
}
void io_init(void);
void io_fini(void);
extern const uint8_t *tgt_zero;  /* TGT_ZERO_SIZE bytes of zeros, never written */
#define TGT_ZERO_SIZE (1u << 20)

/* tgt_subsys.c */
int ns_spec_parse(const char *s, bool cli_suffixes, struct ns_spec *spec,
		  char *err, size_t errlen);
int ns_spec_option(const char *word, struct ns_spec *spec);
void ns_spec_desc(const struct ns_spec *spec, bool ro, char *buf, size_t len);
/* A size: a number with an optional K, M, G or T (and iB or B) suffix. */
int parse_size(const char *s, uint64_t *out);
struct tgt_subsys *subsys_new(const char *nqn, enum subsys_origin origin,
			      char *err, size_t errlen);
struct tgt_subsys *subsys_discovery_new(void);
struct tgt_subsys *subsys_get(const char *nqn);  /* a reference, or NULL */
void subsys_put(struct tgt_subsys *s);
struct tgt_ns *subsys_ns_get(struct tgt_subsys *s, uint32_t nsid);
int subsys_ns_add(struct tgt_subsys *s, const struct ns_spec *spec,
		  uint32_t *nsid_out, char *err, size_t errlen);
int subsys_ns_remove(struct tgt_subsys *s, uint32_t nsid, char *err,
		     size_t errlen);
int subsys_remove(const char *nqn, char *err, size_t errlen);
void subsys_set_identity(struct tgt_subsys *s, const char *serial,
			 const char *model, const char *firmware);
int subsys_check_identity(const char *what, const char *v, size_t max,
			  char *err, size_t errlen);
void ns_changed(struct tgt_subsys *s, uint32_t nsid);
int config_load(const char *path, bool initial, char *err, size_t errlen);
/* Parse the file only (nothing is created). */
int config_check(const char *path, char *err, size_t errlen);
void subsys_list(FILE *out);
void hash128(const void *a, size_t alen, const void *b, size_t blen,
	     uint64_t salt, uint8_t out[16]);

/* tgt_host.c: which hosts may connect */
int host_nqn_check(const char *hostnqn, char *err, size_t errlen);
/* One "dhchap-key=KEY" (a DHHC-1 secret or a file holding one),
 * "dhchap-ctrl-key=KEY", "dhchap-hash=sha256,...", "dhchap-dhgroup=
 * null,ffdhe2048,..." into a; err never shows a secret. */
int host_auth_opt(struct tgt_host_auth *a, const char *kv, char *err,
		  size_t errlen);
/* The host's DH-HMAC-CHAP settings when it has a secret (a copy). */
bool host_auth_get(struct tgt_subsys *s, const char *hostnqn,
		   struct tgt_host_auth *a);
void host_auth_wipe(struct tgt_host_auth *a);
/* Allow hostnqn (and from now on only the listed hosts); auth may be NULL. */
int host_add(struct tgt_subsys *s, const char *hostnqn,
	     const struct tgt_host_auth *auth, char *err,
	     size_t errlen);
int host_remove(struct tgt_subsys *s, const char *hostnqn, char *err,
		size_t errlen);
void host_allow_any(struct tgt_subsys *s, bool any);
void host_clear(struct tgt_subsys *s);
int host_set(struct tgt_subsys *s, const struct tgt_host *hosts, size_t n,
	     char *err, size_t errlen);
bool host_allowed(struct tgt_subsys *s, const char *hostnqn);
void host_list(struct tgt_subsys *s, FILE *out);

/* tgt_ana.c: ANA groups, per listener */
void ana_listener_init(struct tgt_listener *l);
/* The listener named HOST:PORT as given to -l or as bound; NULL: none. */
struct tgt_listener *ana_listener_find(const char *name);
/* Control listener-remove: close it, end its associations, drop it from
 * the discovery log (with the Discovery Log Change notice). */
int listener_remove(const char *name, char *err, size_t errlen);
/* Parse "optimized" ... "change"; 0 if none. */
uint8_t ana_state_parse(const char *s);
const char *ana_state_name(uint8_t state);
/* Set a group's state on a listener; AENs to its associations. */
int ana_set(struct tgt_listener *l, uint32_t grpid, uint8_t state,
	    char *err, size_t errlen);
/* The status of I/O to ns through c's listener: 0 or an ANA error. */
uint16_t ana_io_status(const struct tgt_conn *c, const struct tgt_ns *ns);
/* Log 0Ch for c's association as seen from c's listener. */
size_t ana_log(struct tgt_conn *c, uint8_t *buf, size_t cap, bool rgo,
	       bool rae);
void ana_list(FILE *out);

/* tgt_control.c */
int control_open(const char *path, char *err, size_t errlen);
void control_close(void);
int control_pollfds(struct pollfd *pfd, int max);
void control_handle(struct pollfd *pfd, int n);
int control_exec(const char *line, FILE *out);

/* tgt_tls.c: the secure channel */
extern int tgt_tls_derivation;   /* enum tls_psk_derivation: RFC or COMPAT */
const char *tgt_tls_mode_name(enum tgt_tls_mode m);
int tgt_tls_init(char *err, size_t errlen);
void tgt_tls_fini(void);
/* A host's PSK: an interchange string, a 0600 file holding one, or either
 * (key_value: "NVMeTLSkey-..." or a path); one key per host, the last wins. */
int tgt_tls_key_add(const char *hostnqn, const char *keystr,
		    enum subsys_origin origin, char *err, size_t errlen);
int tgt_tls_key_file(const char *hostnqn, const char *path,
		     enum subsys_origin origin, char *err, size_t errlen);
int tgt_tls_key_value(const char *hostnqn, const char *v,
		      enum subsys_origin origin, char *err, size_t errlen);
struct tls_key;
int tgt_tls_key_set(const char *hostnqn, const struct tls_key *key,
		    enum subsys_origin origin, char *err, size_t errlen);
int tgt_tls_key_remove(const char *hostnqn, char *err, size_t errlen);
void tgt_tls_key_drop(enum subsys_origin origin);
void tgt_tls_key_list(FILE *out);
/* On the connection's thread, first: per the listener's --tls, peek at
 * the first byte and run the handshake (bounded by --login-timeout).
 * 0: go on (c->ssl set for TLS); -1: close (said). */
int conn_tls_start(struct tgt_conn *c);
bool conn_tls_readable(struct tgt_conn *c);
/* recv(2)'s contract: bytes, 0 at the end, -1 with errno (EAGAIN when
 * dontwait and nothing decrypted is there). */
ssize_t conn_tls_read(struct tgt_conn *c, void *buf, size_t len, bool dontwait);
/* All of buf: 1; 0: retry with the same buf and len once the socket is
 * ready; -1: failed. */
int conn_tls_write(struct tgt_conn *c, const void *buf, size_t len);
/* What conn_tls_write() left in the write buffer, to the socket: 1 all
 * of it, 0 retry once the socket is writable, -1 failed. */
int conn_tls_flush(struct tgt_conn *c);
void conn_tls_free(struct tgt_conn *c);

/* target.c */
void stats_print(FILE *out);
int tgt_reload(char *err, size_t errlen);

/* ---- global state ------------------------------------------------------- */

struct tgt_global {
	pthread_mutex_t lock;
	struct tgt_subsys *subsystems;  /* NVM subsystems */
	struct tgt_subsys *disc;        /* the discovery subsystem */
	struct tgt_ctrl *ctrls;
	struct tgt_conn *conns;
	struct tgt_listener lsn[TGT_MAX_LISTENERS];
	int nr_lsn;
	atomic_uint_fast64_t genctr;    /* discovery log generation */
	uint16_t next_cntlid;
	uint32_t nr_conns;              /* in conns */
	int wake_fd;                    /* eventfd: a connection finished */
	uint64_t start_ms;
	/* associations that have ended, for the report at exit */
	char *history;
	size_t history_len;
	struct tgt_stats ended;
	uint64_t ended_count;
};
extern struct tgt_global g;

#endif

/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-mount internals: one association (or several, one per subsystem)
 * exposed as a FUSE tree through the libfuse3 low-level API.
 *
 *   main.c       start-up: fork, the parent waits for the daemon's word
 *   options.c    the command line and -o lists (mount(8), fstab)
 *   log.c        messages (syslog or stderr), the start-up error
 *   mountpoint.c the mount table, checks before mounting, stale mounts
 *   connect.c    connecting; a tree follows the discovery log
 *   daemon.c     connect, mount, serve, tear down
 *   worker.c     the worker threads' loop
 *   control.c    nvmeof disconnect/reconnect, a lazy unmount noticed
 *   tree.c       inodes, namespace tables and rescans, subsystem
 *                directories coming and going, attributes, names
 *   content.c    what the pseudo-files hold (Identify, logs, status)
 *   events.c     the library's callbacks and the event thread
 *   ops.c        the FUSE operations, open files' handles
 *   io.c         namespace data: read/write/RMW/fsync/fallocate, async
 *                replies
 *
 * Threads: W workers each poll() the FUSE device (shared, O_NONBLOCK) and
 * their own I/O queue of every controller (the library binds a thread to a
 * queue on first use).  A read or an aligned write is submitted and the
 * worker goes on; the completion callback replies to the kernel.  The
 * library's keep-alive thread calls our event callback, which only wakes
 * the rescan thread (events.c).
 *
 * Lock order (outer first): fctrl.ns_lock (rwlock, the namespace table)
 * -> stripe.m (range locks of one namespace, taken in ascending index)
 * -> pool.lock (free lists).  Callbacks take only stripe.m and pool.lock.
 * The receive buffers' lock (io.c) is a leaf: nothing is taken under it.
 *
 * Subsystems come and go in a tree (the discovery log changed): only the
 * event thread adds and removes them.  fs.ctrls has a fixed capacity, so
 * readers index it without a lock; a removed fctrl is marked gone and
 * stays allocated until unmount, and its association is freed only after
 * every worker has passed a quiescent point (worker.qs, odd while it
 * sleeps in poll()): a worker re-checks gone after each poll() before it
 * touches fctrl.ctrl.
 *
 * There is no global: the FUSE ops find the fs in fuse_req_userdata(), a
 * node (an inode decoded) carries it, a controller has fc->fs.
 */
#ifndef NVMEOF_FUSE_H
#define NVMEOF_FUSE_H

#define FUSE_USE_VERSION 35

#include <errno.h>
#include <stdarg.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "nvmeof.h"

#define PROG "nvmeof-mount"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* sysexits(3), as nvmeof-mount(8) documents them */
#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_CONFIG 78

/* ---- options (options.c) ---------------------------------------------- */

struct mount_opts {
	const char *source;      /* host[:port] as given */
	char host[256];
	char port[32];
	bool port_given;
	const char *mountpoint;
	char *mnt_abs;           /* realpath of mountpoint */
	const char *subnqn;
	const char *hostnqn;
	const char *hostid;
	const char *host_iface;
	const char *host_traddr;
	const char *pidfile;
	char *dhchap_secret_file;      /* absolute paths (the daemon cds to /) */
	char *dhchap_ctrl_secret_file;
	/* NVMe/TCP over TLS (-o tls, tls_key_file=, tls_psk_file=, ...) */
	bool tls;
	char *tls_key_file;            /* absolute paths, like the secrets */
	char *tls_psk_file;
	int tls_psk_derivation;        /* NVMEOF_TLS_DERIVE_* */
	int tls_identity;
	int nr_io_queues;
	int queue_size;
	int kato_ms;             /* -1: library default */
	int io_timeout_s;        /* 0: library default */
	int reconnect_delay_s;   /* -2: library default */
	int ctrl_loss_tmo_s;     /* -2: library default; -1: never give up */
	int fast_io_fail_tmo_s;  /* -2: library default; -1: off */
	int threads;             /* 0: one per I/O queue */
	int busy_poll_us;        /* -1: library default */
	bool hdr_digest, data_digest;
	bool read_only;
	bool foreground;
	bool debug;
	bool helper;             /* called as mount.fuse.nvmeof */
	int log_to;              /* LOG_TO_*: where note() writes */
	bool fake;               /* mount -f: do nothing */
	char *fuse_opts;         /* comma list passed to libfuse */
	bool have_fsname, have_subtype;
	/* multipath: every address of the source (host1:p1,host2:p2), the
	 * first being host/port above; -o iopolicy= */
	char *paths[NVMEOF_MPATH_MAX_PATHS];
	unsigned nr_paths;
	const char *iopolicy;
};

/* Where the daemon's messages go (-o log=). */
enum { LOG_TO_AUTO, LOG_TO_STDERR, LOG_TO_SYSLOG };

/* 0 to go on, 1 to exit 0 (help, version), -1 on a usage error (said). */
int parse_args(struct mount_opts *o, int argc, char **argv);

/* ---- messages (log.c) ------------------------------------------------- */

void log_set_debug(bool on);
/* Syslog or stderr, as -o log= and /dev/log say (before any thread). */
void log_setup(const struct mount_opts *o);
/* Whether a daemon keeps its standard error (log_setup chose stderr, and
 * it is not a pipe unless log=stderr). */
bool keep_stderr(const struct mount_opts *o);
/* libfuse's messages; the first error of start-up becomes ours. */
void fuse_log_cb(enum fuse_log_level level, const char *fmt, va_list ap);
/* Why start-up failed, said once to the parent (set_err) or "". */
void set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *startup_err(void);
void log_started(void);

/* ---- the mount point (mountpoint.c) ---------------------------------- */

struct mnt_entry {
	unsigned major, minor;   /* the file system's device */
	char mountpoint[4096];
	char fstype[64];         /* fuse.nvmeof for ours */
	char super_opts[512];    /* user_id=, group_id=, ... */
};

/* fn for each line of /proc/self/mountinfo until it returns true: 1 then,
 * 0 at the end, a negative errno if the table cannot be read. */
int mountinfo_scan(bool (*fn)(const struct mnt_entry *e, void *arg),
		   void *arg);
/* The file system mounted on top at path (absolute, as the table spells
 * it). */
bool mountinfo_find(const char *path, struct mnt_entry *out);
/* 1 if a FUSE file system of device major:minor is mounted anywhere. */
int mountinfo_has_dev(unsigned major, unsigned minor);
bool mnt_is_fuse(const struct mnt_entry *e);
long mnt_user_id(const struct mnt_entry *e);
/* Before mounting: a directory with nothing mounted on it (a stale nvmeof
 * mount of this user is cleared); sets o->mnt_abs.  0 or -1 (said). */
int check_mountpoint(struct mount_opts *o);
int check_dev_fuse(void);

/* ---- connecting (connect.c), the daemon (daemon.c), control.c -------- */

struct fs;
/* Connect what o names; on failure the reason is set (set_err). */
int connect_all(struct fs *fs, const struct mount_opts *o);
/* A session with our ops and options (not mounted); NULL on a bad option. */
struct fuse_session *new_session(const struct mount_opts *o,
				 struct fs *fs);
/* Connect, mount, serve; report_fd: where the waiting parent hears the
 * outcome of start-up (-1 in the foreground).  The exit status. */
int daemon_run(struct mount_opts *o, int report_fd);
/* The verbs the main thread runs (control_run: true to stop). */
bool control_run(struct fs *fs);
void fail_all(struct fs *fs, const char *why);
void fail_down(struct fs *fs, const char *why);  /* those not live */
/* The mount's device in the mount table, and whether it is still there. */
bool find_own_mount(struct fs *fs, const char *mnt);
bool still_mounted(struct fs *fs);

/* ---- the tree (tree.c, content.c, events.c, ops.c) --------------------- */

#define NR_STRIPES 64
#define STRIPE_SHIFT 16      /* range-lock granule: 64 KiB of the namespace */

/* Range locks of one namespace: an aligned async write holds its stripes
 * shared (a count) while in flight; a read-modify-write, Write Zeroes or a
 * write that found a stripe busy holds them exclusive. */
struct stripe {
	pthread_mutex_t m;
	pthread_cond_t cond;
	int shared;
	bool excl;
};

/* A namespace as shown.  Never freed while mounted (a removed namespace
 * is only marked absent), so an I/O in flight never sees it vanish. */
struct fns {
	struct fctrl *fc;
	uint32_t nsid;
	bool present;
	bool ro;                 /* write protected (or -r) */
	bool rzad;               /* reads return zeroes after deallocate */
	bool no_dsm, no_wz;      /* the controller refused Deallocate / Write
				  * Zeroes here: zero by writing (atomic) */
	uint32_t lba_size;
	uint32_t lba_shift;
	uint64_t size;           /* bytes; read atomically */
	uint64_t generation;
	struct stripe stripes[NR_STRIPES];
};

struct fctrl {
	struct fs *fs;
	unsigned idx;
	/* The paths to the subsystem (the namespace files' I/O goes through
	 * the group); ctrl is one of them for admin commands and status. */
	struct nvmeof_mpath *mp;
	struct nvmeof_ctrl *ctrl;
	char name[NVMEOF_NQN_MAX + 1]; /* directory name in a multi tree */
	char addr[300];          /* traddr:trsvcid */
	uint8_t idctrl[4096];
	uint32_t elpe;           /* error log entries (ELPE + 1) */
	bool ana;                /* CMIC bit 3 */
	pthread_rwlock_t ns_lock;
	struct fns **ns;         /* sorted by nsid, present or not */
	size_t nr_ns, ns_cap;
	bool rescan;             /* an event asked for a rescan */
	unsigned state_gen;      /* bumped on each change of state (atomic) */
	bool gone;               /* no longer listed: shown nowhere (atomic) */
	struct fctrl *grave_next; /* replaced in its slot; freed at unmount */
};

/* The association for admin commands: a live path of the group (the
 * first), else fc->ctrl. */
static inline struct nvmeof_ctrl *fctrl_admin(struct fctrl *fc)
{
	struct nvmeof_mpath *mp = __atomic_load_n(&fc->mp, __ATOMIC_ACQUIRE);
	struct nvmeof_ctrl *c = mp ? nvmeof_mpath_ctrl(mp) : NULL;

	return c ? c : fc->ctrl;
}

/* At most this many subsystem directories over a mount's life (a subsystem
 * that comes back takes its old slot). */
#define MAX_CTRLS 1024

struct worker;

struct fs {
	struct mount_opts *o;
	struct fuse_session *se;
	struct fctrl **ctrls;    /* MAX_CTRLS slots */
	unsigned nr_ctrls;       /* slots used (atomic: grows while mounted) */
	struct fctrl *graveyard; /* replaced fctrls */
	bool multi;              /* the root lists one directory per subsystem */
	/* a tree's discovery association (NULL when flat or -n) */
	struct nvmeof_ctrl *disc;
	bool disc_rescan;        /* under ev_lock: read the log again */
	unsigned disc_events;    /* Discovery Log Change events (under ev_lock) */
	unsigned disc_reads, disc_added, disc_removed;
	unsigned disc_paths_removed; /* paths whose entry left the log */
	uint64_t disc_genctr;
	int64_t disc_read_ms;    /* wall clock of the last read */
	uint16_t start_status;   /* NVMe status of a failed first connect */
	char disc_err[600];      /* why the last read or connect failed */
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	int stop_fd;             /* eventfd: workers and helpers stop */
	volatile bool stopping;
	/* control requests (setxattr on the root, from a worker) for the
	 * main thread: ctl_fd is signalled, the verb is under ev_lock */
	int ctl_fd;
	int ctl_verb;            /* CTL_* */
	char ctl_addr[300];      /* reconnect HOST:PORT ("" for none) */
	bool detached;           /* no longer in the mount table */
	unsigned dev_major, dev_minor; /* the mount's device */
	/* rescans */
	pthread_t ev_thread;
	bool ev_running;
	pthread_mutex_t ev_lock;
	pthread_cond_t ev_cond;
	/* workers */
	struct worker **workers;
	int nr_workers;
	uint64_t busy_poll_ns;   /* a worker with commands in flight spins */
	unsigned max_background;
};


/* Control of a running mount: setxattr(MNT, CONTROL_XATTR, verb). */
#define CONTROL_XATTR "user.nvmeof.control"
enum { CTL_NONE, CTL_DISCONNECT, CTL_RECONNECT };
/* A verb from a worker (0, or -EINVAL for one we do not know). */
int control_request(struct fs *fs, const char *value, size_t size);

/* Inode numbers encode what a node is: no table, no forget bookkeeping. */
enum node_kind {
	K_ROOT = 0,      /* multi tree root */
	K_CTRL = 1,      /* a controller directory */
	K_ID, K_IDBIN, K_STATUS, K_LOGDIR,
	K_NSDATA, K_NSID, K_NSIDBIN,
	K_DSTATUS,       /* a tree's root status: the discovery association */
	K_LINK,          /* a tree's root: the subsystem's name without ':' */
	K_PATHS,         /* the paths to the subsystem (multipath) */
	K_LOG = 16,      /* K_LOG + 2 * log index (+1: .bin) */
};

struct node {
	struct fs *fs;
	enum node_kind kind;
	struct fctrl *fc;
	uint32_t nsid;
	int log;         /* log index for K_LOG */
	bool bin;
};

/* File handle of an open namespace data file. */
struct fh_data {
	int magic;
	struct fns *ns;
	int flags;
};
#define FH_DATA_MAGIC 0x6e736461
/* File handle of an open pseudo-file: its content at open. */
struct fh_pseudo {
	int magic;
	size_t len;
	char data[];
};
#define FH_PSEUDO_MAGIC 0x70736575

extern const struct fuse_lowlevel_ops tree_ops;   /* ops.c */

/* tree.c: what a node is, its attributes, names */
bool tree_is_dir(const struct node *n);
int tree_stat(const struct node *n, struct stat *st);
double tree_attr_timeout(const struct node *n);
/* The child name of directory dir; 0 or a negative errno. */
int tree_lookup(const struct node *dir, const char *name, struct node *out);
/* The entries of dir past cookie o, each given to fn (which returns false
 * when it has no room); false when fn stopped the listing. */
typedef bool (*tree_ent_fn)(void *arg, const char *name, const struct node *n,
			    uint64_t cookie);
bool tree_list(const struct node *dir, uint64_t o, tree_ent_fn fn, void *arg);
/* For statfs: the bytes of every present namespace and the files shown. */
void tree_usage(struct fs *fs, uint64_t *bytes, uint64_t *files);

/* content.c: the log pages of log/ (NR_LOGS, the last one ANA's) */
#define NR_LOGS 6
#define LOG_ANA 5
bool log_present(const struct fctrl *fc, int i);
const char *log_name(int i);
size_t log_size(int i);           /* of the .bin when fixed, else 0 */
/* Free the file handles whose RELEASE never came (at teardown). */
void tree_free_handles(void);
/* Handles of open files (and pseudo-files) the daemon holds now. */
unsigned tree_open_handles(void);

int tree_decode(struct fs *fs, fuse_ino_t ino, struct node *n);
fuse_ino_t tree_ino(const struct node *n);
/* Build a controller's namespace table (at mount). */
int tree_ctrl_init(struct fctrl *fc, char *err, size_t errlen);
void tree_ctrl_free(struct fctrl *fc);
/* Look up a present namespace (read lock taken and dropped). */
struct fns *tree_ns(struct fctrl *fc, uint32_t nsid);
/* Pseudo-file content, malloc()ed; 0 or a negative errno. */
int tree_content(const struct node *n, char **data, size_t *len);
/* Event callback (runs on the library's admin thread) and rescans. */
void tree_event_cb(void *arg, uint32_t aen_dw0, const uint32_t *nsids,
		   size_t nr);
void tree_state_cb(void *arg, const char *state, const char *why);
int tree_start_events(struct fs *fs);
bool tree_stop_events(struct fs *fs); /* false: still busy */
/* Rescan one controller's namespaces; tells the kernel what changed. */
int tree_rescan(struct fctrl *fc);
/* Slot i of fs.ctrls (NULL past the end); a gone one is skipped by all but
 * the event thread. */
struct fctrl *tree_ctrl_at(struct fs *fs, unsigned i);
static inline bool fctrl_gone(const struct fctrl *fc)
{
	return __atomic_load_n(&fc->gone, __ATOMIC_SEQ_CST);
}
/* A new subsystem directory on connected association c (event thread, or
 * main before the mount).  On failure c is left to the caller. */
int tree_add_ctrl(struct fs *fs, struct nvmeof_mpath *mp, char *err,
		  size_t errlen);
/* Remove a subsystem directory: its files go, open ones fail with EIO,
 * its association ends (event thread). */
void tree_remove_ctrl(struct fs *fs, struct fctrl *fc, const char *why);
/* Events of the discovery association, and the re-read (connect.c). */
void tree_disc_event_cb(void *arg, uint32_t aen_dw0, const uint32_t *nsids,
			size_t nr);
void tree_disc_state_cb(void *arg, const char *state, const char *why);
void disc_refresh(struct fs *fs);
/* ---- workers (worker.c) ------------------------------------------------ */

/* Wait until every worker has passed a quiescent point. */
bool workers_quiesce(struct fs *fs, int timeout_ms);
int start_workers(struct fs *fs, int nr, unsigned qd);
/* False if a worker is still inside the library after the grace time. */
bool stop_workers(struct fs *fs);
void free_workers(struct fs *fs);

/* ---- I/O (io.c) ------------------------------------------------------- */

/* A per-worker pool of request contexts and size-class buffers (read-
 * modify-write, and a read too big for its receive buffer).  Released from
 * whichever thread runs the completion, hence the lock (uncontended when
 * each worker owns its queue). */
#define NR_CLASSES 10        /* 4 KiB .. 2 MiB */

struct ioctx;

struct pool {
	pthread_mutex_t lock;
	struct ioctx *free_ctx;
	struct ioctx *all_ctx;   /* every context made, for teardown */
	void **bufs[NR_CLASSES];
	unsigned nbufs[NR_CLASSES];
	unsigned cap[NR_CLASSES];
};

struct worker {
	int id;
	pthread_t thread;
	struct fs *fs;
	struct pool pool;
	int inflight;            /* async commands not completed (atomic) */
	/* receive buffer handling */
	void *cur_rbuf;
	bool rbuf_taken;
	uint64_t nreq;           /* FUSE requests processed */
	uint64_t nwake;          /* poll() returns */
	uint64_t ntimeout;       /* ... by the in-flight timeout alone */
	uint64_t neagain;        /* lost the race for a FUSE request */
	unsigned long qs;        /* odd while in poll(); bumped around it */
};

extern __thread struct worker *tls_worker;

int pool_init(struct pool *p, unsigned qd);
/* Answer EIO to the requests whose commands never completed (after the
 * association is gone, so no callback can still come), then free all. */
void pool_fini(struct pool *p);
/* The FUSE receive buffers, shared by all workers: at most cap kept free.
 * io_rbuf_get() returns NULL when none is free (libfuse makes one). */
int io_rbufs_init(unsigned cap);
void io_rbufs_fini(void);
void *io_rbuf_get(void);
void io_rbuf_put(void *b);
/* For the status file: receive buffers made, KiB of data buffers held. */
void io_buffer_stats(unsigned *nr_rbufs, size_t *kib);

void io_read(fuse_req_t req, struct fns *ns, size_t size, off_t off);
void io_write(fuse_req_t req, struct fns *ns, const char *buf, size_t size,
	      off_t off, int flags);
void io_fsync(fuse_req_t req, struct fns *ns);
void io_fallocate(fuse_req_t req, struct fns *ns, int mode, off_t off,
		  off_t len);
void io_ns_init(struct fns *ns);
void io_ns_fini(struct fns *ns);
/* Poll this thread's queues (completions run their callbacks). */
void io_poll_all(struct fs *fs, int timeout_ms);

/* A library error (negative errno) as a positive errno for FUSE.  The
 * transport's troubles (reset, timeout, protocol) are I/O errors to the
 * file's user, as they are for a disk. */
static inline int fuse_errno(int rc)
{
	int e = rc < 0 ? -rc : rc;

	switch (e) {
	case ECONNRESET: case ECONNREFUSED: case ECONNABORTED: case EPIPE:
	case ENOTCONN: case EPROTO: case ETIMEDOUT: case EHOSTUNREACH:
	case ENETUNREACH: case ESHUTDOWN: case EBADMSG: case ENETDOWN:
	/* Invalid Namespace: it was removed under an open file, which then
	 * gets EIO like I/O on a disk that went away. */
	case ENXIO:
		return EIO;
	}
	return e > 0 && e < 1000 ? e : EIO;
}

/* host:port, with brackets around an IPv6 address ([::1]:4420). */
static inline void fmt_addr(char *buf, size_t len, const char *traddr,
			    const char *trsvcid)
{
	bool v6 = strchr(traddr, ':') != NULL;

	snprintf(buf, len, "%s%s%s:%s", v6 ? "[" : "", traddr, v6 ? "]" : "",
		 trsvcid);
}

static inline void ctrl_addr(char *buf, size_t len, struct nvmeof_ctrl *c)
{
	fmt_addr(buf, len, nvmeof_ctrl_traddr(c), nvmeof_ctrl_trsvcid(c));
}

void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Always logged: stderr in the foreground, syslog (daemon) otherwise. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

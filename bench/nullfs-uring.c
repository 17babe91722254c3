/* SPDX-License-Identifier: MIT */
/*
 * nullfs-uring: bench/nullfs, served over FUSE-over-io_uring.
 *
 *   nullfs-uring [-s SIZE_MIB] [-q DEPTH] [-d] [-a] MOUNTPOINT
 *
 * The same file system as bench/nullfs (one file, n1, 1 GiB unless -s
 * says; a read answers zeros, a write "done", at once) with the same
 * connection settings (direct I/O, asynchronous direct I/O, 1 MiB
 * requests, max_background 256), but the requests do not travel by
 * read() and writev() on /dev/fuse: the daemon registers one io_uring
 * queue per CPU with the kernel and answers each request with the
 * command that also fetches the next one (FUSE_IO_URING_CMD_COMMIT_AND_
 * FETCH).  What fio measures on it is the ceiling of FUSE over io_uring
 * on this machine, to compare with bench/nullfs's.
 *
 * libfuse (3.14 in Debian 12, which predates FUSE over io_uring) only
 * mounts: fuse_session_new() and fuse_session_mount() give us the
 * /dev/fuse descriptor, fuse_session_unmount() takes the mount away.
 * The FUSE protocol itself is spoken here: FUSE_INIT on /dev/fuse (the
 * kernel only accepts ring commands once the connection is initialised),
 * with FUSE_OVER_IO_URING in the reply; then every request comes through
 * the ring of the CPU that issued it; FORGET and INTERRUPT still come
 * by /dev/fuse and are read there.
 *
 * Needs a kernel with CONFIG_FUSE_IO_URING and
 * /sys/module/fuse/parameters/enable_uring set to Y: otherwise the kernel
 * does not offer the flag in FUSE_INIT, and nullfs-uring says so, fails
 * the mount's initialisation and exits 1 (it never falls back to
 * /dev/fuse: a figure measured that way would be bench/nullfs's).
 *
 * Queue depth: -q entries per queue (default 64), each with a header
 * buffer and a 1 MiB payload buffer (allocated lazily by the kernel's
 * page faults).  A request from a CPU whose queue has no free entry
 * waits in the kernel for the next commit.
 *
 * Ends on SIGINT/SIGTERM (unmounts) or when unmounted; prints how many
 * requests went by each path.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 35
#include <dirent.h>
#include <errno.h>
#include <fuse_lowlevel.h>
#include <liburing.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <unistd.h>

#define INO_FILE 2
#define MAX_IO (1u << 20)
#define MAX_BACKGROUND 256
#define DEFAULT_DEPTH 64

/*
 * FUSE over io_uring, protocol 7.42 (Linux 6.14): the few definitions
 * that Debian 12's <linux/fuse.h> (7.38) lacks, after the kernel's
 * include/uapi/linux/fuse.h: the FUSE_INIT flag (section "INIT
 * request/reply flags", FUSE_OVER_IO_URING, bit 41, sent in flags2), and
 * the ring structures at the end of the header (fuse_uring_ent_in_out,
 * fuse_uring_req_header, enum fuse_uring_cmd, fuse_uring_cmd_req).
 */
#define NF_OVER_IO_URING (1ull << 41)
#define NF_PROTO_MINOR_URING 42
#define NF_URING_IN_OUT_HEADER_SZ 128
#define NF_URING_OP_IN_OUT_SZ 128
#define NF_IO_URING_CMD_REGISTER 1
#define NF_IO_URING_CMD_COMMIT_AND_FETCH 2
#define NF_SQE128_CMD_BYTES 80 /* the command area of a 128-byte SQE */

struct nf_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id; /* the request's unique: echoed in the commit */
	uint32_t payload_sz; /* bytes of the payload buffer in use */
	uint32_t padding;
	uint64_t reserved;
};

/* iov[0] of a REGISTER: fuse_in_header (fetch) / fuse_out_header (commit),
 * the request's fixed per-opcode argument, then the entry's in/out. */
struct nf_uring_req_header {
	char in_out[NF_URING_IN_OUT_HEADER_SZ];
	char op_in[NF_URING_OP_IN_OUT_SZ];
	struct nf_uring_ent_in_out ring_ent_in_out;
};

/* In the SQE's command area. */
struct nf_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

_Static_assert(sizeof(struct nf_uring_ent_in_out) == 32, "fuse_uring_ent_in_out");
_Static_assert(sizeof(struct nf_uring_cmd_req) == 24, "fuse_uring_cmd_req");
_Static_assert(sizeof(struct nf_uring_cmd_req) <= NF_SQE128_CMD_BYTES, "SQE128 command area");
_Static_assert(sizeof(struct fuse_in_header) <= NF_URING_IN_OUT_HEADER_SZ, "in header");

struct nf_ent {
	struct nf_uring_req_header *hdr;
	char *payload;
	struct iovec iov[2];
	size_t dirty; /* payload bytes a WRITE left there: zeroed before a READ */
};

struct nf_queue {
	unsigned qid;
	pthread_t tid;
	int started, ring_ok;
	struct io_uring ring;
	struct nf_ent *ents;
	struct nf_uring_req_header *hdrs;
	char *payloads;
	unsigned long served;
};

static char zeros[MAX_IO];
static uint64_t file_size = 1ull << 30;
static unsigned depth = DEFAULT_DEPTH;
static int fuse_fd = -1;
static pthread_t main_tid;
static struct nf_queue *queues;
static unsigned nr_queues;
static size_t payload_sz; /* per entry: max(8 KiB, max_write, max_pages pages) */
static unsigned long dev_served;
static atomic_int failed;
static cpu_set_t start_cpus;
static int defer_taskrun; /* -d */
static int no_affinity; /* -a */

static void wake_main(void)
{
	pthread_kill(main_tid, SIGUSR1);
}

/* ---- the file system: what bench/nullfs answers --------------------------- */

static void nf_attr(uint64_t ino, struct fuse_attr *a)
{
	memset(a, 0, sizeof *a);
	a->ino = ino;
	a->uid = getuid();
	a->gid = getgid();
	if (ino == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0644;
		a->nlink = 1;
		a->size = file_size;
		a->blksize = 4096;
		a->blocks = file_size / 512;
	}
}

static int nf_known(uint64_t ino)
{
	return ino == FUSE_ROOT_ID || ino == INO_FILE;
}

/* Size of the fixed argument before the variable part, per opcode: where
 * the payload starts in a /dev/fuse request (the ring has it apart). */
static size_t arg_size(uint32_t op)
{
	switch (op) {
	case FUSE_INIT: return sizeof(struct fuse_init_in);
	case FUSE_GETATTR: return sizeof(struct fuse_getattr_in);
	case FUSE_SETATTR: return sizeof(struct fuse_setattr_in);
	case FUSE_OPEN:
	case FUSE_OPENDIR: return sizeof(struct fuse_open_in);
	case FUSE_READ:
	case FUSE_READDIR: return sizeof(struct fuse_read_in);
	case FUSE_WRITE: return sizeof(struct fuse_write_in);
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR: return sizeof(struct fuse_release_in);
	case FUSE_FLUSH: return sizeof(struct fuse_flush_in);
	default: return 0; /* LOOKUP, STATFS, ...: none */
	}
}

/*
 * One request: ARG is its fixed argument, DATA/DLEN its variable part
 * (a name, a write's data).  The reply's payload goes to OUT (room for
 * OUTCAP bytes); a READ's data is left to the caller (*RDLEN bytes of
 * zeros).  Returns the payload length, or -errno.
 */
static int nf_request(const struct fuse_in_header *in, const void *arg,
		      const char *data, size_t dlen, char *out, size_t outcap,
		      size_t *rdlen, struct nf_ent *ent)
{
	*rdlen = 0;
	if (outcap < 4096)
		return -EIO;
	switch (in->opcode) {
	case FUSE_LOOKUP: {
		struct fuse_entry_out *e = (void *)out;

		if (in->nodeid != FUSE_ROOT_ID || dlen < 3 || memcmp(data, "n1", 3) != 0)
			return -ENOENT;
		memset(e, 0, sizeof *e);
		e->nodeid = INO_FILE;
		e->entry_valid = 3600;
		e->attr_valid = 3600;
		nf_attr(INO_FILE, &e->attr);
		return sizeof *e;
	}
	case FUSE_GETATTR:
	case FUSE_SETATTR: { /* truncate and the like: the size stays */
		struct fuse_attr_out *a = (void *)out;

		if (!nf_known(in->nodeid))
			return -ENOENT;
		memset(a, 0, sizeof *a);
		a->attr_valid = 3600;
		nf_attr(in->nodeid, &a->attr);
		return sizeof *a;
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out *o = (void *)out;

		if (in->opcode == FUSE_OPEN && in->nodeid != INO_FILE)
			return -EISDIR;
		memset(o, 0, sizeof *o);
		if (in->opcode == FUSE_OPEN)
			o->open_flags = FOPEN_DIRECT_IO;
		return sizeof *o;
	}
	case FUSE_READ: {
		const struct fuse_read_in *r = arg;
		uint64_t size = r->size;

		if (r->offset >= file_size)
			size = 0;
		else if (size > file_size - r->offset)
			size = file_size - r->offset;
		if (size > MAX_IO)
			size = MAX_IO;
		*rdlen = (size_t)size;
		return (int)size;
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *w = arg;
		struct fuse_write_out *o = (void *)out;

		if (w->size != dlen)
			return -EINVAL;
		if (w->offset >= file_size)
			return -ENOSPC;
		if (ent && dlen > ent->dirty)
			ent->dirty = dlen;
		memset(o, 0, sizeof *o);
		o->size = w->size;
		return sizeof *o;
	}
	case FUSE_READDIR: {
		const struct fuse_read_in *r = arg;
		struct fuse_dirent *d = (void *)out;
		size_t len = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + 2);

		if (in->nodeid != FUSE_ROOT_ID)
			return -ENOTDIR;
		if (r->offset != 0 || r->size < len)
			return 0;
		memset(out, 0, len);
		d->ino = INO_FILE;
		d->off = 1;
		d->namelen = 2;
		d->type = DT_REG;
		memcpy(d->name, "n1", 2);
		return (int)len;
	}
	case FUSE_STATFS: { /* what libfuse answers without a statfs op */
		struct fuse_statfs_out *s = (void *)out;

		memset(s, 0, sizeof *s);
		s->st.bsize = 512;
		s->st.namelen = 255;
		return sizeof *s;
	}
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_DESTROY:
		return 0;
	default:
		return -ENOSYS;
	}
}

/* ---- the rings -------------------------------------------------------------- */

static struct io_uring_sqe *ring_cmd(struct nf_queue *q, struct nf_ent *e,
				     uint32_t cmd_op, uint64_t commit_id)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct nf_uring_cmd_req *req;

	if (!sqe)
		return NULL;
	/* liburing 2.3 has no helper for IORING_OP_URING_CMD: by hand. */
	memset(sqe, 0, 2 * sizeof *sqe); /* a 128-byte SQE */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fuse_fd;
	sqe->cmd_op = cmd_op;
	sqe->user_data = (uint64_t)(uintptr_t)e;
	if (cmd_op == NF_IO_URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	}
	req = (struct nf_uring_cmd_req *)(void *)sqe->cmd;
	req->commit_id = commit_id;
	req->qid = (uint16_t)q->qid;
	return sqe;
}

/* A request on entry E: answer it into the entry and queue the commit. */
static int ring_serve(struct nf_queue *q, struct nf_ent *e)
{
	struct nf_uring_req_header *h = e->hdr;
	struct fuse_in_header in;
	struct fuse_out_header *oh = (void *)h->in_out;
	uint64_t commit = h->ring_ent_in_out.commit_id;
	size_t dlen = h->ring_ent_in_out.payload_sz, rdlen;
	int n;

	memcpy(&in, h->in_out, sizeof in);
	if (dlen > payload_sz)
		n = -EINVAL;
	else
		n = nf_request(&in, h->op_in, e->payload, dlen, e->payload,
			       payload_sz, &rdlen, e);
	if (n > 0 && rdlen && e->dirty) {
		/* the reply is zeros: wipe what a WRITE left in this buffer */
		memset(e->payload, 0, e->dirty);
		e->dirty = 0;
	}
	memset(oh, 0, sizeof *oh);
	oh->unique = in.unique;
	oh->error = n < 0 ? n : 0;
	oh->len = (uint32_t)(sizeof *oh + (n > 0 ? (size_t)n : 0));
	h->ring_ent_in_out.payload_sz = n > 0 ? (uint32_t)n : 0;
	q->served++;
	return ring_cmd(q, e, NF_IO_URING_CMD_COMMIT_AND_FETCH, commit) ? 0 : -EIO;
}

static void *queue_thread(void *arg)
{
	struct nf_queue *q = arg;
	int done = 0;

	/* One thread per CPU's queue, on that CPU when we may run there
	 * (bench/run pins the whole daemon to one CPU: then it stays). */
	if (!no_affinity && CPU_ISSET(q->qid, &start_cpus) && CPU_COUNT(&start_cpus) > 1) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(q->qid, &one);
		(void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
	}
	/* io_uring_enable_rings() is declared by liburing 2.3 but not in its
	 * library: the system call itself. */
	if (defer_taskrun && syscall(__NR_io_uring_register, q->ring.ring_fd,
				     IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0) {
		fprintf(stderr, "nullfs-uring: queue %u: enabling the ring: %s\n", q->qid,
			strerror(errno));
		done = -1;
	}
	for (unsigned i = 0; i < depth && !done; i++) {
		if (!ring_cmd(q, &q->ents[i], NF_IO_URING_CMD_REGISTER, 0)) {
			fprintf(stderr, "nullfs-uring: queue %u: no SQE to register\n", q->qid);
			done = -1;
		}
	}
	while (!done) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int rc = io_uring_submit_and_wait(&q->ring, 1);

		if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
			fprintf(stderr, "nullfs-uring: queue %u: io_uring_enter: %s\n",
				q->qid, strerror(-rc));
			done = -1;
			break;
		}
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			struct nf_ent *e = io_uring_cqe_get_data(cqe);

			seen++;
			if (cqe->res == 0) {
				if (ring_serve(q, e) < 0) {
					fprintf(stderr, "nullfs-uring: queue %u: SQ full\n", q->qid);
					done = -1;
				}
			} else if (cqe->res == -EAGAIN || cqe->res == -EINTR) {
				/* a REGISTER before the connection was initialised */
				if (!ring_cmd(q, e, NF_IO_URING_CMD_REGISTER, 0))
					done = -1;
			} else if (cqe->res == -ENOTCONN || cqe->res == -ECONNABORTED ||
				   cqe->res == -ENODEV) {
				done = 1; /* unmounted */
			} else {
				fprintf(stderr, "nullfs-uring: queue %u: ring command failed: %s\n",
					q->qid, strerror(-cqe->res));
				done = -1;
			}
		}
		io_uring_cq_advance(&q->ring, seen);
	}
	if (done < 0)
		atomic_store(&failed, 1);
	wake_main();
	return NULL;
}

static int queue_setup(struct nf_queue *q, unsigned qid)
{
	struct io_uring_params p;
	size_t hsz = (sizeof(struct nf_uring_req_header) * depth + 4095) & ~(size_t)4095;
	int rc;

	q->qid = qid;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE;
	/* -d: the kernel's work for this ring (copying a request into the
	 * entry's buffers) waits until the queue's thread waits for
	 * completions, instead of interrupting it; the thread that enables
	 * the ring is its only submitter. */
	if (defer_taskrun)
		p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			   IORING_SETUP_R_DISABLED;
	p.cq_entries = 2 * depth;
	rc = io_uring_queue_init_params(depth, &q->ring, &p);
	if (rc < 0) {
		fprintf(stderr, "nullfs-uring: io_uring_queue_init: %s\n", strerror(-rc));
		return -1;
	}
	q->ring_ok = 1;
	q->hdrs = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q->payloads = mmap(NULL, payload_sz * depth, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	q->ents = calloc(depth, sizeof *q->ents);
	if (q->hdrs == MAP_FAILED || q->payloads == MAP_FAILED || !q->ents) {
		fprintf(stderr, "nullfs-uring: out of memory for queue %u\n", qid);
		return -1;
	}
	for (unsigned i = 0; i < depth; i++) {
		struct nf_ent *e = &q->ents[i];

		e->hdr = &q->hdrs[i];
		e->payload = q->payloads + (size_t)i * payload_sz;
		e->iov[0].iov_base = e->hdr;
		e->iov[0].iov_len = sizeof *e->hdr;
		e->iov[1].iov_base = e->payload;
		e->iov[1].iov_len = payload_sz;
	}
	return 0;
}

static int rings_start(void)
{
	nr_queues = (unsigned)get_nprocs_conf(); /* the kernel's possible CPUs */
	queues = calloc(nr_queues, sizeof *queues);
	if (!queues)
		return -1;
	for (unsigned i = 0; i < nr_queues; i++) {
		if (queue_setup(&queues[i], i) < 0)
			return -1;
		if (pthread_create(&queues[i].tid, NULL, queue_thread, &queues[i]) != 0)
			return -1;
		queues[i].started = 1;
	}
	return 0;
}

/* ---- /dev/fuse: FUSE_INIT, and what does not come by the rings -------------- */

static int dev_reply(uint64_t unique, int n, const void *out, size_t outlen)
{
	struct fuse_out_header oh = { .unique = unique };
	struct iovec iov[2] = { { &oh, sizeof oh }, { (void *)out, outlen } };
	int cnt = 1;

	if (n < 0) {
		oh.error = n;
	} else if (outlen) {
		cnt = 2;
	}
	oh.len = (uint32_t)(sizeof oh + (cnt == 2 ? outlen : 0));
	return writev(fuse_fd, iov, cnt) < 0 ? -errno : 0;
}

/* FUSE_INIT: the connection as bench/nullfs's libfuse 3.14 sets it up
 * (flags, sizes), plus FUSE_OVER_IO_URING. */
static int dev_init(const struct fuse_in_header *in, const struct fuse_init_in *ii)
{
	struct fuse_init_out o;
	uint64_t kflags = ii->flags;

	if (ii->major != FUSE_KERNEL_VERSION) {
		fprintf(stderr, "nullfs-uring: FUSE protocol %u.%u, need 7.%d\n",
			ii->major, ii->minor, NF_PROTO_MINOR_URING);
		dev_reply(in->unique, -EPROTO, NULL, 0);
		return -1;
	}
	if (kflags & FUSE_INIT_EXT)
		kflags |= (uint64_t)ii->flags2 << 32;
	if (ii->minor < NF_PROTO_MINOR_URING || !(kflags & NF_OVER_IO_URING)) {
		fprintf(stderr, "nullfs-uring: the kernel (FUSE 7.%u) does not offer FUSE over "
				"io_uring: needs CONFIG_FUSE_IO_URING and "
				"/sys/module/fuse/parameters/enable_uring = Y\n", ii->minor);
		dev_reply(in->unique, -EPROTO, NULL, 0);
		return -1;
	}
	memset(&o, 0, sizeof o);
	o.major = FUSE_KERNEL_VERSION;
	o.minor = NF_PROTO_MINOR_URING;
	o.max_readahead = MAX_IO;
	o.flags = (uint32_t)(kflags & (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_AUTO_INVAL_DATA |
				       FUSE_ASYNC_DIO | FUSE_MAX_PAGES | FUSE_INIT_EXT));
	o.flags2 = (uint32_t)(NF_OVER_IO_URING >> 32);
	o.max_background = MAX_BACKGROUND;
	o.congestion_threshold = MAX_BACKGROUND * 3 / 4;
	o.max_write = MAX_IO;
	o.time_gran = 1;
	o.max_pages = (uint16_t)(MAX_IO / 4096);
	payload_sz = MAX_IO; /* max(FUSE_MIN_READ_BUFFER, max_write, max_pages pages) */
	if (dev_reply(in->unique, 0, &o, sizeof o) < 0) {
		fprintf(stderr, "nullfs-uring: FUSE_INIT reply: %s\n", strerror(errno));
		return -1;
	}
	/* The connection is initialised now: the kernel takes REGISTERs, and
	 * holds every request until each CPU's queue has an entry. */
	if (rings_start() < 0)
		return -1;
	return 0;
}

static void *dev_thread(void *arg)
{
	size_t bufsz = MAX_IO + 4096;
	char *buf = malloc(bufsz);
	char reply[4096];

	(void)arg;
	if (!buf) {
		atomic_store(&failed, 1);
		wake_main();
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fuse_fd, buf, bufsz);
		struct fuse_in_header *in = (void *)buf;
		size_t asz, rdlen;
		int n;

		if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOENT))
			continue;
		if (r < 0) {
			if (errno != ENODEV) {
				fprintf(stderr, "nullfs-uring: /dev/fuse: %s\n", strerror(errno));
				atomic_store(&failed, 1);
			}
			break;
		}
		if ((size_t)r < sizeof *in || in->len != (size_t)r) {
			fprintf(stderr, "nullfs-uring: /dev/fuse: short request\n");
			atomic_store(&failed, 1);
			break;
		}
		asz = arg_size(in->opcode);
		if ((size_t)r < sizeof *in + asz) {
			dev_reply(in->unique, -EINVAL, NULL, 0);
			continue;
		}
		if (in->opcode == FUSE_INIT) {
			if (dev_init(in, (void *)(in + 1)) < 0) {
				atomic_store(&failed, 1);
				break;
			}
			continue;
		}
		if (in->opcode == FUSE_FORGET || in->opcode == FUSE_BATCH_FORGET ||
		    in->opcode == FUSE_INTERRUPT)
			continue; /* no reply; nothing to forget or interrupt */
		dev_served++;
		n = nf_request(in, in + 1, buf + sizeof *in + asz, (size_t)r - sizeof *in - asz,
			       reply, sizeof reply, &rdlen, NULL);
		if (n > 0 && rdlen)
			dev_reply(in->unique, n, zeros, rdlen);
		else
			dev_reply(in->unique, n, reply, n > 0 ? (size_t)n : 0);
	}
	free(buf);
	wake_main();
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nullfs-uring [-s SIZE_MIB] [-q DEPTH] [-d] [-a] MOUNTPOINT\n"
		   "bench/nullfs over FUSE-over-io_uring: a FUSE daemon that answers every\n"
		   "read with zeros and every write at once, in the foreground, through one\n"
		   "io_uring queue per CPU of DEPTH entries (default %d).  Needs\n"
		   "/sys/module/fuse/parameters/enable_uring = Y.  -d: rings with\n"
		   "IORING_SETUP_DEFER_TASKRUN (and SINGLE_ISSUER).  -a: queue threads\n"
		   "not bound to their CPU (by default, as libfuse does, they are).\n",
		   DEFAULT_DEPTH);
}

int main(int argc, char **argv)
{
	char *argv0[] = { argv[0], NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv0);
	static const struct fuse_lowlevel_ops no_ops;
	struct fuse_session *se;
	const char *mnt;
	pthread_t dev_tid;
	sigset_t sigs;
	unsigned long ring_served = 0;
	int c, sig, rc = 1;

	while ((c = getopt(argc, argv, "s:q:dah")) != -1) {
		char *end;
		unsigned long long v;

		switch (c) {
		case 's':
		case 'q':
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (c == 's' && (errno || *end || v == 0 || v > (1ull << 30))) {
				fprintf(stderr, "nullfs-uring: -s %s: a size in MiB, 1 or more\n",
					optarg);
				return 64;
			}
			if (c == 'q' && (errno || *end || v == 0 || v > 4096)) {
				fprintf(stderr, "nullfs-uring: -q %s: a queue depth, 1 to 4096\n",
					optarg);
				return 64;
			}
			if (c == 's')
				file_size = v << 20;
			else
				depth = (unsigned)v;
			break;
		case 'd':
			defer_taskrun = 1;
			break;
		case 'a':
			no_affinity = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 64;
	}
	mnt = argv[optind];
	if (sched_getaffinity(0, sizeof start_cpus, &start_cpus) != 0)
		CPU_ZERO(&start_cpus);
	/* Signals go to sigwait() below only; every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	main_tid = pthread_self();

	se = fuse_session_new(&args, &no_ops, sizeof no_ops, NULL);
	if (!se)
		return 1;
	if (fuse_session_mount(se, mnt) != 0) {
		fprintf(stderr, "nullfs-uring: could not mount on %s\n", mnt);
		goto out_destroy;
	}
	fuse_fd = fuse_session_fd(se);
	if (pthread_create(&dev_tid, NULL, dev_thread, NULL) != 0) {
		fprintf(stderr, "nullfs-uring: pthread_create failed\n");
		fuse_session_unmount(se);
		goto out_destroy;
	}
	/* Until a signal, or until a thread ends (unmounted, or failed). */
	sigwait(&sigs, &sig);
	fuse_session_unmount(se); /* also the connection's end: ENODEV, ENOTCONN */
	pthread_join(dev_tid, NULL);
	for (unsigned i = 0; i < nr_queues; i++) {
		if (queues[i].started)
			pthread_join(queues[i].tid, NULL);
		if (queues[i].ring_ok)
			io_uring_queue_exit(&queues[i].ring);
		ring_served += queues[i].served;
	}
	fprintf(stderr, "nullfs-uring: %lu request(s) over io_uring", ring_served);
	for (unsigned i = 0; i < nr_queues; i++)
		fprintf(stderr, "%squeue %u: %lu", i ? ", " : " (", i, queues[i].served);
	fprintf(stderr, "%s, %lu over /dev/fuse\n", nr_queues ? ")" : "", dev_served);
	rc = atomic_load(&failed) ? 1 : 0;
out_destroy:
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	return rc;
}

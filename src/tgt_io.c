/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target: NVM command set I/O (Read, Write, Flush, Write Zeroes,
 * Dataset Management; NVMe NVM Command Set 1.0 §3) and the namespace
 * backends: a regular file, a block device, RAM, or null.
 *
 * Reads of RAM and null namespaces are sent straight from the backing
 * memory (null: one shared never-written zero region); file reads go
 * through a per-connection buffer pool.  No allocation per command.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"

#define DNR NVME_SF_DNR_BIT

const uint8_t *tgt_zero;

void io_init(void)
{
	void *p = mmap(NULL, TGT_ZERO_SIZE, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* Reading an untouched anonymous mapping costs no memory: every
	 * page is the kernel's zero page. */
	tgt_zero = p == MAP_FAILED ? calloc(1, TGT_ZERO_SIZE) : p;
}

void io_fini(void)
{
	/* the region lives as long as the process; nothing to do but be
	 * tidy for leak checkers */
	if (tgt_zero)
		munmap((void *)tgt_zero, TGT_ZERO_SIZE);
	tgt_zero = NULL;
}

/* ---- backends ----------------------------------------------------------- */

static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) { /* past the end of a shrunken file */
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

uint8_t *io_write_direct(struct tgt_ns *ns, uint64_t off, uint32_t len)
{
	(void)len;
	return ns->kind == NS_RAM ? ns->ram + off : NULL;
}

uint16_t io_write_data(struct tgt_ns *ns, uint64_t off, const void *buf,
		       uint32_t len)
{
	int rc;

	switch (ns->kind) {
	case NS_RAM:
		if (ns->ram + off != buf)
			memcpy(ns->ram + off, buf, len);
		return 0;
	case NS_NULL:
		return 0;
	default:
		rc = pwrite_full(ns->fd, buf, len, off);
		if (rc < 0) {
			warnx("namespace %u: write of %u bytes at %" PRIu64
			      ": %s", ns->nsid, len, off, strerror(-rc));
			return SF_MEDIA(NVME_SC_WRITE_FAULT);
		}
		return 0;
	}
}

static uint16_t ns_sync(struct tgt_ns *ns)
{
	if (ns->fd >= 0 && fdatasync(ns->fd) < 0) {
		warnx("namespace %u: fdatasync: %s", ns->nsid, strerror(errno));
		return SF_MEDIA(NVME_SC_WRITE_FAULT);
	}
	return 0;
}

uint16_t io_write_finish(struct tgt_ns *ns, bool fua)
{
	return fua ? ns_sync(ns) : 0;
}

/* Zero (Write Zeroes) or deallocate (DSM, Write Zeroes with DEAC) a byte
 * range.  DLFEAT says deallocated blocks read as zeros, so both end in
 * zeros: a hole where the file system or device can, zeros written where
 * it cannot. */
static uint16_t ns_zero(struct tgt_ns *ns, uint64_t off, uint64_t len,
			bool dealloc)
{
	int modes[2] = {
		dealloc ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
			  FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		dealloc ? FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE :
			  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	};

	if (!len)
		return 0;
	switch (ns->kind) {
	case NS_NULL:
		return 0;
	case NS_RAM: {
		uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t a = ROUND_UP(off, pg), b = (off + len) / pg * pg;

		if (dealloc && b > a && b - a >= 16 * pg) {
			/* give whole pages back; they read as zeros after */
			memset(ns->ram + off, 0, a - off);
			if (madvise(ns->ram + a, b - a, MADV_DONTNEED) < 0)
				memset(ns->ram + a, 0, b - a);
			memset(ns->ram + b, 0, off + len - b);
		} else {
			memset(ns->ram + off, 0, len);
		}
		return 0;
	}
	default:
		break;
	}
	for (int i = 0; i < 2; i++) {
		if (fallocate(ns->fd, modes[i], (off_t)off, (off_t)len) == 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
			break;
	}
	while (len) {
		size_t n = (size_t)MIN(len, (uint64_t)TGT_ZERO_SIZE);

		if (pwrite_full(ns->fd, tgt_zero, n, off) < 0) {
			warnx("namespace %u: writing zeros: %s", ns->nsid,
			      strerror(errno));
			return SF_MEDIA(NVME_SC_WRITE_FAULT);
		}
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- commands ----------------------------------------------------------- */

static struct tgt_ns *cmd_ns(struct tgt_conn *c, const struct nvme_sqe *sqe,
			     uint16_t *st)
{
	struct tgt_ns *ns = subsys_ns_get(c->ctrl->subsys, le32toh(sqe->nsid));

	if (!ns) {
		*st = SF_GEN(NVME_SC_INVALID_NS) | DNR;
	} else if ((*st = ana_io_status(c, ns))) {
		/* not through this path now: no DNR, another may do */
		ns_put(ns);
		ns = NULL;
	}
	return ns;
}

static uint16_t lba_check(struct tgt_ns *ns, uint64_t slba, uint64_t nlb)
{
	if (slba + nlb < slba || slba + nlb > ns_blocks(ns))
		return SF_GEN(NVME_SC_LBA_RANGE) | DNR;
	return 0;
}

/* Read and Write: namespace, protection, MDTS, SGL length, LBA range. */
static uint16_t rw_check(struct tgt_conn *c, const struct nvme_sqe *sqe,
			 uint32_t dlen, bool write, struct tgt_ns **nsp,
			 uint64_t *off, uint32_t *lenp)
{
	uint16_t st = 0;
	struct tgt_ns *ns = cmd_ns(c, sqe, &st);
	uint64_t slba = le32toh(sqe->cdw10) |
			(uint64_t)le32toh(sqe->cdw11) << 32;
	uint64_t nlb = (le32toh(sqe->cdw12) & 0xffff) + 1;
	uint64_t len, mdts = tgt_mdts_bytes();

	if (!ns)
		return st;
	len = nlb << ns->lba_shift;
	if (write && ns->ro)
		st = SF_GEN(NVME_SC_NS_WRITE_PROTECTED) | DNR;
	else if (mdts && len > mdts)
		st = SF_GEN(NVME_SC_INVALID_FIELD) | DNR;
	else if (len != dlen)
		st = SF_GEN(NVME_SC_SGL_INVALID_DATA) | DNR;
	else
		st = lba_check(ns, slba, nlb);
	if (st) {
		ns_put(ns);
		return st;
	}
	*nsp = ns;
	*off = slba << ns->lba_shift;
	*lenp = (uint32_t)len;
	return 0;
}

uint16_t io_write_prep(struct tgt_conn *c, const struct nvme_sqe *sqe,
		       uint32_t dlen, struct tgt_ns **nsp, uint64_t *off)
{
	uint32_t len;

	STAT_ADD(c->st.writes, 1);
	return rw_check(c, sqe, dlen, true, nsp, off, &len);
}

void io_account_write(struct tgt_conn *c, uint32_t len, uint16_t status)
{
	if (!status)
		STAT_ADD(c->st.wbytes, len);
}

static void io_read(struct tgt_conn *c, const struct nvme_sqe *sqe,
		    uint32_t dlen)
{
	uint16_t cid = le16toh(sqe->cid);
	struct tgt_ns *ns;
	uint64_t off;
	uint32_t len, done = 0;
	uint16_t st;

	STAT_ADD(c->st.reads, 1);
	st = rw_check(c, sqe, dlen, false, &ns, &off, &len);
	if (st) {
		cmd_done(c, sqe, st, 0);
		return;
	}
	switch (ns->kind) {
	case NS_RAM: {
		struct iovec iov = { ns->ram + off, len };

		conn_send_data(c, cid, 0, &iov, 1, len, true);
		/* the RAM stays mapped until it has been sent */
		conn_hold_ns(c, ns);
		ns = NULL;
		break;
	}
	case NS_NULL:
		while (done < len) {
			struct iovec iov[16];
			uint32_t pdu = 0;
			int n = 0;

			while (n < 16 && done + pdu < len) {
				uint32_t l = MIN(TGT_ZERO_SIZE, len - done - pdu);

				iov[n].iov_base = (void *)tgt_zero;
				iov[n++].iov_len = l;
				pdu += l;
			}
			conn_send_data(c, cid, done, iov, n, pdu,
				       done + pdu == len);
			done += pdu;
		}
		break;
	default:
		while (done < len) {
			uint32_t l = MIN(TGT_RBUF_SIZE, len - done);
			uint8_t *buf = conn_rbuf(c);
			struct iovec iov = { buf, l };
			int rc = buf ? pread_full(ns->fd, buf, l, off + done) :
				       -ENOMEM;

			if (rc < 0) {
				warnx("namespace %u: read of %u bytes at %" PRIu64
				      ": %s", ns->nsid, l, off + done,
				      strerror(-rc));
				st = SF_MEDIA(NVME_SC_READ_ERROR);
				break;
			}
			conn_send_data(c, cid, done, &iov, 1, l,
				       done + l == len);
			done += l;
		}
		break;
	}
	if (!st)
		STAT_ADD(c->st.rbytes, len);
	if (ns)
		ns_put(ns);
	cmd_done(c, sqe, st, 0);
}

static void io_write(struct tgt_conn *c, const struct nvme_sqe *sqe,
		     const uint8_t *data, uint32_t dlen)
{
	struct tgt_ns *ns;
	uint64_t off;
	uint32_t len;
	uint16_t st;

	STAT_ADD(c->st.writes, 1);
	st = rw_check(c, sqe, dlen, true, &ns, &off, &len);
	if (!st) {
		st = io_write_data(ns, off, data, len);
		if (!st)
			st = io_write_finish(ns, le32toh(sqe->cdw12) & NVME_RW_FUA);
		io_account_write(c, len, st);
		ns_put(ns);
	}
	cmd_done(c, sqe, st, 0);
}

static void io_flush(struct tgt_conn *c, const struct nvme_sqe *sqe)
{
	uint32_t nsid = le32toh(sqe->nsid);
	struct tgt_subsys *s = c->ctrl->subsys;
	struct tgt_ns *ns;
	uint16_t st = 0;

	if (nsid == 0xffffffff) { /* every namespace (VWC bits 2:1 = 11b) */
		for (uint32_t i = 1; i <= TGT_MAX_NSID; i++) {
			ns = subsys_ns_get(s, i);
			if (ns) {
				uint16_t r = ns_sync(ns);

				st = st ? st : r;
				ns_put(ns);
			}
		}
	} else {
		ns = cmd_ns(c, sqe, &st);
		if (ns) {
			st = ns_sync(ns);
			ns_put(ns);
		}
	}
	cmd_done(c, sqe, st, 0);
}

static void io_write_zeroes(struct tgt_conn *c, const struct nvme_sqe *sqe)
{
	uint16_t st = 0;
	struct tgt_ns *ns = cmd_ns(c, sqe, &st);
	uint64_t slba = le32toh(sqe->cdw10) |
			(uint64_t)le32toh(sqe->cdw11) << 32;
	uint32_t cdw12 = le32toh(sqe->cdw12);
	uint64_t nlb = (cdw12 & 0xffff) + 1;

	if (ns) {
		if (ns->ro)
			st = SF_GEN(NVME_SC_NS_WRITE_PROTECTED) | DNR;
		else
			st = lba_check(ns, slba, nlb);
		if (!st)
			st = ns_zero(ns, slba << ns->lba_shift,
				     nlb << ns->lba_shift, cdw12 & NVME_WZ_DEAC);
		if (!st)
			st = io_write_finish(ns, cdw12 & NVME_RW_FUA);
		ns_put(ns);
	}
	cmd_done(c, sqe, st, 0);
}

static void io_dsm(struct tgt_conn *c, const struct nvme_sqe *sqe,
		   const uint8_t *data, uint32_t dlen)
{
	uint32_t nr = (le32toh(sqe->cdw10) & 0xff) + 1;
	bool ad = le32toh(sqe->cdw11) & NVME_DSM_AD;
	uint16_t st = 0;
	struct tgt_ns *ns;

	if (!data || dlen < nr * sizeof(struct nvme_dsm_range)) {
		cmd_done(c, sqe, SF_GEN(NVME_SC_SGL_INVALID_DATA) | DNR, 0);
		return;
	}
	ns = cmd_ns(c, sqe, &st);
	if (!ns) {
		cmd_done(c, sqe, st, 0);
		return;
	}
	if (ad) {
		if (ns->ro)
			st = SF_GEN(NVME_SC_NS_WRITE_PROTECTED) | DNR;
		/* all ranges are checked before any is touched */
		for (uint32_t i = 0; i < nr && !st; i++)
			st = lba_check(ns, le64_get(data + 16 * i + 8),
				       le32_get(data + 16 * i + 4));
		for (uint32_t i = 0; i < nr && !st; i++)
			st = ns_zero(ns,
				     le64_get(data + 16 * i + 8) << ns->lba_shift,
				     (uint64_t)le32_get(data + 16 * i + 4)
					     << ns->lba_shift,
				     true);
	}
	ns_put(ns);
	cmd_done(c, sqe, st, 0);
}

void io_cmd(struct tgt_conn *c, const struct nvme_sqe *sqe,
	    const uint8_t *data, uint32_t dlen)
{
	switch (sqe->opcode) {
	case NVME_NVM_READ:
		io_read(c, sqe, dlen);
		return;
	case NVME_NVM_WRITE:
		io_write(c, sqe, data, dlen);
		return;
	}
	STAT_ADD(c->st.others, 1);
	switch (sqe->opcode) {
	case NVME_NVM_FLUSH:
		io_flush(c, sqe);
		return;
	case NVME_NVM_WRITE_ZEROES:
		io_write_zeroes(c, sqe);
		return;
	case NVME_NVM_DSM:
		io_dsm(c, sqe, data, dlen);
		return;
	}
	cmd_done(c, sqe, SF_GEN(NVME_SC_INVALID_OPCODE) | DNR, 0);
}

/* ---- namespaces --------------------------------------------------------- */

void ns_put(struct tgt_ns *ns)
{
	if (atomic_fetch_sub_explicit(&ns->refs, 1, memory_order_acq_rel) != 1)
		return;
	debugx("namespace %u (%s) freed", ns->nsid, ns->desc);
	if (ns->fd >= 0)
		close(ns->fd);
	if (ns->ram)
		munmap(ns->ram, ns->ram_map);
	free(ns->desc);
	free(ns);
}

static int ns_err(char *err, size_t n, struct tgt_ns *ns, const char *msg)
{
	snprintf(err, n, "%s", msg);
	if (ns->fd >= 0)
		close(ns->fd);
	free(ns->desc);
	free(ns);
	return -1;
}

int ns_open(const struct ns_spec *spec, const char *subnqn, uint32_t nsid,
	    struct tgt_ns **out, char *err, size_t errlen)
{
	struct tgt_ns *ns = calloc(1, sizeof *ns);
	uint32_t lba = spec->lba_size ? spec->lba_size : opts.lba_size;
	uint64_t size = spec->size;
	char desc[4200], msg[4400];
	struct stat st;

	if (!ns) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ns->fd = -1;
	ns->nsid = nsid;
	ns->kind = spec->kind;
	ns->ro = opts.read_only || spec->ro > 0;
	ns->anagrpid = spec->anagrpid ? spec->anagrpid : 1;
	ns->lba_shift = lba == 512 ? 9 : 12;
	atomic_init(&ns->refs, 1);

	switch (spec->kind) {
	case NS_FILE:
		if (opts.no_files) {
			snprintf(msg, sizeof msg, "file namespaces are disabled");
			return ns_err(err, errlen, ns, msg);
		}
		ns->fd = open(spec->path, (ns->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (ns->fd < 0 || fstat(ns->fd, &st) < 0) {
			snprintf(msg, sizeof msg, "cannot open %s: %s", spec->path,
				 strerror(errno));
			return ns_err(err, errlen, ns, msg);
		}
		if (S_ISBLK(st.st_mode)) {
			ns->kind = NS_BDEV;
			if (ioctl(ns->fd, BLKGETSIZE64, &size) < 0) {
				snprintf(msg, sizeof msg,
					 "cannot get the size of %s: %s",
					 spec->path, strerror(errno));
				return ns_err(err, errlen, ns, msg);
			}
		} else if (S_ISREG(st.st_mode)) {
			size = (uint64_t)st.st_size;
		} else {
			snprintf(msg, sizeof msg,
				 "%s is not a regular file or a block device",
				 spec->path);
			return ns_err(err, errlen, ns, msg);
		}
		break;
	case NS_RAM:
	case NS_NULL:
	default:
		break;
	}
	atomic_init(&ns->nblocks, size >> ns->lba_shift);
	if (ns_blocks(ns) == 0) {
		snprintf(msg, sizeof msg, "%s is smaller than one %u-byte block",
			 spec->kind == NS_FILE ? spec->path :
			 spec->kind == NS_RAM ? "the RAM size" : "the null size",
			 lba);
		return ns_err(err, errlen, ns, msg);
	}
	if (ns->kind == NS_RAM) {
		ns->ram_map = (size_t)(ns_blocks(ns) << ns->lba_shift);
		ns->ram = mmap(NULL, ns->ram_map, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);
		if (ns->ram == MAP_FAILED) {
			ns->ram = NULL;
			snprintf(msg, sizeof msg,
				 "cannot allocate %" PRIu64 " bytes of RAM: %s",
				 spec->size, strerror(errno));
			return ns_err(err, errlen, ns, msg);
		}
	}
	ns_spec_desc(spec, ns->ro, desc, sizeof desc);
	ns->desc = strdup(desc);
	/* Stable identifiers: the same subsystem, NSID and backing give the
	 * same NGUID and UUID across restarts. */
	hash128(subnqn, strlen(subnqn), desc, strlen(desc), nsid, ns->nguid);
	hash128(subnqn, strlen(subnqn), desc, strlen(desc),
		0x100000000ull | nsid, ns->uuid);
	ns->uuid[6] = (ns->uuid[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	ns->uuid[8] = (ns->uuid[8] & 0x3f) | 0x80; /* variant 1 */
	if (!ns->desc) {
		ns_put(ns);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = ns;
	return 0;
}

int ns_resize(struct tgt_ns *ns, uint64_t size, char *err, size_t errlen)
{
	struct stat st;
	uint64_t nb;

	switch (ns->kind) {
	case NS_FILE:
		if (size) {
			if (ns->ro) {
				snprintf(err, errlen, "the namespace is read-only");
				return -1;
			}
			if (ftruncate(ns->fd, (off_t)size) < 0) {
				snprintf(err, errlen, "ftruncate: %s",
					 strerror(errno));
				return -1;
			}
		} else if (fstat(ns->fd, &st) == 0) {
			size = (uint64_t)st.st_size; /* grown by someone else */
		}
		break;
	case NS_BDEV:
		if (size || ioctl(ns->fd, BLKGETSIZE64, &size) < 0) {
			snprintf(err, errlen,
				 "a block device's size is its own (give no SIZE)");
			return -1;
		}
		break;
	case NS_RAM:
		if (!size || size > ns->ram_map) {
			snprintf(err, errlen,
				 "a RAM namespace can only shrink, or grow back up to its initial %zu bytes",
				 ns->ram_map);
			return -1;
		}
		break;
	case NS_NULL:
		if (!size) {
			snprintf(err, errlen, "give the new size");
			return -1;
		}
		break;
	}
	nb = size >> ns->lba_shift;
	if (!nb) {
		snprintf(err, errlen, "smaller than one block");
		return -1;
	}
	if (ns->kind == NS_RAM && nb < ns_blocks(ns)) {
		/* blocks cut off read as zeros if it grows again */
		uint64_t from = nb << ns->lba_shift;

		ns_zero(ns, from, (ns_blocks(ns) << ns->lba_shift) - from, true);
	}
	atomic_store(&ns->nblocks, nb);
	return 0;
}

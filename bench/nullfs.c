/* SPDX-License-Identifier: MIT */
/*
 * nullfs: a FUSE daemon that does no work, for bench/run.
 *
 *   nullfs [-s SIZE_MIB] MOUNTPOINT
 *
 * Mounts a directory holding one file, n1 (1 GiB unless -s says), in the
 * foreground.  A read is answered with zeros from a static buffer and a
 * write with "done", at once: no storage, no network, one thread.  What fio
 * measures on it is the cost of the kernel's FUSE path itself (the request,
 * the daemon's read of /dev/fuse and its reply, the context switches) on
 * this machine: the most IOPS any FUSE daemon can reach here, the ceiling
 * against which nvmeof-mount and nbdfuse are measured.
 *
 * The connection is set up as nvmeof-mount sets up its own: direct I/O,
 * asynchronous direct I/O, 1 MiB requests, no splice, the same
 * max_background.  Ends on SIGINT/SIGTERM or unmount.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INO_FILE 2
#define MAX_IO (1u << 20)
#define MAX_BACKGROUND 256

static char zeros[MAX_IO];
static uint64_t file_size = 1ull << 30;

static void nf_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = MAX_IO;
	conn->max_readahead = MAX_IO;
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
				  FUSE_CAP_SPLICE_MOVE | FUSE_CAP_ATOMIC_O_TRUNC |
				  FUSE_CAP_WRITEBACK_CACHE);
	conn->max_background = MAX_BACKGROUND;
	conn->congestion_threshold = MAX_BACKGROUND * 3 / 4;
}

static int nf_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (ino == INO_FILE) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = (off_t)file_size;
		st->st_blksize = 4096;
		st->st_blocks = (blkcnt_t)(file_size / 512);
	} else {
		return -ENOENT;
	}
	return 0;
}

static void nf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof e);
	if (parent != FUSE_ROOT_ID || strcmp(name, "n1") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.ino = INO_FILE;
	e.attr_timeout = 3600;
	e.entry_timeout = 3600;
	(void)nf_stat(INO_FILE, &e.attr);
	fuse_reply_entry(req, &e);
}

static void nf_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;
	int rc = nf_stat(ino, &st);

	(void)fi;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, 3600);
}

/* truncate and the like: the size stays what it is. */
static void nf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	(void)attr;
	(void)to_set;
	nf_getattr(req, ino, fi);
}

static void nf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != INO_FILE) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void nf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (off < 0 || (uint64_t)off >= file_size)
		size = 0;
	else if (size > file_size - (uint64_t)off)
		size = (size_t)(file_size - (uint64_t)off);
	if (size > sizeof zeros)
		size = sizeof zeros;
	fuse_reply_buf(req, zeros, size);
}

static void nf_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)fi;
	if (off < 0 || (uint64_t)off >= file_size)
		fuse_reply_err(req, ENOSPC);
	else
		fuse_reply_write(req, size);
}

static void nf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char buf[512];
	size_t n = 0;
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > sizeof buf)
		size = sizeof buf;
	if (off == 0) {
		(void)nf_stat(INO_FILE, &st);
		n = fuse_add_direntry(req, buf, size, "n1", &st, 1);
		if (n > size)
			n = 0;
	}
	fuse_reply_buf(req, buf, n);
}

static const struct fuse_lowlevel_ops nf_ops = {
	.init = nf_init,
	.lookup = nf_lookup,
	.getattr = nf_getattr,
	.setattr = nf_setattr,
	.open = nf_open,
	.read = nf_read,
	.write = nf_write,
	.readdir = nf_readdir,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: nullfs [-s SIZE_MIB] MOUNTPOINT\n"
		   "A FUSE daemon that answers every read with zeros and every write\n"
		   "at once, in the foreground: the FUSE ceiling for bench/run.\n");
}

int main(int argc, char **argv)
{
	char *argv0[] = { argv[0], NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv0);
	struct fuse_session *se;
	const char *mnt;
	int c, rc = 1;

	while ((c = getopt(argc, argv, "s:h")) != -1) {
		char *end;
		unsigned long long mib;

		switch (c) {
		case 's':
			errno = 0;
			mib = strtoull(optarg, &end, 10);
			if (errno || *end || mib == 0 || mib > (1ull << 30)) {
				fprintf(stderr, "nullfs: -s %s: a size in MiB, 1 or more\n",
					optarg);
				return 64;
			}
			file_size = mib << 20;
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
	se = fuse_session_new(&args, &nf_ops, sizeof nf_ops, NULL);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, mnt) != 0) {
		fprintf(stderr, "nullfs: could not mount on %s\n", mnt);
		goto out_signals;
	}
	rc = fuse_session_loop(se) < 0 ? 1 : 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return rc;
}

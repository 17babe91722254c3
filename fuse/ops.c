/* SPDX-License-Identifier: MIT */
/*
 * The FUSE operations: each a short function over the tree (tree.c), the
 * contents (content.c) and the I/O (io.c), answering with the library's
 * errors as errno values (fuse_errno).  Open files' handles live here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fuse.h"

#define ENTRY_TIMEOUT 1.0

/* ---- open file handles ------------------------------------------------------ */

/* Every handle is on a list: at unmount the kernel drops the RELEASE
 * requests it has not handed over yet (a file closed just before), so
 * teardown frees what is left instead of leaking it. */
struct fh_track {
	struct fh_track *prev, *next;
};
static struct fh_track fh_all = { &fh_all, &fh_all };
static unsigned fh_count;
static pthread_mutex_t fh_lock = PTHREAD_MUTEX_INITIALIZER;

unsigned tree_open_handles(void)
{
	unsigned n;

	pthread_mutex_lock(&fh_lock);
	n = fh_count;
	pthread_mutex_unlock(&fh_lock);
	return n;
}

static void *fh_alloc(size_t n)
{
	struct fh_track *t = malloc(sizeof *t + n);

	if (!t)
		return NULL;
	pthread_mutex_lock(&fh_lock);
	t->next = fh_all.next;
	t->prev = &fh_all;
	fh_all.next->prev = t;
	fh_all.next = t;
	fh_count++;
	pthread_mutex_unlock(&fh_lock);
	return t + 1;
}

static void fh_free(void *h)
{
	struct fh_track *t = (struct fh_track *)h - 1;

	pthread_mutex_lock(&fh_lock);
	t->prev->next = t->next;
	t->next->prev = t->prev;
	fh_count--;
	pthread_mutex_unlock(&fh_lock);
	free(t);
}

void tree_free_handles(void)
{
	while (fh_all.next != &fh_all)
		fh_free(fh_all.next + 1);
}

/* ---- operations ------------------------------------------------------------ */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	/* 1 MiB requests: libfuse derives max_pages (256) from max_write. */
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* Without it an io_submit() of O_DIRECT I/O waits for each request:
	 * queue depth through libaio needs it. */
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* O_TRUNC comes as a setattr we ignore: a namespace keeps its size
	 * (dd without conv=notrunc must not make the kernel think it is 0). */
	conn->want &= ~(unsigned)FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
				  FUSE_CAP_SPLICE_MOVE);
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* Background requests (readahead, async direct I/O) in flight: at
	 * least what the queues can carry. */
	conn->max_background = fs->max_background;
	conn->congestion_threshold = fs->max_background * 3 / 4;
	dbg("init: protocol 7.%u, max_write %u, max_background %u, want 0x%x",
	    conn->proto_minor, conn->max_write, conn->max_background,
	    conn->want);
}

static void reply_node_entry(fuse_req_t req, const struct node *n)
{
	struct fuse_entry_param e;
	int rc;

	memset(&e, 0, sizeof e);
	rc = tree_stat(n, &e.attr);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	e.ino = e.attr.st_ino;
	if (n->kind == K_NSDATA) {
		struct fns *ns = tree_ns(n->fc, n->nsid);

		e.generation = ns ? ns->generation : 0;
	}
	e.attr_timeout = tree_attr_timeout(n);
	e.entry_timeout = ENTRY_TIMEOUT;
	fuse_reply_entry(req, &e);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node dir, n;
	int rc = tree_decode(fuse_req_userdata(req), parent, &dir);

	if (rc == 0)
		rc = tree_lookup(&dir, name, &n);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_node_entry(req, &n);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);

	(void)fi;
	if (rc == 0)
		rc = tree_stat(&n, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, tree_attr_timeout(&n));
}

/* The size of a namespace cannot change: truncation to its size or less
 * (O_TRUNC, dd without conv=notrunc) is accepted and does nothing, as on a
 * block device; beyond it is EFBIG.  Mode, owner and times are ignored. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct node n;
	struct stat st;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);

	(void)fi;
	if (rc == 0)
		rc = tree_stat(&n, &st);
	if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		if (n.kind != K_NSDATA)
			rc = tree_is_dir(&n) ? -EISDIR : -EACCES;
		else if (attr->st_size > st.st_size)
			rc = -EFBIG;
		else if (n.fs->o->read_only || !(st.st_mode & 0200))
			rc = -EROFS;
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, tree_attr_timeout(&n));
}

struct dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size, pos;
};

/* Append one entry; false when the reply buffer is full. */
static bool dirbuf_add(void *arg, const char *name, const struct node *n,
		       uint64_t cookie)
{
	struct dirbuf *d = arg;
	struct stat st;
	size_t l;

	memset(&st, 0, sizeof st);
	st.st_ino = tree_ino(n);
	st.st_mode = tree_is_dir(n) ? S_IFDIR :
		     n->kind == K_LINK ? S_IFLNK : S_IFREG;
	l = fuse_add_direntry(d->req, d->buf + d->pos, d->size - d->pos, name,
			      &st, (off_t)cookie);
	if (l > d->size - d->pos)
		return false;
	d->pos += l;
	return true;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dirbuf d = { .req = req, .size = size };
	struct node dir;
	int rc = tree_decode(fuse_req_userdata(req), ino, &dir);

	(void)fi;
	if (rc == 0 && !tree_is_dir(&dir))
		rc = -ENOTDIR;
	if (rc == 0 && !(d.buf = malloc(size)))
		rc = -ENOMEM;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	tree_list(&dir, (uint64_t)off, dirbuf_add, &d);
	fuse_reply_buf(req, d.buf, d.pos);
	free(d.buf);
}

/* A namespace file: a handle naming it (writes need it writable). */
static int open_data(const struct node *n, struct fuse_file_info *fi)
{
	struct fns *ns = tree_ns(n->fc, n->nsid);
	struct fh_data *h;

	if (!ns)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY && ns->ro)
		return -EROFS;
	h = fh_alloc(sizeof *h);
	if (!h)
		return -ENOMEM;
	h->magic = FH_DATA_MAGIC;
	h->ns = ns;
	h->flags = fi->flags;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 0;
	fi->direct_io = 0;
	return 0;
}

/* A pseudo-file: one snapshot per open, which every read of it sees. */
static int open_pseudo(const struct node *n, struct fuse_file_info *fi)
{
	struct fh_pseudo *p;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	rc = tree_content(n, &data, &len);
	if (rc < 0) {
		dbg("open %llx: %s", (unsigned long long)tree_ino(n),
		    nvmeof_get_error());
		return -fuse_errno(rc);
	}
	p = fh_alloc(sizeof *p + len);
	if (!p) {
		free(data);
		return -ENOMEM;
	}
	p->magic = FH_PSEUDO_MAGIC;
	p->len = len;
	memcpy(p->data, data, len);
	free(data);
	fi->fh = (uint64_t)(uintptr_t)p;
	/* The kernel neither caches it nor trusts st_size. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);

	if (rc == 0 && tree_is_dir(&n))
		rc = -EISDIR;
	if (rc == 0)
		rc = n.kind == K_NSDATA ? open_data(&n, fi) : open_pseudo(&n, fi);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_open(req, fi) != 0)
		fh_free((void *)(uintptr_t)fi->fh);
}

/* fi's namespace handle, when its namespace is still there.  Otherwise
 * NULL, with the request answered: not_data for a handle of another kind
 * (a pseudo-file), EIO when the namespace was removed under the open file,
 * as for a disk that went away. */
static struct fh_data *live_data(fuse_req_t req, struct fuse_file_info *fi,
				 int not_data)
{
	struct fh_data *h = (struct fh_data *)(uintptr_t)fi->fh;

	if (h->magic != FH_DATA_MAGIC) {
		fuse_reply_err(req, not_data);
		return NULL;
	}
	if (!__atomic_load_n(&h->ns->present, __ATOMIC_RELAXED)) {
		fuse_reply_err(req, EIO);
		return NULL;
	}
	return h;
}

/* From a copy: the reader may close the file (RELEASE, on another
 * worker, frees p) as soon as the reply is in the kernel, and ASan's
 * writev reads the buffer after that. */
static void read_pseudo(fuse_req_t req, const struct fh_pseudo *p,
			size_t size, off_t off)
{
	char *copy;

	if (off < 0 || (size_t)off >= p->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > p->len - (size_t)off)
		size = p->len - (size_t)off;
	copy = malloc(size);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, p->data + off, size);
	fuse_reply_buf(req, copy, size);
	free(copy);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	int magic = *(int *)(uintptr_t)fi->fh;
	struct fh_data *h;

	(void)ino;
	if (magic != FH_DATA_MAGIC) {
		read_pseudo(req, (struct fh_pseudo *)(uintptr_t)fi->fh, size, off);
		return;
	}
	h = live_data(req, fi, 0);
	if (h)
		io_read(req, h->ns, size, off);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh_data *h = live_data(req, fi, EBADF);

	(void)ino;
	if (h)
		io_write(req, h->ns, buf, size, off, h->flags | fi->flags);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	fh_free((void *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct fh_data *h = (struct fh_data *)(uintptr_t)fi->fh;

	(void)ino;
	(void)datasync;
	if (h->magic == FH_DATA_MAGIC && h->ns->ro) {
		fuse_reply_err(req, 0);
		return;
	}
	h = live_data(req, fi, 0);
	if (h)
		io_fsync(req, h->ns);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length, struct fuse_file_info *fi)
{
	struct fh_data *h = live_data(req, fi, EOPNOTSUPP);

	(void)ino;
	if (h)
		io_fallocate(req, h->ns, mode, offset, length);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct node n;
	int rc = tree_decode(fuse_req_userdata(req), ino, &n);

	if (rc == 0 && n.kind != K_LINK)
		rc = -EINVAL;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, n.fc->name);
}

/* The control attribute of the root (nvmeof disconnect/reconnect); every
 * other name is not supported (ENOSYS would make the kernel stop sending
 * setxattr at all). */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	int rc = -ENOTSUP;

	(void)flags;
	if (ino == FUSE_ROOT_ID && !strcmp(name, CONTROL_XATTR)) {
		const struct fuse_ctx *ctx = fuse_req_ctx(req);

		/* The kernel checked write permission on the root (the
		 * owner's); allow_other must not let anyone else in. */
		struct fs *fs = fuse_req_userdata(req);

		rc = ctx->uid == 0 || ctx->uid == fs->uid ?
		     control_request(fs, value, size) : -EPERM;
	}
	fuse_reply_err(req, -rc);
}

/* The tree is the controller's: no name is created, removed or renamed
 * (the root is owner-writable only for the control attribute). */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EPERM);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EPERM);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, EPERM);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	uint64_t bytes, files;

	(void)ino;
	tree_usage(fuse_req_userdata(req), &bytes, &files);
	memset(&sv, 0, sizeof sv);
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = bytes / 4096;
	sv.f_files = files;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops tree_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.readdir = op_readdir,
	.statfs = op_statfs,
	.fallocate = op_fallocate,
	.setxattr = op_setxattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.create = op_create,
};

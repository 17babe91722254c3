/* SPDX-License-Identifier: MIT */
/*
 * The daemon: connect, mount, serve until unmounted, signalled, told to
 * disconnect or detached, then tear down in order (workers, events, the
 * mount, the associations).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "fuse.h"
#include "sysexit.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t init_cond = PTHREAD_COND_INITIALIZER;
static bool g_init_done;
static int g_exit = 1;            /* start-up failure status */

/* ---- the daemon ---------------------------------------------------------------- */

static void init_hook(void *userdata, struct fuse_conn_info *conn)
{
	tree_ops.init(userdata, conn);
	pthread_mutex_lock(&init_lock);
	g_init_done = true;
	pthread_cond_broadcast(&init_cond);
	pthread_mutex_unlock(&init_lock);
}

struct fuse_session *new_session(const struct mount_opts *o,
				 struct fs *fs)
{
	static struct fuse_lowlevel_ops ops;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	char *extra = NULL, *fsname = NULL;

	ops = tree_ops;
	ops.init = init_hook;
	if (fuse_opt_add_arg(&args, PROG) < 0)
		goto out;
	if (o->debug && fuse_opt_add_arg(&args, "-d") < 0)
		goto out;
	/* A read-only mount is read-only in the daemon, not in the kernel:
	 * a kernel "ro" would refuse the control attribute (EROFS). */
	/* The source may list several addresses: its commas escaped. */
	{
		size_t n = strlen(o->source), j = 0;

		fsname = malloc(2 * n + 1);
		if (!fsname)
			goto out;
		for (size_t i = 0; i < n; i++) {
			if (o->source[i] == ',' || o->source[i] == '\\')
				fsname[j++] = '\\';
			fsname[j++] = o->source[i];
		}
		fsname[j] = '\0';
	}
	if (asprintf(&extra, "%s%s%s%s%s%s", "default_permissions",
		     o->have_subtype ? "" : ",subtype=nvmeof",
		     o->have_fsname ? "" : ",fsname=",
		     o->have_fsname ? "" : fsname,
		     o->fuse_opts ? "," : "",
		     o->fuse_opts ? o->fuse_opts : "") < 0) {
		extra = NULL;
		goto out;
	}
	if (fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, extra) < 0)
		goto out;
	dbg("FUSE options: %s", extra);
	se = fuse_session_new(&args, &ops, sizeof ops, fs);
out:
	free(extra);
	free(fsname);
	fuse_opt_free_args(&args);
	return se;
}

static void teardown(struct fs *fs, bool mounted)
{
	bool stuck = false;
	unsigned i;

	dbg("stopping");
	if (fs->nr_workers && !stop_workers(fs))
		stuck = true;
	if (!tree_stop_events(fs))
		stuck = true;
	/* Lazily (MNT_DETACH, or fusermount3 -z): open files do not keep it
	 * busy.  Not when it was detached already: another file system may
	 * be mounted on that path by now. */
	if (mounted && !fs->detached)
		fuse_session_unmount(fs->se);
	if (stuck) {
		/* A thread waits inside the library for a reconnect: freeing
		 * the association under it is not safe.  The mount is gone;
		 * leave the rest to the kernel. */
		dbg("a thread is still waiting for the controller; exiting");
		_exit(0);
	}
	dbg("unmounted; disconnecting");
	if (fs->disc) {
		if (nvmeof_disconnect(fs->disc) < 0)
			dbg("disconnect discovery: %s", nvmeof_get_error());
		fs->disc = NULL;
	}
	for (i = 0; i < fs->nr_ctrls || fs->graveyard; i++) {
		struct fctrl *fc;
		int rc = 0;

		if (i < fs->nr_ctrls) {
			fc = fs->ctrls[i];
		} else {
			fc = fs->graveyard;
			fs->graveyard = fc->grave_next;
		}
		/* A removed subsystem's association is already gone. */
		if (fc->mp)
			rc = nvmeof_mpath_disconnect(fc->mp);
		if (rc < 0)
			dbg("disconnect %s: %s", fc->name, nvmeof_get_error());
		else
			dbg("disconnected %s", fc->name);
		tree_ctrl_free(fc);
		free(fc);
	}
	free(fs->ctrls);
	fs->ctrls = NULL;
	fs->nr_ctrls = 0;
	tree_free_handles();
	free_workers(fs);
	if (fs->se)
		fuse_session_destroy(fs->se);
	fs->se = NULL;
	if (fs->stop_fd >= 0)
		close(fs->stop_fd);
	if (fs->ctl_fd >= 0)
		close(fs->ctl_fd);
	pthread_mutex_destroy(&fs->ev_lock);
	pthread_cond_destroy(&fs->ev_cond);
}

/* To the parent: "O" (mounted) or "E<status> <message>". */
static void report(int fd, bool ok, const char *msg)
{
	char buf[1100];
	int n;

	if (fd < 0) {
		if (!ok)
			fprintf(stderr, PROG ": %s\n", msg);
		return;
	}
	if (ok)
		n = snprintf(buf, sizeof buf, "O");
	else
		n = snprintf(buf, sizeof buf, "E%d %s", g_exit, msg);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	(void)!write(fd, buf, (size_t)n);
	close(fd);
}

/* The mount left the mount table.  A plain unmount (or a lazy one with no
 * file open) ends the FUSE connection too, and the teardown is then the
 * orderly one: controller shutdown, as nvme disconnect does.  A lazy
 * detach with files still open leaves the connection up, and requests
 * could wait on a dead target: every association is failed instead.
 * With no handle open it can only be the former: wait for the connection
 * to end (UNMOUNT_WAIT_MS is a hang guard).  With handles open it is the
 * latter, unless a RELEASE was still on its way at the unmount: give the
 * connection UNMOUNT_GRACE_MS to end. */
#define UNMOUNT_GRACE_MS 500
#define UNMOUNT_WAIT_MS 10000

/* True when the FUSE connection ended within ms: the workers stopped, or
 * the kernel aborted the connection (POLLERR on /dev/fuse). */
static bool conn_ended(struct fs *fs, int ms)
{
	struct pollfd p[2] = {
		{ .fd = fs->stop_fd, .events = POLLIN },
		{ .fd = fuse_session_fd(fs->se), .events = 0 },
	};

	return poll(p, 2, ms) > 0;
}

/* Until unmounted (the workers stop and say so), signalled, told to
 * disconnect, or detached from the mount table. */
static void serve(struct fs *fs, int sfd)
{
	int mfd = -1;

	if (find_own_mount(fs, fs->o->mnt_abs))
		mfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	else
		dbg("%s is not in the mount table: umount -l goes unnoticed",
		    fs->o->mnt_abs);
	for (;;) {
		struct pollfd pfd[4] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = fs->stop_fd, .events = POLLIN },
			{ .fd = fs->ctl_fd, .events = POLLIN },
			/* POLLPRI: the mount table changed */
			{ .fd = mfd, .events = POLLPRI },
		};

		if (poll(pfd, 4, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				dbg("signal %u: unmounting", si.ssi_signo);
			fail_down(fs, "stopped by a signal");
			fuse_session_exit(fs->se);
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[2].revents && control_run(fs))
			break;
		if (pfd[3].revents && !still_mounted(fs)) {
			fs->detached = true;
			if (conn_ended(fs, tree_open_handles() ? UNMOUNT_GRACE_MS :
					   UNMOUNT_WAIT_MS))
				break;
			fail_all(fs, "the mount was detached");
			break;
		}
	}
	if (mfd >= 0)
		close(mfd);
}

/* The daemon's own descriptors; the signals it takes from a signalfd
 * (every thread, the library's too, inherits the mask).  The signalfd, or
 * -1. */
static int fs_init(struct fs *fs, struct mount_opts *o)
{
	sigset_t sigs;

	memset(fs, 0, sizeof *fs);
	fs->o = o;
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->mtime);
	pthread_mutex_init(&fs->ev_lock, NULL);
	pthread_cond_init(&fs->ev_cond, NULL);
	fs->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fs->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	fuse_set_log_func(fuse_log_cb);
	fs->ctrls = calloc(MAX_CTRLS, sizeof *fs->ctrls);
	if (!fs->ctrls) {
		set_err("out of memory");
		return -1;
	}
	return signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Every connected controller's namespace table; the most I/O queues and
 * the deepest queue among them size the workers and FUSE's background. */
static int ctrls_init(struct fs *fs, int *max_q, int *qd)
{
	char err[600];
	unsigned i;

	for (i = 0; i < fs->nr_ctrls; i++) {
		struct fctrl *fc = fs->ctrls[i];
		int nq = nvmeof_ctrl_nr_io_queues(fc->ctrl);

		if (tree_ctrl_init(fc, err, sizeof err) < 0) {
			set_err("%s", err);
			return -1;
		}
		if (!nq) {
			set_err("%s: the controller granted no I/O queue",
				fc->addr);
			return -1;
		}
		if (nq > *max_q)
			*max_q = nq;
		if (nvmeof_ctrl_queue_size(fc->ctrl) > *qd)
			*qd = nvmeof_ctrl_queue_size(fc->ctrl);
		dbg("%s: %s, cntlid %u, %d I/O queues of %d", fc->addr,
		    fc->name, nvmeof_ctrl_cntlid(fc->ctrl), nq,
		    nvmeof_ctrl_queue_size(fc->ctrl));
	}
	fs->busy_poll_ns = (uint64_t)(fs->o->busy_poll_us < 0 ? NVMEOF_BUSY_POLL_US :
				      fs->o->busy_poll_us) * 1000u;
	fs->max_background = (unsigned)(*max_q * *qd);
	if (fs->max_background < 64)
		fs->max_background = 64;
	if (fs->max_background > 1024)
		fs->max_background = 1024;
	return 0;
}

/* The session, mounted; its device non-blocking, as every worker shares
 * it (a read that lost the race must return EAGAIN, not sleep). */
static int session_mount(struct fs *fs, bool *mounted)
{
	int fd, fl;

	fs->se = new_session(fs->o, fs);
	if (!fs->se) {
		if (!startup_err()[0])
			set_err("cannot set up FUSE (bad -o option?)");
		return -1;
	}
	if (fuse_session_mount(fs->se, fs->o->mnt_abs) != 0) {
		if (!startup_err()[0])
			set_err("cannot mount on %s", fs->o->mnt_abs);
		return -1;
	}
	*mounted = true;
	fd = fuse_session_fd(fs->se);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		set_err("/dev/fuse: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Usable means the kernel's INIT has been answered. */
static int wait_init(const struct mount_opts *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&init_lock);
	while (!g_init_done &&
	       pthread_cond_timedwait(&init_cond, &init_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&init_lock);
	if (!g_init_done) {
		set_err("%s: the kernel did not start the FUSE session",
			o->mnt_abs);
		return -1;
	}
	return 0;
}

static int write_pidfile(const struct mount_opts *o)
{
	FILE *pf;

	if (!o->pidfile)
		return 0;
	pf = fopen(o->pidfile, "w");
	if (!pf || fprintf(pf, "%d\n", (int)getpid()) < 0 || fclose(pf) != 0) {
		set_err("pid file %s: %s", o->pidfile, strerror(errno));
		return -1;
	}
	return 0;
}

/* A daemon lets go of the caller's terminal (standard error stays when
 * messages go there, see keep_stderr) and of its directory. */
static void detach_stdio(const struct mount_opts *o)
{
	int nfd;

	if (o->foreground)
		return;
	nfd = open("/dev/null", O_RDWR);
	if (nfd >= 0) {
		dup2(nfd, 0);
		dup2(nfd, 1);
		if (!keep_stderr(o))
			dup2(nfd, 2);
		if (nfd > 2)
			close(nfd);
	}
	if (chdir("/") < 0)
		dbg("chdir /: %s", strerror(errno));
}

/* Connect, mount, serve until unmounted, signalled, disconnected or
 * detached.  report_fd: where the waiting parent hears the outcome of
 * start-up (-1 in the foreground). */
int daemon_run(struct mount_opts *o, int report_fd)
{
	struct fs fs_mem, *fs = &fs_mem;
	int sfd, rc, max_q = 1, qd = 1;
	bool mounted = false;

	sfd = fs_init(fs, o);
	if (sfd < 0 || fs->stop_fd < 0 || fs->ctl_fd < 0) {
		if (!startup_err()[0])
			set_err("eventfd/signalfd: %s", strerror(errno));
		goto fail;
	}
	rc = connect_all(fs, o);
	if (rc < 0) {
		/* as nvmeof(8) exits for the same failure */
		g_exit = nvmeof_sysexit(-rc, fs->start_status, true);
		goto fail;
	}
	if (ctrls_init(fs, &max_q, &qd) < 0 || session_mount(fs, &mounted) < 0)
		goto fail;
	rc = tree_start_events(fs);
	if (rc < 0) {
		set_err("cannot start the event thread: %s", strerror(-rc));
		goto fail;
	}
	rc = start_workers(fs, o->threads ? o->threads : max_q, (unsigned)qd);
	if (rc < 0) {
		set_err("cannot start workers: %s", strerror(-rc));
		goto fail;
	}
	if (wait_init(o) < 0 || write_pidfile(o) < 0)
		goto fail;
	log_started();
	report(report_fd, true, "");
	detach_stdio(o);
	serve(fs, sfd);
	teardown(fs, mounted);
	close(sfd);
	return 0;

fail:
	if (!startup_err()[0])
		set_err("start-up failed");
	report(report_fd, false, startup_err());
	teardown(fs, mounted);
	if (sfd >= 0)
		close(sfd);
	return g_exit;
}

/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-mount: mount an NVMe/TCP controller's namespaces with FUSE.
 *
 *   nvmeof-mount [options] host[:port] mountpoint
 *   mount.fuse.nvmeof host[:port] mountpoint [-o opts]   (from mount(8))
 *
 * Start-up order matters: libnvmeof starts a keep-alive thread at connect
 * and threads do not survive fork(), so we fork first; the child connects,
 * mounts and tells the waiting parent through a pipe "mounted" or why not.
 * The parent exits 0 only once the mount answers.
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
#include <sys/wait.h>

#include "fuse.h"

static struct mount_opts g_opts;

/* An option FUSE does not know is a usage error, found before anything is
 * connected: a session is made and thrown away. */
static int check_fuse_options(const struct mount_opts *o)
{
	struct fuse_session *se;

	fuse_set_log_func(fuse_log_cb);
	se = new_session(o, NULL);
	if (!se) {
		fprintf(stderr, PROG ": %s\n",
			startup_err()[0] ? startup_err() : "bad FUSE option");
		if (!o->helper)
			fprintf(stderr, "Try '" PROG " --help' for more information.\n");
		return -1;
	}
	fuse_session_destroy(se);
	return 0;
}

/* The parent: the daemon's word on fd, "O" (mounted) or "E<status>
 * <message>"; the exit status. */
static int parent_wait(int fd, pid_t pid)
{
	char buf[1100];
	size_t got = 0;
	ssize_t r;
	int status;

	while (got < sizeof buf - 1 &&
	       (r = read(fd, buf + got, sizeof buf - 1 - got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	buf[got] = 0;
	close(fd);
	if (got && buf[0] == 'O')
		return 0;
	waitpid(pid, &status, 0);
	if (got && buf[0] == 'E') {
		char *msg = buf + 1;
		int code = (int)strtol(msg, &msg, 10);

		fprintf(stderr, PROG ": %s\n", msg + (*msg == ' '));
		return code > 0 ? code : 1;
	}
	if (WIFSIGNALED(status))
		fprintf(stderr, PROG ": the daemon died of signal %d during start-up\n",
			WTERMSIG(status));
	else
		fprintf(stderr, PROG ": the daemon exited during start-up\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct mount_opts *o = &g_opts;
	int pfd[2], rc;
	pid_t pid;

	rc = parse_args(o, argc, argv);
	log_set_debug(o->debug);
	if (rc < 0 && !o->helper)
		fprintf(stderr, "Try '" PROG " --help' for more information.\n");
	if (rc)
		return rc > 0 ? 0 : EX_USAGE;
	if (o->fake)
		return 0;
	if (check_fuse_options(o) < 0)
		return EX_USAGE;
	if (check_mountpoint(o) < 0 || check_dev_fuse() < 0)
		return 1;
	if (o->foreground) {
		log_setup(o);
		return daemon_run(o, -1);
	}

	/* Fork before any thread exists; the child reports back. */
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		setsid();
		log_setup(o);
		rc = daemon_run(o, pfd[1]);
		free(o->mnt_abs);
		free(o->fuse_opts);
		free(o->dhchap_secret_file);
		free(o->dhchap_ctrl_secret_file);
		free(o->tls_key_file);
		free(o->tls_psk_file);
		exit(rc); /* atexit: LeakSanitizer checks the daemon too */
	}
	close(pfd[1]);
	return parent_wait(pfd[0], pid);
}

/* SPDX-License-Identifier: MIT */
#include "target_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tproc_path(void)
{
	static char p[512];
	const char *e = getenv("NVMEOF_TARGET"), *b = getenv("NVMEOF_BUILDDIR");

	if (e && *e)
		return e;
#ifdef TOP_BUILDDIR
	snprintf(p, sizeof p, "%s/src/nvmeof-target",
		 b && *b ? b : TOP_BUILDDIR);
#else
	snprintf(p, sizeof p, "%s/src/nvmeof-target", b && *b ? b : "..");
#endif
	return p;
}

int tproc_start(struct tproc *t, const char *dir, const char *const *args,
		char *msg, size_t msglen)
{
	char portfile[160];
	const char *argv[64];
	int n = 0;

	memset(t, 0, sizeof *t);
	snprintf(portfile, sizeof portfile, "%s/port", dir);
	snprintf(t->ctl, sizeof t->ctl, "%s/ctl", dir);
	snprintf(t->err, sizeof t->err, "%s/stderr", dir);
	unlink(portfile); /* of a target that ran before */
	argv[n++] = tproc_path();
	argv[n++] = "-l";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--control";
	argv[n++] = t->ctl;
	for (; args && *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;

	t->pid = fork();
	if (t->pid < 0) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		return -1;
	}
	if (t->pid == 0) {
		int e = open(t->err, O_CREAT | O_WRONLY | O_TRUNC, 0600);

		/* gone with the test, even one killed by a timeout */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (e >= 0) {
			dup2(e, 1);
			dup2(e, 2);
		}
		execv(argv[0], (char **)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(portfile, "r");
		int status;

		if (f) {
			int ok = fscanf(f, "%d", &t->port) == 1;

			fclose(f);
			if (ok && t->port > 0)
				return 0;
		}
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			snprintf(msg, msglen, "%s exited at start (see %s)",
				 argv[0], t->err);
			return -1;
		}
		usleep(10000);
	}
	snprintf(msg, msglen, "no port file from %s in 10 s", argv[0]);
	tproc_stop(t);
	return -1;
}

int tproc_stop(struct tproc *t)
{
	int status = -1;

	if (t->pid <= 0)
		return -1;
	kill(t->pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			goto done;
		usleep(10000);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
done:
	t->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	       128 + WTERMSIG(status);
}

int tproc_control(const struct tproc *t, const char *cmd, char *out,
		  size_t outlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	static char buf[128 * 1024]; /* stats: up to 64 KiB of history */
	size_t len = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1;

	buf[0] = '\0';
	if (fd < 0)
		goto out;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", t->ctl);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd) &&
	    write(fd, "\n", 1) == 1) {
		while (len < sizeof buf - 1) {
			ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				snprintf(buf + len, sizeof buf - len,
					 " [read: %s]",
					 n ? strerror(errno) : "end of file");
				break;
			}
			len += (size_t)n;
			buf[len] = '\0';
			if (!strncmp(buf, "ok\n", 3) || strstr(buf, "\nok\n")) {
				rc = 0;
				break;
			}
			if (strstr(buf, "error:")) {
				rc = 1;
				break;
			}
		}
	}
	close(fd);
out:
	if (out && outlen)
		snprintf(out, outlen, "%s", buf);
	return rc;
}

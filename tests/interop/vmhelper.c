/* vmhelper — small network and control-channel tools for tests/interop/nvmet-vm.
 *
 * Built once with `gcc -static` and used both on the host and inside the
 * guest's busybox initramfs. libc only, IPv4 numeric addresses only.
 *
 *   vmhelper relay LADDR LPORT DADDR DPORT
 *        (guest) accept TCP on LADDR:LPORT; one child per connection copies
 *        bytes both ways to DADDR:DPORT, passing half-closes on.
 *   vmhelper connect DADDR DPORT
 *        (host, QEMU guestfwd cmd:) copy stdin to a TCP connection and the
 *        connection to stdout, passing half-closes on.
 *   vmhelper exec SOCKET TIMEOUT COMMAND
 *        (host) run COMMAND in the guest over the control serial port (a QEMU
 *        chardev on the unix socket SOCKET), print its output, exit with its
 *        status; 124 on timeout, 125 when the channel fails.
 *   vmhelper freeport
 *        (host) print a TCP port that is free on 127.0.0.1 right now.
 *   vmhelper dm create NAME DEVICE SECTORS | dm suspend NAME |
 *               dm resume NAME | dm remove NAME
 *        (guest; busybox has no dmsetup) a device-mapper linear device over
 *        DEVICE (create prints its /dev/dm-N), and holding its I/O: while it
 *        is suspended, I/O sent to it waits, and nothing fails, until resume.
 *
 * The control protocol (guest side in guest-init.sh):
 *   host -> guest  "\nNVMETVM-CMD <tok>\n" <command lines> "NVMETVM-END <tok>\n"
 *   guest -> host  "\036NVMETVM-BEGIN <tok>\n" <output> "\036NVMETVM-RC <tok> <rc>\n"
 * Anything before the BEGIN marker (late output of an earlier command that
 * timed out) is dropped; tok is random per call.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RELAY_BUF (64 * 1024)

static const char *prog = "vmhelper";

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(125);
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 1 || v > 65535) {
		fprintf(stderr, "%s: bad port '%s'\n", prog, s);
		exit(2);
	}
	return (int)v;
}

static struct sockaddr_in make_addr(const char *addr, const char *port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)parse_port(port));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "%s: bad IPv4 address '%s'\n", prog, addr);
		exit(2);
	}
	return sa;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* One direction of a byte pipe: src -> buf -> dst. */
struct dir {
	int src, dst;
	int eof;	/* src said end of stream */
	int shut;	/* end of stream passed on to dst */
	size_t len, off;
	unsigned char buf[RELAY_BUF];
};

static void dir_shut(struct dir *d)
{
	d->shut = 1;
	/* A socket (or socketpair) gets a half-close; anything else a close. */
	if (shutdown(d->dst, SHUT_WR) < 0 && errno == ENOTSOCK)
		close(d->dst);
}

/* Copy both ways until both ends have closed. Returns 0, or -1 on an error. */
static int pump(struct dir *d, int nd)
{
	for (;;) {
		struct pollfd pfd[4];
		int n = 0, idx[4][2];
		int alive = 0;

		for (int i = 0; i < nd; i++) {
			idx[i][0] = idx[i][1] = -1;
			if (d[i].shut)
				continue;
			alive = 1;
			if (d[i].len == 0 && !d[i].eof) {
				pfd[n] = (struct pollfd){ .fd = d[i].src, .events = POLLIN };
				idx[i][0] = n++;
			}
			if (d[i].len) {
				pfd[n] = (struct pollfd){ .fd = d[i].dst, .events = POLLOUT };
				idx[i][1] = n++;
			}
		}
		if (!alive)
			return 0;
		for (int i = 0; i < nd; i++)
			if (!d[i].shut && d[i].eof && d[i].len == 0)
				dir_shut(&d[i]);
		if (n == 0)
			continue;
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < nd; i++) {
			struct dir *x = &d[i];

			if (idx[i][0] >= 0 && pfd[idx[i][0]].revents) {
				ssize_t r = read(x->src, x->buf, sizeof(x->buf));

				if (r > 0) {
					x->len = (size_t)r;
					x->off = 0;
				} else if (r == 0) {
					x->eof = 1;
				} else if (errno != EAGAIN && errno != EINTR) {
					return -1;
				}
			}
			if (idx[i][1] >= 0 && pfd[idx[i][1]].revents) {
				ssize_t w = write(x->dst, x->buf + x->off, x->len);

				if (w > 0) {
					x->off += (size_t)w;
					x->len -= (size_t)w;
				} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
					return -1;
				}
			}
			if (x->eof && x->len == 0 && !x->shut)
				dir_shut(x);
		}
	}
}

static int tcp_connect(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	set_nodelay(fd);
	return fd;
}

static int cmd_relay(char **argv)
{
	struct sockaddr_in la = make_addr(argv[0], argv[1]);
	struct sockaddr_in da = make_addr(argv[2], argv[3]);
	struct sigaction sa;
	int one = 1, lfd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&la, sizeof(la)) < 0)
		die("bind");
	if (listen(lfd, 64) < 0)
		die("listen");
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (errno != EINTR && errno != ECONNABORTED)
					usleep(100000);
				continue;
			}
			die("accept");
		}
		pid = fork();
		if (pid == 0) {
			static struct dir d[2];
			int u;

			close(lfd);
			set_nodelay(c);
			u = tcp_connect(&da);
			if (u < 0)
				_exit(1); /* upstream not listening: the client sees a close */
			set_nonblock(c);
			set_nonblock(u);
			d[0] = (struct dir){ .src = c, .dst = u };
			d[1] = (struct dir){ .src = u, .dst = c };
			_exit(pump(d, 2) ? 1 : 0);
		}
		close(c);
	}
}

static int cmd_connect(char **argv)
{
	struct sockaddr_in da = make_addr(argv[0], argv[1]);
	static struct dir d[2];
	int u;

	signal(SIGPIPE, SIG_IGN);
	u = tcp_connect(&da);
	if (u < 0)
		die("connect");
	set_nonblock(u);
	set_nonblock(STDIN_FILENO);
	set_nonblock(STDOUT_FILENO);
	d[0] = (struct dir){ .src = STDIN_FILENO, .dst = u };
	d[1] = (struct dir){ .src = u, .dst = STDOUT_FILENO };
	return pump(d, 2) ? 1 : 0;
}

static int cmd_freeport(void)
{
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);

	for (int tries = 0; tries < 200; tries++) {
		struct sockaddr_in sa;
		/* Below Linux's default ephemeral range (32768-60999). */
		int port = 20000 + (int)(rand_r(&seed) % 12000);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die("socket");
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			printf("%d\n", port);
			return 0;
		}
		close(fd);
	}
	fprintf(stderr, "%s: no free port found\n", prog);
	return 125;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_out(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* stdout gone: keep draining so the channel stays in sync */
		}
		p += w;
		n -= (size_t)w;
	}
}

static int cmd_exec(char **argv)
{
	const char *path = argv[0], *cmd = argv[2];
	char *end, tok[40], begin[64], rcmark[64], *out = NULL;
	long timeout = strtol(argv[1], &end, 10);
	size_t outlen = 0, outcap, inlen = 0, cmdlen = strlen(cmd), pos = 0;
	size_t blen, rlen;
	unsigned char rnd[8];
	struct sockaddr_un sa;
	long long deadline;
	int fd, rfd, started = 0;

	if (*argv[1] == '\0' || *end || timeout < 1) {
		fprintf(stderr, "%s: bad timeout '%s'\n", prog, argv[1]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	deadline = now_ms() + timeout * 1000;

	rfd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (rfd < 0 || read(rfd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
		long long t = now_ms() ^ ((long long)getpid() << 20);

		memcpy(rnd, &t, sizeof(rnd));
	}
	if (rfd >= 0)
		close(rfd);
	snprintf(tok, sizeof(tok), "%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
		 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	blen = (size_t)snprintf(begin, sizeof(begin), "\036NVMETVM-BEGIN %s\n", tok);
	rlen = (size_t)snprintf(rcmark, sizeof(rcmark), "\036NVMETVM-RC %s ", tok);

	/* The whole request. */
	outcap = cmdlen + 128;
	out = malloc(outcap);
	if (!out)
		die("malloc");
	outlen = (size_t)snprintf(out, outcap, "\nNVMETVM-CMD %s\n", tok);
	memcpy(out + outlen, cmd, cmdlen);
	outlen += cmdlen;
	if (cmdlen == 0 || cmd[cmdlen - 1] != '\n')
		out[outlen++] = '\n';
	outlen += (size_t)snprintf(out + outlen, outcap - outlen, "NVMETVM-END %s\n", tok);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: socket path too long: %s\n", prog, path);
		return 125;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: connect %s: %s\n", prog, path, strerror(errno));
		return 125;
	}
	set_nonblock(fd);

	/* inbuf holds what has not been printed yet: before BEGIN, everything
	 * since the last possible marker start; after it, a tail short enough
	 * to still be the start of the RC marker. */
	size_t incap = 1 << 16;
	char *in = malloc(incap + 1);

	if (!in)
		die("malloc");
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (left <= 0) {
			fprintf(stderr, "%s: timed out after %ld s waiting for the guest\n",
				prog, timeout);
			return 124;
		}
		if (pos < outlen)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if ((p.revents & POLLOUT) && pos < outlen) {
			ssize_t w = write(fd, out + pos, outlen - pos);

			if (w > 0)
				pos += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				die("write control socket");
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (inlen == incap) {
			incap *= 2;
			in = realloc(in, incap + 1);
			if (!in)
				die("realloc");
		}
		ssize_t r = read(fd, in + inlen, incap - inlen);

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("read control socket");
		}
		if (r == 0) {
			if (started)
				write_out(in, inlen);
			fprintf(stderr, "%s: control channel closed (guest gone?)\n", prog);
			return 125;
		}
		inlen += (size_t)r;
		in[inlen] = '\0';
		if (!started) {
			char *b = memmem(in, inlen, begin, blen);

			if (!b) {
				/* keep only a tail that may be a partial marker */
				if (inlen >= blen) {
					memmove(in, in + inlen - (blen - 1), blen - 1);
					inlen = blen - 1;
				}
				continue;
			}
			started = 1;
			inlen -= (size_t)(b + blen - in);
			memmove(in, b + blen, inlen);
			in[inlen] = '\0';
		}
		char *m = memmem(in, inlen, rcmark, rlen);

		if (m) {
			char *nl = memchr(m + rlen, '\n', inlen - (size_t)(m + rlen - in));

			if (!nl)
				continue; /* status not complete yet */
			write_out(in, (size_t)(m - in));
			close(fd);
			return atoi(m + rlen) & 255;
		}
		if (inlen >= rlen) {
			size_t flush = inlen - (rlen - 1);

			write_out(in, flush);
			memmove(in, in + flush, inlen - flush);
			inlen -= flush;
		}
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: %s relay LADDR LPORT DADDR DPORT\n"
		"       %s connect DADDR DPORT\n"
		"       %s exec SOCKET TIMEOUT COMMAND\n"
		"       %s freeport\n"
		"       %s dm create NAME DEVICE SECTORS | dm suspend|resume|remove NAME\n",
		prog, prog, prog, prog, prog);
	return 2;
}

/* One device-mapper ioctl on NAME; with a target, a one-line table. */
static int dm_call(unsigned long req, const char *name, uint32_t flags,
		   const char *target, uint64_t sectors, const char *params,
		   dev_t *dev)
{
	static union {
		struct dm_ioctl io;
		char buf[4096];
	} u;
	struct dm_ioctl *io = &u.io;
	int fd, rc;

	memset(&u, 0, sizeof u);
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = sizeof u;
	io->data_start = sizeof *io;
	io->flags = flags;
	snprintf(io->name, sizeof io->name, "%s", name);
	if (target) {
		struct dm_target_spec *sp = (void *)(u.buf + io->data_start);

		/* The kernel finds the first target at data_start. */
		sp->sector_start = 0;
		sp->length = sectors;
		snprintf(sp->target_type, sizeof sp->target_type, "%s", target);
		snprintf((char *)(sp + 1),
			 sizeof u - io->data_start - sizeof *sp, "%s", params);
		io->target_count = 1;
	}
	fd = open("/dev/" DM_DIR "/" DM_CONTROL_NODE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/" DM_DIR "/" DM_CONTROL_NODE);
	rc = ioctl(fd, req, io);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "%s: dm %s: %s\n", prog, name, strerror(errno));
		return 1;
	}
	if (dev)
		*dev = (dev_t)io->dev;
	return 0;
}

static int cmd_dm(int argc, char **argv)
{
	const char *op = argv[0], *name = argv[1];
	dev_t dev = 0;

	if (!strcmp(op, "create") && argc == 4) {
		char params[600], *end;
		unsigned long long sectors = strtoull(argv[3], &end, 10);

		if (!*argv[3] || *end || !sectors) {
			fprintf(stderr, "%s: bad sector count '%s'\n", prog,
				argv[3]);
			return 2;
		}
		snprintf(params, sizeof params, "%s 0", argv[2]);
		if (dm_call(DM_DEV_CREATE, name, 0, NULL, 0, NULL, &dev) ||
		    dm_call(DM_TABLE_LOAD, name, 0, "linear", sectors, params,
			    NULL) ||
		    dm_call(DM_DEV_SUSPEND, name, 0, NULL, 0, NULL, NULL)) {
			dm_call(DM_DEV_REMOVE, name, 0, NULL, 0, NULL, NULL);
			return 1;
		}
		printf("/dev/dm-%u\n", minor(dev));
		return 0;
	}
	if (argc != 2)
		return usage();
	if (!strcmp(op, "suspend"))
		return dm_call(DM_DEV_SUSPEND, name, DM_SUSPEND_FLAG, NULL, 0,
			       NULL, NULL);
	if (!strcmp(op, "resume"))
		return dm_call(DM_DEV_SUSPEND, name, 0, NULL, 0, NULL, NULL);
	if (!strcmp(op, "remove"))
		return dm_call(DM_DEV_REMOVE, name, 0, NULL, 0, NULL, NULL);
	return usage();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "relay") && argc == 6)
		return cmd_relay(argv + 2);
	if (!strcmp(argv[1], "connect") && argc == 4)
		return cmd_connect(argv + 2);
	if (!strcmp(argv[1], "exec") && argc == 5)
		return cmd_exec(argv + 2);
	if (!strcmp(argv[1], "freeport") && argc == 2)
		return cmd_freeport();
	if (!strcmp(argv[1], "dm") && argc >= 4)
		return cmd_dm(argc - 2, argv + 2);
	return usage();
}

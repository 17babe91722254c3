/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target: a userspace NVMe/TCP controller.  main(), options,
 * listeners, signals, statistics; see target.h for the thread model.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "target.h"
#include "tls_key.h"

static const char *pidfile, *portfile;
static int sig_fd = -1;

/* ---- listeners ---------------------------------------------------------- */

/* host:port, [v6]:port, host (port 4420); port 0 lets the kernel pick. */
static int parse_listen(const char *s, char *host, size_t hl, char *port,
			size_t pl, char *err, size_t errlen)
{
	char tmp[512];
	size_t n = strlen(s);

	if (nvmeof_parse_address(s, host, hl, port, pl, "4420") == 0)
		return 0;
	/* nvmeof_parse_address() takes ports 1..65535; a listener may ask
	 * for 0 (any free port, reported by --port-file). */
	if (n > 2 && n < sizeof tmp && !strcmp(s + n - 2, ":0")) {
		memcpy(tmp, s, n + 1);
		tmp[n - 1] = '1';
		if (nvmeof_parse_address(tmp, host, hl, port, pl, "4420") == 0) {
			snprintf(port, pl, "0");
			return 0;
		}
		nvmeof_parse_address(s, host, hl, port, pl, "4420");
	}
	snprintf(err, errlen, "%s", nvmeof_get_error());
	return -1;
}

static int listen_on(const char *host, const char *port, bool disc_only,
		     char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai, *a;
	struct tgt_listener *l;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int rc, fd = -1, one = 1, e = 0;

	if (g.nr_lsn == TGT_MAX_LISTENERS) {
		snprintf(err, errlen, "more than %d listeners", TGT_MAX_LISTENERS);
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot listen on %s port %s: %s", host, port,
			 gai_strerror(rc));
		return -1;
	}
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC |
						  SOCK_NONBLOCK,
			    a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (a->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%s: %s",
			 strchr(host, ':') ? "[" : "", host,
			 strchr(host, ':') ? "]" : "", port, strerror(e));
		return -1;
	}
	l = &g.lsn[g.nr_lsn];
	memset(l, 0, sizeof *l);
	l->fd = fd;
	l->portid = g.nr_lsn + 1;
	l->discovery_only = disc_only;
	ana_listener_init(l);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	l->family = ss.ss_family;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, l->addr, sizeof l->addr);
		l->port = ntohs(s6->sin6_port);
		l->wildcard = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, l->addr, sizeof l->addr);
		l->port = ntohs(s4->sin_port);
		l->wildcard = s4->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	g.nr_lsn++;
	infox("listening on %s%s%s:%u%s", l->family == AF_INET6 ? "[" : "",
	      l->addr, l->family == AF_INET6 ? "]" : "", l->port,
	      disc_only ? " (discovery only)" : "");
	return 0;
}

static void fmt_peer(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

static void accept_conns(struct tgt_listener *l)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer, ll;
		struct tgt_conn *c;
		char line[INET6_ADDRSTRLEN + 8];
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &pl,
				 SOCK_CLOEXEC), one = 1, rc;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				warnx("accept: %s", strerror(errno));
			return;
		}
		if (__atomic_load_n(&g.nr_conns, __ATOMIC_RELAXED) >=
		    opts.max_conns) {
			static uint64_t said_ms;
			uint64_t t = tgt_now_ms();

			/* refused at once; said at most once a second */
			if (t - said_ms >= 1000) {
				fmt_peer(&peer, line, sizeof line);
				warnx("%s: refused: %u connections already (--max-connections)",
				      line, opts.max_conns);
				said_ms = t;
			}
			close(fd);
			continue;
		}
		c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->accepted_ms = tgt_now_ms();
		/* completions go out at once; we batch them ourselves */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = fd;
		c->evfd = -1;
		c->lsn = l;
		fmt_peer(&peer, c->peer, sizeof c->peer);
		ll = sizeof c->local;
		getsockname(fd, (struct sockaddr *)&c->local, &ll);
		pthread_mutex_lock(&g.lock);
		c->next = g.conns;
		g.conns = c;
		g.nr_conns++;
		rc = pthread_create(&c->thread, NULL, conn_thread, c);
		if (rc) {
			g.conns = c->next;
			g.nr_conns--;
			pthread_mutex_unlock(&g.lock);
			warnx("%s: cannot start a thread: %s", c->peer,
			      strerror(rc));
			close(fd);
			free(c);
			continue;
		}
		pthread_mutex_unlock(&g.lock);
		debugx("%s: connected (port %u)", c->peer, l->port);
	}
}

static void conn_free(struct tgt_conn *c)
{
	pthread_join(c->thread, NULL);
	close(c->fd);
	if (c->evfd >= 0)
		close(c->evfd);
	free(c);
}

/* Join the threads of connections that have ended (all: at exit). */
static void reap(bool all)
{
	struct tgt_conn *done = NULL, **pp, *c;

	pthread_mutex_lock(&g.lock);
	for (pp = &g.conns; *pp;) {
		c = *pp;
		if (all || atomic_load(&c->finished)) {
			*pp = c->next;
			g.nr_conns--;
			c->next = done;
			done = c;
		} else {
			pp = &c->next;
		}
	}
	pthread_mutex_unlock(&g.lock);
	while (done) {
		c = done;
		done = c->next;
		conn_free(c);
	}
}

/* ---- options ------------------------------------------------------------ */

struct cli_subsys {
	const char *nqn;
	const char *serial, *model, *firmware;
	const char **ns;
	int nr_ns;
	const char **hosts;      /* --allow-host */
	struct tgt_host_auth *host_auth; /* its --dhchap-* options */
	int nr_hosts;
};

static struct cli_subsys *cli;
static int nr_cli;
static const char **listens, **fault_specs;
static int nr_listens, nr_faults;
static enum tgt_tls_mode *listen_tls; /* --tls of each -l */
static char **tls_keys;               /* --tls-key / --tls-key-file */
static bool *tls_key_is_file;
static int nr_tls_keys;

static void cleanup(void);

/* Exit statuses as nvmeof(8): 64 a usage error, 1 a failure to start. */
#define EXIT_USAGE 64

static int die_status = 1;

static void NVMEOF_PRINTF(1, 2) die(const char *fmt, ...)
{
	char buf[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", TGT_NAME, buf);
	cleanup();
	exit(die_status);
}

#define die_usage(...)                                                      \
	do {                                                                \
		die_status = EXIT_USAGE;                                    \
		die(__VA_ARGS__);                                           \
	} while (0)

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("out of memory");
	return p;
}

static unsigned long parse_num(const char *opt, const char *v,
			       unsigned long min, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || end == v || *end || *v == '-' || n < min || n > max)
		die("%s '%s': want a number from %lu to %lu", opt, v, min, max);
	return n;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [OPTION]... --ns SPEC [--ns SPEC]...\n"
		"A userspace NVMe/TCP controller (NVMe over Fabrics target).\n"
		"\n"
		"  -l, --listen ADDR        listen on host:port or [v6]:port (default\n"
		"                           127.0.0.1:4420; port 0 = any; repeatable)\n"
		"      --discovery-port[=P] also serve discovery alone on port P (8009)\n"
		"  -n, --nqn NQN            subsystem NQN (repeat for more subsystems;\n"
		"                           default %s)\n"
		"      --ns SPEC            namespace: FILE, ram:SIZE or null:SIZE, with\n"
		"                           optional ,ro ,lba=512|4096 ,nsid=N ,ana=GROUP\n"
		"      --read-only          every namespace is write protected\n"
		"      --lba-size N         512 or 4096 (default 4096)\n"
		"      --serial S, --model M, --firmware F   identity of the subsystem\n"
		"      --allow-host NQN     only this host (repeatable) may connect to the\n"
		"                           subsystem of the last -n (default: any host)\n"
		"      --dhchap-key KEY     the last --allow-host must authenticate with\n"
		"                           DH-HMAC-CHAP; KEY: a DHHC-1 secret or a file\n"
		"                           holding one (mode 0600)\n"
		"      --dhchap-ctrl-key KEY  and may check us with this secret\n"
		"      --dhchap-hash LIST   hashes allowed (sha256,sha384,sha512; all)\n"
		"      --dhchap-dhgroup LIST  DH groups allowed (null,ffdhe2048,...,\n"
		"                           ffdhe8192; all)\n"
		"  -c, --config FILE        subsystems from FILE (re-read on SIGHUP)\n"
		"      --control PATH       unix socket for line commands\n"
		"      --mdts N             max transfer 2^N * 4 KiB (default 5; 0: no limit)\n"
		"      --max-io-queues N    I/O queues per association (default 8)\n"
		"      --queue-size N       entries per queue, CAP.MQES+1 (default 128)\n"
		"      --max-h2c-data N     MAXH2CDATA bytes (default 131072)\n"
		"      --in-capsule N       I/O in-capsule data bytes (default 8192)\n"
		"      --busy-poll USEC     I/O queues wait for the host without sleeping\n"
		"                           for up to USEC (default 0: off)\n"
		"      --max-connections N  refuse TCP connections past N (default 1024)\n"
		"      --login-timeout SEC  close a connection without ICReq and Connect\n"
		"                           after SEC seconds (default 10)\n"
		"      --tls MODE           the last -l: TLS 1.3 with a PSK is required or\n"
		"                           not-required (default: plaintext only)\n"
		"      --tls-key HOSTNQN=KEY  the host's PSK (NVMeTLSkey-1:0H:...:)\n"
		"      --tls-key-file HOSTNQN=PATH  the same from a file (mode 0600)\n"
		"      --tls-psk-derivation rfc|compat  how the TLS PSK is derived from\n"
		"                           a key (default rfc)\n"
		"      --fault MODE[:ARG][@io|@admin|@all][@HOST:PORT]\n"
		"                           inject faults (on one listener), repeatable\n"
		"  -f, --foreground         stay in the foreground (the default)\n"
		"      --daemon             detach once listening\n"
		"      --pidfile FILE       write the process ID to FILE\n"
		"      --port-file FILE     write the bound port(s) to FILE\n"
		"  -v, --verbose            more messages on stderr (repeatable)\n"
		"  -h, --help               this text\n"
		"  -V, --version            the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT exit, SIGHUP reloads -c, SIGUSR1 prints stats.\n"
		"See nvmeof-target(8).\n",
		TGT_NAME, TGT_DEFAULT_NQN);
}

enum {
	OPT_NS = 256, OPT_READ_ONLY, OPT_DISC_PORT, OPT_CONTROL, OPT_SERIAL,
	OPT_MODEL, OPT_FIRMWARE, OPT_MDTS, OPT_MAX_IOQ, OPT_QSIZE,
	OPT_MAXH2C, OPT_INCAPSULE, OPT_LBA, OPT_FAULT, OPT_DAEMON,
	OPT_PIDFILE, OPT_PORTFILE, OPT_BUSY_POLL, OPT_ALLOW_HOST,
	OPT_DHCHAP_KEY, OPT_DHCHAP_CTRL_KEY, OPT_DHCHAP_HASH, OPT_DHCHAP_DH,
	OPT_MAX_CONNS, OPT_LOGIN_TIMEOUT, OPT_TLS, OPT_TLS_KEY, OPT_TLS_KEY_FILE,
	OPT_TLS_DERIV,
};

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "nqn", required_argument, NULL, 'n' },
	{ "ns", required_argument, NULL, OPT_NS },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "discovery-port", optional_argument, NULL, OPT_DISC_PORT },
	{ "config", required_argument, NULL, 'c' },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "allow-host", required_argument, NULL, OPT_ALLOW_HOST },
	{ "dhchap-key", required_argument, NULL, OPT_DHCHAP_KEY },
	{ "dhchap-ctrl-key", required_argument, NULL, OPT_DHCHAP_CTRL_KEY },
	{ "dhchap-hash", required_argument, NULL, OPT_DHCHAP_HASH },
	{ "dhchap-dhgroup", required_argument, NULL, OPT_DHCHAP_DH },
	{ "mdts", required_argument, NULL, OPT_MDTS },
	{ "max-io-queues", required_argument, NULL, OPT_MAX_IOQ },
	{ "queue-size", required_argument, NULL, OPT_QSIZE },
	{ "max-h2c-data", required_argument, NULL, OPT_MAXH2C },
	{ "in-capsule", required_argument, NULL, OPT_INCAPSULE },
	{ "busy-poll", required_argument, NULL, OPT_BUSY_POLL },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "login-timeout", required_argument, NULL, OPT_LOGIN_TIMEOUT },
	{ "tls", required_argument, NULL, OPT_TLS },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-key-file", required_argument, NULL, OPT_TLS_KEY_FILE },
	{ "tls-psk-derivation", required_argument, NULL, OPT_TLS_DERIV },
	{ "lba-size", required_argument, NULL, OPT_LBA },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "foreground", no_argument, NULL, 'f' },
	{ "daemon", no_argument, NULL, OPT_DAEMON },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "port-file", required_argument, NULL, OPT_PORTFILE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The subsystem an option applies to: the last -n, or the first one. */
static struct cli_subsys *cli_cur(void)
{
	if (!nr_cli) {
		cli = xrealloc(cli, sizeof *cli);
		memset(cli, 0, sizeof *cli);
		nr_cli = 1;
	}
	return &cli[nr_cli - 1];
}

static void parse_args(int argc, char **argv, bool *daemonize,
		       const char **disc_port)
{
	int ch;
	struct cli_subsys *s;

	die_status = EXIT_USAGE; /* until the options are read */
	while ((ch = getopt_long(argc, argv, "l:n:c:fvhV", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'l':
			listens = xrealloc(listens, (size_t)(nr_listens + 1) *
							    sizeof *listens);
			listen_tls = xrealloc(listen_tls, (size_t)(nr_listens + 1) *
							  sizeof *listen_tls);
			listen_tls[nr_listens] = TGT_TLS_OFF;
			listens[nr_listens++] = optarg;
			break;
		case OPT_TLS:
			if (!nr_listens)
				die_usage("--tls: give it after the -l it is for");
			if (!strcmp(optarg, "required"))
				listen_tls[nr_listens - 1] = TGT_TLS_REQUIRED;
			else if (!strcmp(optarg, "not-required"))
				listen_tls[nr_listens - 1] = TGT_TLS_NOT_REQUIRED;
			else
				die_usage("--tls '%s': want required or not-required",
					  optarg);
			break;
		case OPT_TLS_KEY:
		case OPT_TLS_KEY_FILE: {
			const char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || !eq[1])
				die_usage("--%s: want HOSTNQN=%s", ch == OPT_TLS_KEY ?
					  "tls-key" : "tls-key-file",
					  ch == OPT_TLS_KEY ? "KEY" : "PATH");
			tls_keys = xrealloc(tls_keys, (size_t)(nr_tls_keys + 1) *
							      sizeof *tls_keys);
			tls_key_is_file = xrealloc(tls_key_is_file,
						   (size_t)(nr_tls_keys + 1) *
							   sizeof *tls_key_is_file);
			tls_keys[nr_tls_keys] = strdup(optarg);
			if (!tls_keys[nr_tls_keys])
				die("out of memory");
			tls_key_is_file[nr_tls_keys++] = ch == OPT_TLS_KEY_FILE;
			/* A secret given itself leaves ps and /proc/PID/cmdline. */
			if (ch == OPT_TLS_KEY)
				memset((char *)eq + 1, 'x', strlen(eq + 1));
			break;
		}
		case OPT_TLS_DERIV: {
			int d = tls_derivation_id(optarg);

			if (d != TLS_DERIVE_RFC && d != TLS_DERIVE_COMPAT)
				die_usage("--tls-psk-derivation '%s': want rfc or compat",
					  optarg);
			tgt_tls_derivation = d;
			break;
		}
		case 'n':
			/* the first -n names the subsystem of any --ns given
			 * before it; later ones start new subsystems */
			if (nr_cli && !cli[nr_cli - 1].nqn) {
				cli[nr_cli - 1].nqn = optarg;
				break;
			}
			cli = xrealloc(cli, (size_t)(nr_cli + 1) * sizeof *cli);
			memset(&cli[nr_cli], 0, sizeof *cli);
			cli[nr_cli++].nqn = optarg;
			break;
		case OPT_NS:
			s = cli_cur();
			s->ns = xrealloc(s->ns, (size_t)(s->nr_ns + 1) *
							sizeof *s->ns);
			s->ns[s->nr_ns++] = optarg;
			break;
		case OPT_SERIAL:
			cli_cur()->serial = optarg;
			break;
		case OPT_MODEL:
			cli_cur()->model = optarg;
			break;
		case OPT_FIRMWARE:
			cli_cur()->firmware = optarg;
			break;
		case OPT_ALLOW_HOST:
			s = cli_cur();
			s->hosts = xrealloc(s->hosts, (size_t)(s->nr_hosts + 1) *
							      sizeof *s->hosts);
			s->host_auth = xrealloc(s->host_auth, (size_t)(s->nr_hosts + 1) *
							      sizeof *s->host_auth);
			memset(&s->host_auth[s->nr_hosts], 0, sizeof *s->host_auth);
			s->hosts[s->nr_hosts++] = optarg;
			break;
		case OPT_DHCHAP_KEY:
		case OPT_DHCHAP_CTRL_KEY:
		case OPT_DHCHAP_HASH:
		case OPT_DHCHAP_DH: {
			static const char *const kw[] = { "dhchap-key", "dhchap-ctrl-key",
							  "dhchap-hash", "dhchap-dhgroup" };
			const char *k = kw[ch - OPT_DHCHAP_KEY];
			char kv[4200], e[700];

			s = cli_cur();
			if (!s->nr_hosts)
				die_usage("--%s: give it after the --allow-host it is for", k);
			snprintf(kv, sizeof kv, "%s=%s", k, optarg);
			if (host_auth_opt(&s->host_auth[s->nr_hosts - 1], kv, e, sizeof e) < 0)
				die_usage("--allow-host %s: %s", s->hosts[s->nr_hosts - 1], e);
			explicit_bzero(kv, sizeof kv);
			/* A secret given itself leaves ps and /proc/PID/cmdline. */
			if (ch <= OPT_DHCHAP_CTRL_KEY && !strncmp(optarg, "DHHC-1:", 7))
				memset(optarg, 'x', strlen(optarg));
			break;
		}
		case OPT_READ_ONLY:
			opts.read_only = true;
			break;
		case OPT_DISC_PORT:
			*disc_port = optarg ? optarg : "8009";
			parse_num("--discovery-port", *disc_port, 0, 65535);
			break;
		case 'c':
			opts.config = optarg;
			break;
		case OPT_CONTROL:
			opts.control = optarg;
			break;
		case OPT_MDTS:
			opts.mdts = (unsigned)parse_num("--mdts", optarg, 0, 10);
			break;
		case OPT_MAX_IOQ:
			opts.max_io_queues =
				(uint32_t)parse_num("--max-io-queues", optarg, 1, 1024);
			break;
		case OPT_QSIZE:
			opts.queue_size =
				(uint32_t)parse_num("--queue-size", optarg, 32, 1024);
			break;
		case OPT_MAXH2C:
			opts.maxh2cdata = (uint32_t)parse_num(
				"--max-h2c-data", optarg, NVME_TCP_MIN_MAXH2CDATA,
				16u << 20);
			if (opts.maxh2cdata % 4)
				die("--max-h2c-data %s: want a multiple of 4", optarg);
			break;
		case OPT_INCAPSULE:
			opts.io_incapsule = (uint32_t)parse_num("--in-capsule",
								optarg, 0, 1u << 20);
			if (opts.io_incapsule % 16)
				die("--in-capsule %s: want a multiple of 16", optarg);
			break;
		case OPT_BUSY_POLL:
			opts.busy_poll_us = (uint32_t)parse_num("--busy-poll",
								optarg, 0, 1000000);
			break;
		case OPT_MAX_CONNS:
			opts.max_conns = (uint32_t)parse_num("--max-connections",
							     optarg, 1, 1000000);
			break;
		case OPT_LOGIN_TIMEOUT:
			opts.login_ms = 1000u * (uint32_t)parse_num(
				"--login-timeout", optarg, 1, 3600);
			break;
		case OPT_LBA:
			opts.lba_size = (uint32_t)parse_num("--lba-size", optarg,
							    512, 4096);
			if (opts.lba_size != 512 && opts.lba_size != 4096)
				die("--lba-size %s: want 512 or 4096", optarg);
			break;
		case OPT_FAULT:
			fault_specs = xrealloc(fault_specs,
					       (size_t)(nr_faults + 1) *
						       sizeof *fault_specs);
			fault_specs[nr_faults++] = optarg;
			break;
		case 'f':
			break;
		case OPT_DAEMON:
			*daemonize = true;
			break;
		case OPT_PIDFILE:
			pidfile = optarg;
			break;
		case OPT_PORTFILE:
			portfile = optarg;
			break;
		case 'v':
			tgt_verbose++;
			break;
		case 'h':
			usage(stdout);
			cleanup();
			exit(0);
		case 'V':
			printf("%s %s\n", TGT_NAME, PACKAGE_VERSION);
			cleanup();
			exit(0);
		default:
			fprintf(stderr, "Try '%s --help'.\n", TGT_NAME);
			cleanup();
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (namespaces are given with --ns)",
		    argv[optind]);
	die_status = 1;
}

/* Malformed values here (an identity, an NQN, a namespace spec) are
 * usage errors too; a namespace that cannot be opened is not. */
static void setup_subsystems(void)
{
	char err[1200];

	for (int i = 0; i < nr_cli; i++) {
		struct cli_subsys *cs = &cli[i];
		const char *nqn = cs->nqn ? cs->nqn : TGT_DEFAULT_NQN;
		struct tgt_subsys *s;

		if ((cs->serial && subsys_check_identity("--serial", cs->serial,
							 20, err, sizeof err) < 0) ||
		    (cs->model && subsys_check_identity("--model", cs->model, 40,
							err, sizeof err) < 0) ||
		    (cs->firmware &&
		     subsys_check_identity("--firmware", cs->firmware, 8, err,
					   sizeof err) < 0))
			die_usage("%s", err);
		s = subsys_new(nqn, ORIGIN_CLI, err, sizeof err);
		if (!s)
			die_usage("-n %s: %s", nqn, err);
		subsys_set_identity(s, cs->serial, cs->model, cs->firmware);
		for (int k = 0; k < cs->nr_ns; k++) {
			struct ns_spec spec;
			char e[1100];

			if (ns_spec_parse(cs->ns[k], true, &spec, err,
					  sizeof err) < 0)
				die_usage("--ns %s", err);
			if (subsys_ns_add(s, &spec, NULL, e, sizeof e) < 0)
				die("--ns %s: %s", cs->ns[k], e);
		}
		for (int k = 0; k < cs->nr_hosts; k++)
			if (host_add(s, cs->hosts[k], &cs->host_auth[k], err,
				     sizeof err) < 0)
				die_usage("--allow-host %s: %s", cs->hosts[k], err);
	}
}

static void write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;

	/* written whole, then renamed: a reader never sees half a file */
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		die("cannot write %s: %s", path, strerror(e));
	}
}

static void setup_listeners(const char *disc_port)
{
	char host[300], port[16], err[600], hosts[TGT_MAX_LISTENERS][300];
	int nhosts = 0;

	if (!nr_listens) {
		static const char *def[] = { "127.0.0.1:4420" };

		listens = xrealloc(listens, sizeof *listens);
		listens[0] = def[0];
		nr_listens = 1;
	}
	for (int i = 0; i < nr_listens; i++) {
		bool seen = false;

		if (parse_listen(listens[i], host, sizeof host, port, sizeof port,
				 err, sizeof err) < 0)
			die("-l %s", err);
		if (listen_on(host, port, false, err, sizeof err) < 0)
			die("%s", err);
		snprintf(g.lsn[g.nr_lsn - 1].given,
			 sizeof g.lsn[g.nr_lsn - 1].given, "%s", listens[i]);
		g.lsn[g.nr_lsn - 1].tls = listen_tls ? listen_tls[i] : TGT_TLS_OFF;
		if (g.lsn[g.nr_lsn - 1].tls != TGT_TLS_OFF &&
		    tgt_tls_init(err, sizeof err) < 0)
			die("%s", err);
		for (int k = 0; k < nhosts; k++)
			seen |= !strcmp(hosts[k], host);
		if (!seen && nhosts < TGT_MAX_LISTENERS)
			snprintf(hosts[nhosts++], sizeof hosts[0], "%s", host);
	}
	for (int k = 0; disc_port && k < nhosts; k++)
		if (listen_on(hosts[k], disc_port, true, err, sizeof err) < 0)
			die("--discovery-port: %s", err);
}

/* The port file says the target is ready: written once the listeners and
 * the control socket are there. */
static void write_portfile(void)
{
	char text[TGT_MAX_LISTENERS * 8] = "";

	if (!portfile)
		return;
	for (int i = 0; i < g.nr_lsn; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "%u\n",
			 g.lsn[i].port);
	write_file(portfile, text);
}

/* Say where we listen and what we serve (also without -v): two lines. */
static void announce(void)
{
	char line[900];
	size_t n = 0;
	struct tgt_subsys *s;

#define ADD(...)                                                            \
	do {                                                                \
		if (n < sizeof line - 8)                                    \
			n += (size_t)snprintf(line + n, sizeof line - 8 - n,  \
					      __VA_ARGS__);                 \
		if (n >= sizeof line - 8) {                                 \
			n = sizeof line - 8;                                \
			strcpy(line + n, ", ...");                          \
		}                                                           \
	} while (0)
	for (int i = 0; i < g.nr_lsn; i++) {
		const struct tgt_listener *l = &g.lsn[i];

		ADD("%s%s%s%s:%u%s%s", i ? ", " : "",
		    l->family == AF_INET6 ? "[" : "", l->addr,
		    l->family == AF_INET6 ? "]" : "", l->port,
		    l->discovery_only ? " (discovery only)" : "",
		    l->tls == TGT_TLS_REQUIRED ? " (TLS required)" :
		    l->tls == TGT_TLS_NOT_REQUIRED ? " (TLS not required)" : "");
	}
	tgt_log(LOG_WARN, "listening on %s", line);
	n = 0;
	line[0] = '\0';
	pthread_mutex_lock(&g.lock);
	for (s = g.subsystems; s; s = s->next) {
		int nns = 0, nhosts = 0;

		pthread_mutex_lock(&s->lock);
		for (uint32_t i = 1; i <= TGT_MAX_NSID; i++)
			nns += s->ns[i] != NULL;
		for (struct tgt_host *h = s->hosts; h; h = h->next)
			nhosts++;
		ADD("%s%s (%d namespace%s, %s", n ? ", " : "", s->nqn, nns,
		    nns == 1 ? "" : "s", s->allow_any ? "any host" : "");
		if (!s->allow_any)
			ADD("%d host%s", nhosts, nhosts == 1 ? "" : "s");
		ADD(")");
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&g.lock);
#undef ADD
	if (n)
		tgt_log(LOG_WARN, "serving %s", line);
	else
		tgt_log(LOG_WARN, "serving no subsystem yet (add them on the control socket %s)",
			opts.control);
}

/* Detach; the parent exits once the child has written its pidfile, so
 * that whoever started us finds it there. */
static void go_daemon(void)
{
	int p[2], fd;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (pidfile) {
		char pid_text[32];

		snprintf(pid_text, sizeof pid_text, "%d\n", (int)getpid());
		write_file(pidfile, pid_text);
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(p[1], "", 1) < 0) {
		/* the parent exits 1: it saw no start */
	}
	close(p[1]);
}

/* ---- main --------------------------------------------------------------- */

static void cleanup(void)
{
	struct tgt_subsys *s;

	control_close();
	for (int i = 0; i < nr_tls_keys; i++) {
		explicit_bzero(tls_keys[i], strlen(tls_keys[i]));
		free(tls_keys[i]);
	}
	free(tls_keys);
	free(tls_key_is_file);
	tls_keys = NULL;
	nr_tls_keys = 0;
	for (int i = 0; i < g.nr_lsn; i++)
		if (g.lsn[i].fd >= 0) {
			close(g.lsn[i].fd);
			g.lsn[i].fd = -1;
		}
	reap(true);
	while ((s = g.subsystems)) {
		g.subsystems = s->next;
		subsys_put(s);
	}
	if (g.disc)
		subsys_put(g.disc);
	g.disc = NULL;
	free(g.history);
	g.history = NULL;
	if (g.wake_fd > 0)
		close(g.wake_fd);
	g.wake_fd = -1;
	if (sig_fd >= 0)
		close(sig_fd);
	sig_fd = -1;
	if (pidfile)
		unlink(pidfile);
	pidfile = NULL;
	io_fini();
	for (int i = 0; i < nr_cli; i++) {
		free(cli[i].ns);
		free(cli[i].hosts);
		for (int k = 0; k < cli[i].nr_hosts; k++)
			host_auth_wipe(&cli[i].host_auth[k]);
		free(cli[i].host_auth);
	}
	free(cli);
	cli = NULL;
	nr_cli = 0;
	free(listens);
	listens = NULL;
	free(listen_tls);
	listen_tls = NULL;
	tgt_tls_fini();
	free(fault_specs);
	fault_specs = NULL;
	free(tgt_config_path);
	tgt_config_path = NULL;
}

static void stop_all(void)
{
	struct tgt_conn *c;

	for (int i = 0; i < g.nr_lsn; i++) {
		close(g.lsn[i].fd);
		g.lsn[i].fd = -1;
	}
	control_close();
	pthread_mutex_lock(&g.lock);
	for (c = g.conns; c; c = c->next)
		conn_stop(c);
	pthread_mutex_unlock(&g.lock);
	reap(true);
}

static int main_loop(void)
{
	struct pollfd pfd[2 + TGT_MAX_LISTENERS + 32];
	char err[700];

	for (;;) {
		int n = 0, nctl, lsn0;

		pfd[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = g.wake_fd, .events = POLLIN };
		lsn0 = n;
		for (int i = 0; i < g.nr_lsn; i++)
			pfd[n++] = (struct pollfd){ .fd = g.lsn[i].fd,
						    .events = POLLIN };
		nctl = control_pollfds(pfd + n, (int)ARRAY_SIZE(pfd) - n);
		if (poll(pfd, (nfds_t)(n + nctl), -1) < 0) {
			if (errno == EINTR)
				continue;
			warnx("poll: %s", strerror(errno));
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof si) == sizeof si) {
				switch (si.ssi_signo) {
				case SIGTERM:
				case SIGINT:
					infox("signal %u: exiting", si.ssi_signo);
					return 0;
				case SIGHUP:
					if (tgt_reload(err, sizeof err) < 0)
						warnx("SIGHUP: %s", err);
					break;
				case SIGUSR1:
					stats_print(stderr);
					break;
				}
			}
		}
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(g.wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
				warnx("eventfd: %s", strerror(errno));
			reap(false);
		}
		for (int i = 0; i < g.nr_lsn; i++)
			if (pfd[lsn0 + i].revents & POLLIN)
				accept_conns(&g.lsn[i]);
		control_handle(pfd + n, nctl);
	}
}

int main(int argc, char **argv)
{
	const char *disc_port = NULL;
	bool daemonize = false;
	char err[1200];
	sigset_t set;
	int rc;

	pthread_mutex_init(&g.lock, NULL);
	g.wake_fd = -1;
	g.next_cntlid = 1;
	g.start_ms = tgt_now_ms();
	atomic_init(&g.genctr, 1);
	parse_args(argc, argv, &daemonize, &disc_port);

	/* Signals arrive through signalfd in this thread only; every
	 * connection thread inherits the blocked mask.  Blocked before the
	 * port file says we are ready, so that a SIGTERM right after it is
	 * an orderly exit. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	g.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sig_fd < 0 || g.wake_fd < 0)
		die("signalfd/eventfd: %s", strerror(errno));

	io_init();
	if (!tgt_zero)
		die("out of memory");
	g.disc = subsys_discovery_new();
	if (!g.disc)
		die("out of memory");
	setup_subsystems();
	for (int i = 0; i < nr_tls_keys; i++) {
		char *eq = strchr(tls_keys[i], '=');

		*eq = 0;
		if ((tls_key_is_file[i] ?
		     tgt_tls_key_file(tls_keys[i], eq + 1, ORIGIN_CLI, err, sizeof err) :
		     tgt_tls_key_add(tls_keys[i], eq + 1, ORIGIN_CLI, err, sizeof err)) < 0)
			die_usage("--%s %s: %s", tls_key_is_file[i] ? "tls-key-file" :
				  "tls-key", tls_keys[i], err);
		explicit_bzero(eq + 1, strlen(eq + 1));
	}
	if (opts.config) {
		tgt_config_path = realpath(opts.config, NULL);
		if (!tgt_config_path)
			die("-c %s: %s", opts.config, strerror(errno));
		if (config_load(tgt_config_path, true, err, sizeof err) < 0)
			die("%s", err);
	}
	if (!g.subsystems && !opts.control)
		die("nothing to serve: give a namespace (--ns FILE|ram:SIZE|null:SIZE) or -c CONFIG");
	setup_listeners(disc_port);
	/* after the listeners: a fault may name one */
	for (int i = 0; i < nr_faults; i++)
		if (fault_add(fault_specs[i], err, sizeof err) < 0)
			die("--fault %s", err);
	if (opts.control && control_open(opts.control, err, sizeof err) < 0)
		die("%s", err);
	announce();
	write_portfile();
	if (daemonize)
		go_daemon();
	else if (pidfile) {
		char pid[32];

		snprintf(pid, sizeof pid, "%d\n", (int)getpid());
		write_file(pidfile, pid);
	}


	rc = main_loop();
	stop_all();
	stats_print(stderr);
	cleanup();
	pthread_mutex_destroy(&g.lock);
	return rc;
}

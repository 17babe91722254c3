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
 *
 * Workers: our own loop instead of fuse_session_loop_mt().  Each worker
 * waits on the FUSE device (shared, non-blocking: a read that loses the
 * race gets EAGAIN) and its own I/O queue of every controller; FUSE
 * requests submit and return, queue events run the completions, which
 * reply.  A request wakes one sleeping worker, not all (see wset_wait).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuse.h"

struct fs g_fs;
static struct mount_opts g_opts;
static char g_err[1024];          /* why start-up failed */
static bool g_started;            /* start-up done: libfuse logs go to stderr */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t init_cond = PTHREAD_COND_INITIALIZER;
static bool g_init_done;
static int g_exit = 1;            /* start-up failure status */

#define EX_USAGE 64
#define EX_UNAVAILABLE 69

/* With commands in flight, wake up this often even without socket
 * events, so that nvmeof_poll() looks for commands past their timeout.
 * (Data the socket would not take at submit time is not waited for by
 * timer: the socket is watched for nvmeof_poll_events(), POLLOUT then.) */
#define INFLIGHT_POLL_MS 100
/* While an association reconnects, look for its new sockets this often. */
#define DOWN_POLL_MS 50
#define RECV_BATCH 16
/* A sched_yield() in a busy-poll that returns this late ran another
 * thread: the CPU is busy and will not halt. */
#define SPIN_YIELD_BUSY_NS 20000
#define DRAIN_MS 10000

/* Messages go to syslog, or to standard error (see log_setup). */
static bool g_syslog;

/* Where a daemon's messages go (-o log=): syslog when asked, or with auto
 * when there is a syslog (/dev/log); otherwise standard error, which the
 * daemon keeps when it is a terminal, a file or a socket (systemd's
 * journal) -- not a pipe, or "$(nvmeof-mount ...)" would wait for the
 * daemon to exit.  In the foreground, auto is standard error. */
static void log_setup(const struct mount_opts *o)
{
	struct stat st;

	if (o->log_to == LOG_TO_SYSLOG)
		g_syslog = true;
	else if (o->log_to == LOG_TO_AUTO && !o->foreground)
		g_syslog = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
	if (g_syslog)
		openlog(PROG, LOG_PID, LOG_DAEMON);
}

/* The daemon's standard error once start-up is done: kept unless messages
 * go to syslog or it is a pipe (see log_setup). */
static bool keep_stderr(const struct mount_opts *o)
{
	struct stat st;

	if (g_syslog || fstat(STDERR_FILENO, &st) < 0)
		return false;
	if (o->log_to == LOG_TO_STDERR)
		return true;
	return !S_ISFIFO(st.st_mode);
}

void note(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = 0;

	if (!g_syslog)
		n = snprintf(line, sizeof line, PROG ": ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (g_syslog) {
		syslog(LOG_NOTICE, "%s", line);
		return;
	}
	n = (int)strlen(line);
	line[n++] = '\n';
	/* one write: lines of several threads do not interleave */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void dbg(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (!g_opts.debug)
		return;
	n = snprintf(line, sizeof line, PROG ": ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* one write: lines of several threads do not interleave */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

static void set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g_err, sizeof g_err, fmt, ap);
	va_end(ap);
}

/* libfuse's own messages: the first error of start-up becomes ours.  It
 * may come in pieces ("unknown option(s): `" ... "'\n"): gather them up to
 * the newline. */
static void fuse_log_cb(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static bool collecting = true;
	char msg[512];
	size_t n, have;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!g_started && level <= FUSE_LOG_ERR && collecting) {
		have = strlen(g_err);
		snprintf(g_err + have, sizeof g_err - have, "%s", msg);
		n = strlen(g_err);
		if (n && g_err[n - 1] == '\n') {
			while (n && g_err[n - 1] == '\n')
				g_err[--n] = 0;
			collecting = false;
		}
	}
	if (g_started || g_opts.debug)
		fputs(msg, stderr);
}

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [options] host[:port] mountpoint\n"
"Mount the namespaces of an NVMe/TCP controller as files (FUSE).\n"
"\n"
"  -n, --nqn=NQN              subsystem NQN (default: ask the discovery\n"
"                             controller at host:port and mount what it lists)\n"
"      --hostnqn=NQN          host NQN (default: /etc/nvme/hostnqn or derived)\n"
"      --hostid=UUID          host ID (default: /etc/nvme/hostid or derived)\n"
"  -i, --nr-io-queues=N       I/O queues to ask for (default 2)\n"
"  -Q, --queue-size=N         entries per I/O queue, 2..1024 (default 128)\n"
"  -k, --keep-alive-tmo=SEC   keep-alive timeout, 0 for none (default 5)\n"
"      --io-timeout=SEC       abort a command that takes longer (default 30)\n"
"  -c, --reconnect-delay=SEC  wait between reconnect attempts (default 10)\n"
"  -l, --ctrl-loss-tmo=SEC    give up reconnecting after SEC; -1 never, 0 do not\n"
"                             reconnect (default 600)\n"
"      --fast-io-fail-tmo=SEC fail I/O with EIO after SEC while reconnecting\n"
"                             (default -1: I/O waits for the reconnect)\n"
"  -g, --hdr-digest           header digests (CRC32C)\n"
"  -G, --data-digest          data digests (CRC32C)\n"
"      --host-iface=IFACE     connect from this network interface's address\n"
"  -w, --host-traddr=ADDR     connect from this source address\n"
"      --threads=N            FUSE worker threads (default: one per I/O queue)\n"
"      --busy-poll=USEC       with commands in flight, wait for their completions\n"
"                             without sleeping for up to USEC (default 50; 0: off)\n"
"      --pidfile=FILE         write the daemon's process ID to FILE once mounted\n"
"      --log=WHERE            the daemon's messages: syslog, stderr, or auto\n"
"                             (default: syslog if /dev/log exists, else stderr)\n"
"  -r, --read-only            refuse writes (EROFS)\n"
"  -f, --foreground           do not become a daemon\n"
"  -d, --debug                debug messages, FUSE's included (implies -f)\n"
"  -o OPT[,OPT...]            mount options: the above as nqn=, hostnqn=, hostid=,\n"
"                             nr_io_queues=, queue_size=, keep_alive_tmo=,\n"
"                             io_timeout=, reconnect_delay=, ctrl_loss_tmo=,\n"
"                             fast_io_fail_tmo=, hdr_digest, data_digest, host_iface=,\n"
"                             host_traddr=, threads=, busy_poll=, pidfile=, log=,\n"
"                             ro, rw, debug, foreground; others go to FUSE\n"
"                             (allow_other, default_permissions, fsname= ...)\n"
"  -h, --help                 this help\n"
"      --version              version\n"
"\n"
"Unmount with: fusermount3 -u mountpoint (or umount mountpoint).\n"
"See nvmeof-mount(8).\n");
}

static int parse_int(const char *what, const char *s, long lo, long hi,
		     int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, PROG ": %s '%s': expected a number in %ld..%ld\n",
			what, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int add_fuse_opt(struct mount_opts *o, const char *opt)
{
	size_t old = o->fuse_opts ? strlen(o->fuse_opts) : 0;
	char *t = realloc(o->fuse_opts, old + strlen(opt) + 2);

	if (!t)
		return -1;
	if (old)
		t[old++] = ',';
	strcpy(t + old, opt);
	o->fuse_opts = t;
	return 0;
}

static bool key_is(const char *key, size_t klen, const char *name)
{
	size_t i;

	if (strlen(name) != klen)
		return false;
	for (i = 0; i < klen; i++) {
		char a = key[i] == '-' ? '_' : key[i];

		if (a != name[i])
			return false;
	}
	return true;
}

/* Options mount(8) and fstab use that are not FUSE's: dropped. */
static bool mount8_only(const char *opt, size_t klen)
{
	static const char *const drop[] = {
		"defaults", "auto", "noauto", "user", "users", "nouser",
		"owner", "group", "_netdev", "nofail", "comment", "loop",
		"helper", "nosymfollow", NULL,
	};
	int i;

	if (!strncmp(opt, "x-", 2))
		return true;
	for (i = 0; drop[i]; i++)
		if (strlen(drop[i]) == klen && !strncmp(opt, drop[i], klen))
			return true;
	return false;
}

static int parse_log(struct mount_opts *o, const char *val)
{
	if (!strcmp(val, "auto"))
		o->log_to = LOG_TO_AUTO;
	else if (!strcmp(val, "stderr"))
		o->log_to = LOG_TO_STDERR;
	else if (!strcmp(val, "syslog"))
		o->log_to = LOG_TO_SYSLOG;
	else {
		fprintf(stderr, PROG ": log '%s': expected auto, stderr or syslog\n",
			val);
		return -1;
	}
	return 0;
}

/* One -o list: ours are taken, mount(8)'s dropped, the rest kept for
 * libfuse. */
static int parse_o(struct mount_opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL, *opt;
	int rc = 0;

	if (!copy)
		return -1;
	for (opt = strtok_r(copy, ",", &save); opt && !rc;
	     opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
		const char *val = eq ? eq + 1 : NULL;

#define NEED_VAL()                                                          \
	do {                                                                \
		if (!val || !*val) {                                        \
			fprintf(stderr, PROG ": option '%.*s' needs a value\n", \
				(int)klen, opt);                            \
			rc = -1;                                            \
			continue;                                           \
		}                                                           \
	} while (0)

		if (!*opt)
			continue;
		if (key_is(opt, klen, "nqn") || key_is(opt, klen, "subnqn")) {
			NEED_VAL();
			o->subnqn = strdup(val);
		} else if (key_is(opt, klen, "hostnqn")) {
			NEED_VAL();
			o->hostnqn = strdup(val);
		} else if (key_is(opt, klen, "hostid")) {
			NEED_VAL();
			o->hostid = strdup(val);
		} else if (key_is(opt, klen, "host_iface")) {
			NEED_VAL();
			o->host_iface = strdup(val);
		} else if (key_is(opt, klen, "host_traddr")) {
			NEED_VAL();
			o->host_traddr = strdup(val);
		} else if (key_is(opt, klen, "nr_io_queues")) {
			NEED_VAL();
			rc = parse_int("nr_io_queues", val, 1, 128,
				       &o->nr_io_queues);
		} else if (key_is(opt, klen, "queue_size")) {
			NEED_VAL();
			rc = parse_int("queue_size", val, 2, 1024,
				       &o->queue_size);
		} else if (key_is(opt, klen, "keep_alive_tmo")) {
			NEED_VAL();
			rc = parse_int("keep_alive_tmo", val, 0, 3600,
				       &o->kato_s);
		} else if (key_is(opt, klen, "io_timeout")) {
			NEED_VAL();
			rc = parse_int("io_timeout", val, 1, 86400,
				       &o->io_timeout_s);
		} else if (key_is(opt, klen, "reconnect_delay")) {
			NEED_VAL();
			rc = parse_int("reconnect_delay", val, 1, 3600,
				       &o->reconnect_delay_s);
		} else if (key_is(opt, klen, "ctrl_loss_tmo")) {
			NEED_VAL();
			rc = parse_int("ctrl_loss_tmo", val, -1, 86400 * 365,
				       &o->ctrl_loss_tmo_s);
		} else if (key_is(opt, klen, "fast_io_fail_tmo")) {
			NEED_VAL();
			rc = parse_int("fast_io_fail_tmo", val, -1, 86400 * 365,
				       &o->fast_io_fail_tmo_s);
		} else if (key_is(opt, klen, "threads")) {
			NEED_VAL();
			rc = parse_int("threads", val, 1, 64, &o->threads);
		} else if (key_is(opt, klen, "busy_poll")) {
			NEED_VAL();
			rc = parse_int("busy_poll", val, 0, 1000000,
				       &o->busy_poll_us);
		} else if (key_is(opt, klen, "log")) {
			NEED_VAL();
			rc = parse_log(o, val);
		} else if (key_is(opt, klen, "pidfile")) {
			NEED_VAL();
			o->pidfile = strdup(val);
		} else if (key_is(opt, klen, "hdr_digest") && !val) {
			o->hdr_digest = true;
		} else if (key_is(opt, klen, "data_digest") && !val) {
			o->data_digest = true;
		} else if (key_is(opt, klen, "ro") && !val) {
			o->read_only = true;
		} else if (key_is(opt, klen, "rw") && !val) {
			o->read_only = false;
		} else if (key_is(opt, klen, "debug") && !val) {
			o->debug = true;
			o->foreground = true;
		} else if (key_is(opt, klen, "foreground") && !val) {
			o->foreground = true;
		} else if (mount8_only(opt, klen)) {
			continue;
		} else {
			if (key_is(opt, klen, "fsname"))
				o->have_fsname = true;
			if (key_is(opt, klen, "subtype"))
				o->have_subtype = true;
			rc = add_fuse_opt(o, opt);
		}
#undef NEED_VAL
	}
	free(copy);
	return rc;
}

enum {
	OPT_HOSTNQN = 256, OPT_HOSTID, OPT_IFACE, OPT_IOTMO, OPT_THREADS,
	OPT_VERSION, OPT_PIDFILE, OPT_FASTFAIL, OPT_BUSYPOLL, OPT_LOG,
};

static const struct option lopts[] = {
	{ "nqn", required_argument, NULL, 'n' },
	{ "hostnqn", required_argument, NULL, OPT_HOSTNQN },
	{ "hostid", required_argument, NULL, OPT_HOSTID },
	{ "nr-io-queues", required_argument, NULL, 'i' },
	{ "queue-size", required_argument, NULL, 'Q' },
	{ "keep-alive-tmo", required_argument, NULL, 'k' },
	{ "io-timeout", required_argument, NULL, OPT_IOTMO },
	{ "reconnect-delay", required_argument, NULL, 'c' },
	{ "ctrl-loss-tmo", required_argument, NULL, 'l' },
	{ "fast-io-fail-tmo", required_argument, NULL, OPT_FASTFAIL },
	{ "hdr-digest", no_argument, NULL, 'g' },
	{ "data-digest", no_argument, NULL, 'G' },
	{ "host-iface", required_argument, NULL, OPT_IFACE },
	{ "host-traddr", required_argument, NULL, 'w' },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "busy-poll", required_argument, NULL, OPT_BUSYPOLL },
	{ "read-only", no_argument, NULL, 'r' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "debug", no_argument, NULL, 'd' },
	{ "options", required_argument, NULL, 'o' },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Returns 0 to go on, 1 to exit 0 (help, version), -1 on a usage error. */
static int parse_args(struct mount_opts *o, int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	int c;

	base = base ? base + 1 : argv[0];
	o->nr_io_queues = 2;
	o->queue_size = 128;
	o->kato_s = -1;
	o->reconnect_delay_s = -2;
	o->ctrl_loss_tmo_s = -2;
	o->fast_io_fail_tmo_s = -2;
	o->busy_poll_us = -1;
	/* mount(8) runs /sbin/mount.fuse.nvmeof SOURCE DIR [-sfnvrw] [-o OPTS]
	 * [-t TYPE] [-N NS]: another convention, other letters. */
	o->helper = !strncmp(base, "mount.", 6);
	if (o->helper) {
		while ((c = getopt(argc, argv, "o:sfnvrwN:t:h")) != -1) {
			switch (c) {
			case 'o':
				if (parse_o(o, optarg) < 0)
					return -1;
				break;
			case 'f':
				o->fake = true;
				break;
			case 'r':
				o->read_only = true;
				break;
			case 'w':
				o->read_only = false;
				break;
			case 'h':
				usage(stdout);
				return 1;
			case 's': case 'n': case 'v': case 'N': case 't':
				break;
			default:
				fprintf(stderr, "Usage: %s host[:port] mountpoint [-o options]\n",
					base);
				return -1;
			}
		}
	} else {
		opterr = 0; /* our own messages */
		while ((c = getopt_long(argc, argv, "n:i:Q:k:c:l:gGw:rfdo:h", lopts,
					NULL)) != -1) {
			int rc = 0;

			switch (c) {
			case 'n': o->subnqn = optarg; break;
			case OPT_HOSTNQN: o->hostnqn = optarg; break;
			case OPT_HOSTID: o->hostid = optarg; break;
			case 'i':
				rc = parse_int("--nr-io-queues", optarg, 1, 128,
					       &o->nr_io_queues);
				break;
			case 'Q':
				rc = parse_int("--queue-size", optarg, 2, 1024,
					       &o->queue_size);
				break;
			case 'k':
				rc = parse_int("--keep-alive-tmo", optarg, 0,
					       3600, &o->kato_s);
				break;
			case OPT_IOTMO:
				rc = parse_int("--io-timeout", optarg, 1, 86400,
					       &o->io_timeout_s);
				break;
			case 'c':
				rc = parse_int("--reconnect-delay", optarg, 1,
					       3600, &o->reconnect_delay_s);
				break;
			case 'l':
				rc = parse_int("--ctrl-loss-tmo", optarg, -1,
					       86400 * 365, &o->ctrl_loss_tmo_s);
				break;
			case OPT_FASTFAIL:
				rc = parse_int("--fast-io-fail-tmo", optarg, -1,
					       86400 * 365,
					       &o->fast_io_fail_tmo_s);
				break;
			case OPT_THREADS:
				rc = parse_int("--threads", optarg, 1, 64,
					       &o->threads);
				break;
			case OPT_BUSYPOLL:
				rc = parse_int("--busy-poll", optarg, 0, 1000000,
					       &o->busy_poll_us);
				break;
			case 'g': o->hdr_digest = true; break;
			case 'G': o->data_digest = true; break;
			case OPT_IFACE: o->host_iface = optarg; break;
			case 'w': o->host_traddr = optarg; break;
			case 'r': o->read_only = true; break;
			case 'f': o->foreground = true; break;
			case 'd': o->debug = o->foreground = true; break;
			case 'o': rc = parse_o(o, optarg); break;
			case OPT_PIDFILE: o->pidfile = optarg; break;
			case OPT_LOG: rc = parse_log(o, optarg); break;
			case 'h': usage(stdout); return 1;
			case OPT_VERSION:
				printf(PROG " " PACKAGE_VERSION "\n");
				return 1;
			default:
				if (optopt && strchr("niQkclwo", optopt))
					fprintf(stderr, PROG ": option '-%c' needs a value\n",
						optopt);
				else if (optopt)
					fprintf(stderr, PROG ": unknown option '-%c'\n",
						optopt);
				else
					fprintf(stderr, PROG ": unknown option or missing value: '%s'\n",
						argv[optind - 1]);
				return -1;
			}
			if (rc < 0)
				return -1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, PROG ": expected host[:port] and a mount point\n");
		return -1;
	}
	o->source = argv[optind];
	o->mountpoint = argv[optind + 1];
	if (nvmeof_parse_address(o->source, o->host, sizeof o->host, o->port,
				 sizeof o->port, "") < 0 || !o->host[0]) {
		fprintf(stderr, PROG ": '%s': expected host[:port]: %s\n",
			o->source, nvmeof_get_error());
		return -1;
	}
	o->port_given = o->port[0] != 0;
	if (!o->port_given)
		snprintf(o->port, sizeof o->port, "%d", NVMEOF_PORT);
	if (o->subnqn && nvmeof_nqn_validate(o->subnqn) < 0) {
		fprintf(stderr, PROG ": subsystem NQN '%s': %s\n", o->subnqn,
			nvmeof_get_error());
		return -1;
	}
	return 0;
}

/* ---- checks before anything is started --------------------------------- */

/* A FUSE mount whose daemon died (SIGKILL, a crash) stays in the mount
 * table, and everything below it answers ENOTCONN ("Transport endpoint is
 * not connected").  A stale nvmeof mount of this user (root: of anyone) is
 * detached here, with a warning; any other is explained.  0 when cleared. */
static int clear_stale_mount(const struct mount_opts *o)
{
	struct mnt_entry *e = malloc(sizeof *e);
	char path[PATH_MAX], cwd[PATH_MAX];
	int rc = -1, st;
	size_t n;
	pid_t pid;

	if (!e)
		return -1;
	if (o->mnt_abs)
		snprintf(path, sizeof path, "%s", o->mnt_abs);
	else if (o->mountpoint[0] != '/' && !getcwd(cwd, sizeof cwd))
		goto out;
	else if ((size_t)snprintf(path, sizeof path, "%s%s%s",
			     o->mountpoint[0] == '/' ? "" : cwd,
			     o->mountpoint[0] == '/' || !strcmp(cwd, "/") ? "" : "/",
			     o->mountpoint) >= sizeof path)
		goto out;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = 0;
	if (!mountinfo_find(path, e) || !mnt_is_fuse(e)) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(ENOTCONN));
		goto out;
	}
	if (strcmp(e->fstype, "fuse.nvmeof") != 0 ||
	    (getuid() != 0 && mnt_user_id(e) != (long)getuid())) {
		fprintf(stderr, PROG ": mount point %s: a stale %s mount whose daemon is gone (%s); clear it with: fusermount3 -u %s\n",
			o->mountpoint, e->fstype, strerror(ENOTCONN), path);
		goto out;
	}
	if (getuid() == 0) {
		if (umount2(path, MNT_DETACH) == 0)
			rc = 0;
	} else {
		pid = fork();
		if (pid == 0) {
			execlp("fusermount3", "fusermount3", "-u", "-z", "-q",
			       path, (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &st, 0) == pid &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0)
			rc = 0;
	}
	if (rc == 0)
		fprintf(stderr, PROG ": warning: %s held a stale nvmeof mount (its daemon had died): cleared it\n",
			path);
	else
		fprintf(stderr, PROG ": mount point %s: a stale nvmeof mount whose daemon is gone, and clearing it failed; try: fusermount3 -u %s\n",
			o->mountpoint, path);
out:
	free(e);
	return rc;
}

static int check_mountpoint(struct mount_opts *o)
{
	struct statx stx;
	struct stat st, pst;
	char *parent;

	o->mnt_abs = realpath(o->mountpoint, NULL);
	if (!o->mnt_abs && errno == ENOTCONN) {
		if (clear_stale_mount(o) < 0)
			return -1;
		o->mnt_abs = realpath(o->mountpoint, NULL);
	}
	if (!o->mnt_abs) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(errno));
		return -1;
	}
	if (stat(o->mnt_abs, &st) < 0 && errno == ENOTCONN) {
		if (clear_stale_mount(o) < 0)
			return -1;
	}
	if (stat(o->mnt_abs, &st) < 0) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, PROG ": mount point %s: %s\n", o->mountpoint,
			strerror(ENOTDIR));
		return -1;
	}
	/* Something already mounted there: refuse rather than stack. */
	if (statx(AT_FDCWD, o->mnt_abs, AT_NO_AUTOMOUNT, STATX_BASIC_STATS,
		  &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		fprintf(stderr, PROG ": mount point %s is busy: a file system is already mounted there\n",
			o->mountpoint);
		return -1;
	}
	if (asprintf(&parent, "%s/..", o->mnt_abs) >= 0) {
		if (strcmp(o->mnt_abs, "/") && stat(parent, &pst) == 0 &&
		    pst.st_dev != st.st_dev) {
			fprintf(stderr, PROG ": mount point %s is busy: a file system is already mounted there\n",
				o->mountpoint);
			free(parent);
			return -1;
		}
		free(parent);
	}
	return 0;
}

static int check_dev_fuse(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO)) {
		fprintf(stderr, PROG ": /dev/fuse: %s (is the fuse module loaded?)\n",
			strerror(errno));
		return -1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* ---- connecting ------------------------------------------------------------- */

/* The library's message, with the address in front unless it names it. */
static void lib_err(const char *what, const struct mount_opts *o)
{
	const char *m = nvmeof_get_error();

	if (strstr(m, o->host))
		set_err("%s%s", what, m);
	else
		set_err("%s:%s: %s%s", o->host, o->port, what, m);
}

static void base_opts(const struct mount_opts *o, struct nvmeof_opts *no)
{
	nvmeof_opts_init(no);
	no->hostnqn = o->hostnqn;
	no->hostid = o->hostid;
	no->host_iface = o->host_iface;
	no->host_traddr = o->host_traddr;
	no->nr_io_queues = o->nr_io_queues;
	no->queue_size = o->queue_size;
	if (o->kato_s >= 0)
		no->kato_ms = o->kato_s * 1000;
	if (o->io_timeout_s > 0)
		no->io_timeout_ms = o->io_timeout_s * 1000;
	if (o->reconnect_delay_s >= 0)
		no->reconnect_delay = o->reconnect_delay_s;
	if (o->ctrl_loss_tmo_s >= -1)
		no->ctrl_loss_tmo = o->ctrl_loss_tmo_s;
	if (o->fast_io_fail_tmo_s >= -1)
		no->fast_io_fail_tmo = o->fast_io_fail_tmo_s;
	no->busy_poll_us = o->busy_poll_us;
	no->hdr_digest = o->hdr_digest;
	no->data_digest = o->data_digest;
}

/* At mount, before any other thread: the next slot. */
static struct fctrl *add_ctrl(struct fs *fs, struct nvmeof_ctrl *c)
{
	struct fctrl *fc;

	if (fs->nr_ctrls == MAX_CTRLS)
		return NULL;
	fc = calloc(1, sizeof *fc);
	if (!fc)
		return NULL;
	fc->fs = fs;
	fc->idx = fs->nr_ctrls;
	fc->ctrl = c;
	snprintf(fc->name, sizeof fc->name, "%s", nvmeof_ctrl_subnqn(c));
	ctrl_addr(fc->addr, sizeof fc->addr, c);
	fs->ctrls[fs->nr_ctrls++] = fc;
	return fc;
}

static bool wildcard_addr(const char *a)
{
	return !*a || !strcmp(a, "0.0.0.0") || !strcmp(a, "::");
}

/* A tree keeps its discovery association with this keep-alive timeout
 * unless -k gives one (nvme discover --persistent's default). */
#define DISC_KATO_MS 30000

static void disc_opts(const struct mount_opts *o, struct nvmeof_opts *no)
{
	base_opts(o, no);
	no->traddr = o->host;
	no->trsvcid = o->port;
	no->subnqn = NULL;
	no->nr_io_queues = 0;
	no->kato_ms = 0;
}

static bool is_nvm_tcp(const struct nvmeof_disc_entry *e)
{
	return e->subtype == 2 && e->trtype == 3;
}

/* Follow the referrals of log (up to 4 levels in all, as at mount before
 * the association was kept) and append what they list. */
static void follow_referrals(const struct mount_opts *o,
			     struct nvmeof_disc_log *log)
{
	uint64_t i, n = log->numrec;

	for (i = 0; i < n; i++) {
		const struct nvmeof_disc_entry *e = &log->entries[i];
		struct nvmeof_disc_log *sub = NULL;
		struct nvmeof_disc_entry *t;
		struct nvmeof_opts r;

		if (e->subtype != 1 || e->trtype != 3)
			continue;
		disc_opts(o, &r);
		r.traddr = wildcard_addr(e->traddr) ? o->host : e->traddr;
		r.trsvcid = e->trsvcid[0] ? e->trsvcid : o->port;
		if (nvmeof_discover_all(&r, 3, &sub) < 0) {
			dbg("referral %s:%s: %s", r.traddr, r.trsvcid,
			    nvmeof_get_error());
			continue;
		}
		t = sub->numrec ? realloc(log->entries,
					  (size_t)(log->numrec + sub->numrec) *
						  sizeof *t) : NULL;
		if (t) {
			memcpy(t + log->numrec, sub->entries,
			       (size_t)sub->numrec * sizeof *t);
			log->entries = t;
			log->numrec += sub->numrec;
		}
		nvmeof_disc_log_free(sub);
	}
}

/* Connect to the NVM subsystem of a discovery log entry. */
static int connect_entry(const struct mount_opts *o,
			 const struct nvmeof_disc_entry *e,
			 struct nvmeof_ctrl **cp, char *err, size_t errlen)
{
	struct nvmeof_opts no;
	int rc;

	base_opts(o, &no);
	/* A target listening on every address advertises 0.0.0.0:
	 * reach it where we reached its discovery controller. */
	no.traddr = wildcard_addr(e->traddr) ? o->host : e->traddr;
	no.trsvcid = e->trsvcid[0] ? e->trsvcid : o->port;
	no.subnqn = e->subnqn;
	dbg("discovered %s at %s:%s", e->subnqn, no.traddr, no.trsvcid);
	rc = nvmeof_connect(&no, cp);
	if (rc < 0)
		snprintf(err, errlen, "%s at %s:%s: %s", e->subnqn, no.traddr,
			 no.trsvcid, nvmeof_get_error());
	return rc;
}

/* Without -n: what the discovery controller lists, as nvme connect-all.
 * Several NVM subsystems listed make a tree, which keeps the discovery
 * association (persistent: keep-alive, reconnect, Discovery Log Change
 * events) to follow the log; one makes a flat mount, which does not. */
static int connect_discovered(struct fs *fs, const struct mount_opts *o)
{
	struct nvmeof_disc_log *log = NULL;
	struct nvmeof_ctrl *dc = NULL;
	struct nvmeof_opts no;
	uint64_t i, j;
	unsigned tried = 0, listed = 0;
	char first_err[600] = "", err[600];
	int rc;

	disc_opts(o, &no);
	no.kato_ms = o->kato_s > 0 ? o->kato_s * 1000 : DISC_KATO_MS;
	no.ctrl_loss_tmo = -1; /* for as long as the tree is mounted */
	rc = nvmeof_connect(&no, &dc);
	if (rc == 0)
		rc = nvmeof_discover(dc, &log);
	if (rc < 0) {
		lib_err("discovery: ", o);
		if (dc)
			nvmeof_disconnect(dc);
		return rc;
	}
	follow_referrals(o, log);
	for (i = 0; i < log->numrec; i++) {
		struct nvmeof_disc_entry *e = &log->entries[i];
		struct nvmeof_ctrl *c;
		unsigned k;
		bool dup = false;

		if (!is_nvm_tcp(e))
			continue; /* NVM subsystems over TCP only */
		for (j = 0; j < i; j++)
			if (is_nvm_tcp(&log->entries[j]) &&
			    !strcmp(log->entries[j].subnqn, e->subnqn))
				break;
		if (j == i)
			listed++;
		for (k = 0; k < fs->nr_ctrls; k++)
			if (!strcmp(fs->ctrls[k]->name, e->subnqn))
				dup = true; /* another path: one is enough */
		if (dup)
			continue;
		tried++;
		rc = connect_entry(o, e, &c, err, sizeof err);
		if (rc < 0) {
			if (!first_err[0])
				snprintf(first_err, sizeof first_err, "%s", err);
			fprintf(stderr, PROG ": warning: %s\n", err);
			continue;
		}
		if (!add_ctrl(fs, c)) {
			nvmeof_disconnect(c);
			nvmeof_disc_log_free(log);
			nvmeof_disconnect(dc);
			set_err("out of memory");
			return -ENOMEM;
		}
	}
	fs->disc_genctr = log->genctr;
	fs->disc_reads = 1;
	fs->disc_read_ms = (int64_t)time(NULL) * 1000;
	nvmeof_disc_log_free(log);
	if (!fs->nr_ctrls) {
		nvmeof_disconnect(dc);
		if (tried)
			set_err("%s", first_err);
		else
			set_err("%s:%s: the discovery controller lists no NVM subsystem reachable over TCP",
				o->host, o->port);
		return -ENOENT;
	}
	fs->multi = listed > 1;
	if (fs->multi)
		fs->disc = dc;
	else
		nvmeof_disconnect(dc); /* flat, and it stays flat */
	return 0;
}

static bool shown(struct fs *fs, const char *nqn)
{
	unsigned i;

	for (i = 0; i < fs->nr_ctrls; i++)
		if (!fctrl_gone(fs->ctrls[i]) && !strcmp(fs->ctrls[i]->name, nqn))
			return true;
	return false;
}

static bool listed_in(const struct nvmeof_disc_log *log, const char *nqn)
{
	uint64_t i;

	for (i = 0; i < log->numrec; i++)
		if (is_nvm_tcp(&log->entries[i]) &&
		    !strcmp(log->entries[i].subnqn, nqn))
			return true;
	return false;
}

static void disc_error(struct fs *fs, const char *msg)
{
	pthread_mutex_lock(&fs->ev_lock);
	snprintf(fs->disc_err, sizeof fs->disc_err, "%s", msg);
	pthread_mutex_unlock(&fs->ev_lock);
}

/* The event thread, on a Discovery Log Change event or a reconnect of the
 * discovery association: read the log again; a subsystem no longer listed
 * loses its directory (and association), a new one gets both. */
void disc_refresh(struct fs *fs)
{
	const struct mount_opts *o = fs->o;
	struct nvmeof_disc_log *log = NULL;
	char err[600];
	unsigned i;
	uint64_t k;

	if (!fs->disc || strcmp(nvmeof_ctrl_state(fs->disc), "live") != 0)
		return;
	if (nvmeof_discover(fs->disc, &log) < 0) {
		snprintf(err, sizeof err, "reading the discovery log: %s",
			 nvmeof_get_error());
		note("%s", err);
		disc_error(fs, err);
		return;
	}
	follow_referrals(o, log);
	pthread_mutex_lock(&fs->ev_lock);
	fs->disc_reads++;
	fs->disc_genctr = log->genctr;
	fs->disc_read_ms = (int64_t)time(NULL) * 1000;
	fs->disc_err[0] = 0;
	pthread_mutex_unlock(&fs->ev_lock);
	dbg("discovery log: generation %llu, %llu records",
	    (unsigned long long)log->genctr, (unsigned long long)log->numrec);
	for (i = 0; i < fs->nr_ctrls && !fs->stopping; i++) {
		struct fctrl *fc = fs->ctrls[i];

		if (fctrl_gone(fc) || listed_in(log, fc->name))
			continue;
		note("%s: no longer in the discovery log: removing it", fc->name);
		tree_remove_ctrl(fs, fc, "the discovery log no longer lists the subsystem");
		pthread_mutex_lock(&fs->ev_lock);
		fs->disc_removed++;
		pthread_mutex_unlock(&fs->ev_lock);
	}
	for (k = 0; k < log->numrec && !fs->stopping; k++) {
		const struct nvmeof_disc_entry *e = &log->entries[k];
		struct nvmeof_ctrl *c;

		if (!is_nvm_tcp(e) || shown(fs, e->subnqn))
			continue;
		if (connect_entry(o, e, &c, err, sizeof err) < 0) {
			note("warning: %s", err);
			disc_error(fs, err);
			continue;
		}
		if (nvmeof_ctrl_nr_io_queues(c) == 0) {
			snprintf(err, sizeof err,
				 "%s: the controller granted no I/O queue",
				 e->subnqn);
		} else if (tree_add_ctrl(fs, c, err, sizeof err) == 0) {
			char addr[300];

			ctrl_addr(addr, sizeof addr, c);
			note("%s: listed in the discovery log: added (%s)",
			     e->subnqn, addr);
			pthread_mutex_lock(&fs->ev_lock);
			fs->disc_added++;
			pthread_mutex_unlock(&fs->ev_lock);
			continue;
		}
		note("warning: %s", err);
		disc_error(fs, err);
		nvmeof_disconnect(c);
	}
	nvmeof_disc_log_free(log);
}

static int connect_all(struct fs *fs, const struct mount_opts *o)
{
	struct nvmeof_opts no;
	struct nvmeof_ctrl *c;
	int rc;

	if (!o->subnqn)
		return connect_discovered(fs, o);
	base_opts(o, &no);
	no.traddr = o->host;
	no.trsvcid = o->port;
	no.subnqn = o->subnqn;
	rc = nvmeof_connect(&no, &c);
	if (rc < 0) {
		lib_err("", o);
		return rc;
	}
	if (!add_ctrl(fs, c)) {
		nvmeof_disconnect(c);
		set_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---- workers ----------------------------------------------------------------- */

static void request_stop(struct fs *fs)
{
	uint64_t one = 1;

	/* The counter stays non-zero: every poller sees it readable. */
	(void)!write(fs->stop_fd, &one, sizeof one);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What a worker knows of one controller's queue: its socket changes when
 * the library reconnects, and is not worth watching while the association
 * is down (a shut-down socket is readable forever). */
struct wqueue {
	struct fctrl *fc;        /* the slot's fctrl when last looked at */
	int fd;
	unsigned gen;            /* fctrl.state_gen when fd was read */
	bool reconnecting;
	bool plugged;            /* nvmeof_plug() for a batch of requests */
	/* what the worker's epoll set holds for this queue (wset_sync) */
	int reg_fd;              /* -1: nothing */
	short reg_events;
	unsigned reg_gen;
};

static bool all_live(struct fs *fs)
{
	unsigned i, n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);

		if (fc && !fctrl_gone(fc) &&
		    strcmp(nvmeof_ctrl_state(fc->ctrl), "live"))
			return false;
	}
	return true;
}

/* The other side of tree_remove_ctrl(): every worker that was not asleep
 * in poll() when a controller was marked gone has been round its loop
 * since, so none still uses the controller. */
bool workers_quiesce(struct fs *fs, int timeout_ms)
{
	int i, n = __atomic_load_n(&fs->nr_workers, __ATOMIC_ACQUIRE);
	unsigned long *snap = calloc((size_t)n + 1, sizeof *snap);
	uint64_t until = mono_ms() + (uint64_t)timeout_ms;
	bool done = false;

	if (!snap)
		return false;
	for (i = 0; i < n; i++)
		snap[i] = __atomic_load_n(&fs->workers[i]->qs, __ATOMIC_SEQ_CST);
	while (!done) {
		done = true;
		for (i = 0; i < n; i++)
			if (!(snap[i] & 1) &&
			    __atomic_load_n(&fs->workers[i]->qs,
					    __ATOMIC_SEQ_CST) == snap[i])
				done = false;
		if (done || mono_ms() > until)
			break;
		usleep(1000);
	}
	free(snap);
	return done;
}

static void qs_bump(struct worker *w, unsigned long by)
{
	__atomic_add_fetch(&w->qs, by, __ATOMIC_SEQ_CST);
}

static void wqueue_refresh(struct fctrl *fc, struct wqueue *wq)
{
	const char *st;

	wq->gen = __atomic_load_n(&fc->state_gen, __ATOMIC_ACQUIRE);
	st = nvmeof_ctrl_state(fc->ctrl);
	wq->reconnecting = !strcmp(st, "reconnecting");
	wq->fd = !strcmp(st, "live") ? nvmeof_poll_fd(fc->ctrl) : -1;
	if (wq->fd < 0)
		wq->fd = -1;
}

/* Room for n controllers in a worker's poll set. */
static int wq_grow(struct pollfd **pfd, struct wqueue **wq, unsigned *cap,
		   unsigned n)
{
	unsigned ncap = n + 8;
	struct pollfd *p = realloc(*pfd, (2 + ncap) * sizeof *p);
	struct wqueue *q;

	if (!p)
		return -ENOMEM;
	*pfd = p;
	q = realloc(*wq, ncap * sizeof *q);
	if (!q)
		return -ENOMEM;
	memset(q + *cap, 0, (ncap - *cap) * sizeof *q);
	for (unsigned i = *cap; i < ncap; i++)
		q[i].reg_fd = -1;
	memset(p + 2 + *cap, 0, (ncap - *cap) * sizeof *p);
	*wq = q;
	*cap = ncap;
	return 0;
}

/* Commands in flight: look for their completions (and new requests)
 * without sleeping for up to spin_ns, as the library's queues do (see
 * busy_poll_us in libnvmeof(3)), so that this CPU does not go idle (and
 * halt) for the few microseconds they take.  sched_yield() between looks
 * lets fio or another worker on this CPU run; when that took long, the CPU
 * has other work and will not go idle: *busy is set and the spin ends.
 * 0 when the time ran out. */
static int spin_poll(struct pollfd *pfd, nfds_t n, uint64_t spin_ns,
		     bool *busy)
{
	uint64_t now = mono_ns(), until = now + spin_ns;

	for (;;) {
		int r = poll(pfd, n, 0);

		if (r != 0)
			return r;
		now = mono_ns();
		if (now >= until)
			return 0;
		sched_yield();
		if (mono_ns() - now > SPIN_YIELD_BUSY_NS) {
			*busy = true;
			return 0;
		}
	}
}

/* The blocking wait of a worker is an epoll_wait(), so that the FUSE
 * device can be watched with EPOLLEXCLUSIVE: a new request wakes one
 * sleeping worker, the first in line, instead of every worker.  With
 * poll() all of them woke for each request, all but one read nothing, and
 * the workers took turns: at queue depth 1 each request went to the other
 * I/O queue, so neither queue's thread in the target stayed warm.  Now the
 * first worker takes the requests while it keeps up, and the next one is
 * woken only while it is busy.  (The busy-poll still uses poll() with no
 * timeout, which waits on nothing.)
 *
 * Slots 0 and 1 of pfd (FUSE device, stop eventfd) are registered once;
 * wset_sync() brings the queues' sockets (slots 2..) up to date. */
#define WSET_EVENTS 64

static int wset_init(int epfd, struct pollfd *pfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };

	ev.data.u32 = 0;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[0].fd, &ev) < 0)
		return -errno;
	ev.events = EPOLLIN;
	ev.data.u32 = 1;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[1].fd, &ev) < 0)
		return -errno;
	return 0;
}

static void wset_sync(int epfd, const struct pollfd *pfd, struct wqueue *wq,
		      unsigned nc)
{
	unsigned i, j;

	for (i = 0; i < nc; i++) {
		struct wqueue *q = &wq[i];
		const struct pollfd *p = &pfd[2 + i];
		struct epoll_event ev = { .events = (uint32_t)p->events };

		ev.data.u32 = 2 + i;
		if (q->reg_fd == p->fd && (p->fd < 0 || (q->reg_gen == q->gen &&
							  q->reg_events == p->events)))
			continue;
		/* Same socket, other events. */
		if (p->fd >= 0 && q->reg_fd == p->fd && q->reg_gen == q->gen &&
		    epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev) == 0) {
			q->reg_events = p->events;
			continue;
		}
		if (q->reg_fd >= 0) {
			/* Gone (a closed socket left the set by itself), or
			 * another socket: the old number may be a newer socket
			 * of another queue by now, which then registers again. */
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, q->reg_fd, NULL);
			for (j = 0; j < nc; j++)
				if (j != i && wq[j].reg_fd == q->reg_fd)
					wq[j].reg_fd = -1;
			q->reg_fd = -1;
		}
		if (p->fd < 0)
			continue;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, p->fd, &ev) == 0 ||
		    (errno == EEXIST &&
		     epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev) == 0)) {
			q->reg_fd = p->fd;
			q->reg_events = p->events;
			q->reg_gen = q->gen;
		}
		/* Else it is not watched; the in-flight sweep still polls it. */
	}
}

/* poll()'s contract on the worker's set: revents filled, count returned. */
static int wset_wait(int epfd, struct pollfd *pfd, nfds_t n, int tmo)
{
	struct epoll_event ev[WSET_EVENTS];
	nfds_t k;
	int i, r = epoll_wait(epfd, ev, WSET_EVENTS, tmo);

	for (k = 0; k < n; k++)
		pfd[k].revents = 0;
	for (i = 0; i < r; i++)
		if (ev[i].data.u32 < n)
			pfd[ev[i].data.u32].revents = (short)ev[i].events;
	return r;
}

/* Requests received in one batch go out in one send per queue. */
static void plug_all(struct wqueue *wq, unsigned nc, bool plug)
{
	unsigned i;

	for (i = 0; i < nc; i++) {
		if (plug && wq[i].fd >= 0 && wq[i].fc && !fctrl_gone(wq[i].fc)) {
			nvmeof_plug(wq[i].fc->ctrl);
			wq[i].plugged = true;
		} else if (!plug && wq[i].plugged) {
			(void)nvmeof_unplug(wq[i].fc->ctrl);
			wq[i].plugged = false;
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fs *fs = w->fs;
	struct fuse_session *se = fs->se;
	struct fuse_buf fbuf;
	struct pollfd *pfd = NULL;
	struct wqueue *wq = NULL;
	unsigned i, cap = 0, nc, spin_misses = 0, spin_skip = 0;
	uint64_t last_sweep = mono_ms();
	bool stop = false;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	tls_worker = w;
	memset(&fbuf, 0, sizeof fbuf);
	if (epfd < 0 || wq_grow(&pfd, &wq, &cap, fs->nr_ctrls) < 0) {
		note("worker %d: %s", w->id, strerror(epfd < 0 ? errno : ENOMEM));
		goto fail;
	}
	pfd[0].fd = fuse_session_fd(se);
	pfd[0].events = POLLIN;
	pfd[1].fd = fs->stop_fd;
	pfd[1].events = POLLIN;
	if (wset_init(epfd, pfd) < 0) {
		note("worker %d: epoll: %s", w->id, strerror(errno));
		goto fail;
	}
	while (!stop) {
		int inflight = __atomic_load_n(&w->inflight, __ATOMIC_RELAXED);
		bool down = false, live = false, sweep;
		int r, tmo = -1;

		/* Subsystems come and go in a tree (tree_add_ctrl). */
		nc = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);
		if (nc > cap && wq_grow(&pfd, &wq, &cap, nc) < 0)
			nc = cap;
		for (i = 0; i < nc; i++) {
			struct fctrl *fc = tree_ctrl_at(fs, i);

			pfd[2 + i].fd = -1;
			pfd[2 + i].events = POLLIN;
			if (!fc || fctrl_gone(fc)) {
				wq[i].fc = fc;
				wq[i].fd = -1;
				wq[i].reconnecting = false;
				continue;
			}
			if (fc != wq[i].fc) {
				/* The first call binds this thread to its
				 * I/O queue. */
				wq[i].fc = fc;
				(void)nvmeof_poll_fd(fc->ctrl);
				wqueue_refresh(fc, &wq[i]);
			} else if (wq[i].reconnecting ||
				   __atomic_load_n(&fc->state_gen,
						   __ATOMIC_ACQUIRE) != wq[i].gen) {
				wqueue_refresh(fc, &wq[i]);
			}
			pfd[2 + i].fd = wq[i].fd;
			if (wq[i].fd >= 0)
				pfd[2 + i].events |= nvmeof_poll_events(fc->ctrl);
			down |= wq[i].reconnecting;
			live |= wq[i].fd >= 0;
		}
		/* Commands parked for a reconnect need no 1 ms wake-ups. */
		if (inflight > 0)
			tmo = live || !down ? INFLIGHT_POLL_MS : DOWN_POLL_MS;
		else if (down)
			tmo = DOWN_POLL_MS;
		qs_bump(w, 1); /* quiescent: no controller in use */
		r = 0;
		if (inflight > 0 && live && fs->busy_poll_ns && !spin_skip) {
			bool busy = false;

			r = spin_poll(pfd, 2 + nc, fs->busy_poll_ns, &busy);
			/* Misses in a row (a slow controller), or a CPU with
			 * other work (it will not go idle, and each yield
			 * would hand it the CPU again while our completions
			 * wait): sleep at once for a while; a completion then
			 * wakes us ahead of that work. */
			spin_misses = r || busy ? 0 : spin_misses + 1;
			if (spin_misses >= 8 || busy) {
				spin_misses = 0;
				spin_skip = 64;
			}
		} else if (spin_skip && inflight > 0) {
			spin_skip--;
		}
		if (r == 0) {
			wset_sync(epfd, pfd, wq, nc);
			r = wset_wait(epfd, pfd, 2 + nc, tmo);
		}
		qs_bump(w, 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		w->nwake++;
		if (r == 0)
			w->ntimeout++;
		if (pfd[1].revents)
			break;
		/* Every INFLIGHT_POLL_MS with commands in flight, every queue
		 * is polled, events or not (timeouts), also when FUSE requests
		 * keep poll() from timing out. */
		sweep = false;
		if (inflight > 0 &&
		    (r == 0 || mono_ms() - last_sweep >= INFLIGHT_POLL_MS)) {
			sweep = true;
			last_sweep = mono_ms();
		}
		for (i = 0; i < nc; i++) {
			struct fctrl *fc = wq[i].fc;
			short rev = pfd[2 + i].fd >= 0 ? pfd[2 + i].revents : 0;

			/* Removed while we slept: not to be touched. */
			if (!fc || fctrl_gone(fc))
				continue;
			if (!rev && !sweep)
				continue;
			(void)nvmeof_poll(fc->ctrl, 0);
			/* Hung up: the association is going down, or has
			 * failed for good: look again at its state (a socket
			 * that is not live is not watched). */
			if (rev & (POLLHUP | POLLERR | POLLNVAL))
				wqueue_refresh(fc, &wq[i]);
		}
	if (!pfd[0].revents)
			continue;
		plug_all(wq, nc, true);
		for (int k = 0; k < RECV_BATCH; k++) {
			int res;

			if (!fbuf.mem)
				fbuf.mem = io_rbuf_get();
			fbuf.flags = 0;
			res = fuse_session_receive_buf(se, &fbuf);
			if (res == -EAGAIN) {
				if (k == 0)
					w->neagain++;
				break;
			}
			if (res == -EINTR)
				continue;
			if (res <= 0 || fuse_session_exited(se)) {
				/* Unmounted (ENODEV), or a fatal error. */
				fuse_session_exit(se);
				stop = true;
				break;
			}
			w->cur_rbuf = fbuf.mem;
			w->rbuf_taken = false;
			fuse_session_process_buf(se, &fbuf);
			if (w->rbuf_taken)
				fbuf.mem = NULL; /* a write holds it */
			w->cur_rbuf = NULL;
			w->nreq++;
		}
		plug_all(wq, nc, false);
	}
	request_stop(fs);
	/* Whatever we submitted completes before the association goes, if
	 * it can: commands parked for a reconnect are answered EIO later. */
	{
		uint64_t until = mono_ms() + DRAIN_MS;

		while (__atomic_load_n(&w->inflight, __ATOMIC_RELAXED) > 0 &&
		       mono_ms() < until && all_live(fs)) {
			io_poll_all(fs, 10);
			qs_bump(w, 2); /* went round: a quiescent point */
		}
	}
	qs_bump(w, 1); /* odd for good: it touches no controller again */
	dbg("worker %d: %llu requests, %llu wake-ups (%llu by timeout, %llu lost races)",
	    w->id, (unsigned long long)w->nreq, (unsigned long long)w->nwake,
	    (unsigned long long)w->ntimeout, (unsigned long long)w->neagain);
	io_rbuf_put(fbuf.mem);
	free(pfd);
	free(wq);
	close(epfd);
	return NULL;
fail:
	if (epfd >= 0)
		close(epfd);
	free(pfd);
	free(wq);
	qs_bump(w, 1); /* quiescent for good */
	request_stop(fs);
	return NULL;
}

static int start_workers(struct fs *fs, int nr, unsigned qd)
{
	int i, rc;

	/* Receive buffers kept free: one per request the kernel may have
	 * in flight (max_background) and one per worker; any more is freed. */
	if (io_rbufs_init(fs->max_background + (unsigned)nr) < 0)
		return -ENOMEM;
	fs->workers = calloc((size_t)nr, sizeof *fs->workers);
	if (!fs->workers)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		struct worker *w = calloc(1, sizeof *w);

		if (!w)
			return -ENOMEM;
		if (pool_init(&w->pool, qd) < 0) {
			pool_fini(&w->pool);
			free(w);
			return -ENOMEM;
		}
		w->id = i;
		w->fs = fs;
		fs->workers[i] = w;
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			pool_fini(&w->pool);
			free(w);
			fs->workers[i] = NULL;
			return -rc;
		}
		/* workers_quiesce() (event thread) may be counting them. */
		__atomic_store_n(&fs->nr_workers, fs->nr_workers + 1,
				 __ATOMIC_RELEASE);
	}
	return 0;
}

/* False if a worker is still inside the library after the grace time
 * (a synchronous command parked while the association reconnects). */
static bool stop_workers(struct fs *fs)
{
	struct timespec ts;
	bool all = true;
	int i;

	request_stop(fs);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DRAIN_MS / 1000 + 2;
	for (i = 0; i < fs->nr_workers; i++) {
		if (pthread_timedjoin_np(fs->workers[i]->thread, NULL, &ts)) {
			dbg("worker %d does not stop", i);
			all = false;
		}
	}
	return all;
}

static void free_workers(struct fs *fs)
{
	int i;

	for (i = 0; i < fs->nr_workers; i++) {
		pool_fini(&fs->workers[i]->pool);
		free(fs->workers[i]);
	}
	free(fs->workers);
	fs->workers = NULL;
	fs->nr_workers = 0;
	io_rbufs_fini();
}

/* ---- control: nvmeof disconnect / reconnect ------------------------------ */

/* "reconnect [HOST[:PORT]]": every subsystem's association drops its
 * connection and reconnects now, to the new address when given.  In the
 * worker: the library only hands the request to its admin thread (and
 * waits at most 2 s for it to take it), and the caller learns whether it
 * was taken. */
static int control_reconnect(struct fs *fs, const char *addr)
{
	char host[256] = "", port[32] = "";
	unsigned i, n, done = 0;
	int rc = 0;

	if (addr && (nvmeof_parse_address(addr, host, sizeof host, port,
					  sizeof port, "") < 0 || !host[0]))
		return -EINVAL;
	n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);
		struct nvmeof_ctrl *c = fc ? __atomic_load_n(&fc->ctrl,
							      __ATOMIC_ACQUIRE) : NULL;
		int r;

		if (!c || fctrl_gone(fc))
			continue;
		r = nvmeof_ctrl_reconnect(c, host[0] ? host : NULL,
					  port[0] ? port : NULL);
		if (r < 0) {
			note("%s: reconnect: %s", fc->addr, nvmeof_get_error());
			if (!rc)
				rc = r;
			continue;
		}
		note("%s: reconnecting now%s%s, as asked", fc->addr,
		     addr ? " to " : "", addr ? addr : "");
		done++;
	}
	/* The association has ended (disconnect, ctrl_loss_tmo): ESHUTDOWN
	 * tells the caller that mounting again is what is left. */
	if (!done)
		return rc == -ENOTCONN || !rc ? -ESHUTDOWN : rc;
	return 0;
}

/* From a worker (setxattr on the root): the main thread does the work, so
 * that no worker waits in the library for the associations to end. */
int control_request(struct fs *fs, const char *value, size_t size)
{
	char verb[320];
	uint64_t one = 1;
	int what;

	/* "disconnect", "reconnect", "reconnect HOST:PORT"; a trailing
	 * newline (echo into setfattr) is forgiven. */
	if (size >= sizeof verb)
		return -EINVAL;
	memcpy(verb, value, size);
	verb[size] = 0;
	while (size && (verb[size - 1] == '\n' || verb[size - 1] == 0))
		verb[--size] = 0;
	if (!strcmp(verb, "disconnect"))
		what = CTL_DISCONNECT;
	else if (!strcmp(verb, "reconnect") || !strncmp(verb, "reconnect ", 10))
		return control_reconnect(fs, verb[9] ? verb + 10 : NULL);
	else
		return -EINVAL;
	pthread_mutex_lock(&fs->ev_lock);
	/* A disconnect asked for stays asked for. */
	if (fs->ctl_verb != CTL_DISCONNECT)
		fs->ctl_verb = what;
	pthread_mutex_unlock(&fs->ev_lock);
	(void)!write(fs->ctl_fd, &one, sizeof one);
	return 0;
}

/* End every association now: what is pending and whatever comes until the
 * workers stop fails with EIO; nothing waits for a reconnect. */
static void fail_all(struct fs *fs, const char *why)
{
	unsigned i, n;

	note("%s: ending every association", why);
	pthread_mutex_lock(&fs->ev_lock);
	fs->stopping = true; /* the event thread adds nothing more */
	pthread_cond_broadcast(&fs->ev_cond);
	pthread_mutex_unlock(&fs->ev_lock);
	if (fs->disc)
		(void)nvmeof_ctrl_fail(fs->disc, why);
	n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);
		struct nvmeof_ctrl *c = fc ? __atomic_load_n(&fc->ctrl,
							      __ATOMIC_ACQUIRE) : NULL;

		if (c && !fctrl_gone(fc))
			(void)nvmeof_ctrl_fail(c, why);
	}
}

/* Returns true when the daemon is to stop. */
static bool control_run(struct fs *fs)
{
	uint64_t v;
	int what;

	(void)!read(fs->ctl_fd, &v, sizeof v);
	pthread_mutex_lock(&fs->ev_lock);
	what = fs->ctl_verb;
	fs->ctl_verb = CTL_NONE;
	pthread_mutex_unlock(&fs->ev_lock);
	if (what == CTL_DISCONNECT) {
		fail_all(fs, "disconnected by the user");
		return true;
	}
	return false;
}

/* The mount as the mount table shows it (its device), to notice a lazy
 * unmount (umount -l) while files are still open: the FUSE connection
 * then lives on, and nothing else tells us. */
static bool find_own_mount(struct fs *fs, const char *mnt)
{
	struct mnt_entry *e = malloc(sizeof *e);
	bool ok;

	if (!e)
		return false;
	ok = mountinfo_find(mnt, e) && mnt_is_fuse(e);
	if (ok) {
		fs->dev_major = e->major;
		fs->dev_minor = e->minor;
	}
	free(e);
	return ok;
}

static bool still_mounted(struct fs *fs)
{
	/* An unreadable table is no reason to stop. */
	return mountinfo_has_dev(fs->dev_major, fs->dev_minor) != 0;
}

/* ---- the daemon ---------------------------------------------------------------- */

static void init_hook(void *userdata, struct fuse_conn_info *conn)
{
	tree_ops.init(userdata, conn);
	pthread_mutex_lock(&init_lock);
	g_init_done = true;
	pthread_cond_broadcast(&init_cond);
	pthread_mutex_unlock(&init_lock);
}

static struct fuse_session *new_session(const struct mount_opts *o)
{
	static struct fuse_lowlevel_ops ops;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	char *extra = NULL;

	ops = tree_ops;
	ops.init = init_hook;
	if (fuse_opt_add_arg(&args, PROG) < 0)
		goto out;
	if (o->debug && fuse_opt_add_arg(&args, "-d") < 0)
		goto out;
	/* A read-only mount is read-only in the daemon, not in the kernel:
	 * a kernel "ro" would refuse the control attribute (EROFS). */
	if (asprintf(&extra, "%s%s%s%s%s%s", "default_permissions",
		     o->have_subtype ? "" : ",subtype=nvmeof",
		     o->have_fsname ? "" : ",fsname=",
		     o->have_fsname ? "" : o->source,
		     o->fuse_opts ? "," : "",
		     o->fuse_opts ? o->fuse_opts : "") < 0) {
		extra = NULL;
		goto out;
	}
	if (fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, extra) < 0)
		goto out;
	dbg("FUSE options: %s", extra);
	se = fuse_session_new(&args, &ops, sizeof ops, NULL);
out:
	free(extra);
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
		if (fc->ctrl)
			rc = nvmeof_disconnect(fc->ctrl);
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
			fuse_session_exit(fs->se);
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[2].revents && control_run(fs))
			break;
		if (pfd[3].revents && !still_mounted(fs)) {
			fs->detached = true;
			fail_all(fs, "the mount was detached");
			break;
		}
	}
	if (mfd >= 0)
		close(mfd);
}

/* Connect, mount, serve until unmounted or signalled.  report_fd: where the
 * waiting parent hears the outcome of start-up (-1 in the foreground). */
static int run(struct mount_opts *o, int report_fd)
{
	struct fs *fs = &g_fs;
	sigset_t sigs;
	int sfd, rc, nr_workers, max_q = 1, qd = 1;
	bool mounted = false;
	unsigned i;

	memset(fs, 0, sizeof *fs);
	fs->o = o;
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->mtime);
	pthread_mutex_init(&fs->ev_lock, NULL);
	pthread_cond_init(&fs->ev_cond, NULL);
	fs->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fs->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	/* Every thread (the library's too) inherits this mask; the main
	 * thread takes the signals from a signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fs->stop_fd < 0 || fs->ctl_fd < 0 || sfd < 0) {
		set_err("eventfd/signalfd: %s", strerror(errno));
		goto fail;
	}
	fuse_set_log_func(fuse_log_cb);

	fs->ctrls = calloc(MAX_CTRLS, sizeof *fs->ctrls);
	if (!fs->ctrls) {
		set_err("out of memory");
		goto fail;
	}
	rc = connect_all(fs, o);
	if (rc < 0) {
		g_exit = EX_UNAVAILABLE;
		goto fail;
	}
	for (i = 0; i < fs->nr_ctrls; i++) {
		struct fctrl *fc = fs->ctrls[i];
		int nq = nvmeof_ctrl_nr_io_queues(fc->ctrl);

		if (tree_ctrl_init(fc, g_err, sizeof g_err) < 0)
			goto fail;
		if (!nq) {
			set_err("%s: the controller granted no I/O queue",
				fc->addr);
			goto fail;
		}
		if (nq > max_q)
			max_q = nq;
		if (nvmeof_ctrl_queue_size(fc->ctrl) > qd)
			qd = nvmeof_ctrl_queue_size(fc->ctrl);
		dbg("%s: %s, cntlid %u, %d I/O queues of %d", fc->addr,
		    fc->name, nvmeof_ctrl_cntlid(fc->ctrl), nq,
		    nvmeof_ctrl_queue_size(fc->ctrl));
	}
	nr_workers = o->threads ? o->threads : max_q;
	fs->busy_poll_ns = (uint64_t)(o->busy_poll_us < 0 ? NVMEOF_BUSY_POLL_US :
				      o->busy_poll_us) * 1000u;
	fs->max_background = (unsigned)(max_q * qd);
	if (fs->max_background < 64)
		fs->max_background = 64;
	if (fs->max_background > 1024)
		fs->max_background = 1024;

	fs->se = new_session(o);
	if (!fs->se) {
		if (!g_err[0])
			set_err("cannot set up FUSE (bad -o option?)");
		goto fail;
	}
	if (fuse_session_mount(fs->se, o->mnt_abs) != 0) {
		if (!g_err[0])
			set_err("cannot mount on %s", o->mnt_abs);
		goto fail;
	}
	mounted = true;
	{
		int fd = fuse_session_fd(fs->se);
		int fl = fcntl(fd, F_GETFL);

		/* Shared by every worker: a read that lost the race must
		 * return EAGAIN, not sleep. */
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			set_err("/dev/fuse: %s", strerror(errno));
			goto fail;
		}
	}
	rc = tree_start_events(fs);
	if (rc < 0) {
		set_err("cannot start the event thread: %s", strerror(-rc));
		goto fail;
	}
	rc = start_workers(fs, nr_workers, (unsigned)qd);
	if (rc < 0) {
		set_err("cannot start workers: %s", strerror(-rc));
		goto fail;
	}
	/* Usable means the kernel's INIT has been answered. */
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
			goto fail;
		}
	}
	if (o->pidfile) {
		FILE *pf = fopen(o->pidfile, "w");

		if (!pf || fprintf(pf, "%d\n", (int)getpid()) < 0 ||
		    fclose(pf) != 0) {
			set_err("pid file %s: %s", o->pidfile, strerror(errno));
			goto fail;
		}
	}
	g_started = true;
	report(report_fd, true, "");
	report_fd = -1;
	if (!o->foreground) {
		int nfd = open("/dev/null", O_RDWR);

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

	serve(fs, sfd);
	teardown(fs, mounted);
	close(sfd);
	return 0;

fail:
	if (!g_err[0])
		set_err("start-up failed");
	report(report_fd, false, g_err);
	teardown(fs, mounted);
	if (sfd >= 0)
		close(sfd);
	return g_exit;
}

int main(int argc, char **argv)
{
	struct mount_opts *o = &g_opts;
	int pfd[2], rc;
	pid_t pid;

	rc = parse_args(o, argc, argv);
	if (rc < 0 && !o->helper)
		fprintf(stderr, "Try '" PROG " --help' for more information.\n");
	if (rc)
		return rc > 0 ? 0 : EX_USAGE;
	if (o->fake)
		return 0;
	/* An option FUSE does not know is a usage error, found before
	 * anything is connected. */
	fuse_set_log_func(fuse_log_cb);
	{
		struct fuse_session *se = new_session(o);

		if (!se) {
			fprintf(stderr, PROG ": %s\n",
				g_err[0] ? g_err : "bad FUSE option");
			if (!o->helper)
				fprintf(stderr, "Try '" PROG " --help' for more information.\n");
			return EX_USAGE;
		}
		fuse_session_destroy(se);
	}
	if (check_mountpoint(o) < 0 || check_dev_fuse() < 0)
		return 1;
	if (o->foreground) {
		log_setup(o);
		return run(o, -1);
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
		rc = run(o, pfd[1]);
		free(o->mnt_abs);
		free(o->fuse_opts);
		exit(rc); /* atexit: LeakSanitizer checks the daemon too */
	}
	close(pfd[1]);
	{
		char buf[1100];
		size_t got = 0;
		ssize_t r;
		int status;

		while (got < sizeof buf - 1 &&
		       (r = read(pfd[0], buf + got, sizeof buf - 1 - got)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			got += (size_t)r;
		}
		buf[got] = 0;
		close(pfd[0]);
		if (got && buf[0] == 'O')
			return 0;
		waitpid(pid, &status, 0);
		if (got && buf[0] == 'E') {
			char *msg = buf + 1;
			int code = (int)strtol(msg, &msg, 10);

			fprintf(stderr, PROG ": %s\n", msg + (*msg == ' '));
			return code > 0 ? code : 1;
		}
		else if (WIFSIGNALED(status))
			fprintf(stderr, PROG ": the daemon died of signal %d during start-up\n",
				WTERMSIG(status));
		else
			fprintf(stderr, PROG ": the daemon exited during start-up\n");
		return 1;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * The command line: nvmeof-mount's own options, and the -o lists of
 * mount(8) and fstab (ours taken, mount(8)'s dropped, the rest for FUSE);
 * called as mount.fuse.nvmeof, mount(8)'s helper convention.
 */
#define _GNU_SOURCE
#include <ctype.h>
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
#include <getopt.h>

#include "fuse.h"

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [options] host[:port][,host[:port]...] mountpoint\n"
"Mount the namespaces of an NVMe/TCP controller as files (FUSE).\n"
"\n"
"  -n, --nqn=NQN              subsystem NQN (default: ask the discovery\n"
"                             controller at host:port and mount what it lists)\n"
"      --hostnqn=NQN          host NQN (default: /etc/nvme/hostnqn or derived)\n"
"      --hostid=UUID          host ID (default: /etc/nvme/hostid or derived)\n"
"  -i, --nr-io-queues=N       I/O queues to ask for (default 2)\n"
"  -Q, --queue-size=N         entries per I/O queue, 2..1024 (default 128)\n"
"  -k, --keep-alive-tmo=SEC   keep-alive timeout, 0 for none (default 5; 0.3:\n"
"                             300 ms)\n"
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
"      --iopolicy=POLICY      multipath: numa, round-robin (default) or queue-depth\n"
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
"                             host_traddr=, threads=, iopolicy=, busy_poll=, pidfile=, log=,\n"
"                             ro, rw, debug, foreground, dhchap_secret_file=,\n"
"                             dhchap_ctrl_secret_file=; DH-HMAC-CHAP secrets as files\n"
"                             (mode 0600); tls, tls_key_file=, tls_psk_file=,\n"
"                             tls_psk_derivation=, tls_identity=; NVMe/TCP over\n"
"                             TLS 1.3, the key in a file (mode 0600); others go to FUSE\n"
"                             (allow_other, default_permissions, fsname= ...)\n"
"  -h, --help                 this help\n"
"      --version              version\n"
"\n"
"Unmount with: fusermount3 -u mountpoint (or umount mountpoint); with files\n"
"open or the target gone: nvmeof disconnect mountpoint.\n"
"See nvmeof-mount(8).\n");
}

/* -o iopolicy= (multipath, nvmeof-mount(8)) */
static int parse_iopolicy(struct mount_opts *o, const char *v)
{
	if (strcmp(v, "numa") && strcmp(v, "round-robin") &&
	    strcmp(v, "queue-depth")) {
		fprintf(stderr, PROG ": iopolicy '%s': expected numa, round-robin or queue-depth\n",
			v);
		return -1;
	}
	o->iopolicy = strdup(v);
	return o->iopolicy ? 0 : -1;
}

/* The source: host[:port][,host[:port]...], one path each (multipath). */
static int parse_source(struct mount_opts *o)
{
	const char *s = o->source;

	o->nr_paths = 0;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		char h[256], p[32];

		if (o->nr_paths == NVMEOF_MPATH_MAX_PATHS) {
			fprintf(stderr, PROG ": '%s': more than %d addresses\n",
				o->source, NVMEOF_MPATH_MAX_PATHS);
			return -1;
		}
		o->paths[o->nr_paths] = strndup(s, n);
		if (!o->paths[o->nr_paths])
			return -1;
		if (nvmeof_parse_address(o->paths[o->nr_paths], h, sizeof h, p,
					 sizeof p, "") < 0 || !h[0]) {
			fprintf(stderr, PROG ": '%s': expected host[:port]: %s\n",
				o->paths[o->nr_paths], nvmeof_get_error());
			return -1;
		}
		if (!p[0]) {
			/* each address gets the default port when it has none */
			free(o->paths[o->nr_paths]);
			if (asprintf(&o->paths[o->nr_paths],
				     strchr(h, ':') ? "[%s]:%d" : "%s:%d", h,
				     NVMEOF_PORT) < 0)
				return -1;
		}
		o->nr_paths++;
		if (!e)
			break;
		s = e + 1;
		if (!*s) {
			fprintf(stderr, PROG ": '%s': an empty address after ','\n",
				o->source);
			return -1;
		}
	}
	if (o->nr_paths > 1 && !o->subnqn) {
		fprintf(stderr, PROG ": '%s': several addresses need the subsystem NQN (-n); without it the paths come from the discovery log\n",
			o->source);
		return -1;
	}
	return 0;
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

/* Seconds with up to three decimals ("5", "0.3") into milliseconds: a
 * keep-alive shorter than a second bounds how long a silent path of a
 * multipath mount holds its commands. */
static int parse_ms(const char *what, const char *s, long hi_s, int *out_ms)
{
	long whole = 0, frac = 0, scale = 100;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p) && whole <= hi_s)
		whole = whole * 10 + (*p++ - '0');
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p)) {
			if (!scale)
				goto bad; /* finer than a millisecond */
			frac += (*p++ - '0') * scale;
			scale /= 10;
		}
	}
	if (*p || whole > hi_s || (whole == hi_s && frac))
		goto bad;
	*out_ms = (int)(whole * 1000 + frac);
	return 0;
bad:
	fprintf(stderr, PROG ": %s '%s': expected seconds in 0..%ld, at most "
		"three decimals\n", what, s, hi_s);
	return -1;
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

/* A DH-HMAC-CHAP secret file: a regular file that neither group nor
 * others may read or write (as ssh asks of its keys), kept by its absolute
 * path.  Its contents are read by the library at each connect. */
static int secret_file(const char *what, const char *path, char **out)
{
	struct stat st;
	char *abs;

	abs = realpath(path, NULL);
	if (!abs || stat(abs, &st) < 0) {
		fprintf(stderr, PROG ": %s %s: %s\n", what, path, strerror(errno));
		free(abs);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, PROG ": %s %s: not a regular file\n", what, path);
		free(abs);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		fprintf(stderr, PROG ": %s %s is accessible by group or others (mode %03o): chmod 600 it\n",
			what, path, (unsigned)(st.st_mode & 0777));
		free(abs);
		return -1;
	}
	free(*out);
	*out = abs;
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
			rc = parse_ms("keep_alive_tmo", val, 3600,
				      &o->kato_ms);
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
		} else if (key_is(opt, klen, "iopolicy")) {
			NEED_VAL();
			rc = parse_iopolicy(o, val);
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
		} else if (key_is(opt, klen, "dhchap_secret_file")) {
			NEED_VAL();
			rc = secret_file("dhchap_secret_file", val,
					 &o->dhchap_secret_file);
		} else if (key_is(opt, klen, "dhchap_ctrl_secret_file")) {
			NEED_VAL();
			rc = secret_file("dhchap_ctrl_secret_file", val,
					 &o->dhchap_ctrl_secret_file);
		} else if (key_is(opt, klen, "tls") && !val) {
			o->tls = true;
		} else if (key_is(opt, klen, "tls_key_file")) {
			NEED_VAL();
			rc = secret_file("tls_key_file", val, &o->tls_key_file);
			o->tls = true;
		} else if (key_is(opt, klen, "tls_psk_file")) {
			NEED_VAL();
			rc = secret_file("tls_psk_file", val, &o->tls_psk_file);
			o->tls = true;
		} else if (key_is(opt, klen, "tls_psk_derivation")) {
			NEED_VAL();
			if (!strcmp(val, "auto"))
				o->tls_psk_derivation = NVMEOF_TLS_DERIVE_AUTO;
			else if (!strcmp(val, "rfc"))
				o->tls_psk_derivation = NVMEOF_TLS_DERIVE_RFC;
			else if (!strcmp(val, "compat"))
				o->tls_psk_derivation = NVMEOF_TLS_DERIVE_COMPAT;
			else {
				fprintf(stderr, PROG ": tls_psk_derivation '%s': expected "
					"auto, rfc or compat\n", val);
				rc = -1;
			}
		} else if (key_is(opt, klen, "tls_identity")) {
			NEED_VAL();
			rc = parse_int("tls_identity", val, 0, 1, &o->tls_identity);
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
	OPT_IOPOLICY,
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
	{ "iopolicy", required_argument, NULL, OPT_IOPOLICY },
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
int parse_args(struct mount_opts *o, int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	int c;

	base = base ? base + 1 : argv[0];
	o->nr_io_queues = 2;
	o->queue_size = 128;
	o->kato_ms = -1;
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
				rc = parse_ms("--keep-alive-tmo", optarg,
					      3600, &o->kato_ms);
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
			case OPT_IOPOLICY: rc = parse_iopolicy(o, optarg); break;
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
	if (parse_source(o) < 0)
		return -1;
	if (nvmeof_parse_address(o->paths[0], o->host, sizeof o->host, o->port,
				 sizeof o->port, "") < 0 || !o->host[0]) {
		fprintf(stderr, PROG ": '%s': expected host[:port]: %s\n",
			o->source, nvmeof_get_error());
		return -1;
	}
	o->port_given = o->port[0] != 0;
	if (!o->port_given)
		snprintf(o->port, sizeof o->port, "%d", NVMEOF_PORT);
	if (o->tls && !o->tls_key_file == !o->tls_psk_file) {
		fprintf(stderr, PROG ": %s\n", o->tls_key_file ?
			"give tls_key_file= or tls_psk_file=, not both" :
			"-o tls needs tls_key_file=PATH (a file of mode 0600 holding the "
			"NVMeTLSkey-1 key) or tls_psk_file=PATH");
		return -1;
	}
	if (!o->tls && (o->tls_psk_derivation || o->tls_identity)) {
		fprintf(stderr, PROG ": tls_psk_derivation= and tls_identity= go with -o tls\n");
		return -1;
	}
	if (o->tls_psk_file && o->tls_identity) {
		fprintf(stderr, PROG ": tls_psk_file= goes with tls_identity=0: a version 1 "
			"identity needs the configured key\n");
		return -1;
	}
	if (o->subnqn && nvmeof_nqn_validate(o->subnqn) < 0) {
		fprintf(stderr, PROG ": subsystem NQN '%s': %s\n", o->subnqn,
			nvmeof_get_error());
		return -1;
	}
	return 0;
}


/* SPDX-License-Identifier: MIT */
/*
 * nvmeof(8): main, subcommand dispatch, the one option table and its strict
 * parsing, exit codes, connecting, and output helpers.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define C_NET (C_DISCOVER | C_IDENTIFY | C_LOG | C_LIST | C_GETF | C_SETF | C_PERF)
#define C_ALL (C_NET | C_GEN | C_SHOW | C_GENKEY | C_CHKKEY | C_GENTLS | C_CHKTLS)
#define F_TEXT (1u << OUT_TEXT)
#define F_JSON (1u << OUT_JSON)
#define F_BIN (1u << OUT_BINARY)

static const struct cli_cmd cmds[] = {
	{ "discover", C_DISCOVER, cmd_discover, "host[:port] [options]",
	  "show the discovery log (port 8009, else 4420)", true,
	  F_TEXT | F_JSON | F_BIN },
	{ "identify", C_IDENTIFY, cmd_identify, "host[:port] [-n NQN] [--ns N] [options]",
	  "Identify Controller or Namespace, decoded", true,
	  F_TEXT | F_JSON | F_BIN },
	{ "log", C_LOG, cmd_log, "host[:port] [-n NQN] --lid ID [--len N] [--nsid N] [options]",
	  "read any log page (known ones decoded)", true,
	  F_TEXT | F_JSON | F_BIN },
	{ "list", C_LIST, cmd_list, "host[:port] [-n NQN] [options]",
	  "list the namespaces of one or every subsystem", true,
	  F_TEXT | F_JSON },
	{ "get-feature", C_GETF, cmd_get_feature, "host[:port] [-n NQN] -f FID [options]",
	  "Get Features, decoded", true, F_TEXT | F_JSON | F_BIN },
	{ "set-feature", C_SETF, cmd_set_feature,
	  "host[:port] [-n NQN] -f FID --value V [options]",
	  "Set Features", true, F_TEXT | F_JSON },
	{ "perf", C_PERF, cmd_perf,
	  "host[:port] -n NQN [--ns N] [-q DEPTH] [-o SIZE] [-w WORKLOAD] [-t SECONDS] [-j THREADS] [options]",
	  "measure IOPS, bandwidth, latency and host CPU per I/O", true,
	  F_TEXT | F_JSON },
	{ "gen-hostnqn", C_GEN, cmd_gen_hostnqn, "[options]",
	  "print a new random host NQN", false, F_TEXT | F_JSON },
	{ "show-hostnqn", C_SHOW, cmd_show_hostnqn, "[options]",
	  "print the host NQN (and host ID) in use", false, F_TEXT | F_JSON },
	{ "gen-dhchap-key", C_GENKEY, cmd_gen_dhchap_key,
	  "[--hmac 0-3] [--key-length 32|48|64] [--nqn NQN] [--secret HEX] [options]",
	  "print a new DH-HMAC-CHAP secret (DHHC-1), as nvme-cli", false,
	  F_TEXT | F_JSON },
	{ "check-dhchap-key", C_CHKKEY, cmd_check_dhchap_key, "KEY [options]",
	  "check a DH-HMAC-CHAP secret: format, length, CRC", false,
	  F_TEXT | F_JSON },
	{ "gen-tls-key", C_GENTLS, cmd_gen_tls_key,
	  "[--hmac 1|2] [--secret HEX] [--hostnqn NQN --subnqn NQN] [options]",
	  "print a new TLS PSK (NVMeTLSkey-1), as nvme-cli", false,
	  F_TEXT | F_JSON },
	{ "check-tls-key", C_CHKTLS, cmd_check_tls_key,
	  "KEY [--hostnqn NQN --subnqn NQN [--identity 0|1]] [options]",
	  "check a TLS PSK; with both NQNs print its identity and TLS PSK", false,
	  F_TEXT | F_JSON },
};

/* ---- the option table --------------------------------------------------
 * One row per option name.  id is what the parser switches on; a name may
 * appear in several rows with different subcommand masks (perf's -o is the
 * I/O size, everywhere else the output format). */

enum opt_id {
	O_HELP = 1, O_NQN, O_HOSTNQN, O_HOSTID, O_HOST_TRADDR, O_HOST_IFACE,
	O_HDGST, O_DDGST, O_KATO, O_OUTPUT, O_NSID, O_CNS, O_LID, O_LEN, O_LSP,
	O_REFERRALS, O_FID, O_VALUE, O_SEL, O_SAVE, O_DEPTH, O_IOSIZE,
	O_WORKLOAD, O_MIX, O_TIME, O_THREADS, O_NR_IOQ, O_VERIFY, O_NO_PREFILL,
	O_SPAN, O_BUSY_POLL, O_DHCHAP_SECRET, O_DHCHAP_CTRL_SECRET,
	O_KEY_HMAC, O_KEY_LEN, O_KEY_NQN, O_KEY_SECRET, O_KEY,
	O_TLS_IDENTITY, O_TLS_HMAC, O_TLS, O_TLS_KEY, O_TLS_KEY_FILE, O_TLS_DERIV,
};

struct opt_row {
	enum opt_id id;
	char shortc;
	const char *name;
	const char *arg;  /* NULL: a flag */
	unsigned cmds;
	const char *help;
};

static const struct opt_row opt_rows[] = {
	{ O_NQN, 'n', "nqn", "NQN", C_IDENTIFY | C_LOG | C_GETF | C_SETF,
	  "subsystem NQN (without it: the discovery controller)" },
	{ O_NQN, 'n', "nqn", "NQN", C_LIST,
	  "subsystem NQN (without it: every one the discovery log lists)" },
	{ O_NQN, 'n', "nqn", "NQN", C_PERF, "subsystem NQN (required)" },
	{ O_NSID, 0, "nsid", "N", C_IDENTIFY | C_LOG | C_GETF | C_SETF | C_PERF,
	  "namespace ID" },
	{ O_NSID, 0, "ns", "N", C_IDENTIFY | C_LOG | C_GETF | C_SETF | C_PERF,
	  "the same as --nsid" },
	{ O_CNS, 0, "cns", "CNS", C_IDENTIFY,
	  "Identify CNS value (default: 0 with --nsid, else 1)" },
	{ O_LID, 'l', "lid", "ID", C_LOG, "log page identifier (0-255, or 0x..)" },
	{ O_LEN, 0, "len", "BYTES", C_LOG, "bytes to read (multiple of 4)" },
	{ O_LSP, 0, "lsp", "N", C_LOG, "log specific field (0-127)" },
	{ O_REFERRALS, 'r', "referrals", NULL, C_DISCOVER | C_LIST,
	  "follow referrals to other discovery controllers" },
	{ O_FID, 'f', "feature-id", "FID", C_GETF | C_SETF, "feature identifier (1-255)" },
	{ O_VALUE, 'V', "value", "V", C_GETF | C_SETF,
	  "command dword 11: the value to set (get: its argument)" },
	{ O_SEL, 's', "sel", "SEL", C_GETF,
	  "0 current, 1 default, 2 saved, 3 supported capabilities" },
	{ O_SAVE, 's', "save", NULL, C_SETF, "keep the value across power cycles" },
	{ O_DEPTH, 'q', "queue-depth", "DEPTH", C_PERF,
	  "commands in flight per thread (default 32)" },
	{ O_IOSIZE, 'o', "io-size", "SIZE", C_PERF,
	  "bytes per I/O, K/M/G suffixes (default 4096)" },
	{ O_WORKLOAD, 'w', "workload", "WORKLOAD", C_PERF,
	  "read, write, randread, randwrite, rw or randrw (default randread)" },
	{ O_MIX, 'M', "rwmixread", "MIX", C_PERF,
	  "percentage of reads with rw/randrw (default 50)" },
	{ O_TIME, 't', "time", "SECONDS", C_PERF, "run time (default 10)" },
	{ O_THREADS, 'j', "threads", "THREADS", C_PERF, "worker threads (default 1)" },
	{ O_NR_IOQ, 'i', "nr-io-queues", "N", C_PERF,
	  "I/O queues (TCP connections) to ask for (default: THREADS)" },
	{ O_VERIFY, 0, "verify", NULL, C_PERF,
	  "write an LBA-derived pattern first, check every read" },
	{ O_NO_PREFILL, 0, "no-prefill", NULL, C_PERF,
	  "with --verify: check what an earlier run wrote, write nothing first" },
	{ O_SPAN, 0, "span", "SIZE", C_PERF,
	  "bytes of the namespace to use (default: all of it)" },
	{ O_BUSY_POLL, 0, "busy-poll", "USEC", C_PERF,
	  "wait for completions without sleeping for up to USEC microseconds (default 50; 0: sleep at once)" },
	{ O_OUTPUT, 'o', "output-format", "FMT", C_ALL & ~C_PERF,
	  "text, json or binary" },
	{ O_OUTPUT, 0, "output-format", "FMT", C_PERF, "text or json" },
	{ O_HOSTNQN, 0, "hostnqn", "NQN", C_NET,
	  "host NQN (default: /etc/nvme/hostnqn)" },
	{ O_HOSTID, 0, "hostid", "UUID", C_NET, "host ID (default: /etc/nvme/hostid)" },
	{ O_HOST_TRADDR, 0, "host-traddr", "ADDR", C_NET, "connect from this source address" },
	{ O_HOST_IFACE, 0, "host-iface", "IFACE", C_NET, "connect from this interface" },
	{ O_HDGST, 'g', "hdr-digest", NULL, C_NET, "header digest (CRC32C)" },
	{ O_DDGST, 'G', "data-digest", NULL, C_NET, "data digest (CRC32C)" },
	{ O_KATO, 'k', "keep-alive-tmo", "SECONDS", C_NET,
	  "keep-alive timeout (0: none)" },
	{ O_DHCHAP_SECRET, 0, "dhchap-secret", "KEY", C_NET,
	  "DH-HMAC-CHAP host secret (DHHC-1:...), or a file holding it" },
	{ O_DHCHAP_CTRL_SECRET, 0, "dhchap-ctrl-secret", "KEY", C_NET,
	  "controller secret (or its file): authenticate the controller too" },
	{ O_TLS, 0, "tls", NULL, C_NET, "NVMe/TCP over TLS 1.3 with a pre-shared key" },
	{ O_TLS_KEY, 0, "tls-key", "KEY", C_NET,
	  "the TLS PSK (NVMeTLSkey-1:...); implies --tls" },
	{ O_TLS_KEY_FILE, 0, "tls-key-file", "PATH", C_NET,
	  "a file (mode 0600) holding the TLS PSK; implies --tls" },
	{ O_TLS_DERIV, 0, "tls-psk-derivation", "HOW", C_NET,
	  "auto (default: rfc, then compat), rfc or compat" },
	{ O_TLS_IDENTITY, 0, "tls-identity", "0|1", C_NET,
	  "PSK identity version: 0 NVMe0R0H (default), 1 NVMe1R0H with the PSK digest" },
	{ O_KEY_HMAC, 'm', "hmac", "N", C_GENKEY,
	  "transform the key with 0 none (default), 1 SHA-256, 2 SHA-384, 3 SHA-512" },
	{ O_KEY_LEN, 'l', "key-length", "BYTES", C_GENKEY,
	  "32, 48 or 64 (default: 32, or the hash's length)" },
	{ O_KEY_NQN, 'n', "nqn", "NQN", C_GENKEY,
	  "host NQN for the transformation (default: the host NQN in use)" },
	{ O_KEY_SECRET, 's', "secret", "HEX", C_GENKEY,
	  "the key's bytes in hex (default: random)" },
	{ O_KEY, 'k', "key", "KEY", C_CHKKEY, "the key to check (or as the argument)" },
	{ O_TLS_HMAC, 'm', "hmac", "N", C_GENTLS,
	  "hash of the retained PSK: 1 SHA-256 (default, 32 bytes), 2 SHA-384 (48)" },
	{ O_KEY_SECRET, 's', "secret", "HEX", C_GENTLS,
	  "the key's bytes in hex (default: random)" },
	{ O_KEY, 'k', "key", "KEY", C_CHKTLS, "the key to check (or as the argument)" },
	{ O_HOSTNQN, 0, "hostnqn", "NQN", C_GENTLS | C_CHKTLS,
	  "host NQN of the identity (default: the host NQN in use)" },
	{ O_NQN, 0, "subnqn", "NQN", C_GENTLS | C_CHKTLS,
	  "subsystem NQN: print the identity and the TLS PSK of both derivations" },
	{ O_TLS_IDENTITY, 'I', "identity", "0|1", C_GENTLS | C_CHKTLS,
	  "identity version: 0 NVMe0R0H (default), 1 NVMe1R0H with the PSK digest" },
	{ O_HELP, 'h', "help", NULL, C_ALL, "show this help" },
};

static const char *prog = "nvmeof";

/* ---- messages and exit codes ------------------------------------------- */

static void vmsg(struct cli *c, const char *fmt, va_list ap)
{
	if (c && c->cmd)
		fprintf(stderr, "%s: %s: ", prog, c->cmd->name);
	else
		fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_err(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, fmt, ap);
	va_end(ap);
}

static void usage_hint(struct cli *c)
{
	if (c && c->cmd)
		fprintf(stderr, "Try '%s %s --help' for more information.\n", prog,
			c->cmd->name);
	else
		fprintf(stderr, "Try '%s --help' for more information.\n", prog);
}

int cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, fmt, ap);
	va_end(ap);
	usage_hint(c);
	return EXIT_USAGE;
}

static int exit_for_errno(int e, bool connecting)
{
	switch (e) {
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN:
	case ENETDOWN: case EADDRNOTAVAIL: case EADDRINUSE:
		return EXIT_UNAVAILABLE;
	case ETIMEDOUT:
		return connecting ? EXIT_UNAVAILABLE : EXIT_IOERR;
	case EPROTO: case EBADMSG: case EPROTONOSUPPORT: case ENOTSUP:
		return EXIT_PROTOCOL;
	/* Without an NVMe status: the host has no identity (nqn.c). */
	case ENOENT:
		return connecting ? EXIT_CONFIG : EXIT_IOERR;
	case EACCES: case EBUSY: case EINVAL:
		return connecting ? EXIT_PROTOCOL : EXIT_IOERR;
	case ENOMEM: case EAGAIN: case EMFILE: case ENFILE:
		return EXIT_OSERR;
	case EKEYREJECTED: /* TLS: the target knows no such PSK */
		return EXIT_CONFIG;
	default:
		return EXIT_IOERR;
	}
}

int cli_exit_code(int rc, uint16_t status)
{
	if (status)
		return EXIT_PROTOCOL;
	return exit_for_errno(rc < 0 ? -rc : EIO, false);
}

static void fail_msg(struct cli *c, const char *what, int rc)
{
	const char *m = nvmeof_get_error();

	if (!m || !*m)
		m = strerror(rc < 0 ? -rc : EIO);
	if (what)
		cli_err(c, "%s: %s", what, m);
	else
		cli_err(c, "%s", m);
}

int cli_fail(struct cli *c, const char *what)
{
	int rc = -nvmeof_get_errno();

	fail_msg(c, what, rc);
	return cli_exit_code(rc, nvmeof_last_status());
}

/* ---- connecting ----------------------------------------------------------- */

void cli_opts(struct cli *c, struct nvmeof_opts *o)
{
	nvmeof_opts_init(o);
	o->traddr = c->host;
	o->trsvcid = c->port;
	o->hostnqn = c->hostnqn;
	o->hostid = c->hostid;
	o->host_traddr = c->host_traddr;
	o->host_iface = c->host_iface;
	o->hdr_digest = c->hdgst;
	o->data_digest = c->ddgst;
	if (c->kato_set)
		o->kato_ms = (int)(c->kato_s * 1000);
	if (c->busy_poll_set)
		o->busy_poll_us = (int)c->busy_poll_us;
	/* A DHHC-1 string, else the path of a file holding one. */
	if (c->dhchap_secret && !strncmp(c->dhchap_secret, "DHHC-1:", 7))
		o->dhchap_secret = c->dhchap_secret;
	else
		o->dhchap_secret_file = c->dhchap_secret;
	if (c->dhchap_ctrl_secret && !strncmp(c->dhchap_ctrl_secret, "DHHC-1:", 7))
		o->dhchap_ctrl_secret = c->dhchap_ctrl_secret;
	else
		o->dhchap_ctrl_secret_file = c->dhchap_ctrl_secret;
	o->tls = c->tls;
	o->tls_key = c->tls_key;
	o->tls_key_file = c->tls_key_file;
	o->tls_psk_derivation = c->tls_psk_derivation;
	o->tls_identity = (int)c->tls_identity;
}

size_t cli_ports(struct cli *c, bool discovery, const char *ports[2])
{
	if (c->port_given) {
		ports[0] = c->port;
		return 1;
	}
	if (!discovery) {
		ports[0] = "4420";
		return 1;
	}
	ports[0] = "8009";
	ports[1] = "4420";
	return 2;
}

int cli_connect_fail(struct cli *c, int rc, const char *refused_before)
{
	if (refused_before && rc == -ECONNREFUSED)
		cli_err(c, "%s (port %s refused too)", nvmeof_get_error(), refused_before);
	else
		fail_msg(c, NULL, rc);
	if (nvmeof_last_status())
		return EXIT_PROTOCOL;
	return exit_for_errno(-rc, true);
}

int cli_connect(struct cli *c, const char *traddr, const char *trsvcid,
		const char *subnqn, int nr_io_queues, int queue_size,
		struct nvmeof_ctrl **ctrlp)
{
	const char *ports[2];
	struct nvmeof_opts o;
	size_t n = 1, i;
	int rc = 0;

	if (trsvcid)
		ports[0] = trsvcid;
	else
		n = cli_ports(c, !subnqn, ports);
	cli_opts(c, &o);
	if (traddr)
		o.traddr = traddr;
	o.subnqn = subnqn;
	o.nr_io_queues = nr_io_queues;
	if (queue_size)
		o.queue_size = queue_size;
	for (i = 0; i < n; i++) {
		o.trsvcid = ports[i];
		rc = nvmeof_connect(&o, ctrlp);
		/* Only a refused TCP connection falls back to the next port. */
		if (rc != -ECONNREFUSED)
			break;
	}
	return rc ? cli_connect_fail(c, rc, n > 1 ? ports[0] : NULL) : 0;
}

int cli_disconnect(struct nvmeof_ctrl *ctrl)
{
	/* A shutdown that does not complete is not the command's failure. */
	(void)nvmeof_disconnect(ctrl);
	return 0;
}

/* ---- output helpers ---------------------------------------------------- */

void out_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f || *p >= 0x80)
			/* bytes from the wire: never trust them to be UTF-8 */
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void out_hex(FILE *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
}

void out_hexdump(FILE *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i, j;

	for (i = 0; i < len; i += 16) {
		fprintf(f, "%08zx: ", i);
		for (j = 0; j < 16; j++) {
			if (i + j < len)
				fprintf(f, "%02x ", p[i + j]);
			else
				fputs("   ", f);
		}
		fputs(" |", f);
		for (j = 0; j < 16 && i + j < len; j++)
			fputc(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.', f);
		fputs("|\n", f);
	}
}

int out_described(struct cli *c, char *text, const char *what)
{
	if (!text) {
		int e = errno;

		cli_err(c, "%s: %s", what,
			*nvmeof_get_error() ? nvmeof_get_error() : strerror(e));
		return e == ENOMEM ? EXIT_OSERR : EXIT_PROTOCOL;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

int out_binary(const void *buf, size_t len)
{
	return fwrite(buf, 1, len, stdout) == len ? 0 : EXIT_IOERR;
}

int out_finish(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", prog, strerror(errno));
		return rc ? rc : EXIT_IOERR;
	}
	return rc;
}

/* ---- strict numbers ------------------------------------------------------
 * Digits only (decimal, or hex after 0x), no sign, no blanks, no exponent;
 * sizes may end in one K, M or G (binary multiples).  Overflow is caught
 * before it happens. */

enum { NUM_OK, NUM_BAD, NUM_TOO_LARGE };

static int parse_u64(const char *s, bool suffix, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0, mult = 1;
	const char *p = s, *end;
	bool big = false;

	if (!s || !*s)
		return NUM_BAD;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	end = p + strlen(p);
	if (suffix && end > p) {
		switch (end[-1]) {
		case 'k': case 'K': mult = 1ull << 10; end--; break;
		case 'm': case 'M': mult = 1ull << 20; end--; break;
		case 'g': case 'G': mult = 1ull << 30; end--; break;
		default: break;
		}
	}
	if (end == p)
		return NUM_BAD;
	for (; p < end; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return NUM_BAD;
		if (v > (UINT64_MAX - d) / base)
			big = true; /* keep checking the syntax */
		else
			v = v * base + d;
	}
	if (big || v > UINT64_MAX / mult)
		return NUM_TOO_LARGE;
	*out = v * mult;
	return NUM_OK;
}

static const char *opt_label(const struct opt_row *r, char *buf, size_t n)
{
	if (r->shortc)
		snprintf(buf, n, "-%c/--%s", r->shortc, r->name);
	else
		snprintf(buf, n, "--%s", r->name);
	return buf;
}

/* Parse optarg for row r into [min, max]; 0 or EXIT_USAGE (message said). */
static int num_arg(struct cli *c, const struct opt_row *r, const char *arg,
		   uint64_t min, uint64_t max, bool suffix, uint64_t *out)
{
	char label[64];
	uint64_t v;

	opt_label(r, label, sizeof label);
	switch (parse_u64(arg, suffix, &v)) {
	case NUM_OK:
		break;
	case NUM_TOO_LARGE:
		return cli_usage_error(c, "%s: '%s' is too large (at most %llu)", label,
				       arg, (unsigned long long)max);
	default:
		if (!*arg)
			return cli_usage_error(c, "%s: an empty value is not a number", label);
		if (arg[0] == '-' && arg[1] && parse_u64(arg + 1, suffix, &v) == NUM_OK)
			return cli_usage_error(c, "%s: '%s' is negative (want %llu to %llu)",
					       label, arg, (unsigned long long)min,
					       (unsigned long long)max);
		return cli_usage_error(c, "%s: '%s' is not a %s", label, arg,
				       suffix ? "size (digits, then K, M or G)" :
						"whole number (decimal or 0x hex)");
	}
	if (v < min || v > max)
		return cli_usage_error(c, "%s: %s is out of range (%llu to %llu)", label,
				       arg, (unsigned long long)min,
				       (unsigned long long)max);
	*out = v;
	return 0;
}

static bool uuid_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' :
			   !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			     (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	}
	return true;
}

/* ---- help ------------------------------------------------------------------ */

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s COMMAND [ARGS] [OPTIONS]\n\n"
		   "A userspace NVMe/TCP host: talk to an NVMe over Fabrics target\n"
		   "without the kernel's initiator.\n\nCommands:\n", prog);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-17s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'%s COMMAND --help' shows the options of a command;"
		   " nvmeof(8) has the rest.\n"
		   "  -h, --help     show this help\n"
		   "      --version  show the version\n", prog);
}

static void cmd_usage(const struct cli_cmd *cmd)
{
	size_t i;

	printf("Usage: %s %s %s\n%s.\n\nOptions:\n", prog, cmd->name, cmd->args,
	       cmd->summary);
	for (i = 0; i < ARRAY_SIZE(opt_rows); i++) {
		const struct opt_row *r = &opt_rows[i];
		char left[64];

		if (!(r->cmds & cmd->bit))
			continue;
		snprintf(left, sizeof left, "%s%c%s--%s%s%s", r->shortc ? "-" : " ",
			 r->shortc ? r->shortc : ' ', r->shortc ? ", " : "  ", r->name,
			 r->arg ? " " : "", r->arg ? r->arg : "");
		printf("  %-30s %s\n", left, r->help);
	}
}

/* ---- parsing ----------------------------------------------------------------- */

static const struct cli_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int parse_output(struct cli *c, const struct opt_row *r, const char *arg)
{
	static const char *const names[] = { "text", "json", "binary" };
	char label[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(arg, names[i]))
			continue;
		if (!(c->cmd->formats & (1u << i)))
			return cli_usage_error(c, "%s: '%s' is not supported by %s (%s)",
					       opt_label(r, label, sizeof label), arg,
					       c->cmd->name,
					       c->cmd->formats & F_BIN ? "text, json or binary" :
									 "text or json");
		c->fmt = (enum out_fmt)i;
		return 0;
	}
	return cli_usage_error(c, "%s: unknown format '%s' (text, json%s)",
			       opt_label(r, label, sizeof label), arg,
			       c->cmd->formats & F_BIN ? " or binary" : "");
}

/* indexed by enum workload */
static const char *const workload_names[] = { "read", "write", "randread",
					      "randwrite", "rw", "randrw" };

static int parse_workload(struct cli *c, const struct opt_row *r, const char *arg)
{
	char label[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(workload_names); i++) {
		if (!strcmp(arg, workload_names[i])) {
			c->workload = (enum workload)i;
			return 0;
		}
	}
	return cli_usage_error(c, "%s: unknown workload '%s' (read, write, randread, randwrite, rw or randrw)",
			       opt_label(r, label, sizeof label), arg);
}

const char *workload_name(enum workload w)
{
	return workload_names[w];
}

static int parse_nqn_arg(struct cli *c, const struct opt_row *r, const char *arg,
			 const char **dst)
{
	char label[64];

	if (nvmeof_nqn_validate(arg) < 0)
		return cli_usage_error(c, "%s: %s", opt_label(r, label, sizeof label),
				       nvmeof_get_error());
	*dst = arg;
	return 0;
}

/* Apply one option; 0, EXIT_USAGE (message said) or -1 for --help. */
static int apply(struct cli *c, const struct opt_row *r, const char *arg)
{
	uint64_t v;
	int rc = 0;

	switch (r->id) {
	case O_HELP:
		return -1;
	case O_NQN:
		return parse_nqn_arg(c, r, arg, &c->subnqn);
	case O_HOSTNQN:
		return parse_nqn_arg(c, r, arg, &c->hostnqn);
	case O_HOSTID:
		if (!uuid_ok(arg))
			return cli_usage_error(c, "--hostid: '%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					       arg);
		c->hostid = arg;
		return 0;
	case O_HOST_TRADDR:
		if (!*arg)
			return cli_usage_error(c, "--host-traddr: the address is empty");
		c->host_traddr = arg;
		return 0;
	case O_HOST_IFACE:
		if (!*arg)
			return cli_usage_error(c, "--host-iface: the interface name is empty");
		c->host_iface = arg;
		return 0;
	case O_DHCHAP_SECRET:
	case O_DHCHAP_CTRL_SECRET:
		if (!*arg)
			return cli_usage_error(c, "--%s: empty", r->name);
		*(r->id == O_DHCHAP_SECRET ? &c->dhchap_secret : &c->dhchap_ctrl_secret) = arg;
		return 0;
	case O_KEY_HMAC:
		rc = num_arg(c, r, arg, 0, 3, false, &v);
		c->key_hmac = (unsigned)v;
		return rc;
	case O_KEY_LEN:
		rc = num_arg(c, r, arg, 32, 64, false, &v);
		if (!rc && v != 32 && v != 48 && v != 64)
			return cli_usage_error(c, "--key-length: %llu bytes; 32, 48 or 64",
					       (unsigned long long)v);
		c->key_len = (unsigned)v;
		return rc;
	case O_KEY_NQN:
		return parse_nqn_arg(c, r, arg, &c->key_nqn);
	case O_KEY_SECRET:
		c->key_secret = arg;
		return 0;
	case O_KEY:
		c->key = arg;
		return 0;
	case O_TLS_HMAC:
		rc = num_arg(c, r, arg, 1, 2, false, &v);
		c->key_hmac = (unsigned)v;
		return rc;
	case O_TLS_IDENTITY:
		rc = num_arg(c, r, arg, 0, 1, false, &v);
		c->tls_identity = (unsigned)v;
		return rc;
	case O_TLS:
		c->tls = true;
		return 0;
	case O_TLS_KEY:
	case O_TLS_KEY_FILE:
		if (!*arg)
			return cli_usage_error(c, "--%s: empty", r->name);
		*(r->id == O_TLS_KEY ? &c->tls_key : &c->tls_key_file) = arg;
		c->tls = true;
		return 0;
	case O_TLS_DERIV:
		if (!strcmp(arg, "auto"))
			c->tls_psk_derivation = NVMEOF_TLS_DERIVE_AUTO;
		else if (!strcmp(arg, "rfc"))
			c->tls_psk_derivation = NVMEOF_TLS_DERIVE_RFC;
		else if (!strcmp(arg, "compat"))
			c->tls_psk_derivation = NVMEOF_TLS_DERIVE_COMPAT;
		else
			return cli_usage_error(c, "--tls-psk-derivation: '%s' is not auto, "
					       "rfc or compat", arg);
		return 0;
	case O_HDGST:
		c->hdgst = true;
		return 0;
	case O_DDGST:
		c->ddgst = true;
		return 0;
	case O_KATO:
		rc = num_arg(c, r, arg, 0, 65535, false, &v);
		c->kato_s = (uint32_t)v;
		c->kato_set = true;
		return rc;
	case O_OUTPUT:
		return parse_output(c, r, arg);
	case O_NSID:
		rc = num_arg(c, r, arg, 1, 0xfffffffful, false, &v);
		c->nsid = (uint32_t)v;
		c->nsid_set = true;
		return rc;
	case O_CNS:
		rc = num_arg(c, r, arg, 0, 255, false, &v);
		c->cns = (int)v;
		return rc;
	case O_LID:
		rc = num_arg(c, r, arg, 0, 255, false, &v);
		c->lid = (int)v;
		return rc;
	case O_LEN:
		rc = num_arg(c, r, arg, 4, 64ull << 20, true, &v);
		if (rc == 0 && v % 4)
			return cli_usage_error(c, "--len: %s is not a multiple of 4", arg);
		c->len = v;
		c->len_set = true;
		return rc;
	case O_LSP:
		rc = num_arg(c, r, arg, 0, 127, false, &v);
		c->lsp = (uint8_t)v;
		return rc;
	case O_REFERRALS:
		c->referrals = true;
		return 0;
	case O_FID:
		rc = num_arg(c, r, arg, 1, 255, false, &v);
		c->fid = (int)v;
		return rc;
	case O_VALUE:
		rc = num_arg(c, r, arg, 0, 0xfffffffful, false, &v);
		c->value = (uint32_t)v;
		c->value_set = true;
		return rc;
	case O_SEL:
		rc = num_arg(c, r, arg, 0, 3, false, &v);
		c->sel = (uint8_t)v;
		return rc;
	case O_SAVE:
		c->save = true;
		return 0;
	case O_DEPTH:
		rc = num_arg(c, r, arg, 1, 1023, false, &v);
		c->depth = (uint32_t)v;
		return rc;
	case O_IOSIZE:
		rc = num_arg(c, r, arg, 512, 8u << 20, true, &v);
		c->io_size = v;
		return rc;
	case O_WORKLOAD:
		return parse_workload(c, r, arg);
	case O_MIX:
		rc = num_arg(c, r, arg, 0, 100, false, &v);
		c->mix = (uint32_t)v;
		c->mix_set = true;
		return rc;
	case O_TIME:
		rc = num_arg(c, r, arg, 1, 86400, false, &v);
		c->seconds = (uint32_t)v;
		return rc;
	case O_THREADS:
		rc = num_arg(c, r, arg, 1, 128, false, &v);
		c->threads = (uint32_t)v;
		return rc;
	case O_NR_IOQ:
		rc = num_arg(c, r, arg, 1, 128, false, &v);
		c->nr_io_queues = (uint32_t)v;
		return rc;
	case O_VERIFY:
		c->verify = true;
		return 0;
	case O_NO_PREFILL:
		c->no_prefill = true;
		return 0;
	case O_SPAN:
		rc = num_arg(c, r, arg, 512, UINT64_MAX, true, &v);
		c->span = v;
		return rc;
	case O_BUSY_POLL:
		rc = num_arg(c, r, arg, 0, 1000000, false, &v);
		c->busy_poll_us = (uint32_t)v;
		c->busy_poll_set = true;
		return rc;
	}
	return 0;
}

static void defaults(struct cli *c)
{
	memset(c, 0, sizeof *c);
	c->cns = -1;
	c->lid = -1;
	c->fid = -1;
	c->depth = 32;
	c->io_size = 4096;
	c->workload = W_RANDREAD;
	c->mix = 50;
	c->seconds = 10;
	c->threads = 1;
}

/* Parse argv (argv[0] is the subcommand).  0, EXIT_USAGE, or -1 for help. */
static int parse(struct cli *c, int argc, char **argv)
{
	const struct opt_row *rows[ARRAY_SIZE(opt_rows)];
	struct option longopts[ARRAY_SIZE(opt_rows) + 1];
	char shorts[2 * ARRAY_SIZE(opt_rows) + 2];
	size_t nr = 0, ns = 0, i;
	int ch, rc;

	shorts[ns++] = ':'; /* report a missing argument as ':' */
	for (i = 0; i < ARRAY_SIZE(opt_rows); i++) {
		const struct opt_row *r = &opt_rows[i];

		if (!(r->cmds & c->cmd->bit))
			continue;
		rows[nr] = r;
		longopts[nr] = (struct option){ r->name,
						r->arg ? required_argument : no_argument,
						NULL, 256 + (int)nr };
		nr++;
		if (r->shortc) {
			shorts[ns++] = r->shortc;
			if (r->arg)
				shorts[ns++] = ':';
		}
	}
	longopts[nr] = (struct option){ NULL, 0, NULL, 0 };
	shorts[ns] = '\0';

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		const struct opt_row *r = NULL;

		if (ch == '?' || ch == ':') {
			const char *bad = argv[optind - 1];
			char opt[8];

			if (optopt && optopt < 256) {
				snprintf(opt, sizeof opt, "-%c", optopt);
				bad = opt;
			}
			if (ch == ':')
				return cli_usage_error(c, "option '%s' needs a value", bad);
			return cli_usage_error(c, "unknown option '%s'", bad);
		}
		if (ch >= 256) {
			r = rows[ch - 256];
		} else {
			for (i = 0; i < nr && !r; i++)
				if (rows[i]->shortc == ch)
					r = rows[i];
		}
		if (!r)
			return cli_usage_error(c, "unknown option '-%c'", ch);
		rc = apply(c, r, optarg);
		if (rc)
			return rc;
	}

	if (c->tls && !c->tls_key == !c->tls_key_file)
		return cli_usage_error(c, c->tls_key ? "give --tls-key or --tls-key-file, not both" :
				       "--tls needs --tls-key-file PATH (or --tls-key KEY)");
	if (c->cmd->address) {
		if (optind >= argc)
			return cli_usage_error(c, "no target address (host[:port])");
		if (optind + 1 < argc)
			return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
		if (nvmeof_parse_address(argv[optind], c->host, sizeof c->host, c->port,
					 sizeof c->port, "") < 0)
			return cli_usage_error(c, "%s", nvmeof_get_error());
		c->port_given = c->port[0] != '\0';
	} else if ((c->cmd->bit & (C_CHKKEY | C_CHKTLS)) && optind < argc && !c->key) {
		if (optind + 1 < argc) /* check-dhchap-key KEY */
			return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
		c->key = argv[optind];
	} else if (optind < argc) {
		return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	int rc;

	defaults(&c);
	if (argc < 2)
		return cli_usage_error(NULL, "no command given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		main_usage(stdout);
		return out_finish(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog, PACKAGE_VERSION);
		return out_finish(0);
	}
	c.cmd = find_cmd(argv[1]);
	if (!c.cmd) {
		if (argv[1][0] == '-')
			return cli_usage_error(NULL, "'%s': give a command before options",
					       argv[1]);
		return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	}
	rc = parse(&c, argc - 1, argv + 1);
	if (rc == -1) {
		cmd_usage(c.cmd);
		return out_finish(0);
	}
	if (rc)
		return rc;
	return out_finish(c.cmd->run(&c));
}

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
#include "sysexit.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define C_NVMECLI (C_IDCTRL | C_IDNS | C_SMART | C_ERRLOG | C_FWLOG | C_GETLOG | \
		   C_REGS | C_APT | C_IOPT)
#define C_NET (C_DISCOVER | C_IDENTIFY | C_LOG | C_LIST | C_GETF | C_SETF | C_PERF | \
	       C_NVMECLI | C_CONNECT | C_CONNALL)
#define C_ALL (C_NET | C_GEN | C_SHOW | C_LSUBSYS | C_GENKEY | C_CHKKEY | \
	       C_GENTLS | C_CHKTLS)
#define C_NSID (C_IDENTIFY | C_LOG | C_GETF | C_SETF | C_PERF | C_IDNS | C_SMART | \
		C_ERRLOG | C_GETLOG | C_APT | C_IOPT)
#define C_PT (C_APT | C_IOPT)
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
	/* nvme-cli's names and output */
	{ "id-ctrl", C_IDCTRL, cmd_id_ctrl, "host[:port] [-n NQN] [options]",
	  "Identify Controller (as nvme id-ctrl)", true, F_TEXT | F_JSON | F_BIN },
	{ "id-ns", C_IDNS, cmd_id_ns, "host[:port] -n NQN [--namespace-id N] [options]",
	  "Identify Namespace (as nvme id-ns)", true, F_TEXT | F_JSON | F_BIN },
	{ "smart-log", C_SMART, cmd_smart_log, "host[:port] -n NQN [options]",
	  "SMART / Health Information log (as nvme smart-log)", true,
	  F_TEXT | F_JSON | F_BIN },
	{ "error-log", C_ERRLOG, cmd_error_log, "host[:port] -n NQN [-e ENTRIES] [options]",
	  "Error Information log (as nvme error-log)", true, F_TEXT | F_JSON | F_BIN },
	{ "fw-log", C_FWLOG, cmd_fw_log, "host[:port] -n NQN [options]",
	  "Firmware Slot Information log (as nvme fw-log)", true,
	  F_TEXT | F_JSON | F_BIN },
	{ "get-log", C_GETLOG, cmd_get_log,
	  "host[:port] [-n NQN] -i LID -l LEN [--lsp N] [--lpo N] [--rae] [--csi N] [options]",
	  "any log page, raw, read in pieces (as nvme get-log)", true,
	  F_TEXT | F_JSON | F_BIN },
	{ "show-regs", C_REGS, cmd_show_regs, "host[:port] [-n NQN] [options]",
	  "CAP, VS, CC and CSTS by Property Get, decoded (as nvme show-regs)", true,
	  F_TEXT | F_JSON },
	{ "admin-passthru", C_APT, cmd_admin_passthru,
	  "host[:port] [-n NQN] -O OPCODE [--cdw10 V ...] [-l LEN [-r | --write -i FILE]] [options]",
	  "a raw admin command (as nvme admin-passthru)", true, F_TEXT | F_BIN },
	{ "io-passthru", C_IOPT, cmd_io_passthru,
	  "host[:port] -n NQN -O OPCODE --namespace-id N [--cdw10 V ...] [-l LEN [-r | --write -i FILE]] [options]",
	  "a raw I/O command, any opcode (as nvme io-passthru)",
	  true, F_TEXT | F_BIN },
	/* on top of nvmeof-mount */
	{ "connect", C_CONNECT, cmd_connect,
	  "host[:port] -n NQN [--mountpoint DIR] [options]",
	  "mount a subsystem with nvmeof-mount (as nvme connect)", true, F_TEXT },
	{ "connect-all", C_CONNALL, cmd_connect_all, "[host[:port]] [options]",
	  "mount every NVM subsystem a discovery controller lists (as nvme connect-all)",
	  true, F_TEXT },
	{ "list-subsys", C_LSUBSYS, cmd_list_subsys, "[options]",
	  "the local nvmeof-mount mounts, their subsystems and paths (as nvme list-subsys)",
	  false, F_TEXT | F_JSON },
	{ "gen-dhchap-key", C_GENKEY, cmd_gen_dhchap_key,
	  "[--hmac 0-3] [--key-length 32|48|64] [--nqn NQN] [--secret HEX] [options]",
	  "print a new DH-HMAC-CHAP secret (DHHC-1), as nvme-cli", false,
	  F_TEXT | F_JSON },
	{ "check-dhchap-key", C_CHKKEY, cmd_check_dhchap_key, "KEY [options]",
	  "check a DH-HMAC-CHAP secret: format, length, CRC", false,
	  F_TEXT | F_JSON },
	{ "disconnect", 0, NULL, "MOUNTPOINT | --all", "end an nvmeof-mount's associations now, unmount", false, F_TEXT },
	{ "reconnect", 0, NULL, "MOUNTPOINT [HOST:PORT]", "reconnect an nvmeof-mount now (to a new address)", false, F_TEXT },
	{ "disconnect-all", 0, NULL, "[-h]", "disconnect every nvmeof-mount of the user (nvme-cli's name)", false, F_TEXT },
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
	O_SPAN, O_BUSY_POLL, O_CTRL_LOSS_TMO, O_RECONNECT_DELAY, O_FAST_IO_FAIL_TMO,
	O_TRANSPORT, O_TRADDR, O_TRSVCID, O_LOG_ENTRIES, O_LPO, O_RAE, O_CSI, O_XFER,
	O_OPCODE, O_FLAGS, O_CDW2, O_CDW3, O_CDW10, O_CDW11, O_CDW12, O_CDW13,
	O_CDW14, O_CDW15, O_DATA_LEN, O_INPUT_FILE, O_RAW_BINARY, O_PT_READ,
	O_PT_WRITE, O_MOUNTPOINT, O_BASE, O_CONFIG, O_DISC_CONF, O_DRY_RUN,
	O_DHCHAP_SECRET, O_DHCHAP_CTRL_SECRET,
	O_KEY_HMAC, O_KEY_LEN, O_KEY_NQN, O_KEY_SECRET, O_KEY,
	O_TLS_IDENTITY, O_TLS_HMAC, O_TLS, O_TLS_KEY, O_TLS_KEY_FILE, O_TLS_DERIV,
	O_TLS_PSK_FILE,
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
	{ O_NQN, 'n', "nqn", "NQN", C_IDENTIFY | C_LOG | C_GETF | C_SETF | C_IDCTRL |
	  C_GETLOG | C_REGS | C_APT,
	  "subsystem NQN (without it: the discovery controller)" },
	{ O_NQN, 'n', "nqn", "NQN", C_LIST,
	  "subsystem NQN (without it: every one the discovery log lists)" },
	{ O_NQN, 'n', "nqn", "NQN", C_PERF | C_IDNS | C_SMART | C_ERRLOG | C_FWLOG |
	  C_IOPT | C_CONNECT, "subsystem NQN (required)" },
	{ O_NSID, 0, "nsid", "N", C_NSID, "namespace ID" },
	{ O_NSID, 0, "ns", "N", C_NSID, "the same as --nsid" },
	{ O_NSID, 0, "namespace-id", "N", C_NSID, "the same as --nsid (nvme-cli's name)" },
	{ O_CNS, 0, "cns", "CNS", C_IDENTIFY,
	  "Identify CNS value (default: 0 with --nsid, else 1)" },
	{ O_LID, 'l', "lid", "ID", C_LOG, "log page identifier (0-255, or 0x..)" },
	{ O_LEN, 0, "len", "BYTES", C_LOG, "bytes to read (multiple of 4)" },
	{ O_LSP, 0, "lsp", "N", C_LOG | C_GETLOG, "log specific field (0-127)" },
	{ O_LID, 'i', "log-id", "ID", C_GETLOG, "log page identifier (0-255, or 0x..)" },
	{ O_LEN, 'l', "log-len", "BYTES", C_GETLOG, "bytes to read (multiple of 4)" },
	{ O_LPO, 0, "lpo", "OFFSET", C_GETLOG, "log page offset in bytes (multiple of 4)" },
	{ O_RAE, 'r', "rae", NULL, C_GETLOG, "retain an asynchronous event" },
	{ O_CSI, 0, "csi", "CSI", C_GETLOG, "command set identifier (0-255)" },
	{ O_XFER, 'x', "xfer-len", "BYTES", C_GETLOG,
	  "read the log in pieces of BYTES (multiple of 4; default 4096)" },
	{ O_LOG_ENTRIES, 'e', "log-entries", "N", C_ERRLOG,
	  "entries of 64 bytes to read (default 64)" },
	{ O_OPCODE, 'O', "opcode", "OPCODE", C_PT, "command opcode (required)" },
	{ O_FLAGS, 0, "flags", "FLAGS", C_PT, "command dword 0 bits 15:8" },
	{ O_CDW2, 0, "cdw2", "V", C_PT, "command dword 2" },
	{ O_CDW3, 0, "cdw3", "V", C_PT, "command dword 3" },
	{ O_CDW10, 0, "cdw10", "V", C_PT, "command dword 10" },
	{ O_CDW11, 0, "cdw11", "V", C_PT, "command dword 11" },
	{ O_CDW12, 0, "cdw12", "V", C_PT, "command dword 12" },
	{ O_CDW13, 0, "cdw13", "V", C_PT, "command dword 13" },
	{ O_CDW14, 0, "cdw14", "V", C_PT, "command dword 14" },
	{ O_CDW15, 0, "cdw15", "V", C_PT, "command dword 15" },
	{ O_DATA_LEN, 'l', "data-len", "BYTES", C_PT, "data transfer length" },
	{ O_PT_READ, 'r', "read", NULL, C_PT, "data moves from the controller (the default with -l)" },
	{ O_PT_WRITE, 0, "write", NULL, C_PT, "data moves to the controller, from --input-file" },
	{ O_INPUT_FILE, 'i', "input-file", "FILE", C_PT, "the data to write" },
	{ O_RAW_BINARY, 'b', "raw-binary", NULL, C_PT, "print the data read as raw bytes" },
	{ O_MOUNTPOINT, 'm', "mountpoint", "DIR", C_CONNECT,
	  "mount here (default: BASE/NQN with ':' turned into '-')" },
	{ O_BASE, 0, "base", "DIR", C_CONNECT | C_CONNALL,
	  "where mount points are made (default /run/nvmeof)" },
	{ O_DISC_CONF, 0, "discovery-conf", "FILE", C_CONNALL,
	  "discovery controllers to ask without an address (default /etc/nvme/discovery.conf)" },
	{ O_DRY_RUN, 0, "dry-run", NULL, C_CONNECT | C_CONNALL,
	  "print the nvmeof-mount commands instead of running them" },
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
	  "text (or normal), json or binary" },
	{ O_OUTPUT, 0, "output-format", "FMT", C_PERF, "text or json" },
	{ O_TRANSPORT, 't', "transport", "tcp", C_NET & ~C_PERF,
	  "transport: only tcp (nvme-cli's -t)" },
	{ O_TRANSPORT, 0, "transport", "tcp", C_PERF, "transport: only tcp" },
	{ O_TRADDR, 'a', "traddr", "ADDR", C_NET,
	  "target address, instead of host[:port]" },
	{ O_TRSVCID, 's', "trsvcid", "PORT", C_NET & ~(C_GETF | C_SETF), "target port" },
	{ O_TRSVCID, 0, "trsvcid", "PORT", C_GETF | C_SETF, "target port" },
	{ O_HOSTNQN, 'q', "hostnqn", "NQN", C_NET & ~C_PERF,
	  "host NQN (default: /etc/nvme/hostnqn)" },
	{ O_HOSTNQN, 0, "hostnqn", "NQN", C_PERF, "host NQN (default: /etc/nvme/hostnqn)" },
	{ O_HOSTID, 'I', "hostid", "UUID", C_NET, "host ID (default: /etc/nvme/hostid)" },
	{ O_HOST_TRADDR, 'w', "host-traddr", "ADDR", C_NET & ~C_PERF,
	  "connect from this source address" },
	{ O_HOST_TRADDR, 0, "host-traddr", "ADDR", C_PERF, "connect from this source address" },
	{ O_HOST_IFACE, 'f', "host-iface", "IFACE", C_NET & ~(C_GETF | C_SETF),
	  "connect from this interface" },
	{ O_HOST_IFACE, 0, "host-iface", "IFACE", C_GETF | C_SETF,
	  "connect from this interface" },
	{ O_HDGST, 'g', "hdr-digest", NULL, C_NET, "header digest (CRC32C)" },
	{ O_DDGST, 'G', "data-digest", NULL, C_NET, "data digest (CRC32C)" },
	{ O_KATO, 'k', "keep-alive-tmo", "SECONDS", C_NET,
	  "keep-alive timeout (0: none)" },
	{ O_CTRL_LOSS_TMO, 0, "ctrl-loss-tmo", "SECONDS", C_NET & ~(C_CONNECT | C_CONNALL),
	  "reconnect for up to SECONDS after a lost connection (default 0: fail at once; -1: forever)" },
	{ O_CTRL_LOSS_TMO, 0, "ctrl-loss-tmo", "SECONDS", C_CONNECT | C_CONNALL,
	  "the mount reconnects for up to SECONDS (default: nvmeof-mount's, 600; -1: forever)" },
	{ O_RECONNECT_DELAY, 0, "reconnect-delay", "SECONDS", C_NET,
	  "seconds between reconnect attempts (default 10)" },
	{ O_FAST_IO_FAIL_TMO, 0, "fast-io-fail-tmo", "SECONDS", C_NET,
	  "fail I/O after SECONDS while reconnecting (default -1: off)" },
	{ O_CONFIG, 'J', "config", "FILE", C_NET,
	  "nvme-cli's JSON configuration (default /etc/nvme/config.json; 'none': none)" },
	{ O_DHCHAP_SECRET, 0, "dhchap-secret", "KEY", C_NET,
	  "DH-HMAC-CHAP host secret (DHHC-1:...), or a file holding it" },
	{ O_DHCHAP_CTRL_SECRET, 0, "dhchap-ctrl-secret", "KEY", C_NET,
	  "controller secret (or its file): authenticate the controller too" },
	{ O_TLS, 0, "tls", NULL, C_NET, "NVMe/TCP over TLS 1.3 with a pre-shared key" },
	{ O_TLS_KEY, 0, "tls-key", "KEY", C_NET,
	  "the TLS PSK (NVMeTLSkey-1:...); implies --tls" },
	{ O_TLS_KEY_FILE, 0, "tls-key-file", "PATH", C_NET,
	  "a file (mode 0600) holding the TLS PSK; implies --tls" },
	{ O_TLS_PSK_FILE, 0, "tls-psk-file", "PATH", C_NET,
	  "a file (mode 0600) holding a TLS PSK already derived, in hex; implies --tls" },
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

/* One line, written at once: the library's admin thread may report a
 * change of state (cli_state_cb) while the main thread reports an error. */
static void vmsg(struct cli *c, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (c && c->cmd)
		n = snprintf(line, sizeof line, "%s: %s: ", prog, c->cmd->name);
	else
		n = snprintf(line, sizeof line, "%s: ", prog);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	strcat(line, "\n");
	fputs(line, stderr);
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

int cli_exit_code(int rc, uint16_t status)
{
	return nvmeof_sysexit(rc < 0 ? -rc : EIO, status, false);
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
	uint16_t status = nvmeof_last_status();

	fail_msg(c, what, rc);
	/* The connection went after connecting, and nothing waited for it. */
	if (!status && c && c->connected && c->ctrl_loss_tmo == 0) {
		switch (-rc) {
		case EIO: case ECONNRESET: case ECONNABORTED: case EPIPE:
		case ENOTCONN: case ESHUTDOWN: case ETIMEDOUT:
			cli_err(c, "the connection was lost and reconnecting is off (--ctrl-loss-tmo 0); --ctrl-loss-tmo SECONDS rides through an outage");
			break;
		default:
			break;
		}
	}
	return cli_exit_code(rc, status);
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
	/* One-shot commands: a lost connection is an error at once, as with
	 * nvme discover, unless --ctrl-loss-tmo asks to ride it out. */
	o->ctrl_loss_tmo = c->ctrl_loss_tmo;
	if (c->reconnect_delay >= 0)
		o->reconnect_delay = c->reconnect_delay;
	o->fast_io_fail_tmo = c->fast_io_fail_tmo;
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
	o->tls_psk_file = c->tls_psk_file;
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
	return nvmeof_sysexit(-rc, nvmeof_last_status(), true);
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
		/* connect-all: a key for the subsystems, a discovery port
		 * without TLS; the log's entries still say where TLS goes */
		if (rc && o.tls && c->disc_tls_fallback && (rc == -EPROTO || rc == -ECONNRESET) &&
		    strstr(nvmeof_get_error(), "TLS handshake with")) {
			cli_err(c, "warning: %s; reading the discovery log without TLS (each "
				"subsystem gets TLS where its entry offers it)", nvmeof_get_error());
			o.tls = false;
			rc = nvmeof_connect(&o, ctrlp);
		}
		/* Only a refused TCP connection falls back to the next port. */
		if (rc != -ECONNREFUSED)
			break;
	}
	if (rc)
		return cli_connect_fail(c, rc, n > 1 ? ports[0] : NULL);
	nvmeof_set_state_cb(*ctrlp, cli_state_cb, c);
	c->connected = true;
	return 0;
}

/* Each change of the association's state, as it happens: a lost
 * connection (and, with --ctrl-loss-tmo, each reconnect) is said on
 * stderr before the command's own error. */
void cli_state_cb(void *arg, const char *state, const char *why)
{
	struct cli *c = arg;

	if (!strcmp(state, "live"))
		cli_err(c, "connection live again: %s", why ? why : "");
	else
		cli_err(c, "connection %s: %s%s", state, why ? why : "",
			c->ctrl_loss_tmo == 0 && !strcmp(state, "failed") ?
			" (--ctrl-loss-tmo SECONDS rides through an outage)" : "");
}

int cli_disconnect(struct nvmeof_ctrl *ctrl)
{
	if (!ctrl)
		return 0;
	/* Our own shutdown is no news. */
	nvmeof_set_state_cb(ctrl, NULL, NULL);
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
			*nvmeof_describe_error() ? nvmeof_describe_error() : strerror(e));
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

	if (!strcmp(arg, "normal")) /* nvme-cli's word for text */
		arg = "text";
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

/* Seconds for the reconnect options: 0 to 86400, or -1 when minus_one
 * (forever / off, as nvme-cli takes it). */
static int tmo_arg(struct cli *c, const struct opt_row *r, const char *arg,
		   bool minus_one, int *out)
{
	uint64_t v;
	int rc;

	if (minus_one && !strcmp(arg, "-1")) {
		*out = -1;
		return 0;
	}
	rc = num_arg(c, r, arg, 0, 86400, false, &v);
	if (rc == 0)
		*out = (int)v;
	return rc;
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
	case O_TLS_PSK_FILE:
		if (!*arg)
			return cli_usage_error(c, "--%s: empty", r->name);
		*(r->id == O_TLS_KEY ? &c->tls_key : r->id == O_TLS_KEY_FILE ?
		  &c->tls_key_file : &c->tls_psk_file) = arg;
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
	case O_CTRL_LOSS_TMO:
		c->clt_set = true;
		return tmo_arg(c, r, arg, true, &c->ctrl_loss_tmo);
	case O_RECONNECT_DELAY:
		c->rd_set = true;
		rc = tmo_arg(c, r, arg, false, &c->reconnect_delay);
		if (rc == 0 && c->reconnect_delay == 0)
			return cli_usage_error(c, "--reconnect-delay: 0 is out of range (1 to 86400)");
		return rc;
	case O_FAST_IO_FAIL_TMO:
		c->fift_set = true;
		return tmo_arg(c, r, arg, true, &c->fast_io_fail_tmo);
	case O_TRANSPORT:
		if (strcmp(arg, "tcp"))
			return cli_usage_error(c, "-t/--transport: '%s' is not supported (only tcp)",
					       arg);
		return 0;
	case O_TRADDR:
		if (!*arg)
			return cli_usage_error(c, "-a/--traddr: the address is empty");
		c->traddr_opt = arg;
		return 0;
	case O_TRSVCID:
		rc = num_arg(c, r, arg, 1, 65535, false, &v);
		c->trsvcid_opt = arg;
		return rc;
	case O_LOG_ENTRIES:
		rc = num_arg(c, r, arg, 1, 4096, false, &v);
		c->len = v * 64;
		c->len_set = true;
		return rc;
	case O_LPO:
		rc = num_arg(c, r, arg, 0, UINT64_MAX, false, &v);
		if (rc == 0 && v % 4)
			return cli_usage_error(c, "--lpo: %s is not a multiple of 4", arg);
		c->lpo = v;
		return rc;
	case O_RAE:
		c->rae = true;
		return 0;
	case O_CSI:
		rc = num_arg(c, r, arg, 0, 255, false, &v);
		c->csi = (uint8_t)v;
		return rc;
	case O_XFER:
		rc = num_arg(c, r, arg, 4, 64u << 20, true, &v);
		if (rc == 0 && v % 4)
			return cli_usage_error(c, "-x/--xfer-len: %s is not a multiple of 4", arg);
		c->xfer = (uint32_t)v;
		return rc;
	case O_OPCODE:
		rc = num_arg(c, r, arg, 0, 255, false, &v);
		c->opcode = (uint8_t)v;
		c->opcode_set = true;
		return rc;
	case O_FLAGS:
		rc = num_arg(c, r, arg, 0, 255, false, &v);
		c->flags = (uint8_t)v;
		return rc;
	case O_CDW2: case O_CDW3: case O_CDW10: case O_CDW11: case O_CDW12:
	case O_CDW13: case O_CDW14: case O_CDW15: {
		static const struct { enum opt_id id; unsigned dw; } map[] = {
			{ O_CDW2, 2 }, { O_CDW3, 3 }, { O_CDW10, 10 }, { O_CDW11, 11 },
			{ O_CDW12, 12 }, { O_CDW13, 13 }, { O_CDW14, 14 }, { O_CDW15, 15 },
		};
		size_t k;

		rc = num_arg(c, r, arg, 0, 0xfffffffful, false, &v);
		for (k = 0; k < ARRAY_SIZE(map); k++)
			if (map[k].id == r->id)
				c->cdw[map[k].dw] = (uint32_t)v;
		return rc;
	}
	case O_DATA_LEN:
		rc = num_arg(c, r, arg, 0, 16u << 20, true, &v);
		c->data_len = (uint32_t)v;
		return rc;
	case O_PT_READ:
		c->pt_read = true;
		return 0;
	case O_PT_WRITE:
		c->pt_write = true;
		return 0;
	case O_INPUT_FILE:
		c->input_file = arg;
		return 0;
	case O_RAW_BINARY:
		c->raw_binary = true;
		return 0;
	case O_MOUNTPOINT:
		if (!*arg)
			return cli_usage_error(c, "--mountpoint: the directory is empty");
		c->mountpoint = arg;
		return 0;
	case O_BASE:
		if (!*arg)
			return cli_usage_error(c, "--base: the directory is empty");
		c->base_dir = arg;
		return 0;
	case O_CONFIG:
		c->config_file = arg;
		return 0;
	case O_DISC_CONF:
		c->discovery_conf = arg;
		return 0;
	case O_DRY_RUN:
		c->dry_run = true;
		return 0;
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
	c->ctrl_loss_tmo = 0;
	c->reconnect_delay = -1;
	c->fast_io_fail_tmo = -1;
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

	if (c->tls && (c->tls_key != NULL) + (c->tls_key_file != NULL) +
	    (c->tls_psk_file != NULL) != 1)
		return cli_usage_error(c, c->tls_key || c->tls_key_file || c->tls_psk_file ?
				       "give one of --tls-key, --tls-key-file and --tls-psk-file, "
				       "not both" :
				       "--tls needs --tls-key-file PATH (or --tls-key KEY, or "
				       "--tls-psk-file PATH)");
	if (c->tls_psk_file && c->tls_identity)
		return cli_usage_error(c, "--tls-psk-file goes with --tls-identity 0: a version 1 "
				       "identity needs the configured key");
	if (c->cmd->address) {
		if (optind + 1 < argc)
			return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
		if (optind < argc && c->traddr_opt)
			return cli_usage_error(c, "the target is given twice: '%s' and -a %s",
					       argv[optind], c->traddr_opt);
		if (optind < argc) {
			if (nvmeof_parse_address(argv[optind], c->host, sizeof c->host,
						 c->port, sizeof c->port, "") < 0)
				return cli_usage_error(c, "%s", nvmeof_get_error());
			if (c->port[0] && c->trsvcid_opt)
				return cli_usage_error(c, "the port is given twice: '%s' and -s %s",
						       argv[optind], c->trsvcid_opt);
		} else if (c->traddr_opt) {
			/* -a takes a bare address: an IPv6 one has colons */
			if (strlen(c->traddr_opt) >= sizeof c->host)
				return cli_usage_error(c, "-a/--traddr: the address is too long");
			snprintf(c->host, sizeof c->host, "%s", c->traddr_opt);
		} else if (c->cmd->bit != C_CONNALL) {
			return cli_usage_error(c, "no target address (host[:port], or -a ADDR [-s PORT])");
		}
		if (c->trsvcid_opt)
			snprintf(c->port, sizeof c->port, "%s", c->trsvcid_opt);
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
	if (!c.cmd->run) /* disconnect.c: commands on a mount */
		return out_finish(cli_mount_cmd(c.cmd->name, argc - 1, argv + 1));
	rc = parse(&c, argc - 1, argv + 1);
	if (rc == -1) {
		cmd_usage(c.cmd);
		return out_finish(0);
	}
	if (rc)
		return rc;
	if (c.cmd->bit & C_NET) {
		rc = cli_config_defaults(&c);
		if (rc)
			return rc;
	}
	return out_finish(c.cmd->run(&c));
}

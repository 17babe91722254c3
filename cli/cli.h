/* SPDX-License-Identifier: MIT */
/*
 * nvmeof(8): what the files of the command-line tool share.  nvmeof.c
 * parses the command line once (one option table for every subcommand),
 * maps failures to exit codes and connects; cmds.c and perf.c hold the
 * subcommands.  Only <nvmeof.h> of the library is used, and the decoder of
 * common/describe.h.
 */
#ifndef NVMEOF_CLI_H
#define NVMEOF_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "describe.h"
#include "nvmeof.h"

/* sysexits(3) codes, documented in nvmeof(8) EXIT STATUS. */
#define EXIT_USAGE 64       /* EX_USAGE: bad command line */
#define EXIT_DATAERR 65     /* EX_DATAERR: check-dhchap-key: the key is not valid */
#define EXIT_UNAVAILABLE 69 /* EX_UNAVAILABLE: target unreachable or refused TCP */
#define EXIT_OSERR 71       /* EX_OSERR: out of memory, threads, ... */
#define EXIT_IOERR 74       /* EX_IOERR: I/O failed, data mismatch, output */
#define EXIT_PROTOCOL 76    /* EX_PROTOCOL: NVMe error status, protocol error */
#define EXIT_CONFIG 78      /* EX_CONFIG: no host NQN / host ID to be found */

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_BINARY };

enum workload { W_READ, W_WRITE, W_RANDREAD, W_RANDWRITE, W_RW, W_RANDRW };

/* Subcommands, as bits: each option says which subcommands take it. */
enum {
	C_DISCOVER = 1u << 0,
	C_IDENTIFY = 1u << 1,
	C_LOG = 1u << 2,
	C_LIST = 1u << 3,
	C_GETF = 1u << 4,
	C_SETF = 1u << 5,
	C_PERF = 1u << 6,
	C_GEN = 1u << 7,
	C_SHOW = 1u << 8,
	/* nvme-cli's names */
	C_IDCTRL = 1u << 9,
	C_IDNS = 1u << 10,
	C_SMART = 1u << 11,
	C_ERRLOG = 1u << 12,
	C_FWLOG = 1u << 13,
	C_GETLOG = 1u << 14,
	C_REGS = 1u << 15,
	C_APT = 1u << 16,
	C_IOPT = 1u << 17,
	/* on top of nvmeof-mount */
	C_CONNECT = 1u << 18,
	C_CONNALL = 1u << 19,
	C_LSUBSYS = 1u << 20,
	C_GENKEY = 1u << 21,
	C_CHKKEY = 1u << 22,
	C_GENTLS = 1u << 23,
	C_CHKTLS = 1u << 24,
};

struct cli;

struct cli_cmd {
	const char *name;
	unsigned bit;
	int (*run)(struct cli *c);
	const char *args;    /* synopsis after the name */
	const char *summary; /* one line for "nvmeof --help" */
	bool address;        /* takes host[:port] */
	unsigned formats;    /* 1 << OUT_* accepted by -o */
};

/* Everything the command line said, parsed and range-checked. */
struct cli {
	const struct cli_cmd *cmd;
	/* target */
	char host[256];
	char port[16];
	bool port_given;
	/* nvme-cli's addressing: -t tcp -a ADDR -s PORT */
	const char *traddr_opt;
	const char *trsvcid_opt;
	const char *subnqn;
	const char *hostnqn;
	const char *hostid;
	const char *host_traddr;
	const char *host_iface;
	bool hdgst, ddgst;
	bool kato_set;
	uint32_t kato_s;
	int ctrl_loss_tmo;    /* default 0: no reconnect; -1: forever */
	int reconnect_delay;  /* -1: the library's default */
	int fast_io_fail_tmo; /* -1: off */
	bool connected;       /* an association stood (cli_connect) */
	bool clt_set, rd_set, fift_set; /* given on the command line */
	enum out_fmt fmt;
	/* identify, log, features, perf */
	bool nsid_set;
	uint32_t nsid;
	int cns;             /* -1: by --nsid */
	/* log */
	int lid;             /* -1: not given */
	bool len_set;
	uint64_t len;
	uint8_t lsp;
	/* get-log */
	uint64_t lpo;
	bool rae;
	uint8_t csi;
	uint32_t xfer;         /* bytes per Get Log Page (0: 4096) */
	/* admin-passthru, io-passthru */
	bool opcode_set;
	uint8_t opcode;
	uint8_t flags;
	uint32_t cdw[16];      /* 2, 3, 10..15 used */
	uint32_t data_len;
	const char *input_file;
	bool raw_binary;
	bool pt_read, pt_write;
	/* connect, connect-all, list-subsys */
	const char *mountpoint;
	const char *base_dir;  /* default /run/nvmeof */
	const char *config_file;    /* default /etc/nvme/config.json */
	const char *discovery_conf; /* default /etc/nvme/discovery.conf */
	bool dry_run;
	bool read_only;
	const char *mount_prog;     /* default nvmeof-mount */
	/* features */
	int fid;             /* -1: not given */
	bool value_set;
	uint32_t value;
	uint8_t sel;
	bool save;
	/* discover */
	bool referrals;
	/* perf */
	uint32_t depth;
	uint64_t io_size;
	enum workload workload;
	bool mix_set;
	uint32_t mix;        /* read percentage */
	uint32_t seconds;
	uint32_t threads;
	uint32_t nr_io_queues; /* 0: as many as threads */
	bool verify;
	bool no_prefill;       /* --verify without writing the pattern first */
	uint64_t span;         /* bytes; 0: the whole namespace */
	bool busy_poll_set;
	uint32_t busy_poll_us; /* nvmeof_opts.busy_poll_us */
	/* DH-HMAC-CHAP: a DHHC-1 secret, or the file that holds one */
	const char *dhchap_secret, *dhchap_ctrl_secret;
	/* gen-dhchap-key, check-dhchap-key (dhchap.c) */
	unsigned key_hmac, key_len;  /* 0: default */
	const char *key_nqn, *key_secret, *key;
	/* gen-tls-key, check-tls-key (tls.c): the identity version */
	unsigned tls_identity;
	/* NVMe/TCP over TLS on connecting commands */
	bool tls;
	const char *tls_key, *tls_key_file;
	const char *tls_psk_file;  /* a TLS PSK already derived, in hex */
	bool disc_tls_fallback;    /* connect-all: discovery without TLS if it has none */
	int tls_psk_derivation;
};

/* nvmeof.c */
void cli_err(struct cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);
/* After a failed library call: print its message, return the exit code. */
int cli_fail(struct cli *c, const char *what);
/* The exit code of a failure: a negative errno and an NVMe status field. */
int cli_exit_code(int rc, uint16_t status);
/* A usage error found after parsing: message, hint, EXIT_USAGE. */
int cli_usage_error(struct cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Connect to c->host:port.  subnqn NULL: the discovery controller; then,
 * when no port was given, 8009 and (if refused) 4420 are tried. */
int cli_connect(struct cli *c, const char *traddr, const char *trsvcid,
		const char *subnqn, int nr_io_queues, int queue_size,
		struct nvmeof_ctrl **ctrlp);
void cli_opts(struct cli *c, struct nvmeof_opts *o);
/* Ports to try: the one given, else 4420 for an NVM subsystem, or 8009
 * then 4420 for discovery.  Returns how many. */
size_t cli_ports(struct cli *c, bool discovery, const char *ports[2]);
/* Message and exit code of a failed nvmeof_connect() (or discover_all);
 * refused_before: the port tried first, when both were refused. */
int cli_connect_fail(struct cli *c, int rc, const char *refused_before);
int cli_disconnect(struct nvmeof_ctrl *ctrl);
/* The state callback cli_connect() installs (arg: the struct cli). */
void cli_state_cb(void *arg, const char *state, const char *why);

/* output */
void out_json_string(FILE *f, const char *s);
void out_hexdump(FILE *f, const void *buf, size_t len);
void out_hex(FILE *f, const void *buf, size_t len);
/* Print an nvmeof_describe() result (and free it); NULL: failure. */
int out_described(struct cli *c, char *text, const char *what);
int out_binary(const void *buf, size_t len);
/* flush stdout; EXIT_IOERR if writing failed */
int out_finish(int rc);

/* cmds.c */
int cmd_discover(struct cli *c);
int cmd_identify(struct cli *c);
int cmd_log(struct cli *c);
int cmd_list(struct cli *c);
int cmd_get_feature(struct cli *c);
int cmd_set_feature(struct cli *c);
int cmd_gen_hostnqn(struct cli *c);
int cmd_show_hostnqn(struct cli *c);
/* dhchap.c */
int cmd_gen_dhchap_key(struct cli *c);
int cmd_check_dhchap_key(struct cli *c);
/* tls.c */
int cmd_gen_tls_key(struct cli *c);
int cmd_check_tls_key(struct cli *c);

/* nvmecli.c: nvme-cli's names */
int cmd_id_ctrl(struct cli *c);
int cmd_id_ns(struct cli *c);
int cmd_smart_log(struct cli *c);
int cmd_error_log(struct cli *c);
int cmd_fw_log(struct cli *c);
int cmd_get_log(struct cli *c);
int cmd_show_regs(struct cli *c);
int cmd_admin_passthru(struct cli *c);
int cmd_io_passthru(struct cli *c);

/* connect.c: on top of nvmeof-mount */
int cmd_connect(struct cli *c);
int cmd_connect_all(struct cli *c);
int cmd_list_subsys(struct cli *c);
/* Host NQN / host ID from config.json when the command line gave none. */
int cli_config_defaults(struct cli *c);
/* The file that holds a DHHC-1 secret for the mount at mnt (kind "host"
 * or "ctrl"), and their removal at disconnect. */
int cli_secret_path(const char *mnt, const char *kind, char *out, size_t n);
void cli_secret_remove(const char *mnt);

/* perf.c */
int cmd_perf(struct cli *c);
const char *workload_name(enum workload w);

/* disconnect.c: disconnect and reconnect, commands on an nvmeof-mount
 * (their own arguments: argv[0] is the command).  An exit code. */
int cli_mount_cmd(const char *cmd, int argc, char **argv);

#endif

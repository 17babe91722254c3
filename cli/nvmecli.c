/* SPDX-License-Identifier: MIT */
/*
 * nvme-cli's command names over NVMe/TCP: id-ctrl, id-ns, smart-log,
 * error-log, fw-log (the decoders of identify and log under nvme-cli's
 * names), get-log (any log page, raw, read in pieces by offset),
 * show-regs (Property Get of CAP, VS, CC and CSTS, decoded), and
 * admin-passthru / io-passthru (raw command fields, data from or to files).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- aliases of identify and log ---------------------------------------- */

int cmd_id_ctrl(struct cli *c)
{
	c->cns = 1;
	c->nsid_set = false;
	return cmd_identify(c);
}

int cmd_id_ns(struct cli *c)
{
	c->cns = 0;
	if (!c->nsid_set) {
		c->nsid = 1;
		c->nsid_set = true;
	}
	return cmd_identify(c);
}

int cmd_smart_log(struct cli *c)
{
	c->lid = 0x02;
	return cmd_log(c);
}

int cmd_error_log(struct cli *c)
{
	c->lid = 0x01;
	if (!c->len_set) {
		c->len = 64 * 64;
		c->len_set = true;
	}
	return cmd_log(c);
}

int cmd_fw_log(struct cli *c)
{
	c->lid = 0x03;
	return cmd_log(c);
}

/* ---- raw commands ------------------------------------------------------ */

static void put32(uint8_t *sqe, unsigned off, uint32_t v)
{
	sqe[off] = (uint8_t)v;
	sqe[off + 1] = (uint8_t)(v >> 8);
	sqe[off + 2] = (uint8_t)(v >> 16);
	sqe[off + 3] = (uint8_t)(v >> 24);
}

/* Command dword n sits at byte 4 * n of the 64-byte SQE. */
static void put_cdw(uint8_t *sqe, unsigned n, uint32_t v)
{
	put32(sqe, 4 * n, v);
}

/* ---- get-log ------------------------------------------------------------- */

int cmd_get_log(struct cli *c)
{
	struct nvmeof_ctrl *ctrl;
	uint32_t nsid = c->nsid_set ? c->nsid : 0xffffffffu;
	uint32_t piece = c->xfer ? c->xfer : 4096;
	uint8_t *buf;
	size_t done = 0, len;
	char what[64];
	int rc = 0;

	if (c->lid < 0)
		return cli_usage_error(c, "-i/--log-id is required");
	if (!c->len_set)
		return cli_usage_error(c, "-l/--log-len is required");
	len = (size_t)c->len;
	buf = calloc(1, len);
	if (!buf) {
		cli_err(c, "out of memory");
		return EXIT_OSERR;
	}
	rc = cli_connect(c, NULL, NULL, c->subnqn, 0, 0, &ctrl);
	if (rc) {
		free(buf);
		return rc;
	}
	/* Piece by piece, each at its offset (LPOL/LPOU), as nvme get-log
	 * --xfer-len does: a log larger than the controller's MDTS, or one a
	 * controller only returns in parts, reads whole. */
	while (done < len) {
		uint8_t sqe[64];
		uint32_t n = (uint32_t)(len - done < piece ? len - done : piece);
		uint32_t numd = n / 4 - 1;
		uint64_t off = c->lpo + done;

		memset(sqe, 0, sizeof sqe);
		sqe[0] = 0x02; /* Get Log Page */
		put32(sqe, 4, nsid);
		put_cdw(sqe, 10, (uint32_t)c->lid | (uint32_t)(c->lsp & 0x7f) << 8 |
				 (c->rae ? 1u << 15 : 0) | (numd & 0xffff) << 16);
		put_cdw(sqe, 11, numd >> 16);
		put_cdw(sqe, 12, (uint32_t)off);
		put_cdw(sqe, 13, (uint32_t)(off >> 32));
		put_cdw(sqe, 14, (uint32_t)c->csi << 24);
		if (nvmeof_admin_cmd(ctrl, sqe, buf + done, n, false, NULL) < 0) {
			snprintf(what, sizeof what, "Get Log Page 0x%02x at offset %" PRIu64,
				 (unsigned)c->lid, off);
			rc = cli_fail(c, what);
			break;
		}
		done += n;
	}
	cli_disconnect(ctrl);
	if (rc == 0) {
		if (c->fmt == OUT_BINARY) {
			rc = out_binary(buf, len);
		} else if (c->fmt == OUT_JSON) {
			printf("{\n  \"log_id\": %d,\n  \"namespace_id\": %u,\n  \"offset\": %" PRIu64
			       ",\n  \"length\": %zu,\n  \"data\": \"", c->lid, nsid, c->lpo, len);
			out_hex(stdout, buf, len);
			printf("\"\n}\n");
		} else {
			printf("log_id: 0x%02x namespace_id: 0x%08x offset: %" PRIu64 " length: %zu\n",
			       (unsigned)c->lid, nsid, c->lpo, len);
			out_hexdump(stdout, buf, len);
		}
	}
	free(buf);
	return rc;
}

/* ---- show-regs ------------------------------------------------------------- */

/* Property Get (NVMe-oF 1.1 §3.4): fabrics opcode 7Fh, FCTYPE 04h, ATTRIB
 * byte 40 (0: 4 bytes, 1: 8 bytes), OFST bytes 44-47; the value comes
 * back in completion dword 0. */
static int prop_get32(struct nvmeof_ctrl *ctrl, uint32_t ofst, uint32_t *v)
{
	uint8_t sqe[64];

	memset(sqe, 0, sizeof sqe);
	sqe[0] = 0x7f;
	sqe[4] = 0x04;
	sqe[40] = 0;
	put32(sqe, 44, ofst);
	return nvmeof_admin_cmd(ctrl, sqe, NULL, 0, false, v);
}

#define BITS(v, hi, lo) ((unsigned)(((v) >> (lo)) & ((1ull << ((hi) - (lo) + 1)) - 1)))

int cmd_show_regs(struct cli *c)
{
	static const char *const shn[] = { "none", "normal", "abrupt", "reserved" };
	static const char *const shst[] = { "normal operation", "shutdown processing",
					     "shutdown complete", "reserved" };
	struct nvmeof_ctrl *ctrl;
	uint32_t vs, cc, csts;
	uint64_t cap;
	int rc;

	rc = cli_connect(c, NULL, NULL, c->subnqn, 0, 0, &ctrl);
	if (rc)
		return rc;
	/* CAP is 8 bytes: the library read it with Property Get at connect. */
	cap = nvmeof_ctrl_cap(ctrl);
	if (prop_get32(ctrl, 0x08, &vs) < 0 || prop_get32(ctrl, 0x14, &cc) < 0 ||
	    prop_get32(ctrl, 0x1c, &csts) < 0) {
		rc = cli_fail(c, "Property Get");
		cli_disconnect(ctrl);
		return rc;
	}
	cli_disconnect(ctrl);
	if (c->fmt == OUT_JSON) {
		printf("{\n  \"cap\": %" PRIu64 ",\n  \"vs\": %u,\n  \"cc\": %u,\n  \"csts\": %u,\n",
		       cap, vs, cc, csts);
		printf("  \"cap_decoded\": {\"mqes\": %u, \"cqr\": %u, \"ams\": %u, \"to_ms\": %u"
		       ", \"dstrd\": %u, \"nssrs\": %u, \"css\": %u, \"bps\": %u"
		       ", \"mpsmin_bytes\": %llu, \"mpsmax_bytes\": %llu},\n",
		       BITS(cap, 15, 0) + 1, BITS(cap, 16, 16), BITS(cap, 18, 17),
		       BITS(cap, 31, 24) * 500, BITS(cap, 35, 32), BITS(cap, 36, 36),
		       BITS(cap, 44, 37), BITS(cap, 45, 45),
		       4096ull << BITS(cap, 51, 48), 4096ull << BITS(cap, 55, 52));
		printf("  \"vs_decoded\": \"%u.%u.%u\",\n", BITS(vs, 31, 16), BITS(vs, 15, 8),
		       BITS(vs, 7, 0));
		printf("  \"cc_decoded\": {\"en\": %u, \"css\": %u, \"mps_bytes\": %llu, \"ams\": %u"
		       ", \"shn\": \"%s\", \"iosqes\": %u, \"iocqes\": %u},\n",
		       BITS(cc, 0, 0), BITS(cc, 6, 4), 4096ull << BITS(cc, 10, 7),
		       BITS(cc, 13, 11), shn[BITS(cc, 15, 14)], BITS(cc, 19, 16),
		       BITS(cc, 23, 20));
		printf("  \"csts_decoded\": {\"rdy\": %u, \"cfs\": %u, \"shst\": \"%s\""
		       ", \"nssro\": %u, \"pp\": %u}\n}\n",
		       BITS(csts, 0, 0), BITS(csts, 1, 1), shst[BITS(csts, 3, 2)],
		       BITS(csts, 4, 4), BITS(csts, 5, 5));
		return 0;
	}
	/* nvme show-regs' lines first, then what they say. */
	printf("cap     : %" PRIx64 "\nversion : %x\ncc      : %x\ncsts    : %x\n\n",
	       cap, vs, cc, csts);
	printf("Controller Capabilities (CAP): %" PRIx64 "\n", cap);
	printf("\tMaximum Queue Entries Supported (MQES): %u\n", BITS(cap, 15, 0) + 1);
	printf("\tContiguous Queues Required (CQR): %s\n", BITS(cap, 16, 16) ? "Yes" : "No");
	printf("\tArbitration Mechanism Supported (AMS): %u\n", BITS(cap, 18, 17));
	printf("\tTimeout (TO): %u ms\n", BITS(cap, 31, 24) * 500);
	printf("\tDoorbell Stride (DSTRD): %u bytes\n", 4u << BITS(cap, 35, 32));
	printf("\tNVM Subsystem Reset Supported (NSSRS): %s\n",
	       BITS(cap, 36, 36) ? "Yes" : "No");
	printf("\tCommand Sets Supported (CSS): 0x%02x\n", BITS(cap, 44, 37));
	printf("\tMemory Page Size Minimum (MPSMIN): %llu bytes\n", 4096ull << BITS(cap, 51, 48));
	printf("\tMemory Page Size Maximum (MPSMAX): %llu bytes\n", 4096ull << BITS(cap, 55, 52));
	printf("Version (VS): %u.%u.%u\n", BITS(vs, 31, 16), BITS(vs, 15, 8), BITS(vs, 7, 0));
	printf("Controller Configuration (CC): %x\n", cc);
	printf("\tEnable (EN): %s\n", BITS(cc, 0, 0) ? "Yes" : "No");
	printf("\tI/O Command Set Selected (CSS): %u\n", BITS(cc, 6, 4));
	printf("\tMemory Page Size (MPS): %llu bytes\n", 4096ull << BITS(cc, 10, 7));
	printf("\tArbitration Mechanism Selected (AMS): %u\n", BITS(cc, 13, 11));
	printf("\tShutdown Notification (SHN): %s\n", shn[BITS(cc, 15, 14)]);
	printf("\tI/O Submission Queue Entry Size (IOSQES): %u bytes\n", 1u << BITS(cc, 19, 16));
	printf("\tI/O Completion Queue Entry Size (IOCQES): %u bytes\n", 1u << BITS(cc, 23, 20));
	printf("Controller Status (CSTS): %x\n", csts);
	printf("\tReady (RDY): %s\n", BITS(csts, 0, 0) ? "Yes" : "No");
	printf("\tController Fatal Status (CFS): %s\n", BITS(csts, 1, 1) ? "Yes" : "No");
	printf("\tShutdown Status (SHST): %s\n", shst[BITS(csts, 3, 2)]);
	printf("\tNVM Subsystem Reset Occurred (NSSRO): %s\n", BITS(csts, 4, 4) ? "Yes" : "No");
	printf("\tProcessing Paused (PP): %s\n", BITS(csts, 5, 5) ? "Yes" : "No");
	return 0;
}

/* ---- passthru -------------------------------------------------------------- */

/* The data to write: exactly c->data_len bytes of --input-file. */
static int read_input(struct cli *c, uint8_t *buf)
{
	FILE *f;
	size_t n;

	if (!c->input_file)
		return cli_usage_error(c, "--write needs -i/--input-file");
	f = fopen(c->input_file, "rb");
	if (!f) {
		cli_err(c, "%s: %s", c->input_file, strerror(errno));
		return EXIT_IOERR;
	}
	n = fread(buf, 1, c->data_len, f);
	fclose(f);
	if (n != c->data_len) {
		cli_err(c, "%s: holds %zu bytes, -l/--data-len asks for %u", c->input_file, n,
			c->data_len);
		return EXIT_IOERR;
	}
	return 0;
}

static int pt_check(struct cli *c)
{
	if (!c->opcode_set)
		return cli_usage_error(c, "-O/--opcode is required");
	if (c->pt_read && c->pt_write)
		return cli_usage_error(c, "-r/--read and --write exclude each other");
	if ((c->pt_write || c->input_file) && !c->data_len)
		return cli_usage_error(c, "--write and -i/--input-file need -l/--data-len");
	if (c->input_file && !c->pt_write)
		c->pt_write = true;
	return 0;
}

static int pt_output(struct cli *c, uint32_t result, const uint8_t *buf, size_t len)
{
	if (c->fmt == OUT_BINARY || c->raw_binary)
		return len ? out_binary(buf, len) : 0;
	printf("NVMe command result:%08x\n", result);
	if (len)
		out_hexdump(stdout, buf, len);
	return 0;
}

/* One raw command: the SQE from -O, --flags, --namespace-id and the command
 * dwords (the library fills CID and the data pointer); data from
 * -i FILE with --write, or -l bytes back from the controller. */
static int passthru(struct cli *c, bool io)
{
	struct nvmeof_ctrl *ctrl;
	uint8_t sqe[64], *buf = NULL;
	uint32_t result = 0;
	char what[48];
	unsigned i;
	int rc, r;

	rc = pt_check(c);
	if (rc)
		return rc;
	if (io && !c->subnqn)
		return cli_usage_error(c, "-n/--nqn is required (the discovery controller has no I/O queues)");
	if (io && !c->nsid_set)
		return cli_usage_error(c, "--namespace-id is required");
	if (c->data_len) {
		buf = calloc(1, c->data_len);
		if (!buf) {
			cli_err(c, "out of memory");
			return EXIT_OSERR;
		}
		if (c->pt_write && (rc = read_input(c, buf)) != 0) {
			free(buf);
			return rc;
		}
	}
	memset(sqe, 0, sizeof sqe);
	sqe[0] = c->opcode;
	sqe[1] = c->flags;
	put32(sqe, 4, c->nsid_set ? c->nsid : 0);
	for (i = 2; i < 16; i++)
		if (i == 2 || i == 3 || i >= 10)
			put_cdw(sqe, i, c->cdw[i]);
	rc = cli_connect(c, NULL, NULL, c->subnqn, io ? 1 : 0, 0, &ctrl);
	if (rc) {
		free(buf);
		return rc;
	}
	snprintf(what, sizeof what, "%s command 0x%02x", io ? "I/O" : "admin",
		 c->opcode);
	r = io ? nvmeof_io_cmd(ctrl, sqe, buf, c->data_len, c->pt_write, &result)
	       : nvmeof_admin_cmd(ctrl, sqe, buf, c->data_len, c->pt_write, &result);
	if (r == -EMSGSIZE) {
		/* Refused before sending: -l is larger than one command. */
		cli_err(c, "-l/--data-len %u: %s", c->data_len, nvmeof_get_error());
		rc = EXIT_USAGE;
	} else if (r < 0) {
		rc = cli_fail(c, what);
	}
	cli_disconnect(ctrl);
	if (rc == 0)
		rc = pt_output(c, result, buf, c->pt_write ? 0 : c->data_len);
	free(buf);
	return rc;
}

int cmd_admin_passthru(struct cli *c)
{
	return passthru(c, false);
}

/* Any opcode: the command goes as built, on the I/O queue (one command,
 * never split, so -l is bounded by the controller's MDTS). */
int cmd_io_passthru(struct cli *c)
{
	return passthru(c, true);
}

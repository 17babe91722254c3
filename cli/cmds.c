/* SPDX-License-Identifier: MIT */
/*
 * nvmeof(8) subcommands other than perf: discover, identify, log, list,
 * get-feature, set-feature, gen-hostnqn, show-hostnqn.  Every payload is
 * decoded by nvmeof_describe() (common/describe.c), the one decoder.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DISC_PAGE 1024u       /* NVMe-oF 1.1 §5.3: header and entry size */
#define REFERRAL_DEPTH 8
#define SUBTYPE_NVME 2
#define TRTYPE_TCP 3

/* ---- discover ------------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_str(uint8_t *p, const char *s, size_t field)
{
	size_t n = strlen(s);

	memcpy(p, s, n < field ? n : field);
}

/* The log page 70h bytes of a decoded (maybe merged) log, so that JSON and
 * binary output come from the same decoder as "log --lid 0x70"
 * (NVMe-oF 1.1 Figures 37 and 38 give the offsets). */
static uint8_t *disc_log_encode(const struct nvmeof_disc_log *log, size_t *lenp)
{
	size_t len = DISC_PAGE * (1 + (size_t)log->numrec);
	uint8_t *buf = calloc(1, len);
	uint64_t i;

	if (!buf)
		return NULL;
	put_le(buf, log->genctr, 8);
	put_le(buf + 8, log->numrec, 8);
	put_le(buf + 16, log->recfmt, 2);
	for (i = 0; i < log->numrec; i++) {
		const struct nvmeof_disc_entry *e = &log->entries[i];
		uint8_t *p = buf + DISC_PAGE * (1 + i);

		p[0] = e->trtype;
		p[1] = e->adrfam;
		p[2] = e->subtype;
		p[3] = e->treq;
		put_le(p + 4, e->portid, 2);
		put_le(p + 6, e->cntlid, 2);
		put_le(p + 8, e->asqsz, 2);
		put_le(p + 10, e->eflags, 2);
		put_str(p + 32, e->trsvcid, 32);
		put_str(p + 256, e->subnqn, 256);
		put_str(p + 512, e->traddr, 256);
		if (e->trtype == TRTYPE_TCP)
			p[768] = e->sectype; /* TSAS byte 0: SECTYPE */
	}
	*lenp = len;
	return buf;
}

/* Short words for the table (describe.c's long forms are for "log"). */
static const char *word(unsigned v, const char *const *names, size_t n, char *buf)
{
	if (v < n && names[v])
		return names[v];
	snprintf(buf, 8, "%u", v);
	return buf;
}

static void disc_table(const struct nvmeof_disc_log *log)
{
	static const char *const trtypes[] = { NULL, "rdma", "fc", "tcp" };
	static const char *const adrfams[] = { NULL, "ipv4", "ipv6", "ib", "fc" };
	static const char *const subtypes[] = { NULL, "referral", "nvme", "discovery" };
	static const char *const sectypes[] = { "none", "tls1.2", "tls1.3" };
	int wa = 6, wn = 6;
	uint64_t i;

	for (i = 0; i < log->numrec; i++) {
		int a = (int)strlen(log->entries[i].traddr);
		int n = (int)strlen(log->entries[i].subnqn);

		wa = a > wa ? a : wa;
		wn = n > wn ? n : wn;
	}
	printf("%-6s %-6s %-9s %-*s %-7s %-*s %-6s %-6s %-7s %s\n", "trtype", "adrfam",
	       "subtype", wa, "traddr", "trsvcid", wn, "subnqn", "portid", "cntlid",
	       "sectype", "treq");
	for (i = 0; i < log->numrec; i++) {
		const struct nvmeof_disc_entry *e = &log->entries[i];
		char b1[8], b2[8], b3[8], b4[8];

		/* TREQ bits 1:0, the secure channel: one word for the table */
		static const char *const treqs[] = { "unspecified", "required",
						     "not-required", "reserved" };

		printf("%-6s %-6s %-9s %-*s %-7s %-*s %-6u 0x%04x %-7s %s\n",
		       word(e->trtype, trtypes, 4, b1), word(e->adrfam, adrfams, 5, b2),
		       word(e->subtype, subtypes, 4, b3), wa, e->traddr, e->trsvcid,
		       wn, e->subnqn, e->portid, e->cntlid,
		       e->trtype == TRTYPE_TCP ? word(e->sectype, sectypes, 3, b4) : "-",
		       treqs[e->treq & NVMEOF_TREQ_SECURE_MASK]);
	}
}

/* nvme-cli's (libnvme's) words for the discovery log fields, so that
 * scripts written for "nvme discover -o json" read ours. */
static const char *nc_word(unsigned v, const char *const *names, size_t n)
{
	return v < n && names[v] ? names[v] : "unrecognized";
}

static void disc_json(const struct nvmeof_disc_log *log)
{
	static const char *const trtypes[] = { NULL, "rdma", "fc", "tcp" };
	static const char *const adrfams[] = { "pci", "ipv4", "ipv6", "infiniband",
					       "fibre-channel" };
	static const char *const subtypes[] = { NULL, "discovery subsystem referral",
						"nvme subsystem", "current discovery subsystem" };
	static const char *const treqs[] = { "not specified", "required", "not required",
					     "reserved" };
	static const char *const eflags[] = { "none", "explicit discovery connections",
					      "duplicate discovery information",
					      "explicit discovery connections, duplicate discovery information" };
	static const char *const sectypes[] = { "none", "tls", "tls13" };
	uint64_t i;

	printf("{\n  \"genctr\": %" PRIu64 ",\n  \"numrec\": %" PRIu64
	       ",\n  \"recfmt\": %u,\n  \"records\": [", log->genctr, log->numrec,
	       log->recfmt);
	for (i = 0; i < log->numrec; i++) {
		const struct nvmeof_disc_entry *e = &log->entries[i];

		printf("%s\n    {\n      \"trtype\": \"%s\",\n      \"adrfam\": \"%s\","
		       "\n      \"subtype\": \"%s\",\n      \"treq\": \"%s%s\","
		       "\n      \"portid\": %u,\n      \"trsvcid\": ",
		       i ? "," : "", nc_word(e->trtype == 0xfe ? 4 : e->trtype, trtypes, 4),
		       nc_word(e->adrfam, adrfams, 5), nc_word(e->subtype, subtypes, 4),
		       treqs[e->treq & 3],
		       e->treq & 4 ? ", sq flow control disable supported" : "", e->portid);
		out_json_string(stdout, e->trsvcid);
		printf(",\n      \"subnqn\": ");
		out_json_string(stdout, e->subnqn);
		printf(",\n      \"traddr\": ");
		out_json_string(stdout, e->traddr);
		printf(",\n      \"eflags\": \"%s\"", nc_word(e->eflags, eflags, 4));
		if (e->trtype == TRTYPE_TCP)
			printf(",\n      \"sectype\": \"%s\"", nc_word(e->sectype, sectypes, 3));
		printf(",\n      \"cntlid\": %u,\n      \"asqsz\": %u\n    }", e->cntlid,
		       e->asqsz);
	}
	printf("%s]\n}\n", log->numrec ? "\n  " : "");
}

/* The discovery log of c's target (following referrals if asked). */
static int get_disc_log(struct cli *c, struct nvmeof_disc_log **logp)
{
	struct nvmeof_ctrl *ctrl;
	int rc;

	if (c->referrals) {
		const char *ports[2];
		size_t n = cli_ports(c, true, ports), i;
		struct nvmeof_opts o;

		cli_opts(c, &o);
		o.nr_io_queues = 0;
		for (i = 0; i < n; i++) {
			o.trsvcid = ports[i];
			rc = nvmeof_discover_all(&o, REFERRAL_DEPTH, logp);
			if (rc != -ECONNREFUSED)
				break;
		}
		return rc ? cli_connect_fail(c, rc, n > 1 ? ports[0] : NULL) : 0;
	}
	rc = cli_connect(c, NULL, NULL, NULL, 0, 0, &ctrl);
	if (rc)
		return rc;
	rc = nvmeof_discover(ctrl, logp);
	if (rc < 0) {
		rc = cli_fail(c, "reading the discovery log");
		cli_disconnect(ctrl);
		return rc;
	}
	cli_disconnect(ctrl);
	return 0;
}

int cmd_discover(struct cli *c)
{
	struct nvmeof_disc_log *log;
	uint8_t *raw;
	size_t len;
	int rc;

	rc = get_disc_log(c, &log);
	if (rc)
		return rc;
	if (c->fmt == OUT_TEXT || c->fmt == OUT_JSON) {
		if (c->fmt == OUT_TEXT)
			disc_table(log);
		else
			disc_json(log);
		nvmeof_disc_log_free(log);
		return 0;
	}
	raw = disc_log_encode(log, &len);
	nvmeof_disc_log_free(log);
	if (!raw) {
		cli_err(c, "out of memory");
		return EXIT_OSERR;
	}
	rc = out_binary(raw, len);
	free(raw);
	return rc;
}

/* ---- a payload: decoded, hex, or raw ---------------------------------- */

static int out_payload(struct cli *c, int kind, const void *buf, size_t len,
		       const char *what, const char *key, unsigned id)
{
	if (c->fmt == OUT_BINARY)
		return out_binary(buf, len);
	if (kind >= 0)
		return out_described(c, nvmeof_describe((enum nvmeof_describe_kind)kind, buf,
							len, c->fmt == OUT_JSON ?
							NVMEOF_DESCRIBE_JSON : 0),
				     what);
	if (c->fmt == OUT_JSON) {
		printf("{\n  \"%s\": %u,\n  \"length\": %zu,\n  \"data\": \"", key, id, len);
		out_hex(stdout, buf, len);
		printf("\"\n}\n");
	} else {
		printf("%s (%zu bytes, no decoder):\n", what, len);
		out_hexdump(stdout, buf, len);
	}
	return 0;
}

/* ---- identify ------------------------------------------------------------ */

int cmd_identify(struct cli *c)
{
	static const int kinds[] = { NVMEOF_DESC_ID_NS, NVMEOF_DESC_ID_CTRL,
				     NVMEOF_DESC_NS_LIST, NVMEOF_DESC_NS_DESC };
	int cns = c->cns >= 0 ? c->cns : c->nsid_set ? 0 : 1;
	struct nvmeof_ctrl *ctrl;
	uint8_t *buf;
	char what[48];
	int rc;

	if ((cns == 0 || cns == 3) && !c->nsid_set)
		return cli_usage_error(c, "Identify CNS %d needs a namespace (--nsid)", cns);
	buf = calloc(1, 4096);
	if (!buf) {
		cli_err(c, "out of memory");
		return EXIT_OSERR;
	}
	rc = cli_connect(c, NULL, NULL, c->subnqn, 0, 0, &ctrl);
	if (rc) {
		free(buf);
		return rc;
	}
	snprintf(what, sizeof what, "Identify CNS %d", cns);
	if (nvmeof_identify(ctrl, (uint8_t)cns, c->nsid_set ? c->nsid : 0, 0, buf) < 0)
		rc = cli_fail(c, what);
	else
		rc = out_payload(c, cns < 4 ? kinds[cns] : -1, buf, 4096, what, "cns",
				 (unsigned)cns);
	cli_disconnect(ctrl);
	free(buf);
	return rc;
}

/* ---- log ---------------------------------------------------------------- */

static size_t log_default_len(int lid)
{
	switch (lid) {
	case 0x02: /* SMART / Health Information */
	case 0x03: /* Firmware Slot Information */
		return 512;
	case 0x01: /* Error Information: 64 entries */
	case 0x04: /* Changed Namespace List */
	case 0x05: /* Commands Supported and Effects */
	case 0x0c: /* Asymmetric Namespace Access */
		return 4096;
	default:
		return 512;
	}
}

/* Log 0Ch whole, sized as Linux sizes it: NANAGRPID group descriptors and
 * MNAN (NN when 0) NSIDs from Identify Controller, capped; 4096 bytes if
 * Identify fails. */
static size_t ana_log_len(struct nvmeof_ctrl *ctrl)
{
	uint8_t id[4096];
	uint32_t groups, nsids;

	if (nvmeof_identify(ctrl, 1, 0, 0, id) < 0)
		return 4096;
	groups = (uint32_t)id[348] | (uint32_t)id[349] << 8 |
		 (uint32_t)id[350] << 16 | (uint32_t)id[351] << 24;
	nsids = (uint32_t)id[540] | (uint32_t)id[541] << 8 |
		(uint32_t)id[542] << 16 | (uint32_t)id[543] << 24;
	if (!nsids)
		nsids = (uint32_t)id[516] | (uint32_t)id[517] << 8 |
			(uint32_t)id[518] << 16 | (uint32_t)id[519] << 24;
	groups = groups < 1 ? 1 : groups > 1024 ? 1024 : groups;
	nsids = nsids < 1 ? 1 : nsids > 65536 ? 65536 : nsids;
	return 16 + (size_t)groups * 32 + (size_t)nsids * 4;
}

/* Log 70h at its own size: the header says how many entries follow. */
static int read_disc_page(struct cli *c, struct nvmeof_ctrl *ctrl, uint32_t nsid,
			  uint8_t **bufp, size_t *lenp)
{
	uint8_t hdr[DISC_PAGE];
	uint64_t numrec = 0;
	size_t len;
	uint8_t *buf;
	int i;

	if (nvmeof_get_log_page(ctrl, 0x70, nsid, c->lsp, 0, hdr, sizeof hdr) < 0)
		return cli_fail(c, "Get Log Page 0x70");
	for (i = 7; i >= 0; i--)
		numrec = numrec << 8 | hdr[8 + i];
	if (numrec > 4096) {
		cli_err(c, "discovery log claims %" PRIu64 " records", numrec);
		return EXIT_PROTOCOL;
	}
	len = DISC_PAGE * (1 + (size_t)numrec);
	buf = malloc(len);
	if (!buf) {
		cli_err(c, "out of memory");
		return EXIT_OSERR;
	}
	if (nvmeof_get_log_page(ctrl, 0x70, nsid, c->lsp, 0, buf, len) < 0) {
		free(buf);
		return cli_fail(c, "Get Log Page 0x70");
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int cmd_log(struct cli *c)
{
	struct nvmeof_ctrl *ctrl;
	uint8_t *buf = NULL;
	size_t len;
	uint32_t nsid;
	char what[48];
	int rc;

	if (c->lid < 0)
		return cli_usage_error(c, "--lid is required");
	nsid = c->nsid_set ? c->nsid : c->lid == 0x70 ? 0 : 0xffffffffu;
	rc = cli_connect(c, NULL, NULL, c->subnqn, 0, 0, &ctrl);
	if (rc)
		return rc;
	snprintf(what, sizeof what, "log page 0x%02x", (unsigned)c->lid);
	if (c->lid == 0x70 && !c->len_set) {
		rc = read_disc_page(c, ctrl, nsid, &buf, &len);
	} else {
		len = c->len_set ? (size_t)c->len :
		      c->lid == 0x0c ? ana_log_len(ctrl) :
				       log_default_len(c->lid);
		buf = calloc(1, len);
		if (!buf) {
			cli_err(c, "out of memory");
			rc = EXIT_OSERR;
		} else if (nvmeof_get_log_page(ctrl, (uint8_t)c->lid, nsid, c->lsp, 0,
					       buf, len) < 0) {
			rc = cli_fail(c, what);
		}
	}
	if (rc == 0)
		rc = out_payload(c, nvmeof_describe_log_kind((uint8_t)c->lid), buf, len,
				 what, "lid", (unsigned)c->lid);
	cli_disconnect(ctrl);
	free(buf);
	return rc;
}

/* ---- list --------------------------------------------------------------- */

static void human(uint64_t bytes, char *out, size_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%" PRIu64 " B", bytes);
	else
		snprintf(out, n, "%.2f %s", v, units[u]);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static void uuid_text(const uint8_t u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
}

struct list_state {
	bool first_subsys;
	unsigned failures;
};

/* List the namespaces of one subsystem; prints its part of the output. */
static int list_subsys(struct cli *c, struct list_state *st, const char *traddr,
		       const char *trsvcid, const char *subnqn)
{
	struct nvmeof_ctrl *ctrl;
	uint32_t *nsids = NULL;
	size_t n = 0, i;
	int rc;

	rc = cli_connect(c, traddr, trsvcid, subnqn, 0, 0, &ctrl);
	if (rc)
		return rc;
	if (nvmeof_ns_list(ctrl, &nsids, &n) < 0) {
		rc = cli_fail(c, "active namespace list");
		cli_disconnect(ctrl);
		return rc;
	}
	if (c->fmt == OUT_JSON) {
		printf("%s\n    {\n      \"subnqn\": ", st->first_subsys ? "" : ",");
		out_json_string(stdout, nvmeof_ctrl_subnqn(ctrl));
		printf(",\n      \"traddr\": ");
		out_json_string(stdout, nvmeof_ctrl_traddr(ctrl));
		printf(",\n      \"trsvcid\": ");
		out_json_string(stdout, nvmeof_ctrl_trsvcid(ctrl));
		printf(",\n      \"cntlid\": %u,\n      \"namespaces\": [",
		       nvmeof_ctrl_cntlid(ctrl));
	} else {
		printf("%s%s at %s:%s (cntlid %u): %zu namespace%s\n",
		       st->first_subsys ? "" : "\n", nvmeof_ctrl_subnqn(ctrl),
		       nvmeof_ctrl_traddr(ctrl), nvmeof_ctrl_trsvcid(ctrl),
		       nvmeof_ctrl_cntlid(ctrl), n, n == 1 ? "" : "s");
		if (n)
			printf("%-10s %-12s %-12s %-8s %-32s %s\n", "nsid", "size",
			       "capacity", "lba-size", "nguid", "uuid");
	}
	st->first_subsys = false;
	for (i = 0; i < n; i++) {
		struct nvmeof_ns_info ni;
		char size[32], cap[32], nguid[33], uuid[37], what[40];
		size_t k;

		if (nvmeof_ns_info(ctrl, nsids[i], &ni) < 0) {
			snprintf(what, sizeof what, "namespace %u", nsids[i]);
			rc = cli_fail(c, what);
			st->failures++;
			continue;
		}
		for (k = 0; k < 16; k++)
			snprintf(nguid + 2 * k, 3, "%02x", ni.nguid[k]);
		uuid_text(ni.uuid, uuid);
		if (c->fmt == OUT_JSON) {
			printf("%s\n        {\"nsid\": %u, \"nsze\": %" PRIu64 ", \"ncap\": %" PRIu64
			       ", \"nuse\": %" PRIu64 ", \"lba_size\": %u, \"size\": %" PRIu64
			       ", \"capacity\": %" PRIu64 ", \"metadata_size\": %u"
			       ", \"write_protected\": %s, \"nguid\": \"%s\", \"eui64\": \"",
			       i ? "," : "", ni.nsid, ni.nsze, ni.ncap, ni.nuse, ni.lba_size,
			       ni.nsze * ni.lba_size, ni.ncap * ni.lba_size, ni.ms,
			       ni.write_protected ? "true" : "false", nguid);
			out_hex(stdout, ni.eui64, 8);
			printf("\", \"uuid\": \"%s\"}", ni.has_uuid ? uuid : "");
		} else {
			human(ni.nsze * ni.lba_size, size, sizeof size);
			human(ni.ncap * ni.lba_size, cap, sizeof cap);
			printf("%-10u %-12s %-12s %-8u %-32s %s\n", ni.nsid, size, cap,
			       ni.lba_size, all_zero(ni.nguid, 16) ? "-" : nguid,
			       ni.has_uuid ? uuid : "-");
		}
	}
	if (c->fmt == OUT_JSON)
		printf("%s]\n    }", n ? "\n      " : "");
	free(nsids);
	cli_disconnect(ctrl);
	return rc;
}

int cmd_list(struct cli *c)
{
	struct list_state st = { .first_subsys = true };
	struct nvmeof_disc_log *log = NULL;
	int rc = 0, r;
	uint64_t i;

	if (!c->subnqn) {
		rc = get_disc_log(c, &log);
		if (rc)
			return rc;
	}
	if (c->fmt == OUT_JSON)
		printf("{\n  \"subsystems\": [");
	if (c->subnqn) {
		rc = list_subsys(c, &st, NULL, NULL, c->subnqn);
	} else {
		for (i = 0; i < log->numrec; i++) {
			const struct nvmeof_disc_entry *e = &log->entries[i];

			if (e->subtype != SUBTYPE_NVME || e->trtype != TRTYPE_TCP)
				continue;
			r = list_subsys(c, &st, e->traddr, e->trsvcid, e->subnqn);
			if (r && !rc)
				rc = r;
		}
		nvmeof_disc_log_free(log);
	}
	if (c->fmt == OUT_JSON)
		printf("%s]\n}\n", st.first_subsys ? "" : "\n  ");
	else if (st.first_subsys && !rc)
		/* not after an error: the error said what happened */
		printf("no NVM subsystems\n");
	return rc;
}

/* ---- features ------------------------------------------------------------- */

/* Features whose Get Features returns a data buffer (NVMe Base 2.0 §5.27.1). */
static size_t feature_data_len(int fid, uint32_t cdw11)
{
	switch (fid) {
	case 0x03: return 4096;                /* LBA Range Type */
	case 0x0e: return 8;                   /* Timestamp */
	case 0x81: return (cdw11 & 1) ? 16 : 8; /* Host Identifier (EXHID) */
	default: return 0;
	}
}

int cmd_get_feature(struct cli *c)
{
	struct nvmeof_ctrl *ctrl;
	uint8_t data[4096];
	size_t dlen;
	uint32_t dw0 = 0;
	char what[40];
	int rc;

	if (c->fid < 0)
		return cli_usage_error(c, "-f/--feature-id is required");
	dlen = feature_data_len(c->fid, c->value);
	memset(data, 0, sizeof data);
	rc = cli_connect(c, NULL, NULL, c->subnqn, 0, 0, &ctrl);
	if (rc)
		return rc;
	snprintf(what, sizeof what, "Get Features 0x%02x", (unsigned)c->fid);
	if (nvmeof_get_features(ctrl, (uint8_t)c->fid, c->nsid_set ? c->nsid : 0,
				c->sel, c->value, &dw0, dlen ? data : NULL, dlen) < 0) {
		rc = cli_fail(c, what);
	} else if (c->fmt == OUT_BINARY) {
		uint8_t le[4] = { (uint8_t)dw0, (uint8_t)(dw0 >> 8),
				  (uint8_t)(dw0 >> 16), (uint8_t)(dw0 >> 24) };

		rc = out_binary(le, 4);
		if (!rc && dlen)
			rc = out_binary(data, dlen);
	} else {
		rc = out_described(c, nvmeof_describe_feature((uint8_t)c->fid, dw0,
							      c->fmt == OUT_JSON ?
							      NVMEOF_DESCRIBE_JSON : 0),
				   what);
		if (!rc && dlen && c->fmt == OUT_TEXT)
			out_hexdump(stdout, data, dlen);
	}
	cli_disconnect(ctrl);
	return rc;
}

int cmd_set_feature(struct cli *c)
{
	struct nvmeof_ctrl *ctrl;
	uint32_t dw0 = 0;
	char what[40];
	int rc;

	if (c->fid < 0)
		return cli_usage_error(c, "-f/--feature-id is required");
	if (!c->value_set)
		return cli_usage_error(c, "-V/--value is required");
	rc = cli_connect(c, NULL, NULL, c->subnqn, 0, 0, &ctrl);
	if (rc)
		return rc;
	snprintf(what, sizeof what, "Set Features 0x%02x", (unsigned)c->fid);
	if (nvmeof_set_features(ctrl, (uint8_t)c->fid, c->nsid_set ? c->nsid : 0,
				c->value, c->save, &dw0, NULL, 0) < 0) {
		rc = cli_fail(c, what);
	} else {
		/* What was set, in the words of the one decoder. */
		if (c->fmt == OUT_TEXT)
			printf("set%s: ", c->save ? " (saved)" : "");
		rc = out_described(c, nvmeof_describe_feature((uint8_t)c->fid, c->value,
							      c->fmt == OUT_JSON ?
							      NVMEOF_DESCRIBE_JSON : 0),
				   what);
		if (!rc && c->fmt == OUT_TEXT && dw0)
			printf("completion dword 0: 0x%08x\n", dw0);
	}
	cli_disconnect(ctrl);
	return rc;
}

/* ---- host identity -------------------------------------------------------- */

int cmd_gen_hostnqn(struct cli *c)
{
	char nqn[NVMEOF_NQN_MAX + 1];

	if (nvmeof_gen_hostnqn(nqn, sizeof nqn) < 0)
		return cli_fail(c, "generating a host NQN");
	if (c->fmt == OUT_JSON) {
		printf("{\n  \"hostnqn\": ");
		out_json_string(stdout, nqn);
		printf("\n}\n");
	} else {
		printf("%s\n", nqn);
	}
	return 0;
}

int cmd_show_hostnqn(struct cli *c)
{
	char nqn[NVMEOF_NQN_MAX + 1], id[64];

	if (nvmeof_default_hostnqn(nqn, sizeof nqn) < 0) {
		cli_err(c, "%s", nvmeof_get_error());
		return EXIT_CONFIG;
	}
	if (c->fmt == OUT_JSON) {
		if (nvmeof_default_hostid(id, sizeof id) < 0) {
			cli_err(c, "%s", nvmeof_get_error());
			return EXIT_CONFIG;
		}
		printf("{\n  \"hostnqn\": ");
		out_json_string(stdout, nqn);
		printf(",\n  \"hostid\": ");
		out_json_string(stdout, id);
		printf("\n}\n");
	} else {
		printf("%s\n", nqn);
	}
	return 0;
}

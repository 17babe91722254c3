/* SPDX-License-Identifier: MIT */
/* nvmeof_describe() and friends on payloads captured from Linux nvmet 6.1
 * and SPDK 23.01 (tests/data, see /work/shared/fixtures/README.md for the
 * values), and on hostile ones built here.  Every buffer handed to the
 * decoder is malloc()ed to its exact length so that ASan catches a read
 * past len. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "json_check.h"
#include "nvme_spec.h"
#include "nvmeof.h"

#ifndef TEST_DATA_DIR
#error "build with -DTEST_DATA_DIR=\"<srcdir>/tests/data\""
#endif

#define JSON NVMEOF_DESCRIBE_JSON

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *load(const char *name, size_t *len)
{
	char path[512];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_gt(n, 0, "%s is empty", path);
	rewind(f);
	buf = malloc((size_t)n);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A copy of exactly len bytes (ASan red zone right after it). */
static uint8_t *dup_exact(const void *p, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	cr_assert_not_null(b);
	if (len)
		memcpy(b, p, len);
	return b;
}

static char *describe_buf(enum nvmeof_describe_kind kind, const void *p,
			  size_t len, unsigned flags)
{
	uint8_t *b = dup_exact(p, len);
	char *s = nvmeof_describe(kind, b, len, flags);

	free(b);
	return s;
}

static char *describe_file(enum nvmeof_describe_kind kind, const char *name,
			   unsigned flags)
{
	size_t len;
	uint8_t *buf = load(name, &len);
	char *s = nvmeof_describe(kind, buf, len, flags);

	cr_assert_not_null(s, "describe %s: %s", name, nvmeof_describe_error());
	free(buf);
	return s;
}

/* Text output: the value of the nth (0-based) "name : value" line whose
 * name, with its padding removed, is field. */
static bool text_get(const char *text, const char *field, unsigned nth,
		     char *out, size_t outlen)
{
	const char *line = text;
	size_t flen = strlen(field);

	while (*line) {
		const char *eol = strchr(line, '\n');
		const char *sep;
		size_t nlen;

		if (!eol)
			eol = line + strlen(line);
		sep = strstr(line, " : ");
		if (sep && sep < eol) {
			nlen = (size_t)(sep - line);
			while (nlen > 0 && line[nlen - 1] == ' ')
				nlen--;
			if (nlen == flen && !memcmp(line, field, flen) && nth-- == 0) {
				size_t vlen = (size_t)(eol - (sep + 3));

				if (vlen >= outlen)
					return false;
				memcpy(out, sep + 3, vlen);
				out[vlen] = '\0';
				return true;
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	return false;
}

static void expect_text_n(const char *text, const char *field, unsigned nth,
			  const char *want)
{
	char got[1024];

	cr_assert(text_get(text, field, nth, got, sizeof got),
		  "no line %u for field '%s' in:\n%s", nth, field, text);
	cr_expect_str_eq(got, want, "field '%s'[%u]: got '%s', want '%s'", field,
			 nth, got, want);
}

static void expect_text(const char *text, const char *field, const char *want)
{
	expect_text_n(text, field, 0, want);
}

static void expect_textf(const char *text, const char *field, const char *fmt, ...)
{
	char want[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	expect_text(text, field, want);
}

static void expect_json_uint(const char *json, const char *key, uint64_t want)
{
	uint64_t got;

	cr_assert(json_get_uint(json, key, &got), "no integer '%s' in:\n%s", key, json);
	cr_expect_eq(got, want, "'%s': got %llu, want %llu", key,
		     (unsigned long long)got, (unsigned long long)want);
}

static void expect_json_str(const char *json, const char *key, const char *want)
{
	char got[1024];

	cr_assert(json_get_string(json, key, got, sizeof got), "no string '%s' in:\n%s",
		  key, json);
	cr_expect_str_eq(got, want, "'%s': got '%s', want '%s'", key, got, want);
}

/* Text for people: printable ASCII and newlines; the only other bytes
 * allowed are our own "°" (C2 B0). */
static bool text_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p == '\n' || (*p >= 0x20 && *p < 0x7f))
			continue;
		if (p[0] == 0xc2 && p[1] == 0xb0) {
			p++;
			continue;
		}
		return false;
	}
	return true;
}

static void expect_einval(enum nvmeof_describe_kind kind, const void *p,
			  size_t len, unsigned flags)
{
	char *s;

	errno = 0;
	s = describe_buf(kind, p, len, flags);
	cr_expect_null(s, "kind %d len %zu flags %u: expected failure, got:\n%s",
		       kind, len, flags, s ? s : "");
	cr_expect_eq(errno, EINVAL, "kind %d len %zu: errno %d", kind, len, errno);
	cr_expect_neq(nvmeof_describe_error()[0], '\0', "no message for kind %d len %zu",
		      kind, len);
	free(s);
}

/* ---- what the README says the two targets hold -------------------------- */

struct target {
	const char *prefix;
	unsigned vid;
	const char *sn, *mn, *fr;
	unsigned mdts;
	uint32_t ver, nn;
	const char *subnqn;
	uint32_t ioccsz, iorcsz, sgls;
	unsigned kas, oncs;
	uint64_t nsze;
	unsigned lbads;
	uint64_t genctr;
	unsigned nrec;
	unsigned subtype[2];
	const char *rec_subnqn[2];
	const char *traddr, *trsvcid;
	unsigned treq;
};

static const struct target nvmet = {
	.prefix = "linux-nvmet-6.1",
	.vid = 0x0000, .sn = "linuxnvmet0001", .mn = "Linux", .fr = "6.1.0-56",
	.mdts = 0, .ver = 0x10300, .nn = 1024,
	.subnqn = "nqn.2026-11.org.example:linux-nvmet",
	.ioccsz = 1028, .iorcsz = 1, .sgls = 0x100001, .kas = 10, .oncs = 0xc,
	.nsze = 16384, .lbads = 12,
	.genctr = 2, .nrec = 2, .subtype = { 3, 2 },
	.rec_subnqn = { NVMEOF_DISCOVERY_NQN, "nqn.2026-11.org.example:linux-nvmet" },
	.traddr = "127.0.0.1", .trsvcid = "24420", .treq = 4,
};

static const struct target spdk = {
	.prefix = "spdk-23.01",
	.vid = 0x8086, .sn = "SPDK00000000000001", .mn = "SPDK_Controller1",
	.fr = "23.01.1", .mdts = 5, .ver = 0x10300, .nn = 32,
	.subnqn = "nqn.2016-06.io.spdk:cnode1",
	.ioccsz = 260, .iorcsz = 1, .sgls = 0x100005, .kas = 100, .oncs = 0x29,
	.nsze = 262144, .lbads = 12,
	.genctr = 2, .nrec = 1, .subtype = { 2 },
	.rec_subnqn = { "nqn.2016-06.io.spdk:cnode1" },
	.traddr = "127.0.0.1", .trsvcid = "4430", .treq = 2,
};

static char *describe_target(const struct target *t, enum nvmeof_describe_kind kind,
			     const char *suffix, unsigned flags)
{
	char name[128];
	char *s;

	snprintf(name, sizeof name, "%s-%s", t->prefix, suffix);
	s = describe_file(kind, name, flags);
	if (flags & JSON)
		cr_assert(json_valid(s), "%s: invalid JSON:\n%s", name, s);
	else
		cr_assert(text_clean(s), "%s: unclean text:\n%s", name, s);
	return s;
}

/* ---- Identify Controller ----------------------------------------------------- */

static void check_id_ctrl_text(const struct target *t)
{
	char *s = describe_target(t, NVMEOF_DESC_ID_CTRL, "id-ctrl.bin", 0);

	cr_expect(strncmp(s, "vid       : ", 12) == 0, "column as nvme-cli:\n%s", s);
	expect_textf(s, "vid", "0x%x", t->vid);
	expect_text(s, "sn", t->sn);
	expect_text(s, "mn", t->mn);
	expect_text(s, "fr", t->fr);
	expect_textf(s, "mdts", "%u", t->mdts);
	expect_textf(s, "ver", "0x%x", t->ver);
	expect_textf(s, "nn", "%u", t->nn);
	expect_text(s, "subnqn", t->subnqn);
	expect_textf(s, "ioccsz", "%u", t->ioccsz);
	expect_textf(s, "iorcsz", "%u", t->iorcsz);
	expect_textf(s, "sgls", "0x%x", t->sgls);
	expect_textf(s, "kas", "%u", t->kas);
	expect_textf(s, "oncs", "0x%x", t->oncs);
	cr_expect(text_get(s, "ps 0", 0, (char[256]){ 0 }, 256), "power state 0:\n%s", s);
	free(s);
}

static void check_id_ctrl_json(const struct target *t)
{
	char *s = describe_target(t, NVMEOF_DESC_ID_CTRL, "id-ctrl.bin", JSON);

	expect_json_uint(s, "vid", t->vid);
	expect_json_str(s, "sn", t->sn);
	expect_json_str(s, "mn", t->mn);
	expect_json_str(s, "fr", t->fr);
	expect_json_uint(s, "mdts", t->mdts);
	expect_json_uint(s, "ver", t->ver);
	expect_json_uint(s, "nn", t->nn);
	expect_json_str(s, "subnqn", t->subnqn);
	expect_json_uint(s, "ioccsz", t->ioccsz);
	expect_json_uint(s, "iorcsz", t->iorcsz);
	expect_json_uint(s, "sgls", t->sgls);
	expect_json_uint(s, "kas", t->kas);
	expect_json_uint(s, "oncs", t->oncs);
	cr_expect_eq(json_array_len(s, "psds"), 1, "npss 0: one power state");
	free(s);
}

Test(id_ctrl, nvmet_text) { check_id_ctrl_text(&nvmet); }
Test(id_ctrl, spdk_text) { check_id_ctrl_text(&spdk); }
Test(id_ctrl, nvmet_json) { check_id_ctrl_json(&nvmet); }
Test(id_ctrl, spdk_json) { check_id_ctrl_json(&spdk); }

Test(id_ctrl, details_as_nvme_cli)
{
	char *s = describe_target(&spdk, NVMEOF_DESC_ID_CTRL, "id-ctrl.bin", 0);
	char *j;

	expect_text(s, "ieee", "5cd2e4"); /* Intel OUI, most significant first */
	expect_text(s, "cmic", "0x3");
	expect_text(s, "cntlid", "0x1");
	expect_text(s, "maxcmd", "128");
	expect_text(s, "msdbd", "1");
	expect_text(s, "fguid", "00000000-0000-0000-0000-000000000000");
	free(s);
	s = describe_target(&nvmet, NVMEOF_DESC_ID_CTRL, "id-ctrl.bin", 0);
	/* PSD0: MP 09C4h centiwatts, ENLAT 16, EXLAT 4 */
	expect_text(s, "ps 0", "mp:25.00W operational enlat:16 exlat:4 rrt:0 rrl:0 "
			       "rwt:0 rwl:0 idle_power:- active_power:- "
			       "active_power_workload:-");
	expect_text(s, "anacap", "31");
	expect_text(s, "oaes", "0x900");
	free(s);
	j = describe_target(&nvmet, NVMEOF_DESC_ID_CTRL, "id-ctrl.bin", JSON);
	expect_json_uint(j, "psds.0.max_power", 2500);
	expect_json_uint(j, "psds.0.entry_lat", 16);
	expect_json_uint(j, "ieee", 0);
	free(j);
}

/* The discovery controller of SPDK leaves SN and MN all zero. */
Test(id_ctrl, spdk_discovery_controller_empty_strings)
{
	char *s = describe_target(&spdk, NVMEOF_DESC_ID_CTRL, "disc-id-ctrl.bin", 0);
	char *j = describe_target(&spdk, NVMEOF_DESC_ID_CTRL, "disc-id-ctrl.bin", JSON);

	cr_expect(strstr(s, "\nsn        : \n") != NULL, "empty sn:\n%s", s);
	expect_text(s, "subnqn", NVMEOF_DISCOVERY_NQN);
	expect_text(s, "fr", "23.01.1");
	expect_json_str(j, "sn", "");
	expect_json_str(j, "subnqn", NVMEOF_DISCOVERY_NQN);
	expect_json_uint(j, "nn", 0);
	free(s);
	free(j);
}

/* ---- Identify Namespace ------------------------------------------------------ */

static void check_id_ns(const struct target *t)
{
	char *s = describe_target(t, NVMEOF_DESC_ID_NS, "id-ns1.bin", 0);
	char *j = describe_target(t, NVMEOF_DESC_ID_NS, "id-ns1.bin", JSON);
	char v[256], name[16], path[32];
	unsigned idx, lbads;
	uint64_t flbas;

	/* text: nsze in hex as nvme-cli; LBA size through FLBAS -> lbaf line */
	expect_textf(s, "nsze", "0x%llx", (unsigned long long)t->nsze);
	cr_assert(text_get(s, "flbas", 0, v, sizeof v));
	idx = (unsigned)strtoul(v, NULL, 0) & 0xf;
	snprintf(name, sizeof name, "lbaf %2u", idx);
	cr_assert(text_get(s, name, 0, v, sizeof v), "no '%s' in:\n%s", name, s);
	cr_assert(strstr(v, "(in use)"), "%s", v);
	cr_assert_eq(sscanf(strstr(v, "lbads:"), "lbads:%u", &lbads), 1);
	cr_expect_eq(lbads, t->lbads);
	cr_expect_eq(1u << lbads, 4096u);

	expect_json_uint(j, "nsze", t->nsze);
	cr_assert(json_get_uint(j, "flbas", &flbas));
	snprintf(path, sizeof path, "lbafs.%u.ds", (unsigned)(flbas & 0xf));
	expect_json_uint(j, path, t->lbads);
	free(s);
	free(j);
}

Test(id_ns, nvmet) { check_id_ns(&nvmet); }
Test(id_ns, spdk) { check_id_ns(&spdk); }

Test(id_ns, nguid)
{
	char *s = describe_target(&spdk, NVMEOF_DESC_ID_NS, "id-ns1.bin", 0);
	char *j = describe_target(&spdk, NVMEOF_DESC_ID_NS, "id-ns1.bin", JSON);

	expect_text(s, "nguid", "3e51b9e340ef4cb5ada0ffca1d7988d4");
	expect_text(s, "nsfeat", "0x12");
	expect_json_str(j, "nguid", "3e51b9e340ef4cb5ada0ffca1d7988d4");
	expect_json_str(j, "eui64", "0000000000000000");
	free(s);
	free(j);
}

/* ---- active namespace list, descriptors ------------------------------------- */

static void check_ns_list(const struct target *t)
{
	char *s = describe_target(t, NVMEOF_DESC_NS_LIST, "ns-list.bin", 0);
	char *j = describe_target(t, NVMEOF_DESC_NS_LIST, "ns-list.bin", JSON);

	cr_expect_str_eq(s, "[   0]:0x1\n[   1]:0x2\n");
	cr_expect_eq(json_array_len(j, "nsid_list"), 2);
	expect_json_uint(j, "nsid_list.0.nsid", 1);
	expect_json_uint(j, "nsid_list.1.nsid", 2);
	free(s);
	free(j);
}

Test(ns_list, nvmet) { check_ns_list(&nvmet); }
Test(ns_list, spdk) { check_ns_list(&spdk); }

Test(ns_list, empty)
{
	uint8_t z[4096] = { 0 };
	char *s = describe_buf(NVMEOF_DESC_NS_LIST, z, sizeof z, 0);
	char *j = describe_buf(NVMEOF_DESC_NS_LIST, z, sizeof z, JSON);

	cr_assert_not_null(s);
	cr_expect_str_eq(s, "no entries\n");
	cr_expect_eq(json_array_len(j, "nsid_list"), 0);
	free(s);
	free(j);
}

Test(ns_desc, fixtures)
{
	char *s = describe_target(&nvmet, NVMEOF_DESC_NS_DESC, "ns1-desc.bin", 0);
	char *j = describe_target(&spdk, NVMEOF_DESC_NS_DESC, "ns1-desc.bin", JSON);

	expect_text(s, "uuid", "6e766d65-7400-4000-8000-000000000001");
	expect_text(s, "nguid", "6e766d65740040008000000000000001");
	expect_text(s, "csi", "0");
	expect_json_str(j, "nguid", "3e51b9e340ef4cb5ada0ffca1d7988d4");
	expect_json_str(j, "uuid", "3e51b9e3-40ef-4cb5-ada0-ffca1d7988d4");
	cr_expect(!json_has(j, "csi"), "SPDK 23.01 sends no CSI descriptor");
	free(s);
	free(j);
}

Test(ns_desc, overrun_and_odd_types)
{
	uint8_t b[32] = { 0 };
	char *s;

	/* an EUI-64 descriptor claiming 16 bytes with only 12 left */
	b[0] = NVME_NIDT_EUI64;
	b[1] = 16;
	expect_einval(NVMEOF_DESC_NS_DESC, b, 16, 0);
	expect_einval(NVMEOF_DESC_NS_DESC, b, 16, JSON);
	/* exactly filling the buffer is fine; a wrong NIDL or unknown type is
	 * shown raw, not trusted */
	s = describe_buf(NVMEOF_DESC_NS_DESC, b, 20, 0);
	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	expect_text(s, "nidt1", "00000000000000000000000000000000");
	free(s);
	memset(b, 0, sizeof b);
	b[0] = 0x7f;
	b[1] = 2;
	b[4] = 0xab;
	b[5] = 0xcd;
	s = describe_buf(NVMEOF_DESC_NS_DESC, b, sizeof b, JSON);
	cr_assert(json_valid(s), "%s", s);
	expect_json_str(s, "nidt127", "abcd");
	free(s);
}

/* ---- log pages --------------------------------------------------------- */

Test(log_error, fixtures_empty)
{
	char *s = describe_target(&nvmet, NVMEOF_DESC_LOG_ERROR, "log-error.bin", 0);
	char *j = describe_target(&spdk, NVMEOF_DESC_LOG_ERROR, "log-error.bin", JSON);

	cr_expect_str_eq(s, "no entries\n");
	cr_expect_eq(json_array_len(j, "errors"), 0);
	free(s);
	free(j);
}

Test(log_error, only_nonzero_entries)
{
	uint8_t b[4 * 64] = { 0 };
	uint8_t *e = b + 2 * 64;
	char *s, *j;

	le64_put(e + offsetof(struct nvme_error_log_entry, error_count), 7);
	le16_put(e + offsetof(struct nvme_error_log_entry, sqid), 1);
	le16_put(e + offsetof(struct nvme_error_log_entry, cmdid), 0x2a);
	/* status: SC 02h Invalid Field, phase 1 */
	le16_put(e + offsetof(struct nvme_error_log_entry, status), 0x02 << 1 | 1);
	le16_put(e + offsetof(struct nvme_error_log_entry, parm_error_location), 0xffff);
	le32_put(e + offsetof(struct nvme_error_log_entry, nsid), 1);

	s = describe_buf(NVMEOF_DESC_LOG_ERROR, b, sizeof b, 0);
	cr_assert_not_null(s);
	cr_expect(strstr(s, " Entry[ 2]") != NULL, "%s", s);
	cr_expect(strstr(s, " Entry[ 0]") == NULL, "zero entries are not shown:\n%s", s);
	expect_text(s, "error_count", "7");
	expect_text(s, "cmdid", "0x2a");
	expect_text(s, "phase_tag", "1");
	expect_text(s, "parm_error_location", "0xffff");
	cr_expect(strstr(s, "status_field        : 0x2 (Invalid Field in Command") != NULL,
		  "%s", s);
	cr_expect(!text_get(s, "error_count", 1, (char[64]){ 0 }, 64), "one entry only");

	j = describe_buf(NVMEOF_DESC_LOG_ERROR, b, sizeof b, JSON);
	cr_assert(json_valid(j), "%s", j);
	cr_expect_eq(json_array_len(j, "errors"), 1);
	expect_json_uint(j, "errors.0.error_count", 7);
	expect_json_uint(j, "errors.0.status_field", 2);
	expect_json_uint(j, "errors.0.nsid", 1);
	free(s);
	free(j);
}

Test(log_smart, fixtures)
{
	char *s = describe_target(&nvmet, NVMEOF_DESC_LOG_SMART, "log-smart.bin", 0);
	char *j = describe_target(&nvmet, NVMEOF_DESC_LOG_SMART, "log-smart.bin", JSON);

	/* nvmet counts in thousands of 512-byte units: 1 read so far, 3 commands */
	expect_text(s, "data_units_read", "1 (512.00 kB)");
	expect_text(s, "host_read_commands", "3");
	expect_text(s, "temperature", "-273 °C (0 K)"); /* nvmet reports 0 K */
	expect_json_uint(j, "data_units_read", 1);
	expect_json_uint(j, "host_read_commands", 3);
	expect_json_uint(j, "temperature", 0);
	free(s);
	free(j);
	s = describe_target(&spdk, NVMEOF_DESC_LOG_SMART, "log-smart.bin", 0);
	expect_text(s, "data_units_read", "0 (0.00 B)");
	free(s);
}

Test(log_smart, u128_exact_and_temperatures)
{
	uint8_t b[512] = { 0 };
	char *s, *j;

	le16_put(b + offsetof(struct nvme_smart_log, temperature), 308);
	b[offsetof(struct nvme_smart_log, avail_spare)] = 100;
	b[offsetof(struct nvme_smart_log, spare_thresh)] = 10;
	/* 2^128 - 1 */
	memset(b + offsetof(struct nvme_smart_log, data_units_read), 0xff, 16);
	/* 2^64 */
	b[offsetof(struct nvme_smart_log, host_reads) + 8] = 1;
	/* 2^53 - 1 and 2^53: the last safe JSON integer and the first unsafe */
	le64_put(b + offsetof(struct nvme_smart_log, power_cycles), (1ULL << 53) - 1);
	le64_put(b + offsetof(struct nvme_smart_log, power_on_hours), 1ULL << 53);
	/* 10^20 = 0x56bc75e2d63100000 */
	le64_put(b + offsetof(struct nvme_smart_log, media_errors), 0x6bc75e2d63100000ULL);
	le64_put(b + offsetof(struct nvme_smart_log, media_errors) + 8, 0x5);
	le16_put(b + offsetof(struct nvme_smart_log, temp_sensor) + 2, 300);

	s = describe_buf(NVMEOF_DESC_LOG_SMART, b, sizeof b, 0);
	cr_assert_not_null(s);
	cr_assert(text_clean(s), "%s", s);
	expect_text(s, "temperature", "35 °C (308 K)");
	expect_text(s, "avail_spare", "100%");
	expect_text(s, "spare_thresh", "10%");
	cr_expect(strncmp(strstr(s, "data_units_read") + 24,
			  "340282366920938463463374607431768211455 (", 41) == 0, "%s", s);
	expect_text(s, "host_read_commands", "18446744073709551616");
	expect_text(s, "power_cycles", "9007199254740991");
	expect_text(s, "power_on_hours", "9007199254740992");
	expect_text(s, "media_errors", "100000000000000000000");
	expect_text(s, "temperature_sensor_2", "27 °C (300 K)");
	cr_expect(!text_get(s, "temperature_sensor_1", 0, (char[64]){ 0 }, 64),
		  "unimplemented sensors are not shown");

	j = describe_buf(NVMEOF_DESC_LOG_SMART, b, sizeof b, JSON);
	cr_assert(json_valid(j), "%s", j);
	expect_json_uint(j, "temperature", 308);
	expect_json_str(j, "data_units_read", "340282366920938463463374607431768211455");
	expect_json_str(j, "host_read_commands", "18446744073709551616");
	expect_json_uint(j, "power_cycles", (1ULL << 53) - 1);
	expect_json_str(j, "power_on_hours", "9007199254740992");
	expect_json_str(j, "media_errors", "100000000000000000000");
	expect_json_uint(j, "temperature_sensor_2", 300);
	free(s);
	free(j);
}

Test(log_firmware, fixtures)
{
	char *s = describe_target(&spdk, NVMEOF_DESC_LOG_FIRMWARE, "log-firmware.bin", 0);
	char *j = describe_target(&spdk, NVMEOF_DESC_LOG_FIRMWARE, "log-firmware.bin", JSON);
	char *n = describe_target(&nvmet, NVMEOF_DESC_LOG_FIRMWARE, "log-firmware.bin", 0);

	expect_text(s, "afi", "0x1 (active slot 1, next reset slot 0)");
	expect_text(s, "frs1", "23.01.1");
	cr_expect(!text_get(s, "frs2", 0, (char[64]){ 0 }, 64), "empty slots hidden");
	expect_json_uint(j, "afi", 1);
	expect_json_str(j, "frs1", "23.01.1");
	/* nvmet 6.1 returns an all-zero page */
	cr_expect_str_eq(n, "afi  : 0x0 (active slot 0, next reset slot 0)\n");
	free(s);
	free(j);
	free(n);
}

Test(log_changed_ns, fixtures_and_overflow)
{
	uint8_t b[4096] = { 0 };
	char *s = describe_target(&nvmet, NVMEOF_DESC_LOG_CHANGED_NS, "log-changed-ns.bin", 0);
	char *j;
	bool ov;

	cr_expect_str_eq(s, "no entries\n");
	free(s);
	le32_put(b, 5);
	le32_put(b + 4, 7);
	s = describe_buf(NVMEOF_DESC_LOG_CHANGED_NS, b, sizeof b, 0);
	cr_expect_str_eq(s, "[   0]:0x5\n[   1]:0x7\n");
	j = describe_buf(NVMEOF_DESC_LOG_CHANGED_NS, b, sizeof b, JSON);
	cr_assert(json_valid(j), "%s", j);
	expect_json_uint(j, "changed_ns_list.1.nsid", 7);
	cr_assert(json_get_bool(j, "overflow", &ov));
	cr_expect(!ov);
	free(s);
	free(j);

	le32_put(b, 0xffffffff);
	s = describe_buf(NVMEOF_DESC_LOG_CHANGED_NS, b, sizeof b, 0);
	cr_expect(strstr(s, "more than 1024") != NULL, "%s", s);
	j = describe_buf(NVMEOF_DESC_LOG_CHANGED_NS, b, sizeof b, JSON);
	cr_assert(json_get_bool(j, "overflow", &ov), "%s", j);
	cr_expect(ov);
	free(s);
	free(j);
}

Test(log_cmd_effects, fixtures)
{
	char *s = describe_target(&spdk, NVMEOF_DESC_LOG_CMD_EFFECTS, "log-cmd-effects.bin", 0);
	char *j = describe_target(&spdk, NVMEOF_DESC_LOG_CMD_EFFECTS, "log-cmd-effects.bin", JSON);
	char *n = describe_target(&nvmet, NVMEOF_DESC_LOG_CMD_EFFECTS, "log-cmd-effects.bin", JSON);

	expect_text(s, "acs 0x02", "0x00000001 CSUPP (Get Log Page)");
	expect_text(s, "acs 0x18", "0x00000001 CSUPP (Keep Alive)");
	expect_text(s, "iocs 0x01", "0x00000003 CSUPP LBCC (Write)");
	expect_text(s, "iocs 0x79", "0x00000003 CSUPP LBCC (Zone Management Send)");
	cr_expect(!text_get(s, "acs 0x00", 0, (char[64]){ 0 }, 64), "unsupported hidden");
	cr_expect_eq(json_array_len(j, "admin"), 7);
	cr_expect_eq(json_array_len(j, "io"), 8);
	expect_json_uint(j, "io.2.opcode", 2);
	expect_json_str(j, "io.2.name", "Read");
	expect_json_uint(j, "io.0.effects", 3);
	cr_expect_eq(json_array_len(n, "admin"), 7);
	cr_expect_eq(json_array_len(n, "io"), 5);
	expect_json_str(n, "io.4.name", "Dataset Management");
	free(s);
	free(j);
	free(n);
}

static size_t ana_build(uint8_t *b, size_t cap)
{
	size_t off = sizeof(struct nvme_ana_log_hdr);

	memset(b, 0, cap);
	le64_put(b, 9);
	le16_put(b + 8, 2);
	/* group 1: optimized, nsids 1 2 */
	le32_put(b + off, 1);
	le32_put(b + off + 4, 2);
	le64_put(b + off + 8, 3);
	b[off + 16] = 0x1;
	le32_put(b + off + 32, 1);
	le32_put(b + off + 36, 2);
	off += 40;
	/* group 2: inaccessible, nsid 5 */
	le32_put(b + off, 2);
	le32_put(b + off + 4, 1);
	b[off + 16] = 0x3;
	le32_put(b + off + 32, 5);
	return off + 36;
}

Test(log_ana, groups)
{
	uint8_t b[256];
	size_t len = ana_build(b, sizeof b);
	char *s = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, 0);
	char *j = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, JSON);

	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	expect_text(s, "chgcnt", "9");
	expect_text(s, "ngrps", "2");
	expect_text_n(s, "grpid", 1, "2");
	expect_text_n(s, "state", 0, "optimized");
	expect_text_n(s, "state", 1, "inaccessible");
	expect_text_n(s, "nsids", 0, "1 2");
	expect_text_n(s, "nsids", 1, "5");
	cr_assert(json_valid(j), "%s", j);
	cr_expect_eq(json_array_len(j, "groups"), 2);
	expect_json_uint(j, "groups.0.nsids.1", 2);
	expect_json_uint(j, "groups.1.nsids.0", 5);
	expect_json_str(j, "groups.1.state", "inaccessible");
	free(s);
	free(j);
}

/* Recorded with "nvmeof log --lid 0xc --len 4096 -o binary" (and --lsp 1,
 * RGO) from nvmeof-target with namespaces 1 (ANA group 1), 2 and 4 (group
 * 2), 3 (group 3), after "ana HOST:PORT 2 non-optimized", "... 3
 * inaccessible" and "... 3 change" on the listener read (CHGCNT 3). */
Test(log_ana, fixture_nvmeof_target)
{
	size_t len;
	uint8_t *b = load("nvmeof-target-log-ana.bin", &len);
	char *s = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, 0);
	char *j = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, JSON);

	cr_assert_eq(len, 4096);
	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	expect_text(s, "chgcnt", "3");
	expect_text(s, "ngrps", "3");
	expect_text_n(s, "grpid", 2, "3");
	expect_text_n(s, "state", 0, "optimized");
	expect_text_n(s, "state", 1, "non-optimized");
	expect_text_n(s, "state", 2, "change");
	expect_text_n(s, "nsids", 0, "1");
	expect_text_n(s, "nsids", 1, "2 4");
	expect_text_n(s, "nsids", 2, "3");
	cr_assert(json_valid(j), "%s", j);
	cr_expect_eq(json_array_len(j, "groups"), 3);
	expect_json_uint(j, "groups.1.chgcnt", 1);
	expect_json_uint(j, "groups.1.nsids.1", 4);
	expect_json_uint(j, "groups.2.chgcnt", 3);
	expect_json_str(j, "groups.2.state", "change");
	free(s);
	free(j);
	free(b);

	b = load("nvmeof-target-log-ana-rgo.bin", &len);
	j = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, JSON);
	cr_assert(json_valid(j), "%s", j);
	cr_expect_eq(json_array_len(j, "groups"), 3);
	for (int g = 0; g < 3; g++) {
		char path[32];

		snprintf(path, sizeof path, "groups.%d.nnsids", g);
		expect_json_uint(j, path, 0);
		snprintf(path, sizeof path, "groups.%d.nsids", g);
		cr_expect_eq(json_array_len(j, path), 0, "RGO: no NSIDs");
	}
	expect_json_str(j, "groups.1.state", "non-optimized");
	free(j);
	free(b);
}

/* Recorded the same way from Linux nvmet 6.1.0-57 in QEMU (tests/interop):
 * port 1 with ANA groups 2 (non-optimized) and 3 (inaccessible, no
 * namespace), namespace 2's ana_grpid 2.  nvmet lists every group enabled
 * on the port, also an empty one, and gives every descriptor the global
 * change count. */
Test(log_ana, fixture_linux_nvmet)
{
	size_t len;
	uint8_t *b = load("linux-nvmet-6.1-log-ana.bin", &len);
	char *s = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, 0);
	char *j = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, JSON);

	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	expect_text(s, "chgcnt", "3");
	expect_text(s, "ngrps", "3");
	expect_text_n(s, "state", 0, "optimized");
	expect_text_n(s, "state", 1, "non-optimized");
	expect_text_n(s, "state", 2, "inaccessible");
	expect_text_n(s, "nsids", 0, "1");
	expect_text_n(s, "nsids", 1, "2");
	cr_assert(json_valid(j), "%s", j);
	expect_json_uint(j, "groups.2.grpid", 3);
	expect_json_uint(j, "groups.2.nnsids", 0);
	expect_json_uint(j, "groups.1.chgcnt", 3);
	free(s);
	free(j);
	free(b);

	b = load("linux-nvmet-6.1-log-ana-rgo.bin", &len);
	j = describe_buf(NVMEOF_DESC_LOG_ANA, b, len, JSON);
	cr_assert(json_valid(j), "%s", j);
	cr_expect_eq(json_array_len(j, "groups"), 3);
	expect_json_uint(j, "groups.0.nnsids", 0);
	expect_json_str(j, "groups.1.state", "non-optimized");
	free(j);
	free(b);
}

Test(log_ana, bounded_by_len)
{
	uint8_t b[256];
	size_t len = ana_build(b, sizeof b), l;

	/* every truncation of the last group's nsid list, and of the groups */
	for (l = sizeof(struct nvme_ana_log_hdr); l < len; l++)
		expect_einval(NVMEOF_DESC_LOG_ANA, b, l, 0);
	/* nnsids FFFFFFFFh: must not wrap around into "fits" */
	le32_put(b + 16 + 4, 0xffffffff);
	expect_einval(NVMEOF_DESC_LOG_ANA, b, sizeof b, JSON);
	/* ngrps 65535 with one group's worth of bytes */
	len = ana_build(b, sizeof b);
	le16_put(b + 8, 0xffff);
	expect_einval(NVMEOF_DESC_LOG_ANA, b, sizeof b, 0);
}

/* ---- discovery log through describe --------------------------------------- */

static const char *subtype_words(unsigned st)
{
	return st == 3 ? "current discovery subsystem" :
	       st == 2 ? "nvme subsystem" : "discovery subsystem referral";
}

static const char *treq_words(unsigned treq)
{
	return treq == 4 ? "not specified, sq flow control disable supported" :
	       treq == 2 ? "not required" : "?";
}

static void check_discovery(const struct target *t)
{
	char *s = describe_target(t, NVMEOF_DESC_LOG_DISCOVERY, "disc-log.bin", 0);
	char *j = describe_target(t, NVMEOF_DESC_LOG_DISCOVERY, "disc-log.bin", JSON);
	unsigned i;

	expect_textf(s, "genctr", "%llu", (unsigned long long)t->genctr);
	expect_textf(s, "numrec", "%u", t->nrec);
	expect_json_uint(j, "genctr", t->genctr);
	expect_json_uint(j, "numrec", t->nrec);
	cr_expect_eq(json_array_len(j, "records"), (int)t->nrec);
	cr_expect(!text_get(s, "trtype", t->nrec, (char[64]){ 0 }, 64), "extra entry");
	for (i = 0; i < t->nrec; i++) {
		char k[64];

		expect_text_n(s, "trtype", i, "tcp");
		expect_text_n(s, "adrfam", i, "ipv4");
		expect_text_n(s, "subtype", i, subtype_words(t->subtype[i]));
		expect_text_n(s, "traddr", i, t->traddr);
		expect_text_n(s, "trsvcid", i, t->trsvcid);
		expect_text_n(s, "treq", i, treq_words(t->treq));
		expect_text_n(s, "subnqn", i, t->rec_subnqn[i]);
		expect_text_n(s, "sectype", i, "none");
#define K(f) (snprintf(k, sizeof k, "records.%u." f, i), k)
		expect_json_uint(j, K("trtype"), 3);
		expect_json_uint(j, K("adrfam"), 1);
		expect_json_uint(j, K("subtype"), t->subtype[i]);
		expect_json_str(j, K("traddr"), t->traddr);
		expect_json_str(j, K("trsvcid"), t->trsvcid);
		expect_json_uint(j, K("treq"), t->treq);
		expect_json_str(j, K("subnqn"), t->rec_subnqn[i]);
#undef K
	}
	free(s);
	free(j);
}

Test(discovery, nvmet) { check_discovery(&nvmet); }
Test(discovery, spdk) { check_discovery(&spdk); }

Test(discovery, numrec_beyond_buffer)
{
	size_t len, l;
	uint8_t *b = load("linux-nvmet-6.1-disc-log.bin", &len);

	cr_assert_eq(len, 3072u);
	/* the header says 2 records: any shorter buffer is an error */
	for (l = 0; l < len; l += 97)
		expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, l, l & 1 ? JSON : 0);
	expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, len - 1, 0);
	le64_put(b + 8, 1ULL << 63);
	expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, len, JSON);
	le64_put(b + 8, UINT64_MAX);
	expect_einval(NVMEOF_DESC_LOG_DISCOVERY, b, len, 0);
	free(b);
}

Test(discovery, hostile_strings)
{
	size_t len;
	uint8_t *b = load("spdk-23.01-disc-log.bin", &len);
	uint8_t *e = b + 1024;
	char *s, *j, got[1200], want[64];
	size_t i;

	/* traddr: 256 bytes, no NUL, escapes and high bytes */
	for (i = 0; i < 256; i++)
		e[512 + i] = (uint8_t)(i % 3 == 0 ? 0x1b : i % 3 == 1 ? 0xff : '"');
	/* trsvcid: 32 bytes with a newline and a backslash */
	memset(e + 32, 'x', 32);
	e[33] = '\n';
	e[34] = '\\';
	s = describe_buf(NVMEOF_DESC_LOG_DISCOVERY, b, len, 0);
	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	cr_expect(text_clean(s), "raw control bytes in:\n%s", s);
	cr_assert(text_get(s, "traddr", 0, got, sizeof got));
	cr_expect(strncmp(got, "\\x1b\\xff\"\\x1b", 13) == 0, "%s", got);
	cr_assert(text_get(s, "trsvcid", 0, got, sizeof got));
	/* x \x0a \\ and 29 more x: all 32 bytes, escaped */
	snprintf(want, sizeof want, "x\\x0a\\\\%.29s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	cr_expect_str_eq(got, want);
	j = describe_buf(NVMEOF_DESC_LOG_DISCOVERY, b, len, JSON);
	cr_assert(json_valid(j), "%s", j);
	cr_expect(strstr(j, "\"\\u001b\\u00ff\\\"\\u001b") != NULL, "%s", j);
	cr_assert(json_get_string(j, "records.0.trsvcid", got, sizeof got));
	snprintf(want, sizeof want, "x\n\\%.29s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	cr_expect_str_eq(got, want);
	free(s);
	free(j);
	free(b);
}

/* ---- hostile identify strings ------------------------------------------------ */

Test(hostile, unterminated_control_and_high_bytes)
{
	uint8_t b[4096] = { 0 };
	char *s, *j, got[600];
	size_t i;

	/* sn: every field byte used, control bytes, quote, backslash, DEL */
	static const uint8_t sn[20] = { 'A', 0x01, 0x1b, '[', '2', 'J', '"', '\\', 0x7f,
					0x0d, 0x0a, 0x09, 0x08, 0x0c, 'Z', 0x1f, 'q', 0x80,
					0xc3, 0x28 };
	memcpy(b + offsetof(struct nvme_id_ctrl, sn), sn, sizeof sn);
	memset(b + offsetof(struct nvme_id_ctrl, fr), 0xff, 8);
	for (i = 0; i < 40; i++)
		b[offsetof(struct nvme_id_ctrl, mn) + i] = (uint8_t)(0x80 + i);
	memset(b + offsetof(struct nvme_id_ctrl, subnqn), 'n', 256); /* no NUL */
	b[offsetof(struct nvme_id_ctrl, npss)] = 0xff; /* 256 power states? 32 */

	s = describe_buf(NVMEOF_DESC_ID_CTRL, b, sizeof b, 0);
	cr_assert_not_null(s, "%s", nvmeof_describe_error());
	cr_expect(text_clean(s), "raw control or high bytes in:\n%s", s);
	expect_text(s, "sn", "A\\x01\\x1b[2J\"\\\\\\x7f\\x0d\\x0a\\x09\\x08\\x0cZ\\x1fq\\x80\\xc3(");
	expect_text(s, "fr", "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff");
	cr_assert(text_get(s, "subnqn", 0, got, sizeof got));
	cr_expect_eq(strlen(got), 256u);
	cr_expect(text_get(s, "ps 31", 0, got, sizeof got), "NPSS capped at 31");
	cr_expect(!text_get(s, "ps 32", 0, got, sizeof got));

	j = describe_buf(NVMEOF_DESC_ID_CTRL, b, sizeof b, JSON);
	cr_assert(json_valid(j), "invalid JSON:\n%s", j);
	for (i = 0; j[i]; i++)
		cr_assert_lt((unsigned char)j[i], 0x80, "JSON must be ASCII");
	cr_assert(json_get_string(j, "sn", got, sizeof got));
	/* ASCII round-trips exactly; 0x80, 0xc3 come back as U+0080, U+00C3 */
	cr_expect(memcmp(got, sn, 17) == 0, "sn prefix");
	cr_expect(memcmp(got + 17, "\xc2\x80\xc3\x83(", 5) == 0, "sn tail");
	cr_expect(strstr(j, "\"fr\": \"\\u00ff\\u00ff") != NULL, "%s", j);
	cr_assert(json_get_string(j, "subnqn", got, sizeof got));
	cr_expect_eq(strlen(got), 256u);
	cr_expect_eq(json_array_len(j, "psds"), 32);
	free(s);
	free(j);
}

/* A string cut at its first NUL, trailing spaces dropped. */
Test(hostile, padding)
{
	uint8_t b[4096] = { 0 };
	char *s;

	memcpy(b + offsetof(struct nvme_id_ctrl, sn), "ab  cd   \0zz\x01", 13);
	memcpy(b + offsetof(struct nvme_id_ctrl, mn), "  lead", 6);
	memset(b + offsetof(struct nvme_id_ctrl, mn) + 6, ' ', 34);
	s = describe_buf(NVMEOF_DESC_ID_CTRL, b, sizeof b, 0);
	expect_text(s, "sn", "ab  cd");
	expect_text(s, "mn", "  lead");
	free(s);
}

/* ---- too short for its kind ---------------------------------------------------- */

static const struct {
	enum nvmeof_describe_kind kind;
	size_t min;
} minimum[] = {
	{ NVMEOF_DESC_ID_CTRL, 4096 },
	{ NVMEOF_DESC_ID_NS, 4096 },
	{ NVMEOF_DESC_NS_LIST, 4 },
	{ NVMEOF_DESC_NS_DESC, 4 },
	{ NVMEOF_DESC_LOG_ERROR, 64 },
	{ NVMEOF_DESC_LOG_SMART, 512 },
	{ NVMEOF_DESC_LOG_FIRMWARE, 512 },
	{ NVMEOF_DESC_LOG_CHANGED_NS, 4 },
	{ NVMEOF_DESC_LOG_CMD_EFFECTS, 4096 },
	{ NVMEOF_DESC_LOG_ANA, 16 },
	{ NVMEOF_DESC_LOG_DISCOVERY, 1024 },
};

Test(truncated, every_kind_every_short_length)
{
	static uint8_t ff[4096];
	size_t k, l;
	char *s;

	memset(ff, 0xff, sizeof ff);
	for (k = 0; k < sizeof minimum / sizeof minimum[0]; k++) {
		for (l = 0; l < minimum[k].min; l++)
			expect_einval(minimum[k].kind, ff, l, l & 1 ? JSON : 0);
		/* NULL data is "too short" too, never a crash */
		errno = 0;
		cr_expect_null(nvmeof_describe(minimum[k].kind, NULL, 0, 0));
		cr_expect_eq(errno, EINVAL);
		/* at the minimum, an all-zero payload decodes */
		memset(ff, 0, minimum[k].min);
		s = describe_buf(minimum[k].kind, ff, minimum[k].min, 0);
		cr_expect_not_null(s, "kind %d at %zu bytes: %s", minimum[k].kind,
				   minimum[k].min, nvmeof_describe_error());
		cr_expect(s && text_clean(s));
		free(s);
		s = describe_buf(minimum[k].kind, ff, minimum[k].min, JSON);
		cr_expect(s && json_valid(s), "kind %d JSON:\n%s", minimum[k].kind, s);
		free(s);
		memset(ff, 0xff, sizeof ff);
	}
}

Test(truncated, unknown_kind)
{
	uint8_t b[4096] = { 0 };

	expect_einval((enum nvmeof_describe_kind)99, b, sizeof b, 0);
	expect_einval((enum nvmeof_describe_kind)-1, b, sizeof b, JSON);
}

/* ---- every fixture in both forms ------------------------------------------------ */

Test(fixtures, all_clean_text_and_valid_json)
{
	static const struct {
		const char *suffix;
		enum nvmeof_describe_kind kind;
	} f[] = {
		{ "id-ctrl.bin", NVMEOF_DESC_ID_CTRL },
		{ "disc-id-ctrl.bin", NVMEOF_DESC_ID_CTRL },
		{ "id-ns1.bin", NVMEOF_DESC_ID_NS },
		{ "ns-list.bin", NVMEOF_DESC_NS_LIST },
		{ "ns1-desc.bin", NVMEOF_DESC_NS_DESC },
		{ "log-error.bin", NVMEOF_DESC_LOG_ERROR },
		{ "log-smart.bin", NVMEOF_DESC_LOG_SMART },
		{ "log-firmware.bin", NVMEOF_DESC_LOG_FIRMWARE },
		{ "log-changed-ns.bin", NVMEOF_DESC_LOG_CHANGED_NS },
		{ "log-cmd-effects.bin", NVMEOF_DESC_LOG_CMD_EFFECTS },
		{ "disc-log.bin", NVMEOF_DESC_LOG_DISCOVERY },
	};
	const struct target *t[] = { &nvmet, &spdk };
	size_t i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof f / sizeof f[0]; i++) {
			free(describe_target(t[k], f[i].kind, f[i].suffix, 0));
			free(describe_target(t[k], f[i].kind, f[i].suffix, JSON));
		}
}

/* ---- random payloads: an error or clean output, never a crash --------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

Test(fuzz, random_payloads)
{
	static uint8_t b[5120];
	unsigned iter, ok = 0;

	for (iter = 0; iter < 3000; iter++) {
		enum nvmeof_describe_kind kind = (enum nvmeof_describe_kind)(rng() % 11);
		size_t len = rng() % sizeof b, i;
		unsigned flags = rng() & 1 ? JSON : 0;
		bool sparse = rng() & 1;
		char *s;

		for (i = 0; i < len; i++)
			b[i] = sparse ? (rng() % 16 == 0 ? (uint8_t)rng() : 0) : (uint8_t)rng();
		if (kind == NVMEOF_DESC_LOG_DISCOVERY && len >= 16)
			le64_put(b + 8, rng() % 6); /* sometimes plausible numrec */
		if (kind == NVMEOF_DESC_LOG_ANA && len >= 16)
			le16_put(b + 8, (uint16_t)(rng() % 4));
		errno = 0;
		s = describe_buf(kind, b, len, flags);
		if (!s) {
			cr_assert_eq(errno, EINVAL, "kind %d len %zu errno %d", kind, len, errno);
			continue;
		}
		ok++;
		if (flags & JSON)
			cr_assert(json_valid(s), "kind %d len %zu:\n%s", kind, len, s);
		else
			cr_assert(text_clean(s), "kind %d len %zu:\n%s", kind, len, s);
		free(s);
	}
	cr_expect_gt(ok, 500u, "too few payloads decoded (%u): the fuzz tests little", ok);
}

/* ---- log kinds and features ------------------------------------------------ */

Test(log_kind, mapping)
{
	cr_expect_eq(nvmeof_describe_log_kind(0x01), NVMEOF_DESC_LOG_ERROR);
	cr_expect_eq(nvmeof_describe_log_kind(0x02), NVMEOF_DESC_LOG_SMART);
	cr_expect_eq(nvmeof_describe_log_kind(0x03), NVMEOF_DESC_LOG_FIRMWARE);
	cr_expect_eq(nvmeof_describe_log_kind(0x04), NVMEOF_DESC_LOG_CHANGED_NS);
	cr_expect_eq(nvmeof_describe_log_kind(0x05), NVMEOF_DESC_LOG_CMD_EFFECTS);
	cr_expect_eq(nvmeof_describe_log_kind(0x0c), NVMEOF_DESC_LOG_ANA);
	cr_expect_eq(nvmeof_describe_log_kind(0x70), NVMEOF_DESC_LOG_DISCOVERY);
	cr_expect_eq(nvmeof_describe_log_kind(0x00), -1);
	cr_expect_eq(nvmeof_describe_log_kind(0x06), -1);
	cr_expect_eq(nvmeof_describe_log_kind(0xff), -1);
}

static void expect_feature(uint8_t fid, uint32_t dw0, const char *want)
{
	char *s = nvmeof_describe_feature(fid, dw0, 0);

	cr_assert_not_null(s);
	cr_expect_str_eq(s, want, "fid %#x dw0 %#x", fid, dw0);
	free(s);
}

Test(feature, text)
{
	expect_feature(0x07, 0x00030003, "Number of Queues: 4 SQ, 4 CQ\n");
	expect_feature(0x07, 0x0000001f, "Number of Queues: 32 SQ, 1 CQ\n");
	expect_feature(0x01, 0x03020103, "Arbitration: burst 8, weights low 2, medium 3, high 4\n");
	expect_feature(0x01, 0x00000007, "Arbitration: burst no limit, weights low 1, medium 1, high 1\n");
	expect_feature(0x02, 0x00000042, "Power Management: power state 2, workload hint 2\n");
	expect_feature(0x04, 0x00000166, "Temperature Threshold: 358 K (85 °C), composite, over threshold\n");
	expect_feature(0x04, 0x00120110, "Temperature Threshold: 272 K (-1 °C), sensor 2, under threshold\n");
	expect_feature(0x05, 0x0001000a, "Error Recovery: time limit 1000 ms, deallocated block error enabled\n");
	expect_feature(0x06, 1, "Volatile Write Cache: enabled\n");
	expect_feature(0x06, 0, "Volatile Write Cache: disabled\n");
	expect_feature(0x08, 0x00000a03, "Interrupt Coalescing: threshold 4, time 1000 us\n");
	expect_feature(0x0a, 1, "Write Atomicity Normal: AWUN/NAWUN not required (DN 1)\n");
	expect_feature(0x0b, 0x80000900,
		       "Asynchronous Event Configuration: SMART warnings 0x0, namespace attribute, ANA change, discovery log change\n");
	expect_feature(0x0f, 5000, "Keep Alive Timer: 5000 ms\n");
	expect_feature(0x7e, 0xdeadbeef, "Feature 0x7e: 0xdeadbeef\n");
}

Test(feature, json)
{
	char *s = nvmeof_describe_feature(0x07, 0x00070003, JSON);
	unsigned fid;

	cr_assert(json_valid(s), "%s", s);
	expect_json_uint(s, "fid", 7);
	expect_json_str(s, "name", "Number of Queues");
	expect_json_uint(s, "nsq", 4);
	expect_json_uint(s, "ncq", 8);
	expect_json_uint(s, "value", 0x00070003);
	free(s);
	s = nvmeof_describe_feature(0x04, 0x166, JSON);
	expect_json_str(s, "text", "358 K (85 \xc2\xb0""C), composite, over threshold");
	expect_json_uint(s, "tmpth", 358);
	free(s);
	for (fid = 0; fid < 256; fid++) {
		s = nvmeof_describe_feature((uint8_t)fid, 0xffffffffu, JSON);
		cr_assert(json_valid(s), "fid %u:\n%s", fid, s);
		free(s);
		s = nvmeof_describe_feature((uint8_t)fid, 0xffffffffu, 0);
		cr_assert(text_clean(s) && strchr(s, '\n') == s + strlen(s) - 1,
			  "fid %u: one clean line:\n%s", fid, s);
		free(s);
	}
}

/* ---- the checker itself must be able to say no ------------------------------- */

Test(json_check, rejects_what_it_should)
{
	static const char *const bad[] = {
		"", "{", "}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]",
		"01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "\"abc",
		"\"a\x01\"", "\"\\x41\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"",
		"\"\xc3\x28\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xff\"",
		"{} {}", "{}x", "{'a':1}", "[\"a\"\n,]",
	};
	static const char *const good[] = {
		"{}", "[]", " {\"a\": [1, -2.5e+3, true, false, null, \"\\u00e9\\n\"]} \n",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "0", "-0.0E-1",
		"\"\\ud83d\\ude00\"",
	};
	size_t i;
	char deep[201];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(!json_valid(bad[i]), "accepted bad JSON #%zu: %s", i, bad[i]);
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_expect(json_valid(good[i]), "rejected good JSON #%zu: %s", i, good[i]);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	deep[200] = '\0';
	cr_expect(!json_valid(deep), "100 levels: deeper than the limit");
	memset(deep, '[', 60);
	memset(deep + 60, ']', 60);
	deep[120] = '\0';
	cr_expect(json_valid(deep), "60 levels are fine");
}

Test(json_check, lookup)
{
	const char *j = "{\"a\": 1, \"s\": \"x\\\"y\", \"o\": {\"n\": [10, {\"k\": 18446744073709551615}]},"
			" \"b\": true, \"f\": 1.5}";
	char buf[16];
	uint64_t u;
	double d;
	bool b;

	cr_assert(json_get_uint(j, "a", &u));
	cr_expect_eq(u, 1);
	cr_assert(json_get_string(j, "s", buf, sizeof buf));
	cr_expect_str_eq(buf, "x\"y");
	cr_assert(json_get_uint(j, "o.n.0", &u));
	cr_expect_eq(u, 10);
	cr_assert(json_get_uint(j, "o.n.1.k", &u));
	cr_expect_eq(u, UINT64_MAX);
	cr_expect_eq(json_array_len(j, "o.n"), 2);
	cr_assert(json_get_bool(j, "b", &b));
	cr_expect(b);
	cr_assert(json_get_number(j, "f", &d));
	cr_expect(d == 1.5);
	cr_expect(!json_get_uint(j, "f", &u), "1.5 is not an integer");
	cr_expect(!json_get_uint(j, "s", &u), "a string is not a number");
	cr_expect(!json_get_string(j, "a", buf, sizeof buf), "a number is not a string");
	cr_expect(!json_has(j, "n"), "nested keys are not top-level");
	cr_expect(!json_has(j, "o.n.2"));
	cr_expect(!json_get_uint("{\"a\": 1,}", "a", &u), "invalid documents fail");
	cr_expect(!json_get_string(j, "s", buf, 3), "too small a buffer fails");
}

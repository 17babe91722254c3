/* SPDX-License-Identifier: MIT */
/* nvmeof_describe(): the log pages (error, SMART, firmware slot, changed
 * namespaces, commands supported and effects, ANA) and the log identifier
 * to describe-kind mapping. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe_check.h"

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

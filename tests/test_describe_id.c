/* SPDX-License-Identifier: MIT */
/* nvmeof_describe(): Identify Controller, Identify Namespace, the active
 * namespace list and namespace identification descriptors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe_check.h"

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

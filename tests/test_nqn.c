/* SPDX-License-Identifier: MIT */
/* Host NQN / host ID, NQN syntax, address parsing (lib/nqn.c). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "cr_skip_main.h"
#include "internal.h"

#define PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

/* ---- NQN validation ----------------------------------------------------- */

Test(nqn_validate, accepts_valid)
{
	char longest[NVMEOF_NQN_MAX + 1];
	static const char *good[] = {
		NVMEOF_DISCOVERY_NQN,
		PREFIX "0f8fad5b-d9cb-469f-a165-70867728950e",
		PREFIX "0F8FAD5B-D9CB-469F-A165-70867728950E",
		"nqn.2016-06.io.spdk:cnode1",
		"nqn.1992-08.com.netapp:sn.0123456789:vs.4",
		"nqn.2014-08.org.nvmexpress:NVMf:uuid:whatever-old-nvme-cli",
		"nqn.2014-08.com.example",
		"nqn.2014-08.localhost:x",
		"nqn.2019-12.com.my-company.storage:array 1 / pool:7",
		("nqn.2020-01.com.example:\xc3\xbcnic\xc3\xb8" "de-\xe2\x82\xac-\xf0\x9f\x92\xbe"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		cr_expect_eq(nvmeof_nqn_validate(good[i]), 0, "'%s': %s", good[i],
			     nvmeof_get_error());
	memset(longest, 'x', sizeof longest);
	memcpy(longest, "nqn.2014-08.com.example:", 24);
	longest[NVMEOF_NQN_MAX] = '\0';
	cr_expect_eq(nvmeof_nqn_validate(longest), 0, "223 bytes: %s",
		     nvmeof_get_error());
}

Test(nqn_validate, rejects_with_reason)
{
	char toolong[NVMEOF_NQN_MAX + 2];
	static const struct {
		const char *nqn, *why;
	} bad[] = {
		{ NULL, "NULL" },
		{ "", "empty" },
		{ "iqn.2014-08.com.example:x", "does not start with \"nqn.\"" },
		{ "NQN.2014-08.com.example:x", "does not start with \"nqn.\"" },
		{ "nqn.14-08.com.example:x", "yyyy-mm" },
		{ "nqn.2014-8.com.example:x", "yyyy-mm" },
		{ "nqn.2014_08.com.example:x", "yyyy-mm" },
		{ "nqn.2014-13.com.example:x", "month 13" },
		{ "nqn.2014-00.com.example:x", "month 00" },
		{ "nqn.2014-08com.example:x", "followed by '.'" },
		{ "nqn.2014-08", "followed by '.'" },
		{ "nqn.2014-08.", "no domain name" },
		{ "nqn.2014-08.:x", "no domain name" },
		{ "nqn.2014-08.com..example:x", "empty label" },
		{ "nqn.2014-08.com.example.:x", "empty label" },
		{ "nqn.2014-08.com_x.example:x", "character '_'" },
		{ "nqn.2014-08.-com.example:x", "starts or ends with '-'" },
		{ "nqn.2014-08.com-.example:x", "starts or ends with '-'" },
		{ "nqn.2014-08.com.example:", "nothing after ':'" },
		{ "nqn.2014-08.com.exa mple:x", "character ' '" },
		{ PREFIX, "UUID" },
		{ PREFIX "1234", "UUID" },
		{ PREFIX "0f8fad5b-d9cb-469f-a165-70867728950", "UUID" },
		{ PREFIX "0f8fad5b-d9cb-469f-a165-70867728950e0", "UUID" },
		{ PREFIX "0f8fad5bd9cb-469f-a165-70867728950e0", "UUID" },
		{ PREFIX "0f8fad5b-d9cb-469f-a165-70867728950g", "UUID" },
		{ "nqn.2014-08.com.example:a\x01z", "control character 0x01 at byte 25" },
		{ "nqn.2014-08.com.example:a\tb", "control character 0x09" },
		{ "nqn.2014-08.com.example:a\nb", "control character 0x0a" },
		{ "nqn.2014-08.com.example:a\x7f", "control character 0x7f" },
		{ "nqn.2014-08.com.example:\xc2\x85", "control character U+0085" },
		{ "nqn.2014-08.com.example:\xff", "not valid UTF-8 at byte 24" },
		{ "nqn.2014-08.com.example:\xc0\xaf", "not valid UTF-8" },
		{ "nqn.2014-08.com.example:\xe0\x80\xaf", "not valid UTF-8" },
		{ "nqn.2014-08.com.example:\xed\xa0\x80", "not valid UTF-8" },
		{ "nqn.2014-08.com.example:\xf4\x90\x80\x80", "not valid UTF-8" },
		{ "nqn.2014-08.com.example:\xc3", "not valid UTF-8" },
		{ "nqn.2014-08.com.example:\xe2\x82", "not valid UTF-8" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		clear_error();
		cr_expect_eq(nvmeof_nqn_validate(bad[i].nqn), -EINVAL, "case %zu", i);
		cr_expect_eq(nvmeof_get_errno(), EINVAL);
		cr_expect(strstr(nvmeof_get_error(), bad[i].why) != NULL,
			  "case %zu: '%s' does not say '%s'", i,
			  nvmeof_get_error(), bad[i].why);
	}

	memset(toolong, 'x', sizeof toolong);
	memcpy(toolong, "nqn.2014-08.com.example:", 24);
	toolong[NVMEOF_NQN_MAX + 1] = '\0';
	cr_expect_eq(nvmeof_nqn_validate(toolong), -EINVAL);
	cr_expect(strstr(nvmeof_get_error(), "224 bytes long; at most 223") != NULL,
		  "%s", nvmeof_get_error());
}

Test(nqn_validate, message_quotes_printable_nqn_only)
{
	cr_assert_eq(nvmeof_nqn_validate("nqn.2014-13.com.example:x"), -EINVAL);
	cr_expect(strstr(nvmeof_get_error(), "'nqn.2014-13.com.example:x'") != NULL,
		  "%s", nvmeof_get_error());
	cr_expect(strstr(nvmeof_get_error(), "§4.5") != NULL);
	cr_assert_eq(nvmeof_nqn_validate("nqn.2014-08.com.example:\x1b[2J"), -EINVAL);
	cr_expect(strchr(nvmeof_get_error(), '\x1b') == NULL,
		  "control characters are not echoed");
}

/* ---- generated and default host identity -------------------------------- */

static bool uuid_version_is(const char *text, int version)
{
	uuid_t u;

	return uuid_parse(text, u) == 0 && (u[6] >> 4) == version &&
	       (u[8] & 0xc0) == 0x80;
}

Test(hostnqn, generate)
{
	char a[256], b[256];

	cr_assert_eq(nvmeof_gen_hostnqn(a, sizeof a), 0);
	cr_assert_eq(nvmeof_gen_hostnqn(b, sizeof b), 0);
	cr_expect_eq(strlen(a), strlen(PREFIX) + 36);
	cr_expect_eq(strncmp(a, PREFIX, strlen(PREFIX)), 0, "%s", a);
	cr_expect_eq(nvmeof_nqn_validate(a), 0, "%s", nvmeof_get_error());
	cr_expect_str_neq(a, b);
	cr_expect(uuid_version_is(a + strlen(PREFIX), 4), "%s", a);

	/* Exactly enough room, and one byte short. */
	cr_expect_eq(nvmeof_gen_hostnqn(a, strlen(PREFIX) + 37), 0);
	cr_expect_eq(nvmeof_gen_hostnqn(a, strlen(PREFIX) + 36), -ENAMETOOLONG);
	cr_expect(strstr(nvmeof_get_error(), "needs 69 bytes; the buffer holds 68"),
		  "%s", nvmeof_get_error());
	cr_expect_eq(nvmeof_gen_hostnqn(NULL, 100), -EINVAL);
}

/* A fresh NVMEOF_ETC_DIR per test (each Criterion test is its own process). */
static char etc[PATH_MAX];

static void etc_setup(void)
{
	snprintf(etc, sizeof etc, "%s/nvmeof-nqn-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(etc));
	setenv("NVMEOF_ETC_DIR", etc, 1);
}

static void etc_teardown(void)
{
	static const char *names[] = { "hostnqn", "hostid", "machine-id",
				       "product_uuid" };
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof path, "%s/%s", etc, names[i]);
		unlink(path);
	}
	rmdir(etc);
}

static void put(const char *name, const char *content, size_t len)
{
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", etc, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(content, 1, len, f), len);
	fclose(f);
}

static void put_s(const char *name, const char *content)
{
	put(name, content, strlen(content));
}

static void del(const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof path, "%s/%s", etc, name);
	unlink(path);
}

TestSuite(hostid, .init = etc_setup, .fini = etc_teardown);

#define MID "3d1219c7c4c5404aaa1f6d2a48adfda4"

Test(hostid, nothing_known_is_enoent)
{
	char id[64], nqn[256];

	cr_expect_eq(nvmeof_default_hostid(id, sizeof id), -ENOENT);
	cr_expect(strstr(nvmeof_get_error(), etc) != NULL, "%s", nvmeof_get_error());
	cr_expect_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), -ENOENT);
}

Test(hostid, files_used_and_trimmed)
{
	char id[64], nqn[256];

	put_s("hostid", "  0F8FAD5B-D9CB-469F-A165-70867728950E\n");
	put_s("hostnqn", "nqn.2014-08.com.example:host-1\r\n\n");
	cr_assert_eq(nvmeof_default_hostid(id, sizeof id), 0, "%s", nvmeof_get_error());
	cr_expect_str_eq(id, "0f8fad5b-d9cb-469f-a165-70867728950e");
	cr_assert_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), 0, "%s", nvmeof_get_error());
	cr_expect_str_eq(nqn, "nqn.2014-08.com.example:host-1");
}

Test(hostid, from_hostnqn_uuid)
{
	char id[64], nqn[256];

	put_s("hostnqn", PREFIX "6ba7b810-9dad-11d1-80b4-00c04fd430c8\n");
	put_s("machine-id", MID "\n");
	cr_assert_eq(nvmeof_default_hostid(id, sizeof id), 0, "%s", nvmeof_get_error());
	cr_expect_str_eq(id, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	cr_assert_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), 0);
	cr_expect_str_eq(nqn, PREFIX "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
}

Test(hostid, hostnqn_from_hostid)
{
	char nqn[256];

	put_s("hostid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	cr_assert_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), 0, "%s", nvmeof_get_error());
	cr_expect_str_eq(nqn, PREFIX "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
}

Test(hostid, invalid_files_ignored)
{
	char id[64], nqn[256], id2[64];

	put_s("machine-id", MID "\n");
	cr_assert_eq(nvmeof_default_hostid(id2, sizeof id2), 0);

	put_s("hostid", "not-a-uuid\n");
	put_s("hostnqn", "nqn.2014-13.com.example:bad-month\n");
	cr_assert_eq(nvmeof_default_hostid(id, sizeof id), 0, "%s", nvmeof_get_error());
	cr_expect_str_eq(id, id2, "falls back to machine-id");
	cr_assert_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), 0);
	cr_expect_eq(strncmp(nqn, PREFIX, strlen(PREFIX)), 0, "%s", nqn);
	cr_expect_str_eq(nqn + strlen(PREFIX), id2);

	/* nil UUID, NUL inside, empty, white space only, UUID with junk */
	put_s("hostid", "00000000-0000-0000-0000-000000000000");
	cr_assert_eq(nvmeof_default_hostid(id, sizeof id), 0);
	cr_expect_str_eq(id, id2);
	put("hostid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8\0", 37);
	put("hostnqn", "nqn.2014-08.com.example:a\0b", 27);
	cr_assert_eq(nvmeof_default_hostid(id, sizeof id), 0);
	cr_expect_str_eq(id, id2);
	cr_assert_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), 0);
	cr_expect_str_eq(nqn + strlen(PREFIX), id2);
	put_s("hostid", "");
	put_s("hostnqn", " \n\t\n");
	cr_assert_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), 0);
	cr_expect_str_eq(nqn + strlen(PREFIX), id2);
	put_s("hostid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8x");
	cr_assert_eq(nvmeof_default_hostid(id, sizeof id), 0);
	cr_expect_str_eq(id, id2);
}

Test(hostid, machine_id_hashed_and_stable)
{
	char a[64], b[64], c[64], nqn[256];

	put_s("machine-id", MID "\n");
	cr_assert_eq(nvmeof_default_hostid(a, sizeof a), 0, "%s", nvmeof_get_error());
	cr_assert_eq(nvmeof_default_hostid(b, sizeof b), 0);
	cr_expect_str_eq(a, b, "stable");
	cr_expect(uuid_version_is(a, 5), "name-based v5: %s", a);
	cr_expect(strstr(a, "3d1219c7") == NULL, "not the machine-id itself");
	cr_assert_eq(nvmeof_default_hostnqn(nqn, sizeof nqn), 0);
	cr_expect_str_eq(nqn + strlen(PREFIX), a);
	cr_expect_eq(nvmeof_nqn_validate(nqn), 0);

	/* Upper case is the same machine; another machine-id is another ID. */
	put_s("machine-id", "3D1219C7C4C5404AAA1F6D2A48ADFDA4");
	cr_assert_eq(nvmeof_default_hostid(b, sizeof b), 0);
	cr_expect_str_eq(a, b);
	put_s("machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda5");
	cr_assert_eq(nvmeof_default_hostid(c, sizeof c), 0);
	cr_expect_str_neq(a, c);

	/* Not a machine-id: ignored. */
	put_s("machine-id", "uninitialized\n");
	cr_expect_eq(nvmeof_default_hostid(c, sizeof c), -ENOENT);
	put_s("machine-id", "00000000000000000000000000000000");
	cr_expect_eq(nvmeof_default_hostid(c, sizeof c), -ENOENT);
}

Test(hostid, dmi_product_uuid)
{
	char a[64], b[64];

	put_s("product_uuid", "4C4C4544-0156-4A10-8134-B7D04F383232\n");
	cr_assert_eq(nvmeof_default_hostid(a, sizeof a), 0, "%s", nvmeof_get_error());
	cr_expect(uuid_version_is(a, 5), "%s", a);
	cr_assert_eq(nvmeof_default_hostid(b, sizeof b), 0);
	cr_expect_str_eq(a, b);
	cr_expect_str_neq(a, "4c4c4544-0156-4a10-8134-b7d04f383232");

	/* machine-id wins over DMI. */
	put_s("machine-id", MID);
	cr_assert_eq(nvmeof_default_hostid(b, sizeof b), 0);
	cr_expect_str_neq(a, b);
	del("machine-id");

	/* Firmware placeholders are no identity. */
	put_s("product_uuid", "03000200-0400-0500-0006-000700080009");
	cr_expect_eq(nvmeof_default_hostid(a, sizeof a), -ENOENT);
	put_s("product_uuid", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF");
	cr_expect_eq(nvmeof_default_hostid(a, sizeof a), -ENOENT);
	put_s("product_uuid", "00000000-0000-0000-0000-000000000000");
	cr_expect_eq(nvmeof_default_hostid(a, sizeof a), -ENOENT);
}

Test(hostid, small_buffers)
{
	char buf[256];

	put_s("hostnqn", "nqn.2014-08.com.example:host-1\n");
	put_s("hostid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	cr_expect_eq(nvmeof_default_hostnqn(buf, 30), -ENAMETOOLONG);
	cr_expect_eq(nvmeof_default_hostnqn(buf, 31), 0);
	cr_expect_eq(nvmeof_default_hostid(buf, 36), -ENAMETOOLONG);
	cr_expect_eq(nvmeof_default_hostid(buf, 37), 0);
	cr_expect_eq(nvmeof_default_hostid(NULL, 37), -EINVAL);
	cr_expect_eq(nvmeof_default_hostnqn(NULL, 37), -EINVAL);
}

/* This machine, no override: the pair exists and is the same every time. */
Test(hostnqn, real_machine_is_stable)
{
	char id1[64], id2[64], n1[256], n2[256];

	unsetenv("NVMEOF_ETC_DIR");
	if (nvmeof_default_hostid(id1, sizeof id1) == -ENOENT)
		cr_skip_test("this machine has no host identity source: %s",
			     nvmeof_get_error());
	cr_assert_eq(nvmeof_default_hostid(id2, sizeof id2), 0);
	cr_expect_str_eq(id1, id2);
	cr_assert_eq(nvmeof_default_hostnqn(n1, sizeof n1), 0, "%s", nvmeof_get_error());
	cr_assert_eq(nvmeof_default_hostnqn(n2, sizeof n2), 0);
	cr_expect_str_eq(n1, n2);
	cr_expect_eq(nvmeof_nqn_validate(n1), 0, "%s", nvmeof_get_error());
	if (access("/etc/nvme/hostnqn", F_OK) != 0) {
		cr_expect_eq(strncmp(n1, PREFIX, strlen(PREFIX)), 0);
		cr_expect_str_eq(n1 + strlen(PREFIX), id1);
	}
}

/* ---- addresses ---------------------------------------------------------- */

static void parse_ok(const char *s, const char *dflt, const char *want_host,
		     const char *want_port)
{
	char host[128], port[16];
	int r = nvmeof_parse_address(s, host, sizeof host, port, sizeof port, dflt);

	cr_assert_eq(r, 0, "'%s': %s", s, nvmeof_get_error());
	cr_expect_str_eq(host, want_host, "'%s' host", s);
	cr_expect_str_eq(port, want_port, "'%s' port", s);
}

Test(address, accepts)
{
	parse_ok("target", "4420", "target", "4420");
	parse_ok("target.example.com:8009", "4420", "target.example.com", "8009");
	parse_ok("198.51.100.1", "4420", "198.51.100.1", "4420");
	parse_ok("198.51.100.1:4421", "4420", "198.51.100.1", "4421");
	parse_ok("[::1]:4420", "8009", "::1", "4420");
	parse_ok("[::1]", "8009", "::1", "8009");
	parse_ok("::1", "4420", "::1", "4420");
	parse_ok("2001:db8::10", "4420", "2001:db8::10", "4420");
	parse_ok("2001:db8:0:0:0:0:0:10", "4420", "2001:db8:0:0:0:0:0:10", "4420");
	parse_ok("::ffff:192.0.2.1", "4420", "::ffff:192.0.2.1", "4420");
	parse_ok("fe80::1%eth0", "4420", "fe80::1%eth0", "4420");
	parse_ok("[fe80::1%eth0]:80", "4420", "fe80::1%eth0", "80");
	parse_ok("host:1", NULL, "host", "1");
	parse_ok("host:65535", NULL, "host", "65535");
	parse_ok("host:080", NULL, "host", "80");
	parse_ok("host", NULL, "host", "");
	parse_ok("h", "4420", "h", "4420");
}

static void parse_bad(const char *s, int err, const char *why)
{
	char host[64] = "untouched", port[16] = "untouched";
	int r = nvmeof_parse_address(s, host, sizeof host, port, sizeof port, "4420");

	cr_expect_eq(r, -err, "'%s' gave %d: %s", s ? s : "(null)", r,
		     nvmeof_get_error());
	cr_expect_eq(nvmeof_get_errno(), err);
	cr_expect(strstr(nvmeof_get_error(), why) != NULL,
		  "'%s': '%s' does not say '%s'", s ? s : "(null)",
		  nvmeof_get_error(), why);
	if (s && *s && s[0] != ' ' && err == EINVAL) {
		char quoted[256];

		snprintf(quoted, sizeof quoted, "'%s'", s);
		cr_expect(strstr(nvmeof_get_error(), quoted) != NULL,
			  "message names the input: %s", nvmeof_get_error());
	}
	cr_expect_str_eq(host, "untouched", "'%s': host written on error", s);
	cr_expect_str_eq(port, "untouched", "'%s': port written on error", s);
}

Test(address, rejects)
{
	parse_bad(NULL, EINVAL, "no address");
	parse_bad("", EINVAL, "empty");
	parse_bad("host:", EINVAL, "port after ':' is empty");
	parse_bad("host:0", EINVAL, "port 0 is out of range (1 to 65535)");
	parse_bad("host:65536", EINVAL, "port 65536 is out of range");
	parse_bad("host:1234567", EINVAL, "out of range");
	parse_bad("host:99999999999999999999999", EINVAL, "out of range");
	parse_bad("host:abc", EINVAL, "port 'abc' is not a number");
	parse_bad("host:-1", EINVAL, "not a number");
	parse_bad("host:+80", EINVAL, "not a number");
	parse_bad("host:0x50", EINVAL, "not a number");
	parse_bad(":4420", EINVAL, "host is empty");
	parse_bad("[::1", EINVAL, "'[' without a closing ']'");
	parse_bad("[]:4420", EINVAL, "nothing between '[' and ']'");
	parse_bad("[::1]x", EINVAL, "'x' after ']'");
	parse_bad("[::1]:", EINVAL, "port after ':' is empty");
	parse_bad("[::1]:0", EINVAL, "out of range");
	parse_bad("[target]:4420", EINVAL, "not an IPv6 address");
	parse_bad("[198.51.100.1]:4420", EINVAL, "not an IPv6 address");
	parse_bad("198.51.100.1:4420:1", EINVAL, "several ':' but not an IPv6 address");
	parse_bad("host:port:x", EINVAL, "not an IPv6 address");
	parse_bad("::1]:4420", EINVAL, "not an IPv6 address");
	parse_bad("ho]st:4420", EINVAL, "misplaced");
	parse_bad("fe80::1%", EINVAL, "not an IPv6 address");
	parse_bad("tar get:4420", EINVAL, "white space");
	parse_bad("target\n", EINVAL, "control character at byte 6");
}

Test(address, small_buffers)
{
	char host[8], port[8];

	cr_expect_eq(nvmeof_parse_address("1234567", host, sizeof host, port,
					  sizeof port, "4420"), 0);
	cr_expect_str_eq(host, "1234567");
	cr_expect_eq(nvmeof_parse_address("12345678", host, sizeof host, port,
					  sizeof port, "4420"), -ENAMETOOLONG);
	cr_expect(strstr(nvmeof_get_error(), "'12345678'") &&
		  strstr(nvmeof_get_error(), "needs 9 bytes; the buffer holds 8"),
		  "%s", nvmeof_get_error());
	cr_expect_eq(nvmeof_parse_address("[::1]:4420", host, sizeof host, port,
					  5, "1"), 0);
	cr_expect_str_eq(port, "4420");
	cr_expect_eq(nvmeof_parse_address("[::1]:4420", host, sizeof host, port,
					  4, "1"), -ENAMETOOLONG);
	cr_expect_eq(nvmeof_parse_address("h", host, sizeof host, port, 4,
					  "8009x"), -ENAMETOOLONG);
	cr_expect_eq(nvmeof_parse_address("h", NULL, 8, port, 8, "1"), -EINVAL);
	cr_expect_eq(nvmeof_parse_address("h", host, 8, NULL, 8, "1"), -EINVAL);
}

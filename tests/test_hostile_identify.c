/* SPDX-License-Identifier: MIT */
/* The hostile controller describes itself wrongly: Identify data with
 * unterminated strings, no namespaces, absurd sizes; a discovery log page
 * that lies about its length or never settles. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "describe.h"
#include "hostile_check.h"

/* ---- Identify data -------------------------------------------------------- */

struct pair {
	struct hp *gp, *bp;
	struct nvmeof_ctrl *g, *b;
};

static void pair_open(struct pair *p, enum hp_mode mode)
{
	struct nvmeof_opts o;

	p->gp = hp_start(HP_NONE);
	p->bp = hp_start(mode);
	cr_assert(p->gp && p->bp);
	opts_for(&o, hp_port(p->gp), NULL);
	p->g = connect_ok(&o);
	opts_for(&o, hp_port(p->bp), NULL);
	p->b = connect_ok(&o);
}

static void pair_close(struct pair *p)
{
	good_io(p->g, 11);
	nvmeof_disconnect(p->b);
	cr_assert_eq(nvmeof_disconnect(p->g), 0, "%s", nvmeof_get_error());
	hp_stop(p->bp);
	hp_stop(p->gp);
}

/* Strings without a NUL, full of bytes that are not text: every decoder
 * stays inside its field and escapes what it prints. */
Test(hostile, identify_unterminated_strings, .timeout = 20)
{
	struct pair p;
	const uint8_t *id;
	char *text, *json, *line;
	size_t q = 0;

	pair_open(&p, HP_ID_STRINGS);
	cr_assert(hp_fired(p.bp));
	id = nvmeof_ctrl_identify(p.b);
	cr_assert_eq(id[4], 0x01);
	text = nvmeof_describe(NVMEOF_DESC_ID_CTRL, id, 4096, 0);
	cr_assert_not_null(text);
	for (const char *s = text; *s; s++)
		cr_assert(((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ||
				  *s == '\n',
			  "raw byte 0x%02x in the text", (unsigned char)*s);
	line = strstr(text, "subnqn");
	cr_assert_not_null(line);
	for (const char *s = line; *s && *s != '\n'; s++)
		q += *s == 'Q';
	cr_assert_eq(q, 256, "subnqn shows %zu of its 256 bytes", q);
	cr_assert_not_null(strstr(text, "\\x01\\xff"), "sn not escaped:\n%s", text);
	json = nvmeof_describe(NVMEOF_DESC_ID_CTRL, id, 4096, NVMEOF_DESCRIBE_JSON);
	cr_assert_not_null(json);
	for (const char *s = json; *s; s++)
		cr_assert((unsigned char)*s < 0x80 && ((unsigned char)*s >= 0x20 || *s == '\n'),
			  "JSON byte 0x%02x", (unsigned char)*s);
	free(text);
	free(json);
	/* and I/O is unaffected */
	good_io(p.b, 5);
	pair_close(&p);
}

/* NN 0 and no active namespace: nothing to read, said so, nothing sent. */
Test(hostile, identify_nn_0, .timeout = 20)
{
	struct pair p;
	uint32_t *ids = NULL;
	size_t n = 99;
	uint8_t buf[HP_LBA];
	int rc;

	pair_open(&p, HP_ID_NN0);
	rc = nvmeof_ns_list(p.b, &ids, &n);
	cr_assert_eq(rc, 0, "%s", nvmeof_get_error());
	cr_assert_eq(n, 0);
	free(ids);
	memset(buf, 0xee, sizeof buf);
	rc = nvmeof_read(p.b, 1, 0, 1, buf);
	expect_error(rc, ENOENT, "namespace 1 is not active", "read");
	cr_assert_eq(hp_io_cmds(p.bp), 0, "a read was sent anyway");
	cr_assert_str_eq(nvmeof_ctrl_state(p.b), "live");
	pair_close(&p);
}

/* MDTS 255 (2^255 pages) means no useful limit: the host still splits at
 * its own 1 MiB cap, and the data is right. */
Test(hostile, identify_mdts_absurd, .timeout = 20)
{
	struct pair p;
	uint32_t len = HP_NLBA * HP_LBA;
	uint8_t *buf = malloc(len);
	int rc;

	cr_assert_not_null(buf);
	pair_open(&p, HP_ID_MDTS);
	cr_assert_eq(nvmeof_ctrl_mdts_bytes(p.b), 0);
	rc = nvmeof_read(p.b, 1, 0, HP_NLBA, buf);
	cr_assert_eq(rc, 0, "%s", nvmeof_get_error());
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], hp_pattern(i), "byte %u", i);
	cr_assert_eq(hp_io_cmds(p.bp), 2, "%u commands for 2 MiB",
		     hp_io_cmds(p.bp));
	free(buf);
	pair_close(&p);
}

static void ns_case(enum hp_mode mode, const char *want_msg)
{
	struct pair p;
	uint8_t buf[HP_LBA];
	struct nvmeof_ns_info info;
	int rc;

	pair_open(&p, mode);
	memset(buf, 0xee, sizeof buf);
	rc = nvmeof_read(p.b, 1, 0, 1, buf);
	cr_assert(hp_fired(p.bp));
	expect_error(rc, EPROTO, want_msg, "read");
	cr_assert_eq(hp_io_cmds(p.bp), 0, "a read was sent anyway");
	rc = nvmeof_ns_info(p.b, 1, &info); /* the controller is fine now */
	cr_assert_eq(rc, 0, "%s", nvmeof_get_error());
	cr_assert_eq(info.lba_size, HP_LBA);
	pair_close(&p);
}

Test(hostile, identify_ns_flbas_beyond_nlbaf, .timeout = 20)
{
	ns_case(HP_NS_FLBAS, "formatted LBA index 5 beyond its 1 formats");
}

Test(hostile, identify_ns_lba_size_2_40, .timeout = 20)
{
	ns_case(HP_NS_LBADS, "unsupported LBA data size 2^40 bytes");
}

Test(hostile, identify_ns_size_overflows, .timeout = 20)
{
	ns_case(HP_NS_NSZE, "size overflows 64 bits");
}

/* ---- discovery log page ---------------------------------------------- */

static void disc_case(enum hp_mode mode, int want_errno, const char *want_msg)
{
	struct hp *gp = hp_start(HP_NONE), *bp = hp_start(mode);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *g, *b;
	struct nvmeof_disc_log *log = (void *)1;
	int rc;

	cr_assert(gp && bp);
	opts_for(&o, hp_port(gp), NVMEOF_DISCOVERY_NQN);
	g = connect_ok(&o);
	opts_for(&o, hp_port(bp), NVMEOF_DISCOVERY_NQN);
	b = connect_ok(&o);
	rc = nvmeof_discover(b, &log);
	cr_assert(hp_fired(bp));
	expect_error(rc, want_errno, want_msg, "discover");
	cr_assert_null(log);
	rc = nvmeof_discover(g, &log);
	cr_assert_eq(rc, 0, "good discovery controller: %s", nvmeof_get_error());
	cr_assert_eq(log->numrec, 2);
	cr_assert_str_eq(log->entries[1].subnqn, HP_NQN "-1");
	cr_assert_str_eq(log->entries[0].traddr, "127.0.0.1");
	nvmeof_disc_log_free(log);
	nvmeof_disconnect(b);
	nvmeof_disconnect(g);
	hp_stop(bp);
	hp_stop(gp);
}

Test(hostile, discovery_numrec_huge, .timeout = 20)
{
	disc_case(HP_DISC_NUMREC_HUGE, EPROTO,
		  "discovery log claims 1000000000 records");
}

Test(hostile, discovery_numrec_beyond_page, .timeout = 20)
{
	disc_case(HP_DISC_SHORT, EIO,
		  "completed a read without sending all its data");
}

Test(hostile, discovery_genctr_never_settles, .timeout = 20)
{
	disc_case(HP_DISC_GENCTR, EAGAIN,
		  "discovery log kept changing (GENCTR) over 10 attempts");
}

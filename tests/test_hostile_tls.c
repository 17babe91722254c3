/* SPDX-License-Identifier: MIT */
/* TLS against a hostile controller: a host that starts a TLS handshake
 * meets an ICResp instead of a ServerHello, silence, or a plain NVMe/TCP
 * controller that closes; each ends with its own errno and message within
 * the connect timeout, never a hang. And a discovery log whose entries
 * require TLS (TSAS/TREQ): without a key the host refuses to connect with
 * the message that says why; with one it goes to TLS. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_check.h"

/* A key of the interchange format (any: the peer knows none) */
#define KEY "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"

static void tls_case(enum hp_mode mode, int want_errno, const char *want_msg, int max_ms)
{
	struct hp *bp = hp_start(mode);
	struct nvmeof_opts o;
	struct nvmeof_ctrl *b = NULL;
	char key[128];
	uint64_t t0;
	int rc;

	cr_assert(bp);
	cr_assert_eq(nvmeof_tls_key_generate(1, NULL, key, sizeof key), 0);
	opts_for(&o, hp_port(bp), NULL);
	o.tls = true;
	o.tls_key = key;
	o.tls_psk_derivation = NVMEOF_TLS_DERIVE_RFC;
	t0 = now_ms();
	rc = nvmeof_connect(&o, &b);
	if (mode != HP_NONE)
		cr_assert(hp_fired(bp), "the controller did not misbehave");
	expect_error(rc, want_errno, want_msg, "connect");
	cr_assert_null(b);
	cr_assert_leq(now_ms() - t0, (uint64_t)max_ms, "took %" PRIu64 " ms", now_ms() - t0);
	hp_stop(bp);
}

Test(hostile_tls, icresp_instead_of_server_hello, .timeout = 20)
{
	tls_case(HP_TLS_GARBAGE, EPROTO, "TLS handshake with 127.0.0.1:", 1000);
}

Test(hostile_tls, silent_after_client_hello, .timeout = 20)
{
	tls_case(HP_TLS_SILENT, ETIMEDOUT, "no answer within 1500 ms",
		 CONNECT_TIMEOUT_MS + 1500);
}

Test(hostile_tls, plain_controller_closes, .timeout = 20)
{
	tls_case(HP_NONE, ECONNRESET, "the target closed the connection", 1000);
}

Test(hostile_tls, discovery_requires_tls, .timeout = 20)
{
	struct hp *dp = hp_start(HP_DISC_TLS);
	struct nvmeof_disc_log *log = NULL;
	struct nvmeof_ctrl *d;
	struct nvmeof_opts o;

	cr_assert(dp);
	opts_for(&o, hp_port(dp), NVMEOF_DISCOVERY_NQN);
	d = connect_ok(&o);
	cr_assert_eq(nvmeof_discover(d, &log), 0, "%s", nvmeof_get_error());
	cr_assert(hp_fired(dp));
	cr_assert_eq(log->numrec, 2);
	cr_expect_eq(log->entries[0].sectype, NVMEOF_SECTYPE_TLS13);
	cr_expect_eq(log->entries[0].treq & NVMEOF_TREQ_SECURE_MASK, NVMEOF_TREQ_REQUIRED);
	cr_expect_eq(log->entries[1].treq & NVMEOF_TREQ_SECURE_MASK,
		     NVMEOF_TREQ_NOT_REQUIRED);
	expect_error(nvmeof_disc_entry_tls(&log->entries[0], false), ENOKEY,
		     "the port requires TLS (TREQ)", "required, no key");
	cr_expect_eq(nvmeof_disc_entry_tls(&log->entries[0], true), 1);
	cr_expect_eq(nvmeof_disc_entry_tls(&log->entries[1], false), 0);
	cr_expect_eq(nvmeof_disc_entry_tls(&log->entries[1], true), 1);
	nvmeof_disc_log_free(log);
	nvmeof_disconnect(d);
	hp_stop(dp);
}

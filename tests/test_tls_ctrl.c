/* SPDX-License-Identifier: MIT */
/*
 * An association over TLS through the public API: nvmeof-target behind
 * tests/tls_proxy, which holds the compat-derived PSK. With derivation auto
 * the library is refused with the RFC PSK, connects with the compat one,
 * says so in nvmeof_ctrl_status() with version, cipher and identity, moves
 * data, and a reconnect goes through a new handshake.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvmeof.h"
#include "target_proc.h"

extern char **environ;

#define TNQN "nqn.2026-12.org.example:tls-ctrl"
#define HNQN "nqn.2026-12.org.example:tls-ctrl-host"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

Test(tls_ctrl, auto_falls_back_to_compat_and_reconnects)
{
	const char *args[] = { "-n", TNQN, "--ns", "ram:8M", NULL };
	char dir[80], msg[256], key[NVMEOF_TLS_KEY_STR_MAX], id[NVMEOF_TLS_IDENTITY_MAX];
	char hex[2 * NVMEOF_TLS_PSK_MAX + 1], tport[16], pfile[128], pport[16] = "";
	char *argv[] = { TOP_BUILDDIR "/tests/tls_proxy", pfile, tport, id, hex, NULL };
	uint8_t psk[NVMEOF_TLS_PSK_MAX], buf[4096], back[4096];
	struct nvmeof_ctrl_status st;
	struct nvmeof_ctrl *c;
	struct nvmeof_opts o;
	struct tproc t;
	pid_t proxy;
	int n;

	snprintf(dir, sizeof dir, "%s/tlsctrl.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(tproc_start(&t, dir, args, msg, sizeof msg), 0, "%s", msg);
	snprintf(tport, sizeof tport, "%d", t.port);
	cr_assert_eq(nvmeof_tls_key_generate(1, NULL, key, sizeof key), 0);
	n = nvmeof_tls_key_derive(key, HNQN, TNQN, 0, NVMEOF_TLS_DERIVE_COMPAT, id, sizeof id, psk);
	cr_assert_eq(n, 32, "%s", nvmeof_get_error());
	for (int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", psk[i]);
	snprintf(pfile, sizeof pfile, "%s/pport", dir);
	cr_assert_eq(posix_spawn(&proxy, argv[0], NULL, NULL, argv, environ), 0);
	for (int i = 0; i < 400 && !pport[0]; i++) {
		FILE *f = fopen(pfile, "r");
		if (f) {
			if (!fgets(pport, sizeof pport, f))
				pport[0] = 0;
			fclose(f);
		}
		if (!pport[0])
			sleep_ms(50); /* hang guard: 20 s */
	}
	cr_assert(pport[0], "tls_proxy wrote no port");
	pport[strcspn(pport, "\n")] = 0;

	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = pport;
	o.subnqn = TNQN;
	o.hostnqn = HNQN;
	o.nr_io_queues = 2;
	o.tls = true;
	o.tls_key = key;
	o.tls_psk_derivation = NVMEOF_TLS_DERIVE_AUTO;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "%s", nvmeof_get_error());
	nvmeof_ctrl_status(c, &st);
	cr_assert(st.tls);
	cr_assert_str_eq(st.tls_version, "TLSv1.3");
	cr_assert_str_eq(st.tls_cipher, "TLS_AES_128_GCM_SHA256");
	cr_assert_str_eq(st.tls_identity, "NVMe0R01 " HNQN " " TNQN);
	cr_assert_str_eq(st.tls_derivation, "compat");

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(nvmeof_write(c, 1, 8, 1, buf, false), 0, "%s", nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, 1, 8, 1, back), 0, "%s", nvmeof_get_error());
	cr_assert_arr_eq(back, buf, 512); /* an LBA is 512 bytes or more */

	/* A reconnect: every queue through a new handshake, compat at once. */
	cr_assert_eq(nvmeof_ctrl_reconnect(c, NULL, NULL), 0, "%s", nvmeof_get_error());
	for (int i = 0; i < 600; i++) {
		nvmeof_ctrl_status(c, &st);
		if (st.reconnects >= 1 && !strcmp(st.state, "live"))
			break;
		sleep_ms(50); /* hang guard: 30 s */
	}
	cr_assert_geq(st.reconnects, 1u, "state %s: %s", st.state, st.last_error);
	cr_assert_str_eq(st.state, "live");
	memset(back, 0, sizeof back);
	cr_assert_eq(nvmeof_read(c, 1, 8, 1, back), 0, "%s", nvmeof_get_error());
	cr_assert_arr_eq(back, buf, 512); /* an LBA is 512 bytes or more */
	cr_assert_str_eq(st.tls_derivation, "compat");

	nvmeof_disconnect(c);
	kill(proxy, SIGTERM);
	waitpid(proxy, NULL, 0);
	tproc_stop(&t);
	snprintf(msg, sizeof msg, "rm -rf '%s'", dir);
	(void)!system(msg);
}

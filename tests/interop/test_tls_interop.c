/*
 * Interop: NVMe/TCP over TLS 1.3 of libnvmeof against the Linux 6.12
 * kernel's nvmet in QEMU, its handshakes done by trixie's tlshd. Run
 * through run-tls-interop.sh, which boots the guest (NVMEOF_VM_KERNEL=6.12,
 * NVMEOF_VM_TLS=1) with TLS_SUB (namespace 1: 8 MiB of the known pattern,
 * namespace 2: 8 MiB of zeroes, any host) and TLS_AUTH_SUB (namespace 1:
 * 8 MiB of the pattern, only hosts given a DH-HMAC-CHAP secret) on port 1.
 * Each test sets the port's secure channel (addr_tsas, addr_treq) it needs,
 * gives its own host NQN a TLS PSK in the kernel's .nvme keyring (derived
 * here, by the RFC 8446 or the compat form, inserted with keyctl), then
 * connects with libnvmeof.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "interop_io.h"
#include "nvmeof.h"

#define TLS_SUB "nqn.2026-11.org.example:linux-nvmet-tls"
#define TLS_AUTH_SUB "nqn.2026-11.org.example:linux-nvmet-tls-auth"
#define HOST_PREFIX "nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000"

static int guest(const char *cmd)
{
	const char *vm = getenv("NVMEOF_INTEROP_VM");
	const char *st = getenv("NVMEOF_INTEROP_STATE");
	char buf[2048];

	cr_assert(vm && st, "run through run-tls-interop.sh");
	snprintf(buf, sizeof buf, "'%s' exec '%s' \"%s\"", vm, st, cmd);
	return system(buf);
}

/* The output of a guest command (first line) into out. */
static int guest_out(const char *cmd, char *out, size_t len)
{
	const char *vm = getenv("NVMEOF_INTEROP_VM");
	const char *st = getenv("NVMEOF_INTEROP_STATE");
	char buf[2048];
	FILE *f;
	int rc;

	cr_assert(vm && st, "run through run-tls-interop.sh");
	snprintf(buf, sizeof buf, "'%s' exec '%s' \"%s\"", vm, st, cmd);
	f = popen(buf, "r");
	cr_assert(f, "popen");
	out[0] = 0;
	if (!fgets(out, (int)len, f))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	while (fgets(buf, sizeof buf, f))
		;
	rc = pclose(f);
	return rc;
}

/* port 1's secure channel: "required", "not required", or NULL: none */
static void port_tls(const char *treq)
{
	char cmd[256];

	if (treq)
		snprintf(cmd, sizeof cmd, "tls_port_setup tls1.3 '%s'", treq);
	else
		snprintf(cmd, sizeof cmd, "tls_port_setup none 'not specified'");
	cr_assert_eq(guest(cmd), 0, "guest: %s", cmd);
}

/* A new key (hmac 1: SHA-256, 2: SHA-384) into key; its TLS PSK derived
 * for HOST_PREFIX<id> and sub the way d says, in the .nvme keyring. */
static void keyring_add(const char *id, const char *sub, unsigned hmac,
			enum nvmeof_tls_derivation d, char *key)
{
	char hostnqn[256], ident[NVMEOF_TLS_IDENTITY_MAX], hex[2 * NVMEOF_TLS_PSK_MAX + 1];
	char cmd[1024];
	uint8_t psk[NVMEOF_TLS_PSK_MAX];
	int n;

	snprintf(hostnqn, sizeof hostnqn, "%s%s", HOST_PREFIX, id);
	cr_assert_eq(nvmeof_tls_key_generate(hmac, NULL, key, NVMEOF_TLS_KEY_STR_MAX), 0,
		     "%s", nvmeof_get_error());
	n = nvmeof_tls_key_derive(key, hostnqn, sub, 0, d, ident, sizeof ident, psk);
	cr_assert_gt(n, 0, "derive: %s", nvmeof_get_error());
	for (int i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", psk[i]);
	snprintf(cmd, sizeof cmd, "tls_key_insert %s %s %s %u > /dev/null", hostnqn, sub, hex,
		 hmac);
	cr_assert_eq(guest(cmd), 0, "guest: %s", cmd);
}

/* How many handshakes tlshd has completed so far. */
static unsigned handshakes(void)
{
	char out[64];

	cr_assert_eq(guest_out("grep -c 'was successful' /tmp/tlshd.log || true", out,
			       sizeof out), 0);
	return (unsigned)strtoul(out, NULL, 10);
}

static void opts(struct nvmeof_opts *o, const char *id, const char *sub, char *hostnqn)
{
	const char *port = getenv("NVMEOF_INTEROP_PORT");

	cr_assert(port, "NVMEOF_INTEROP_PORT not set: run via run-tls-interop.sh");
	sprintf(hostnqn, "%s%s", HOST_PREFIX, id);
	nvmeof_opts_init(o);
	o->traddr = "127.0.0.1";
	o->trsvcid = port;
	o->subnqn = sub;
	o->hostnqn = hostnqn;
	o->connect_timeout_ms = 30000;
}

/* Connect over TLS with key and derivation d, check what the handshake
 * negotiated, read the pattern, disconnect. */
static void good(const char *id, const char *sub, const char *key,
		 enum nvmeof_tls_derivation d, const char *want_deriv, const char *cipher,
		 int nr_io)
{
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256], ident[600];

	opts(&o, id, sub, hostnqn);
	o.tls = true;
	o.tls_key = key;
	o.tls_psk_derivation = d;
	o.nr_io_queues = nr_io;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	nvmeof_ctrl_status(c, &st);
	cr_expect(st.tls, "status: not TLS");
	cr_expect_str_eq(st.tls_version, "TLSv1.3");
	cr_expect_str_eq(st.tls_cipher, cipher);
	cr_assert(st.tls_derivation, "no derivation in the status");
	cr_expect_str_eq(st.tls_derivation, want_deriv);
	snprintf(ident, sizeof ident, "NVMe0R0%c %s %s", strstr(cipher, "SHA384") ? '2' : '1',
		 hostnqn, sub);
	cr_expect_str_eq(st.tls_identity, ident);
	cr_log_info("%s: %s %s, identity %s, derivation %s, %s", id, st.tls_version,
		    st.tls_cipher, st.tls_identity, st.tls_derivation,
		    st.ktls ? "kTLS" : "userspace TLS");
	read_pattern(c, 0);
	read_pattern(c, 4 * 1024 * 1024);
	cr_assert_eq(nvmeof_disconnect(c), 0, "%s", nvmeof_get_error());
}

static void bad(struct nvmeof_opts *o, int want_errno, const char *why)
{
	struct nvmeof_ctrl *c = NULL;

	cr_assert_neq(nvmeof_connect(o, &c), 0, "connected (%s expected)", why);
	cr_log_info("%s", nvmeof_get_error());
	cr_expect_eq(nvmeof_get_errno(), want_errno, "errno %d: %s", nvmeof_get_errno(),
		     nvmeof_get_error());
	cr_expect(strstr(nvmeof_get_error(), why), "'%s' lacks '%s'", nvmeof_get_error(),
		  why);
}

/* A refused handshake. tlshd 1.0.0 sends no alert when it fails (gnutls's
 * error goes back to nvmet, which closes the socket), so the host sees the
 * connection closed during the handshake rather than an alert; either
 * way the message names the identity that has no matching PSK. */
static void refused(struct nvmeof_opts *o, const char *identity)
{
	struct nvmeof_ctrl *c = NULL;
	int e;

	cr_assert_neq(nvmeof_connect(o, &c), 0, "connected (a refused handshake expected)");
	cr_log_info("%s", nvmeof_get_error());
	e = nvmeof_get_errno();
	cr_expect(e == ECONNRESET || e == EKEYREJECTED, "errno %d: %s", e, nvmeof_get_error());
	cr_expect(strstr(nvmeof_get_error(), "TLS handshake with 127.0.0.1:"), "%s",
		  nvmeof_get_error());
	cr_expect(strstr(nvmeof_get_error(), identity), "'%s' lacks '%s'", nvmeof_get_error(),
		  identity);
}

/* nvme-cli 2.13 (libnvme 1.13) inserts keys in the compat form: auto tries
 * RFC 8446 first, nvmet (tlshd) refuses it, the compat form connects. */
Test(tls, required_compat_key_auto)
{
	char key[NVMEOF_TLS_KEY_STR_MAX];

	port_tls("required");
	keyring_add("c1", TLS_SUB, 1, NVMEOF_TLS_DERIVE_COMPAT, key);
	good("c1", TLS_SUB, key, NVMEOF_TLS_DERIVE_AUTO, "compat", "TLS_AES_128_GCM_SHA256", 1);
	good("c1", TLS_SUB, key, NVMEOF_TLS_DERIVE_COMPAT, "compat", "TLS_AES_128_GCM_SHA256", 2);
}

Test(tls, required_rfc_key_auto)
{
	char key[NVMEOF_TLS_KEY_STR_MAX];

	port_tls("required");
	keyring_add("c2", TLS_SUB, 1, NVMEOF_TLS_DERIVE_RFC, key);
	good("c2", TLS_SUB, key, NVMEOF_TLS_DERIVE_AUTO, "rfc", "TLS_AES_128_GCM_SHA256", 2);
}

/* The key nvmet has was derived the other way: that derivation alone is
 * refused. */
Test(tls, other_derivation_refused)
{
	char key[NVMEOF_TLS_KEY_STR_MAX], hostnqn[256];
	struct nvmeof_opts o;

	port_tls("required");
	keyring_add("c4", TLS_SUB, 1, NVMEOF_TLS_DERIVE_COMPAT, key);
	opts(&o, "c4", TLS_SUB, hostnqn);
	o.tls = true;
	o.tls_key = key;
	o.tls_psk_derivation = NVMEOF_TLS_DERIVE_RFC;
	refused(&o, "identity 'NVMe0R01 " HOST_PREFIX "c4 " TLS_SUB "'");
	/* and the one it has connects */
	o.tls_psk_derivation = NVMEOF_TLS_DERIVE_COMPAT;
	good("c4", TLS_SUB, key, NVMEOF_TLS_DERIVE_COMPAT, "compat", "TLS_AES_128_GCM_SHA256", 1);
}

/* A key other than the one nvmet has: both derivations refused. */
Test(tls, wrong_key)
{
	char key[NVMEOF_TLS_KEY_STR_MAX], other[NVMEOF_TLS_KEY_STR_MAX], hostnqn[256];
	struct nvmeof_opts o;

	port_tls("required");
	keyring_add("c5", TLS_SUB, 1, NVMEOF_TLS_DERIVE_COMPAT, key);
	cr_assert_eq(nvmeof_tls_key_generate(1, NULL, other, sizeof other), 0);
	opts(&o, "c5", TLS_SUB, hostnqn);
	o.tls = true;
	o.tls_key = other;
	refused(&o, "identity 'NVMe0R01 " HOST_PREFIX "c5 " TLS_SUB "'");
	/* auto tried both */
	cr_expect(strstr(nvmeof_get_error(), "; with the compat derivation"), "%s",
		  nvmeof_get_error());
}

/* No key for our identity in the keyring at all. */
Test(tls, no_key_in_keyring)
{
	char key[NVMEOF_TLS_KEY_STR_MAX], hostnqn[256];
	struct nvmeof_opts o;

	port_tls("required");
	cr_assert_eq(nvmeof_tls_key_generate(1, NULL, key, sizeof key), 0);
	opts(&o, "c6", TLS_SUB, hostnqn);
	o.tls = true;
	o.tls_key = key;
	o.tls_psk_derivation = NVMEOF_TLS_DERIVE_RFC;
	refused(&o, "identity 'NVMe0R01 " HOST_PREFIX "c6 " TLS_SUB "'");
}

/* TREQ required: a plaintext host is turned away (nvmet closes), never a
 * hang. */
Test(tls, required_refuses_plaintext)
{
	char hostnqn[256];
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;

	port_tls("required");
	opts(&o, "c7", TLS_SUB, hostnqn);
	cr_assert_neq(nvmeof_connect(&o, &c), 0, "a plaintext connect succeeded");
	cr_log_info("plaintext on a TLS-required port: %s", nvmeof_get_error());
}

/* TREQ not required: TLS and plaintext both connect. */
Test(tls, not_required_with_and_without_tls)
{
	char key[NVMEOF_TLS_KEY_STR_MAX], hostnqn[256];
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;

	port_tls("not required");
	keyring_add("c8", TLS_SUB, 1, NVMEOF_TLS_DERIVE_RFC, key);
	good("c8", TLS_SUB, key, NVMEOF_TLS_DERIVE_AUTO, "rfc", "TLS_AES_128_GCM_SHA256", 1);
	opts(&o, "c8", TLS_SUB, hostnqn);
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "plaintext: %s", nvmeof_get_error());
	nvmeof_ctrl_status(c, &st);
	cr_expect(!st.tls, "plaintext association says TLS");
	read_pattern(c, 0);
	cr_assert_eq(nvmeof_disconnect(c), 0);
	port_tls("required");
}

/* DH-HMAC-CHAP inside TLS: the subsystem only admits a host with its
 * secret, over the TLS channel (bidirectional, ffdhe2048). */
Test(tls, dhchap_inside_tls, .timeout = 300)
{
	char key[NVMEOF_TLS_KEY_STR_MAX], hostnqn[256], cmd[1024];
	char hk[DHCHAP_KEY_STR_MAX], ck[DHCHAP_KEY_STR_MAX];
	struct dhchap_key k;
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;

	port_tls("required");
	cr_assert_eq(dhchap_key_generate(&k, 1, 32), 0);
	cr_assert_gt(dhchap_key_format(&k, hk, sizeof hk), 0);
	dhchap_key_wipe(&k);
	cr_assert_eq(dhchap_key_generate(&k, 0, 32), 0);
	cr_assert_gt(dhchap_key_format(&k, ck, sizeof ck), 0);
	dhchap_key_wipe(&k);
	snprintf(cmd, sizeof cmd,
		 "host_auth_add %sc9 '%s' '%s' sha256 ffdhe2048 && subsys_allow_host %s %sc9",
		 HOST_PREFIX, hk, ck, TLS_AUTH_SUB, HOST_PREFIX);
	cr_assert_eq(guest(cmd), 0, "guest: %s", cmd);
	keyring_add("c9", TLS_AUTH_SUB, 1, NVMEOF_TLS_DERIVE_COMPAT, key);
	opts(&o, "c9", TLS_AUTH_SUB, hostnqn);
	o.tls = true;
	o.tls_key = key;
	/* without the secret: TLS is not enough */
	bad(&o, EACCES, "the subsystem requires authentication (DH-HMAC-CHAP)");
	o.dhchap_secret = hk;
	o.dhchap_ctrl_secret = ck;
	o.nr_io_queues = 2;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	nvmeof_ctrl_status(c, &st);
	cr_expect(st.tls);
	cr_expect_str_eq(st.tls_derivation, "compat");
	read_pattern(c, 0);
	read_pattern(c, 6 * 1024 * 1024);
	cr_assert_eq(nvmeof_disconnect(c), 0);
}

/* Several threads write and verify across a port unlink/link: the
 * association comes back through new TLS handshakes (tlshd counts them),
 * and every block read back holds what was last written to it. */
Test(tls, port_unlink_link_new_handshake, .timeout = 300)
{
	char key[NVMEOF_TLS_KEY_STR_MAX], hostnqn[256];
	static struct vw v[VW_THREADS];
	pthread_t th[VW_THREADS];
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	unsigned hs0, hs1;

	port_tls("required");
	keyring_add("ca", TLS_SUB, 1, NVMEOF_TLS_DERIVE_COMPAT, key);
	opts(&o, "ca", TLS_SUB, hostnqn);
	o.tls = true;
	o.tls_key = key;
	o.nr_io_queues = 2;
	o.kato_ms = 2000;
	o.reconnect_delay = 1;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	vw_start(v, th, c);
	hs0 = handshakes();
	cr_assert_eq(guest("port_unlink " TLS_SUB " && sleep 2 && port_link " TLS_SUB), 0);
	wait_status(c, &st, reconnected, "reconnected");
	vw_more(v, "after the reconnect");
	vw_stop(v, th);
	/* the admin queue and both I/O queues shook hands again */
	hs1 = handshakes();
	cr_expect_geq(hs1, hs0 + 3, "tlshd handshakes %u -> %u", hs0, hs1);
	nvmeof_ctrl_status(c, &st);
	cr_expect(st.tls);
	cr_expect_str_eq(st.tls_derivation, "compat");
	cr_log_info("reconnects %u, tlshd handshakes %u -> %u, verified writes per thread %u",
		    st.reconnects, hs0, hs1, atomic_load(&v[0].ops));
	vw_check_last(v, c);
	cr_assert_eq(nvmeof_disconnect(c), 0);
}

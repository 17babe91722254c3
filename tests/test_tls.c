/* SPDX-License-Identifier: MIT */
/*
 * The TLS transport (lib/tls.c) against an independent server, OpenSSL's
 * `openssl s_server -tls1_3 -psk HEX -psk_identity ID -nocert`: the
 * handshake in both hashes, the ICReq arriving as application data, a key
 * derived the other way refused with the message that says so, and a
 * server that answers garbage, closes or says nothing: each a clear error,
 * never a hang.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "host.h"
#include "internal.h"
#include "tls.h"

extern char **environ;

#define HOSTNQN "nqn.2026-12.org.example:host-tls"
#define SUBNQN "nqn.2026-12.org.example:sub-tls"

struct server {
	pid_t pid;
	int out;        /* its stdout and stderr */
	int in;         /* its stdin, kept open */
	char port[16];
	char buf[65536];
	size_t len;
};

static bool have_openssl(void)
{
	if (system("openssl version >/dev/null 2>&1") == 0)
		return true;
	if (getenv("CI") && !strcmp(getenv("CI"), "true"))
		cr_assert_fail("CI=true and no openssl(1) to test the TLS transport against");
	return false;
}

/* Read the server's output until it holds needle (n bytes) or the hang
 * guard expires; true if found. */
static bool server_wait(struct server *s, const void *needle, size_t n, int guard_ms)
{
	while (!memmem(s->buf, s->len, needle, n)) {
		struct pollfd p = { .fd = s->out, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, guard_ms) <= 0 || s->len == sizeof s->buf)
			return false;
		r = read(s->out, s->buf + s->len, sizeof s->buf - s->len);
		if (r <= 0)
			return false;
		s->len += (size_t)r;
	}
	return true;
}

/* s_server's -psk always pairs the key with TLS_AES_128_GCM_SHA256; a
 * SHA-384 PSK goes in a session file (-psk_session) that carries the
 * cipher suite. */
static void write_session(const char *path, const uint8_t *psk, size_t len)
{
	static const unsigned char aes256[] = { 0x13, 0x02 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	SSL_SESSION *sess = SSL_SESSION_new();
	FILE *f = fopen(path, "w");

	cr_assert(ssl && sess && f);
	cr_assert(SSL_SESSION_set1_master_key(sess, psk, len));
	cr_assert(SSL_SESSION_set_cipher(sess, SSL_CIPHER_find(ssl, aes256)));
	cr_assert(SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION));
	cr_assert(PEM_write_SSL_SESSION(f, sess));
	fclose(f);
	SSL_SESSION_free(sess);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

static void server_start(struct server *s, const uint8_t *psk, size_t len,
			 const char *identity, const char *suite)
{
	char hex[2 * TLS_KEY_MAX + 1], sessfile[64];
	int out[2], in[2];
	posix_spawn_file_actions_t fa;
	char *argv[] = { "openssl", "s_server", "-tls1_3", "-nocert", "-psk", hex,
			 "-psk_identity", (char *)identity, "-ciphersuites", (char *)suite,
			 "-accept", "127.0.0.1:0", "-naccept", "1", NULL, NULL, NULL };
	const char *p;

	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", psk[i]);
	if (len == 48) {
		snprintf(sessfile, sizeof sessfile, "/tmp/test_tls.%d.pem", (int)getpid());
		write_session(sessfile, psk, len);
		argv[4] = "-psk_session";
		argv[5] = sessfile;
	}
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(pipe(in), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	cr_assert_eq(posix_spawnp(&s->pid, "openssl", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	s->in = in[1];
	s->out = out[0];
	cr_assert(server_wait(s, "ACCEPT 127.0.0.1:", 17, 20000),
		  "s_server did not start: %.*s", (int)s->len, s->buf);
	cr_assert(server_wait(s, "\n", 1, 20000));
	if (len == 48)
		unlink(sessfile); /* read at start-up */
	p = (const char *)memmem(s->buf, s->len, "ACCEPT 127.0.0.1:", 17) + 17;
	snprintf(s->port, sizeof s->port, "%.*s", (int)strcspn(p, "\r\n"), p);
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	close(s->in);
	close(s->out);
}

static int connect_tls(const char *port, const struct tls_key *k,
		       enum tls_psk_derivation d, int timeout_ms, struct transport **t)
{
	struct tls_params tp = { .key = k, .hostnqn = HOSTNQN, .subnqn = SUBNQN,
				 .identity_version = 0, .derivation = d };
	struct transport_params p = { .traddr = "127.0.0.1", .trsvcid = port,
				      .timeout_ms = timeout_ms, .tls = &tp };

	return transport_tls.connect(&p, t);
}

static void handshake(unsigned hmac, const char *suite)
{
	struct tls_key k;
	char id[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_KEY_MAX];
	struct server s;
	struct transport *t;
	struct tls_info info;
	static const char probe[] = "NVMe/TCP over TLS: the first PDU follows";
	struct iovec iov[2] = { { (void *)probe, 20 }, { (void *)(probe + 20), sizeof probe - 21 } };
	int n;

	if (!have_openssl())
		cr_skip_test("openssl(1) is not installed");
	cr_assert_eq(tls_key_generate(&k, hmac, 0), 0);
	n = tls_derive(&k, HOSTNQN, SUBNQN, 0, TLS_DERIVE_RFC, id, sizeof id, psk);
	cr_assert_gt(n, 0);
	server_start(&s, psk, (size_t)n, id, suite);
	cr_assert_eq(connect_tls(s.port, &k, TLS_DERIVE_RFC, 20000, &t), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(transport_tls_info(t, &info), 0);
	cr_assert_str_eq(info.version, "TLSv1.3");
	cr_assert_str_eq(info.cipher, suite);
	cr_assert_str_eq(info.identity, id);
	/* Two pieces in one send: one record, the bytes in order. */
	cr_assert_eq(transport_sendv(t, iov, 2), (ssize_t)sizeof probe - 1);
	cr_assert(server_wait(&s, probe, sizeof probe - 1, 20000),
		  "s_server did not get the data: %.*s", (int)s.len, s.buf);
	transport_close(t);
	server_stop(&s);
}

Test(tls, handshake_sha256)
{
	handshake(1, "TLS_AES_128_GCM_SHA256");
}

Test(tls, handshake_sha384)
{
	handshake(2, "TLS_AES_256_GCM_SHA384");
}

/* A TLS PSK given already derived (tls_params.psk): the cipher suite from
 * its length (48 bytes: AES-256, SHA-384), the version 0 identity, and a
 * handshake time; version 1 is refused (its digest needs the key). */
Test(tls, raw_psk_sha384)
{
	struct tls_key k;
	char id[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_KEY_MAX];
	struct server s;
	struct transport *t;
	struct tls_info info;
	struct tls_params tp = { .hostnqn = HOSTNQN, .subnqn = SUBNQN, .psk = psk };
	struct transport_params p = { .traddr = "127.0.0.1", .timeout_ms = 20000,
				      .tls = &tp };
	int n;

	if (!have_openssl())
		cr_skip_test("openssl(1) is not installed");
	cr_assert_eq(tls_key_generate(&k, 2, 0), 0);
	n = tls_derive(&k, HOSTNQN, SUBNQN, 0, TLS_DERIVE_COMPAT, id, sizeof id, psk);
	cr_assert_eq(n, 48);
	tp.psk_len = (size_t)n;
	tp.identity_version = 1;
	p.trsvcid = "1";
	cr_assert_eq(transport_tls.connect(&p, &t), -EINVAL);
	cr_assert(strstr(nvmeof_get_error(), "identity version 0 only"), "%s",
		  nvmeof_get_error());
	tp.identity_version = 0;
	server_start(&s, psk, (size_t)n, id, "TLS_AES_256_GCM_SHA384");
	p.trsvcid = s.port;
	cr_assert_eq(transport_tls.connect(&p, &t), 0, "%s", nvmeof_get_error());
	cr_assert_eq(transport_tls_info(t, &info), 0);
	cr_assert_str_eq(info.cipher, "TLS_AES_256_GCM_SHA384");
	cr_assert_str_eq(info.identity, id);
	cr_assert_gt(info.handshake_ms, 0.0);
	transport_close(t);
	server_stop(&s);
}

/* The server dies (SIGKILL: a reset, no close_notify) while we send: the
 * sends fail with an errno, the receive says the connection ended, and no
 * SIGPIPE ends the process (its default action here). */
Test(tls, peer_gone_no_sigpipe)
{
	struct tls_key k;
	char id[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_KEY_MAX], junk[16384], in[64];
	struct server s;
	struct transport *t;
	struct iovec iov = { junk, sizeof junk };
	ssize_t n = 0;
	int rc;

	if (!have_openssl())
		cr_skip_test("openssl(1) is not installed");
	signal(SIGPIPE, SIG_DFL);
	memset(junk, 0x5a, sizeof junk);
	cr_assert_eq(tls_key_generate(&k, 1, 0), 0);
	rc = tls_derive(&k, HOSTNQN, SUBNQN, 0, TLS_DERIVE_RFC, id, sizeof id, psk);
	server_start(&s, psk, (size_t)rc, id, "TLS_AES_128_GCM_SHA256");
	cr_assert_eq(connect_tls(s.port, &k, TLS_DERIVE_RFC, 20000, &t), 0, "%s",
		     nvmeof_get_error());
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
	s.pid = 0;
	/* Until the kernel reports the reset: a few sends at most (hang
	 * guard: 64 MiB, or 10000 rounds of a full socket). */
	for (int i = 0; i < 10000 && n >= 0; i++) {
		struct pollfd p = { .fd = transport_fd(t), .events = POLLOUT };
		n = transport_sendv(t, &iov, 1);
		if (n == 0)
			poll(&p, 1, 100);
	}
	cr_assert_lt(n, 0, "sends to a dead peer kept succeeding");
	cr_assert(n == -EPIPE || n == -ECONNRESET, "%zd: %s", n, nvmeof_get_error());
	rc = (int)transport_recv(t, in, sizeof in);
	cr_assert_lt(rc, 0, "recv after the peer died: %d", rc);
	transport_close(t);
	server_stop(&s);
}

/* The whole connect path: TLS, then the ICReq as the first application
 * data; s_server never answers it, so the ICResp wait ends in time. */
Test(tls, icreq_goes_inside_tls)
{
	static const uint8_t icreq_hdr[8] = { 0x00, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00 };
	struct tls_key k;
	char id[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_KEY_MAX];
	struct server s;
	struct tcp_conn *c = NULL;
	int n;

	if (!have_openssl())
		cr_skip_test("openssl(1) is not installed");
	cr_assert_eq(tls_key_generate(&k, 1, 0), 0);
	n = tls_derive(&k, HOSTNQN, SUBNQN, 0, TLS_DERIVE_COMPAT, id, sizeof id, psk);
	server_start(&s, psk, (size_t)n, id, "TLS_AES_128_GCM_SHA256");
	struct tls_params tp = { .key = &k, .hostnqn = HOSTNQN, .subnqn = SUBNQN,
				 .derivation = TLS_DERIVE_COMPAT };
	struct tcp_connect_params p = { .ops = &transport_tls, .traddr = "127.0.0.1",
					.trsvcid = s.port, .timeout_ms = 1500, .tls = &tp };
	cr_assert_eq(tcp_connect(&p, &c), -ETIMEDOUT);
	cr_assert(strstr(nvmeof_get_error(), "no ICResp"), "%s", nvmeof_get_error());
	cr_assert(server_wait(&s, icreq_hdr, sizeof icreq_hdr, 20000),
		  "no ICReq in what s_server received");
	server_stop(&s);
}

/* The target holds the compat-derived PSK, we offer the RFC one: refused
 * with the identity and the hint; the compat one then works. */
Test(tls, other_derivation_refused_with_hint)
{
	struct tls_key k;
	char id[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_KEY_MAX];
	struct server s;
	struct transport *t = NULL;
	int n;

	if (!have_openssl())
		cr_skip_test("openssl(1) is not installed");
	cr_assert_eq(tls_key_generate(&k, 1, 0), 0);
	n = tls_derive(&k, HOSTNQN, SUBNQN, 0, TLS_DERIVE_COMPAT, id, sizeof id, psk);
	server_start(&s, psk, (size_t)n, id, "TLS_AES_128_GCM_SHA256");
	cr_assert_eq(connect_tls(s.port, &k, TLS_DERIVE_RFC, 20000, &t), -EKEYREJECTED,
		     "%s", nvmeof_get_error());
	cr_assert(strstr(nvmeof_get_error(), "no PSK matches identity 'NVMe0R01 " HOSTNQN
			 " " SUBNQN "'"), "%s", nvmeof_get_error());
	cr_assert(strstr(nvmeof_get_error(), "try --tls-psk-derivation compat"), "%s",
		  nvmeof_get_error());
	server_stop(&s);
}

/* ---- servers that are not TLS servers -------------------------------------------- */

enum misbehave { GARBAGE, CLOSE, SILENT };

struct fake {
	int lfd;
	enum misbehave how;
	char port[16];
	pthread_t tid;
	int stop[2];
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	int fd = accept(f->lfd, NULL, NULL);
	struct pollfd p = { .fd = f->stop[0], .events = POLLIN };

	if (fd < 0)
		return NULL;
	if (f->how == GARBAGE) {
		char b[512];
		(void)!read(fd, b, sizeof b);  /* the ClientHello */
		(void)!write(fd, http, sizeof http - 1);
	}
	if (f->how != CLOSE)
		poll(&p, 1, 60000);  /* until the test ends (hang guard) */
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, enum misbehave how)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;

	f->how = how;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(f->lfd >= 0);
	cr_assert_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(f->lfd, 1), 0);
	cr_assert_eq(getsockname(f->lfd, (struct sockaddr *)&a, &l), 0);
	snprintf(f->port, sizeof f->port, "%u", ntohs(a.sin_port));
	cr_assert_eq(pipe(f->stop), 0);
	cr_assert_eq(pthread_create(&f->tid, NULL, fake_run, f), 0);
}

static void fake_stop(struct fake *f)
{
	(void)!write(f->stop[1], "x", 1);
	pthread_join(f->tid, NULL);
	close(f->lfd);
	close(f->stop[0]);
	close(f->stop[1]);
}

static void misbehaving(enum misbehave how, int timeout_ms, int want, const char *msg)
{
	struct tls_key k;
	struct fake f;
	struct transport *t = NULL;

	cr_assert_eq(tls_key_generate(&k, 1, 0), 0);
	fake_start(&f, how);
	cr_assert_eq(connect_tls(f.port, &k, TLS_DERIVE_RFC, timeout_ms, &t), want, "%s",
		     nvmeof_get_error());
	cr_assert(strstr(nvmeof_get_error(), msg), "'%s' lacks '%s'", nvmeof_get_error(),
		  msg);
	cr_assert(strstr(nvmeof_get_error(), "TLS handshake with 127.0.0.1:"), "%s",
		  nvmeof_get_error());
	fake_stop(&f);
}

Test(tls, garbage_instead_of_server_hello)
{
	misbehaving(GARBAGE, 20000, -EPROTO, "the answer is not TLS");
}

Test(tls, server_closes_during_handshake)
{
	misbehaving(CLOSE, 20000, -ECONNRESET, "the target closed the connection");
}

/* A server that never answers: the handshake ends at the connect timeout. */
Test(tls, silent_server_times_out)
{
	misbehaving(SILENT, 300, -ETIMEDOUT, "no answer within 300 ms");
}

Test(tls, no_key_no_connect)
{
	struct transport_params p = { .traddr = "127.0.0.1", .trsvcid = "1" };
	struct transport *t;

	cr_assert_eq(transport_tls.connect(&p, &t), -EINVAL);
	cr_assert(strstr(nvmeof_get_error(), "no key"));
}

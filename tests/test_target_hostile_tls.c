/* SPDX-License-Identifier: MIT */
/*
 * Hostile hosts, TLS: on a listener with --tls required, garbage where the
 * ClientHello belongs, a client that closes in the middle of the
 * handshake, one that stalls there (--login-timeout closes it), oversized
 * TLS records during and after the handshake, a plaintext ICReq, and a
 * Connect whose host NQN is not the one of the TLS identity.  Each time the
 * target closes that connection (or refuses the Connect) and then still
 * serves a well-behaved host over plaintext and over TLS, and exits
 * cleanly.  The TLS client is OpenSSL with the TLS PSK of lib/tls_key.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "target_hostile.h"
#include "tls_key.h"

#define HOSTNQN384 "nqn.2026-12.org.example:sha384-host"

static char keyarg[TLS_KEY_STR_MAX + NVMF_NQN_SIZE + 2];
static char keyarg384[TLS_KEY_STR_MAX + NVMF_NQN_SIZE + 2];
static struct tls_key key, key384;
static unsigned hash = TLS_HASH_SHA256; /* of the PSK the client offers */
static char identity[TLS_IDENTITY_MAX];
static uint8_t psk[TLS_KEY_MAX];
static size_t psk_len;
static SSL_CTX *cctx;

static int use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id,
		       size_t *idlen, SSL_SESSION **sess)
{
	static const unsigned char aes128[] = { 0x13, 0x01 }, aes256[] = { 0x13, 0x02 };
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, hash == TLS_HASH_SHA384 ?
							 aes256 : aes128);
	SSL_SESSION *s = SSL_SESSION_new();

	if (md && md != SSL_CIPHER_get_handshake_digest(cipher)) {
		SSL_SESSION_free(s);
		*sess = NULL;
		return 1; /* a HelloRetryRequest with the other hash: no PSK */
	}
	cr_assert(cipher && s && SSL_SESSION_set1_master_key(s, psk, psk_len) &&
		  SSL_SESSION_set_cipher(s, cipher) &&
		  SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION));
	*id = (const unsigned char *)identity;
	*idlen = strlen(identity);
	*sess = s;
	return 1;
}

/* The target: a plaintext listener (the first, for served()) and one that
 * requires TLS, HOSTNQN's key, a short login timeout. */
static void tls_start(void)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--tls", "required",
			       "--tls-key", keyarg, "--tls-key", keyarg384,
			       "--login-timeout", "2", NULL };
	char ks[TLS_KEY_STR_MAX];
	int n;

	signal(SIGPIPE, SIG_IGN);
	memset(&key, 0, sizeof key);
	key.hmac = 1;
	key.len = 32;
	for (int i = 0; i < 32; i++)
		key.key[i] = (uint8_t)(0x40 + i * 3);
	cr_assert_gt(tls_key_format(&key, ks, sizeof ks), 0);
	snprintf(keyarg, sizeof keyarg, "%s=%s", HOSTNQN, ks);
	memset(&key384, 0, sizeof key384);
	key384.hmac = 2;
	key384.len = 48;
	for (int i = 0; i < 48; i++)
		key384.key[i] = (uint8_t)(0x11 + i * 5);
	cr_assert_gt(tls_key_format(&key384, ks, sizeof ks), 0);
	snprintf(keyarg384, sizeof keyarg384, "%s=%s", HOSTNQN384, ks);
	hash = TLS_HASH_SHA256;
	n = tls_derive(&key, HOSTNQN, NQN, 0, TLS_DERIVE_RFC, identity,
		       sizeof identity, psk);
	cr_assert_eq(n, 32);
	psk_len = (size_t)n;
	cctx = SSL_CTX_new(TLS_client_method());
	cr_assert_not_null(cctx);
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(cctx, TLS1_3_VERSION);
	/* both, in this order, as a client that does not pick by its key */
	SSL_CTX_set_ciphersuites(cctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
	SSL_CTX_set_psk_use_session_callback(cctx, use_session);
	hostile_start(args);
}

static void tls_teardown(void)
{
	SSL_CTX_free(cctx);
	cctx = NULL;
	teardown();
}

TestSuite(hostile_tls, .fini = tls_teardown, .timeout = 120);

struct tc {
	int fd;
	SSL *ssl;
};

/* TCP to the TLS listener (a 30 s receive timeout as the hang guard). */
static void tc_open(struct tc *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port_line(1)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 30, 0 };
	int one = 1;

	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(c->fd >= 0);
	cr_assert_eq(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0,
		     "connect: %s", strerror(errno));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->ssl = SSL_new(cctx);
	cr_assert(c->ssl && SSL_set_fd(c->ssl, c->fd));
}

static void tc_close(struct tc *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void tc_handshake(struct tc *c)
{
	ERR_clear_error();
	cr_assert_eq(SSL_connect(c->ssl), 1, "TLS handshake: %s",
		     ERR_reason_error_string(ERR_peek_last_error()));
	cr_assert(SSL_session_reused(c->ssl), "the target did not take our PSK");
}

static void tc_send(struct tc *c, const void *p, size_t len)
{
	size_t n;

	cr_assert(SSL_write_ex(c->ssl, p, len, &n) && n == len, "TLS send");
}

static void tc_recv(struct tc *c, void *p, size_t len)
{
	size_t n;

	while (len) {
		cr_assert(SSL_read_ex(c->ssl, p, len, &n), "TLS receive: the target closed");
		p = (uint8_t *)p + n;
		len -= n;
	}
}

/* The target closes the connection within the 30 s guard; what it sends
 * before (a TLS alert, the rest of its handshake) does not matter. */
static void closed_raw(int fd)
{
	uint8_t b[4096];

	for (;;) {
		ssize_t n = recv(fd, b, sizeof b, 0);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return;
		cr_assert(n > 0, "the connection stays open: %s", strerror(errno));
	}
}

static void send_raw(int fd, const void *p, size_t len)
{
	cr_assert_eq(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* A real ClientHello (with our PSK) sent raw on c's socket; the client
 * goes no further, whatever the target answers. */
static void client_hello_only(struct tc *c)
{
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	char *p;
	long n;

	cr_assert(rb && wb);
	SSL_set_bio(c->ssl, rb, wb);
	cr_assert_eq(SSL_connect(c->ssl), -1);
	cr_assert_eq(SSL_get_error(c->ssl, -1), SSL_ERROR_WANT_READ);
	n = BIO_get_mem_data(wb, &p);
	cr_assert_gt(n, 5);
	cr_assert_eq(p[0], 0x16);
	send_raw(c->fd, p, (size_t)n);
}

/* ICReq/ICResp inside TLS. */
static void tc_icreq(struct tc *c)
{
	uint8_t b[128];

	pdu_build_icreq(b, 0, false, false, 0);
	tc_send(c, b, sizeof b);
	tc_recv(c, b, sizeof b);
	cr_assert_eq(b[0], NVME_TCP_ICRESP, "expected an ICResp, got type %u", b[0]);
}

/* Connect (admin queue) inside TLS as hostnqn; the status field. */
static uint16_t tc_connect(struct tc *c, const char *hostnqn)
{
	struct nvme_sqe sqe = { .opcode = NVME_FABRICS_COMMAND };
	struct nvmf_connect_data d;
	struct nvme_cqe cqe;
	uint8_t *b = (uint8_t *)&sqe, hdr[128], rsp[24];
	size_t hl;

	b[NVMF_SQE_FCTYPE] = NVMF_FCTYPE_CONNECT;
	le16_put(b + NVMF_CONNECT_QID, 0);
	le16_put(b + NVMF_CONNECT_SQSIZE, 31);
	sqe.cid = htole16(7);
	sqe.flags = NVME_CMD_FLAGS_SGL;
	sqe.dptr.type = NVME_SGL_INCAPSULE;
	sqe.dptr.length = htole32(sizeof d);
	memset(&d, 0, sizeof d);
	memset(d.hostid, 0x5a, 16);
	d.cntlid = htole16(0xffff);
	snprintf(d.subnqn, sizeof d.subnqn, "%s", NQN);
	snprintf(d.hostnqn, sizeof d.hostnqn, "%s", hostnqn);
	hl = pdu_build_cmd(hdr, &sqe, sizeof d, false, false, 4);
	tc_send(c, hdr, hl);
	tc_send(c, &d, sizeof d);
	tc_recv(c, rsp, sizeof rsp);
	cr_assert_eq(rsp[0], NVME_TCP_RSP, "expected CapsuleResp, got type %u", rsp[0]);
	memcpy(&cqe, rsp + 8, sizeof cqe);
	cr_assert_eq(le16toh(cqe.cid), 7);
	return le16toh(cqe.status) >> 1;
}

/* A well-behaved host over TLS: handshake, ICReq, Connect. */
static void tls_served(void)
{
	struct tc c;

	tc_open(&c);
	tc_handshake(&c);
	tc_icreq(&c);
	cr_assert_eq(tc_connect(&c, HOSTNQN), 0, "Connect inside TLS");
	tc_close(&c);
}

/* The target's log says what (it is written before the connection closes
 * or the answer goes out). */
static void log_has(const char *what)
{
	static char buf[1 << 16];
	FILE *f = fopen(T.t.err, "r");
	size_t n;

	cr_assert_not_null(f, "%s", T.t.err);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	cr_assert_not_null(strstr(buf, what), "the target's log lacks '%s':\n%s", what, buf);
}

static void done(void)
{
	tls_served();
	hostile_done(0, 0);
}

Test(hostile_tls, connect_as_another_host)
{
	struct tc c;
	uint16_t st;

	tls_start();
	tc_open(&c);
	tc_handshake(&c);
	tc_icreq(&c);
	st = tc_connect(&c, "nqn.2026-12.org.example:someone-else");
	cr_assert_eq(st & 0x7ff, ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAM),
		     "a Connect as another host than the TLS identity: status 0x%x", st);
	log_has("Connect refused: host NQN 'nqn.2026-12.org.example:someone-else' is not the TLS identity's '" HOSTNQN "'");
	tc_close(&c);
	done();
}

Test(hostile_tls, garbage_instead_of_client_hello)
{
	static const uint8_t rec[] = { 0x16, 0x03, 0x01, 0x00, 0x20 };
	uint8_t junk[32];
	struct tc c;

	tls_start();
	/* a handshake record whose body is not a ClientHello */
	tc_open(&c);
	memset(junk, 0xee, sizeof junk);
	send_raw(c.fd, rec, sizeof rec);
	send_raw(c.fd, junk, sizeof junk);
	closed_raw(c.fd);
	tc_close(&c);
	log_has("TLS handshake failed");
	/* not TLS at all on a TLS-required listener */
	tc_open(&c);
	send_raw(c.fd, junk, sizeof junk);
	closed_raw(c.fd);
	tc_close(&c);
	log_has("the listener requires TLS but the host sent neither a TLS handshake nor an ICReq");
	done();
}

Test(hostile_tls, plaintext_icreq_refused)
{
	uint8_t b[128];
	struct tc c;

	tls_start();
	tc_open(&c);
	pdu_build_icreq(b, 0, false, false, 0);
	send_raw(c.fd, b, sizeof b);
	{
		ssize_t n = recv(c.fd, b, sizeof b, 0);

		cr_assert(n == 0 || (n < 0 && errno == ECONNRESET),
			  "expected the connection to close unanswered, got %zd", n);
	}
	log_has("the listener requires TLS but the host sent a plaintext ICReq");
	tc_close(&c);
	done();
}

Test(hostile_tls, close_mid_handshake)
{
	struct tc c;

	tls_start();
	for (int i = 0; i < 8; i++) {
		tc_open(&c);
		/* the ClientHello goes out; then, before the answer or
		 * after part of it, the client is gone */
		client_hello_only(&c);
		if (i & 1) {
			struct pollfd p = { .fd = c.fd, .events = POLLIN };

			cr_assert_eq(poll(&p, 1, 30000), 1);
		}
		tc_close(&c);
	}
	done();
}

Test(hostile_tls, stall_in_handshake)
{
	static const uint8_t partial[] = { 0x16, 0x03, 0x01 };
	struct tc c, d;

	tls_start();
	/* ClientHello sent, the rest never: --login-timeout (2 s) closes it */
	tc_open(&c);
	client_hello_only(&c);
	/* a record header cut short */
	tc_open(&d);
	send_raw(d.fd, partial, sizeof partial);
	/* meanwhile others are served */
	tls_served();
	closed_raw(c.fd);
	closed_raw(d.fd);
	tc_close(&c);
	tc_close(&d);
	log_has("no TLS handshake within 2 s of connecting");
	done();
}

Test(hostile_tls, oversized_records)
{
	/* 0xffff bytes: more than a TLS record may have (2^14 + 256) */
	static const uint8_t hs[] = { 0x16, 0x03, 0x01, 0xff, 0xff },
			     app[] = { 0x17, 0x03, 0x03, 0x48, 0x01 };
	static uint8_t body[0x4801];
	struct tc c;

	tls_start();
	/* during the handshake */
	tc_open(&c);
	send_raw(c.fd, hs, sizeof hs);
	send_raw(c.fd, body, 4096);
	closed_raw(c.fd);
	tc_close(&c);
	/* after it, in place of application data */
	tc_open(&c);
	tc_handshake(&c);
	tc_icreq(&c);
	send_raw(c.fd, app, sizeof app);
	send(c.fd, body, sizeof body, MSG_NOSIGNAL); /* the target may close first */
	closed_raw(c.fd);
	tc_close(&c);
	log_has("TLS handshake failed: packet length too long");
	log_has("TLS: encrypted length too long; closing");
	done();
}

/* A SHA-384 key, the client offering both suites (AES-128 first): the
 * target takes the one of the key's hash. */
Test(hostile_tls, sha384_key_both_suites_offered)
{
	struct tc c;
	int n;

	tls_start();
	n = tls_derive(&key384, HOSTNQN384, NQN, 0, TLS_DERIVE_RFC, identity,
		       sizeof identity, psk);
	cr_assert_eq(n, 48);
	psk_len = (size_t)n;
	hash = TLS_HASH_SHA384;
	tc_open(&c);
	tc_handshake(&c);
	cr_assert_str_eq(SSL_CIPHER_get_name(SSL_get_current_cipher(c.ssl)),
			 "TLS_AES_256_GCM_SHA384");
	tc_icreq(&c);
	cr_assert_eq(tc_connect(&c, HOSTNQN384), 0, "Connect inside TLS (SHA-384)");
	tc_close(&c);
	/* back to the SHA-256 key for the checks at the end */
	hash = TLS_HASH_SHA256;
	n = tls_derive(&key, HOSTNQN, NQN, 0, TLS_DERIVE_RFC, identity,
		       sizeof identity, psk);
	psk_len = (size_t)n;
	done();
}

/* A version 1 identity whose PSK digest is not that of the host's key:
 * refused and said; the right digest connects. */
Test(hostile_tls, identity_v1_digest)
{
	struct tc c;
	size_t l;
	int n;

	tls_start();
	n = tls_derive(&key, HOSTNQN, NQN, 1, TLS_DERIVE_RFC, identity,
		       sizeof identity, psk);
	cr_assert_eq(n, 32);
	cr_assert_eq(strncmp(identity, "NVMe1R01 ", 9), 0, "%s", identity);
	tc_open(&c);
	tc_handshake(&c);
	tc_icreq(&c);
	cr_assert_eq(tc_connect(&c, HOSTNQN), 0);
	tc_close(&c);
	l = strlen(identity);
	identity[l - 5] = identity[l - 5] == 'A' ? 'B' : 'A';
	tc_open(&c);
	cr_assert_neq(SSL_connect(c.ssl), 1, "a wrong PSK digest was taken");
	closed_raw(c.fd);
	tc_close(&c);
	log_has("its PSK digest does not match the key of " HOSTNQN);
	n = tls_derive(&key, HOSTNQN, NQN, 0, TLS_DERIVE_RFC, identity,
		       sizeof identity, psk);
	psk_len = (size_t)n;
	done();
}

/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target's secure channel (NVMe/TCP transport specification,
 * "Secure channel"): TLS 1.3 with an external pre-shared key under the
 * PDUs of a connection, on listeners given --tls required|not-required.
 *
 * The handshake runs on the connection's own thread before the ICReq,
 * bounded by --login-timeout: TLS 1.3 only, psk_dhe_ke (OpenSSL never
 * allows psk_ke unless told to), TLS_AES_128_GCM_SHA256 for SHA-256 keys
 * and TLS_AES_256_GCM_SHA384 for SHA-384 ones, no certificates, no session
 * tickets, no early data.  The PSK identity "NVMe0R0H <hostnqn> <subnqn>"
 * (or version 1 "NVMe1R0H <hostnqn> <subnqn> <digest>") names the host,
 * whose configured key (--tls-key, the configuration file, the control
 * socket) gives the retained PSK and then the TLS PSK (lib/tls_key.c) in
 * the form --tls-psk-derivation says.  An unknown host gets no PSK and so
 * a failed handshake.
 *
 * After the handshake the socket is non-blocking and tgt_conn.c reads and
 * writes through conn_tls_read()/conn_tls_write() here.  SIGPIPE is
 * blocked in every thread of the target, so libssl's write(2) to a reset
 * connection returns EPIPE.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "target.h"
#include "tls_key.h"

#define TLS_RECORD_HDR 0x16 /* a TLS handshake record's content type */
#define TLS_WRITE_BUFFER (256 * 1024)

struct tls_hostkey {
	struct tls_hostkey *next;
	char nqn[NVMF_NQN_SIZE];
	struct tls_key key;
	enum subsys_origin origin;
};

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_hostkey *tls_keys;
static SSL_CTX *tls_ctx;
static int tls_ex_conn = -1;
int tgt_tls_derivation = TLS_DERIVE_RFC;

const char *tgt_tls_mode_name(enum tgt_tls_mode m)
{
	return m == TGT_TLS_REQUIRED ? "required" :
	       m == TGT_TLS_NOT_REQUIRED ? "not-required" : "off";
}

/* ---- the hosts' keys ---------------------------------------------------- */

static void hostkey_free(struct tls_hostkey *k)
{
	tls_key_wipe(&k->key);
	free(k);
}

int tgt_tls_key_set(const char *hostnqn, const struct tls_key *key,
		    enum subsys_origin origin, char *err, size_t errlen)
{
	struct tls_hostkey *k, **pp;

	if (host_nqn_check(hostnqn, err, errlen) < 0)
		return -1;
	if (!*hostnqn) {
		snprintf(err, errlen, "a TLS key needs a host NQN");
		return -1;
	}
	k = calloc(1, sizeof *k);
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(k->nqn, sizeof k->nqn, "%s", hostnqn);
	k->key = *key;
	k->origin = origin;
	pthread_mutex_lock(&tls_lock);
	/* one key per host: a new one replaces the old */
	for (pp = &tls_keys; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->nqn, hostnqn)) {
			struct tls_hostkey *old = *pp;

			k->next = old->next;
			*pp = k;
			hostkey_free(old);
			pthread_mutex_unlock(&tls_lock);
			return 0;
		}
	k->next = tls_keys;
	tls_keys = k;
	pthread_mutex_unlock(&tls_lock);
	return 0;
}

int tgt_tls_key_add(const char *hostnqn, const char *keystr,
		    enum subsys_origin origin, char *err, size_t errlen)
{
	struct tls_key key;
	int rc;

	if (tls_key_parse(keystr, &key) < 0) {
		snprintf(err, errlen, "TLS key of %.230s: %s", hostnqn,
			 nvmeof_get_error());
		return -1;
	}
	rc = tgt_tls_key_set(hostnqn, &key, origin, err, errlen);
	tls_key_wipe(&key);
	return rc;
}

int tgt_tls_key_file(const char *hostnqn, const char *path,
		     enum subsys_origin origin, char *err, size_t errlen)
{
	char buf[TLS_KEY_STR_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "TLS key file %.300s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "TLS key file %.300s is not a regular file",
			 path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "TLS key file %.300s is readable or writable by group or others (mode %04o): chmod 600 it",
			 path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "TLS key file %.300s: %s", path,
			 strerror(errno));
		return -1;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	rc = tgt_tls_key_add(hostnqn, buf, origin, err, errlen);
	explicit_bzero(buf, sizeof buf);
	return rc;
}

int tgt_tls_key_value(const char *hostnqn, const char *v,
		      enum subsys_origin origin, char *err, size_t errlen)
{
	if (!strncmp(v, "NVMeTLSkey-", 11))
		return tgt_tls_key_add(hostnqn, v, origin, err, errlen);
	return tgt_tls_key_file(hostnqn, v, origin, err, errlen);
}

int tgt_tls_key_remove(const char *hostnqn, char *err, size_t errlen)
{
	struct tls_hostkey **pp;

	pthread_mutex_lock(&tls_lock);
	for (pp = &tls_keys; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->nqn, hostnqn)) {
			struct tls_hostkey *old = *pp;

			*pp = old->next;
			hostkey_free(old);
			pthread_mutex_unlock(&tls_lock);
			return 0;
		}
	pthread_mutex_unlock(&tls_lock);
	snprintf(err, errlen, "no TLS key for host %.230s", hostnqn);
	return -1;
}

void tgt_tls_key_drop(enum subsys_origin origin)
{
	struct tls_hostkey **pp;

	pthread_mutex_lock(&tls_lock);
	for (pp = &tls_keys; *pp;) {
		struct tls_hostkey *k = *pp;

		if (k->origin == origin) {
			*pp = k->next;
			hostkey_free(k);
		} else {
			pp = &k->next;
		}
	}
	pthread_mutex_unlock(&tls_lock);
}

void tgt_tls_key_list(FILE *out)
{
	static const char *const from[] = { "command line", "config", "control" };

	pthread_mutex_lock(&tls_lock);
	for (struct tls_hostkey *k = tls_keys; k; k = k->next)
		fprintf(out, "%s hash=%s from=%s\n", k->nqn,
			tls_key_hash(&k->key) == TLS_HASH_SHA384 ? "sha384" : "sha256",
			from[k->origin]);
	pthread_mutex_unlock(&tls_lock);
}

static bool key_lookup(const char *hostnqn, struct tls_key *out)
{
	bool found = false;

	pthread_mutex_lock(&tls_lock);
	for (struct tls_hostkey *k = tls_keys; k && !found; k = k->next)
		if (!strcmp(k->nqn, hostnqn)) {
			*out = k->key;
			found = true;
		}
	pthread_mutex_unlock(&tls_lock);
	return found;
}

void tgt_tls_fini(void)
{
	tgt_tls_key_drop(ORIGIN_CLI);
	tgt_tls_key_drop(ORIGIN_CONFIG);
	tgt_tls_key_drop(ORIGIN_CONTROL);
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

/* ---- the PSK: from the identity the host offers ------------------------- */

/* "NVMe0R0H <hostnqn> <subnqn>" / "NVMe1R0H <hostnqn> <subnqn> <digest>":
 * the version, the hash and the host NQN; -1 when it is not one. */
static int identity_parse(const char *id, unsigned *version, unsigned *hash,
			  char *hostnqn, size_t hlen)
{
	const char *h, *sp;

	if (strncmp(id, "NVMe", 4) || (id[4] != '0' && id[4] != '1') ||
	    id[5] != 'R' || id[6] != '0' || (id[7] != '1' && id[7] != '2') ||
	    id[8] != ' ')
		return -1;
	*version = (unsigned)(id[4] - '0');
	*hash = (unsigned)(id[7] - '0');
	h = id + 9;
	sp = strchr(h, ' ');
	if (!sp || sp == h || (size_t)(sp - h) >= hlen || !sp[1])
		return -1;
	memcpy(hostnqn, h, (size_t)(sp - h));
	hostnqn[sp - h] = 0;
	return 0;
}

/* The identity without its secrets for the log: printable, bounded. */
static void identity_safe(const unsigned char *id, size_t len, char *out,
			  size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outlen; i++)
		out[o++] = id[i] >= 0x20 && id[i] < 0x7f ? (char)id[i] : '?';
	out[o] = 0;
}

static int psk_find_session(SSL *ssl, const unsigned char *identity,
			    size_t identity_len, SSL_SESSION **sess)
{
	static const unsigned char aes128[] = { 0x13, 0x01 },
				   aes256[] = { 0x13, 0x02 };
	struct tgt_conn *c = SSL_get_ex_data(ssl, tls_ex_conn);
	char id[TLS_IDENTITY_MAX], want[TLS_IDENTITY_MAX], safe[TLS_IDENTITY_MAX];
	char hostnqn[NVMF_NQN_SIZE], subnqn[NVMF_NQN_SIZE];
	unsigned version, hash;
	uint8_t psk[TLS_KEY_MAX];
	struct tls_key key;
	const SSL_CIPHER *cipher;
	SSL_SESSION *s;
	const char *sub, *end;
	int len;

	*sess = NULL;
	identity_safe(identity, identity_len, safe, sizeof safe);
	if (identity_len >= sizeof id || memchr(identity, 0, identity_len)) {
		warnx("%s: TLS: PSK identity '%.80s...' is not an NVMe identity; refusing",
		      c->peer, safe);
		return 1; /* no PSK: the handshake fails */
	}
	memcpy(id, identity, identity_len);
	id[identity_len] = 0;
	if (identity_parse(id, &version, &hash, hostnqn, sizeof hostnqn) < 0) {
		warnx("%s: TLS: PSK identity '%s' is not 'NVMe0R0H HOSTNQN SUBNQN'; refusing",
		      c->peer, safe);
		return 1;
	}
	sub = id + 9 + strlen(hostnqn) + 1;
	end = version ? strchr(sub, ' ') : sub + strlen(sub);
	if (!end || (size_t)(end - sub) >= sizeof subnqn) {
		warnx("%s: TLS: PSK identity '%s': no subsystem NQN%s; refusing",
		      c->peer, safe, version ? " and digest" : "");
		return 1;
	}
	memcpy(subnqn, sub, (size_t)(end - sub));
	subnqn[end - sub] = 0;
	if (!key_lookup(hostnqn, &key)) {
		warnx("%s: TLS: no key for host %s (identity '%s'); refusing",
		      c->peer, hostnqn, safe);
		return 1;
	}
	if (tls_key_hash(&key) != hash) {
		warnx("%s: TLS: identity '%s' asks for %s but the key of %s is a %s key; refusing",
		      c->peer, safe, hash == TLS_HASH_SHA384 ? "SHA-384" : "SHA-256",
		      hostnqn, tls_key_hash(&key) == TLS_HASH_SHA384 ? "SHA-384" : "SHA-256");
		tls_key_wipe(&key);
		return 1;
	}
	len = tls_derive(&key, hostnqn, subnqn, version, (enum tls_psk_derivation)tgt_tls_derivation, want,
			 sizeof want, psk);
	tls_key_wipe(&key);
	if (len < 0) {
		warnx("%s: TLS: identity '%s': %s; refusing", c->peer, safe,
		      nvmeof_get_error());
		return 1;
	}
	if (strcmp(want, id)) {
		/* version 1: the digest is not that of our key */
		warnx("%s: TLS: identity '%s': its PSK digest does not match the key of %s; refusing",
		      c->peer, safe, hostnqn);
		OPENSSL_cleanse(psk, sizeof psk);
		return 1;
	}
	cipher = SSL_CIPHER_find(ssl, hash == TLS_HASH_SHA384 ? aes256 : aes128);
	s = cipher ? SSL_SESSION_new() : NULL;
	if (!s || !SSL_SESSION_set1_master_key(s, psk, (size_t)len) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		OPENSSL_cleanse(psk, sizeof psk);
		return 0;
	}
	OPENSSL_cleanse(psk, sizeof psk);
	snprintf(c->tls_hostnqn, sizeof c->tls_hostnqn, "%s", hostnqn);
	snprintf(c->tls_identity, sizeof c->tls_identity, "%s", safe);
	*sess = s;
	return 1;
}

/* Before the cipher suite is chosen: only the one of the hash the host's
 * PSK identity names ("NVMe0R0H ..." in the first identity of the
 * pre_shared_key extension), so that a client offering both suites gets
 * the one its PSK can use, whatever its order. */
static int client_hello(SSL *ssl, int *al, void *arg)
{
	const unsigned char *p;
	size_t len, idlen;

	(void)al;
	(void)arg;
	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &p, &len) || len < 4)
		return SSL_CLIENT_HELLO_SUCCESS; /* no PSK: the handshake fails later */
	idlen = (size_t)p[2] << 8 | p[3];
	if (idlen >= 8 && 4 + idlen <= len && !memcmp(p + 4, "NVMe", 4) &&
	    (p[4 + 7] == '1' || p[4 + 7] == '2'))
		SSL_set_ciphersuites(ssl, p[4 + 7] == '2' ? "TLS_AES_256_GCM_SHA384" :
							  "TLS_AES_128_GCM_SHA256");
	return SSL_CLIENT_HELLO_SUCCESS;
}

int tgt_tls_init(char *err, size_t errlen)
{
	if (tls_ctx)
		return 0;
	tls_ex_conn = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	tls_ctx = SSL_CTX_new(TLS_server_method());
	if (tls_ex_conn < 0 || !tls_ctx ||
	    !SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(tls_ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(tls_ctx, "TLS_AES_128_GCM_SHA256:"
					       "TLS_AES_256_GCM_SHA384") ||
	    !SSL_CTX_set_num_tickets(tls_ctx, 0) ||
	    !SSL_CTX_set_max_early_data(tls_ctx, 0)) {
		snprintf(err, errlen, "TLS: cannot set up OpenSSL: %s",
			 ERR_reason_error_string(ERR_get_error()) ?
			 ERR_reason_error_string(ERR_get_error()) : "unknown error");
		SSL_CTX_free(tls_ctx);
		tls_ctx = NULL;
		return -1;
	}
	/* the client's order of cipher suites: it knows its key's hash */
	SSL_CTX_set_options(tls_ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_clear_options(tls_ctx, SSL_OP_ALLOW_NO_DHE_KEX);
	SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_psk_find_session_callback(tls_ctx, psk_find_session);
	SSL_CTX_set_client_hello_cb(tls_ctx, client_hello, NULL);
	/* big reads: fewer system calls per record */
	SSL_CTX_set_read_ahead(tls_ctx, 1);
	SSL_CTX_set_default_read_buffer_len(tls_ctx, 64 * 1024);
	return 0;
}

/* ---- a connection's handshake -------------------------------------------- */

/* Wait for ev on the socket until the login deadline; -1 at the deadline
 * (said, naming what we waited for) or on an error. */
static int wait_login(struct tgt_conn *c, short ev, const char *what)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = ev };
		uint64_t deadline = c->accepted_ms + opts.login_ms,
			 now = tgt_now_ms();
		int n;

		if (now >= deadline) {
			warnx("%s: no %s within %u s of connecting; closing",
			      c->peer, what, opts.login_ms / 1000);
			return -1;
		}
		n = poll(&pfd, 1, (int)MIN(deadline - now, (uint64_t)INT_MAX));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown TLS error";
}

static int handshake(struct tgt_conn *c)
{
	SSL *ssl;
	BIO *wbuf, *sock;
	int fl;

	fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	ssl = SSL_new(tls_ctx);
	if (!ssl || !SSL_set_fd(ssl, c->fd) ||
	    !SSL_set_ex_data(ssl, tls_ex_conn, c)) {
		warnx("%s: TLS: out of memory", c->peer);
		SSL_free(ssl);
		return -1;
	}
	c->ssl = ssl;
	/* Records are at most 16 KiB: a buffer in front of the socket makes
	 * the records of one batch one write(2), not one each. */
	wbuf = BIO_new(BIO_f_buffer());
	sock = SSL_get_wbio(ssl);
	if (!wbuf || !BIO_set_write_buffer_size(wbuf, TLS_WRITE_BUFFER) ||
	    !BIO_up_ref(sock)) {
		warnx("%s: TLS: out of memory", c->peer);
		BIO_free(wbuf);
		return -1;
	}
	BIO_push(wbuf, sock);
	SSL_set0_wbio(ssl, wbuf);
	for (;;) {
		int rc, e;

		ERR_clear_error();
		rc = SSL_accept(ssl);
		if (rc == 1)
			break;
		e = SSL_get_error(ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_login(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
				       "TLS handshake") < 0)
				return -1;
			continue;
		}
		if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ||
		    ERR_GET_REASON(ERR_peek_last_error()) ==
			    SSL_R_UNEXPECTED_EOF_WHILE_READING)
			infox("%s: TLS handshake: the host closed the connection%s%s",
			      c->peer, c->tls_identity[0] ? " (identity " : "",
			      c->tls_identity[0] ? c->tls_identity : "");
		else
			warnx("%s: TLS handshake failed%s%s%s: %s", c->peer,
			      c->tls_identity[0] ? " (identity '" : "",
			      c->tls_identity, c->tls_identity[0] ? "')" : "",
			      ssl_reason());
		ERR_clear_error();
		return -1;
	}
	if (!SSL_session_reused(ssl) || !c->tls_hostnqn[0]) {
		/* cannot happen without a certificate; said if it does */
		warnx("%s: TLS handshake without our PSK; closing", c->peer);
		return -1;
	}
	infox("%s: TLS: %s %s, identity '%s' (%s derivation)", c->peer,
	      SSL_get_version(ssl), SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)),
	      c->tls_identity, tls_derivation_name((enum tls_psk_derivation)tgt_tls_derivation));
	return 0;
}

int conn_tls_start(struct tgt_conn *c)
{
	enum tgt_tls_mode mode = c->lsn->tls;
	unsigned char b = 0;
	ssize_t n;

	if (mode == TGT_TLS_OFF)
		return 0;
	/* The first byte says which: a TLS record (ClientHello) or the
	 * ICReq's PDU type. */
	for (;;) {
		if (wait_login(c, POLLIN, mode == TGT_TLS_REQUIRED ?
			       "TLS handshake" : "ICReq or TLS handshake") < 0)
			return -1;
		n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 1)
			break;
		if (n == 0)
			return -1;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
	if (b != TLS_RECORD_HDR) {
		if (mode == TGT_TLS_NOT_REQUIRED)
			return 0;
		warnx("%s: the listener requires TLS but the host sent %s; closing",
		      c->peer, b == NVME_TCP_ICREQ ? "a plaintext ICReq" :
		      "neither a TLS handshake nor an ICReq");
		return -1;
	}
	if (!tls_ctx) {
		warnx("%s: TLS is not set up; closing", c->peer);
		return -1;
	}
	return handshake(c);
}

/* ---- reading and writing -------------------------------------------------- */

bool conn_tls_readable(struct tgt_conn *c)
{
	if (SSL_pending(c->ssl) > 0)
		return true;
	return !c->tls_starved && SSL_has_pending(c->ssl);
}

ssize_t conn_tls_read(struct tgt_conn *c, void *buf, size_t len, bool dontwait)
{
	for (;;) {
		size_t n = 0;
		int e;

		ERR_clear_error();
		if (SSL_read_ex(c->ssl, buf, len, &n)) {
			c->tls_starved = false;
			return (ssize_t)n;
		}
		e = SSL_get_error(c->ssl, 0);
		switch (e) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE: {
			struct pollfd pfd = {
				.fd = c->fd,
				.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			};

			/* either way, what libssl holds is not enough: wait
			 * for the socket before trying again */
			c->tls_starved = true;
			if (dontwait) {
				errno = EAGAIN;
				return -1;
			}
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		case SSL_ERROR_SYSCALL:
			if (!errno ||
			    ERR_GET_REASON(ERR_peek_last_error()) ==
				    SSL_R_UNEXPECTED_EOF_WHILE_READING)
				return 0;
			return -1;
		default:
			if (ERR_GET_REASON(ERR_peek_last_error()) ==
			    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
				ERR_clear_error();
				return 0; /* closed without close_notify */
			}
			warnx("%s: TLS: %s; closing", c->peer, ssl_reason());
			ERR_clear_error();
			errno = EPROTO;
			return -1;
		}
	}
}

int conn_tls_write(struct tgt_conn *c, const void *buf, size_t len)
{
	size_t n = 0;
	int e;

	ERR_clear_error();
	if (SSL_write_ex(c->ssl, buf, len, &n))
		return 1;
	e = SSL_get_error(c->ssl, 0);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
		return 0;
	if (e != SSL_ERROR_SYSCALL)
		warnx("%s: TLS: %s; closing", c->peer, ssl_reason());
	ERR_clear_error();
	if (!errno)
		errno = EPIPE;
	return -1;
}

int conn_tls_flush(struct tgt_conn *c)
{
	BIO *b = SSL_get_wbio(c->ssl);

	errno = 0;
	if (BIO_flush(b) > 0)
		return 1;
	if (BIO_should_retry(b))
		return 0;
	if (!errno)
		errno = EPIPE;
	return -1;
}

void conn_tls_free(struct tgt_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * The TLS transport (tls.h): NVMe/TCP's secure channel over OpenSSL 3's
 * libssl. A plain TCP connection (tcp.c) first, then a TLS 1.3 handshake
 * with an external PSK (psk_dhe_ke, the cipher suite of the key's hash, no
 * certificates, no tickets, no early data), all before the ICReq; after it
 * the PDUs go through SSL_write/SSL_read with the same non-blocking
 * contract as plain TCP. kTLS is asked for (SSL_OP_ENABLE_KTLS) and used
 * where the kernel and OpenSSL have it; otherwise OpenSSL encrypts.
 *
 * libssl writes to the socket with write(2), which raises SIGPIPE on a
 * connection the peer reset: every call that may write runs with SIGPIPE
 * blocked in the calling thread and a SIGPIPE it raised is taken back
 * (unless the application ignores SIGPIPE anyway).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "internal.h"
#include "tls.h"

/* sendv writes a leading piece of at least TLS_DIRECT_MIN bytes where it
 * is (libssl encrypts it straight from there); smaller pieces (headers,
 * completions, small data, the start of the data after a header) are
 * gathered into one record of at most TLS_WBUF: one copy, one record, one
 * write(2), instead of a record per piece. */
#define TLS_WBUF 16384       /* a full TLS record's plaintext */
#define TLS_DIRECT_MIN 16384
/* read-ahead: libssl reads what the socket holds, several records in one
 * read(2), rather than a header and then a body per record */
#define TLS_RBUF (64 * 1024)
/* the records of one sendv leave in one send(2), not one each */
#define TLS_OBUF (128 * 1024)

struct tls_transport {
	struct transport t;
	struct transport *tcp;
	SSL_CTX *ctx;
	SSL *ssl;
	unsigned hash;
	size_t psk_len;
	uint8_t psk[TLS_KEY_MAX];
	char identity[TLS_IDENTITY_MAX];
	bool psk_offered;
	enum tls_psk_derivation deriv;
	bool raw_psk;           /* the PSK was given derived (tls_params.psk) */
	double handshake_ms;
	bool sigpipe_ignored;   /* the application ignores SIGPIPE */
	bool nosig;             /* libssl writes through send(MSG_NOSIGNAL) */
	uint8_t *obuf;          /* records not sent yet (the BIO's), or NULL */
	size_t olen, ooff;      /* obuf holds [ooff, olen) */
	size_t owed;            /* plaintext taken whose records are in obuf */
	uint8_t *wbuf;
};

/* ---- SIGPIPE ------------------------------------------------------------------ */

struct sigpipe_guard {
	sigset_t old;
	bool active;
};

static void sigpipe_block(const struct tls_transport *tt, struct sigpipe_guard *g)
{
	sigset_t set;

	g->active = !tt->sigpipe_ignored && !tt->nosig;
	if (!g->active)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	if (sigismember(&g->old, SIGPIPE))
		g->active = false; /* already blocked: leave it as it is */
	if (!g->active)
		pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* failed: the call may have raised SIGPIPE; take it back. */
static void sigpipe_unblock(struct sigpipe_guard *g, bool failed)
{
	if (!g->active)
		return;
	if (failed) {
		sigset_t pend, set;
		struct timespec zero = { 0, 0 };
		int e = errno;

		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		if (sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE))
			while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
				;
		errno = e;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- a socket BIO that never raises SIGPIPE -----------------------------------
 *
 * After the handshake, unless kTLS took over (it needs libssl's own socket
 * BIO), libssl reads and writes through this one: recv(2) and
 * send(MSG_NOSIGNAL), so that the data path needs no signal mask change
 * (two system calls) around each SSL_read and SSL_write.  It also keeps
 * the records libssl writes (16 KiB each at most) in obuf until sendv
 * flushes them with one send(2): the data of a 128 KiB write is one
 * system call, not eight. */

static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int nosig_fd(BIO *b)
{
	return transport_fd(((struct tls_transport *)BIO_get_data(b))->tcp);
}

/* Send what obuf holds: 1 when all went, 0 when the socket is full, -1
 * on an error (errno). */
static int obuf_flush(struct tls_transport *tt)
{
	while (tt->ooff < tt->olen) {
		ssize_t n = send(transport_fd(tt->tcp), tt->obuf + tt->ooff,
				 tt->olen - tt->ooff, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		tt->ooff += (size_t)n;
	}
	tt->olen = tt->ooff = 0;
	return 1;
}

static int nosig_write(BIO *b, const char *buf, int len)
{
	struct tls_transport *tt = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (tt->obuf && TLS_OBUF - tt->olen < (size_t)len) {
		if (obuf_flush(tt) < 0)
			return -1;
		if (tt->ooff) {
			memmove(tt->obuf, tt->obuf + tt->ooff, tt->olen - tt->ooff);
			tt->olen -= tt->ooff;
			tt->ooff = 0;
		}
	}
	if (tt->obuf && TLS_OBUF - tt->olen >= (size_t)len) {
		memcpy(tt->obuf + tt->olen, buf, (size_t)len);
		tt->olen += (size_t)len;
		return len;
	}
	if (tt->obuf && tt->olen) {
		BIO_set_retry_write(b); /* no room yet: libssl tries again */
		return -1;
	}
	do
		n = send(transport_fd(tt->tcp), buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return n < 0 ? -1 : (int)n;
}

static int nosig_read(BIO *b, char *buf, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (!buf || len <= 0)
		return 0;
	do
		n = recv(nosig_fd(b), buf, (size_t)len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	if (n == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF); /* libssl asks BIO_eof() */
	return n < 0 ? -1 : (int)n;
}

static int nosig_puts(BIO *b, const char *str)
{
	return nosig_write(b, str, (int)strlen(str));
}

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_transport *tt = BIO_get_data(b);
	int r;

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		BIO_clear_retry_flags(b);
		if (!tt->obuf)
			return 1;
		r = obuf_flush(tt);
		if (r == 0)
			BIO_set_retry_write(b);
		return r;
	case BIO_CTRL_WPENDING:
		return (long)(tt->olen - tt->ooff);
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = nosig_fd(b);
		return nosig_fd(b);
	default:
		return 0;
	}
}

static int nosig_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void nosig_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
				     BIO_TYPE_DESCRIPTOR, "nvmeof socket");

	if (m && (!BIO_meth_set_write(m, nosig_write) || !BIO_meth_set_read(m, nosig_read) ||
		  !BIO_meth_set_puts(m, nosig_puts) || !BIO_meth_set_ctrl(m, nosig_ctrl) ||
		  !BIO_meth_set_create(m, nosig_create))) {
		BIO_meth_free(m);
		m = NULL;
	}
	nosig_method = m;
}

/* Switch the connection to the BIO above; without it (no memory, kTLS)
 * the signal mask guard stays. */
static void use_nosig_bio(struct tls_transport *tt)
{
	BIO *b;

	if (BIO_get_ktls_send(SSL_get_wbio(tt->ssl)) > 0 ||
	    BIO_get_ktls_recv(SSL_get_rbio(tt->ssl)) > 0)
		return;
	pthread_once(&nosig_once, nosig_init);
	if (!nosig_method || !(b = BIO_new(nosig_method)))
		return;
	BIO_set_data(b, tt);
	tt->obuf = malloc(TLS_OBUF); /* without it, a send(2) per record */
	/* what read-ahead holds stays in the SSL, not in the old BIO */
	SSL_set_bio(tt->ssl, b, b);
	tt->nosig = true;
}

/* ---- the PSK ------------------------------------------------------------------ */

static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_init(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL asks for the session that carries our external PSK: its key, the
 * cipher suite of the PSK's hash and TLS 1.3. md is set when the server
 * asked again (HelloRetryRequest) for a given hash. */
static int psk_use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id,
			   size_t *idlen, SSL_SESSION **sessp)
{
	struct tls_transport *tt = SSL_get_ex_data(ssl, ex_index);
	static const unsigned char aes128[] = { 0x13, 0x01 }, aes256[] = { 0x13, 0x02 };
	const SSL_CIPHER *cipher;
	SSL_SESSION *s;

	*sessp = NULL;
	if (!tt)
		return 0;
	cipher = SSL_CIPHER_find(ssl, tt->hash == TLS_HASH_SHA384 ? aes256 : aes128);
	if (!cipher)
		return 0;
	if (md && md != SSL_CIPHER_get_handshake_digest(cipher))
		return 1; /* the server wants another hash: no PSK of ours */
	s = SSL_SESSION_new();
	if (!s || !SSL_SESSION_set1_master_key(s, tt->psk, tt->psk_len) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return 0;
	}
	*sessp = s;
	*id = (const unsigned char *)tt->identity;
	*idlen = strlen(tt->identity);
	tt->psk_offered = true;
	return 1;
}

/* ---- the operations -------------------------------------------------------------- */

static ssize_t tls_t_sendv(struct transport *t, const struct iovec *iov, int iovcnt)
{
	struct tls_transport *tt = (struct tls_transport *)t;
	struct sigpipe_guard g;
	const void *buf;
	size_t len = 0, n = 0, total = 0;
	int ok, err, r;

	if (tt->olen) {
		/* the records of bytes taken before: until they are sent,
		 * the caller keeps those bytes (and waits for POLLOUT) */
		r = obuf_flush(tt);
		if (r < 0)
			return set_error(errno, "%s: TLS send: %s", t->peer, strerror(errno));
		if (r == 0)
			return 0;
		if (tt->owed) {
			n = tt->owed;
			tt->owed = 0;
			t->tx_bytes += n;
			return (ssize_t)n;
		}
	}
	if (iovcnt == 1 || iov[0].iov_len >= TLS_DIRECT_MIN) {
		buf = iov[0].iov_base;
		len = iov[0].iov_len;
	} else {
		/* The same bytes come back after a WANT_WRITE (the queue does
		 * not advance), at least as many: what SSL_write needs; the
		 * choice above is the same for them. */
		for (int i = 0; i < iovcnt && len < TLS_WBUF; i++) {
			size_t c = MIN(iov[i].iov_len, TLS_WBUF - len);

			memcpy(tt->wbuf + len, iov[i].iov_base, c);
			len += c;
		}
		buf = tt->wbuf;
	}
	if (!len)
		return 0;
	ERR_clear_error();
	sigpipe_block(tt, &g);
	/* a record per SSL_write (partial writes): with obuf, all of them */
	do {
		ok = SSL_write_ex(tt->ssl, (const uint8_t *)buf + total, len - total, &n);
		if (ok)
			total += n;
	} while (ok && total < len && tt->obuf);
	err = ok ? SSL_ERROR_NONE : SSL_get_error(tt->ssl, 0);
	sigpipe_unblock(&g, !ok);
	if (ok || err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
		if (tt->olen) {
			r = obuf_flush(tt);
			if (r < 0)
				return set_error(errno, "%s: TLS send: %s", t->peer,
						 strerror(errno));
			if (r == 0) {
				tt->owed = total; /* reported once sent */
				return 0;
			}
		}
		t->tx_bytes += total;
		return (ssize_t)total;
	}
	if (err == SSL_ERROR_SYSCALL && errno)
		return set_error(errno, "%s: TLS send: %s", t->peer, strerror(errno));
	return set_error(EPROTO, "%s: TLS send: %s", t->peer,
			  ERR_reason_error_string(ERR_peek_last_error()) ?
			  ERR_reason_error_string(ERR_peek_last_error()) : "connection lost");
}

static ssize_t tls_t_recv(struct transport *t, void *buf, size_t len)
{
	struct tls_transport *tt = (struct tls_transport *)t;
	struct sigpipe_guard g;
	size_t n = 0;
	int ok, err;

	if (!len)
		return 0;
	ERR_clear_error();
	sigpipe_block(tt, &g);
	ok = SSL_read_ex(tt->ssl, buf, len, &n);
	err = ok ? SSL_ERROR_NONE : SSL_get_error(tt->ssl, 0);
	sigpipe_unblock(&g, !ok);
	if (ok) {
		t->rx_bytes += n;
		return (ssize_t)n;
	}
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN: /* close_notify */
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		return errno ? -errno : -ECONNRESET;
	default:
		ERR_clear_error();
		return -EPROTO; /* a bad record: the stream cannot go on */
	}
}

static void tls_t_shutdown(struct transport *t)
{
	struct tls_transport *tt = (struct tls_transport *)t;

	/* Only the socket: another thread may be inside libssl. */
	transport_shutdown(tt->tcp);
}

static int tls_t_fd(const struct transport *t)
{
	return transport_fd(((const struct tls_transport *)t)->tcp);
}

static int tls_t_local_addr(const struct transport *t, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	const struct tls_transport *tt = (const struct tls_transport *)t;

	return tt->tcp->ops->local_addr(tt->tcp, ss, len);
}

static void tls_t_close(struct transport *t)
{
	struct tls_transport *tt = (struct tls_transport *)t;

	if (tt->ssl) {
		struct sigpipe_guard g;

		/* close_notify if the socket takes it now; never wait */
		ERR_clear_error();
		sigpipe_block(tt, &g);
		if (SSL_is_init_finished(tt->ssl))
			SSL_shutdown(tt->ssl);
		sigpipe_unblock(&g, true);
		ERR_clear_error();
		SSL_free(tt->ssl);
	}
	SSL_CTX_free(tt->ctx);
	transport_close(tt->tcp);
	OPENSSL_cleanse(tt->psk, sizeof tt->psk);
	free(tt->wbuf);
	free(tt->obuf);
	free(tt);
}

/* ---- connect: TCP, then the handshake ------------------------------------------ */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The reason of the last libssl error, in words. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown TLS error";
}

static int handshake_error(struct tls_transport *tt, int err, int timeout_ms)
{
	const char *peer = tt->t.peer;
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);

	if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN ||
	    reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		if (err == SSL_ERROR_SYSCALL && errno && errno != EPIPE && errno != ECONNRESET)
			return set_error(errno, "TLS handshake with %s failed: %s", peer,
					  strerror(errno));
		/* Linux nvmet with tlshd closes without an alert on a PSK it
		 * does not know, so this is the usual face of a wrong key. */
		return set_error(ECONNRESET, "TLS handshake with %s failed: the target "
				  "closed the connection (no PSK for identity '%s' "
				  "there: a wrong key, or the target derives the key "
				  "the other way: try --tls-psk-derivation %s)", peer,
				  tt->identity,
				  tt->deriv == TLS_DERIVE_COMPAT ? "rfc" : "compat");
	}
	if (err == -ETIMEDOUT)
		return set_error(ETIMEDOUT, "TLS handshake with %s failed: no answer "
				  "within %d ms", peer, timeout_ms);
	switch (reason) {
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
	case SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER:
	case SSL_R_TLSV1_ALERT_UNKNOWN_PSK_IDENTITY:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		if (tt->raw_psk)
			return set_error(EKEYREJECTED, "TLS handshake with %s failed: no PSK "
					  "matches identity '%s' (wrong TLS PSK in "
					  "--tls-psk-file, or one derived the other way) [%s]",
					  peer, tt->identity, ssl_reason());
		return set_error(EKEYREJECTED, "TLS handshake with %s failed: no PSK "
				  "matches identity '%s' (wrong key, or the target "
				  "derives the key the other way: try "
				  "--tls-psk-derivation %s) [%s]", peer, tt->identity,
				  tt->deriv == TLS_DERIVE_COMPAT ? "rfc" : "compat",
				  ssl_reason());
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_UNEXPECTED_MESSAGE:
	case SSL_R_UNEXPECTED_RECORD:
	case SSL_R_LENGTH_MISMATCH:
	case SSL_R_BAD_PACKET_LENGTH:
		return set_error(EPROTO, "TLS handshake with %s failed: the answer is "
				  "not TLS (%s): is the port an NVMe/TCP port with TLS?",
				  peer, ssl_reason());
	default:
		return set_error(EPROTO, "TLS handshake with %s failed: %s", peer,
				  ssl_reason());
	}
}

static int do_handshake(struct tls_transport *tt, int timeout_ms)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 10000);

	for (;;) {
		struct sigpipe_guard g;
		struct pollfd pfd = { .fd = transport_fd(tt->tcp) };
		int ok, err, n;
		int64_t left;

		ERR_clear_error();
		errno = 0;
		sigpipe_block(tt, &g);
		ok = SSL_connect(tt->ssl);
		err = ok == 1 ? SSL_ERROR_NONE : SSL_get_error(tt->ssl, ok);
		sigpipe_unblock(&g, ok != 1);
		if (ok == 1)
			return 0;
		if (err == SSL_ERROR_WANT_READ)
			pfd.events = POLLIN;
		else if (err == SSL_ERROR_WANT_WRITE)
			pfd.events = POLLOUT;
		else
			return handshake_error(tt, err, timeout_ms);
		left = deadline - mono_ms();
		if (left <= 0)
			return handshake_error(tt, -ETIMEDOUT, timeout_ms);
		do
			n = poll(&pfd, 1, (int)MIN(left, 1000000));
		while (n < 0 && errno == EINTR);
		if (n == 0)
			return handshake_error(tt, -ETIMEDOUT, timeout_ms);
		if (n < 0)
			return set_error(errno, "poll: %s", strerror(errno));
	}
}

static int tls_setup(struct tls_transport *tt, const struct tls_params *tp)
{
	const char *suite = tls_hash_cipher(tt->hash);
	struct sigaction sa;
	int rc;

	if (tp->psk) {
		/* derived elsewhere: only the version 0 identity, whose parts
		 * we know (version 1's digest needs the configured key) */
		rc = tls_identity(0, tt->hash, tp->hostnqn, tp->subnqn, NULL, tt->identity,
				  sizeof tt->identity);
		if (rc < 0)
			return rc;
		memcpy(tt->psk, tp->psk, tp->psk_len);
		tt->psk_len = tp->psk_len;
		tt->raw_psk = true;
	} else {
		rc = tls_derive(tp->key, tp->hostnqn, tp->subnqn, tp->identity_version,
				tp->derivation, tt->identity, sizeof tt->identity, tt->psk);
		if (rc < 0)
			return rc;
		tt->psk_len = (size_t)rc;
	}
	tt->deriv = tp->derivation;
	tt->sigpipe_ignored = sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
	pthread_once(&ex_once, ex_init);
	tt->ctx = SSL_CTX_new(TLS_client_method());
	if (!tt->ctx || ex_index < 0)
		return set_error(ENOMEM, "TLS: no SSL_CTX from OpenSSL: %s", ssl_reason());
	if (!SSL_CTX_set_min_proto_version(tt->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(tt->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(tt->ctx, suite))
		return set_error(EINVAL, "TLS: OpenSSL refuses TLS 1.3 with %s: %s", suite,
				  ssl_reason());
	/* No tickets to resume with, no early data, (EC)DHE with the PSK
	 * (psk_dhe_ke only: SSL_OP_ALLOW_NO_DHE_KEX stays off), kTLS when the
	 * kernel has it. */
	SSL_CTX_set_options(tt->ctx, SSL_OP_NO_TICKET | SSL_OP_ENABLE_KTLS |
			    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(tt->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_max_early_data(tt->ctx, 0);
	/* A certificate is never enough: with no trust anchors, verification
	 * fails, so only our PSK can authenticate the server. */
	SSL_CTX_set_verify(tt->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_psk_use_session_callback(tt->ctx, psk_use_session);
	SSL_CTX_set_mode(tt->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_read_ahead(tt->ctx, 1);
	SSL_CTX_set_default_read_buffer_len(tt->ctx, TLS_RBUF);
	tt->ssl = SSL_new(tt->ctx);
	if (!tt->ssl || !SSL_set_ex_data(tt->ssl, ex_index, tt) ||
	    !SSL_set_fd(tt->ssl, transport_fd(tt->tcp)))
		return set_error(ENOMEM, "TLS: no SSL from OpenSSL: %s", ssl_reason());
	return 0;
}

static int tls_t_connect(const struct transport_params *p, struct transport **out)
{
	struct tls_transport *tt;
	int rc;

	if (!p->tls || (!p->tls->key && !p->tls->psk))
		return set_error(EINVAL, "TLS: no key given");
	if (p->tls->psk && p->tls->identity_version != 0)
		return set_error(EINVAL, "TLS: a TLS PSK given already derived goes with "
				  "identity version 0 only (version 1 needs the configured key)");
	if (p->tls->psk && p->tls->psk_len != 32 && p->tls->psk_len != 48)
		return set_error(EINVAL, "TLS: a TLS PSK of %zu bytes (32 or 48)",
				  p->tls->psk_len);
	tt = calloc(1, sizeof *tt);
	if (!tt || !(tt->wbuf = malloc(TLS_WBUF))) {
		free(tt);
		return set_error(ENOMEM, "out of memory");
	}
	tt->t.ops = &transport_tls;
	tt->hash = p->tls->psk ? (p->tls->psk_len == 48 ? TLS_HASH_SHA384 : TLS_HASH_SHA256) :
		   tls_key_hash(p->tls->key);
	rc = transport_tcp.connect(p, &tt->tcp);
	if (rc < 0) {
		free(tt->wbuf);
		free(tt);
		return rc;
	}
	snprintf(tt->t.peer, sizeof tt->t.peer, "%s", tt->tcp->peer);
	rc = tls_setup(tt, p->tls);
	if (rc == 0) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = do_handshake(tt, p->timeout_ms);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		tt->handshake_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
				   (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	if (rc == 0 && (!SSL_session_reused(tt->ssl) ||
			SSL_version(tt->ssl) != TLS1_3_VERSION))
		rc = set_error(EKEYREJECTED, "TLS handshake with %s: the server did "
				"not authenticate with our PSK (identity '%s')",
				tt->t.peer, tt->identity);
	if (rc == 0)
		use_nosig_bio(tt);
	ERR_clear_error();
	if (rc < 0) {
		tls_t_close(&tt->t);
		return rc;
	}
	*out = &tt->t;
	return 0;
}

const struct transport_ops transport_tls = {
	.name = "tls",
	.connect = tls_t_connect,
	.sendv = tls_t_sendv,
	.recv = tls_t_recv,
	.shutdown = tls_t_shutdown,
	.fd = tls_t_fd,
	.local_addr = tls_t_local_addr,
	.close = tls_t_close,
};

int transport_tls_info(const struct transport *t, struct tls_info *info)
{
	const struct tls_transport *tt = (const struct tls_transport *)t;

	if (!t || t->ops != &transport_tls)
		return -EINVAL;
	info->version = SSL_get_version(tt->ssl);
	info->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(tt->ssl));
	info->identity = tt->identity;
	info->ktls_tx = BIO_get_ktls_send(SSL_get_wbio(tt->ssl)) > 0;
	info->ktls_rx = BIO_get_ktls_recv(SSL_get_rbio(tt->ssl)) > 0;
	info->handshake_ms = tt->handshake_ms;
	return 0;
}

/*
 * Read a secret file (a TLS key or PSK, @what names it in the errors) into
 * @buf, NUL-terminated: a regular file, not a symlink, that only its owner
 * may read or write.  Returns the bytes read or a negative errno.
 */
static ssize_t read_secret_file(const char *what, const char *path, char *buf,
				size_t size)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return set_error(errno, "TLS %s file %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return set_error(EINVAL, "TLS %s file %s: not a regular file", what, path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return set_error(EPERM, "TLS %s file %s: group or others may read or "
				  "write it (mode %04o): chmod 600 it", what, path,
				  (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return set_error(errno, "TLS %s file %s: %s", what, path, strerror(errno));
	buf[n] = 0;
	return n;
}

int tls_key_read_file(const char *path, struct tls_key *key)
{
	char buf[TLS_KEY_STR_MAX + 8];
	ssize_t n;
	int rc;

	n = read_secret_file("key", path, buf, sizeof buf);
	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	rc = tls_key_parse(buf, key);
	OPENSSL_cleanse(buf, sizeof buf);
	if (rc < 0)
		return set_error(-rc, "TLS key file %s: %s", path, nvmeof_get_error());
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int tls_psk_read_file(const char *path, uint8_t *psk)
{
	char buf[256], *p, *e;
	size_t n, len;
	ssize_t r;
	int rc = 0;

	r = read_secret_file("PSK", path, buf, sizeof buf);
	if (r < 0)
		return (int)r;
	p = buf;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	/* check-tls-key's line as it is: "TLS PSK (rfc): HEX" */
	if (!strncmp(p, "TLS PSK (", 9) && (e = strstr(p, "): ")))
		p = e + 3;
	n = strspn(p, "0123456789abcdefABCDEF");
	for (e = p + n; *e == ' ' || *e == '\t' || *e == '\n' || *e == '\r'; e++)
		;
	if (*e)
		rc = set_error(EINVAL, "TLS PSK file %s: '%c' at %zu is not a hex digit "
				"(the file holds the TLS PSK in hex, 64 or 96 digits)", path,
				*e, (size_t)(e - buf));
	else if (n != 64 && n != 96)
		rc = set_error(EINVAL, "TLS PSK file %s: %zu hex digits; a TLS PSK has 64 "
				"(SHA-256) or 96 (SHA-384)", path, n);
	len = n / 2;
	for (size_t i = 0; rc == 0 && i < len; i++)
		psk[i] = (uint8_t)(hexval(p[2 * i]) << 4 | hexval(p[2 * i + 1]));
	OPENSSL_cleanse(buf, sizeof buf);
	return rc < 0 ? rc : (int)len;
}

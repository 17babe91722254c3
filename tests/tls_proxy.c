/* SPDX-License-Identifier: MIT */
/*
 * tls_proxy: a TLS 1.3 PSK front for a plain NVMe/TCP target, for tests of
 * the host's TLS transport with real PDUs. Listens on 127.0.0.1 (port 0, the
 * port written to a file), accepts TLS 1.3 with one external PSK (the
 * identity and key given) and passes the bytes to and from TARGET_PORT on
 * 127.0.0.1, one thread per connection. Nothing but libssl does TLS.
 *
 *   tls_proxy PORT_FILE TARGET_PORT IDENTITY PSK_HEX [LISTEN_PORT]
 *
 * LISTEN_PORT (default 0: the kernel's choice) lets a test start a proxy
 * again where the one it killed listened.
 * SIGUSR1 drops every connection (both sides, no close_notify) and keeps
 * listening: a host must reconnect through a new handshake. Each completed
 * handshake prints "tls_proxy: handshake N" on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *identity;
static unsigned char psk[64];
static size_t psk_len;
static int target_port;

/* Live connections' sockets, for SIGUSR1. */
#define MAX_LIVE 256
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static int live[MAX_LIVE];
static unsigned handshakes;

static void live_set(int fd, bool add)
{
	pthread_mutex_lock(&live_lock);
	for (int i = 0; i < MAX_LIVE; i++)
		if (add ? live[i] == 0 : live[i] == fd + 1) {
			live[i] = add ? fd + 1 : 0;
			break;
		}
	pthread_mutex_unlock(&live_lock);
}

static void *dropper(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		pthread_mutex_lock(&live_lock);
		for (int i = 0; i < MAX_LIVE; i++)
			if (live[i])
				shutdown(live[i] - 1, SHUT_RDWR);
		pthread_mutex_unlock(&live_lock);
		fprintf(stderr, "tls_proxy: dropped the connections\n");
	}
	return NULL;
}

static int find_session(SSL *ssl, const unsigned char *id, size_t idlen,
			SSL_SESSION **sessp)
{
	static const unsigned char aes128[] = { 0x13, 0x01 }, aes256[] = { 0x13, 0x02 };
	SSL_SESSION *s;

	*sessp = NULL;
	if (idlen != strlen(identity) || memcmp(id, identity, idlen)) {
		fprintf(stderr, "tls_proxy: unknown identity '%.*s'\n", (int)idlen, id);
		return 1; /* no PSK for it */
	}
	s = SSL_SESSION_new();
	if (!s || !SSL_SESSION_set1_master_key(s, psk, psk_len) ||
	    !SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, psk_len == 48 ? aes256 : aes128)) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return 0;
	}
	*sessp = s;
	return 1;
}

struct conn {
	SSL_CTX *ctx;
	int fd;
};

static void *serve(void *arg)
{
	struct conn *c = arg;
	SSL *ssl = SSL_new(c->ctx);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)target_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int t = -1, one = 1;
	char buf[65536];

	live_set(c->fd, true);
	if (!ssl || !SSL_set_fd(ssl, c->fd) || SSL_accept(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		goto out;
	}
	pthread_mutex_lock(&live_lock);
	fprintf(stderr, "tls_proxy: handshake %u\n", ++handshakes);
	pthread_mutex_unlock(&live_lock);
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (t < 0 || connect(t, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("tls_proxy: connect to the target");
		goto out;
	}
	live_set(t, true);
	setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = t, .events = POLLIN } };
		ssize_t n;

		if (!SSL_pending(ssl) && poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (SSL_pending(ssl) || p[0].revents) {
			int r = SSL_read(ssl, buf, sizeof buf);
			if (r <= 0)
				break;
			for (ssize_t off = 0; off < r; off += n) {
				n = write(t, buf + off, (size_t)(r - off));
				if (n <= 0)
					goto out;
			}
		}
		if (p[1].revents) {
			n = read(t, buf, sizeof buf);
			if (n <= 0 || SSL_write(ssl, buf, (int)n) <= 0)
				break;
		}
	}
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (t >= 0) {
		live_set(t, false);
		close(t);
	}
	live_set(c->fd, false);
	close(c->fd);
	free(c);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	SSL_CTX *ctx;
	FILE *f;
	int lfd, one = 1;

	if ((argc != 5 && argc != 6) || strlen(argv[4]) % 2 || strlen(argv[4]) > 2 * sizeof psk) {
		fprintf(stderr, "usage: tls_proxy PORT_FILE TARGET_PORT IDENTITY PSK_HEX "
			"[LISTEN_PORT]\n");
		return 64;
	}
	if (argc == 6)
		a.sin_port = htons((uint16_t)atoi(argv[5]));
	static sigset_t usr1;
	pthread_t drop_tid;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (pthread_create(&drop_tid, NULL, dropper, &usr1) != 0)
		return 71;
	/* Never outlive the test that started it, even when that one crashed. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 0;
	target_port = atoi(argv[2]);
	identity = argv[3];
	for (psk_len = 0; psk_len < strlen(argv[4]) / 2; psk_len++) {
		unsigned v;
		if (sscanf(argv[4] + 2 * psk_len, "%2x", &v) != 1)
			return 64;
		psk[psk_len] = (unsigned char)v;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, psk_len == 48 ? "TLS_AES_256_GCM_SHA384" :
				      "TLS_AES_128_GCM_SHA256"))
		return 70;
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_psk_find_session_callback(ctx, find_session);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &l) < 0) {
		perror("tls_proxy: listen");
		return 71;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f)
		return 73;
	fprintf(f, "%u\n", ntohs(a.sin_port));
	if (fclose(f) != 0 || rename(tmp, argv[1]) != 0)
		return 73;
	for (;;) {
		struct conn *c = malloc(sizeof *c);
		pthread_t tid;

		if (!c)
			return 71;
		c->ctx = ctx;
		c->fd = accept(lfd, NULL, NULL);
		if (c->fd < 0) {
			free(c);
			continue;
		}
		if (pthread_create(&tid, NULL, serve, c) != 0) {
			close(c->fd);
			free(c);
			continue;
		}
		pthread_detach(tid);
	}
}

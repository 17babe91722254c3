/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP on a queue of the host: after Connect, when the controller
 * asks for it (Connect response AUTHREQ.ATR), run one transaction with
 * Fabrics Authentication Send (05h) and Receive (06h): Negotiate ->
 * Challenge -> Reply -> Success1 [-> Success2]. The messages and the
 * computations are lib/auth.c's; this file only moves them.
 *
 * The secrets come from struct nvmeof_opts (DHHC-1 strings, or files that
 * hold one) and are read again for every queue, so that nothing but the
 * caller's own copy stays in memory between connects; what is read is
 * wiped after use.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "host.h"

#define AUTH_RECV_LEN 4096 /* as Linux: enough for ffdhe8192 */

/* The secret in a file: one DHHC-1 line. Refused when group or others may
 * read it (as ssh does with a private key). */
static int read_secret_file(const char *path, char *buf, size_t len)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return set_error(errno, "DH-HMAC-CHAP secret file %s: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return set_error(EINVAL, "DH-HMAC-CHAP secret file %s: not a "
				  "regular file", path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return set_error(EPERM, "DH-HMAC-CHAP secret file %s is accessible "
				  "by group or others (mode %03o): chmod 600 it",
				  path, (unsigned)(st.st_mode & 0777));
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return set_error(errno, "DH-HMAC-CHAP secret file %s: %s", path,
				  strerror(errno));
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	return 0;
}

/* Parse the secret given as a string or a file (not both); 0 with
 * key->len == 0 when neither is given. */
static int load_key(const char *str, const char *file, const char *what,
		    struct dhchap_key *key)
{
	char buf[256];
	int rc;

	memset(key, 0, sizeof *key);
	if (str && file)
		return set_error(EINVAL, "give the %s secret or its file, not both", what);
	if (file) {
		rc = read_secret_file(file, buf, sizeof buf);
		if (rc < 0)
			return rc;
		str = buf;
	}
	if (!str)
		return 0;
	rc = dhchap_key_parse(str, key);
	OPENSSL_cleanse(buf, sizeof buf);
	if (rc < 0)
		return set_error(-rc, "%s secret%s%s: %s", what, file ? " in " : "",
				  file ? file : "", nvmeof_get_error());
	return 0;
}

static int auth_xfer(struct nvmeof_ctrl *c, struct queue *q, bool send,
		     void *buf, uint32_t len)
{
	struct nvme_sqe sqe;
	uint8_t *b = (uint8_t *)&sqe;

	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = NVME_FABRICS_COMMAND;
	b[NVMF_SQE_FCTYPE] = send ? NVMF_FCTYPE_AUTH_SEND : NVMF_FCTYPE_AUTH_RECV;
	b[41] = DHCHAP_SPSP0;
	b[42] = DHCHAP_SPSP1;
	b[43] = DHCHAP_SECP;
	le32_put(b + 44, len); /* TL (send) / AL (receive) */
	return queue_sync_cmd(q, &sqe, buf, len, send ? REQ_TO_CTRL : REQ_TO_HOST,
			      NULL, NULL, c->opts.connect_timeout_ms);
}

static _Atomic uint16_t next_tid;
/* The last auth_queue() of this thread failed because of the secrets (the
 * controller refused us, we refused it, or no secret): a reconnect cannot
 * do better. */
static __thread bool rejected;

bool auth_rejected(void)
{
	return rejected;
}

int auth_queue(struct nvmeof_ctrl *c, struct queue *q, uint32_t authreq)
{
	static const char *const step[] = { "AUTH_Negotiate", "DH-HMAC-CHAP_Challenge",
					    "DH-HMAC-CHAP_Reply", "DH-HMAC-CHAP_Success1",
					    "DH-HMAC-CHAP_Success2" };
	struct dhchap_key hk, ck;
	struct dhchap_host h;
	uint8_t *in = NULL, out[DHCHAP_MSG_MAX];
	int rc, n, st = 0;

	rejected = false;
	rc = load_key(c->opts.dhchap_secret, c->opts.dhchap_secret_file, "host", &hk);
	if (rc == 0)
		rc = load_key(c->opts.dhchap_ctrl_secret, c->opts.dhchap_ctrl_secret_file,
			      "controller", &ck);
	if (rc < 0)
		goto out;
	if (authreq & DHCHAP_CONNECT_ASCR) {
		rc = set_error(EPROTONOSUPPORT, "%s: the subsystem requires a secure "
				"channel (TLS) negotiated by authentication: not "
				"supported", q->conn->peer);
		goto out;
	}
	if (!(authreq & DHCHAP_CONNECT_ATR)) {
		if (ck.len)
			rc = set_error(EACCES, "%s: a controller secret was given but "
					"the controller does not authenticate (no AUTHREQ "
					"in the Connect response of queue %u)",
					q->conn->peer, q->qid);
		goto out;
	}
	if (!hk.len) {
		rc = set_error(EACCES, "%s: the subsystem requires authentication "
				"(DH-HMAC-CHAP): give --dhchap-secret", q->conn->peer);
		goto out;
	}
	in = malloc(AUTH_RECV_LEN);
	if (!in) {
		rc = set_error(ENOMEM, "out of memory");
		goto out;
	}
	rc = dhchap_host_init(&h, c->hostnqn, c->subnqn, &hk, ck.len ? &ck : NULL,
			      atomic_fetch_add(&next_tid, 1));
	if (rc < 0)
		goto out;
	n = dhchap_host_negotiate(&h, out, sizeof out);
	while (n >= 0) {
		rc = auth_xfer(c, q, true, out, (uint32_t)n);
		if (rc < 0 || h.state == DHCHAP_HOST_DONE)
			break;
		st++;
		memset(in, 0, AUTH_RECV_LEN);
		rc = auth_xfer(c, q, false, in, AUTH_RECV_LEN);
		if (rc < 0)
			break;
		st++;
		if (h.state == DHCHAP_HOST_CHALLENGE)
			n = dhchap_host_challenge(&h, in, AUTH_RECV_LEN, out, sizeof out);
		else
			n = dhchap_host_success1(&h, in, AUTH_RECV_LEN, out, sizeof out);
		if (n == 0 && h.state == DHCHAP_HOST_DONE)
			break; /* unidirectional: nothing more to send */
	}
	if (rc < 0 && st == 3 && !nvmeof_last_status()) {
		/* Linux nvmet tears the association down as it sends Failure1
		 * and the connection may close before the Failure1 is out. */
		rc = set_error(EACCES, "%s: queue %u: authentication failed: the "
				"controller closed the connection instead of answering "
				"the host's response: wrong host secret? (%s)",
				q->conn->peer, q->qid, nvmeof_get_error());
	} else if (rc < 0) {
		rc = set_error(-rc, "%s: queue %u: authentication: %s failed: %s",
				q->conn->peer, q->qid, step[MIN(st, 4)], nvmeof_get_error());
	} else if (n < 0) {
		char msg[512];

		rc = n;
		snprintf(msg, sizeof msg, "%s", nvmeof_get_error());
		if (!h.failure1 && h.state == DHCHAP_HOST_FAILED) {
			/* Tell the controller why; its answer does not matter. */
			int f = dhchap_host_failure2(&h, out, sizeof out);
			if (f > 0)
				auth_xfer(c, q, true, out, (uint32_t)f);
		}
		rc = set_error(-rc, "%s: queue %u: %s%s", q->conn->peer, q->qid,
				rc == -EACCES ? "" : "authentication: ", msg);
	} else {
		rc = 0;
	}
	dhchap_host_wipe(&h);
out:
	rejected = rc == -EACCES;
	free(in);
	dhchap_key_wipe(&hk);
	dhchap_key_wipe(&ck);
	return rc;
}

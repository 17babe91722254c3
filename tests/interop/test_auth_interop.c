/*
 * Interop: DH-HMAC-CHAP in-band authentication of libnvmeof against the
 * Linux 6.12 kernel's nvmet in QEMU. Run through run-auth-interop.sh, which
 * boots the guest (NVMEOF_VM_KERNEL=6.12) with AUTH_SUB: namespace 1, 8 MiB
 * of the known pattern, no host allowed yet. Each test gives its own host
 * NQN a secret in nvmet's configfs (host_auth_add, subsys_allow_host), then
 * connects with libnvmeof and reads the pattern, or expects the refusal.
 * Namespace 2 (8 MiB of zeroes) is written by the verified-write test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "interop_io.h"
#include "nvmeof.h"

#define AUTH_SUB "nqn.2026-11.org.example:linux-nvmet-auth"
#define HOST_PREFIX "nqn.2014-08.org.nvmexpress:uuid:6e766d65-6f66-4000-8000-0000000000"

static int guest(const char *cmd)
{
	const char *vm = getenv("NVMEOF_INTEROP_VM");
	const char *st = getenv("NVMEOF_INTEROP_STATE");
	char buf[2048];

	cr_assert(vm && st, "run through run-auth-interop.sh");
	snprintf(buf, sizeof buf, "'%s' exec '%s' \"%s\"", vm, st, cmd);
	return system(buf);
}

static void new_key(unsigned hmac, unsigned len, char *out)
{
	struct dhchap_key k;

	cr_assert_eq(dhchap_key_generate(&k, hmac, len), 0);
	cr_assert_gt(dhchap_key_format(&k, out, DHCHAP_KEY_STR_MAX), 0);
	dhchap_key_wipe(&k);
}

/* The guest knows host NQN HOST_PREFIX<id> with these secrets. */
static void allow(const char *id, const char *hk, const char *ck, const char *hash,
		  const char *dh)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd,
		 "host_auth_add %s%s '%s' '%s' %s %s && subsys_allow_host %s %s%s",
		 HOST_PREFIX, id, hk, ck ? ck : "-", hash, dh, AUTH_SUB, HOST_PREFIX, id);
	cr_assert_eq(guest(cmd), 0, "guest: %s", cmd);
}

static void opts(struct nvmeof_opts *o, const char *id, char *hostnqn)
{
	const char *port = getenv("NVMEOF_INTEROP_PORT");

	cr_assert(port, "NVMEOF_INTEROP_PORT not set: run via run-auth-interop.sh");
	sprintf(hostnqn, "%s%s", HOST_PREFIX, id);
	nvmeof_opts_init(o);
	o->traddr = "127.0.0.1";
	o->trsvcid = port;
	o->subnqn = AUTH_SUB;
	o->hostnqn = hostnqn;
	o->connect_timeout_ms = 30000;
}

static bool failed(const struct nvmeof_ctrl_status *st)
{
	return !strcmp(st->state, "failed");
}

/* Connect with the given secrets, read the pattern, disconnect. */
static void good(const char *id, const char *hk, const char *ck, int nr_io)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256];

	opts(&o, id, hostnqn);
	o.dhchap_secret = hk;
	o.dhchap_ctrl_secret = ck;
	o.nr_io_queues = nr_io;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	cr_assert_eq(nvmeof_ctrl_nr_io_queues(c), nr_io);
	read_pattern(c, 0);
	read_pattern(c, 4 * 1024 * 1024);
	cr_assert_eq(nvmeof_disconnect(c), 0, "%s", nvmeof_get_error());
}

static void bad(const char *id, const char *hk, const char *ck, int want_errno,
		const char *why)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256];

	opts(&o, id, hostnqn);
	o.dhchap_secret = hk;
	o.dhchap_ctrl_secret = ck;
	cr_assert_neq(nvmeof_connect(&o, &c), 0, "connected (%s expected)", why);
	cr_log_info("%s", nvmeof_get_error());
	cr_expect_eq(nvmeof_get_errno(), want_errno, "%s", nvmeof_get_error());
	cr_expect(strstr(nvmeof_get_error(), why), "'%s' lacks '%s'", nvmeof_get_error(),
		  why);
}

Test(auth, unidirectional_sha256_null)
{
	char hk[DHCHAP_KEY_STR_MAX];

	new_key(1, 32, hk);
	allow("b1", hk, NULL, "sha256", "null");
	good("b1", hk, NULL, 1);
}

Test(auth, unidirectional_sha384_ffdhe2048)
{
	char hk[DHCHAP_KEY_STR_MAX];

	new_key(0, 48, hk);
	allow("b2", hk, NULL, "sha384", "ffdhe2048");
	good("b2", hk, NULL, 1);
}

Test(auth, bidirectional_sha512_ffdhe8192, .timeout = 300)
{
	char hk[DHCHAP_KEY_STR_MAX], ck[DHCHAP_KEY_STR_MAX];

	new_key(3, 64, hk);
	new_key(2, 48, ck);
	allow("b3", hk, ck, "sha512", "ffdhe8192");
	good("b3", hk, ck, 1);
}

/* Every I/O queue authenticates too (nvmet refuses an unauthenticated
 * queue's commands). */
Test(auth, bidirectional_sha256_ffdhe3072_three_queues, .timeout = 300)
{
	char hk[DHCHAP_KEY_STR_MAX], ck[DHCHAP_KEY_STR_MAX];

	new_key(0, 32, hk);
	new_key(1, 32, ck);
	allow("b4", hk, ck, "sha256", "ffdhe3072");
	good("b4", hk, ck, 3);
}

Test(auth, secret_files)
{
	char hk[DHCHAP_KEY_STR_MAX], path[] = "/tmp/nvmeof-auth-XXXXXX";
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256];
	int fd;

	new_key(0, 32, hk);
	allow("b5", hk, NULL, "sha256", "null");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, hk, strlen(hk)), (ssize_t)strlen(hk));
	cr_assert_eq(write(fd, "\n", 1), 1);
	close(fd);
	opts(&o, "b5", hostnqn);
	o.dhchap_secret_file = path;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	read_pattern(c, 0);
	cr_assert_eq(nvmeof_disconnect(c), 0);
	/* A file others may read is refused before anything is sent. */
	chmod(path, 0640);
	cr_assert_neq(nvmeof_connect(&o, &c), 0);
	cr_expect(strstr(nvmeof_get_error(), "accessible by group or others"), "%s",
		  nvmeof_get_error());
	unlink(path);
}

Test(auth, no_secret)
{
	char hk[DHCHAP_KEY_STR_MAX];

	new_key(0, 32, hk);
	allow("b6", hk, NULL, "sha256", "null");
	bad("b6", NULL, NULL, EACCES,
	    "the subsystem requires authentication (DH-HMAC-CHAP): give --dhchap-secret");
}

Test(auth, wrong_host_secret)
{
	char hk[DHCHAP_KEY_STR_MAX], other[DHCHAP_KEY_STR_MAX];

	new_key(1, 32, hk);
	new_key(1, 32, other);
	allow("b7", hk, NULL, "sha256", "ffdhe2048");
	/* nvmet answers with Failure1, or closes the connection as it sends
	 * it (it ends the association at the same time): either way, this. */
	bad("b7", other, NULL, EACCES, "wrong host secret?");
	cr_expect(strstr(nvmeof_get_error(), "authentication failed: the controller "
			 "rejected the host's response") ||
		  strstr(nvmeof_get_error(), "authentication failed: the controller "
			 "closed the connection instead of answering the host's response"),
		  "%s", nvmeof_get_error());
}

Test(auth, wrong_controller_secret)
{
	char hk[DHCHAP_KEY_STR_MAX], ck[DHCHAP_KEY_STR_MAX], other[DHCHAP_KEY_STR_MAX];

	new_key(0, 32, hk);
	new_key(0, 32, ck);
	new_key(0, 32, other);
	allow("b8", hk, ck, "sha256", "null");
	bad("b8", hk, other, EACCES,
	    "the controller failed our check (bidirectional): wrong controller secret?");
}

/* A reconnect authenticates again: nvmeof_ctrl_reconnect, then reads. */
Test(auth, reconnect_reauthenticates, .timeout = 300)
{
	char hk[DHCHAP_KEY_STR_MAX], ck[DHCHAP_KEY_STR_MAX];
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256];

	new_key(2, 48, hk);
	new_key(0, 32, ck);
	allow("b9", hk, ck, "sha384", "ffdhe2048");
	opts(&o, "b9", hostnqn);
	o.dhchap_secret = hk;
	o.dhchap_ctrl_secret = ck;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	read_pattern(c, 0);
	cr_assert_eq(nvmeof_ctrl_reconnect(c, NULL, NULL), 0, "%s", nvmeof_get_error());
	/* A read meanwhile waits for the reconnect (I/O is parked). */
	read_pattern(c, 1024 * 1024);
	wait_status(c, &st, reconnected, "reconnected");
	read_pattern(c, 2 * 1024 * 1024);
	cr_assert_eq(nvmeof_disconnect(c), 0);
}

/* The controller's secret for us changes while we are connected: the next
 * reconnect is refused, and the association ends with that reason at once
 * instead of retrying until ctrl_loss_tmo. */
Test(auth, rejected_reconnect_ends_the_association, .timeout = 300)
{
	char hk[DHCHAP_KEY_STR_MAX], other[DHCHAP_KEY_STR_MAX];
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256];
	static uint8_t b[LBA];

	new_key(0, 32, hk);
	new_key(0, 32, other);
	allow("ba", hk, NULL, "sha256", "null");
	opts(&o, "ba", hostnqn);
	o.dhchap_secret = hk;
	o.ctrl_loss_tmo = 600;
	o.reconnect_delay = 1;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	read_pattern(c, 0);
	allow("ba", other, NULL, "sha256", "null");
	cr_assert_eq(nvmeof_ctrl_reconnect(c, NULL, NULL), 0, "%s", nvmeof_get_error());
	/* The reconnect fails for good: no second attempt. */
	wait_status(c, &st, failed, "failed");
	cr_expect_leq(st.attempts, 1, "attempts %u", st.attempts);
	cr_expect_eq(st.attempts_total, 1, "attempts %u", st.attempts_total);
	cr_assert_neq(nvmeof_read(c, 1, 0, 1, b), 0, "read after a refused reconnect");
	cr_log_info("%s", st.last_error);
	nvmeof_disconnect(c);
}

/* The port goes away for 2 s (nvmet tears the association down): the
 * library reconnects by itself, every queue authenticates again, and reads
 * go on. */
Test(auth, port_drop_reauthenticates, .timeout = 300)
{
	char hk[DHCHAP_KEY_STR_MAX], ck[DHCHAP_KEY_STR_MAX];
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256];

	new_key(1, 32, hk);
	new_key(0, 48, ck);
	allow("bb", hk, ck, "sha256", "ffdhe2048");
	opts(&o, "bb", hostnqn);
	o.dhchap_secret = hk;
	o.dhchap_ctrl_secret = ck;
	o.nr_io_queues = 2;
	o.kato_ms = 2000;
	o.reconnect_delay = 1;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	read_pattern(c, 0);
	cr_assert_eq(guest("port_drop 2"), 0);
	read_pattern(c, 2 * 1024 * 1024);
	wait_status(c, &st, reconnected, "reconnected");
	read_pattern(c, 6 * 1024 * 1024);
	cr_assert_eq(nvmeof_disconnect(c), 0);
}

/* Several threads write and verify, as fio --verify does, across a port
 * unlink/link: writes before, while the port is gone (parked until the
 * association is back, authenticated again on every queue) and after;
 * every block read back at once and again at the end holds what was last
 * written to it. */
Test(auth, port_unlink_link_verified_writes, .timeout = 300)
{
	char hk[DHCHAP_KEY_STR_MAX], ck[DHCHAP_KEY_STR_MAX];
	static struct vw v[VW_THREADS];
	pthread_t th[VW_THREADS];
	struct nvmeof_ctrl_status st;
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	char hostnqn[256];
	unsigned before[VW_THREADS];

	new_key(2, 48, hk);
	new_key(1, 32, ck);
	allow("bc", hk, ck, "sha512", "ffdhe3072");
	opts(&o, "bc", hostnqn);
	o.dhchap_secret = hk;
	o.dhchap_ctrl_secret = ck;
	o.nr_io_queues = 2;
	o.kato_ms = 2000;
	o.reconnect_delay = 1;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "connect: %s", nvmeof_get_error());
	vw_start(v, th, c);
	for (unsigned t = 0; t < VW_THREADS; t++)
		before[t] = atomic_load(&v[t].ops);
	/* the threads go on writing while the port is away for 2 s */
	cr_assert_eq(guest("port_unlink " AUTH_SUB " && sleep 2 && port_link " AUTH_SUB), 0);
	wait_status(c, &st, reconnected, "reconnected");
	vw_more(v, "after the reconnect");
	vw_stop(v, th);
	nvmeof_ctrl_status(c, &st);
	cr_log_info("reconnects %u; verified writes per thread: %u before the drop, %u in all",
		    st.reconnects, before[0], atomic_load(&v[0].ops));
	/* everything written reads back once more, the last generation */
	vw_check_last(v, c);
	cr_assert_eq(nvmeof_disconnect(c), 0);
}

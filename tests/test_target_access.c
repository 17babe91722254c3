/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target access control (as Linux nvmet's allowed_hosts and
 * attr_allow_any_host): who may connect, from the command line, the
 * configuration file and the control socket; what the discovery log shows
 * each host; SPDK's empty Host NQN; the control socket's mode.  Raw
 * NVMe/TCP from tests/raw_host.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raw_host.h"

#define OTHER "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-0000000000bb"
#define SUB2 "nqn.2026-11.org.example:raw-test-2"
#define ST_INVALID_HOST \
	(NVME_SF(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_HOST) | \
	 NVME_SF_DNR_BIT)

static void no_setup(void)
{
	memset(&T, 0, sizeof T);
}

TestSuite(access, .init = no_setup, .fini = teardown, .timeout = 60);

/* How many lines of the target's stderr hold text. */
static int log_count(const char *text)
{
	char line[2048];
	FILE *f = fopen(T.t.err, "r");
	int n = 0;

	cr_assert_not_null(f, "%s", T.t.err);
	while (fgets(line, sizeof line, f))
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/* A Connect of an admin queue as hostnqn; its status. */
static uint16_t try_connect(const char *subnqn, const char *hostnqn)
{
	struct rc c;
	uint64_t res = 0;
	uint16_t st;

	rc_init(&c, false, false, NULL);
	st = rc_connect_host(&c, subnqn, hostnqn, 0, NVMF_CNTLID_DYNAMIC, 0,
			     &res);
	close(c.fd);
	return st;
}

/* SPDK's identify and perf (v23.01) send an empty Host NQN unless given
 * one: exactly that Connect, Connect data with a zero hostnqn field. */
Test(access, empty_host_nqn_is_any_host)
{
	struct rc c, io;
	uint64_t res = 0;
	uint8_t buf[BS];

	start_target(NULL, NULL);
	rc_init(&c, false, false, NULL);
	cr_assert_eq(rc_connect_host(&c, NQN, "", 0, NVMF_CNTLID_DYNAMIC, 0,
				     &res), 0, "empty Host NQN, any host allowed");
	c.cntlid = (uint16_t)res;
	enable(&c);
	/* an I/O queue of that association, and I/O on it */
	rc_init(&io, false, false, NULL);
	cr_assert_eq(rc_connect_host(&io, NQN, "", 1, c.cntlid, 0, &res), 0);
	fill(buf, BS, 3);
	cr_expect_eq(rw(&io, NVME_NVM_WRITE, 1, 0, 1, buf, X_INCAPSULE), 0);
	close(io.fd);
	close(c.fd);
	cr_expect_eq(try_connect(NQN, ""), 0);
	cr_expect_eq(log_count("empty host NQN"), 1, "the warning, once");

	/* Once hosts are listed, an empty Host NQN matches none of them. */
	cr_assert_str_eq(control("host-add " NQN " " HOSTNQN), "ok\n");
	cr_expect_eq(try_connect(NQN, ""), ST_INVALID_HOST);
	cr_expect_eq(try_connect(NQN, HOSTNQN), 0);
	finish();
}

Test(access, allow_host_on_the_command_line)
{
	const char *args[] = { "--allow-host", HOSTNQN, "-n", SUB2, "--ns",
			       "ram:1M", NULL };
	struct rc c;
	uint64_t res = 0;

	start_target_args(args);
	cr_expect_eq(try_connect(NQN, HOSTNQN), 0);
	rc_init(&c, false, false, NULL);
	cr_expect_eq(rc_connect_host(&c, NQN, OTHER, 0, NVMF_CNTLID_DYNAMIC, 0,
				     &res), ST_INVALID_HOST, "SCT 1h SC 84h");
	close(c.fd);
	cr_expect_eq(log_count("host '" OTHER "' is not allowed on " NQN), 1,
		     "the target says who it refused");
	cr_expect_eq(try_connect(NQN, ""), ST_INVALID_HOST);
	/* --allow-host binds to the subsystem of the -n before it (here
	 * the first); the second allows any host */
	cr_expect_eq(try_connect(SUB2, OTHER), 0);
	cr_expect_eq(try_connect(SUB2, ""), 0);
	cr_expect(strstr(control("hosts"), "subsystem " NQN
				 " allowed hosts:\n  host " HOSTNQN "\n"
				 "subsystem " SUB2 " allow-any-host\n"),
		  "%s", control("hosts"));
	finish();
}

Test(access, control_socket_hosts)
{
	struct rc c, io;
	char cmd[600], *r;
	uint8_t buf[BS];
	struct stat st;

	start_target(NULL, NULL);
	cr_assert_eq(stat(T.t.ctl, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "control socket mode %o",
		     st.st_mode & 0777);

	/* an association of OTHER, live when the list starts */
	rc_init(&c, false, false, NULL);
	cr_assert_eq(rc_connect_host(&c, NQN, OTHER, 0, NVMF_CNTLID_DYNAMIC, 0,
				     NULL), 0);
	cr_assert_eq(control("hosts " NQN) != NULL, 1);
	cr_expect_str_eq(control("hosts " NQN),
			 "subsystem " NQN " allow-any-host\nok\n");
	cr_assert_str_eq(control("host-add " NQN " " HOSTNQN), "ok\n");
	/* OTHER's association ended: the connection closes */
	cr_expect_eq(rc_recv(&c, buf, 1), -1, "OTHER's association ended");
	close(c.fd);
	cr_expect_eq(try_connect(NQN, OTHER), ST_INVALID_HOST);
	r = control("host-add " NQN " " HOSTNQN);
	cr_expect(strstr(r, "error: host " HOSTNQN " is already allowed"), "%s", r);
	r = control("host-add " NQN " not-an-nqn");
	cr_expect(strstr(r, "error: host NQN 'not-an-nqn'"), "%s", r);
	r = control("host-add nqn.2026-11.org.example:none " HOSTNQN);
	cr_expect(strstr(r, "error: no subsystem"), "%s", r);
	r = control("host-add " NQN " " OTHER " dhchap-key=DHHC-1:00:xx:");
	cr_expect(strstr(r, "error: dhchap-key: DH-HMAC-CHAP secret"), "%s", r);
	r = control("host-add " NQN " " OTHER " colour=blue");
	cr_expect(strstr(r, "error: unknown host option 'colour'"), "%s", r);
	cr_expect_eq(try_connect(NQN, OTHER), ST_INVALID_HOST, "not added");

	/* HOSTNQN works; removing it ends its association */
	admin_up(&c, NQN, false, false, 0);
	io_up(&io, &c, 1);
	snprintf(cmd, sizeof cmd, "host-remove %s %s", NQN, HOSTNQN);
	cr_assert_str_eq(control(cmd), "ok\n");
	cr_expect_eq(rc_recv(&io, buf, 1), -1, "the I/O queue closed");
	close(io.fd);
	close(c.fd);
	cr_expect_str_eq(control("hosts " NQN),
			 "subsystem " NQN " no host allowed\nok\n");
	cr_expect_eq(try_connect(NQN, HOSTNQN), ST_INVALID_HOST);
	r = control(cmd);
	cr_expect(strstr(r, "error: host " HOSTNQN " is not listed"), "%s", r);
	cr_assert_str_eq(control("allow-any-host " NQN " yes"), "ok\n");
	cr_expect_eq(try_connect(NQN, OTHER), 0);
	r = control("allow-any-host " NQN " maybe");
	cr_expect(strstr(r, "error: usage"), "%s", r);
	finish();
}

/* The discovery log shows a host only the subsystems it may connect to. */
static uint64_t disc_entries(const char *hostnqn, char names[][NVMF_NQN_SIZE])
{
	static uint8_t b[8192];
	struct rc c;
	uint64_t res = 0, n;

	rc_init(&c, false, false, NULL);
	cr_assert_eq(rc_connect_host(&c, NVMF_DISCOVERY_NQN, hostnqn, 0,
				     NVMF_CNTLID_DYNAMIC, 0, &res), 0,
		     "discovery is open to every host");
	enable(&c);
	cr_assert_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 0, b, sizeof b), 0);
	n = le64toh(((struct nvmf_disc_log_hdr *)b)->numrec);
	cr_assert_leq(n, 7);
	for (uint64_t i = 0; i < n; i++) {
		const char *nqn = ((struct nvmf_disc_log_entry *)(b + 1024 * (i + 1)))->subnqn;

		memcpy(names[i], nqn, NVMF_NQN_SIZE - 1);
		names[i][NVMF_NQN_SIZE - 1] = '\0';
	}
	cr_expect(all_zero(b + 1024 * (n + 1), sizeof b - 1024 * (n + 1)),
		  "nothing past the last entry");
	close(c.fd);
	return n;
}

Test(access, discovery_log_per_host)
{
	const char *args[] = { "-n", SUB2, "--ns", "ram:1M", "--allow-host",
			       OTHER, NULL };
	char names[8][NVMF_NQN_SIZE];

	start_target_args(args);
	cr_assert_eq(disc_entries(OTHER, names), 2);
	cr_expect_str_eq(names[0], NQN);
	cr_expect_str_eq(names[1], SUB2);
	cr_assert_eq(disc_entries(HOSTNQN, names), 1);
	cr_expect_str_eq(names[0], NQN);
	cr_assert_eq(disc_entries("", names), 1);
	cr_assert_str_eq(control("host-add " NQN " " OTHER), "ok\n");
	cr_assert_eq(disc_entries(HOSTNQN, names), 0);
	cr_assert_eq(disc_entries(OTHER, names), 2);
	finish();
}

Test(access, config_file_allow_host_and_reload)
{
	char cfg[200], text[1024], *r;
	const char *args[] = { "-c", cfg, NULL };

	memset(&T, 0, sizeof T);
	start_target(NULL, NULL); /* makes T.dir */
	cr_assert_eq(stop_target(), 0);
	snprintf(cfg, sizeof cfg, "%s/cfg", T.dir);
	snprintf(text, sizeof text,
		 "subsystem %s\n ns 1 ram:1M\n allow-host %s\n allow-host %s\n",
		 SUB2, HOSTNQN, OTHER);
	write_cfg(text);
	start_target_args(args);
	cr_expect_eq(try_connect(SUB2, HOSTNQN), 0);
	cr_expect_eq(try_connect(SUB2, OTHER), 0);
	cr_expect_eq(try_connect(SUB2, "nqn.2014-08.org.example:third"),
		     ST_INVALID_HOST);
	/* reload: OTHER alone */
	snprintf(text, sizeof text, "subsystem %s\n ns 1 ram:1M\n allow-host %s\n",
		 SUB2, OTHER);
	write_cfg(text);
	cr_assert_str_eq(control("reload"), "ok\n");
	cr_expect_eq(try_connect(SUB2, HOSTNQN), ST_INVALID_HOST);
	cr_expect_eq(try_connect(SUB2, OTHER), 0);
	/* no allow-host line: any host again */
	snprintf(text, sizeof text, "subsystem %s\n ns 1 ram:1M\n", SUB2);
	write_cfg(text);
	cr_assert_str_eq(control("reload"), "ok\n");
	cr_expect_eq(try_connect(SUB2, HOSTNQN), 0);
	/* a bad line: the reload fails and says where */
	snprintf(text, sizeof text, "subsystem %s\n ns 1 ram:1M\n allow-host bad\n",
		 SUB2);
	write_cfg(text);
	r = control("reload");
	cr_expect(strstr(r, "cfg:3: host NQN 'bad'"), "%s", r);
	cr_expect_eq(try_connect(SUB2, HOSTNQN), 0, "the old list stays");
	finish();
}

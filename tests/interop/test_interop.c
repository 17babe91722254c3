/*
 * Interop: libnvmeof against the Linux kernel's NVMe/TCP target (nvmet) in
 * QEMU.  Run through tests/interop/run-interop.sh, which boots the guest and
 * exports NVMEOF_INTEROP_PORT (and _KVER, _CLOSED_PORT).
 *
 * Guest layout (tests/interop/nvmet-vm):
 *   SUB1 ns 1: 64 MiB, 4 KiB LBAs, the known pattern; ns 2: null_blk
 *   SUB2 ns 1: 16 MiB of zeros, 4 KiB LBAs; ns 2: 16 MiB brd, 512-byte LBAs
 * Regions: SUB1 ns1 [0, 32 MiB) is only read; tests write SUB1 ns1
 * [32, 64 MiB) and SUB2 ns1, each test in its own range, so that they may
 * run in parallel.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmeof.h"

#define SUB1 "nqn.2026-11.org.example:linux-nvmet"
#define SUB2 "nqn.2026-11.org.example:linux-nvmet-2"
#define PATTERN_XOR 0x6e766d656f660000ull
#define LBA 4096u
#define MiB (1024u * 1024u)

static const char *port(void)
{
	const char *p = getenv("NVMEOF_INTEROP_PORT");

	cr_assert(p && *p, "NVMEOF_INTEROP_PORT not set: run via run-interop.sh");
	return p;
}

static struct nvmeof_ctrl *open_ctrl(const char *nqn, int nr_io, bool dg)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	int rc;

	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port();
	o.subnqn = nqn;
	o.nr_io_queues = nr_io;
	o.hdr_digest = dg;
	o.data_digest = dg;
	o.connect_timeout_ms = 20000;
	rc = nvmeof_connect(&o, &c);
	cr_assert_eq(rc, 0, "connect %s: %s", nqn, nvmeof_get_error());
	return c;
}

static void close_ctrl(struct nvmeof_ctrl *c)
{
	cr_assert_eq(nvmeof_disconnect(c), 0, "disconnect: %s",
		     nvmeof_get_error());
}

static void fill(uint8_t *b, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (uint8_t)x;
	}
}

static void check_pattern(const uint8_t *b, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		cr_assert_eq(le64toh(w), (off + i) ^ PATTERN_XOR,
			     "pattern mismatch at byte %llu",
			     (unsigned long long)(off + i));
	}
}

static void write_read(struct nvmeof_ctrl *c, uint32_t nsid, uint64_t off,
		       size_t len, uint64_t seed)
{
	uint8_t *w = malloc(len), *r = malloc(len);

	cr_assert(w && r);
	fill(w, len, seed);
	memset(r, 0x5a, len);
	cr_assert_eq(nvmeof_write(c, nsid, off / LBA, (uint32_t)(len / LBA), w,
				  false), 0, "write %zu at %llu: %s", len,
		     (unsigned long long)off, nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, nsid, off / LBA, (uint32_t)(len / LBA), r),
		     0, "read %zu at %llu: %s", len, (unsigned long long)off,
		     nvmeof_get_error());
	cr_assert(memcmp(w, r, len) == 0, "read-back differs (%zu bytes at %llu)",
		  len, (unsigned long long)off);
	free(w);
	free(r);
}

Test(interop, connect_and_identify, .timeout = 120)
{
	struct nvmeof_ctrl *c = open_ctrl(SUB1, 1, false);
	const uint8_t *id = nvmeof_ctrl_identify(c);
	struct nvmeof_ns_info ns;
	uint32_t *nsids;
	size_t n;

	cr_log_info("Linux nvmet %s", getenv("NVMEOF_INTEROP_KVER") ?: "?");
	cr_assert_eq(memcmp(id + 4, "linuxnvmet0001", 14), 0, "serial");
	cr_assert_eq(memcmp(id + 24, "Linux", 5), 0, "model");
	cr_assert_str_eq((const char *)id + 768, SUB1);
	cr_assert_str_eq(nvmeof_ctrl_subnqn(c), SUB1);
	cr_assert_neq(nvmeof_ctrl_cntlid(c), 0xffff);
	cr_assert_geq(nvmeof_ctrl_vs(c), 0x10300);
	cr_assert_eq(nvmeof_ctrl_nr_io_queues(c), 1);
	cr_assert_eq(nvmeof_ns_list(c, &nsids, &n), 0, "%s", nvmeof_get_error());
	cr_assert_eq(n, 2);
	cr_assert_eq(nsids[0], 1);
	cr_assert_eq(nsids[1], 2);
	free(nsids);
	cr_assert_eq(nvmeof_ns_info(c, 1, &ns), 0, "%s", nvmeof_get_error());
	cr_assert_eq(ns.nsze * ns.lba_size, 64ull * MiB);
	cr_assert_eq(ns.lba_size, 4096);
	close_ctrl(c);
}

Test(interop, discovery_log, .timeout = 120)
{
	struct nvmeof_ctrl *c = open_ctrl(NVMEOF_DISCOVERY_NQN, 0, false);
	struct nvmeof_disc_log *log;
	bool s1 = false, s2 = false;

	cr_assert(nvmeof_ctrl_is_discovery(c));
	cr_assert_eq(nvmeof_discover(c, &log), 0, "%s", nvmeof_get_error());
	for (uint64_t i = 0; i < log->numrec; i++) {
		struct nvmeof_disc_entry *e = &log->entries[i];

		cr_assert_eq(e->trtype, 3, "tcp");
		cr_assert_eq(e->adrfam, 1, "ipv4");
		cr_assert_str_eq(e->traddr, "127.0.0.1");
		cr_assert_str_eq(e->trsvcid, port());
		if (e->subtype == 2 && !strcmp(e->subnqn, SUB1))
			s1 = true;
		if (e->subtype == 2 && !strcmp(e->subnqn, SUB2))
			s2 = true;
	}
	cr_assert(s1 && s2, "both NVM subsystems listed (%llu entries)",
		  (unsigned long long)log->numrec);
	nvmeof_disc_log_free(log);
	close_ctrl(c);
}

Test(interop, read_known_pattern, .timeout = 120)
{
	struct nvmeof_ctrl *c = open_ctrl(SUB1, 1, false);
	uint8_t *b = malloc(MiB);

	cr_assert(b);
	cr_assert_eq(nvmeof_read(c, 1, 0, MiB / LBA, b), 0, "%s",
		     nvmeof_get_error());
	check_pattern(b, 0, MiB);
	/* An odd block, and the last block of the read-only half. */
	cr_assert_eq(nvmeof_read(c, 1, 4097, 3, b), 0, "%s", nvmeof_get_error());
	check_pattern(b, 4097ull * LBA, 3 * LBA);
	cr_assert_eq(nvmeof_read(c, 1, 32 * MiB / LBA - 1, 1, b), 0, "%s",
		     nvmeof_get_error());
	check_pattern(b, 32ull * MiB - LBA, LBA);
	free(b);
	close_ctrl(c);
}

Test(interop, write_sizes_incapsule_r2t, .timeout = 180)
{
	struct nvmeof_ctrl *c = open_ctrl(SUB2, 1, false);
	/* 16 KiB is nvmet's in-capsule limit (IOCCSZ 1028): 4 and 16 KiB go
	 * in the capsule, 20 KiB and 1 MiB by R2T → H2CData. */
	static const size_t sizes[] = { 4096, 16384, 20480, 65536, MiB };
	uint64_t off = 0;

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		write_read(c, 1, off, sizes[i], i + 1);
		off += sizes[i];
	}
	close_ctrl(c);
}

Test(interop, write_crossing_command_limit, .timeout = 300)
{
	/* nvmet reports MDTS 0 but refuses commands over 4 MiB; libnvmeof
	 * then caps a command at 1 MiB.  4 MiB + 12 KiB goes as five
	 * commands (the last one short) and must come back whole. */
	struct nvmeof_ctrl *c = open_ctrl(SUB1, 1, false);

	write_read(c, 1, 40ull * MiB, 4 * MiB + 12288, 99);
	close_ctrl(c);
}

Test(interop, flush_write_zeroes_deallocate, .timeout = 120)
{
	struct nvmeof_ctrl *c = open_ctrl(SUB2, 1, false);
	uint8_t *w = malloc(MiB), *b = malloc(MiB), *z = calloc(1, MiB);
	struct nvmeof_range rg = { .slba = 5 * MiB / LBA, .nlb = MiB / LBA };
	struct nvmeof_ns_info ns2;

	cr_assert(w && b && z);
	/* Write Zeroes on ns 2, a brd ramdisk with 512-byte blocks (nvmet
	 * cannot zero a tmpfs file: no FALLOC_FL_ZERO_RANGE there). */
	cr_assert_eq(nvmeof_ns_info(c, 2, &ns2), 0, "%s", nvmeof_get_error());
	cr_assert_eq(ns2.lba_size, 512);
	fill(w, MiB, 7);
	cr_assert_eq(nvmeof_write(c, 2, 8, MiB / 512, w, false), 0, "%s",
		     nvmeof_get_error());
	cr_assert_eq(nvmeof_flush(c, 2), 0, "flush: %s", nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, 2, 8, MiB / 512, b), 0, "%s",
		     nvmeof_get_error());
	cr_assert(memcmp(w, b, MiB) == 0, "512-byte-block namespace read-back");
	cr_assert_eq(nvmeof_write_zeroes(c, 2, 8 + 16, 64, false), 0,
		     "write zeroes: %s", nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, 2, 8, MiB / 512, b), 0, "%s",
		     nvmeof_get_error());
	cr_assert(memcmp(b + 16 * 512, z, 64 * 512) == 0,
		  "zeroes after Write Zeroes");
	cr_assert(memcmp(b, w, 16 * 512) == 0 &&
		  memcmp(b + 80 * 512, w + 80 * 512, MiB - 80 * 512) == 0,
		  "blocks around the zeroed range are untouched");

	/* Deallocate on ns 1, a tmpfs file: nvmet punches a hole. */
	write_read(c, 1, 5 * MiB, MiB, 8);
	cr_assert_eq(nvmeof_deallocate(c, 1, &rg, 1), 0, "deallocate: %s",
		     nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, 1, rg.slba, rg.nlb, b), 0, "%s",
		     nvmeof_get_error());
	cr_assert(memcmp(b, z, MiB) == 0, "zeroes after deallocate");
	free(w);
	free(b);
	free(z);
	close_ctrl(c);
}

Test(interop, header_and_data_digests, .timeout = 180)
{
	struct nvmeof_ctrl *c = open_ctrl(SUB2, 1, true);
	uint8_t *b = malloc(MiB);

	cr_assert(b);
	write_read(c, 1, 6 * MiB, 8192, 21);        /* in-capsule */
	write_read(c, 1, 6 * MiB + 8192, 262144, 22); /* R2T */
	/* And the pattern, received with data digests. */
	close_ctrl(c);
	c = open_ctrl(SUB1, 1, true);
	cr_assert_eq(nvmeof_read(c, 1, 256, 256, b), 0, "%s", nvmeof_get_error());
	check_pattern(b, 256ull * LBA, MiB);
	free(b);
	close_ctrl(c);
}

struct worker {
	struct nvmeof_ctrl *c;
	int idx;
	int rc;
	char err[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t len = 2 * MiB;
	uint64_t slba = (8 * MiB + (uint64_t)w->idx * len) / LBA;
	uint8_t *wb = malloc(len), *rb = malloc(len);

	w->rc = -ENOMEM;
	if (!wb || !rb)
		goto out;
	for (int round = 0; round < 2; round++) {
		fill(wb, len, 1000 + (uint64_t)w->idx * 10 + (uint64_t)round);
		w->rc = nvmeof_write(w->c, 1, slba, (uint32_t)(len / LBA), wb,
				     false);
		if (w->rc)
			break;
		w->rc = nvmeof_read(w->c, 1, slba, (uint32_t)(len / LBA), rb);
		if (w->rc)
			break;
		if (memcmp(wb, rb, len)) {
			w->rc = -EILSEQ;
			snprintf(w->err, sizeof w->err, "thread %d: data differ",
				 w->idx);
			break;
		}
	}
	if (w->rc && !w->err[0])
		snprintf(w->err, sizeof w->err, "thread %d: %s", w->idx,
			 nvmeof_get_error());
out:
	free(wb);
	free(rb);
	return NULL;
}

Test(interop, four_threads_four_queues, .timeout = 300)
{
	struct nvmeof_ctrl *c = open_ctrl(SUB2, 4, false);
	struct worker w[4];
	pthread_t t[4];

	cr_assert_eq(nvmeof_ctrl_nr_io_queues(c), 4);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .c = c, .idx = i };
		cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(w[i].rc, 0, "%s", w[i].err);
	close_ctrl(c);
}

Test(interop, idle_association_kept_alive, .timeout = 120)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c;
	uint8_t b[LBA];

	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port();
	o.subnqn = SUB1;
	o.kato_ms = 2000;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "%s", nvmeof_get_error());
	cr_assert_eq(nvmeof_ctrl_kato_ms(c), 2000);
	/* nvmet drops a controller that sends nothing for KATO: idle for
	 * over 3 × KATO, then use it. */
	sleep(7);
	cr_assert_str_eq(nvmeof_ctrl_state(c), "live");
	cr_assert_eq(nvmeof_read(c, 1, 0, 1, b), 0, "after idling: %s",
		     nvmeof_get_error());
	check_pattern(b, 0, LBA);
	close_ctrl(c);
}

Test(interop, wrong_subsystem_nqn, .timeout = 60)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	int rc;

	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port();
	o.subnqn = "nqn.2026-11.org.example:no-such-subsystem";
	rc = nvmeof_connect(&o, &c);
	cr_assert_lt(rc, 0);
	cr_assert_null(c);
	cr_assert(strstr(nvmeof_get_error(), "subsystem NQN"), "message: %s",
		  nvmeof_get_error());
	cr_assert_neq(nvmeof_last_status(), 0, "the NVMe status is kept");
}

Test(interop, closed_port, .timeout = 60)
{
	const char *closed = getenv("NVMEOF_INTEROP_CLOSED_PORT");
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	int rc;

	cr_assert(closed && *closed, "run-interop.sh forwards a closed port");
	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = closed;
	o.subnqn = SUB1;
	o.connect_timeout_ms = 5000;
	rc = nvmeof_connect(&o, &c);
	cr_assert_lt(rc, 0);
	cr_assert_null(c);
	/* Through QEMU user networking a closed port is a connect followed
	 * by a close: the error says so, after no hang. */
	cr_assert(strstr(nvmeof_get_error(), "127.0.0.1"), "message: %s",
		  nvmeof_get_error());
	cr_log_info("closed port: %s", nvmeof_get_error());
}

Test(interop, source_address_and_interface, .timeout = 60)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c = NULL;
	uint8_t b[LBA];

	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port();
	o.subnqn = SUB1;
	o.host_traddr = "127.0.0.1";
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "host_traddr: %s",
		     nvmeof_get_error());
	cr_assert_eq(nvmeof_read(c, 1, 0, 1, b), 0, "%s", nvmeof_get_error());
	check_pattern(b, 0, LBA);
	close_ctrl(c);

	o.host_traddr = NULL;
	o.host_iface = "lo"; /* its address, found with libnl-route */
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "host_iface lo: %s",
		     nvmeof_get_error());
	close_ctrl(c);

	c = NULL;
	o.host_iface = "nosuchif0";
	cr_assert_lt(nvmeof_connect(&o, &c), 0);
	cr_assert_null(c);
	cr_assert(strstr(nvmeof_get_error(), "nosuchif0"), "message: %s",
		  nvmeof_get_error());
}

Test(interop, sq_flow_control_disabled_c2h_success, .timeout = 60)
{
	struct nvmeof_opts o;
	struct nvmeof_ctrl *c;
	struct nvmeof_stats st;
	uint8_t *b = malloc(MiB);

	cr_assert(b);
	nvmeof_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port();
	o.subnqn = SUB1;
	o.disable_sqflow = true;
	cr_assert_eq(nvmeof_connect(&o, &c), 0, "%s", nvmeof_get_error());
	/* nvmet now ends reads with C2HData SUCCESS and no CapsuleResp. */
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(nvmeof_read(c, 1, (uint64_t)i * 256, 256, b), 0, "%s",
			     nvmeof_get_error());
		check_pattern(b, (uint64_t)i * MiB, MiB);
	}
	nvmeof_ctrl_stats(c, &st);
	cr_log_info("%llu reads completed by C2HData SUCCESS",
		    (unsigned long long)st.c2h_success);
	cr_assert_geq(st.c2h_success, 8, "reads ended by SUCCESS: %llu",
		      (unsigned long long)st.c2h_success);
	free(b);
	close_ctrl(c);
}

/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target over raw sockets: each test starts the target binary on
 * 127.0.0.1 with a kernel-chosen port (--port-file), speaks NVMe/TCP to it
 * with nothing but lib/pdu.c, and stops it with SIGTERM (a clean exit is
 * part of every test).  The binary: $NVMEOF_TARGET, else the build tree's
 * src/nvmeof-target.  The raw host: tests/raw_host.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "raw_host.h"

TestSuite(target, .init = setup, .fini = teardown, .timeout = 60);

/* ---- tests -------------------------------------------------------------- */

Test(target, icreq_without_digests)
{
	uint8_t r[128];
	struct rc c;

	rc_init(&c, false, false, r);
	cr_expect_eq(le16_get(r + 8), 0, "PFV");
	cr_expect_eq(r[10], 0, "CPDA");
	cr_expect_eq(r[11], 0, "no digests asked, none given");
	cr_expect_eq(le32_get(r + 12), 128u * 1024, "MAXH2CDATA default");
	close(c.fd);
	finish();
}

Test(target, icreq_with_digests_and_io)
{
	uint8_t r[128], w[3 * BS], back[3 * BS];
	struct rc a, io;

	rc_init(&a, true, true, r);
	cr_expect_eq(r[11], NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE);
	close(a.fd);
	admin_up(&a, NQN, true, true, 0);
	io_up(&io, &a, 1);
	fill(w, sizeof w, 3);
	cr_assert_eq(rw(&io, NVME_NVM_WRITE, 1, 5, 1, w, X_INCAPSULE), 0);
	cr_assert_eq(rw(&io, NVME_NVM_WRITE, 1, 6, 2, w + BS, X_R2T), 0);
	cr_assert_eq(rw(&io, NVME_NVM_READ, 1, 5, 3, back, X_IN), 0);
	cr_expect_arr_eq(back, w, sizeof w);
	close(io.fd);
	close(a.fd);
	finish();
}

Test(target, properties_and_enable)
{
	struct rc c;
	uint64_t v = 0, res = 0;
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_KEEP_ALIVE };
	uint8_t id[4096];

	rc_init(&c, false, false, NULL);
	/* nothing but Connect before Connect */
	cr_expect_eq(rc_cmd(&c, &sqe, X_NONE, NULL, 0, NULL),
		     NVME_SF(0, NVME_SC_CMD_SEQ_ERROR) | NVME_SF_DNR_BIT);
	cr_assert_eq(rc_connect_q(&c, NQN, 0, NVMF_CNTLID_DYNAMIC, 0, &res), 0);
	cr_expect_neq((uint16_t)res, NVMF_CNTLID_DYNAMIC);
	cr_assert_eq(prop(&c, false, NVME_REG_CAP, true, &v), 0);
	cr_expect_eq(NVME_CAP_MQES(v), 127, "MQES = queue size - 1");
	cr_expect(v & (1u << 16), "CQR");
	cr_expect_eq(NVME_CAP_TO(v), 15);
	cr_expect(v & (1ull << 37), "CSS NVM");
	cr_assert_eq(prop(&c, false, NVME_REG_VS, false, &v), 0);
	cr_expect_eq(v, 0x10300);
	cr_assert_eq(prop(&c, false, NVME_REG_CSTS, false, &v), 0);
	cr_expect_eq(v & NVME_CSTS_RDY, 0, "not ready before CC.EN");
	/* admin commands before CC.EN: Command Sequence Error */
	cr_expect_eq(identify(&c, NVME_CNS_CTRL, 0, id),
		     NVME_SF(0, NVME_SC_CMD_SEQ_ERROR) | NVME_SF_DNR_BIT);
	enable(&c);
	cr_assert_eq(prop(&c, false, NVME_REG_CC, false, &v), 0);
	cr_expect_eq(v & NVME_CC_EN, NVME_CC_EN);
	cr_expect_eq(rc_cmd(&c, &sqe, X_NONE, NULL, 0, NULL), 0, "Keep Alive");
	/* a bad 8-byte property */
	cr_expect_eq(prop(&c, false, NVME_REG_CC, true, &v),
		     NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT);
	/* normal shutdown */
	v = NVME_CC_EN | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4) |
	    NVME_CC_SHN_NORMAL;
	cr_assert_eq(prop(&c, true, NVME_REG_CC, false, &v), 0);
	cr_assert_eq(prop(&c, false, NVME_REG_CSTS, false, &v), 0);
	cr_expect_eq(v & NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT);
	close(c.fd);
	finish();
}

Test(target, identify_controller_and_namespaces)
{
	struct rc c;
	uint8_t b[4096];
	struct nvme_id_ctrl *id = (void *)b;
	struct nvme_id_ns *ns = (void *)b;
	uint16_t cntlid = admin_up(&c, NQN, false, false, 0);

	cr_assert_eq(identify(&c, NVME_CNS_CTRL, 0, b), 0);
	cr_expect_arr_eq(id->sn, SERIAL "          ", 20);
	cr_expect_eq(memcmp(id->mn, MODEL, strlen(MODEL)), 0);
	cr_expect_eq(id->mn[strlen(MODEL)], ' ', "model space padded");
	cr_expect_arr_eq(id->fr, FIRMWARE "   ", 8);
	cr_expect_str_eq(id->subnqn, NQN);
	cr_expect_eq(le32toh(id->ioccsz), (8192 + 64) / 16);
	cr_expect_eq(le32toh(id->iorcsz), 1);
	cr_expect_eq(id->mdts, 5);
	cr_expect_eq(le16toh(id->cntlid), cntlid);
	cr_expect_eq(le32toh(id->ver), 0x10300);
	cr_expect_eq(le32toh(id->nn), 1024);
	cr_expect_eq(le16toh(id->oncs), NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES);
	cr_expect_eq(id->cntrltype, 1);
	cr_expect_eq(id->sqes, 0x66);
	cr_expect_eq(id->cqes, 0x44);
	cr_expect_eq(le16toh(id->kas), 10);
	cr_expect_eq(le32toh(id->oaes) & NVME_OAES_NS_ATTR, NVME_OAES_NS_ATTR);

	cr_assert_eq(identify(&c, NVME_CNS_NS_ACTIVE_LIST, 0, b), 0);
	cr_expect_eq(le32_get(b), 1);
	cr_expect_eq(le32_get(b + 4), 2);
	cr_expect_eq(le32_get(b + 8), 3);
	cr_expect_eq(le32_get(b + 12), 4);
	cr_expect_eq(le32_get(b + 16), 0);

	cr_assert_eq(identify(&c, NVME_CNS_NS, 1, b), 0);
	cr_expect_eq(le64toh(ns->nsze), (16u << 20) / BS);
	cr_expect_eq(ns->lbaf[0].lbads, 12);
	cr_expect_eq(ns->dlfeat, 1);
	cr_expect_eq(ns->nsattr, 0);
	cr_assert_eq(identify(&c, NVME_CNS_NS, 3, b), 0);
	cr_expect_eq(le64toh(ns->nsze), (1u << 30) / BS, "null:1G");
	cr_assert_eq(identify(&c, NVME_CNS_NS, 4, b), 0);
	cr_expect_eq(ns->nsattr, 1, "ram:1M,ro is write protected");
	cr_assert_eq(identify(&c, NVME_CNS_NS, 9, b), 0);
	cr_expect(all_zero(b, sizeof b), "inactive NSID: zeros");
	cr_expect_eq(identify(&c, NVME_CNS_NS, 0, b),
		     NVME_SF(0, NVME_SC_INVALID_NS) | NVME_SF_DNR_BIT);

	cr_assert_eq(identify(&c, NVME_CNS_NS_DESC_LIST, 1, b), 0);
	cr_expect_eq(b[0], NVME_NIDT_NGUID);
	cr_expect_eq(b[1], 16);
	cr_expect_eq(b[20], NVME_NIDT_UUID);
	cr_expect_eq(b[21], 16);
	cr_expect_eq(b[24 + 6] >> 4, 4, "UUID version 4 layout");
	cr_expect(!all_zero(b + 4, 16));
	close(c.fd);
	finish();
}

Test(target, io_queue_read_write_flush_dsm)
{
	static uint8_t w[128 * 1024], back[128 * 1024];
	struct rc a, io;
	struct nvme_sqe sqe;
	uint8_t ranges[32];

	admin_up(&a, NQN, false, false, 0);
	io_up(&io, &a, 1);
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		/* in-capsule (8 KiB fits), then by R2T (128 KiB) */
		fill(w, sizeof w, nsid);
		cr_assert_eq(rw(&io, NVME_NVM_WRITE, nsid, 0, 2, w, X_INCAPSULE), 0);
		cr_assert_eq(rw(&io, NVME_NVM_WRITE, nsid, 2, 32, w, X_R2T), 0);
		memset(back, 0xee, sizeof back);
		cr_assert_eq(rw(&io, NVME_NVM_READ, nsid, 0, 2, back, X_IN), 0);
		cr_expect_arr_eq(back, w, 2 * BS, "ns %u in-capsule write", nsid);
		cr_assert_eq(rw(&io, NVME_NVM_READ, nsid, 2, 32, back, X_IN), 0);
		cr_expect_arr_eq(back, w, sizeof w, "ns %u R2T write", nsid);

		memset(&sqe, 0, sizeof sqe);
		sqe.opcode = NVME_NVM_FLUSH;
		sqe.nsid = htole32(nsid);
		cr_expect_eq(rc_cmd(&io, &sqe, X_NONE, NULL, 0, NULL), 0, "Flush");

		/* deallocate blocks 4..11: they read as zeros (DLFEAT 1) */
		memset(ranges, 0, sizeof ranges);
		le32_put(ranges + 4, 8);
		le64_put(ranges + 8, 4);
		memset(&sqe, 0, sizeof sqe);
		sqe.opcode = NVME_NVM_DSM;
		sqe.nsid = htole32(nsid);
		sqe.cdw10 = 0; /* one range */
		sqe.cdw11 = htole32(NVME_DSM_AD);
		cr_assert_eq(rc_cmd(&io, &sqe, X_INCAPSULE, ranges, 16, NULL), 0,
			     "DSM deallocate");
		cr_assert_eq(rw(&io, NVME_NVM_READ, nsid, 2, 32, back, X_IN), 0);
		cr_expect_arr_eq(back, w, 2 * BS, "before the range");
		cr_expect(all_zero(back + 2 * BS, 8 * BS), "ns %u: deallocated", nsid);
		cr_expect_arr_eq(back + 10 * BS, w + 10 * BS, 22 * BS, "after it");
	}
	/* null: reads are zeros, writes vanish */
	fill(w, sizeof w, 9);
	cr_assert_eq(rw(&io, NVME_NVM_WRITE, 3, 100, 32, w, X_R2T), 0);
	memset(back, 0xee, sizeof back);
	cr_assert_eq(rw(&io, NVME_NVM_READ, 3, 100, 32, back, X_IN), 0);
	cr_expect(all_zero(back, sizeof back), "null reads zeros");
	/* read-only namespace */
	cr_expect_eq(rw(&io, NVME_NVM_WRITE, 4, 0, 1, w, X_INCAPSULE),
		     NVME_SF(0, NVME_SC_NS_WRITE_PROTECTED) | NVME_SF_DNR_BIT);
	/* beyond MDTS (128 KiB): Invalid Field */
	cr_expect_eq(rw(&io, NVME_NVM_READ, 1, 0, 33, NULL, X_NONE) & 0xff,
		     NVME_SC_INVALID_FIELD);
	/* beyond the namespace */
	cr_expect_eq(rw(&io, NVME_NVM_READ, 1, (16u << 20) / BS, 1, back, X_IN),
		     NVME_SF(0, NVME_SC_LBA_RANGE) | NVME_SF_DNR_BIT);
	/* no such namespace */
	cr_expect_eq(rw(&io, NVME_NVM_READ, 7, 0, 1, back, X_IN),
		     NVME_SF(0, NVME_SC_INVALID_NS) | NVME_SF_DNR_BIT);
	close(io.fd);
	close(a.fd);
	finish();
}

Test(target, connect_refusals)
{
	struct rc c, io;
	uint64_t res = 0;

	rc_init(&c, false, false, NULL);
	cr_expect_eq(rc_connect_q(&c, "nqn.2026-11.org.example:nobody", 0,
				  NVMF_CNTLID_DYNAMIC, 0, &res),
		     NVME_SF(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAM) |
			     NVME_SF_DNR_BIT);
	cr_expect_eq(res & 0xffff, offsetof(struct nvmf_connect_data, subnqn),
		     "IPO: the subsystem NQN");
	cr_expect_eq((res >> 16) & 0xff, 1, "IATTR: in the Connect data");
	close(c.fd);

	admin_up(&c, NQN, false, false, 0);
	rc_init(&io, false, false, NULL);
	cr_expect_eq(rc_connect_q(&io, NQN, 1, (uint16_t)(c.cntlid + 100), 0, &res),
		     NVME_SF(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAM) |
			     NVME_SF_DNR_BIT);
	cr_expect_eq(res & 0xffff, offsetof(struct nvmf_connect_data, cntlid));
	cr_expect_eq((res >> 16) & 0xff, 1);
	close(io.fd);
	rc_init(&io, false, false, NULL);
	cr_expect_eq(rc_connect_q(&io, NQN, 9, c.cntlid, 0, &res) & 0xff,
		     NVME_SC_CONNECT_INVALID_PARAM, "QID beyond 8 I/O queues");
	cr_expect_eq(res, NVMF_CONNECT_QID);
	close(io.fd);
	close(c.fd);
	finish();
}

Test(target, discovery_log)
{
	struct rc c;
	uint8_t b[4096], one[1024];
	struct nvmf_disc_log_hdr *h = (void *)b;
	struct nvmf_disc_log_entry *e = (void *)(b + 1024);
	char port[16];
	uint64_t gen;

	admin_up(&c, NVMF_DISCOVERY_NQN, false, false, 0);
	cr_assert_eq(identify(&c, NVME_CNS_CTRL, 0, b), 0);
	cr_expect_eq(((struct nvme_id_ctrl *)b)->cntrltype, 2);
	cr_expect_str_eq(((struct nvme_id_ctrl *)b)->subnqn, NVMF_DISCOVERY_NQN);

	cr_assert_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 0, b, 4096), 0);
	gen = le64toh(h->genctr);
	cr_expect_geq(gen, 1);
	cr_assert_eq(le64toh(h->numrec), 1, "one subsystem, one listener");
	cr_expect_eq(e->trtype, NVMF_TRTYPE_TCP);
	cr_expect_eq(e->adrfam, NVMF_ADRFAM_IPV4);
	cr_expect_eq(e->subtype, NVMF_SUBTYPE_NVME);
	cr_expect_str_eq(e->subnqn, NQN);
	cr_expect_str_eq(e->traddr, "127.0.0.1");
	snprintf(port, sizeof port, "%d", T.port);
	cr_expect_str_eq(e->trsvcid, port);
	cr_expect_eq(le16toh(e->cntlid), 0xffff);
	cr_expect(all_zero(b + 2048, 2048), "nothing past the last entry");

	/* LPOL: the entry alone */
	cr_assert_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 1024, one, 1024), 0);
	cr_expect_arr_eq(one, b + 1024, 1024);
	/* beyond the page: Invalid Field */
	cr_expect_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 8192, one, 1024),
		     NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT);

	/* a new subsystem: one more record, a new generation */
	cr_assert_str_eq(control("ns-add nqn.2026-11.org.example:second auto ram:1M"),
			 "nsid 1\nok\n");
	cr_assert_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 0, b, 4096), 0);
	cr_expect_eq(le64toh(h->numrec), 2);
	cr_expect_gt(le64toh(h->genctr), gen);
	cr_expect_str_eq(((struct nvmf_disc_log_entry *)(b + 2048))->subnqn,
			 "nqn.2026-11.org.example:second");
	close(c.fd);
	finish();
}

Test(target, bad_pdu_gets_c2htermreq)
{
	struct rc c;
	uint8_t hdr[PDU_MAX_TX_HDR + 160];
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_KEEP_ALIVE };
	struct pdu_info info;
	size_t hl;

	admin_up(&c, NQN, false, false, 0);
	hl = pdu_build_cmd(hdr, &sqe, 0, false, false, 4);
	hdr[2] = 0x50; /* HLEN of a CapsuleCmd is 72 */
	rc_send(&c, hdr, hl);
	cr_assert_eq(rc_pdu(&c, hdr, NULL, 0, &info), NVME_TCP_C2H_TERM);
	cr_expect_eq(le16_get(hdr + 8), NVME_TCP_FES_INVALID_HDR);
	cr_expect_eq(le32_get(hdr + 10), 2, "FEI: the HLEN byte");
	cr_expect_eq(hdr[24], NVME_TCP_CMD, "the offending header comes back");
	cr_expect_eq(rc_recv(&c, hdr, 1), -1, "then the connection closes");
	close(c.fd);

	/* a header digest that does not match */
	admin_up(&c, NQN, true, false, 0);
	hl = pdu_build_cmd(hdr, &sqe, 0, true, false, 4);
	hdr[NVME_TCP_CMD_HLEN] ^= 0x40;
	rc_send(&c, hdr, hl);
	cr_assert_eq(rc_pdu(&c, hdr, NULL, 0, &info), NVME_TCP_C2H_TERM);
	cr_expect_eq(le16_get(hdr + 8), NVME_TCP_FES_HDR_DIGEST);
	close(c.fd);

	/* an H2CData nobody asked for */
	admin_up(&c, NQN, false, false, 0);
	hl = pdu_build_h2c_data(hdr, 1, 3, 0, 4, true, false, false, 4);
	memset(hdr + hl, 0, 4);
	rc_send(&c, hdr, hl + 4);
	cr_assert_eq(rc_pdu(&c, hdr, NULL, 0, &info), NVME_TCP_C2H_TERM);
	cr_expect_eq(le16_get(hdr + 8), NVME_TCP_FES_INVALID_HDR);
	close(c.fd);
	finish();
}

Test(target, namespace_change_aen)
{
	struct rc c;
	uint8_t hdr[PDU_MAX_TX_HDR + 160], log[4096];
	struct nvme_sqe aer = { .opcode = NVME_ADMIN_ASYNC_EVENT };
	struct pdu_info info;
	struct nvme_cqe cqe;
	struct pollfd pfd;
	size_t hl;

	admin_up(&c, NQN, false, false, 0);
	/* two AERs outstanding: the target holds them */
	for (int i = 0; i < 2; i++) {
		aer.cid = htole16((uint16_t)(1000 + i));
		aer.flags = NVME_CMD_FLAGS_SGL;
		hl = pdu_build_cmd(hdr, &aer, 0, false, false, 4);
		rc_send(&c, hdr, hl);
	}
	cr_assert_str_eq(control("ns-add " NQN " 7 ram:2M"), "nsid 7\nok\n");
	cr_assert_eq(rc_pdu(&c, hdr, NULL, 0, &info), NVME_TCP_RSP);
	memcpy(&cqe, hdr + 8, sizeof cqe);
	cr_expect_eq(le16toh(cqe.cid), 1000);
	cr_expect_eq(le16toh(cqe.status) >> 1, 0);
	cr_expect_eq(NVME_AER_TYPE(le32toh(cqe.dw0)), NVME_AER_NOTICE);
	cr_expect_eq(NVME_AER_INFO(le32toh(cqe.dw0)), NVME_AER_NOTICE_NS_CHANGED);
	cr_expect_eq(NVME_AER_LID(le32toh(cqe.dw0)), NVME_LOG_CHANGED_NS);

	/* another change before the log is read: no second AEN */
	cr_assert_str_eq(control("ns-remove " NQN " 3"), "ok\n");
	pfd = (struct pollfd){ .fd = c.fd, .events = POLLIN };
	cr_expect_eq(poll(&pfd, 1, 300), 0, "held until log 04h is read");

	c.cid = 2000;
	cr_assert_eq(get_log(&c, NVME_LOG_CHANGED_NS, true, 0, log, 4096), 0);
	cr_expect_eq(le32_get(log), 7);
	cr_expect_eq(le32_get(log + 4), 3);
	cr_expect_eq(le32_get(log + 8), 0);
	/* RAE: kept; without: cleared */
	cr_assert_eq(get_log(&c, NVME_LOG_CHANGED_NS, false, 0, log, 4096), 0);
	cr_expect_eq(le32_get(log), 7);
	cr_assert_eq(get_log(&c, NVME_LOG_CHANGED_NS, false, 0, log, 4096), 0);
	cr_expect(all_zero(log, 4096), "cleared by the read");

	/* unmasked by that read: the next change completes AER 1001 */
	cr_assert_str_eq(control("ns-resize " NQN " 7 1M"), "ok\n");
	cr_assert_eq(rc_pdu(&c, hdr, NULL, 0, &info), NVME_TCP_RSP);
	memcpy(&cqe, hdr + 8, sizeof cqe);
	cr_expect_eq(le16toh(cqe.cid), 1001);
	cr_expect_eq(NVME_AER_LID(le32toh(cqe.dw0)), NVME_LOG_CHANGED_NS);
	close(c.fd);
	finish();
}

Test(target, keep_alive_timeout_ends_association)
{
	struct rc c, io;
	uint8_t b;
	struct timespec t0, t1;
	double s;

	admin_up(&c, NQN, false, false, 1000);
	io_up(&io, &c, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(rc_recv(&c, &b, 1), -1, "the admin queue is closed");
	cr_expect_eq(rc_recv(&io, &b, 1), -1, "and so is the I/O queue");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_expect(s > 0.9 && s < 4.0, "closed after %.2f s (KATO 1 s)", s);
	close(io.fd);
	close(c.fd);
	finish();
}

Test(target, faults_from_the_control_socket)
{
	struct rc a, io;
	uint8_t buf[BS];

	admin_up(&a, NQN, false, false, 0);
	io_up(&io, &a, 1);
	cr_assert_str_eq(control("fault fail-nth:2:0:6"), "ok\n");
	cr_assert_str_eq(control("fault list"), "fail-nth:2:0:6@io\nok\n");
	cr_expect_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN), 0);
	cr_expect_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN),
		     NVME_SF(0, NVME_SC_INTERNAL), "the second one fails");
	cr_expect_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN), 0, "once");
	cr_assert_str_eq(control("fault off"), "ok\n");
	cr_assert_str_eq(control("fault drop-after:1"), "ok\n");
	cr_expect_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN), 0);
	cr_expect_eq(rc_recv(&io, buf, 1), -1, "closed after 1 command");
	cr_expect_str_eq(control("fault list"), "off\nok\n",
			 "drop-after fires once, then disarms itself");
	cr_expect_str_eq(control("fault drop-every:0"),
			 "error: fault 'drop-every:0': want drop-every:N (N >= 1)\n");
	cr_expect_str_eq(control("fault bogus"),
			 "error: unknown fault 'bogus' (drop-after:N, drop-every:N, delay:MS, fail-nth:N:SCT:SC[:dnr], corrupt-hdgst, corrupt-ddgst, bad-hlen, bad-plen, c2h-unknown-cid, c2h-overflow, double-completion, silent)\n");
	close(io.fd);
	close(a.fd);
	finish();
}

/* The I/O queues' busy-poll can be changed while they run (bench/run
 * turns it off for its scaling rows), and I/O goes on either way. */
Test(target, busy_poll_from_the_control_socket)
{
	struct rc a, io;
	uint8_t buf[BS];
	int i;

	admin_up(&a, NQN, false, false, 0);
	io_up(&io, &a, 1);
	cr_assert_str_eq(control("busy-poll"), "busy-poll 0\nok\n");
	cr_assert_str_eq(control("busy-poll 50"), "ok\n");
	cr_assert_str_eq(control("busy-poll"), "busy-poll 50\nok\n");
	for (i = 0; i < 20; i++)
		cr_assert_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN), 0,
			     "read %d with busy-poll 50", i);
	cr_assert_str_eq(control("busy-poll 0"), "ok\n");
	cr_assert_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN), 0,
		     "a read with busy-poll off again");
	cr_expect_str_eq(control("busy-poll -1"),
			 "error: usage: busy-poll [USEC], 0 to 1000000\n");
	cr_expect_str_eq(control("busy-poll 1000001"),
			 "error: usage: busy-poll [USEC], 0 to 1000000\n");
	cr_expect_str_eq(control("busy-poll 5x"),
			 "error: usage: busy-poll [USEC], 0 to 1000000\n");
	cr_expect_str_eq(control("busy-poll 1 2"),
			 "error: usage: busy-poll [USEC], 0 to 1000000\n");
	cr_expect_str_eq(control("busy-poll"), "busy-poll 0\nok\n",
			 "a refused value changes nothing");
	close(io.fd);
	close(a.fd);
	finish();
}

Test(target, startup_errors)
{
	/* a file that is not there: one line, non-zero exit */
	char cmd[512];
	int rc;

	finish();
	snprintf(cmd, sizeof cmd,
		 "'%s' -l 127.0.0.1:0 --ns /nonexistent/nvmeof-raw.img 2>%s/stderr",
		 tproc_path(), T.dir);
	rc = system(cmd);
	cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "exit status %d", rc);
	snprintf(cmd, sizeof cmd,
		 "grep -q 'cannot open /nonexistent/nvmeof-raw.img: No such file or directory' %s/stderr",
		 T.dir);
	cr_expect_eq(system(cmd), 0, "the message names the file");
	/* usage errors: 64, as the other programs (nvmeof(8)) */
	snprintf(cmd, sizeof cmd, "'%s' --ns ram:12Q 2>/dev/null", tproc_path());
	rc = system(cmd);
	cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 64, "bad size: %d", rc);
	snprintf(cmd, sizeof cmd, "'%s' --bogus 2>/dev/null", tproc_path());
	rc = system(cmd);
	cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 64, "unknown option: %d",
		  rc);
	snprintf(cmd, sizeof cmd, "'%s' --mdts 11 --ns ram:1M 2>/dev/null",
		 tproc_path());
	rc = system(cmd);
	cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 64, "bad value: %d", rc);
	snprintf(cmd, sizeof cmd,
		 "'%s' --allow-host bad --ns ram:1M 2>/dev/null", tproc_path());
	rc = system(cmd);
	cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 64, "bad host NQN: %d",
		  rc);
}

/* Without -v the target says where it listens and what it serves. */
Test(target, says_what_it_serves)
{
	char cmd[1024];

	finish();
	snprintf(cmd, sizeof cmd,
		 "rm -f %s/port; '%s' -l 127.0.0.1:0 -n %s --ns ram:1M --ns null:1M --allow-host %s -n %s-2 --ns ram:1M --port-file %s/port 2>%s/stderr & "
		 "pid=$!; while [ ! -s %s/port ]; do kill -0 $pid || exit 1; sleep 0.05; done; kill $pid; wait $pid",
		 T.dir, tproc_path(), NQN, HOSTNQN, NQN, T.dir, T.dir, T.dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof cmd,
		 "grep -q '^nvmeof-target: listening on 127.0.0.1:[0-9]*$' %s/stderr && "
		 "grep -qF 'nvmeof-target: serving %s (2 namespaces, 1 host), %s-2 (1 namespace, any host)' %s/stderr",
		 T.dir, NQN, NQN, T.dir);
	cr_expect_eq(system(cmd), 0, "the two lines");
}

Test(target, faults_damage_pdus)
{
	static uint8_t p[3][8192];
	struct rc a, io;
	struct pollfd pfd;
	struct timespec t0, t1;
	struct nvme_sqe ka = { .opcode = NVME_ADMIN_KEEP_ALIVE };
	uint8_t buf[BS];
	uint32_t n;

	admin_up(&a, NQN, true, true, 0);
	io_up(&io, &a, 1);

	arm("corrupt-hdgst");
	raw_cmd(&io, NVME_NVM_READ, 1, 11, BS);
	raw_pdu(&io, p[0], sizeof p[0]);
	cr_expect_eq(p[0][0], NVME_TCP_C2H_DATA);
	cr_expect_neq(crc32c(0, p[0], 24), le32_get(p[0] + 24), "HDGST flipped");
	raw_pdu(&io, p[1], sizeof p[1]);
	cr_expect_eq(crc32c(0, p[1], 24), le32_get(p[1] + 24), "only once");

	arm("corrupt-ddgst");
	raw_cmd(&io, NVME_NVM_READ, 1, 12, BS);
	n = raw_pdu(&io, p[0], sizeof p[0]);
	cr_expect_neq(crc32c(0, p[0] + p[0][3], BS), le32_get(p[0] + n - 4),
		      "DDGST flipped");
	raw_pdu(&io, p[1], sizeof p[1]);
	cr_expect_eq(p[1][0], NVME_TCP_RSP);

	arm("bad-hlen");
	raw_cmd(&io, NVME_NVM_READ, 1, 13, BS);
	raw_pdu(&io, p[0], sizeof p[0]);
	cr_expect_neq(p[0][2], NVME_TCP_DATA_HLEN, "HLEN %u", p[0][2]);
	raw_pdu(&io, p[1], sizeof p[1]);

	arm("c2h-unknown-cid");
	raw_cmd(&io, NVME_NVM_READ, 1, 14, BS);
	raw_pdu(&io, p[0], sizeof p[0]);
	cr_expect_eq(le16_get(p[0] + 8), 14 ^ 0x8000);
	raw_pdu(&io, p[1], sizeof p[1]);

	arm("c2h-overflow");
	raw_cmd(&io, NVME_NVM_READ, 1, 15, BS);
	raw_pdu(&io, p[0], sizeof p[0]);
	raw_pdu(&io, p[1], sizeof p[1]);
	cr_expect_eq(p[0][1] & NVME_TCP_F_DATA_LAST, 0);
	cr_expect_eq(p[1][0], NVME_TCP_C2H_DATA);
	cr_expect_eq(le32_get(p[1] + 12), BS, "data past the command's end");
	cr_expect_eq(p[1][1] & NVME_TCP_F_DATA_LAST, NVME_TCP_F_DATA_LAST);
	raw_pdu(&io, p[2], sizeof p[2]);
	cr_expect_eq(p[2][0], NVME_TCP_RSP);

	arm("double-completion");
	raw_cmd(&io, NVME_NVM_FLUSH, 1, 16, 0);
	raw_pdu(&io, p[0], sizeof p[0]);
	raw_pdu(&io, p[1], sizeof p[1]);
	cr_expect_eq(p[0][0], NVME_TCP_RSP);
	cr_expect_arr_eq(p[0], p[1], 28, "the same CapsuleResp twice");

	arm("delay:300");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_expect_geq((t1.tv_sec - t0.tv_sec) * 1000 +
			      (t1.tv_nsec - t0.tv_nsec) / 1000000, 290,
		      "delayed 300 ms");
	cr_assert_str_eq(control("fault off"), "ok\n");

	arm("silent");
	raw_cmd(&io, NVME_NVM_READ, 1, 17, BS);
	pfd = (struct pollfd){ .fd = io.fd, .events = POLLIN };
	cr_expect_eq(poll(&pfd, 1, 300), 0, "no answer");
	cr_expect_eq(rc_cmd(&a, &ka, X_NONE, NULL, 0, NULL), 0,
		     "the admin queue still answers");
	cr_assert_str_eq(control("fault off"), "ok\n");

	arm("bad-plen");
	raw_cmd(&io, NVME_NVM_READ, 1, 18, BS);
	cr_assert_eq(rc_recv(&io, p[0], 8), 0);
	cr_expect_eq(le32_get(p[0] + 4), 0x40000000u, "PLEN far too big");
	close(io.fd);
	close(a.fd);
	finish();
}

Test(target, two_io_queues_and_disconnect)
{
	uint8_t w1[4 * BS], w2[4 * BS], back[4 * BS];
	struct rc a, q1, q2;
	struct nvme_sqe d = { .opcode = NVME_FABRICS_COMMAND };
	uint8_t b;

	admin_up(&a, NQN, false, false, 0);
	io_up(&q1, &a, 1);
	io_up(&q2, &a, 2);
	fill(w1, sizeof w1, 1);
	fill(w2, sizeof w2, 2);
	cr_assert_eq(rw(&q1, NVME_NVM_WRITE, 1, 0, 4, w1, X_R2T), 0);
	cr_assert_eq(rw(&q2, NVME_NVM_WRITE, 1, 4, 4, w2, X_R2T), 0);
	cr_assert_eq(rw(&q2, NVME_NVM_READ, 1, 0, 4, back, X_IN), 0);
	cr_expect_arr_eq(back, w1, sizeof back);
	cr_assert_eq(rw(&q1, NVME_NVM_READ, 1, 4, 4, back, X_IN), 0);
	cr_expect_arr_eq(back, w2, sizeof back);
	/* the same QID twice is refused */
	{
		struct rc dup;
		uint64_t res;

		rc_init(&dup, false, false, NULL);
		cr_expect_neq(rc_connect_q(&dup, NQN, 2, a.cntlid, 0, &res), 0);
		close(dup.fd);
	}
	/* Disconnect deletes queue 2 only */
	((uint8_t *)&d)[NVMF_SQE_FCTYPE] = NVMF_FCTYPE_DISCONNECT;
	cr_expect_eq(rc_cmd(&q2, &d, X_NONE, NULL, 0, NULL), 0);
	cr_expect_eq(rc_recv(&q2, &b, 1), -1, "queue 2 closed");
	close(q2.fd);
	cr_expect_eq(rw(&q1, NVME_NVM_READ, 1, 0, 4, back, X_IN), 0);
	io_up(&q2, &a, 2);
	cr_expect_eq(rw(&q2, NVME_NVM_READ, 1, 0, 4, back, X_IN), 0);
	close(q1.fd);
	close(q2.fd);
	close(a.fd);
	finish();
}

Test(target, discovery_port)
{
	struct rc c;
	uint8_t b[4096];
	uint64_t res;
	int main_port;

	cr_assert_eq(stop_target(), 0);
	start_target("--discovery-port=0", NULL);
	main_port = T.port;
	T.port = port_line(1);
	cr_assert_gt(T.port, 0, "the discovery port is on line 2");
	rc_init(&c, false, false, NULL);
	cr_expect_eq(rc_connect_q(&c, NQN, 0, NVMF_CNTLID_DYNAMIC, 0, &res) & 0xff,
		     NVME_SC_CONNECT_INVALID_PARAM, "no I/O subsystem there");
	close(c.fd);
	admin_up(&c, NVMF_DISCOVERY_NQN, false, false, 0);
	cr_assert_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 0, b, 4096), 0);
	cr_expect_eq(le64_get(b + 8), 1, "the discovery-only port is not listed");
	cr_expect_eq(atoi(((struct nvmf_disc_log_entry *)(b + 1024))->trsvcid),
		     main_port);
	close(c.fd);
	finish();
}

Test(target, config_file_and_sighup)
{
	char cfg[200], text[1024], *list;
	struct rc c;
	uint8_t b[4096];

	cr_assert_eq(stop_target(), 0);
	snprintf(cfg, sizeof cfg, "%s/cfg", T.dir);
	snprintf(text, sizeof text,
		 "# two subsystems\n"
		 "subsystem nqn.2026-11.org.example:cfg-a\n"
		 "  serial CFGA\n"
		 "  model Config Model A\n"
		 "  ns 1 ram:1M\n"
		 "  ns 2 null:4M ro lba=512\n"
		 "subsystem nqn.2026-11.org.example:cfg-b\n"
		 "  ns 5 %s/ns2.img\n", T.dir);
	write_cfg(text);
	start_target("-c", cfg);
	list = control("list");
	cr_expect(strstr(list, "subsystem nqn.2026-11.org.example:cfg-a serial=CFGA model=\"Config Model A\""),
		  "%s", list);
	cr_expect(strstr(list, "  ns 2 null:4194304 lba=512 ro blocks=8192\n"), "%s", list);
	cr_expect(strstr(list, "subsystem nqn.2026-11.org.example:cfg-b"), "%s", list);

	admin_up(&c, "nqn.2026-11.org.example:cfg-a", false, false, 0);
	cr_assert_eq(identify(&c, NVME_CNS_NS, 2, b), 0);
	cr_expect_eq(((struct nvme_id_ns *)b)->lbaf[0].lbads, 9);
	cr_expect_eq(((struct nvme_id_ns *)b)->nsattr, 1);

	/* cfg-b goes, ns 2 changes, ns 3 comes; ns 1 stays as it is */
	write_cfg("subsystem nqn.2026-11.org.example:cfg-a\n"
		  "  ns 1 ram:1M\n"
		  "  ns 2 null:8M\n"
		  "  ns 3 ram:2M\n");
	kill(T.t.pid, SIGHUP);
	for (int i = 0; i < 200; i++) {
		list = control("list");
		if (!strstr(list, "cfg-b"))
			break;
		usleep(10000);
	}
	cr_expect(!strstr(list, "cfg-b"), "%s", list);
	cr_expect(strstr(list, "  ns 2 null:8388608 lba=4096 rw blocks=2048\n"),
		  "%s", list);
	cr_expect(strstr(list, "  ns 3 ram:2097152 lba=4096 rw"), "%s", list);
	cr_assert_eq(identify(&c, NVME_CNS_NS_ACTIVE_LIST, 0, b), 0);
	cr_expect_eq(le32_get(b + 8), 3);

	/* a broken file leaves everything as it was */
	write_cfg("subsystem nqn.2026-11.org.example:cfg-a\n  bogus\n");
	cr_expect(strstr(control("reload"), "error: "), "reload refuses");
	cr_expect(strstr(control("list"), "  ns 3 ram:2097152"));
	close(c.fd);
	finish();
}

/* ---- a host that reads while it sends ---------------------------------- */

enum { BURST_N = 240, BURST_LEN = 32 * BS };

static struct {
	uint8_t img[16u << 20];
	uint8_t got[BURST_N][BURST_LEN];
	const uint8_t *src[BURST_N];
	uint8_t pdu[BURST_LEN + 1024];
	uint32_t r2t[BURST_N][3]; /* cid, ttag | offset, length */
	int nr2t;
	int done;
} B;

/* One PDU from the target: data is kept, R2Ts wait for the end of the
 * command being sent, completions are checked. */
static void burst_pump(struct rc *c)
{
	struct pdu_info info;
	int t = rc_pdu(c, B.pdu, B.pdu + 256, sizeof B.pdu - 256, &info);
	uint16_t cid = le16_get(B.pdu + 8);

	cr_assert(t == NVME_TCP_RSP || cid < BURST_N, "CID %u", cid);
	if (t == NVME_TCP_C2H_DATA) {
		uint32_t o = le32_get(B.pdu + 12), l = le32_get(B.pdu + 16);

		cr_assert_leq(o + l, BURST_LEN);
		memcpy(B.got[cid] + o, B.pdu + 256, l);
	} else if (t == NVME_TCP_R2T) {
		cr_assert_lt(B.nr2t, BURST_N);
		B.r2t[B.nr2t][0] = cid | (uint32_t)le16_get(B.pdu + 10) << 16;
		B.r2t[B.nr2t][1] = le32_get(B.pdu + 12);
		B.r2t[B.nr2t][2] = le32_get(B.pdu + 16);
		B.nr2t++;
	} else {
		cr_assert_eq(t, NVME_TCP_RSP);
		cid = le16_get(B.pdu + 8 + 12);
		cr_assert_eq(le16_get(B.pdu + 8 + 14) >> 1, 0, "command %u failed",
			     cid);
		if (cid % 3 == 2)
			cr_assert_arr_eq(B.got[cid], B.src[cid], BURST_LEN,
					 "read %u", cid);
		B.done++;
	}
}

/* Send, taking in what the target sends whenever the socket is full. */
static void burst_send(struct rc *c, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = send(c->fd, b, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			b += n;
			len -= (size_t)n;
			continue;
		}
		cr_assert(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
			  "send: %s", strerror(errno));
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN | POLLOUT };

		cr_assert_gt(poll(&pfd, 1, 5000), 0, "stuck");
		if (pfd.revents & POLLIN)
			burst_pump(c);
	}
}

static void burst_r2ts(struct rc *c)
{
	uint8_t h[PDU_MAX_TX_HDR], dg[4];

	for (int i = 0; i < B.nr2t; i++) {
		uint16_t cid = (uint16_t)B.r2t[i][0], ttag = B.r2t[i][0] >> 16;
		uint32_t o = B.r2t[i][1], l = B.r2t[i][2];
		size_t hl;

		cr_assert_leq(l, c->maxh2c);
		hl = pdu_build_h2c_data(h, cid, ttag, o, l, true, false, true, 4);
		burst_send(c, h, hl);
		burst_send(c, B.src[cid] + o, l);
		le32_put(dg, crc32c(0, B.src[cid] + o, l));
		burst_send(c, dg, 4);
	}
	B.nr2t = 0;
}

/* Hundreds of commands as fast as they go: the target's sends block while
 * the host is still sending, and what the target reads meanwhile must come
 * out in order (in-capsule writes, R2T writes, 128 KiB reads). */
Test(target, burst_while_sends_block, .timeout = 120)
{
	struct rc a, io;
	uint8_t h[PDU_MAX_TX_HDR], dg[4];
	unsigned seed = 7;
	int sndbuf = 64 * 1024;

	admin_up(&a, NQN, false, true, 0);
	io_up(&io, &a, 1);
	io.rxp.max_data = sizeof B.pdu;
	fill(B.img, sizeof B.img, 5);
	for (uint32_t b = 0; b < sizeof B.img / BS; b += 32)
		cr_assert_eq(rw(&io, NVME_NVM_WRITE, 1, b, 32, B.img + b * BS,
				X_R2T), 0);
	/* small socket buffers: the target's sends block sooner */
	setsockopt(io.fd, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
	for (int round = 0; round < 4; round++) {
		B.done = 0;
		for (int i = 0; i < BURST_N; i++) {
			struct nvme_sqe s = { .flags = NVME_CMD_FLAGS_SGL,
					      .cid = htole16((uint16_t)i),
					      .nsid = htole32(1) };
			uint32_t blk = (uint32_t)(rand_r(&seed) %
						  (sizeof B.img / BS - 32));
			size_t hl;

			s.cdw10 = htole32(blk);
			B.src[i] = B.img + (size_t)blk * BS;
			s.opcode = i % 3 == 2 ? NVME_NVM_READ : NVME_NVM_WRITE;
			s.dptr.type = i % 3 ? NVME_SGL_TRANSPORT : NVME_SGL_INCAPSULE;
			s.cdw12 = htole32(i % 3 ? 31 : 1);
			s.dptr.length = htole32(i % 3 ? BURST_LEN : 2 * BS);
			hl = pdu_build_cmd(h, &s, i % 3 ? 0 : 2 * BS, false, true, 4);
			burst_send(&io, h, hl);
			if (i % 3 == 0) {
				burst_send(&io, B.src[i], 2 * BS);
				le32_put(dg, crc32c(0, B.src[i], 2 * BS));
				burst_send(&io, dg, 4);
			}
			burst_r2ts(&io);
		}
		while (B.done < BURST_N) {
			burst_pump(&io);
			burst_r2ts(&io);
		}
	}
	close(io.fd);
	close(a.fd);
	finish();
}

/* The SMART log counts the subsystem's I/O of every association, also of
 * those that ended: a host that connects to read it has done none. */
Test(target, smart_log_counts_every_association)
{
	struct rc a, io;
	uint8_t buf[3 * BS], log[512];
	const struct nvme_smart_log *l = (const void *)log;

	admin_up(&a, NQN, false, false, 0);
	io_up(&io, &a, 1);
	fill(buf, sizeof buf, 9);
	cr_assert_eq(rw(&io, NVME_NVM_WRITE, 1, 0, 3, buf, X_R2T), 0);
	cr_assert_eq(rw(&io, NVME_NVM_READ, 1, 0, 1, buf, X_IN), 0);
	cr_assert_eq(rw(&io, NVME_NVM_READ, 1, 1, 2, buf, X_IN), 0);
	close(io.fd);
	close(a.fd);
	admin_up(&a, NQN, false, false, 0);
	cr_assert_eq(get_log(&a, NVME_LOG_SMART, false, 0, log, sizeof log), 0);
	cr_expect_eq(le64_get(l->host_writes), 1, "one Write command");
	cr_expect_eq(le64_get(l->host_reads), 2, "two Read commands");
	/* thousands of 512-byte units, rounded up: 24 and 24 units */
	cr_expect_eq(le64_get(l->data_units_written), 1);
	cr_expect_eq(le64_get(l->data_units_read), 1);
	close(a.fd);
	finish();
}

/* listener-remove: the listener closes, the association that came in on it
 * ends, its entry leaves the discovery log with a new generation and a
 * Discovery Log Change notice (to a host on the discovery-only port). */
Test(target, listener_remove)
{
	struct rc c, io;
	uint8_t b[4096], hdr[PDU_MAX_TX_HDR + 160];
	struct nvme_sqe sf = { .opcode = NVME_ADMIN_SET_FEATURES };
	struct nvme_sqe aer = { .opcode = NVME_ADMIN_ASYNC_EVENT };
	struct pdu_info info;
	struct nvme_cqe cqe;
	char cmd[64], want[160];
	uint64_t gen;
	size_t hl;
	int main_port, disc_port;

	cr_assert_eq(stop_target(), 0);
	start_target("--discovery-port=0", NULL);
	main_port = T.port;
	disc_port = port_line(1);
	cr_assert_gt(disc_port, 0, "the discovery port is on line 2");
	admin_up(&io, NQN, false, false, 0);
	T.port = disc_port;
	admin_up(&c, NVMF_DISCOVERY_NQN, false, false, 0);
	cr_assert_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 0, b, 4096), 0);
	cr_assert_eq(le64_get(b + 8), 1, "one entry");
	gen = le64_get(b);
	sf.cdw10 = htole32(NVME_FEAT_ASYNC_EVENT);
	sf.cdw11 = htole32(NVME_AEC_DISC_CHANGE);
	cr_assert_eq(rc_cmd(&c, &sf, X_NONE, NULL, 0, NULL), 0);
	aer.cid = htole16(1000);
	aer.flags = NVME_CMD_FLAGS_SGL;
	hl = pdu_build_cmd(hdr, &aer, 0, false, false, 4);
	rc_send(&c, hdr, hl);

	cr_expect_str_eq(control("listener-remove 127.0.0.1:1"),
			 "error: no listener 127.0.0.1:1 (HOST:PORT as given to -l or as bound)\n");
	snprintf(cmd, sizeof cmd, "listener-remove 127.0.0.1:%d", disc_port);
	snprintf(want, sizeof want, "error: no listener 127.0.0.1:%d (HOST:PORT as given to -l or as bound)\n",
		 disc_port);
	cr_expect_str_eq(control(cmd), want, "the discovery-only port is not one");
	snprintf(cmd, sizeof cmd, "listener-remove 127.0.0.1:%d", main_port);
	cr_assert_str_eq(control(cmd), "ok\n");

	cr_assert_eq(rc_pdu(&c, hdr, NULL, 0, &info), NVME_TCP_RSP);
	memcpy(&cqe, hdr + 8, sizeof cqe);
	cr_expect_eq(le16toh(cqe.cid), 1000);
	cr_expect_eq(NVME_AER_INFO(le32toh(cqe.dw0)), NVME_AER_NOTICE_DISC_CHANGED);
	cr_expect_eq(NVME_AER_LID(le32toh(cqe.dw0)), NVME_LOG_DISCOVERY);
	cr_assert_eq(get_log(&c, NVME_LOG_DISCOVERY, false, 0, b, 4096), 0);
	cr_expect_eq(le64_get(b + 8), 0, "the entry is gone");
	cr_expect_gt(le64_get(b), gen, "a new generation");
	/* the association on it ended: its connection closes */
	cr_expect_eq(rc_pdu(&io, hdr, NULL, 0, &info), -1);
	close(io.fd);
	snprintf(want, sizeof want, "error: no listener 127.0.0.1:%d (HOST:PORT as given to -l or as bound)\n",
		 main_port);
	cr_expect_str_eq(control(cmd), want, "removed once");
	close(c.fd);
	finish();
}

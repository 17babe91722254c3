/* SPDX-License-Identifier: MIT */
/* Admin commands: Identify, Get Log Page, Get/Set Features, Keep Alive,
 * a raw command (NVMe Base 2.0 §5); the queue-level helpers that the
 * bring-up uses on a queue not yet adopted by the handle. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define LOG_CHUNK (256u * 1024)

int admin_cmd_q(struct queue *q, struct nvme_sqe *sqe, void *buf,
		uint32_t len, uint32_t *dw0, int timeout_ms)
{
	return queue_sync_cmd(q, sqe, buf, len, len ? REQ_TO_HOST : REQ_NONE,
			      dw0, NULL, timeout_ms);
}

int admin_identify_q(struct queue *q, uint8_t cns, uint32_t nsid,
		     uint16_t cntid, void *buf, int timeout_ms)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_IDENTIFY };

	sqe.nsid = htole32(nsid);
	sqe.cdw10 = htole32((uint32_t)cns | (uint32_t)cntid << 16);
	return admin_cmd_q(q, &sqe, buf, 4096, NULL, timeout_ms);
}

int admin_set_features_q(struct queue *q, uint8_t fid, uint32_t cdw11,
			 uint32_t *dw0, int timeout_ms)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_SET_FEATURES };

	sqe.cdw10 = htole32(fid);
	sqe.cdw11 = htole32(cdw11);
	return admin_cmd_q(q, &sqe, NULL, 0, dw0, timeout_ms);
}

static int admin_sync(struct nvmeof_ctrl *c, struct nvme_sqe *sqe, void *buf,
		      uint32_t len, enum req_dir dir, uint32_t *dw0)
{
	return queue_sync_cmd(c->admin, sqe, buf, len, dir, dw0, NULL,
			      ctrl_admin_timeout(c));
}

int nvmeof_identify(struct nvmeof_ctrl *c, uint8_t cns, uint32_t nsid,
		    uint16_t cntid, void *buf)
{
	return admin_identify_q(c->admin, cns, nsid, cntid, buf,
				ctrl_admin_timeout(c));
}

int nvmeof_get_log_page(struct nvmeof_ctrl *c, uint8_t lid, uint32_t nsid,
			uint8_t lsp, uint64_t offset, void *buf, size_t len)
{
	uint8_t *b = buf;
	uint32_t chunk = LOG_CHUNK;

	if (!len || len % 4 || offset % 4)
		return nvmeof_err(EINVAL,
				  "log page length %zu and offset %llu must be non-zero multiples of 4",
				  len, (unsigned long long)offset);
	if (c->mdts_bytes && c->mdts_bytes < chunk)
		chunk = c->mdts_bytes;
	while (len) {
		uint32_t n = (uint32_t)MIN(len, (size_t)chunk);
		uint32_t numd = n / 4 - 1; /* 0's based dwords */
		struct nvme_sqe sqe = { .opcode = NVME_ADMIN_GET_LOG_PAGE };
		int rc;

		sqe.nsid = htole32(nsid);
		/* lsp bit 7 (NVMEOF_LOG_RAE) is CDW10 bit 15, Retain
		 * Asynchronous Event: reading does not re-arm the event. */
		sqe.cdw10 = htole32((uint32_t)lid | ((uint32_t)(lsp & 0x7f) << 8) |
				    ((lsp & NVMEOF_LOG_RAE) ? 1u << 15 : 0) |
				    (numd & 0xffff) << 16);
		sqe.cdw11 = htole32(numd >> 16);
		sqe.cdw12 = htole32((uint32_t)offset);
		sqe.cdw13 = htole32((uint32_t)(offset >> 32));
		rc = admin_sync(c, &sqe, b, n, REQ_TO_HOST, NULL);
		if (rc < 0)
			return rc;
		b += n;
		offset += n;
		len -= n;
	}
	return 0;
}

int nvmeof_get_features(struct nvmeof_ctrl *c, uint8_t fid, uint32_t nsid,
			uint8_t sel, uint32_t cdw11, uint32_t *result,
			void *buf, size_t len)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_GET_FEATURES };

	if (len > UINT32_MAX)
		return nvmeof_err(EINVAL, "feature buffer too large");
	sqe.nsid = htole32(nsid);
	sqe.cdw10 = htole32((uint32_t)fid | (uint32_t)(sel & 7) << 8);
	sqe.cdw11 = htole32(cdw11);
	return admin_sync(c, &sqe, buf, (uint32_t)len, REQ_TO_HOST, result);
}

int nvmeof_set_features(struct nvmeof_ctrl *c, uint8_t fid, uint32_t nsid,
			uint32_t cdw11, bool save, uint32_t *result,
			const void *buf, size_t len)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_SET_FEATURES };

	if (len > UINT32_MAX)
		return nvmeof_err(EINVAL, "feature buffer too large");
	sqe.nsid = htole32(nsid);
	sqe.cdw10 = htole32((uint32_t)fid | (save ? 1u << 31 : 0));
	sqe.cdw11 = htole32(cdw11);
	return admin_sync(c, &sqe, (void *)buf, (uint32_t)len, REQ_TO_CTRL,
			  result);
}

int nvmeof_keep_alive(struct nvmeof_ctrl *c)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_KEEP_ALIVE };

	return admin_sync(c, &sqe, NULL, 0, REQ_NONE, NULL);
}

int nvmeof_admin_cmd(struct nvmeof_ctrl *c, const void *sqe_in, void *buf,
		     size_t len, bool write, uint32_t *result)
{
	struct nvme_sqe sqe;

	if (len > UINT32_MAX)
		return nvmeof_err(EINVAL, "admin data buffer too large");
	memcpy(&sqe, sqe_in, sizeof sqe);
	return admin_sync(c, &sqe, buf, (uint32_t)len,
			  write ? REQ_TO_CTRL : REQ_TO_HOST, result);
}


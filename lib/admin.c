/* SPDX-License-Identifier: MIT */
/* Admin commands: Identify, Get Log Page, Get/Set Features, Keep Alive,
 * and namespace discovery built on Identify (NVMe Base 2.0 §5). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define LOG_CHUNK (256u * 1024)

static int admin_sync(struct nvmeof_ctrl *c, struct nvme_sqe *sqe, void *buf,
		      uint32_t len, enum req_dir dir, uint32_t *dw0)
{
	return queue_sync_cmd(c->admin, sqe, buf, len, dir, dw0, NULL,
			      ctrl_admin_timeout(c));
}

int nvmeof_identify(struct nvmeof_ctrl *c, uint8_t cns, uint32_t nsid,
		    uint16_t cntid, void *buf)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_IDENTIFY };

	sqe.nsid = htole32(nsid);
	sqe.cdw10 = htole32((uint32_t)cns | (uint32_t)cntid << 16);
	return admin_sync(c, &sqe, buf, 4096, REQ_TO_HOST, NULL);
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

int nvmeof_ns_list(struct nvmeof_ctrl *c, uint32_t **nsids, size_t *count)
{
	uint32_t *page, *out = NULL, last = 0;
	size_t n = 0, cap = 0;
	int rc;

	*nsids = NULL;
	*count = 0;
	page = malloc(4096);
	if (!page)
		return nvmeof_err(ENOMEM, "out of memory");
	for (;;) {
		size_t i;

		rc = nvmeof_identify(c, NVME_CNS_NS_ACTIVE_LIST, last, 0, page);
		if (rc < 0)
			goto out;
		for (i = 0; i < 1024; i++) {
			uint32_t id = le32toh(page[i]);

			if (!id)
				break;
			/* §5.17.2.2: IDs ascend and exceed the one asked
			 * for; anything else would loop forever. */
			if (id <= last || id == 0xffffffff) {
				rc = nvmeof_err(EPROTO,
						"active namespace list is not ascending (%u after %u)",
						id, last);
				goto out;
			}
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				uint32_t *t = realloc(out, nc * sizeof *t);

				if (!t) {
					rc = nvmeof_err(ENOMEM, "out of memory");
					goto out;
				}
				out = t;
				cap = nc;
			}
			out[n++] = id;
			last = id;
		}
		if (i < 1024)
			break;
	}
	*nsids = out;
	*count = n;
	out = NULL;
	rc = 0;
out:
	free(out);
	free(page);
	return rc;
}

static void parse_ns_desc(const uint8_t *d, struct nvmeof_ns_info *info)
{
	size_t off = 0;

	while (off + 4 <= 4096) {
		uint8_t nidt = d[off], nidl = d[off + 1];

		if (!nidt || off + 4 + nidl > 4096)
			break;
		if (nidt == NVME_NIDT_UUID && nidl == 16) {
			memcpy(info->uuid, d + off + 4, 16);
			info->has_uuid = true;
		} else if (nidt == NVME_NIDT_NGUID && nidl == 16) {
			memcpy(info->nguid, d + off + 4, 16);
		} else if (nidt == NVME_NIDT_EUI64 && nidl == 8) {
			memcpy(info->eui64, d + off + 4, 8);
		}
		off += 4 + (size_t)nidl;
	}
}

int nvmeof_ns_info(struct nvmeof_ctrl *c, uint32_t nsid,
		   struct nvmeof_ns_info *info)
{
	struct nvme_id_ns *id;
	unsigned idx;
	uint8_t lbads;
	int rc;

	if (!nsid || nsid == 0xffffffff)
		return nvmeof_err(EINVAL, "namespace ID %u is not valid", nsid);
	id = malloc(sizeof *id);
	if (!id)
		return nvmeof_err(ENOMEM, "out of memory");
	rc = nvmeof_identify(c, NVME_CNS_NS, nsid, 0, id);
	if (rc < 0)
		goto out;
	memset(info, 0, sizeof *info);
	info->nsid = nsid;
	info->nsze = le64toh(id->nsze);
	info->ncap = le64toh(id->ncap);
	info->nuse = le64toh(id->nuse);
	if (!info->nsze) {
		rc = nvmeof_err(ENOENT, "namespace %u is not active", nsid);
		goto out;
	}
	idx = nvme_id_ns_flbas_index(id->flbas, id->nlbaf);
	if (idx > id->nlbaf || idx >= 64) {
		rc = nvmeof_err(EPROTO,
				"namespace %u: formatted LBA index %u beyond its %u formats",
				nsid, idx, id->nlbaf + 1u);
		goto out;
	}
	lbads = id->lbaf[idx].lbads;
	if (lbads < 9 || lbads > 24) {
		rc = nvmeof_err(EPROTO,
				"namespace %u: unsupported LBA data size 2^%u bytes",
				nsid, lbads);
		goto out;
	}
	if (info->nsze > (UINT64_MAX >> lbads)) {
		rc = nvmeof_err(EPROTO, "namespace %u: size overflows 64 bits",
				nsid);
		goto out;
	}
	info->lba_size = 1u << lbads;
	info->ms = le16toh(id->lbaf[idx].ms);
	info->write_protected = id->nsattr & 1;
	info->read_zeroes_after_dealloc = (id->dlfeat & 0x7) == 1;
	memcpy(info->nguid, id->nguid, 16);
	memcpy(info->eui64, id->eui64, 8);
	ctrl_ns_set(c, nsid, lbads);
	/* Descriptors are optional before NVMe 1.3: failure is not an error. */
	if (nvmeof_identify(c, NVME_CNS_NS_DESC_LIST, nsid, 0, id) == 0)
		parse_ns_desc((const uint8_t *)id, info);
	nvmeof_err_clear();
	rc = 0;
out:
	free(id);
	return rc;
}

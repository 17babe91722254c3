/* SPDX-License-Identifier: MIT */
/*
 * Asymmetric Namespace Access (NVMe Base 2.0 §8.1) on the host: the
 * association's copy of the ANA log page (0Ch), read when the association
 * comes up, after every reconnect and on every ANA Change notice, and the
 * ANA state of a namespace through this association from it.  The path
 * selection of multipath (doc/multipath.md) reads it with
 * nvmeof_ana_state().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* Room for every group and every namespace the controller may report, as
 * Linux sizes it: NANAGRPID descriptors and MNAN (or NN) NSIDs, capped so
 * that a controller cannot make us allocate much. */
#define ANA_MAX_GROUPS 1024u
#define ANA_MAX_NSIDS 65536u

bool ctrl_has_ana(const struct nvmeof_ctrl *c)
{
	return !c->discovery && (c->id_ctrl.cmic & NVME_CMIC_ANA);
}

static size_t ana_log_size(const struct nvmeof_ctrl *c)
{
	uint32_t groups = le32toh(c->id_ctrl.nanagrpid);
	uint32_t nsids = le32toh(c->id_ctrl.mnan);

	if (!nsids)
		nsids = le32toh(c->id_ctrl.nn);
	groups = MIN(MAX(groups, 1u), ANA_MAX_GROUPS);
	nsids = MIN(MAX(nsids, 1u), ANA_MAX_NSIDS);
	return sizeof(struct nvme_ana_log_hdr) +
	       groups * sizeof(struct nvme_ana_group_desc) + 4u * nsids;
}

int ana_log_check(const uint8_t *p, size_t len)
{
	const size_t gsz = sizeof(struct nvme_ana_group_desc);
	size_t off = sizeof(struct nvme_ana_log_hdr);
	uint16_t ngrps;

	if (len < off)
		return set_error(EPROTO, "ANA log: %zu bytes, less than its header",
				 len);
	ngrps = le16_get(p + offsetof(struct nvme_ana_log_hdr, ngrps));
	for (unsigned g = 0; g < ngrps; g++) {
		uint32_t nnsids;

		if (len - off < gsz)
			return set_error(EPROTO,
					  "ANA log: group descriptor %u of %u runs past the %zu bytes read",
					  g, ngrps, len);
		nnsids = le32_get(p + off +
				  offsetof(struct nvme_ana_group_desc, nnsids));
		if (nnsids > (len - off - gsz) / 4)
			return set_error(EPROTO,
					  "ANA log: group descriptor %u lists %u namespaces, more than the %zu bytes read hold",
					  g, nnsids, len);
		off += gsz + 4 * (size_t)nnsids;
	}
	return 0;
}

int ctrl_ana_refresh(struct nvmeof_ctrl *c)
{
	size_t len;
	uint8_t *buf, *old;
	int rc;

	if (!ctrl_has_ana(c))
		return 0;
	len = ana_log_size(c);
	buf = calloc(1, len);
	if (!buf)
		return set_error(ENOMEM, "out of memory");
	/* Without RAE: reading re-arms the ANA Change notice. */
	rc = nvmeof_get_log_page(c, NVME_LOG_ANA, 0xffffffff, 0, 0, buf, len);
	if (rc == 0)
		rc = ana_log_check(buf, len);
	if (rc < 0) {
		free(buf);
		buf = NULL;
		len = 0;
	}
	pthread_mutex_lock(&c->ana_lock);
	old = c->ana_log;
	c->ana_log = buf;
	c->ana_len = len;
	/* read without the lock by the path layer (lib/path.c) */
	__atomic_add_fetch(&c->ana_reads, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->ana_lock);
	free(old);
	return rc;
}

void ctrl_ana_free(struct nvmeof_ctrl *c)
{
	free(c->ana_log);
	c->ana_log = NULL;
	c->ana_len = 0;
}

int nvmeof_ana_state(struct nvmeof_ctrl *c, uint32_t nsid, uint8_t *state)
{
	const size_t gsz = sizeof(struct nvme_ana_group_desc);
	size_t off = sizeof(struct nvme_ana_log_hdr);
	int rc = -ENOENT;
	uint16_t ngrps;

	if (!c || !state || nsid == 0 || nsid == 0xffffffff)
		return set_error(EINVAL, "nvmeof_ana_state: bad arguments");
	if (!ctrl_has_ana(c))
		return set_error(EOPNOTSUPP,
				  "the controller does not report ANA (CMIC bit 3 clear)");
	pthread_mutex_lock(&c->ana_lock);
	if (!c->ana_log) {
		pthread_mutex_unlock(&c->ana_lock);
		return set_error(ENODATA, "no valid ANA log read yet");
	}
	/* checked by ctrl_ana_refresh() */
	ngrps = le16_get(c->ana_log + offsetof(struct nvme_ana_log_hdr, ngrps));
	for (unsigned g = 0; g < ngrps && rc == -ENOENT; g++) {
		const uint8_t *d = c->ana_log + off;
		uint32_t n = le32_get(d + offsetof(struct nvme_ana_group_desc,
						   nnsids));

		for (uint32_t i = 0; i < n; i++)
			if (le32_get(d + gsz + 4 * (size_t)i) == nsid) {
				*state = d[offsetof(struct nvme_ana_group_desc,
						    state)] & 0xf;
				rc = 0;
				break;
			}
		off += gsz + 4 * (size_t)n;
	}
	pthread_mutex_unlock(&c->ana_lock);
	if (rc < 0)
		return set_error(ENOENT,
				  "namespace %u is in no ANA group of the log", nsid);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* NVMe over Fabrics commands: Connect, Property Get, Property Set
 * (NVMe-oF 1.1 §3.3–3.5). */
#include <string.h>

#include "auth.h"
#include "host.h"

static void fabrics_sqe(struct nvme_sqe *sqe, uint8_t fctype)
{
	memset(sqe, 0, sizeof *sqe);
	sqe->opcode = NVME_FABRICS_COMMAND;
	((uint8_t *)sqe)[NVMF_SQE_FCTYPE] = fctype;
}

int fabrics_connect(struct queue *q, const char *subnqn, const char *hostnqn,
		    const uint8_t hostid[16], uint16_t cntlid, uint32_t kato_ms,
		    uint8_t cattr, int timeout_ms, uint16_t *cntlid_out)
{
	struct nvmf_connect_data data;
	struct nvme_sqe sqe;
	uint8_t *b = (uint8_t *)&sqe;
	uint32_t dw0 = 0;
	int rc;

	fabrics_sqe(&sqe, NVMF_FCTYPE_CONNECT);
	le16_put(b + NVMF_CONNECT_RECFMT, 0);
	le16_put(b + NVMF_CONNECT_QID, q->qid);
	le16_put(b + NVMF_CONNECT_SQSIZE, (uint16_t)(q->size - 1)); /* 0's based */
	b[NVMF_CONNECT_CATTR] = cattr;
	le32_put(b + NVMF_CONNECT_KATO, q->qid ? 0 : kato_ms);

	memset(&data, 0, sizeof data);
	memcpy(data.hostid, hostid, 16);
	data.cntlid = htole16(cntlid);
	strncpy(data.subnqn, subnqn, sizeof data.subnqn - 1);
	strncpy(data.hostnqn, hostnqn, sizeof data.hostnqn - 1);

	rc = queue_sync_cmd(q, &sqe, &data, sizeof data, REQ_TO_CTRL, &dw0,
			    NULL, timeout_ms);
	if (rc < 0) {
		uint16_t st = nvmeof_last_status();

		if (st && NVME_SF_SCT(st) == NVME_SCT_CMD_SPECIFIC &&
		    NVME_SF_SC(st) == NVME_SC_CONNECT_INVALID_PARAM) {
			/* NVMe-oF 1.1 §3.3 (Figure 21): dw0 bits 15:0 IPO, the
			 * offset of the refused field, bit 16 IATTR, set when
			 * it lies in the Connect data rather than the SQE. */
			unsigned ipo = dw0 & 0xffff, iattr = (dw0 >> 16) & 1;
			const char *what = "a parameter";

			if (iattr && ipo == offsetof(struct nvmf_connect_data, subnqn))
				what = "the subsystem NQN (no such subsystem, or this host is not allowed)";
			else if (iattr && ipo == offsetof(struct nvmf_connect_data, hostnqn))
				what = "the host NQN";
			else if (iattr && ipo == offsetof(struct nvmf_connect_data, cntlid))
				what = "the controller ID";
			else if (!iattr && ipo == NVMF_CONNECT_SQSIZE)
				what = "the queue size";
			else if (!iattr && ipo == NVMF_CONNECT_QID)
				what = "the queue ID";
			return set_error_status_cmdset(st, CMDSET_FABRICS, "%s: Connect to '%s' queue %u refused %s",
						 q->conn->peer, subnqn, q->qid, what);
		}
		if (st)
			return set_error_status_cmdset(st, CMDSET_FABRICS, "%s: Connect to '%s' queue %u failed",
						 q->conn->peer, subnqn, q->qid);
		return rc;
	}
	if (cntlid_out)
		*cntlid_out = (uint16_t)(dw0 & 0xffff);
	return (int)(dw0 & (DHCHAP_CONNECT_ATR | DHCHAP_CONNECT_ASCR)); /* AUTHREQ */
}

int fabrics_prop_get(struct queue *q, uint32_t ofst, bool eight,
		     uint64_t *val, int timeout_ms)
{
	struct nvme_sqe sqe;
	uint8_t *b = (uint8_t *)&sqe;
	uint32_t dw0 = 0, dw1 = 0;
	int rc;

	fabrics_sqe(&sqe, NVMF_FCTYPE_PROP_GET);
	b[NVMF_PROP_ATTRIB] = eight ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4;
	le32_put(b + NVMF_PROP_OFST, ofst);
	rc = queue_sync_cmd(q, &sqe, NULL, 0, REQ_NONE, &dw0, &dw1, timeout_ms);
	if (rc < 0)
		return rc;
	*val = eight ? ((uint64_t)dw1 << 32 | dw0) : dw0;
	return 0;
}

int fabrics_prop_set(struct queue *q, uint32_t ofst, bool eight, uint64_t val,
		     int timeout_ms)
{
	struct nvme_sqe sqe;
	uint8_t *b = (uint8_t *)&sqe;

	fabrics_sqe(&sqe, NVMF_FCTYPE_PROP_SET);
	b[NVMF_PROP_ATTRIB] = eight ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4;
	le32_put(b + NVMF_PROP_OFST, ofst);
	le64_put(b + NVMF_PROP_VALUE, eight ? val : (uint32_t)val);
	return queue_sync_cmd(q, &sqe, NULL, 0, REQ_NONE, NULL, NULL,
			      timeout_ms);
}

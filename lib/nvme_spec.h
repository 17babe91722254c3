/* SPDX-License-Identifier: MIT */
/*
 * Wire structures of NVMe (Base 2.0), NVMe over Fabrics (1.1) and NVMe/TCP
 * (Transport 1.0).  One definition shared by the host library and by
 * nvmeof-target.
 *
 * Every field is stored little-endian on the wire.  Structures are laid out
 * with natural alignment so that no packing pragma is needed; each carries a
 * _Static_assert on its size.  Never cast a structure over a buffer that came
 * from the network before its length has been checked: memcpy into a local
 * after validation, or read fields with the le*_get() helpers below.
 */
#ifndef NVMEOF_NVME_SPEC_H
#define NVMEOF_NVME_SPEC_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- little-endian helpers on byte buffers ----------------------------- */

static inline uint16_t le16_get(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return le16toh(v);
}
static inline uint32_t le32_get(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return le32toh(v);
}
static inline uint64_t le64_get(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return le64toh(v);
}
static inline void le16_put(void *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof v);
}
static inline void le32_put(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof v);
}
static inline void le64_put(void *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof v);
}

/* ---- NVMe/TCP 1.0 §3.6: PDUs ------------------------------------------- */

enum nvme_tcp_pdu_type {
	NVME_TCP_ICREQ = 0x00,
	NVME_TCP_ICRESP = 0x01,
	NVME_TCP_H2C_TERM = 0x02,
	NVME_TCP_C2H_TERM = 0x03,
	NVME_TCP_CMD = 0x04,
	NVME_TCP_RSP = 0x05,
	NVME_TCP_H2C_DATA = 0x06,
	NVME_TCP_C2H_DATA = 0x07,
	NVME_TCP_R2T = 0x09,
};

enum nvme_tcp_pdu_flags {
	NVME_TCP_F_HDGST = 0x01,
	NVME_TCP_F_DDGST = 0x02,
	NVME_TCP_F_DATA_LAST = 0x04,   /* H2CData, C2HData */
	NVME_TCP_F_DATA_SUCCESS = 0x08 /* C2HData: no CapsuleResp follows */
};

/* ICReq/ICResp DGST field */
#define NVME_TCP_HDGST_ENABLE 0x01
#define NVME_TCP_DDGST_ENABLE 0x02

#define NVME_TCP_DIGEST_LEN 4
#define NVME_TCP_PFV_1_0 0
#define NVME_TCP_MIN_MAXH2CDATA 4096
#define NVME_TCP_TERM_MIN_PLEN 24
#define NVME_TCP_TERM_MAX_PLEN 152 /* §3.6.2.3: header + up to 128 bytes */
#define NVME_TCP_DISC_PORT 8009
#define NVME_TCP_PORT 4420
#define NVME_TCP_MAX_CPDA 31

/* §3.6.2.7 Fatal Error Status */
enum nvme_tcp_fes {
	NVME_TCP_FES_INVALID_HDR = 0x01,
	NVME_TCP_FES_PDU_SEQ = 0x02,
	NVME_TCP_FES_HDR_DIGEST = 0x03,
	NVME_TCP_FES_DATA_RANGE = 0x04,
	NVME_TCP_FES_DATA_LIMIT = 0x05, /* also R2T limit exceeded */
	NVME_TCP_FES_UNSUPPORTED = 0x06,
};

/* §3.6.1 PDU common header */
struct nvme_tcp_hdr {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	uint32_t plen;
};
_Static_assert(sizeof(struct nvme_tcp_hdr) == 8, "common header");

/* §3.6.2.2 ICReq, §3.6.2.3 ICResp (both 128 bytes) */
struct nvme_tcp_icreq {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t hpda;
	uint8_t dgst;
	uint32_t maxr2t; /* 0's based */
	uint8_t rsvd[112];
};
_Static_assert(sizeof(struct nvme_tcp_icreq) == 128, "ICReq");

struct nvme_tcp_icresp {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t cpda;
	uint8_t dgst;
	uint32_t maxh2cdata;
	uint8_t rsvd[112];
};
_Static_assert(sizeof(struct nvme_tcp_icresp) == 128, "ICResp");

/* §3.6.2.4/5 H2CTermReq / C2HTermReq header (data: the offending header) */
struct nvme_tcp_term {
	struct nvme_tcp_hdr hdr;
	uint16_t fes;
	uint32_t fei; /* unaligned on the wire: read with le32_get */
	uint8_t rsvd[10];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_term) == 24, "TermReq");

/* §3.6.2.8 H2CData, §3.6.2.9 C2HData, §3.6.2.10 R2T: same 24-byte shape */
struct nvme_tcp_data {
	struct nvme_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag; /* H2CData and R2T; reserved in C2HData */
	uint32_t datao;
	uint32_t datal;
	uint32_t rsvd;
};
_Static_assert(sizeof(struct nvme_tcp_data) == 24, "data PDU / R2T");

#define NVME_TCP_CMD_HLEN 72 /* common header + 64-byte SQE */
#define NVME_TCP_RSP_HLEN 24 /* common header + 16-byte CQE */
#define NVME_TCP_DATA_HLEN 24
#define NVME_TCP_R2T_HLEN 24
#define NVME_TCP_IC_HLEN 128
#define NVME_TCP_TERM_HLEN 24

/* ---- NVMe Base 2.0 §4.2: submission queue entry ------------------------- */

/* SGL descriptor (§4.3.2) */
struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t length;
	uint8_t rsvd[3];
	uint8_t type; /* descriptor type << 4 | subtype */
};
_Static_assert(sizeof(struct nvme_sgl_desc) == 16, "SGL descriptor");

/* Data Block with an offset: data carried in the capsule (NVMe-oF §2.3) */
#define NVME_SGL_INCAPSULE 0x01
/* Transport SGL Data Block, transport-specific subtype: NVMe/TCP §3.3.1 */
#define NVME_SGL_TRANSPORT 0x5a

struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags; /* bits 7:6 PSDT: 01b = SGLs (required over fabrics) */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	struct nvme_sgl_desc dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "SQE");
_Static_assert(offsetof(struct nvme_sqe, dptr) == 24, "SQE DPTR");
_Static_assert(offsetof(struct nvme_sqe, cdw10) == 40, "SQE CDW10");

#define NVME_CMD_FLAGS_SGL 0x40

/* §4.2.3 completion queue entry */
struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* bit 0 phase; 15:1 status field */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQE");

/* Status field (CQE status >> 1) */
#define NVME_SF_SC(sf) ((sf) & 0xff)
#define NVME_SF_SCT(sf) (((sf) >> 8) & 0x7)
#define NVME_SF_CRD(sf) (((sf) >> 11) & 0x3)
#define NVME_SF_MORE(sf) (((sf) >> 13) & 0x1)
#define NVME_SF_DNR(sf) (((sf) >> 14) & 0x1)
#define NVME_SF(sct, sc) ((uint16_t)(((sct) & 0x7) << 8 | ((sc) & 0xff)))
#define NVME_SF_DNR_BIT 0x4000

enum nvme_sct {
	NVME_SCT_GENERIC = 0,
	NVME_SCT_CMD_SPECIFIC = 1,
	NVME_SCT_MEDIA = 2,
	NVME_SCT_PATH = 3,
	NVME_SCT_VENDOR = 7,
};

enum nvme_generic_sc {
	NVME_SC_SUCCESS = 0x00,
	NVME_SC_INVALID_OPCODE = 0x01,
	NVME_SC_INVALID_FIELD = 0x02,
	NVME_SC_CID_CONFLICT = 0x03,
	NVME_SC_DATA_XFER_ERROR = 0x04,
	NVME_SC_POWER_LOSS = 0x05,
	NVME_SC_INTERNAL = 0x06,
	NVME_SC_ABORT_REQ = 0x07,
	NVME_SC_ABORT_SQ_DELETE = 0x08,
	NVME_SC_INVALID_NS = 0x0b,
	NVME_SC_CMD_SEQ_ERROR = 0x0c,
	NVME_SC_SGL_INVALID_LAST = 0x0d,
	NVME_SC_SGL_INVALID_COUNT = 0x0e,
	NVME_SC_SGL_INVALID_DATA = 0x0f,
	NVME_SC_SGL_INVALID_TYPE = 0x11,
	NVME_SC_SGL_INVALID_OFFSET = 0x16,
	NVME_SC_NS_WRITE_PROTECTED = 0x20,
	NVME_SC_CMD_INTERRUPTED = 0x21,
	NVME_SC_TRANSIENT_TRANSPORT = 0x22,
	NVME_SC_LBA_RANGE = 0x80,
	NVME_SC_CAP_EXCEEDED = 0x81,
	NVME_SC_NS_NOT_READY = 0x82,
};

enum nvme_cmd_specific_sc {
	NVME_SC_INVALID_LOG_PAGE = 0x09,
	NVME_SC_FEATURE_NOT_SAVEABLE = 0x0d,
	NVME_SC_AER_LIMIT = 0x05,
	NVME_SC_CONNECT_FORMAT = 0x80, /* NVMe-oF: incompatible format */
	NVME_SC_CONNECT_CTRL_BUSY = 0x81,
	NVME_SC_CONNECT_INVALID_PARAM = 0x82,
	NVME_SC_CONNECT_RESTART_DISC = 0x83,
	NVME_SC_CONNECT_INVALID_HOST = 0x84,
	NVME_SC_DISCOVERY_RESTART = 0x90,
	NVME_SC_AUTH_REQUIRED = 0x91,
};
/* Path related status (SCT 3h, NVMe Base 2.0 §4.2.3.2.4) */
enum nvme_sc_path {
	NVME_SC_ANA_PERSISTENT_LOSS = 0x01,
	NVME_SC_ANA_INACCESSIBLE = 0x02,
	NVME_SC_ANA_TRANSITION = 0x03,
};

/* ---- opcodes ------------------------------------------------------------ */

enum nvme_admin_opcode {
	NVME_ADMIN_GET_LOG_PAGE = 0x02,
	NVME_ADMIN_IDENTIFY = 0x06,
	NVME_ADMIN_ABORT = 0x08,
	NVME_ADMIN_SET_FEATURES = 0x09,
	NVME_ADMIN_GET_FEATURES = 0x0a,
	NVME_ADMIN_ASYNC_EVENT = 0x0c,
	NVME_ADMIN_KEEP_ALIVE = 0x18,
	NVME_FABRICS_COMMAND = 0x7f,
};

enum nvme_nvm_opcode {
	NVME_NVM_FLUSH = 0x00,
	NVME_NVM_WRITE = 0x01,
	NVME_NVM_READ = 0x02,
	NVME_NVM_WRITE_ZEROES = 0x08,
	NVME_NVM_DSM = 0x09,
};

/* Read/Write CDW12 */
#define NVME_RW_FUA (1u << 30)
/* Write Zeroes CDW12: deallocate */
#define NVME_WZ_DEAC (1u << 25)
/* Dataset Management CDW11: attribute deallocate */
#define NVME_DSM_AD (1u << 2)

struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb;
	uint64_t slba;
};
_Static_assert(sizeof(struct nvme_dsm_range) == 16, "DSM range");
#define NVME_DSM_MAX_RANGES 256

enum nvme_identify_cns {
	NVME_CNS_NS = 0x00,
	NVME_CNS_CTRL = 0x01,
	NVME_CNS_NS_ACTIVE_LIST = 0x02,
	NVME_CNS_NS_DESC_LIST = 0x03,
};

enum nvme_log_id {
	NVME_LOG_ERROR = 0x01,
	NVME_LOG_SMART = 0x02,
	NVME_LOG_FIRMWARE = 0x03,
	NVME_LOG_CHANGED_NS = 0x04,
	NVME_LOG_CMD_EFFECTS = 0x05,
	NVME_LOG_ANA = 0x0c,
	NVME_LOG_DISCOVERY = 0x70,
};

enum nvme_feature_id {
	NVME_FEAT_ARBITRATION = 0x01,
	NVME_FEAT_POWER_MGMT = 0x02,
	NVME_FEAT_TEMP_THRESH = 0x04,
	NVME_FEAT_ERR_RECOVERY = 0x05,
	NVME_FEAT_VOLATILE_WC = 0x06,
	NVME_FEAT_NUM_QUEUES = 0x07,
	NVME_FEAT_IRQ_COALESCE = 0x08,
	NVME_FEAT_WRITE_ATOMIC = 0x0a,
	NVME_FEAT_ASYNC_EVENT = 0x0b,
	NVME_FEAT_KATO = 0x0f,
	NVME_FEAT_HOST_ID = 0x81,
};

/* Async event completion dword 0 (§5.2) */
#define NVME_AER_TYPE(dw0) ((dw0) & 0x7)
#define NVME_AER_INFO(dw0) (((dw0) >> 8) & 0xff)
#define NVME_AER_LID(dw0) (((dw0) >> 16) & 0xff)
enum nvme_aer_type {
	NVME_AER_ERROR = 0,
	NVME_AER_SMART = 1,
	NVME_AER_NOTICE = 2,
	NVME_AER_IO_CMD_SET = 6,
	NVME_AER_VS = 7,
};
enum nvme_aer_notice {
	NVME_AER_NOTICE_NS_CHANGED = 0x00,
	NVME_AER_NOTICE_FW_ACTIVATE = 0x01,
	NVME_AER_NOTICE_ANA = 0x03,
	NVME_AER_NOTICE_DISC_CHANGED = 0xf0,
};
/* Asynchronous Event Configuration feature bits */
#define NVME_AEC_NS_ATTR (1u << 8)
#define NVME_AEC_FW_ACTIVATE (1u << 9)
#define NVME_AEC_ANA (1u << 11)
#define NVME_AEC_DISC_CHANGE (1u << 31)

/* ---- NVMe-oF 1.1 §3: Fabrics commands ---------------------------------- */

enum nvmf_fctype {
	NVMF_FCTYPE_PROP_SET = 0x00,
	NVMF_FCTYPE_CONNECT = 0x01,
	NVMF_FCTYPE_PROP_GET = 0x04,
	NVMF_FCTYPE_AUTH_SEND = 0x05,
	NVMF_FCTYPE_AUTH_RECV = 0x06,
	NVMF_FCTYPE_DISCONNECT = 0x08,
};

/* Fabrics command SQE overlay: bytes 4 and 40..63 differ from struct nvme_sqe */
#define NVMF_SQE_FCTYPE 4
/* Connect (§3.3): RECFMT@40 QID@42 SQSIZE@44 CATTR@46 KATO@48 */
#define NVMF_CONNECT_RECFMT 40
#define NVMF_CONNECT_QID 42
#define NVMF_CONNECT_SQSIZE 44
#define NVMF_CONNECT_CATTR 46
#define NVMF_CONNECT_KATO 48
/* Property Get/Set (§3.4, §3.5): ATTRIB@40 OFST@44 VALUE@48 */
#define NVMF_PROP_ATTRIB 40
#define NVMF_PROP_OFST 44
#define NVMF_PROP_VALUE 48
#define NVMF_PROP_SIZE_4 0
#define NVMF_PROP_SIZE_8 1

/* Connect data (§3.3, Figure 20), 1024 bytes */
struct nvmf_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;
	uint8_t rsvd1[238];
	char subnqn[256];
	char hostnqn[256];
	uint8_t rsvd2[256];
};
_Static_assert(sizeof(struct nvmf_connect_data) == 1024, "Connect data");
#define NVMF_CNTLID_DYNAMIC 0xffff

#define NVMF_NQN_SIZE 256 /* field size; an NQN is at most 223 bytes */
#define NVMF_NQN_MAX_LEN 223
#define NVMF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"

/* Controller properties (NVMe Base 2.0 §3.1.3) */
enum nvme_prop {
	NVME_REG_CAP = 0x00,
	NVME_REG_VS = 0x08,
	NVME_REG_CC = 0x14,
	NVME_REG_CSTS = 0x1c,
	NVME_REG_NSSR = 0x20,
};
#define NVME_CAP_MQES(cap) ((uint32_t)((cap) & 0xffff))
#define NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff)) /* 500 ms units */
#define NVME_CC_EN (1u << 0)
#define NVME_CC_CSS_NVM (0u << 4)
#define NVME_CC_SHN_NORMAL (1u << 14)
#define NVME_CC_SHN_MASK (3u << 14)
#define NVME_CC_IOSQES(n) ((uint32_t)(n) << 16)
#define NVME_CC_IOCQES(n) ((uint32_t)(n) << 20)
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)
#define NVME_CSTS_SHST_MASK (3u << 2)
#define NVME_CSTS_SHST_CMPLT (2u << 2)

/* ---- Identify data (NVMe Base 2.0 §5.17.2) ----------------------------- */

struct nvme_id_power_state {
	uint8_t bytes[32];
};

struct nvme_id_ctrl {
	uint16_t vid;       /* 0 */
	uint16_t ssvid;     /* 2 */
	char sn[20];        /* 4 */
	char mn[40];        /* 24 */
	char fr[8];         /* 64 */
	uint8_t rab;        /* 72 */
	uint8_t ieee[3];    /* 73 */
	uint8_t cmic;       /* 76 */
	uint8_t mdts;       /* 77 */
	uint16_t cntlid;    /* 78 */
	uint32_t ver;       /* 80 */
	uint32_t rtd3r;     /* 84 */
	uint32_t rtd3e;     /* 88 */
	uint32_t oaes;      /* 92 */
	uint32_t ctratt;    /* 96 */
	uint16_t rrls;      /* 100 */
	uint8_t rsvd102[9]; /* 102 */
	uint8_t cntrltype;  /* 111 */
	uint8_t fguid[16];  /* 112 */
	uint16_t crdt1;     /* 128 */
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[119];
	uint8_t nvmsr;     /* 253 */
	uint8_t vwci;      /* 254 */
	uint8_t mec;       /* 255 */
	uint16_t oacs;     /* 256 */
	uint8_t acl;       /* 258 */
	uint8_t aerl;      /* 259 */
	uint8_t frmw;      /* 260 */
	uint8_t lpa;       /* 261 */
	uint8_t elpe;      /* 262 */
	uint8_t npss;      /* 263 */
	uint8_t avscc;     /* 264 */
	uint8_t apsta;     /* 265 */
	uint16_t wctemp;   /* 266 */
	uint16_t cctemp;   /* 268 */
	uint16_t mtfa;     /* 270 */
	uint32_t hmpre;    /* 272 */
	uint32_t hmmin;    /* 276 */
	uint8_t tnvmcap[16]; /* 280 */
	uint8_t unvmcap[16]; /* 296 */
	uint32_t rpmbs;    /* 312 */
	uint16_t edstt;    /* 316 */
	uint8_t dsto;      /* 318 */
	uint8_t fwug;      /* 319 */
	uint16_t kas;      /* 320: keep alive support, 100 ms units */
	uint16_t hctma;    /* 322 */
	uint16_t mntmt;    /* 324 */
	uint16_t mxtmt;    /* 326 */
	uint32_t sanicap;  /* 328 */
	uint32_t hmminds;  /* 332 */
	uint16_t hmmaxd;   /* 336 */
	uint16_t nsetidmax; /* 338 */
	uint16_t endgidmax; /* 340 */
	uint8_t anatt;     /* 342 */
	uint8_t anacap;    /* 343 */
	uint32_t anagrpmax; /* 344 */
	uint32_t nanagrpid; /* 348 */
	uint32_t pels;     /* 352 */
	uint16_t domainid; /* 356 */
	uint8_t rsvd358[10];
	uint8_t megcap[16]; /* 368 */
	uint8_t rsvd384[128];
	uint8_t sqes;      /* 512 */
	uint8_t cqes;      /* 513 */
	uint16_t maxcmd;   /* 514 */
	uint32_t nn;       /* 516 */
	uint16_t oncs;     /* 520 */
	uint16_t fuses;    /* 522 */
	uint8_t fna;       /* 524 */
	uint8_t vwc;       /* 525 */
	uint16_t awun;     /* 526 */
	uint16_t awupf;    /* 528 */
	uint8_t icsvscc;   /* 530 */
	uint8_t nwpc;      /* 531 */
	uint16_t acwu;     /* 532 */
	uint16_t ocfs;     /* 534 */
	uint32_t sgls;     /* 536 */
	uint32_t mnan;     /* 540 */
	uint8_t maxdna[16]; /* 544 */
	uint32_t maxcna;   /* 560 */
	uint8_t rsvd564[204];
	char subnqn[256];  /* 768 */
	uint8_t rsvd1024[768];
	/* NVMe-oF 1.1 §4.1: fabrics-specific fields */
	uint32_t ioccsz;   /* 1792: I/O command capsule size, 16-byte units */
	uint32_t iorcsz;   /* 1796 */
	uint16_t icdoff;   /* 1800 */
	uint8_t fcatt;     /* 1802 */
	uint8_t msdbd;     /* 1803 */
	uint16_t ofcs;     /* 1804 */
	uint8_t rsvd1806[242];
	struct nvme_id_power_state psd[32]; /* 2048 */
	uint8_t vs[1024];  /* 3072 */
};
_Static_assert(sizeof(struct nvme_id_ctrl) == 4096, "Identify Controller");
_Static_assert(offsetof(struct nvme_id_ctrl, kas) == 320, "KAS");
_Static_assert(offsetof(struct nvme_id_ctrl, sqes) == 512, "SQES");
_Static_assert(offsetof(struct nvme_id_ctrl, sgls) == 536, "SGLS");
_Static_assert(offsetof(struct nvme_id_ctrl, subnqn) == 768, "SUBNQN");
_Static_assert(offsetof(struct nvme_id_ctrl, ioccsz) == 1792, "IOCCSZ");
_Static_assert(offsetof(struct nvme_id_ctrl, psd) == 2048, "PSD");

/* ONCS bits */
#define NVME_ONCS_COMPARE (1u << 0)
#define NVME_ONCS_WRITE_UNCOR (1u << 1)
#define NVME_ONCS_DSM (1u << 2)
#define NVME_ONCS_WRITE_ZEROES (1u << 3)
/* OAES bits */
#define NVME_OAES_NS_ATTR (1u << 8)
#define NVME_OAES_DISC_CHANGE (1u << 31)
/* CMIC bit 3: ANA reporting */
#define NVME_CMIC_ANA (1u << 3)
/* OAES bit 11: Asymmetric Namespace Access Change notices */
#define NVME_OAES_ANA (1u << 11)
/* LPA bits */
#define NVME_LPA_CMD_EFFECTS (1u << 1)

struct nvme_lbaf {
	uint16_t ms;
	uint8_t lbads; /* 2^n bytes */
	uint8_t rp;
};
_Static_assert(sizeof(struct nvme_lbaf) == 4, "LBA format");

struct nvme_id_ns {
	uint64_t nsze;     /* 0 */
	uint64_t ncap;     /* 8 */
	uint64_t nuse;     /* 16 */
	uint8_t nsfeat;    /* 24 */
	uint8_t nlbaf;     /* 25: 0's based */
	uint8_t flbas;     /* 26 */
	uint8_t mc;        /* 27 */
	uint8_t dpc;       /* 28 */
	uint8_t dps;       /* 29 */
	uint8_t nmic;      /* 30 */
	uint8_t rescap;    /* 31 */
	uint8_t fpi;       /* 32 */
	uint8_t dlfeat;    /* 33 */
	uint16_t nawun;    /* 34 */
	uint16_t nawupf;   /* 36 */
	uint16_t nacwu;    /* 38 */
	uint16_t nabsn;    /* 40 */
	uint16_t nabo;     /* 42 */
	uint16_t nabspf;   /* 44 */
	uint16_t noiob;    /* 46 */
	uint8_t nvmcap[16]; /* 48 */
	uint16_t npwg;     /* 64 */
	uint16_t npwa;     /* 66 */
	uint16_t npdg;     /* 68 */
	uint16_t npda;     /* 70 */
	uint16_t nows;     /* 72 */
	uint16_t mssrl;    /* 74 */
	uint32_t mcl;      /* 76 */
	uint8_t msrc;      /* 80 */
	uint8_t rsvd81;
	uint8_t nulbaf;    /* 82 */
	uint8_t rsvd83[9];
	uint32_t anagrpid; /* 92 */
	uint8_t rsvd96[3];
	uint8_t nsattr;    /* 99: bit 0 write protected */
	uint16_t nvmsetid; /* 100 */
	uint16_t endgid;   /* 102 */
	uint8_t nguid[16]; /* 104 */
	uint8_t eui64[8];  /* 120 */
	struct nvme_lbaf lbaf[64]; /* 128 */
	uint8_t vs[3712];  /* 384 */
};
_Static_assert(sizeof(struct nvme_id_ns) == 4096, "Identify Namespace");
_Static_assert(offsetof(struct nvme_id_ns, nsattr) == 99, "NSATTR");
_Static_assert(offsetof(struct nvme_id_ns, nguid) == 104, "NGUID");
_Static_assert(offsetof(struct nvme_id_ns, lbaf) == 128, "LBAF");

/* FLBAS: bits 3:0 low index, bits 6:5 high index (NLBAF > 16) */
static inline unsigned nvme_id_ns_flbas_index(uint8_t flbas, uint8_t nlbaf)
{
	unsigned idx = flbas & 0xf;
	if (nlbaf >= 16)
		idx |= (unsigned)((flbas >> 5) & 0x3) << 4;
	return idx;
}

/* Namespace identification descriptor (CNS 03h): NIDT, NIDL, 2 rsvd, NID */
enum nvme_nidt {
	NVME_NIDT_EUI64 = 1,
	NVME_NIDT_NGUID = 2,
	NVME_NIDT_UUID = 3,
	NVME_NIDT_CSI = 4,
};

/* ---- log pages ---------------------------------------------------------- */

struct nvme_error_log_entry {
	uint64_t error_count;  /* 0 */
	uint16_t sqid;         /* 8 */
	uint16_t cmdid;        /* 10 */
	uint16_t status;       /* 12 */
	uint16_t parm_error_location; /* 14 */
	uint64_t lba;          /* 16 */
	uint32_t nsid;         /* 24 */
	uint8_t vs;            /* 28 */
	uint8_t trtype;        /* 29 */
	uint8_t rsvd30[2];
	uint64_t cs;           /* 32 */
	uint16_t trtype_spec_info; /* 40 */
	uint8_t rsvd42[21];
	uint8_t log_page_version; /* 63 */
};
_Static_assert(sizeof(struct nvme_error_log_entry) == 64, "error log entry");

struct nvme_smart_log {
	uint8_t critical_warning;     /* 0 */
	uint16_t temperature;         /* 1: unaligned, Kelvin */
	uint8_t avail_spare;          /* 3 */
	uint8_t spare_thresh;         /* 4 */
	uint8_t percent_used;         /* 5 */
	uint8_t endu_grp_crit_warn_sumry; /* 6 */
	uint8_t rsvd7[25];
	uint8_t data_units_read[16];  /* 32 */
	uint8_t data_units_written[16]; /* 48 */
	uint8_t host_reads[16];       /* 64 */
	uint8_t host_writes[16];      /* 80 */
	uint8_t ctrl_busy_time[16];   /* 96 */
	uint8_t power_cycles[16];     /* 112 */
	uint8_t power_on_hours[16];   /* 128 */
	uint8_t unsafe_shutdowns[16]; /* 144 */
	uint8_t media_errors[16];     /* 160 */
	uint8_t num_err_log_entries[16]; /* 176 */
	uint32_t warning_temp_time;   /* 192 */
	uint32_t critical_comp_time;  /* 196 */
	uint16_t temp_sensor[8];      /* 200 */
	uint32_t thm_temp1_trans_count; /* 216 */
	uint32_t thm_temp2_trans_count;
	uint32_t thm_temp1_total_time;
	uint32_t thm_temp2_total_time;
	uint8_t rsvd232[280];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_smart_log) == 512, "SMART log");

struct nvme_fw_slot_log {
	uint8_t afi;       /* 0 */
	uint8_t rsvd1[7];
	char frs[7][8];    /* 8: firmware revision of slots 1..7 */
	uint8_t rsvd64[448];
};
_Static_assert(sizeof(struct nvme_fw_slot_log) == 512, "firmware slot log");

#define NVME_CHANGED_NS_MAX 1024 /* 4096-byte page of NSIDs; FFFFFFFFh = overflow */

struct nvme_cmd_effects_log {
	uint32_t acs[256];
	uint32_t iocs[256];
	uint8_t rsvd[2048];
};
_Static_assert(sizeof(struct nvme_cmd_effects_log) == 4096, "command effects log");

/* ANA log page header (§5.16.1.12) */
struct nvme_ana_log_hdr {
	uint64_t chgcnt;
	uint16_t ngrps;
	uint8_t rsvd[6];
};
_Static_assert(sizeof(struct nvme_ana_log_hdr) == 16, "ANA header");
/* ANA states (NVMe Base 2.0 §8.1.2), the descriptor's state bits 3:0 */
enum nvme_ana_state {
	NVME_ANA_OPTIMIZED = 0x01,
	NVME_ANA_NON_OPTIMIZED = 0x02,
	NVME_ANA_INACCESSIBLE = 0x03,
	NVME_ANA_PERSISTENT_LOSS = 0x04,
	NVME_ANA_CHANGE = 0x0f,
};
/* Get Log Page 0Ch: LSP (CDW10 bits 11:8) bit 0, Return Groups Only */
#define NVME_ANA_LSP_RGO (1u << 8)
struct nvme_ana_group_desc {
	uint32_t grpid;
	uint32_t nnsids;
	uint64_t chgcnt;
	uint8_t state;
	uint8_t rsvd[15];
	/* uint32_t nsids[nnsids] */
};
_Static_assert(sizeof(struct nvme_ana_group_desc) == 32, "ANA group descriptor");

/* ---- Discovery log page 70h (NVMe-oF 1.1 §5.3) -------------------------- */

struct nvmf_disc_log_hdr {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	uint8_t rsvd[1006];
};
_Static_assert(sizeof(struct nvmf_disc_log_hdr) == 1024, "discovery log header");

struct nvmf_disc_log_entry {
	uint8_t trtype;    /* 0 */
	uint8_t adrfam;    /* 1 */
	uint8_t subtype;   /* 2 */
	uint8_t treq;      /* 3 */
	uint16_t portid;   /* 4 */
	uint16_t cntlid;   /* 6 */
	uint16_t asqsz;    /* 8 */
	uint16_t eflags;   /* 10 */
	uint8_t rsvd12[20];
	char trsvcid[32];  /* 32 */
	uint8_t rsvd64[192];
	char subnqn[256];  /* 256 */
	char traddr[256];  /* 512 */
	uint8_t tsas[256]; /* 768 */
};
_Static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "discovery log entry");

enum nvmf_trtype {
	NVMF_TRTYPE_RDMA = 1,
	NVMF_TRTYPE_FC = 2,
	NVMF_TRTYPE_TCP = 3,
	NVMF_TRTYPE_LOOP = 254,
};
enum nvmf_adrfam {
	NVMF_ADRFAM_IPV4 = 1,
	NVMF_ADRFAM_IPV6 = 2,
	NVMF_ADRFAM_IB = 3,
	NVMF_ADRFAM_FC = 4,
	NVMF_ADRFAM_LOOP = 254,
};
enum nvmf_subtype {
	NVMF_SUBTYPE_REFERRAL = 1, /* another discovery service */
	NVMF_SUBTYPE_NVME = 2,
	NVMF_SUBTYPE_CURRENT_DISC = 3,
};
/* TREQ bits 1:0 secure channel, bit 2 SQ flow control disable not required */
#define NVMF_TREQ_SECURE_MASK 0x3
#define NVMF_TREQ_DISABLE_SQFLOW 0x4

#endif /* NVMEOF_NVME_SPEC_H */

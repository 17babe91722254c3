/* SPDX-License-Identifier: MIT */
/*
 * A scripted NVMe/TCP controller for tests/test_hostile: it listens on
 * 127.0.0.1 (port chosen by the kernel), answers ICReq, Connect, Property
 * Get/Set, Identify, Set Features, Get Log Page, Keep Alive, Abort, Read
 * and Write as a plain controller would, and misbehaves in exactly one
 * scripted way.  It shares no code with lib/ (its own encoders, its own
 * CRC-32C), so that it does not inherit the host's idea of the protocol.
 */
#ifndef HOSTILE_PEER_H
#define HOSTILE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#define HP_NQN "nqn.2026-11.org.example:hostile"
#define HP_LBA 4096u
#define HP_NLBA 512u /* 2 MiB namespace 1 */

enum hp_mode {
	HP_NONE,
	/* connection initialisation */
	HP_IC_PFV,          /* ICResp PFV 1 */
	HP_IC_MAXH2C,       /* ICResp MAXH2CDATA 2048 */
	HP_IC_CPDA,         /* ICResp CPDA 32 */
	HP_IC_DGST,         /* ICResp turns on digests nobody asked for */
	HP_IC_SILENT,       /* accept, read the ICReq, say nothing */
	HP_IC_SLOW,         /* the ICResp one byte every 300 ms */
	HP_IC_TERM,         /* a C2HTermReq instead of the ICResp */
	HP_CONNECT_SILENT,  /* no answer to Connect */
	HP_CSTS_NEVER_RDY,  /* CSTS.RDY stays 0 */
	/* PDU framing, on the first Read of an I/O queue */
	HP_RSP_BAD_HLEN,    /* CapsuleResp with HLEN 28 */
	HP_RSP_BAD_PLEN,    /* CapsuleResp with PLEN 28 */
	HP_C2H_BAD_PDO,     /* C2HData with PDO inside the header */
	HP_C2H_HUGE_PLEN,   /* C2HData with PLEN 1 GiB */
	HP_TERM_HUGE_PLEN,  /* C2HTermReq with PLEN 4096 */
	HP_TERM_MAX,        /* a valid C2HTermReq carrying 128 bytes */
	HP_UNKNOWN_TYPE,    /* PDU type 0x0f */
	HP_ICRESP_AGAIN,    /* an ICResp in the middle of the stream */
	HP_H2C_FROM_CTRL,   /* an H2CData PDU from the controller */
	/* C2HData, on the first Read */
	HP_C2H_UNKNOWN_CID,
	HP_C2H_BEYOND,      /* 512 bytes past the command's length */
	HP_C2H_OVERLAP,
	HP_C2H_GAP,
	HP_C2H_SHORT_RSP,   /* half the data, then a successful CapsuleResp */
	HP_C2H_SUCCESS_NOT_LAST,
	HP_C2H_SUCCESS_SHORT,
	/* on the first Write (R2T) */
	HP_C2H_ON_WRITE,    /* C2HData with SUCCESS for a write */
	HP_R2T_BEYOND,
	HP_R2T_TWO,         /* two R2Ts outstanding (host's MAXR2T is 1) */
	HP_R2T_OFFSET,      /* first R2T not at offset 0 */
	HP_R2T_ZERO,        /* R2TL 0 */
	HP_WRITE_PARTIAL,   /* R2T for half, then a successful CapsuleResp */
	/* on the first in-capsule Write */
	HP_R2T_INCAPSULE,
	/* on the first Read */
	HP_R2T_FOR_READ,
	HP_RSP_UNKNOWN_CID,
	HP_RSP_TWICE,
	HP_BAD_HDGST,       /* (header digests on) CapsuleResp digest wrong */
	HP_BAD_DDGST,       /* (data digests on) data changed, digest not */
	HP_BAD_DDGST_4X,    /* the same, on the first four Reads */
	HP_IO_SILENT,       /* the Read is never answered */
	HP_IO_SLOW,         /* the Read's answer one byte every 100 ms */
	HP_IO_ABORTABLE,    /* the Read is held until an Abort names it;
			     * then it ends with Command Abort Requested and
			     * the Abort answers "aborted" */
	HP_IO_SILENT_ALWAYS, /* no Read is ever answered, on any association */
	/* discovery log page */
	HP_DISC_NUMREC_HUGE,
	HP_DISC_SHORT,      /* NUMREC 3, but the page holds 2 entries */
	HP_DISC_GENCTR,     /* GENCTR moves on every read */
	/* Identify */
	HP_ID_STRINGS,      /* unterminated, unprintable strings */
	HP_ID_NN0,          /* NN 0, no active namespace */
	HP_ID_MDTS,         /* MDTS 255 */
	HP_ID_SHORT,        /* Identify Controller: half the data */
	HP_NS_FLBAS,        /* formatted LBA index beyond NLBAF */
	HP_NS_LBADS,        /* LBA data size 2^40 */
	HP_NS_NSZE,         /* size overflows 64 bits */
	/* keep-alive */
	HP_KA_SILENT,
	/* TLS: what a host that starts a TLS handshake (a ClientHello, first
	 * byte 16h, where an ICReq belongs) meets */
	HP_TLS_GARBAGE,     /* an ICResp instead of a ServerHello */
	HP_TLS_SILENT,      /* reads the ClientHello, says nothing */
	HP_DISC_TLS,        /* discovery log: entry 0 TLS 1.3 required,
			     * entry 1 TLS 1.3 not required (TSAS/TREQ) */
};

struct hp;

/* Start a controller with one misbehaviour (HP_NONE: none). */
struct hp *hp_start(enum hp_mode mode);
/* Its port, as text for nvmeof_opts.trsvcid. */
const char *hp_port(struct hp *p);
/* Stop: close every connection, join every thread, free. */
void hp_stop(struct hp *p);
/* Did the misbehaviour happen? */
bool hp_fired(struct hp *p);
/* I/O commands (Read/Write) the controller received on I/O queues. */
unsigned hp_io_cmds(struct hp *p);
/* The byte at offset off of namespace 1 as the controller first holds it. */
uint8_t hp_pattern(uint64_t off);
/* Namespace 1's current bytes [off, off + len). */
void hp_ns_read(struct hp *p, uint64_t off, void *buf, uint32_t len);

/* CRC-32C as NVMe/TCP digests use it (bitwise: no table shared with lib). */
uint32_t hp_crc32c(const void *buf, size_t len);

#endif

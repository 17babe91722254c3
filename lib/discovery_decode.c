/* SPDX-License-Identifier: MIT */
/* Discovery log page 70h (NVMe-oF 1.1 §5.3) from raw bytes into
 * struct nvmeof_disc_log: pure decoding, no controller, no I/O.  The bytes
 * come from a target we do not trust: every count is checked against len
 * before it is used, every string is bounded by its field. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nvme_spec.h"

/* The public names are the wire's values. */
_Static_assert(NVMEOF_TRTYPE_TCP == NVMF_TRTYPE_TCP &&
	       NVMEOF_TRTYPE_RDMA == NVMF_TRTYPE_RDMA &&
	       NVMEOF_TRTYPE_FC == NVMF_TRTYPE_FC &&
	       NVMEOF_TRTYPE_LOOP == NVMF_TRTYPE_LOOP, "TRTYPE");
_Static_assert(NVMEOF_ADRFAM_IPV4 == NVMF_ADRFAM_IPV4 &&
	       NVMEOF_ADRFAM_IPV6 == NVMF_ADRFAM_IPV6 &&
	       NVMEOF_ADRFAM_IB == NVMF_ADRFAM_IB &&
	       NVMEOF_ADRFAM_FC == NVMF_ADRFAM_FC, "ADRFAM");
_Static_assert(NVMEOF_SUBTYPE_REFERRAL == NVMF_SUBTYPE_REFERRAL &&
	       NVMEOF_SUBTYPE_NVME == NVMF_SUBTYPE_NVME &&
	       NVMEOF_SUBTYPE_CURRENT_DISC == NVMF_SUBTYPE_CURRENT_DISC,
	       "SUBTYPE");

#define DISC_HDR_SIZE sizeof(struct nvmf_disc_log_hdr)
#define DISC_ENTRY_SIZE sizeof(struct nvmf_disc_log_entry)

/* Fixed-size fields are space- or NUL-padded and need not be terminated
 * (§5.3: "ASCII string ... padded with spaces"): copy up to the first NUL
 * or the field's end, drop the padding, terminate.  dst holds field + 1. */
static void copy_field(char *dst, const uint8_t *src, size_t field)
{
	const uint8_t *nul = memchr(src, '\0', field);
	size_t n = nul ? (size_t)(nul - src) : field;

	while (n > 0 && src[n - 1] == ' ')
		n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

#define ENTRY_FIELD(e, f) ((e) + offsetof(struct nvmf_disc_log_entry, f))
#define ENTRY_FIELD_SIZE(f) sizeof(((struct nvmf_disc_log_entry *)0)->f)

static void decode_entry(const uint8_t *e, struct nvmeof_disc_entry *d)
{
	_Static_assert(sizeof d->trsvcid == ENTRY_FIELD_SIZE(trsvcid) + 1, "trsvcid");
	_Static_assert(sizeof d->traddr == ENTRY_FIELD_SIZE(traddr) + 1, "traddr");
	_Static_assert(sizeof d->subnqn == ENTRY_FIELD_SIZE(subnqn) + 1, "subnqn");

	d->trtype = *ENTRY_FIELD(e, trtype);
	d->adrfam = *ENTRY_FIELD(e, adrfam);
	d->subtype = *ENTRY_FIELD(e, subtype);
	d->treq = *ENTRY_FIELD(e, treq);
	d->portid = le16_get(ENTRY_FIELD(e, portid));
	d->cntlid = le16_get(ENTRY_FIELD(e, cntlid));
	d->asqsz = le16_get(ENTRY_FIELD(e, asqsz));
	d->eflags = le16_get(ENTRY_FIELD(e, eflags));
	/* NVMe/TCP 1.0 §4.2 (TSAS): byte 0 is SECTYPE; other transports
	 * define TSAS differently, so it means nothing there. */
	d->sectype = d->trtype == NVMEOF_TRTYPE_TCP ? ENTRY_FIELD(e, tsas)[0] : 0;
	copy_field(d->trsvcid, ENTRY_FIELD(e, trsvcid), ENTRY_FIELD_SIZE(trsvcid));
	copy_field(d->traddr, ENTRY_FIELD(e, traddr), ENTRY_FIELD_SIZE(traddr));
	copy_field(d->subnqn, ENTRY_FIELD(e, subnqn), ENTRY_FIELD_SIZE(subnqn));
}

int nvmeof_disc_log_decode(const void *buf, size_t len,
			   struct nvmeof_disc_log **logp)
{
	const uint8_t *p = buf;
	struct nvmeof_disc_log *log;
	uint64_t genctr, numrec;
	size_t room, i;

	if (!logp)
		return set_error(EINVAL, "discovery log: no result pointer");
	*logp = NULL;
	if (!buf || len < DISC_HDR_SIZE)
		return set_error(EINVAL,
				 "discovery log: %zu bytes, shorter than the %zu-byte header",
				 buf ? len : 0, DISC_HDR_SIZE);

	genctr = le64_get(p + offsetof(struct nvmf_disc_log_hdr, genctr));
	numrec = le64_get(p + offsetof(struct nvmf_disc_log_hdr, numrec));
	/* Compare counts, never numrec * 1024: that can overflow. */
	room = (len - DISC_HDR_SIZE) / DISC_ENTRY_SIZE;
	if (numrec > room)
		return set_error(EINVAL,
				 "discovery log: %" PRIu64 " records announced, but %zu bytes hold only %zu",
				 numrec, len, room);

	log = calloc(1, sizeof *log);
	if (!log)
		return set_error(ENOMEM, "discovery log: out of memory");
	/* One element at least, so that entries is never NULL. */
	log->entries = calloc(numrec ? (size_t)numrec : 1, sizeof *log->entries);
	if (!log->entries) {
		free(log);
		return set_error(ENOMEM, "discovery log: out of memory for %" PRIu64 " entries",
				 numrec);
	}
	log->genctr = genctr;
	log->numrec = numrec;
	log->recfmt = le16_get(p + offsetof(struct nvmf_disc_log_hdr, recfmt));
	for (i = 0; i < numrec; i++)
		decode_entry(p + DISC_HDR_SIZE + i * DISC_ENTRY_SIZE, &log->entries[i]);
	*logp = log;
	return 0;
}

void nvmeof_disc_log_free(struct nvmeof_disc_log *log)
{
	if (!log)
		return;
	free(log->entries);
	free(log);
}

int nvmeof_disc_entry_tls(const struct nvmeof_disc_entry *e, bool have_key)
{
	bool required = (e->treq & NVMEOF_TREQ_SECURE_MASK) == NVMEOF_TREQ_REQUIRED;

	if (e->trtype != NVMEOF_TRTYPE_TCP)
		return 0;
	if (required && !have_key)
		return set_error(ENOKEY, "the port requires TLS (TREQ) and no TLS key "
				  "is given");
	/* A port that says it has TLS (TSAS) gets it when we can; one that
	 * says none (or is not-required without a key of ours) gets plain
	 * NVMe/TCP. */
	return have_key && (required || e->sectype != NVMEOF_SECTYPE_NONE);
}

const char *nvmeof_treq_str(uint8_t treq)
{
	static const char *const words[] = { "not specified", "required", "not required",
					     "reserved" };

	return words[treq & NVMEOF_TREQ_SECURE_MASK];
}

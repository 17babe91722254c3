/* SPDX-License-Identifier: MIT */
/*
 * Discovery (NVMe-oF 1.1 §5.3): read log page 70h whole and consistent
 * (header, entries, header again; retry while GENCTR moved), and follow
 * referrals to other discovery controllers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define DISC_HDR 1024u
#define DISC_ENTRY 1024u
#define DISC_MAX_RECORDS 4096u /* 4 MiB of log: far beyond any real target */
#define DISC_RETRIES 10

int nvmeof_discover(struct nvmeof_ctrl *c, struct nvmeof_disc_log **logp)
{
	uint8_t hdr[DISC_HDR], hdr2[DISC_HDR];
	uint8_t *buf = NULL;
	int attempt, rc;

	*logp = NULL;
	for (attempt = 0; attempt < DISC_RETRIES; attempt++) {
		uint64_t gen, numrec;
		size_t len;

		rc = nvmeof_get_log_page(c, NVME_LOG_DISCOVERY, 0, 0, 0, hdr,
					 sizeof hdr);
		if (rc < 0)
			goto out;
		gen = le64_get(hdr);
		numrec = le64_get(hdr + 8);
		if (numrec > DISC_MAX_RECORDS) {
			rc = nvmeof_err(EPROTO,
					"discovery log claims %" PRIu64 " records (at most %u accepted)",
					numrec, DISC_MAX_RECORDS);
			goto out;
		}
		len = DISC_HDR + (size_t)numrec * DISC_ENTRY;
		free(buf);
		buf = malloc(len);
		if (!buf) {
			rc = nvmeof_err(ENOMEM, "out of memory");
			goto out;
		}
		if (numrec) {
			rc = nvmeof_get_log_page(c, NVME_LOG_DISCOVERY, 0, 0, 0,
						 buf, len);
			if (rc < 0)
				goto out;
		} else {
			memcpy(buf, hdr, DISC_HDR);
		}
		rc = nvmeof_get_log_page(c, NVME_LOG_DISCOVERY, 0, 0, 0, hdr2,
					 sizeof hdr2);
		if (rc < 0)
			goto out;
		/* Consistent only if nothing moved while we read. */
		if (le64_get(hdr2) == gen && le64_get(buf) == gen &&
		    le64_get(buf + 8) == numrec) {
			rc = nvmeof_disc_log_decode(buf, len, logp);
			goto out;
		}
	}
	rc = nvmeof_err(EAGAIN,
			"discovery log kept changing (GENCTR) over %d attempts",
			DISC_RETRIES);
out:
	free(buf);
	return rc;
}

static bool same_entry(const struct nvmeof_disc_entry *a,
		       const struct nvmeof_disc_entry *b)
{
	return a->subtype == b->subtype && a->trtype == b->trtype &&
	       !strcmp(a->traddr, b->traddr) &&
	       !strcmp(a->trsvcid, b->trsvcid) && !strcmp(a->subnqn, b->subnqn);
}

static int merge(struct nvmeof_disc_log *into, const struct nvmeof_disc_log *from)
{
	uint64_t i, j;

	for (i = 0; i < from->numrec; i++) {
		struct nvmeof_disc_entry *n;

		for (j = 0; j < into->numrec; j++)
			if (same_entry(&into->entries[j], &from->entries[i]))
				break;
		if (j < into->numrec)
			continue;
		n = realloc(into->entries, (size_t)(into->numrec + 1) * sizeof *n);
		if (!n)
			return nvmeof_err(ENOMEM, "out of memory");
		into->entries = n;
		into->entries[into->numrec++] = from->entries[i];
	}
	return 0;
}

static int discover_rec(const struct nvmeof_opts *o, int depth,
			struct nvmeof_disc_log *all, char (*seen)[300],
			int *nseen)
{
	struct nvmeof_opts d = *o;
	struct nvmeof_ctrl *c;
	struct nvmeof_disc_log *log;
	uint64_t i;
	int rc, k;

	/* Visit each discovery controller once (referral loops). */
	for (k = 0; k < *nseen; k++)
		if (!strncmp(seen[k], o->traddr, 256) &&
		    !strcmp(seen[k] + 260, o->trsvcid ? o->trsvcid : "4420"))
			return 0;
	if (*nseen < 64) {
		snprintf(seen[*nseen], 256, "%s", o->traddr);
		snprintf(seen[*nseen] + 260, 40, "%s",
			 o->trsvcid ? o->trsvcid : "4420");
		(*nseen)++;
	}
	d.subnqn = NVMF_DISCOVERY_NQN;
	d.nr_io_queues = 0;
	rc = nvmeof_connect(&d, &c);
	if (rc < 0)
		return rc;
	rc = nvmeof_discover(c, &log);
	nvmeof_disconnect(c);
	if (rc < 0)
		return rc;
	rc = merge(all, log);
	if (rc == 0 && depth > 0) {
		for (i = 0; i < log->numrec; i++) {
			struct nvmeof_disc_entry *e = &log->entries[i];
			struct nvmeof_opts r = *o;

			if (e->subtype != NVMEOF_SUBTYPE_REFERRAL ||
			    e->trtype != NVMEOF_TRTYPE_TCP)
				continue;
			r.traddr = e->traddr;
			r.trsvcid = e->trsvcid;
			/* An unreachable referral does not spoil the rest. */
			(void)discover_rec(&r, depth - 1, all, seen, nseen);
		}
	}
	nvmeof_disc_log_free(log);
	return rc;
}

int nvmeof_discover_all(const struct nvmeof_opts *opts, int max_depth,
			struct nvmeof_disc_log **logp)
{
	struct nvmeof_disc_log *all = calloc(1, sizeof *all);
	char (*seen)[300] = calloc(64, 300);
	int nseen = 0, rc;

	*logp = NULL;
	if (!all || !seen) {
		free(all);
		free(seen);
		return nvmeof_err(ENOMEM, "out of memory");
	}
	rc = discover_rec(opts, max_depth, all, seen, &nseen);
	free(seen);
	if (rc < 0) {
		nvmeof_disc_log_free(all);
		return rc;
	}
	all->recfmt = 0;
	*logp = all;
	return 0;
}

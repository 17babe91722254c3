/* SPDX-License-Identifier: MIT */
/*
 * Namespaces: the active namespace list, Identify Namespace decoded, and
 * the cache of each namespace's LBA size that every I/O call looks at.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

/*
 * The LBA size cache is read by every I/O call of every thread and
 * written only when a namespace is looked up or changes: readers take no
 * lock.  A sequence counter (odd while a writer is at work, writers
 * serialised by ns_lock) tells a reader to look again; the table is
 * changed in place and replaced only to grow, the old one kept until
 * disconnect (a reader may still be in it; at most a few, it doubles).
 */
struct ns_table {
	uint32_t cap, n;
	struct ns_table *older;
	struct ns_cache e[];
};

#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer does not model the fences of the sequence counter (GCC
 * refuses them under -fsanitize=thread): its builds take ns_lock to read,
 * so that it checks the writers' locking instead. */
#define NS_SEQ_FENCE(order) ((void)0)
static bool ns_lookup(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t *shift)
{
	struct ns_table *t;
	bool found = false;

	pthread_mutex_lock(&c->ns_lock);
	t = c->ns_tab;
	for (uint32_t i = 0; t && i < t->n; i++) {
		if (t->e[i].nsid == nsid) {
			*shift = t->e[i].lba_shift;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&c->ns_lock);
	return found;
}
#else
#define NS_SEQ_FENCE(order) __atomic_thread_fence(order)
static bool ns_lookup(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t *shift)
{
	for (;;) {
		unsigned seq = __atomic_load_n(&c->ns_seq, __ATOMIC_ACQUIRE);
		struct ns_table *t;
		bool found = false;
		uint32_t i, n;

		if (seq & 1) {
			sched_yield();
			continue;
		}
		t = __atomic_load_n(&c->ns_tab, __ATOMIC_ACQUIRE);
		n = t ? __atomic_load_n(&t->n, __ATOMIC_RELAXED) : 0;
		for (i = 0; i < n; i++) {
			if (__atomic_load_n(&t->e[i].nsid, __ATOMIC_RELAXED) == nsid) {
				*shift = __atomic_load_n(&t->e[i].lba_shift,
							 __ATOMIC_RELAXED);
				found = true;
				break;
			}
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&c->ns_seq, __ATOMIC_RELAXED) == seq)
			return found;
	}
}
#endif

/* ns_lock held: the table is about to change. */
static void write_begin(struct nvmeof_ctrl *c)
{
	__atomic_store_n(&c->ns_seq, c->ns_seq + 1, __ATOMIC_RELAXED);
	NS_SEQ_FENCE(__ATOMIC_RELEASE);
}

static void write_end(struct nvmeof_ctrl *c)
{
	__atomic_store_n(&c->ns_seq, c->ns_seq + 1, __ATOMIC_RELEASE);
}

void ctrl_ns_forget(struct nvmeof_ctrl *c, uint32_t nsid)
{
	struct ns_table *t;
	uint32_t i;

	pthread_mutex_lock(&c->ns_lock);
	t = c->ns_tab;
	write_begin(c);
	for (i = 0; t && i < t->n;) {
		if (!nsid || t->e[i].nsid == nsid) {
			struct ns_cache last = t->e[t->n - 1];

			__atomic_store_n(&t->e[i].nsid, last.nsid, __ATOMIC_RELAXED);
			__atomic_store_n(&t->e[i].lba_shift, last.lba_shift,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&t->n, t->n - 1, __ATOMIC_RELAXED);
		} else {
			i++;
		}
	}
	write_end(c);
	pthread_mutex_unlock(&c->ns_lock);
}

static void ns_remember(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t shift)
{
	struct ns_table *t;
	uint32_t i;

	pthread_mutex_lock(&c->ns_lock);
	t = c->ns_tab;
	for (i = 0; t && i < t->n; i++)
		if (t->e[i].nsid == nsid)
			break;
	if (t && i < t->n && t->e[i].lba_shift == shift) {
		pthread_mutex_unlock(&c->ns_lock);
		return;
	}
	if (!t || (i == t->n && t->n == t->cap)) {
		uint32_t cap = t ? t->cap * 2 : 8;
		struct ns_table *g = calloc(1, sizeof *g + cap * sizeof g->e[0]);

		if (!g) { /* not cached: looked up again next time */
			pthread_mutex_unlock(&c->ns_lock);
			return;
		}
		g->cap = cap;
		g->older = t;
		if (t) {
			g->n = t->n;
			memcpy(g->e, t->e, t->n * sizeof g->e[0]);
		}
		__atomic_store_n(&c->ns_tab, g, __ATOMIC_RELEASE);
		t = g;
	}
	write_begin(c);
	__atomic_store_n(&t->e[i].nsid, nsid, __ATOMIC_RELAXED);
	__atomic_store_n(&t->e[i].lba_shift, shift, __ATOMIC_RELAXED);
	if (i == t->n)
		__atomic_store_n(&t->n, t->n + 1, __ATOMIC_RELAXED);
	write_end(c);
	pthread_mutex_unlock(&c->ns_lock);
}

int ctrl_lba_shift(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t *shift)
{
	struct nvmeof_ns_info info;
	int rc;

	if (likely(ns_lookup(c, nsid, shift)))
		return 0;
	rc = nvmeof_ns_info(c, nsid, &info); /* remembers the shift */
	if (rc < 0)
		return rc;
	*shift = (uint32_t)__builtin_ctz(info.lba_size);
	return 0;
}

void ctrl_ns_set(struct nvmeof_ctrl *c, uint32_t nsid, uint32_t shift)
{
	ns_remember(c, nsid, shift);
}

void ctrl_ns_free(struct nvmeof_ctrl *c)
{
	struct ns_table *t = c->ns_tab, *o;

	for (; t; t = o) {
		o = t->older;
		free(t);
	}
	c->ns_tab = NULL;
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
		return set_error(ENOMEM, "out of memory");
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
				rc = set_error(EPROTO,
					       "active namespace list is not ascending (%u after %u)",
					       id, last);
				goto out;
			}
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				uint32_t *t = realloc(out, nc * sizeof *t);

				if (!t) {
					rc = set_error(ENOMEM, "out of memory");
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
		return set_error(EINVAL, "namespace ID %u is not valid", nsid);
	id = malloc(sizeof *id);
	if (!id)
		return set_error(ENOMEM, "out of memory");
	rc = nvmeof_identify(c, NVME_CNS_NS, nsid, 0, id);
	if (rc < 0)
		goto out;
	memset(info, 0, sizeof *info);
	info->nsid = nsid;
	info->nsze = le64toh(id->nsze);
	info->ncap = le64toh(id->ncap);
	info->nuse = le64toh(id->nuse);
	if (!info->nsze) {
		rc = set_error(ENOENT, "namespace %u is not active", nsid);
		goto out;
	}
	idx = nvme_id_ns_flbas_index(id->flbas, id->nlbaf);
	if (idx > id->nlbaf || idx >= 64) {
		rc = set_error(EPROTO,
			       "namespace %u: formatted LBA index %u beyond its %u formats",
			       nsid, idx, id->nlbaf + 1u);
		goto out;
	}
	lbads = id->lbaf[idx].lbads;
	if (lbads < 9 || lbads > 24) {
		rc = set_error(EPROTO,
			       "namespace %u: unsupported LBA data size 2^%u bytes",
			       nsid, lbads);
		goto out;
	}
	if (info->nsze > (UINT64_MAX >> lbads)) {
		rc = set_error(EPROTO, "namespace %u: size overflows 64 bits",
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
	clear_error();
	rc = 0;
out:
	free(id);
	return rc;
}

/*
 * What the interop tests against the Linux kernel's nvmet share: see
 * interop_io.h.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "interop_io.h"

void read_pattern(struct nvmeof_ctrl *c, uint64_t off)
{
	static __thread uint8_t b[256 * 1024];

	cr_assert_eq(nvmeof_read(c, 1, off / LBA, sizeof b / LBA, b), 0, "read: %s",
		     nvmeof_get_error());
	for (size_t i = 0; i < sizeof b; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		cr_assert_eq(le64toh(w), (off + i) ^ PATTERN_XOR, "pattern at %llu",
			     (unsigned long long)(off + i));
	}
}

void wait_status(struct nvmeof_ctrl *c, struct nvmeof_ctrl_status *st,
		 bool (*done)(const struct nvmeof_ctrl_status *), const char *what)
{
	for (int i = 0; i < 6000; i++) {
		nvmeof_ctrl_status(c, st);
		if (done(st))
			return;
		usleep(10000);
	}
	cr_assert_fail("still not %s after 60 s: state %s, %s", what, st->state,
		       st->last_error);
}

bool reconnected(const struct nvmeof_ctrl_status *st)
{
	return st->reconnects >= 1 && !strcmp(st->state, "live");
}

static void vw_fill(uint8_t *b, unsigned id, unsigned blk, uint32_t gen)
{
	for (size_t i = 0; i < LBA; i += 8) {
		uint64_t w = htole64(((uint64_t)id << 56) ^ ((uint64_t)blk << 40) ^
				     ((uint64_t)gen << 16) ^ i);

		memcpy(b + i, &w, 8);
	}
}

static void *vw_thread(void *arg)
{
	struct vw *v = arg;
	uint8_t w[LBA], r[LBA];

	for (uint32_t gen = 1; !atomic_load(&v->stop); gen++) {
		unsigned blk = gen % VW_BLOCKS;
		uint64_t lba = (uint64_t)v->id * VW_BLOCKS + blk;

		vw_fill(w, v->id, blk, gen);
		if (nvmeof_write(v->c, VW_NSID, lba, 1, w, false) != 0) {
			snprintf(v->err, sizeof v->err, "write of LBA %llu: %s",
				 (unsigned long long)lba, nvmeof_get_error());
			break;
		}
		v->last[blk] = gen;
		if (nvmeof_read(v->c, VW_NSID, lba, 1, r) != 0) {
			snprintf(v->err, sizeof v->err, "read of LBA %llu: %s",
				 (unsigned long long)lba, nvmeof_get_error());
			break;
		}
		if (memcmp(w, r, LBA)) {
			snprintf(v->err, sizeof v->err, "LBA %llu reads back other data",
				 (unsigned long long)lba);
			break;
		}
		atomic_fetch_add(&v->ops, 1);
	}
	return NULL;
}

/* Wait (a hang guard) until every thread has done at least n verified
 * writes, or one has failed. */
static void vw_wait(struct vw *v, const unsigned *n, const char *what)
{
	for (int i = 0; i < 12000; i++) {
		unsigned done = 0;

		for (unsigned t = 0; t < VW_THREADS; t++) {
			cr_assert_eq(v[t].err[0], 0, "thread %u: %s", t, v[t].err);
			done += atomic_load(&v[t].ops) >= n[t];
		}
		if (done == VW_THREADS)
			return;
		usleep(10000);
	}
	cr_assert_fail("verified writes stalled %s", what);
}

void vw_start(struct vw *v, pthread_t *th, struct nvmeof_ctrl *c)
{
	unsigned want[VW_THREADS];

	for (unsigned t = 0; t < VW_THREADS; t++) {
		v[t].c = c;
		v[t].id = t;
		cr_assert_eq(pthread_create(&th[t], NULL, vw_thread, &v[t]), 0);
		want[t] = 2 * VW_BLOCKS; /* every block written twice before */
	}
	vw_wait(v, want, "before the port went away");
}

void vw_more(struct vw *v, const char *what)
{
	unsigned want[VW_THREADS];

	for (unsigned t = 0; t < VW_THREADS; t++)
		want[t] = atomic_load(&v[t].ops) + 2 * VW_BLOCKS;
	vw_wait(v, want, what);
}

void vw_stop(struct vw *v, pthread_t *th)
{
	for (unsigned t = 0; t < VW_THREADS; t++)
		atomic_store(&v[t].stop, true);
	for (unsigned t = 0; t < VW_THREADS; t++) {
		pthread_join(th[t], NULL);
		cr_assert_eq(v[t].err[0], 0, "thread %u: %s", t, v[t].err);
	}
}

void vw_check_last(struct vw *v, struct nvmeof_ctrl *c)
{
	uint8_t w[LBA], r[LBA];

	for (unsigned t = 0; t < VW_THREADS; t++)
		for (unsigned b = 0; b < VW_BLOCKS; b++) {
			uint64_t lba = (uint64_t)t * VW_BLOCKS + b;

			cr_assert_eq(nvmeof_read(c, VW_NSID, lba, 1, r), 0, "read: %s",
				     nvmeof_get_error());
			vw_fill(w, t, b, v[t].last[b]);
			cr_assert_eq(memcmp(w, r, LBA), 0, "LBA %llu: not the last write",
				     (unsigned long long)lba);
		}
}

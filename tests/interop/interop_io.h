/*
 * What the interop tests of libnvmeof against the Linux kernel's nvmet
 * share (test_auth_interop.c, test_tls_interop.c): the check of the known
 * pattern of namespace 1, the wait for an association's state, and the
 * verified writes (several threads write, read back and compare, as fio
 * --verify does) on namespace 2 across a reconnect.
 */
#ifndef NVMEOF_TESTS_INTEROP_IO_H
#define NVMEOF_TESTS_INTEROP_IO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvmeof.h"

#define PATTERN_XOR 0x6e766d656f660000ull
#define LBA 4096u

/* Read 256 KiB of namespace 1 at byte off and check the guest's pattern. */
void read_pattern(struct nvmeof_ctrl *c, uint64_t off);

/* Wait (a hang guard, not a timing assumption) until the association's
 * status satisfies done(). */
void wait_status(struct nvmeof_ctrl *c, struct nvmeof_ctrl_status *st,
		 bool (*done)(const struct nvmeof_ctrl_status *), const char *what);
/* done() for wait_status: reconnected at least once and live. */
bool reconnected(const struct nvmeof_ctrl_status *st);

#define VW_THREADS 4
#define VW_BLOCKS 64               /* 4 KiB blocks per thread: 256 KiB each */
#define VW_NSID 2

struct vw {
	struct nvmeof_ctrl *c;
	unsigned id;
	atomic_uint ops;           /* verified writes done */
	atomic_bool stop;
	uint32_t last[VW_BLOCKS];  /* the generation last written to each block */
	char err[256];
};

/* Start the VW_THREADS writers of v on c and wait until each has written
 * every one of its blocks twice. */
void vw_start(struct vw *v, pthread_t *th, struct nvmeof_ctrl *c);
/* Wait until every writer has written each of its blocks twice more
 * (what: for the message when they stall). */
void vw_more(struct vw *v, const char *what);
/* Stop the writers; none may have failed. */
void vw_stop(struct vw *v, pthread_t *th);
/* Every block reads back as its writer last wrote it. */
void vw_check_last(struct vw *v, struct nvmeof_ctrl *c);

#endif

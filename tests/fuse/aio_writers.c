/* SPDX-License-Identifier: MIT */
/*
 * aio_writers FILE: concurrent writers to the same blocks of FILE.
 *
 * The kernel serialises write(2) calls to one FUSE inode, so only
 * asynchronous O_DIRECT (io_submit, FUSE_CAP_ASYNC_DIO) puts several WRITE
 * requests to the same blocks in flight at once: the case of qemu with
 * cache=none,aio=native and 512-byte guest sectors on 4 KiB LBAs.
 *
 * NPROC processes each own every NPROC-th CHUNK-byte piece of an unaligned
 * span over three blocks, and rewrite all their pieces ROUNDS times (a
 * distinct byte value per round, all pieces of a round in flight at once).
 * One more process rewrites a whole aligned block in the same 64 KiB
 * stripe.  Afterwards every piece must hold its owner's last value, the
 * whole block its writer's last value, and bytes nobody owns must be zero.
 * Exit 0 if so, 1 if a byte was lost, 2 on an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPROC 8
#define ROUNDS 40
#define CHUNK 97
#define BASE (4096 - 700)
#define SPAN (2 * 4096 + 1400)
#define WHOLE (4 * 4096)
#define REGION 65536
#define NCHUNKS ((SPAN + CHUNK - 1) / CHUNK)
#define MAXQ (NCHUNKS / NPROC + 2)

static uint8_t value(int w, int r)
{
	return (uint8_t)((w * 31 + r) % 251 + 1);
}

static int submit_all(aio_context_t ctx, struct iocb *cbs, int n)
{
	struct iocb *ptrs[MAXQ];
	struct io_event ev[MAXQ];
	int i, done = 0;

	for (i = 0; i < n; i++)
		ptrs[i] = &cbs[i];
	if (syscall(SYS_io_submit, ctx, (long)n, ptrs) != n) {
		perror("io_submit");
		return -1;
	}
	while (done < n) {
		long got = syscall(SYS_io_getevents, ctx, 1L, (long)(n - done),
				   ev, NULL);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("io_getevents");
			return -1;
		}
		for (i = 0; i < got; i++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].obj;

			if (ev[i].res != (int64_t)cb->aio_nbytes) {
				fprintf(stderr, "write at %lld: result %lld\n",
					(long long)cb->aio_offset,
					(long long)ev[i].res);
				return -1;
			}
		}
		done += (int)got;
	}
	return 0;
}

static int writer(const char *path, int w)
{
	aio_context_t ctx = 0;
	struct iocb cbs[MAXQ];
	uint8_t *bufs[MAXQ];
	int fd, r, n, k;

	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 || syscall(SYS_io_setup, (long)MAXQ, &ctx) < 0) {
		perror(path);
		return 2;
	}
	for (k = 0; k < MAXQ; k++)
		if (posix_memalign((void **)&bufs[k], 4096, 4096))
			return 2;
	for (r = 0; r < ROUNDS; r++) {
		memset(cbs, 0, sizeof cbs);
		if (w == NPROC) {
			/* the whole-block writer: one aligned write a round */
			memset(bufs[0], value(w, r), 4096);
			cbs[0].aio_fildes = (uint32_t)fd;
			cbs[0].aio_lio_opcode = IOCB_CMD_PWRITE;
			cbs[0].aio_buf = (uint64_t)(uintptr_t)bufs[0];
			cbs[0].aio_nbytes = 4096;
			cbs[0].aio_offset = WHOLE;
			if (submit_all(ctx, cbs, 1) < 0)
				return 2;
			continue;
		}
		n = 0;
		for (k = w; k < NCHUNKS; k += NPROC) {
			long off = BASE + (long)k * CHUNK;
			long len = BASE + SPAN - off < CHUNK ? BASE + SPAN - off :
							      CHUNK;

			memset(bufs[n], value(w, r), (size_t)len);
			cbs[n].aio_fildes = (uint32_t)fd;
			cbs[n].aio_lio_opcode = IOCB_CMD_PWRITE;
			cbs[n].aio_buf = (uint64_t)(uintptr_t)bufs[n];
			cbs[n].aio_nbytes = (uint64_t)len;
			cbs[n].aio_offset = off;
			n++;
		}
		if (submit_all(ctx, cbs, n) < 0)
			return 2;
	}
	syscall(SYS_io_destroy, ctx);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	pid_t pids[NPROC + 1];
	uint8_t *data;
	int fd, w, k, bad = 0, status;

	if (argc != 2) {
		fprintf(stderr, "usage: aio_writers FILE\n");
		return 2;
	}
	if (posix_memalign((void **)&data, 4096, REGION))
		return 2;
	memset(data, 0, REGION);
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || pwrite(fd, data, REGION, 0) != REGION || fsync(fd) < 0) {
		perror(argv[1]);
		return 2;
	}
	close(fd);
	for (w = 0; w <= NPROC; w++) {
		pids[w] = fork();
		if (pids[w] < 0)
			return 2;
		if (pids[w] == 0)
			_exit(writer(argv[1], w));
	}
	for (w = 0; w <= NPROC; w++) {
		if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "writer %d failed\n", w);
			bad = 2;
		}
	}
	if (bad)
		return bad;
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || pread(fd, data, REGION, 0) != REGION) {
		perror(argv[1]);
		return 2;
	}
	close(fd);
	for (k = 0; k < NCHUNKS; k++) {
		long off = BASE + (long)k * CHUNK, i;
		long len = BASE + SPAN - off < CHUNK ? BASE + SPAN - off : CHUNK;
		uint8_t want = value(k % NPROC, ROUNDS - 1);

		for (i = 0; i < len; i++) {
			if (data[off + i] != want) {
				fprintf(stderr, "piece %d at %ld (writer %d): byte %ld is %u, expected %u\n",
					k, off, k % NPROC, i, data[off + i], want);
				bad = 1;
				break;
			}
		}
	}
	for (k = 0; k < WHOLE; k++) {
		if ((k < BASE || k >= BASE + SPAN) && data[k]) {
			fprintf(stderr, "byte %d, which nobody wrote, is %u\n", k,
				data[k]);
			bad = 1;
			break;
		}
	}
	for (k = WHOLE; k < WHOLE + 4096; k++) {
		if (data[k] != value(NPROC, ROUNDS - 1)) {
			fprintf(stderr, "the whole-block writer's last write is lost (byte %d is %u)\n",
				k, data[k]);
			bad = 1;
			break;
		}
	}
	free(data);
	return bad;
}

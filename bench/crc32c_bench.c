/* SPDX-License-Identifier: MIT */
/* CRC-32C throughput: crc32c() (SSE4.2 when present) and the table.
 * Prints figures only; never fails on time.
 * usage: crc32c_bench [buffer-bytes [total-MiB]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(const char *name, uint32_t (*fn)(uint32_t, const void *, size_t),
		const unsigned char *buf, size_t len, size_t total)
{
	size_t iters = total / len ? total / len : 1;
	volatile uint32_t sink = 0;
	uint32_t c = 0;
	double t0, t;

	fn(0, buf, len); /* warm up: tables, CPU detection, caches */
	t0 = now();
	for (size_t i = 0; i < iters; i++)
		c = fn(c, buf, len);
	t = now() - t0;
	sink = c;
	(void)sink;
	printf("%-10s %8zu-byte buffers: %7.2f GB/s\n", name, len,
	       (double)iters * len / t / 1e9);
}

int main(int argc, char **argv)
{
	size_t lens[] = { 64, 4096, 65536, 1 << 20 };
	size_t total = 1024ul << 20, sw_total;
	unsigned char *buf;
	size_t nlen = sizeof lens / sizeof lens[0], maxlen = 0;

	if (argc > 1) {
		lens[0] = strtoul(argv[1], NULL, 0);
		nlen = 1;
	}
	if (argc > 2)
		total = strtoul(argv[2], NULL, 0) << 20;
	sw_total = total / 4;
	for (size_t i = 0; i < nlen; i++)
		maxlen = lens[i] > maxlen ? lens[i] : maxlen;
	if (!lens[0] || !(buf = malloc(maxlen)))
		return 1;
	for (size_t i = 0; i < maxlen; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	printf("crc32c(): %s\n", crc32c_has_hw() ? "SSE4.2 crc32 instruction"
						 : "table (no SSE4.2)");
	for (size_t i = 0; i < nlen; i++) {
		run("crc32c", crc32c, buf, lens[i], total);
		run("crc32c_sw", crc32c_sw, buf, lens[i], sw_total);
	}
	free(buf);
	return 0;
}

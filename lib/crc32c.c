/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C (Castagnoli) for the NVMe/TCP header and data digests.
 *
 * NVMe/TCP 1.0 header and data digests (negotiated by the ICReq DGST field,
 * §3.6.2.2) are CRC-32C: reflected polynomial 0x82F63B78, initial value
 * 0xFFFFFFFF and a final complement, the CRC iSCSI uses (RFC 3720 B.4).
 *
 * crc32c() complements on the way in and on the way out, so a digest over
 * pieces is crc32c(crc32c(0, a, n), b, m) and 0 starts a fresh one.
 *
 * Two implementations: the SSE4.2 CRC32 instruction (which computes exactly
 * this CRC) 8 bytes at a time when the CPU has it, and a slicing-by-8 table
 * otherwise.  The choice is made once, on first use.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define CRC32C_HAVE_X86 1
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82F63B78u /* reflected 0x1EDC6F41 */

/* crc_table[0] is the classic byte-at-a-time table; crc_table[k][b] is the
 * CRC of byte b followed by k zero bytes, which lets the loop below fold
 * eight input bytes with eight independent lookups. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
	for (unsigned n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_table[0][n] = c;
	}
	for (unsigned n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc_table[k][n] = (crc_table[k - 1][n] >> 8) ^
					  crc_table[0][crc_table[k - 1][n] & 0xff];
}

/* Little-endian load whatever the host order and alignment (the compiler
 * turns it into one load on x86). */
static inline uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Table-driven CRC on the raw register (no complements). */
static uint32_t crc32c_table_raw(uint32_t c, const unsigned char *p, size_t len)
{
	while (len >= 8) {
		uint32_t lo = c ^ load_le32(p), hi = load_le32(p + 4);

		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
	return c;
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_table_once, crc_table_init);
	return ~crc32c_table_raw(~crc, buf, len);
}

#ifdef CRC32C_HAVE_X86
/* The CRC32 instruction (SSE4.2) implements CRC-32C on the raw register.
 * One stream, 8 bytes per instruction once the pointer is aligned. */
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw_raw(uint32_t c, const unsigned char *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		c = _mm_crc32_u8(c, *p++);
		len--;
	}
#ifdef __x86_64__
	uint64_t c64 = c;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c64 = _mm_crc32_u64(c64, v);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
#endif
	while (len >= 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		c = _mm_crc32_u32(c, v);
		p += 4;
		len -= 4;
	}
	while (len--)
		c = _mm_crc32_u8(c, *p++);
	return c;
}
#endif

/* -1 not yet looked at, 0 no, 1 yes.  Racing first calls store the same
 * answer, so relaxed atomics are enough. */
static int crc_hw_state = -1;

bool crc32c_has_hw(void)
{
	int s = __atomic_load_n(&crc_hw_state, __ATOMIC_RELAXED);

	if (unlikely(s < 0)) {
#ifdef CRC32C_HAVE_X86
		__builtin_cpu_init();
		s = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
		s = 0;
#endif
		__atomic_store_n(&crc_hw_state, s, __ATOMIC_RELAXED);
	}
	return s == 1;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
#ifdef CRC32C_HAVE_X86
	if (likely(crc32c_has_hw()))
		return ~crc32c_hw_raw(~crc, buf, len);
#endif
	return crc32c_sw(crc, buf, len);
}

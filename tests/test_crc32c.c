/* SPDX-License-Identifier: MIT */
/* CRC-32C: published vectors, chaining, alignment, instruction == table. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const struct {
	const char *name;
	crc_fn fn;
} impls[] = {
	{ "crc32c", crc32c },
	{ "crc32c_sw", crc32c_sw },
};

/* RFC 3720 B.4 and the usual check value of "123456789". */
static void check_vectors(const char *name, crc_fn fn)
{
	unsigned char buf[32];

	memset(buf, 0, sizeof buf);
	cr_expect_eq(fn(0, buf, 32), 0x8A9136AAu, "%s: 32 zeros", name);
	memset(buf, 0xff, sizeof buf);
	cr_expect_eq(fn(0, buf, 32), 0x62A8AB43u, "%s: 32 x 0xff", name);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)i;
	cr_expect_eq(fn(0, buf, 32), 0x46DD794Eu, "%s: 0..31", name);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)(31 - i);
	cr_expect_eq(fn(0, buf, 32), 0x113FDB5Cu, "%s: 31..0", name);
	cr_expect_eq(fn(0, "123456789", 9), 0xE3069283u, "%s: 123456789", name);
	cr_expect_eq(fn(0, "", 0), 0u, "%s: empty", name);
	cr_expect_eq(fn(0, NULL, 0), 0u, "%s: NULL, 0", name);
	cr_expect_eq(fn(0x12345678, NULL, 0), 0x12345678u,
		     "%s: no bytes leaves the CRC unchanged", name);
	cr_expect_eq(fn(0, "a", 1), 0xC1D04330u, "%s: \"a\"", name);
}

Test(crc32c, published_vectors)
{
	for (size_t i = 0; i < ARRAY_SIZE(impls); i++)
		check_vectors(impls[i].name, impls[i].fn);
}

/* An iSCSI SCSI Read command PDU from RFC 3720 B.4, 48 bytes. */
Test(crc32c, rfc3720_read_pdu)
{
	static const unsigned char pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	for (size_t i = 0; i < ARRAY_SIZE(impls); i++)
		cr_expect_eq(impls[i].fn(0, pdu, sizeof pdu), 0xD9963A56u,
			     "%s", impls[i].name);
}

static void fill_random(unsigned char *p, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rand() >> 7);
}

Test(crc32c, chaining_every_split)
{
	unsigned char buf[200];

	fill_random(buf, sizeof buf, 1);
	for (size_t i = 0; i < ARRAY_SIZE(impls); i++) {
		crc_fn fn = impls[i].fn;
		uint32_t whole = fn(0, buf, sizeof buf);

		for (size_t k = 0; k <= sizeof buf; k++) {
			uint32_t c = fn(fn(0, buf, k), buf + k, sizeof buf - k);

			cr_assert_eq(c, whole, "%s: split at %zu", impls[i].name, k);
		}
		/* Three pieces, too. */
		for (size_t k = 0; k <= sizeof buf; k += 7)
			for (size_t m = k; m <= sizeof buf; m += 13) {
				uint32_t c = fn(0, buf, k);

				c = fn(c, buf + k, m - k);
				c = fn(c, buf + m, sizeof buf - m);
				cr_assert_eq(c, whole, "%s: split at %zu, %zu",
					     impls[i].name, k, m);
			}
	}
}

Test(crc32c, unaligned_starts)
{
	unsigned char ref[300], *mem = malloc(sizeof ref + 16);

	cr_assert_not_null(mem);
	fill_random(ref, sizeof ref, 2);
	for (size_t len = 0; len <= 64; len++) {
		uint32_t want = crc32c_sw(0, ref, len);

		for (size_t off = 0; off < 16; off++) {
			memcpy(mem + off, ref, len);
			for (size_t i = 0; i < ARRAY_SIZE(impls); i++)
				cr_assert_eq(impls[i].fn(0, mem + off, len), want,
					     "%s: len %zu at offset %zu",
					     impls[i].name, len, off);
		}
	}
	for (size_t off = 0; off < 16; off++) {
		memcpy(mem + off, ref, sizeof ref);
		cr_assert_eq(crc32c(0, mem + off, sizeof ref),
			     crc32c_sw(0, ref, sizeof ref), "offset %zu", off);
	}
	free(mem);
}

/* Bit-at-a-time reference, independent of both implementations. */
static uint32_t crc32c_bitwise(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return ~c;
}

Test(crc32c, hardware_matches_table)
{
	static const size_t lens[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
		127, 128, 129, 255, 256, 511, 512, 513, 1000, 1023, 1024, 4095,
		4096, 4097, 8192, 65535, 65536, 131072 + 3,
	};
	size_t max = 131072 + 3 + 8;
	unsigned char *buf = malloc(max);

	cr_assert_not_null(buf);
	if (!crc32c_has_hw())
		cr_log_warn("no SSE4.2: crc32c() is the table, compared anyway");
	for (unsigned seed = 0; seed < 4; seed++) {
		fill_random(buf, max, 100 + seed);
		for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
			size_t off = (seed * 3) & 7;
			uint32_t hw = crc32c(0, buf + off, lens[i]);
			uint32_t sw = crc32c_sw(0, buf + off, lens[i]);

			cr_assert_eq(hw, sw, "len %zu seed %u: 0x%08x != 0x%08x",
				     lens[i], seed, hw, sw);
			if (lens[i] <= 4096)
				cr_assert_eq(sw, crc32c_bitwise(buf + off, lens[i]),
					     "len %zu seed %u: table != bitwise",
					     lens[i], seed);
		}
	}
	/* Every length 0..600 with a nonzero starting CRC. */
	for (size_t len = 0; len <= 600; len++)
		cr_assert_eq(crc32c(0xdeadbeef, buf + 1, len),
			     crc32c_sw(0xdeadbeef, buf + 1, len), "len %zu", len);
	free(buf);
}

/* The digest of the data followed by its own digest (little-endian) is the
 * CRC-32C residue: a receiver can check in one pass. */
Test(crc32c, residue)
{
	unsigned char buf[68];
	uint32_t c;

	fill_random(buf, 64, 3);
	c = crc32c(0, buf, 64);
	for (int i = 0; i < 4; i++)
		buf[64 + i] = (unsigned char)(c >> (8 * i));
	cr_expect_eq(crc32c(0, buf, 68), 0x48674BC7u);
}

/* pattern — the interop tests' known data pattern, for the host and the guest.
 *
 * The 8-byte little-endian word at byte offset o (o a multiple of 8) is
 * o ^ PATTERN_MAGIC, so every 8 bytes of a namespace say where they belong.
 * A byte at any offset p is byte (p % 8) of the word at p & ~7.
 *
 *   pattern gen SIZE [OFFSET]          write SIZE bytes of the pattern that
 *                                      starts at OFFSET (default 0) to stdout
 *   pattern check FILE [OFFSET [LEN]]  verify FILE's bytes [OFFSET, OFFSET+LEN)
 *                                      (LEN default: to end of file); FILE "-"
 *                                      is stdin, whose first byte is taken to
 *                                      be the one at OFFSET
 *
 * Sizes take a K, M or G suffix (powers of 1024). Exit: 0 good, 1 mismatch or
 * short data, 2 usage or I/O error. Single file, libc only: built static for
 * the guest's initramfs with `gcc -static -O2 -o pattern pattern.c`.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATTERN_MAGIC UINT64_C(0x6e766d656f660000) /* "nvmeof\0\0" */
#define BUFSZ (1u << 20)

static uint8_t expected_byte(uint64_t p)
{
	uint64_t w = (p & ~UINT64_C(7)) ^ PATTERN_MAGIC;

	return (uint8_t)(w >> (8 * (p & 7)));
}

/* Fill buf with the pattern bytes for [off, off+len). */
static void fill(uint8_t *buf, uint64_t off, size_t len)
{
	size_t i = 0;

	for (; i < len && ((off + i) & 7); i++)
		buf[i] = expected_byte(off + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = (off + i) ^ PATTERN_MAGIC;

		for (unsigned b = 0; b < 8; b++)
			buf[i + b] = (uint8_t)(w >> (8 * b));
	}
	for (; i < len; i++)
		buf[i] = expected_byte(off + i);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	default: goto tail;
	}
	end++;
	if (!strcmp(end, "iB") || !strcmp(end, "B"))
		end += strlen(end);
tail:
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int do_gen(uint64_t size, uint64_t off)
{
	uint8_t *buf = malloc(BUFSZ);

	if (!buf) {
		perror("pattern: malloc");
		return 2;
	}
	while (size) {
		size_t n = size < BUFSZ ? (size_t)size : BUFSZ;

		fill(buf, off, n);
		if (write_all(STDOUT_FILENO, buf, n)) {
			perror("pattern: write");
			free(buf);
			return 2;
		}
		off += n;
		size -= n;
	}
	free(buf);
	return 0;
}

static int do_check(const char *path, uint64_t off, int have_len, uint64_t len)
{
	int fd = STDIN_FILENO, rc = 0;
	uint64_t pos = off, bad = 0, first_bad = 0, done = 0;
	uint8_t *buf = malloc(BUFSZ), *exp = malloc(BUFSZ);

	if (!buf || !exp) {
		perror("pattern: malloc");
		free(buf);
		free(exp);
		return 2;
	}
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "pattern: %s: %s\n", path, strerror(errno));
			rc = 2;
			goto out;
		}
		if (off && lseek(fd, (off_t)off, SEEK_SET) < 0) {
			fprintf(stderr, "pattern: %s: seek: %s\n", path, strerror(errno));
			rc = 2;
			goto out;
		}
	}
	while (!have_len || done < len) {
		size_t want = BUFSZ;
		ssize_t n;

		if (have_len && len - done < want)
			want = (size_t)(len - done);
		n = read(fd, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pattern: %s: read at %" PRIu64 ": %s\n", path,
				pos, strerror(errno));
			rc = 2;
			goto out;
		}
		if (n == 0)
			break;
		fill(exp, pos, (size_t)n);
		if (memcmp(buf, exp, (size_t)n)) {
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] == exp[i])
					continue;
				if (!bad++)
					first_bad = pos + (uint64_t)i;
			}
		}
		pos += (uint64_t)n;
		done += (uint64_t)n;
	}
	if (bad) {
		fprintf(stderr,
			"pattern: %s: %" PRIu64 " bad bytes in [%" PRIu64 ", %" PRIu64
			"), first at offset %" PRIu64 "\n",
			path, bad, off, pos, first_bad);
		rc = 1;
	} else if (have_len && done < len) {
		fprintf(stderr, "pattern: %s: short: %" PRIu64 " of %" PRIu64
			" bytes from offset %" PRIu64 "\n", path, done, len, off);
		rc = 1;
	}
out:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	free(exp);
	return rc;
}

static int usage(void)
{
	fputs("usage: pattern gen SIZE [OFFSET] > FILE\n"
	      "       pattern check FILE|- [OFFSET [LEN]]\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t a = 0, b = 0;

	if (argc >= 3 && !strcmp(argv[1], "gen") && argc <= 4) {
		if (parse_size(argv[2], &a) || (argc == 4 && parse_size(argv[3], &b)))
			return usage();
		return do_gen(a, b);
	}
	if (argc >= 3 && !strcmp(argv[1], "check") && argc <= 5) {
		if ((argc >= 4 && parse_size(argv[3], &a)) ||
		    (argc == 5 && parse_size(argv[4], &b)))
			return usage();
		return do_check(argv[2], a, argc == 5, b);
	}
	return usage();
}

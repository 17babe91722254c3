/* SPDX-License-Identifier: MIT */
/*
 * Replay inputs through a fuzz harness without libFuzzer: for `make check`
 * (tests/fuzz/regressions/<harness>/ and the seed corpus must never crash
 * again) and for looking at one input under a debugger.
 *
 *   replay_<harness> [FILE|DIR]...
 *
 * Without arguments: $NVMEOF_SRCDIR/tests/fuzz/corpus/<harness> and
 * .../regressions/<harness> (NVMEOF_SRCDIR is set by make check).  Prints
 * "<harness>: N inputs replayed" and exits 0; a finding aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the harness"
#endif

static unsigned replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	/* An exact-size copy, so that a read past the end is caught. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact) {
			free(buf);
			return -1;
		}
		if (len)
			memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	replayed++;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay(const char *path, int must_exist)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (stat(path, &st) < 0) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char **nn;

		if (e->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof *names);
		if (!nn)
			break;
		names = nn;
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		if (!names[n])
			break;
		sprintf(names[n++], "%s/%s", path, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i < n; i++) {
		if (getenv("FUZZ_REPLAY_VERBOSE"))
			fprintf(stderr, "replay %s\n", names[i]);
		if (replay_file(names[i]) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay(argv[i], 1) < 0)
				rc = 1;
	} else {
		const char *src = getenv("NVMEOF_SRCDIR");
		char p[4096];

#ifdef TOP_SRCDIR
		if (!src || !*src)
			src = TOP_SRCDIR;
#endif
		if (!src) {
			fprintf(stderr, "usage: %s FILE|DIR... (or set NVMEOF_SRCDIR)\n",
				argv[0]);
			return 2;
		}
		snprintf(p, sizeof p, "%s/tests/fuzz/corpus/%s", src, FUZZ_NAME);
		if (replay(p, 1) < 0)
			rc = 1;
		snprintf(p, sizeof p, "%s/tests/fuzz/regressions/%s", src, FUZZ_NAME);
		if (replay(p, 0) < 0)
			rc = 1;
	}
	printf("%s: %u inputs replayed\n", FUZZ_NAME, replayed);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz harnesses (tests/fuzz/fuzz_*.c).  Each harness defines
 * LLVMFuzzerTestOneInput(); it is linked either with clang's libFuzzer
 * (`./configure --enable-fuzz`, `make fuzz-smoke`) or with replay_main.c,
 * a tiny main() that feeds it files, for `make check` (any compiler).
 */
#ifndef NVMEOF_FUZZ_H
#define NVMEOF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle that does not hold: a finding, like a crash. */
#define FUZZ_CHECK(cond, ...)                                              \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                          \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			abort();                                           \
		}                                                          \
	} while (0)

#endif

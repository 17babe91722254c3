/* SPDX-License-Identifier: MIT */
/* The captured payloads in tests/data, for the decoder tests. */
#ifndef NVMEOF_TEST_FIXTURE_H
#define NVMEOF_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* tests/data/NAME, malloc()ed to its exact length (ASan sees a read past
 * it); a missing or empty file fails the test. */
uint8_t *load(const char *name, size_t *len);

#endif

/* SPDX-License-Identifier: MIT */
/* Internal helpers shared by the files of libnvmeof (not installed). */
#ifndef NVMEOF_INTERNAL_H
#define NVMEOF_INTERNAL_H

#include <errno.h>
#include <stdint.h>

#include "nvmeof.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ROUND_UP(x, a) (((x) + (a) - 1) / (a) * (a))

#if defined(__GNUC__)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NVMEOF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define likely(x) (x)
#define unlikely(x) (x)
#define NVMEOF_PRINTF(a, b)
#endif

/* Record a failure for nvmeof_get_error() and return -err (err > 0).
 * The NVMe status of the thread is cleared. */
int set_error(int err, const char *fmt, ...) NVMEOF_PRINTF(2, 3);
/* Record a failed NVMe command: message, status field; returns -EIO (or
 * the errno the status maps to). */
int set_error_status(uint16_t status, const char *fmt, ...)
	NVMEOF_PRINTF(2, 3);
/* Same, naming command-specific status codes (SCT 1, SC ≥ 80h) as the
 * command set in question defines them. */
enum nvmeof_cmd_set { CMDSET_ADMIN, CMDSET_NVM, CMDSET_FABRICS };
int set_error_status_cmdset(uint16_t status, enum nvmeof_cmd_set set,
			    const char *fmt, ...) NVMEOF_PRINTF(3, 4);
const char *status_str_cmdset(uint16_t status, enum nvmeof_cmd_set set);
/* Set the thread's NVMe status without touching the message. */
void set_last_status(uint16_t status);
/* Map an NVMe status field to the errno a caller should see. */
int status_errno(uint16_t status);
/* Clear the thread's error state. */
void clear_error(void);

/* crc32c.c: CRC-32C (Castagnoli) as NVMe/TCP digests use it: initial value
 * ~0, final complement.  Chain with crc32c(prev_result, ...); start at 0. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The same CRC from the slicing-by-8 table only (for tests and bench/). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* True when crc32c() uses the SSE4.2 CRC32 instruction. */
bool crc32c_has_hw(void);

#endif

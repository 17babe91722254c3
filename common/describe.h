/* SPDX-License-Identifier: MIT */
/*
 * Identify data, log pages and feature values in words (nvme-cli's field
 * names) or JSON: the one decoder of the command-line tool and the FUSE
 * pseudo-files.  Not part of libnvmeof: a convenience library
 * (common/libnvmeof-describe.la) linked by the programs, which also link
 * libnvmeof (the decoder's messages: nvmeof_describe_error()).
 */
#ifndef NVMEOF_DESCRIBE_H
#define NVMEOF_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nvmeof_describe_kind {
	NVMEOF_DESC_ID_CTRL,
	NVMEOF_DESC_ID_NS,
	NVMEOF_DESC_NS_LIST,
	NVMEOF_DESC_NS_DESC,
	NVMEOF_DESC_LOG_ERROR,
	NVMEOF_DESC_LOG_SMART,
	NVMEOF_DESC_LOG_FIRMWARE,
	NVMEOF_DESC_LOG_CHANGED_NS,
	NVMEOF_DESC_LOG_CMD_EFFECTS,
	NVMEOF_DESC_LOG_ANA,
	NVMEOF_DESC_LOG_DISCOVERY,
};
#define NVMEOF_DESCRIBE_JSON 0x1

/* Decode a payload into text ("field : value" lines, names as nvme-cli
 * prints them) or JSON.  Returns a malloc()ed NUL-terminated string, or
 * NULL with errno set (EINVAL: payload too short for its kind). */
char *nvmeof_describe(enum nvmeof_describe_kind kind, const void *data,
		      size_t len, unsigned flags);
/* Log page ID -> kind (-1 if no decoder), and a short name ("smart"). */
int nvmeof_describe_log_kind(uint8_t lid);
/* Why the last nvmeof_describe*() call of this thread failed ("" if none). */
const char *nvmeof_describe_error(void);
/* A feature's completion dword 0 in words, e.g. "Number of Queues: 4 SQ, 4 CQ". */
char *nvmeof_describe_feature(uint8_t fid, uint32_t dw0, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif /* NVMEOF_DESCRIBE_H */

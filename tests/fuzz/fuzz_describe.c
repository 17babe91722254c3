/* SPDX-License-Identifier: MIT */
/*
 * nvmeof_describe(): Identify data and log pages as text and JSON, on bytes
 * a controller could send.  Input: [0] the kind (modulo the number of
 * kinds), [1] bit 0 JSON, then the payload.  Also the feature and log-kind
 * helpers on the same bytes.
 * Oracles: the result is text without raw control bytes (newlines apart),
 * or valid JSON (tests/json_check.h), or NULL with errno EINVAL/ENOMEM.
 */
#include <errno.h>
#include <string.h>

#include "../json_check.h"
#include "describe.h"
#include "fuzz.h"
#include "nvmeof.h"

#define NKINDS (NVMEOF_DESC_LOG_DISCOVERY + 1)

static void check(char *s, bool json)
{
	if (!s) {
		FUZZ_CHECK(errno == EINVAL || errno == ENOMEM, "NULL, errno %d",
			   errno);
		return;
	}
	if (json)
		FUZZ_CHECK(json_valid(s), "invalid JSON:\n%s", s);
	for (const char *p = s; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\n',
			   "raw byte 0x%02x", (unsigned char)*p);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum nvmeof_describe_kind kind;
	bool json;
	uint32_t dw0 = 0;

	if (size < 2)
		return 0;
	kind = (enum nvmeof_describe_kind)(data[0] % NKINDS);
	json = data[1] & 1;
	errno = 0;
	check(nvmeof_describe(kind, data + 2, size - 2,
			      json ? NVMEOF_DESCRIBE_JSON : 0), json);
	(void)nvmeof_describe_log_kind(data[0]);
	if (size >= 6)
		memcpy(&dw0, data + 2, 4);
	errno = 0;
	check(nvmeof_describe_feature(data[0], dw0,
				      json ? NVMEOF_DESCRIBE_JSON : 0), json);
	return 0;
}

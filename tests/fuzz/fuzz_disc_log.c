/* SPDX-License-Identifier: MIT */
/*
 * The discovery log page decoder (nvmeof_disc_log_decode) and its text and
 * JSON description, on bytes a discovery controller could send.
 * Oracles: a decoded log never claims more entries than the bytes hold,
 * every string is terminated inside its field, the description is text
 * without raw control bytes, or valid JSON.
 */
#include <string.h>

#include "../json_check.h"
#include "describe.h"
#include "fuzz.h"
#include "nvmeof.h"

static void check_text(const char *s, bool json)
{
	if (!s)
		return;
	if (json)
		FUZZ_CHECK(json_valid(s), "invalid JSON");
	for (; *s; s++)
		FUZZ_CHECK((unsigned char)*s >= 0x20 || *s == '\n',
			   "raw byte 0x%02x", (unsigned char)*s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvmeof_disc_log *log = NULL;

	if (nvmeof_disc_log_decode(data, size, &log) == 0) {
		FUZZ_CHECK(log != NULL, "success without a log");
		FUZZ_CHECK(size >= 1024 && log->numrec <= (size - 1024) / 1024,
			   "%llu entries from %zu bytes",
			   (unsigned long long)log->numrec, size);
		for (uint64_t i = 0; i < log->numrec; i++) {
			const struct nvmeof_disc_entry *e = &log->entries[i];

			FUZZ_CHECK(memchr(e->trsvcid, 0, sizeof e->trsvcid), "trsvcid");
			FUZZ_CHECK(memchr(e->traddr, 0, sizeof e->traddr), "traddr");
			FUZZ_CHECK(memchr(e->subnqn, 0, sizeof e->subnqn), "subnqn");
		}
		nvmeof_disc_log_free(log);
	} else {
		FUZZ_CHECK(log == NULL, "failure with a log");
	}
	for (int json = 0; json < 2; json++) {
		char *s = nvmeof_describe(NVMEOF_DESC_LOG_DISCOVERY, data, size,
					  json ? NVMEOF_DESCRIBE_JSON : 0);

		check_text(s, json);
		free(s);
	}
	return 0;
}

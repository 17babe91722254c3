/* SPDX-License-Identifier: MIT */
/*
 * Fuzz nvmeof-target's control-socket commands: the input is a sequence
 * of lines, each run by control_exec() as the control socket would
 * (subsys-add, ns-add of RAM or null namespaces, host-add, fault, ...;
 * file namespaces are refused in the harness).  Afterwards every
 * subsystem is removed and every fault disarmed.
 *
 * Oracles besides ASan/UBSan: every line that is not empty is answered,
 * and the answer ends with "ok" or one "error: ..." line.
 */
#define _GNU_SOURCE
#include <string.h>

#include "fuzz.h"
#include "tgt_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[8192];
	size_t i = 0;

	fuzz_tgt_init();
	while (i < size) {
		size_t n = 0;
		char *out = NULL, *last;
		size_t outlen = 0;
		FILE *f;
		bool blank = true;

		while (i < size && data[i] != '\n' && n < sizeof line - 1)
			line[n++] = (char)data[i++];
		i++;
		line[n] = '\0';
		for (size_t k = 0; k < n; k++)
			blank &= line[k] == ' ' || line[k] == '\t';
		f = open_memstream(&out, &outlen);
		FUZZ_CHECK(f, "open_memstream");
		control_exec(line, f);
		fclose(f);
		if (!blank && strlen(line) == n) {
			FUZZ_CHECK(outlen > 0 && out[outlen - 1] == '\n',
				   "no answer to '%s'", line);
			out[outlen - 1] = '\0';
			last = strrchr(out, '\n');
			last = last ? last + 1 : out;
			FUZZ_CHECK(!strcmp(last, "ok") ||
					   !strncmp(last, "error: ", 7),
				   "'%s' answered '%s'", line, last);
		}
		free(out);
	}
	fuzz_tgt_reset();
	return 0;
}

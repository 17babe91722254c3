/* SPDX-License-Identifier: MIT */
/*
 * The text parsers that take what a user or a discovery log entry gives:
 * nvmeof_parse_address() ("host", "host:port", "[v6]:port", "v6") and
 * nvmeof_nqn_validate().  Input: [0] host buffer size - 1, [1] port buffer
 * size - 1, [2] bit 0: a default port, then the string (NUL-terminated
 * here; the bytes may hold NULs of their own).
 * Oracles: outputs are terminated inside buffers of exactly the size given
 * (ASan sees a byte beyond); success means a non-empty host and a port
 * that is a number in 1..65535 (or the default); an NQN accepted is at
 * most 223 bytes and starts with "nqn.".
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nvmeof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t hostlen, portlen;
	char *s, *host, *port;
	const char *def;

	if (size < 3)
		return 0;
	hostlen = (size_t)data[0] + 1;
	portlen = (size_t)(data[1] & 63) + 1;
	def = data[2] & 1 ? "4420" : NULL;
	s = malloc(size - 3 + 1);
	host = malloc(hostlen);
	port = malloc(portlen);
	FUZZ_CHECK(s && host && port, "oom");
	memcpy(s, data + 3, size - 3);
	s[size - 3] = '\0';

	if (nvmeof_parse_address(s, host, hostlen, port, portlen, def) == 0) {
		size_t hl = strnlen(host, hostlen), pl = strnlen(port, portlen);

		FUZZ_CHECK(hl < hostlen && pl < portlen, "unterminated");
		FUZZ_CHECK(hl > 0, "empty host from '%s'", s);
		FUZZ_CHECK(strlen(s) >= hl, "host longer than the input");
		if (pl) {
			char *end;
			unsigned long v = strtoul(port, &end, 10);

			FUZZ_CHECK(!*end && ((v >= 1 && v <= 65535) ||
					     (def && !strcmp(port, def))),
				   "port '%s' from '%s'", port, s);
		}
	}
	if (nvmeof_nqn_validate(s) == 0)
		FUZZ_CHECK(strlen(s) <= NVMEOF_NQN_MAX && !strncmp(s, "nqn.", 4),
			   "accepted NQN '%s'", s);
	free(s);
	free(host);
	free(port);
	return 0;
}

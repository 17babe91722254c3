/* SPDX-License-Identifier: MIT */
/* nvmeof_describe_feature(): Get Features values as text and JSON. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe_check.h"

static void expect_feature(uint8_t fid, uint32_t dw0, const char *want)
{
	char *s = nvmeof_describe_feature(fid, dw0, 0);

	cr_assert_not_null(s);
	cr_expect_str_eq(s, want, "fid %#x dw0 %#x", fid, dw0);
	free(s);
}

Test(feature, text)
{
	expect_feature(0x07, 0x00030003, "Number of Queues: 4 SQ, 4 CQ\n");
	expect_feature(0x07, 0x0000001f, "Number of Queues: 32 SQ, 1 CQ\n");
	expect_feature(0x01, 0x03020103, "Arbitration: burst 8, weights low 2, medium 3, high 4\n");
	expect_feature(0x01, 0x00000007, "Arbitration: burst no limit, weights low 1, medium 1, high 1\n");
	expect_feature(0x02, 0x00000042, "Power Management: power state 2, workload hint 2\n");
	expect_feature(0x04, 0x00000166, "Temperature Threshold: 358 K (85 °C), composite, over threshold\n");
	expect_feature(0x04, 0x00120110, "Temperature Threshold: 272 K (-1 °C), sensor 2, under threshold\n");
	expect_feature(0x05, 0x0001000a, "Error Recovery: time limit 1000 ms, deallocated block error enabled\n");
	expect_feature(0x06, 1, "Volatile Write Cache: enabled\n");
	expect_feature(0x06, 0, "Volatile Write Cache: disabled\n");
	expect_feature(0x08, 0x00000a03, "Interrupt Coalescing: threshold 4, time 1000 us\n");
	expect_feature(0x0a, 1, "Write Atomicity Normal: AWUN/NAWUN not required (DN 1)\n");
	expect_feature(0x0b, 0x80000900,
		       "Asynchronous Event Configuration: SMART warnings 0x0, namespace attribute, ANA change, discovery log change\n");
	expect_feature(0x0f, 5000, "Keep Alive Timer: 5000 ms\n");
	expect_feature(0x7e, 0xdeadbeef, "Feature 0x7e: 0xdeadbeef\n");
}

Test(feature, json)
{
	char *s = nvmeof_describe_feature(0x07, 0x00070003, JSON);
	unsigned fid;

	cr_assert(json_valid(s), "%s", s);
	expect_json_uint(s, "fid", 7);
	expect_json_str(s, "name", "Number of Queues");
	expect_json_uint(s, "nsq", 4);
	expect_json_uint(s, "ncq", 8);
	expect_json_uint(s, "value", 0x00070003);
	free(s);
	s = nvmeof_describe_feature(0x04, 0x166, JSON);
	expect_json_str(s, "text", "358 K (85 \xc2\xb0""C), composite, over threshold");
	expect_json_uint(s, "tmpth", 358);
	free(s);
	for (fid = 0; fid < 256; fid++) {
		s = nvmeof_describe_feature((uint8_t)fid, 0xffffffffu, JSON);
		cr_assert(json_valid(s), "fid %u:\n%s", fid, s);
		free(s);
		s = nvmeof_describe_feature((uint8_t)fid, 0xffffffffu, 0);
		cr_assert(text_clean(s) && strchr(s, '\n') == s + strlen(s) - 1,
			  "fid %u: one clean line:\n%s", fid, s);
		free(s);
	}
}

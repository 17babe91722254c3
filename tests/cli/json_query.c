/* SPDX-License-Identifier: MIT */
/*
 * For the tests of nvmeof(8): read a JSON document on standard input,
 * check it with the strict validator of tests/json_check.h, and print the
 * values at the paths given (dotted, "records.0.subnqn"; "#path" prints
 * the length of an array).  Exit 0 if valid and every path was found,
 * 1 otherwise (with the reason on standard error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json_check.h"

static char *slurp(FILE *f)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (n == 0)
			break;
		if (cap - len - 1 == 0) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	char *doc = slurp(stdin);
	int i, rc = 0;

	if (!doc) {
		fprintf(stderr, "json_query: cannot read standard input\n");
		return 1;
	}
	if (!json_valid(doc)) {
		fprintf(stderr, "json_query: invalid JSON:\n%s\n", doc);
		free(doc);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		const char *key = argv[i];
		char s[4096];
		uint64_t u;
		double d;
		bool b;

		if (key[0] == '#') {
			int n = json_array_len(doc, key + 1);

			if (n < 0) {
				fprintf(stderr, "json_query: '%s' is not an array\n", key + 1);
				rc = 1;
			} else {
				printf("%d\n", n);
			}
		} else if (json_get_string(doc, key, s, sizeof s)) {
			printf("%s\n", s);
		} else if (json_get_uint(doc, key, &u)) {
			printf("%llu\n", (unsigned long long)u);
		} else if (json_get_number(doc, key, &d)) {
			printf("%.17g\n", d);
		} else if (json_get_bool(doc, key, &b)) {
			printf("%s\n", b ? "true" : "false");
		} else if (json_has(doc, key)) {
			printf("(object)\n");
		} else {
			fprintf(stderr, "json_query: no '%s'\n", key);
			rc = 1;
		}
	}
	free(doc);
	return rc;
}

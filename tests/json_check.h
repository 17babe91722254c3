/* SPDX-License-Identifier: MIT */
/*
 * A strict JSON (RFC 8259) validator and a small lookup, for tests.
 * Header-only; every function is static inline so a test uses what it needs.
 *
 *   json_valid(s)                 one value, optional surrounding white space,
 *                                 strings valid UTF-8 with no raw control bytes,
 *                                 no lone surrogates; nesting up to 64 levels.
 *   json_get_string(j, key, out, outlen)   decoded string (UTF-8, NUL-terminated)
 *   json_get_number(j, key, &d)   any number, as a double
 *   json_get_uint(j, key, &u)     a non-negative integer, exactly (uint64_t)
 *   json_get_bool(j, key, &b)
 *   json_array_len(j, key)        elements of an array, -1 if not an array
 *   json_has(j, key)
 *
 * key is a top-level member name, or a dotted path through objects and
 * arrays: "records.0.traddr", "psds.0.max_power".  Every lookup validates
 * the whole document first and fails (false / -1) on invalid JSON.
 */
#ifndef NVMEOF_TESTS_JSON_CHECK_H
#define NVMEOF_TESTS_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_CHECK_MAX_DEPTH 64

struct json_cur {
	const char *p;
	int depth;
};

static inline void json__ws(struct json_cur *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
		c->p++;
}

static inline int json__hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static inline bool json__u4(const char *p, uint32_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		int h = json__hex(p[i]);

		if (h < 0)
			return false;
		*v = *v << 4 | (uint32_t)h;
	}
	return true;
}

/* Append code point cp as UTF-8 to out (if out), counting in *n. */
static inline bool json__put_cp(char *out, size_t outlen, size_t *n, uint32_t cp)
{
	char tmp[4];
	size_t k, i;

	if (cp < 0x80) {
		tmp[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | cp >> 6);
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | cp >> 12);
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		tmp[0] = (char)(0xf0 | cp >> 18);
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (out) {
		if (*n + k >= outlen)
			return false;
		for (i = 0; i < k; i++)
			out[*n + i] = tmp[i];
	}
	*n += k;
	return true;
}

/* One UTF-8 sequence starting at p (first byte >= 0x80): its length, or 0
 * if invalid (overlong, surrogate, beyond U+10FFFF, truncated). */
static inline size_t json__utf8(const unsigned char *p, uint32_t *cp)
{
	size_t k, i;
	uint32_t v, min;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		k = 2; v = p[0] & 0x1f; min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		k = 3; v = p[0] & 0x0f; min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		k = 4; v = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return k;
}

/* A string at c->p ('"'): validated, and decoded into out when out. */
static inline bool json__string(struct json_cur *c, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)c->p;
	size_t n = 0;

	if (*p != '"')
		return false;
	p++;
	for (;;) {
		uint32_t cp;

		if (*p == '"')
			break;
		if (*p < 0x20) /* raw control byte, or the end of the text */
			return false;
		if (*p == '\\') {
			p++;
			switch (*p) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (!json__u4((const char *)p + 1, &cp))
					return false;
				p += 4;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return false; /* lone low surrogate */
				if (cp >= 0xd800 && cp <= 0xdbff) {
					uint32_t lo;

					if (p[1] != '\\' || p[2] != 'u' ||
					    !json__u4((const char *)p + 3, &lo) ||
					    lo < 0xdc00 || lo > 0xdfff)
						return false;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
				break;
			default:
				return false;
			}
			p++;
		} else if (*p < 0x80) {
			cp = *p++;
		} else {
			size_t k = json__utf8(p, &cp);

			if (k == 0)
				return false;
			p += k;
		}
		if (!json__put_cp(out, outlen, &n, cp))
			return false;
	}
	if (out) {
		if (n >= outlen)
			return false;
		out[n] = '\0';
	}
	c->p = (const char *)p + 1;
	return true;
}

static inline bool json__number(struct json_cur *c)
{
	const char *p = c->p;

	if (*p == '-')
		p++;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
	} else {
		return false;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	c->p = p;
	return true;
}

static inline bool json__value(struct json_cur *c);

static inline bool json__object(struct json_cur *c)
{
	c->p++; /* '{' */
	json__ws(c);
	if (*c->p == '}') {
		c->p++;
		return true;
	}
	for (;;) {
		json__ws(c);
		if (!json__string(c, NULL, 0))
			return false;
		json__ws(c);
		if (*c->p != ':')
			return false;
		c->p++;
		if (!json__value(c))
			return false;
		json__ws(c);
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == '}') {
			c->p++;
			return true;
		}
		return false;
	}
}

static inline bool json__array(struct json_cur *c)
{
	c->p++; /* '[' */
	json__ws(c);
	if (*c->p == ']') {
		c->p++;
		return true;
	}
	for (;;) {
		if (!json__value(c))
			return false;
		json__ws(c);
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == ']') {
			c->p++;
			return true;
		}
		return false;
	}
}

/* A value with its leading white space (not the trailing). */
static inline bool json__value(struct json_cur *c)
{
	bool ok;

	json__ws(c);
	switch (*c->p) {
	case '{':
	case '[':
		if (++c->depth > JSON_CHECK_MAX_DEPTH)
			return false;
		ok = *c->p == '{' ? json__object(c) : json__array(c);
		c->depth--;
		return ok;
	case '"':
		return json__string(c, NULL, 0);
	case 't':
		if (strncmp(c->p, "true", 4))
			return false;
		c->p += 4;
		return true;
	case 'f':
		if (strncmp(c->p, "false", 5))
			return false;
		c->p += 5;
		return true;
	case 'n':
		if (strncmp(c->p, "null", 4))
			return false;
		c->p += 4;
		return true;
	default:
		return json__number(c);
	}
}

static inline bool json_valid(const char *s)
{
	struct json_cur c = { s, 0 };

	if (!s)
		return false;
	if (!json__value(&c))
		return false;
	json__ws(&c);
	return *c.p == '\0';
}

/* The value at a dotted path, or NULL.  The document must be valid. */
static inline const char *json__find(const char *json, const char *path)
{
	struct json_cur c = { json, 0 };

	if (!json_valid(json) || !path)
		return NULL;
	json__ws(&c);
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t seglen = dot ? (size_t)(dot - path) : strlen(path);
		bool found = false;

		if (*c.p == '{') {
			c.p++;
			json__ws(&c);
			while (*c.p != '}') {
				char key[256];

				json__ws(&c);
				if (!json__string(&c, key, sizeof key))
					return NULL; /* key too long for us */
				json__ws(&c);
				c.p++; /* ':' */
				json__ws(&c);
				if (strlen(key) == seglen && !memcmp(key, path, seglen)) {
					found = true;
					break;
				}
				json__value(&c);
				json__ws(&c);
				if (*c.p == ',')
					c.p++;
			}
		} else if (*c.p == '[') {
			char *end;
			unsigned long idx, i;

			if (seglen == 0 || path[0] < '0' || path[0] > '9')
				return NULL;
			idx = strtoul(path, &end, 10);
			if ((size_t)(end - path) != seglen)
				return NULL;
			c.p++;
			json__ws(&c);
			for (i = 0; *c.p != ']'; i++) {
				json__ws(&c);
				if (i == idx) {
					found = true;
					break;
				}
				json__value(&c);
				json__ws(&c);
				if (*c.p == ',')
					c.p++;
			}
		}
		if (!found)
			return NULL;
		path += seglen;
		if (*path == '.')
			path++;
	}
	return c.p;
}

static inline bool json_has(const char *json, const char *key)
{
	return json__find(json, key) != NULL;
}

static inline bool json_get_string(const char *json, const char *key,
				   char *out, size_t outlen)
{
	struct json_cur c = { json__find(json, key), 0 };

	if (!c.p || *c.p != '"' || !out || outlen == 0)
		return false;
	return json__string(&c, out, outlen);
}

static inline bool json_get_number(const char *json, const char *key, double *out)
{
	const char *p = json__find(json, key);

	if (!p || !(*p == '-' || (*p >= '0' && *p <= '9')))
		return false;
	*out = strtod(p, NULL);
	return true;
}

/* A non-negative integer without fraction or exponent, exactly. */
static inline bool json_get_uint(const char *json, const char *key, uint64_t *out)
{
	const char *p = json__find(json, key);
	uint64_t v = 0;

	if (!p || !(*p >= '0' && *p <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.' || *p == 'e' || *p == 'E')
		return false;
	*out = v;
	return true;
}

static inline bool json_get_bool(const char *json, const char *key, bool *out)
{
	const char *p = json__find(json, key);

	if (!p)
		return false;
	if (!strncmp(p, "true", 4))
		*out = true;
	else if (!strncmp(p, "false", 5))
		*out = false;
	else
		return false;
	return true;
}

static inline int json_array_len(const char *json, const char *key)
{
	struct json_cur c = { json__find(json, key), 0 };
	int n = 0;

	if (!c.p || *c.p != '[')
		return -1;
	c.p++;
	json__ws(&c);
	while (*c.p != ']') {
		json__value(&c);
		n++;
		json__ws(&c);
		if (*c.p == ',')
			c.p++;
	}
	return n;
}

#endif /* NVMEOF_TESTS_JSON_CHECK_H */

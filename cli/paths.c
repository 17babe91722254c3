/* SPDX-License-Identifier: MIT */
/*
 * The parser of one line of nvmeof-mount's "paths" file (paths.h).  It is
 * strict: a line that does not have the documented fields, in their order,
 * with values in range, is refused with the field and the text at fault,
 * so that a mount of another version is reported rather than misread.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

#define NFIELDS 10   /* the last one, last_error, is the rest of the line */

static const char *const path_states[] = { "live", "connecting", "failed", NULL };
static const char *const ana_states[] = {
	"optimized", "non-optimized", "inaccessible", "persistent-loss", "change",
	"unknown", NULL,
};

static int bad(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool one_of(const char *s, size_t len, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == len && !memcmp(*set, s, len))
			return true;
	return false;
}

/* Decimal digits only (no sign, no blank), at most max.  len > 0. */
static bool dec(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!len || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* "host:port" or "[v6]:port": a host, and a port 1..65535 after the last ':'. */
static bool addr_ok(const char *s, size_t len)
{
	const char *colon = NULL;
	uint64_t port;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (!colon || colon == s || !dec(colon + 1, len - (size_t)(colon + 1 - s), 65535, &port) ||
	    !port)
		return false;
	if (s[0] == '[')
		return colon - s >= 3 && colon[-1] == ']';
	return memchr(s, ':', (size_t)(colon - s)) == NULL;   /* v6 needs brackets */
}

/* "GRP:STATE[,GRP:STATE...]" into p->ana. */
static int parse_ana(const char *s, size_t len, struct path_line *p, char *err, size_t n)
{
	size_t count = 1, i = 0;

	if (!len)
		return bad(err, n, "field 5: ana= is empty ('-' when there is no ANA)");
	for (size_t k = 0; k < len; k++)
		count += s[k] == ',';
	p->ana = calloc(count, sizeof *p->ana);
	if (!p->ana)
		return -ENOMEM;
	while (i < len) {
		const char *item = s + i, *comma = memchr(item, ',', len - i);
		size_t ilen = comma ? (size_t)(comma - item) : len - i;
		const char *colon = memchr(item, ':', ilen);
		uint64_t grp;
		size_t slen;

		if (!colon || !dec(item, (size_t)(colon - item), UINT32_MAX, &grp) || !grp)
			return bad(err, n, "field 5: expected ana=GROUP:STATE with a group 1..4294967295, not '%.*s'",
				   (int)ilen, item);
		slen = ilen - (size_t)(colon + 1 - item);
		if (!one_of(colon + 1, slen, ana_states))
			return bad(err, n, "field 5: unknown ANA state '%.*s' of group %llu (optimized, non-optimized, inaccessible, persistent-loss, change or unknown)",
				   (int)slen, colon + 1, (unsigned long long)grp);
		p->ana[p->nana].grp = (uint32_t)grp;
		memcpy(p->ana[p->nana].state, colon + 1, slen);
		p->nana++;
		if (!comma)
			break;
		i += ilen + 1;
		if (i == len)
			return bad(err, n, "field 5: ana= ends with ','");
	}
	return 0;
}

int path_line_parse(const char *line, struct path_line *p, char *err, size_t errlen)
{
	static const char *const keys[NFIELDS] = {
		NULL, NULL, "cntlid=", "state=", "ana=", "reads=", "writes=",
		"inflight=", "errors=", "last_error=",
	};
	const char *f[NFIELDS];
	size_t fl[NFIELDS], len = strcspn(line, "\n"), i, nf = 0;
	const char *s = line, *end = line + len;
	uint64_t v;
	int rc;

	memset(p, 0, sizeof *p);
	if (line[len] == '\n' && line[len + 1])
		return bad(err, errlen, "more than one line");
	if (len && line[len - 1] == '\r')
		end--;
	if (end == line)
		return bad(err, errlen, "an empty line");
	while (nf < NFIELDS) {
		const char *sp = nf < NFIELDS - 1 ? memchr(s, ' ', (size_t)(end - s)) : NULL;

		f[nf] = s;
		fl[nf] = sp ? (size_t)(sp - s) : (size_t)(end - s);
		if (!fl[nf] && nf < NFIELDS - 1)
			return bad(err, errlen, "field %zu is empty (fields are separated by one space)",
				   nf + 1);
		nf++;
		if (!sp)
			break;
		s = sp + 1;
	}
	if (nf < NFIELDS)
		return bad(err, errlen, "%zu field%s, expected %d (ID ADDR:PORT cntlid= state= ana= reads= writes= inflight= errors= last_error=)",
			   nf, nf == 1 ? "" : "s", NFIELDS);
	for (i = 2; i < NFIELDS; i++) {
		size_t kl = strlen(keys[i]);

		if (fl[i] < kl || memcmp(f[i], keys[i], kl))
			return bad(err, errlen, "field %zu: expected %sVALUE, not '%.*s'", i + 1,
				   keys[i], (int)(fl[i] > 64 ? 64 : fl[i]), f[i]);
		f[i] += kl;
		fl[i] -= kl;
	}
	if (!dec(f[0], fl[0], UINT_MAX, &v))
		return bad(err, errlen, "field 1: expected a path ID (a number), not '%.*s'",
			   (int)(fl[0] > 64 ? 64 : fl[0]), f[0]);
	p->id = (unsigned)v;
	if (fl[1] >= sizeof p->addr || !addr_ok(f[1], fl[1]))
		return bad(err, errlen, "field 2: expected HOST:PORT or [IPv6]:PORT, not '%.*s'",
			   (int)(fl[1] > 64 ? 64 : fl[1]), f[1]);
	memcpy(p->addr, f[1], fl[1]);
	if (!dec(f[2], fl[2], UINT16_MAX, &v))
		return bad(err, errlen, "field 3: cntlid '%.*s' is not a number 0..65535",
			   (int)(fl[2] > 64 ? 64 : fl[2]), f[2]);
	p->cntlid = (uint16_t)v;
	if (!one_of(f[3], fl[3], path_states))
		return bad(err, errlen, "field 4: unknown path state '%.*s' (live, connecting or failed)",
			   (int)(fl[3] > 64 ? 64 : fl[3]), f[3]);
	memcpy(p->state, f[3], fl[3]);
	if (!(fl[4] == 1 && f[4][0] == '-')) {
		rc = parse_ana(f[4], fl[4], p, err, errlen);
		if (rc < 0) {
			path_line_free(p);
			return rc;
		}
	}
	for (i = 5; i <= 8; i++) {
		uint64_t *dst[] = { &p->reads, &p->writes, &p->inflight, &p->errors };

		if (!dec(f[i], fl[i], UINT64_MAX, dst[i - 5])) {
			path_line_free(p);
			return bad(err, errlen, "field %zu: %.*s '%.*s' is not a count", i + 1,
				   (int)strlen(keys[i]) - 1, keys[i], (int)(fl[i] > 64 ? 64 : fl[i]), f[i]);
		}
	}
	if (!fl[9]) {
		path_line_free(p);
		return bad(err, errlen, "field 10: last_error is empty ('-' when there is none)");
	}
	if (!(fl[9] == 1 && f[9][0] == '-')) {
		p->last_error = strndup(f[9], fl[9]);
		if (!p->last_error) {
			path_line_free(p);
			return -ENOMEM;
		}
	}
	return 0;
}

void path_line_free(struct path_line *p)
{
	free(p->ana);
	free(p->last_error);
	p->ana = NULL;
	p->last_error = NULL;
	p->nana = 0;
}

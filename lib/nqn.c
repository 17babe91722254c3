/* SPDX-License-Identifier: MIT */
/*
 * Host identity and names: the host NQN and host ID that Connect carries
 * (NVMe-oF 1.1 §3.3, Connect data), NQN syntax (NVMe Base 2.0 §4.5), and
 * "host[:port]" addresses.
 *
 * The host identity comes from /etc/nvme/hostnqn and /etc/nvme/hostid, the
 * files nvme-cli writes, so this library and the kernel's initiator present
 * the same host to a target.  Without them it is derived from the machine
 * so that it stays the same from one run to the next.
 *
 * NVMEOF_ETC_DIR (environment variable): when set and not empty, every file
 * the host identity is read from is looked up in that directory instead:
 * hostnqn, hostid, machine-id (for /etc/machine-id) and product_uuid (for
 * /sys/class/dmi/id/product_uuid).  Tests and sandboxes use it to give the
 * library a host of their own.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "internal.h"

#define UUID_NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
#define UUID_TEXT_LEN 36
#define ID_FILE_MAX 1024 /* larger files are not host identity files */

/* The UUID namespace of the name-based (v5, RFC 4122 §4.3) host IDs this
 * file derives from machine-id or the DMI UUID.  Fixed forever: changing it
 * changes every derived host ID. */
static const uuid_t hostid_namespace = {
	0xf4, 0x8d, 0x17, 0x3d, 0xb3, 0x68, 0x4d, 0x9d,
	0x92, 0x37, 0xad, 0x72, 0xe0, 0xc9, 0xef, 0x7d,
};

/* ---- small helpers ------------------------------------------------------ */

/* ASCII classes: <ctype.h> answers by locale, and these are wire names. */
static bool a_digit(char c) { return c >= '0' && c <= '9'; }
static bool a_alnum(char c)
{
	return a_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool a_xdigit(char c)
{
	return a_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool a_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int copy_out(char *buf, size_t len, const char *s, const char *what)
{
	size_t n = strlen(s) + 1;

	if (!buf)
		return set_error(EINVAL, "no buffer for the %s", what);
	if (n > len)
		return set_error(ENAMETOOLONG,
				 "the %s '%s' needs %zu bytes; the buffer holds %zu",
				 what, s, n, len);
	memcpy(buf, s, n);
	return 0;
}

/* 8-4-4-4-12 hex digits, either case (RFC 4122 §3). */
static bool uuid_text_ok(const char *s)
{
	for (int i = 0; i < UUID_TEXT_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!a_xdigit(s[i])) {
			return false;
		}
	}
	return s[UUID_TEXT_LEN] == '\0';
}

/* Parse UUID text into lowercase canonical form; false if it is not one or
 * is the nil UUID (which identifies nothing). */
static bool uuid_canon(const char *s, char out[UUID_STR_LEN])
{
	uuid_t u;

	if (!uuid_text_ok(s) || uuid_parse(s, u) != 0 || uuid_is_null(u))
		return false;
	uuid_unparse_lower(u, out);
	return true;
}

static const char *etc_dir(void)
{
	const char *d = getenv("NVMEOF_ETC_DIR");

	return d && *d ? d : NULL;
}

/* Path of an identity file: $NVMEOF_ETC_DIR/name, else the system path. */
static bool id_path(char *out, size_t n, const char *name, const char *sys)
{
	const char *d = etc_dir();
	int r = d ? snprintf(out, n, "%s/%s", d, name) : snprintf(out, n, "%s", sys);

	return r > 0 && (size_t)r < n;
}

/* Read a small text file, strip leading and trailing white space.
 * false if it is absent, unreadable, too large, empty or holds a NUL. */
static bool read_id_file(const char *path, char *buf, size_t size)
{
	size_t len = 0, start = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (len < size) {
		r = read(fd, buf + len, size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len == 0 || len >= size || memchr(buf, '\0', len))
		return false;
	while (len > 0 && a_space(buf[len - 1]))
		len--;
	while (start < len && a_space(buf[start]))
		start++;
	memmove(buf, buf + start, len - start);
	buf[len - start] = '\0';
	return len > start;
}

/* ---- NQN syntax: NVMe Base 2.0 §4.5 ------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (Unicode 15 Table 3-7),
 * 0 if it is not one.  p is NUL-terminated: a NUL is never a continuation
 * byte, so the checks stop before running off the end. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* The characters: UTF-8 (§4.5), and nothing that is not text: no C0 or C1
 * control characters, no DEL.  false with the reason in why. */
static bool nqn_chars_ok(const char *nqn, char *why, size_t n)
{
	const unsigned char *p = (const unsigned char *)nqn;

	for (size_t i = 0; p[i];) {
		size_t k = utf8_len(p + i);

		if (k == 0) {
			snprintf(why, n, "not valid UTF-8 at byte %zu (0x%02x)",
				 i, p[i]);
			return false;
		}
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			snprintf(why, n, "control character %s%02x at byte %zu",
				 k == 1 ? "0x" : "U+00", k == 1 ? p[i] : p[i + 1], i);
			return false;
		}
		i += k;
	}
	return true;
}

/* The reverse domain name between the date and ':' (or the end). */
static bool nqn_domain_ok(const char *d, size_t len, char *why, size_t n)
{
	size_t i = 0;

	if (len == 0) {
		snprintf(why, n, "no domain name after the date (want nqn.yyyy-mm.com.example...)");
		return false;
	}
	while (i <= len) {
		size_t start = i;

		while (i < len && d[i] != '.')
			i++;
		if (i == start) {
			snprintf(why, n, "empty label in the domain name '%.*s'",
				 (int)len, d);
			return false;
		}
		if (i - start > 63) {
			snprintf(why, n, "domain label '%.*s' is longer than 63 characters",
				 (int)(i - start), d + start);
			return false;
		}
		if (d[start] == '-' || d[i - 1] == '-') {
			snprintf(why, n, "domain label '%.*s' starts or ends with '-'",
				 (int)(i - start), d + start);
			return false;
		}
		for (size_t k = start; k < i; k++)
			if (!a_alnum(d[k]) && d[k] != '-') {
				snprintf(why, n, "character '%c' is not allowed in the domain name '%.*s' (letters, digits, '-' and '.')",
					 d[k], (int)len, d);
				return false;
			}
		i++; /* the dot, or one past the end */
	}
	return true;
}

/* The whole check.  Fills why and returns false on the first problem. */
static bool nqn_check(const char *nqn, char *why, size_t n)
{
	const char *p, *dom, *colon;
	size_t len;

	if (!nqn) {
		snprintf(why, n, "no NQN (NULL)");
		return false;
	}
	len = strlen(nqn);
	if (len == 0) {
		snprintf(why, n, "the NQN is empty");
		return false;
	}
	if (!nqn_chars_ok(nqn, why, n))
		return false;
	if (len > NVMEOF_NQN_MAX) {
		snprintf(why, n, "%zu bytes long; at most %d are allowed",
			 len, NVMEOF_NQN_MAX);
		return false;
	}
	if (strncmp(nqn, "nqn.", 4) != 0) {
		snprintf(why, n, "does not start with \"nqn.\"");
		return false;
	}
	p = nqn + 4;
	for (int i = 0; i < 7; i++) {
		bool ok = i == 4 ? p[i] == '-' : a_digit(p[i]);

		if (!ok) {
			snprintf(why, n, "the date after \"nqn.\" is not yyyy-mm");
			return false;
		}
	}
	if ((p[5] - '0') * 10 + (p[6] - '0') < 1 ||
	    (p[5] - '0') * 10 + (p[6] - '0') > 12) {
		snprintf(why, n, "month %.2s in the date is not 01 to 12", p + 5);
		return false;
	}
	if (p[7] != '.') {
		snprintf(why, n, "the date yyyy-mm must be followed by '.' and a domain name");
		return false;
	}
	dom = p + 8;
	colon = strchr(dom, ':');
	if (!nqn_domain_ok(dom, colon ? (size_t)(colon - dom) : strlen(dom), why, n))
		return false;
	if (colon && colon[1] == '\0') {
		snprintf(why, n, "nothing after ':'");
		return false;
	}
	/* §4.5: the UUID form, nqn.2014-08.org.nvmexpress:uuid:<36-char UUID> */
	if (strncmp(nqn, UUID_NQN_PREFIX, strlen(UUID_NQN_PREFIX)) == 0 &&
	    !uuid_text_ok(nqn + strlen(UUID_NQN_PREFIX))) {
		snprintf(why, n, "the UUID after \"%s\" is not 36 characters of the form 8-4-4-4-12 hex digits",
			 UUID_NQN_PREFIX);
		return false;
	}
	return true;
}

int nvmeof_nqn_validate(const char *nqn)
{
	char why[256];

	if (nqn_check(nqn, why, sizeof why))
		return 0;
	/* Quote the NQN only when it is printable and of sane length. */
	if (nqn && strlen(nqn) <= NVMEOF_NQN_MAX && nqn_chars_ok(nqn, NULL, 0))
		return set_error(EINVAL, "invalid NQN '%s': %s (NVMe Base 2.0 §4.5)",
				 nqn, why);
	return set_error(EINVAL, "invalid NQN: %s (NVMe Base 2.0 §4.5)", why);
}

/* ---- host ID and host NQN ----------------------------------------------- */

/* The host ID, in this order (nvmeof.h):
 *  1. the hostid file, if it holds a UUID;
 *  2. the UUID of the hostnqn file, if that is a valid NQN of the UUID form;
 *  3. /etc/machine-id, hashed;
 *  4. the DMI product UUID, hashed.
 * machine-id comes before DMI because it is readable by every user, while
 * product_uuid is root's only: root and other users get the same ID.  Both
 * are hashed into a version 5 UUID (SHA-1 of hostid_namespace and the
 * lowercase text read) because machine-id(5) asks applications not to
 * expose the ID itself, and a derived value cannot be traced back. */
static int hostid_derive(char out[UUID_STR_LEN])
{
	char path[4096], txt[ID_FILE_MAX], why[256];
	uuid_t u;

	if (id_path(path, sizeof path, "hostid", "/etc/nvme/hostid") &&
	    read_id_file(path, txt, sizeof txt) && uuid_canon(txt, out))
		return 0;
	if (id_path(path, sizeof path, "hostnqn", "/etc/nvme/hostnqn") &&
	    read_id_file(path, txt, sizeof txt) &&
	    strncmp(txt, UUID_NQN_PREFIX, strlen(UUID_NQN_PREFIX)) == 0 &&
	    nqn_check(txt, why, sizeof why) &&
	    uuid_canon(txt + strlen(UUID_NQN_PREFIX), out))
		return 0;
	/* machine-id(5): 32 lowercase hex digits; "uninitialized" early in
	 * boot, and all zeros is no identity. */
	if (id_path(path, sizeof path, "machine-id", "/etc/machine-id") &&
	    read_id_file(path, txt, sizeof txt) && strlen(txt) == 32 &&
	    strspn(txt, "0123456789abcdefABCDEF") == 32 &&
	    strspn(txt, "0") != 32) {
		for (char *c = txt; *c; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c - 'A' + 'a');
		uuid_generate_sha1(u, hostid_namespace, txt, 32);
		uuid_unparse_lower(u, out);
		return 0;
	}
	/* Firmware placeholders shared by many machines are no identity. */
	if (id_path(path, sizeof path, "product_uuid",
		    "/sys/class/dmi/id/product_uuid") &&
	    read_id_file(path, txt, sizeof txt) && uuid_canon(txt, txt) &&
	    strcmp(txt, "ffffffff-ffff-ffff-ffff-ffffffffffff") != 0 &&
	    strcmp(txt, "03000200-0400-0500-0006-000700080009") != 0) {
		uuid_generate_sha1(u, hostid_namespace, txt, UUID_TEXT_LEN);
		uuid_unparse_lower(u, out);
		return 0;
	}
	if (etc_dir())
		return set_error(ENOENT,
				 "no host ID: %s has no valid hostid, UUID hostnqn, machine-id or product_uuid",
				 etc_dir());
	return set_error(ENOENT,
			 "no host ID: no valid /etc/nvme/hostid or UUID /etc/nvme/hostnqn, "
			 "no /etc/machine-id and no DMI product UUID; write one with "
			 "'nvmeof gen-hostnqn > /etc/nvme/hostnqn'");
}

int nvmeof_default_hostid(char *buf, size_t len)
{
	char id[UUID_STR_LEN];
	int r;

	if (!buf)
		return set_error(EINVAL, "no buffer for the host ID");
	r = hostid_derive(id);
	if (r < 0)
		return r;
	return copy_out(buf, len, id, "host ID");
}

int nvmeof_default_hostnqn(char *buf, size_t len)
{
	char path[4096], txt[ID_FILE_MAX], why[256], id[UUID_STR_LEN];
	char nqn[sizeof UUID_NQN_PREFIX + UUID_STR_LEN];
	int r;

	if (!buf)
		return set_error(EINVAL, "no buffer for the host NQN");
	/* A hostnqn file that is not a valid NQN is ignored, as if absent. */
	if (id_path(path, sizeof path, "hostnqn", "/etc/nvme/hostnqn") &&
	    read_id_file(path, txt, sizeof txt) && nqn_check(txt, why, sizeof why))
		return copy_out(buf, len, txt, "host NQN");
	r = hostid_derive(id);
	if (r < 0)
		return r;
	snprintf(nqn, sizeof nqn, "%s%s", UUID_NQN_PREFIX, id);
	return copy_out(buf, len, nqn, "host NQN");
}

int nvmeof_gen_hostnqn(char *buf, size_t len)
{
	char id[UUID_STR_LEN], nqn[sizeof UUID_NQN_PREFIX + UUID_STR_LEN];
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, id);
	snprintf(nqn, sizeof nqn, "%s%s", UUID_NQN_PREFIX, id);
	return copy_out(buf, len, nqn, "host NQN");
}

/* ---- addresses ---------------------------------------------------------- */

/* An IPv6 literal, with an optional %zone (RFC 4007 §11). */
static bool is_ipv6(const char *s, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 64];
	struct in6_addr a;
	const char *pct = memchr(s, '%', len);
	size_t n = pct ? (size_t)(pct - s) : len;

	if (n >= sizeof tmp || (pct && pct + 1 == s + len))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

int nvmeof_parse_address(const char *s, char *host, size_t hostlen,
			 char *port, size_t portlen, const char *default_port)
{
	const char *h, *p = NULL;
	char pbuf[8];
	const char *pout;
	size_t hl;

	if (!s)
		return set_error(EINVAL, "no address (NULL)");
	if (!host || !port)
		return set_error(EINVAL, "address '%s': no buffer for the host or port", s);
	if (!*s)
		return set_error(EINVAL, "the address is empty");
	for (size_t i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return set_error(EINVAL,
					 "address '%s': white space or a control character at byte %zu",
					 s, i);

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return set_error(EINVAL, "address '%s': '[' without a closing ']'", s);
		h = s + 1;
		hl = (size_t)(close - h);
		if (hl == 0)
			return set_error(EINVAL, "address '%s': nothing between '[' and ']'", s);
		if (!is_ipv6(h, hl))
			return set_error(EINVAL,
					 "address '%s': '%.*s' in brackets is not an IPv6 address",
					 s, (int)hl, h);
		if (close[1] == ':')
			p = close + 2;
		else if (close[1] != '\0')
			return set_error(EINVAL,
					 "address '%s': '%s' after ']' (want [addr] or [addr]:port)",
					 s, close + 1);
	} else {
		const char *colon = strchr(s, ':');

		h = s;
		hl = strlen(s);
		if (colon && strchr(colon + 1, ':')) {
			/* Several colons and no brackets: an IPv6 address, no port. */
			if (!is_ipv6(s, hl))
				return set_error(EINVAL,
						 "address '%s': several ':' but not an IPv6 address (write [addr]:port for IPv6 with a port)",
						 s);
		} else if (colon) {
			hl = (size_t)(colon - s);
			p = colon + 1;
		}
		if (hl == 0)
			return set_error(EINVAL, "address '%s': the host is empty", s);
		if (memchr(h, '[', hl) || memchr(h, ']', hl))
			return set_error(EINVAL, "address '%s': misplaced '[' or ']'", s);
	}

	if (p) {
		size_t n = strlen(p);
		unsigned long v;

		if (n == 0)
			return set_error(EINVAL, "address '%s': the port after ':' is empty", s);
		if (strspn(p, "0123456789") != n)
			return set_error(EINVAL, "address '%s': port '%s' is not a number", s, p);
		v = n > 5 ? 0 : strtoul(p, NULL, 10);
		if (v < 1 || v > 65535)
			return set_error(EINVAL,
					 "address '%s': port %s is out of range (1 to 65535)", s, p);
		snprintf(pbuf, sizeof pbuf, "%lu", v);
		pout = pbuf;
	} else {
		pout = default_port ? default_port : "";
	}

	if (hl + 1 > hostlen)
		return set_error(ENAMETOOLONG,
				 "address '%s': the host needs %zu bytes; the buffer holds %zu",
				 s, hl + 1, hostlen);
	if (strlen(pout) + 1 > portlen)
		return set_error(ENAMETOOLONG,
				 "address '%s': the port '%s' needs %zu bytes; the buffer holds %zu",
				 s, pout, strlen(pout) + 1, portlen);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memmove(port, pout, strlen(pout) + 1);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Identify data, log pages and feature values in words: "field : value"
 * lines with the names nvme-cli prints, or a JSON object with the same
 * names.  One decoder for the CLI and the FUSE pseudo-files.
 *
 * The bytes come from a target we do not trust.  Every read is bounded by
 * len (fixed-size structures are checked whole before the first field is
 * read; variable ones entry by entry), and every string from the wire is
 * escaped: text never carries a raw control byte, JSON is always ASCII.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "internal.h"
#include "nvme_spec.h"

/* ---- a growable string ---------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static bool sb_init(struct sbuf *b)
{
	b->len = 0;
	b->cap = 4096;
	b->oom = false;
	b->p = malloc(b->cap);
	if (!b->p) {
		b->oom = true;
		return false;
	}
	b->p[0] = '\0';
	return true;
}

/* Room for extra more bytes plus the NUL. */
static bool sb_reserve(struct sbuf *b, size_t extra)
{
	size_t cap;
	char *np;

	if (b->oom)
		return false;
	if (b->cap - b->len > extra)
		return true;
	cap = b->cap;
	while (cap - b->len <= extra) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

static void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (b->oom)
		return;
	va_copy(aq, ap);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, aq);
	va_end(aq);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!sb_reserve(b, (size_t)n))
			return;
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) NVMEOF_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Text: printable ASCII as is, everything else (and the backslash, so
 * that the escape is unambiguous) as \xNN. */
static void sb_text_escaped(struct sbuf *b, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\')
			sb_puts(b, "\\\\");
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			sb_putc(b, (char)s[i]);
		else
			sb_printf(b, "\\x%02x", s[i]);
	}
}

/* JSON (RFC 8259 §7): quote and backslash escaped, control bytes and every
 * byte >= 0x7f as \u00XX, so the result is ASCII and therefore valid UTF-8
 * whatever the target sent. */
static void sb_json_string_x(struct sbuf *b, const uint8_t *s, size_t n, bool utf8)
{
	size_t i;

	sb_putc(b, '"');
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		/* Our own words are UTF-8 ("°C"): one \uXXXX per character.
		 * Wire bytes are not: one \u00XX per byte. */
		if (utf8 && c >= 0xc2 && c <= 0xdf && i + 1 < n &&
		    (s[i + 1] & 0xc0) == 0x80) {
			sb_printf(b, "\\u%04x", (unsigned)(c & 0x1f) << 6 | (s[i + 1] & 0x3f));
			i++;
			continue;
		}
		switch (c) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\b': sb_puts(b, "\\b"); break;
		case '\f': sb_puts(b, "\\f"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				sb_printf(b, "\\u%04x", c);
			else
				sb_putc(b, (char)c);
		}
	}
	sb_putc(b, '"');
}

static void sb_json_string(struct sbuf *b, const uint8_t *s, size_t n)
{
	sb_json_string_x(b, s, n, false);
}

/* ---- small value helpers --------------------------------------------------- */

/* A fixed-size identify/log string: up to the first NUL, trailing spaces
 * dropped.  Returns the length to print. */
static size_t fixed_strlen(const uint8_t *s, size_t field)
{
	const uint8_t *nul = memchr(s, '\0', field);
	size_t n = nul ? (size_t)(nul - s) : field;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A 128-bit little-endian counter (SMART, capacities) in decimal, exactly:
 * long division by 10 over four 32-bit limbs.  out holds 40 bytes. */
static void u128_to_dec(const uint8_t le[16], char out[40])
{
	uint32_t limb[4];
	char tmp[40];
	size_t n = 0, i;

	for (i = 0; i < 4; i++)
		limb[i] = le32_get(le + 4 * i);
	do {
		uint64_t rem = 0;
		int j;

		for (j = 3; j >= 0; j--) {
			uint64_t cur = rem << 32 | limb[j];

			limb[j] = (uint32_t)(cur / 10);
			rem = cur % 10;
		}
		tmp[n++] = (char)('0' + rem);
	} while (limb[0] | limb[1] | limb[2] | limb[3]);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

/* Does the counter fit a JSON number without loss (<= 2^53 - 1)? */
static bool u128_json_safe(const uint8_t le[16])
{
	return le64_get(le + 8) == 0 && le64_get(le) <= (1ULL << 53) - 1;
}

static long double u128_to_ld(const uint8_t le[16])
{
	return (long double)le64_get(le + 8) * 18446744073709551616.0L +
	       (long double)le64_get(le);
}

static const char *uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	return out;
}

/* ---- the emitter: one decoder writes text or JSON ------------------------ */

#define OUT_MAX_DEPTH 8

struct out {
	struct sbuf sb;
	bool json;
	int width;                        /* text: width of the name column */
	int depth;                        /* JSON nesting */
	bool first[OUT_MAX_DEPTH + 1];    /* JSON: no member yet at this depth */
};

static void j_item(struct out *o)
{
	if (!o->first[o->depth])
		sb_putc(&o->sb, ',');
	o->first[o->depth] = false;
	sb_printf(&o->sb, "\n%*s", 2 * o->depth, "");
}

static void j_key(struct out *o, const char *name)
{
	j_item(o);
	sb_json_string(&o->sb, (const uint8_t *)name, strlen(name));
	sb_puts(&o->sb, ": ");
}

/* Open an object or array (JSON only; text has no nesting).  name NULL:
 * an array element, or the root. */
static void o_open(struct out *o, const char *name, char c)
{
	if (!o->json)
		return;
	if (name)
		j_key(o, name);
	else if (o->depth > 0)
		j_item(o);
	sb_putc(&o->sb, c);
	if (o->depth < OUT_MAX_DEPTH)
		o->depth++;
	o->first[o->depth] = true;
}

static void o_close(struct out *o, char c)
{
	if (!o->json)
		return;
	if (!o->first[o->depth])
		sb_printf(&o->sb, "\n%*s", 2 * (o->depth - 1), "");
	if (o->depth > 0)
		o->depth--;
	sb_putc(&o->sb, c);
}

static void t_name(struct out *o, const char *name)
{
	sb_printf(&o->sb, "%-*s : ", o->width, name);
}

/* A line of text only (section headers); nothing in JSON. */
static void t_line(struct out *o, const char *fmt, ...) NVMEOF_PRINTF(2, 3);
static void t_line(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		return;
	va_start(ap, fmt);
	sb_vprintf(&o->sb, fmt, ap);
	va_end(ap);
	sb_putc(&o->sb, '\n');
}

/* An unsigned number: JSON number; text decimal or 0x-hex. */
static void f_num(struct out *o, const char *name, uint64_t v, bool hex)
{
	if (o->json) {
		j_key(o, name);
		sb_printf(&o->sb, "%" PRIu64, v);
	} else {
		t_name(o, name);
		sb_printf(&o->sb, hex ? "0x%" PRIx64 "\n" : "%" PRIu64 "\n", v);
	}
}

/* A JSON number (for array elements of numbers); nothing in text. */
static void j_num_elem(struct out *o, uint64_t v)
{
	if (!o->json)
		return;
	j_item(o);
	sb_printf(&o->sb, "%" PRIu64, v);
}

static void f_bool(struct out *o, const char *name, bool v)
{
	if (o->json) {
		j_key(o, name);
		sb_puts(&o->sb, v ? "true" : "false");
	} else {
		t_name(o, name);
		sb_puts(&o->sb, v ? "yes\n" : "no\n");
	}
}

/* Bytes from the wire (or our own words): escaped for either format. */
static void f_bytes(struct out *o, const char *name, const void *s, size_t n)
{
	if (o->json) {
		j_key(o, name);
		sb_json_string(&o->sb, s, n);
	} else {
		t_name(o, name);
		sb_text_escaped(&o->sb, s, n);
		sb_putc(&o->sb, '\n');
	}
}

static void f_str(struct out *o, const char *name, const char *s)
{
	f_bytes(o, name, s, strlen(s));
}

/* Our own words (may hold UTF-8 such as "°C", never control bytes). */
static void f_words(struct out *o, const char *name, const char *s)
{
	if (o->json) {
		j_key(o, name);
		sb_json_string_x(&o->sb, (const uint8_t *)s, strlen(s), true);
	} else {
		t_name(o, name);
		sb_puts(&o->sb, s);
		sb_putc(&o->sb, '\n');
	}
}

/* A string value formatted by us, e.g. "35 °C (308 K)". */
static void f_fmt(struct out *o, const char *name, const char *fmt, ...)
	NVMEOF_PRINTF(3, 4);
static void f_fmt(struct out *o, const char *name, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	f_words(o, name, tmp);
}

/* A fixed-size string field of the structure. */
static void f_fixed(struct out *o, const char *name, const uint8_t *s, size_t field)
{
	f_bytes(o, name, s, fixed_strlen(s, field));
}

/* Bytes as one hex string (NGUID, EUI-64). */
static void f_hex_bytes(struct out *o, const char *name, const uint8_t *p, size_t n)
{
	char tmp[2 * 256 + 1];
	size_t i;

	n = MIN(n, (size_t)256);
	for (i = 0; i < n; i++)
		snprintf(tmp + 2 * i, 3, "%02x", p[i]);
	tmp[2 * n] = '\0';
	f_str(o, name, tmp);
}

/* A 128-bit counter: exact decimal; a JSON number when it is safely one. */
static void f_u128(struct out *o, const char *name, const uint8_t le[16])
{
	char dec[40];

	u128_to_dec(le, dec);
	if (o->json && !u128_json_safe(le)) {
		f_str(o, name, dec);
	} else if (o->json) {
		j_key(o, name);
		sb_puts(&o->sb, dec);
	} else {
		t_name(o, name);
		sb_puts(&o->sb, dec);
		sb_putc(&o->sb, '\n');
	}
}

/* ---- errors ------------------------------------------------------------- */

/* The decoder is not part of libnvmeof, so it keeps its own message per
 * thread rather than writing into the library's error state. */
static __thread char desc_msg[256];

static int desc_error(int err, const char *fmt, ...) NVMEOF_PRINTF(2, 3);
static int desc_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc_msg, sizeof(desc_msg), fmt, ap);
	va_end(ap);
	errno = err;
	return -err;
}

const char *nvmeof_describe_error(void)
{
	return desc_msg;
}

static int too_short(const char *what, size_t need, size_t len)
{
	return desc_error(EINVAL, "%s: %zu bytes, need at least %zu", what, len, need);
}

/* ---- table-driven fields ---------------------------------------------------- */

enum fkind {
	FK_DEC,   /* 1, 2, 4 or 8 bytes, decimal */
	FK_HEX,   /* 1, 2, 4 or 8 bytes, 0x-hex in text */
	FK_STR,   /* fixed-size ASCII */
	FK_U128,  /* 16-byte counter */
	FK_IEEE,  /* 3-byte OUI, printed most significant byte first */
	FK_UUID,  /* 16 bytes as a UUID */
	FK_HEXB,  /* bytes as a hex string */
};

struct field {
	const char *name;
	uint16_t off;
	uint16_t size;
	uint8_t kind;
};

#define FIELD(type, f, kind) \
	{ #f, offsetof(struct type, f), sizeof(((struct type *)0)->f), kind }

static uint64_t get_le(const uint8_t *p, size_t size)
{
	switch (size) {
	case 1: return p[0];
	case 2: return le16_get(p);
	case 4: return le32_get(p);
	case 8: return le64_get(p);
	default: return 0;
	}
}

/* Callers have checked that p holds the whole structure the table is of. */
static void emit_fields(struct out *o, const uint8_t *p, const struct field *f,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, f++) {
		const uint8_t *v = p + f->off;
		char tmp[40];

		switch (f->kind) {
		case FK_DEC:
		case FK_HEX:
			f_num(o, f->name, get_le(v, f->size), f->kind == FK_HEX);
			break;
		case FK_STR:
			f_fixed(o, f->name, v, f->size);
			break;
		case FK_U128:
			f_u128(o, f->name, v);
			break;
		case FK_IEEE:
			if (o->json)
				f_num(o, f->name, (uint64_t)v[2] << 16 | v[1] << 8 | v[0], false);
			else
				f_fmt(o, f->name, "%02x%02x%02x", v[2], v[1], v[0]);
			break;
		case FK_UUID:
			f_str(o, f->name, uuid_str(v, tmp));
			break;
		case FK_HEXB:
			f_hex_bytes(o, f->name, v, f->size);
			break;
		}
	}
}

/* ---- Identify Controller (NVMe Base 2.0 §5.17.2.1, NVMe-oF 1.1 §4.1) ------ */

#define IDC(f, kind) FIELD(nvme_id_ctrl, f, kind)
static const struct field id_ctrl_fields[] = {
	IDC(vid, FK_HEX), IDC(ssvid, FK_HEX), IDC(sn, FK_STR), IDC(mn, FK_STR),
	IDC(fr, FK_STR), IDC(rab, FK_DEC), IDC(ieee, FK_IEEE), IDC(cmic, FK_HEX),
	IDC(mdts, FK_DEC), IDC(cntlid, FK_HEX), IDC(ver, FK_HEX),
	IDC(rtd3r, FK_HEX), IDC(rtd3e, FK_HEX), IDC(oaes, FK_HEX),
	IDC(ctratt, FK_HEX), IDC(rrls, FK_HEX), IDC(cntrltype, FK_DEC),
	IDC(fguid, FK_UUID), IDC(crdt1, FK_DEC), IDC(crdt2, FK_DEC),
	IDC(crdt3, FK_DEC), IDC(nvmsr, FK_DEC), IDC(vwci, FK_DEC),
	IDC(mec, FK_DEC), IDC(oacs, FK_HEX), IDC(acl, FK_DEC), IDC(aerl, FK_DEC),
	IDC(frmw, FK_HEX), IDC(lpa, FK_HEX), IDC(elpe, FK_DEC), IDC(npss, FK_DEC),
	IDC(avscc, FK_HEX), IDC(apsta, FK_HEX), IDC(wctemp, FK_DEC),
	IDC(cctemp, FK_DEC), IDC(mtfa, FK_DEC), IDC(hmpre, FK_DEC),
	IDC(hmmin, FK_DEC), IDC(tnvmcap, FK_U128), IDC(unvmcap, FK_U128),
	IDC(rpmbs, FK_HEX), IDC(edstt, FK_DEC), IDC(dsto, FK_DEC),
	IDC(fwug, FK_DEC), IDC(kas, FK_DEC), IDC(hctma, FK_HEX),
	IDC(mntmt, FK_DEC), IDC(mxtmt, FK_DEC), IDC(sanicap, FK_HEX),
	IDC(hmminds, FK_DEC), IDC(hmmaxd, FK_DEC), IDC(nsetidmax, FK_DEC),
	IDC(endgidmax, FK_DEC), IDC(anatt, FK_DEC), IDC(anacap, FK_DEC),
	IDC(anagrpmax, FK_DEC), IDC(nanagrpid, FK_DEC), IDC(pels, FK_DEC),
	IDC(domainid, FK_DEC), IDC(megcap, FK_U128), IDC(sqes, FK_HEX),
	IDC(cqes, FK_HEX), IDC(maxcmd, FK_DEC), IDC(nn, FK_DEC),
	IDC(oncs, FK_HEX), IDC(fuses, FK_HEX), IDC(fna, FK_HEX), IDC(vwc, FK_HEX),
	IDC(awun, FK_DEC), IDC(awupf, FK_DEC), IDC(icsvscc, FK_DEC),
	IDC(nwpc, FK_DEC), IDC(acwu, FK_DEC), IDC(ocfs, FK_HEX),
	IDC(sgls, FK_HEX), IDC(mnan, FK_DEC), IDC(maxdna, FK_U128),
	IDC(maxcna, FK_DEC), IDC(subnqn, FK_STR), IDC(ioccsz, FK_DEC),
	IDC(iorcsz, FK_DEC), IDC(icdoff, FK_DEC), IDC(fcatt, FK_HEX),
	IDC(msdbd, FK_DEC), IDC(ofcs, FK_DEC),
};

/* Power state descriptor (§5.17.2.1, Figure 276), byte offsets in it. */
enum {
	PSD_MP = 0,      /* 2 bytes: maximum power */
	PSD_FLAGS = 3,   /* bit 0 MXPS (0.0001 W units), bit 1 NOPS */
	PSD_ENLAT = 4,
	PSD_EXLAT = 8,
	PSD_RRT = 12,    /* the low 5 bits of these four */
	PSD_RRL = 13,
	PSD_RWT = 14,
	PSD_RWL = 15,
	PSD_IDLP = 16,   /* 2 bytes */
	PSD_IPS = 18,    /* bits 7:6 */
	PSD_ACTP = 20,   /* 2 bytes */
	PSD_APW_APS = 22 /* bits 2:0 workload, bits 7:6 scale */
};

static void ps_power(char *out, size_t n, uint16_t power, unsigned scale)
{
	switch (scale & 3) {
	case 0: snprintf(out, n, "-"); break;
	case 1: snprintf(out, n, "%u.%04uW", power / 10000, power % 10000); break;
	case 2: snprintf(out, n, "%u.%02uW", power / 100, power % 100); break;
	default: snprintf(out, n, "reserved"); break;
	}
}

static const char *ps_workload(unsigned w)
{
	switch (w) {
	case 0: return "-";
	case 1: return "Extended Idle Period with a Burst of Random Write";
	case 2: return "Heavy Sequential Writes";
	default: return "Reserved";
	}
}

static void emit_power_state(struct out *o, unsigned i, const uint8_t *ps)
{
	uint16_t mp = le16_get(ps + PSD_MP), idlp = le16_get(ps + PSD_IDLP),
		 actp = le16_get(ps + PSD_ACTP);
	uint8_t flags = ps[PSD_FLAGS];
	unsigned ips = ps[PSD_IPS] >> 6, aps = ps[PSD_APW_APS] >> 6,
		 apw = ps[PSD_APW_APS] & 7;
	char name[16], idle[24], active[24], maxp[24];

	if (o->json) {
		o_open(o, NULL, '{');
		f_num(o, "max_power", mp, false);
		f_num(o, "max_power_scale", flags & 1, false);
		f_num(o, "non-operational_state", (flags >> 1) & 1, false);
		f_num(o, "entry_lat", le32_get(ps + PSD_ENLAT), false);
		f_num(o, "exit_lat", le32_get(ps + PSD_EXLAT), false);
		f_num(o, "read_tput", ps[PSD_RRT] & 0x1f, false);
		f_num(o, "read_lat", ps[PSD_RRL] & 0x1f, false);
		f_num(o, "write_tput", ps[PSD_RWT] & 0x1f, false);
		f_num(o, "write_lat", ps[PSD_RWL] & 0x1f, false);
		f_num(o, "idle_power", idlp, false);
		f_num(o, "idle_scale", ips, false);
		f_num(o, "active_power", actp, false);
		f_num(o, "active_power_work", apw, false);
		f_num(o, "active_scale", aps, false);
		o_close(o, '}');
		return;
	}
	if (flags & 1)
		snprintf(maxp, sizeof maxp, "%u.%04uW", mp / 10000, mp % 10000);
	else
		snprintf(maxp, sizeof maxp, "%u.%02uW", mp / 100, mp % 100);
	ps_power(idle, sizeof idle, idlp, ips);
	ps_power(active, sizeof active, actp, aps);
	snprintf(name, sizeof name, "ps %u", i);
	f_fmt(o, name,
	      "mp:%s %soperational enlat:%" PRIu32 " exlat:%" PRIu32
	      " rrt:%u rrl:%u rwt:%u rwl:%u idle_power:%s active_power:%s"
	      " active_power_workload:%s",
	      maxp, (flags & 2) ? "non-" : "", le32_get(ps + PSD_ENLAT),
	      le32_get(ps + PSD_EXLAT), ps[PSD_RRT] & 0x1f, ps[PSD_RRL] & 0x1f,
	      ps[PSD_RWT] & 0x1f, ps[PSD_RWL] & 0x1f, idle, active,
	      ps_workload(apw));
}

static int d_id_ctrl(struct out *o, const uint8_t *p, size_t len)
{
	unsigned npss, i;

	if (len < sizeof(struct nvme_id_ctrl))
		return too_short("Identify Controller", sizeof(struct nvme_id_ctrl), len);
	o->width = 9;
	emit_fields(o, p, id_ctrl_fields, ARRAY_SIZE(id_ctrl_fields));
	/* NPSS is 0's based; 32 descriptors at most. */
	npss = MIN((unsigned)p[offsetof(struct nvme_id_ctrl, npss)], 31u);
	o_open(o, "psds", '[');
	for (i = 0; i <= npss; i++)
		emit_power_state(o, i, p + offsetof(struct nvme_id_ctrl, psd) +
				       i * sizeof(struct nvme_id_power_state));
	o_close(o, ']');
	return 0;
}

/* ---- Identify Namespace (NVMe NVM Command Set 1.0 §4.1.5.1) -------------- */

#define IDN(f, kind) FIELD(nvme_id_ns, f, kind)
static const struct field id_ns_fields[] = {
	IDN(nsze, FK_HEX), IDN(ncap, FK_HEX), IDN(nuse, FK_HEX),
	IDN(nsfeat, FK_HEX), IDN(nlbaf, FK_DEC), IDN(flbas, FK_HEX),
	IDN(mc, FK_HEX), IDN(dpc, FK_HEX), IDN(dps, FK_HEX), IDN(nmic, FK_HEX),
	IDN(rescap, FK_HEX), IDN(fpi, FK_HEX), IDN(dlfeat, FK_DEC),
	IDN(nawun, FK_DEC), IDN(nawupf, FK_DEC), IDN(nacwu, FK_DEC),
	IDN(nabsn, FK_DEC), IDN(nabo, FK_DEC), IDN(nabspf, FK_DEC),
	IDN(noiob, FK_DEC), IDN(nvmcap, FK_U128), IDN(npwg, FK_DEC),
	IDN(npwa, FK_DEC), IDN(npdg, FK_DEC), IDN(npda, FK_DEC),
	IDN(nows, FK_DEC), IDN(mssrl, FK_DEC), IDN(mcl, FK_DEC),
	IDN(msrc, FK_DEC), IDN(nulbaf, FK_DEC), IDN(anagrpid, FK_DEC),
	IDN(nsattr, FK_DEC), IDN(nvmsetid, FK_DEC), IDN(endgid, FK_DEC),
	IDN(nguid, FK_HEXB), IDN(eui64, FK_HEXB),
};

static int d_id_ns(struct out *o, const uint8_t *p, size_t len)
{
	uint8_t nlbaf, flbas, nulbaf;
	unsigned n, i, inuse;

	if (len < sizeof(struct nvme_id_ns))
		return too_short("Identify Namespace", sizeof(struct nvme_id_ns), len);
	nlbaf = p[offsetof(struct nvme_id_ns, nlbaf)];
	flbas = p[offsetof(struct nvme_id_ns, flbas)];
	nulbaf = p[offsetof(struct nvme_id_ns, nulbaf)];
	o->width = 7;
	emit_fields(o, p, id_ns_fields, ARRAY_SIZE(id_ns_fields));
	/* NLBAF is 0's based; unique-capability formats follow (NULBAF). */
	n = MIN((unsigned)nlbaf + 1 + nulbaf, 64u);
	inuse = nvme_id_ns_flbas_index(flbas, nlbaf);
	o_open(o, "lbafs", '[');
	for (i = 0; i < n; i++) {
		const uint8_t *lf = p + offsetof(struct nvme_id_ns, lbaf) +
				    i * sizeof(struct nvme_lbaf);
		uint16_t ms = le16_get(lf + offsetof(struct nvme_lbaf, ms));
		uint8_t ds = lf[offsetof(struct nvme_lbaf, lbads)];
		uint8_t rp = lf[offsetof(struct nvme_lbaf, rp)] & 3;

		if (o->json) {
			o_open(o, NULL, '{');
			f_num(o, "ms", ms, false);
			f_num(o, "ds", ds, false);
			f_num(o, "rp", rp, false);
			o_close(o, '}');
		} else {
			char name[16];

			snprintf(name, sizeof name, "lbaf %2u", i);
			f_fmt(o, name, "ms:%-3u lbads:%-2u rp:%#x%s", ms, ds, rp,
			      i == inuse ? " (in use)" : "");
		}
	}
	o_close(o, ']');
	return 0;
}

/* ---- Identify: active namespace list (CNS 02h), Changed NS List log ------ */

static void emit_nsid_list(struct out *o, const char *key, const uint8_t *p,
			   size_t len)
{
	size_t i, n = len / 4;

	o_open(o, key, '[');
	for (i = 0; i < n; i++) {
		uint32_t nsid = le32_get(p + 4 * i);

		if (nsid == 0) /* the list ends at the first zero */
			break;
		if (o->json) {
			o_open(o, NULL, '{');
			f_num(o, "nsid", nsid, false);
			o_close(o, '}');
		} else {
			sb_printf(&o->sb, "[%4zu]:%#" PRIx32 "\n", i, nsid);
		}
	}
	o_close(o, ']');
	if (i == 0)
		t_line(o, "no entries");
}

static int d_ns_list(struct out *o, const uint8_t *p, size_t len)
{
	if (len < 4)
		return too_short("Active Namespace ID list", 4, len);
	emit_nsid_list(o, "nsid_list", p, len);
	return 0;
}

static int d_changed_ns(struct out *o, const uint8_t *p, size_t len)
{
	bool overflow;

	if (len < 4)
		return too_short("Changed Namespace List log", 4, len);
	/* §5.16.1.5: FFFFFFFFh first means more than 1024 changed. */
	overflow = le32_get(p) == 0xffffffffu;
	o->width = 8;
	if (overflow) {
		if (o->json)
			f_bool(o, "overflow", true);
		else
			t_line(o, "more than %d namespaces changed", NVME_CHANGED_NS_MAX);
		return 0;
	}
	if (o->json)
		f_bool(o, "overflow", false);
	emit_nsid_list(o, "changed_ns_list", p, len);
	return 0;
}

/* ---- Namespace Identification Descriptor list (CNS 03h, §5.17.2.3) ------- */

static int d_ns_desc(struct out *o, const uint8_t *p, size_t len)
{
	size_t off = 0, count = 0;

	if (len < 4)
		return too_short("Namespace Identification Descriptor list", 4, len);
	o->width = 5;
	while (len - off >= 4) {
		uint8_t nidt = p[off], nidl = p[off + 1];
		const uint8_t *nid = p + off + 4;
		char name[16], tmp[40];

		if (nidt == 0) /* zero-filled tail: end of the list */
			break;
		if (nidl > len - off - 4)
			return desc_error(EINVAL,
					 "Namespace Identification Descriptor at offset %zu: NIDL %u runs past the %zu bytes read",
					 off, nidl, len);
		if (nidt == NVME_NIDT_EUI64 && nidl == 8)
			f_hex_bytes(o, "eui64", nid, 8);
		else if (nidt == NVME_NIDT_NGUID && nidl == 16)
			f_hex_bytes(o, "nguid", nid, 16);
		else if (nidt == NVME_NIDT_UUID && nidl == 16)
			f_str(o, "uuid", uuid_str(nid, tmp));
		else if (nidt == NVME_NIDT_CSI && nidl == 1)
			f_num(o, "csi", nid[0], false);
		else {
			snprintf(name, sizeof name, "nidt%u", nidt);
			f_hex_bytes(o, name, nid, nidl);
		}
		off += 4 + (size_t)nidl;
		count++;
	}
	if (count == 0)
		t_line(o, "no entries");
	return 0;
}

/* ---- Error Information log (LID 01h, §5.16.1.2) -------------------------- */

#define ERR(f) offsetof(struct nvme_error_log_entry, f)

static int d_log_error(struct out *o, const uint8_t *p, size_t len)
{
	const size_t esz = sizeof(struct nvme_error_log_entry);
	size_t i, n = len / esz, shown = 0;

	if (len < esz)
		return too_short("Error Information log", esz, len);
	o->width = 19;
	o_open(o, "errors", '[');
	for (i = 0; i < n; i++) {
		const uint8_t *e = p + i * esz;
		uint16_t st = le16_get(e + ERR(status));

		if (all_zero(e, esz))
			continue;
		shown++;
		t_line(o, ".................");
		t_line(o, " Entry[%2zu]", i);
		t_line(o, ".................");
		o_open(o, NULL, '{');
		f_num(o, "error_count", le64_get(e + ERR(error_count)), false);
		f_num(o, "sqid", le16_get(e + ERR(sqid)), false);
		f_num(o, "cmdid", le16_get(e + ERR(cmdid)), true);
		if (o->json)
			f_num(o, "status_field", st >> 1, true);
		else
			f_fmt(o, "status_field", "0x%x (%s)", st >> 1,
			      nvmeof_status_str(st >> 1));
		f_num(o, "phase_tag", st & 1, false);
		f_num(o, "parm_error_location",
		      le16_get(e + ERR(parm_error_location)), true);
		f_num(o, "lba", le64_get(e + ERR(lba)), false);
		f_num(o, "nsid", le32_get(e + ERR(nsid)), false);
		f_num(o, "vs", e[ERR(vs)], false);
		f_num(o, "trtype", e[ERR(trtype)], false);
		/* NVMe 2.0 bytes 30/31: CSI and opcode (rsvd30 in nvme_spec.h) */
		f_num(o, "csi", e[ERR(rsvd30)], false);
		f_num(o, "opcode", e[ERR(rsvd30) + 1], true);
		f_num(o, "cs", le64_get(e + ERR(cs)), true);
		f_num(o, "trtype_spec_info", le16_get(e + ERR(trtype_spec_info)), true);
		f_num(o, "log_page_version", e[ERR(log_page_version)], false);
		o_close(o, '}');
	}
	o_close(o, ']');
	if (shown == 0)
		t_line(o, "no entries");
	return 0;
}

/* ---- SMART / Health Information log (LID 02h, §5.16.1.3) ----------------- */

#define SMART(f) offsetof(struct nvme_smart_log, f)

static void f_temp(struct out *o, const char *name, uint16_t kelvin)
{
	if (o->json)
		f_num(o, name, kelvin, false);
	else
		f_fmt(o, name, "%d °C (%u K)", (int)kelvin - 273, kelvin);
}

/* Data units are thousands of 512-byte units (§5.16.1.3). */
static void f_data_units(struct out *o, const char *name, const uint8_t le[16])
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB",
					    "EB", "ZB", "YB" };
	long double bytes = u128_to_ld(le) * 512000.0L;
	char dec[40];
	unsigned u = 0;

	if (o->json) {
		f_u128(o, name, le);
		return;
	}
	while (bytes >= 1000.0L && u < ARRAY_SIZE(unit) - 1) {
		bytes /= 1000.0L;
		u++;
	}
	u128_to_dec(le, dec);
	f_fmt(o, name, "%s (%.2Lf %s)", dec, bytes, unit[u]);
}

static int d_log_smart(struct out *o, const uint8_t *p, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} counters[] = {
		{ "host_read_commands", SMART(host_reads) },
		{ "host_write_commands", SMART(host_writes) },
		{ "controller_busy_time", SMART(ctrl_busy_time) },
		{ "power_cycles", SMART(power_cycles) },
		{ "power_on_hours", SMART(power_on_hours) },
		{ "unsafe_shutdowns", SMART(unsafe_shutdowns) },
		{ "media_errors", SMART(media_errors) },
		{ "num_err_log_entries", SMART(num_err_log_entries) },
	};
	size_t i;

	if (len < sizeof(struct nvme_smart_log))
		return too_short("SMART / Health Information log",
				 sizeof(struct nvme_smart_log), len);
	o->width = 21;
	f_num(o, "critical_warning", p[SMART(critical_warning)], true);
	f_temp(o, "temperature", le16_get(p + SMART(temperature)));
	if (o->json) {
		f_num(o, "avail_spare", p[SMART(avail_spare)], false);
		f_num(o, "spare_thresh", p[SMART(spare_thresh)], false);
		f_num(o, "percent_used", p[SMART(percent_used)], false);
	} else {
		f_fmt(o, "avail_spare", "%u%%", p[SMART(avail_spare)]);
		f_fmt(o, "spare_thresh", "%u%%", p[SMART(spare_thresh)]);
		f_fmt(o, "percent_used", "%u%%", p[SMART(percent_used)]);
	}
	f_num(o, "endurance_grp_critical_warning_summary",
	      p[SMART(endu_grp_crit_warn_sumry)], true);
	f_data_units(o, "data_units_read", p + SMART(data_units_read));
	f_data_units(o, "data_units_written", p + SMART(data_units_written));
	for (i = 0; i < ARRAY_SIZE(counters); i++)
		f_u128(o, counters[i].name, p + counters[i].off);
	f_num(o, "warning_temp_time", le32_get(p + SMART(warning_temp_time)), false);
	f_num(o, "critical_comp_time", le32_get(p + SMART(critical_comp_time)), false);
	for (i = 0; i < 8; i++) {
		uint16_t t = le16_get(p + SMART(temp_sensor) + 2 * i);
		char name[32];

		if (t == 0) /* not implemented */
			continue;
		snprintf(name, sizeof name, "temperature_sensor_%zu", i + 1);
		f_temp(o, name, t);
	}
	f_num(o, "thm_temp1_trans_count", le32_get(p + SMART(thm_temp1_trans_count)), false);
	f_num(o, "thm_temp2_trans_count", le32_get(p + SMART(thm_temp2_trans_count)), false);
	f_num(o, "thm_temp1_total_time", le32_get(p + SMART(thm_temp1_total_time)), false);
	f_num(o, "thm_temp2_total_time", le32_get(p + SMART(thm_temp2_total_time)), false);
	return 0;
}

/* ---- Firmware Slot Information log (LID 03h, §5.16.1.4) ------------------ */

static int d_log_firmware(struct out *o, const uint8_t *p, size_t len)
{
	uint8_t afi;
	unsigned i;

	if (len < sizeof(struct nvme_fw_slot_log))
		return too_short("Firmware Slot Information log",
				 sizeof(struct nvme_fw_slot_log), len);
	afi = p[offsetof(struct nvme_fw_slot_log, afi)];
	o->width = 4;
	if (o->json)
		f_num(o, "afi", afi, false);
	else
		f_fmt(o, "afi", "0x%x (active slot %u, next reset slot %u)", afi,
		      afi & 7, (afi >> 4) & 7);
	for (i = 0; i < 7; i++) {
		const uint8_t *frs = p + offsetof(struct nvme_fw_slot_log, frs) + 8 * i;
		char name[8];

		if (all_zero(frs, 8))
			continue;
		snprintf(name, sizeof name, "frs%u", i + 1);
		f_fixed(o, name, frs, 8);
	}
	return 0;
}

/* ---- Commands Supported and Effects log (LID 05h, §5.16.1.6) ------------- */

static const char *admin_opcode_name(unsigned op)
{
	switch (op) {
	case 0x00: return "Delete I/O Submission Queue";
	case 0x01: return "Create I/O Submission Queue";
	case 0x02: return "Get Log Page";
	case 0x04: return "Delete I/O Completion Queue";
	case 0x05: return "Create I/O Completion Queue";
	case 0x06: return "Identify";
	case 0x08: return "Abort";
	case 0x09: return "Set Features";
	case 0x0a: return "Get Features";
	case 0x0c: return "Asynchronous Event Request";
	case 0x0d: return "Namespace Management";
	case 0x10: return "Firmware Commit";
	case 0x11: return "Firmware Image Download";
	case 0x14: return "Device Self-test";
	case 0x15: return "Namespace Attachment";
	case 0x18: return "Keep Alive";
	case 0x19: return "Directive Send";
	case 0x1a: return "Directive Receive";
	case 0x1c: return "Virtualization Management";
	case 0x1d: return "NVMe-MI Send";
	case 0x1e: return "NVMe-MI Receive";
	case 0x20: return "Capacity Management";
	case 0x24: return "Lockdown";
	case 0x7c: return "Doorbell Buffer Config";
	case 0x7f: return "Fabrics Commands";
	case 0x80: return "Format NVM";
	case 0x81: return "Security Send";
	case 0x82: return "Security Receive";
	case 0x84: return "Sanitize";
	case 0x86: return "Get LBA Status";
	default: return "Unknown";
	}
}

static const char *io_opcode_name(unsigned op)
{
	switch (op) {
	case 0x00: return "Flush";
	case 0x01: return "Write";
	case 0x02: return "Read";
	case 0x04: return "Write Uncorrectable";
	case 0x05: return "Compare";
	case 0x08: return "Write Zeroes";
	case 0x09: return "Dataset Management";
	case 0x0c: return "Verify";
	case 0x0d: return "Reservation Register";
	case 0x0e: return "Reservation Report";
	case 0x11: return "Reservation Acquire";
	case 0x15: return "Reservation Release";
	case 0x19: return "Copy";
	case 0x79: return "Zone Management Send";
	case 0x7a: return "Zone Management Receive";
	case 0x7d: return "Zone Append";
	default: return "Unknown";
	}
}

/* Effect bits: 0 CSUPP, 1 LBCC, 2 NCC, 3 NIC, 4 CCC, 18:16 CSE, 19 USS. */
static void effects_words(uint32_t e, char *out, size_t n)
{
	static const char *const bit[] = { "CSUPP", "LBCC", "NCC", "NIC", "CCC" };
	size_t len = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(bit); i++)
		if (e & (1u << i))
			len += (size_t)snprintf(out + len, n - len, "%s%s",
						len ? " " : "", bit[i]);
	if ((e >> 16) & 7)
		len += (size_t)snprintf(out + len, n - len, "%sCSE:%u",
					len ? " " : "", (e >> 16) & 7);
	if (e & (1u << 19))
		snprintf(out + len, n - len, "%sUSS", len ? " " : "");
}

static void emit_effects(struct out *o, const char *set, const char *prefix,
			 const uint8_t *tab, const char *(*opname)(unsigned))
{
	unsigned op;

	o_open(o, set, '[');
	for (op = 0; op < 256; op++) {
		uint32_t e = le32_get(tab + 4 * op);
		char words[64], name[16];

		if (!(e & 1)) /* CSUPP clear: not supported, not listed */
			continue;
		effects_words(e, words, sizeof words);
		if (o->json) {
			o_open(o, NULL, '{');
			f_num(o, "opcode", op, false);
			f_str(o, "name", opname(op));
			f_num(o, "effects", e, false);
			f_str(o, "flags", words);
			o_close(o, '}');
		} else {
			snprintf(name, sizeof name, "%s 0x%02x", prefix, op);
			f_fmt(o, name, "0x%08" PRIx32 " %s (%s)", e, words, opname(op));
		}
	}
	o_close(o, ']');
}

static int d_log_cmd_effects(struct out *o, const uint8_t *p, size_t len)
{
	if (len < sizeof(struct nvme_cmd_effects_log))
		return too_short("Commands Supported and Effects log",
				 sizeof(struct nvme_cmd_effects_log), len);
	o->width = 9;
	t_line(o, "admin command set");
	emit_effects(o, "admin", "acs", p + offsetof(struct nvme_cmd_effects_log, acs),
		     admin_opcode_name);
	t_line(o, "io command set");
	emit_effects(o, "io", "iocs", p + offsetof(struct nvme_cmd_effects_log, iocs),
		     io_opcode_name);
	return 0;
}

/* ---- Asymmetric Namespace Access log (LID 0Ch, §5.16.1.12) --------------- */

static const char *ana_state(unsigned s)
{
	switch (s) {
	case 0x1: return "optimized";
	case 0x2: return "non-optimized";
	case 0x3: return "inaccessible";
	case 0x4: return "persistent-loss";
	case 0xf: return "change";
	default: return "reserved";
	}
}

#define ANA_G(f) offsetof(struct nvme_ana_group_desc, f)

static int d_log_ana(struct out *o, const uint8_t *p, size_t len)
{
	const size_t hsz = sizeof(struct nvme_ana_log_hdr),
		     gsz = sizeof(struct nvme_ana_group_desc);
	uint16_t ngrps;
	size_t off = hsz;
	unsigned g;

	if (len < hsz)
		return too_short("ANA log", hsz, len);
	ngrps = le16_get(p + offsetof(struct nvme_ana_log_hdr, ngrps));
	o->width = 6;
	f_num(o, "chgcnt", le64_get(p + offsetof(struct nvme_ana_log_hdr, chgcnt)), false);
	f_num(o, "ngrps", ngrps, false);
	o_open(o, "groups", '[');
	for (g = 0; g < ngrps; g++) {
		const uint8_t *d = p + off;
		uint32_t nnsids, i;
		uint8_t state;

		if (len - off < gsz)
			return desc_error(EINVAL,
					 "ANA log: group descriptor %u of %u at offset %zu runs past the %zu bytes read",
					 g, ngrps, off, len);
		nnsids = le32_get(d + ANA_G(nnsids));
		/* count against the room left: nnsids * 4 could overflow */
		if (nnsids > (len - off - gsz) / 4)
			return desc_error(EINVAL,
					 "ANA log: group %u lists %" PRIu32 " namespaces, more than the %zu bytes read hold",
					 g, nnsids, len);
		state = d[ANA_G(state)] & 0xf;
		t_line(o, "===== ANA group descriptor %u =====", g);
		o_open(o, NULL, '{');
		f_num(o, "grpid", le32_get(d + ANA_G(grpid)), false);
		f_num(o, "nnsids", nnsids, false);
		f_num(o, "chgcnt", le64_get(d + ANA_G(chgcnt)), false);
		f_str(o, "state", ana_state(state));
		if (o->json) {
			o_open(o, "nsids", '[');
			for (i = 0; i < nnsids; i++)
				j_num_elem(o, le32_get(d + gsz + 4 * (size_t)i));
			o_close(o, ']');
		} else {
			t_name(o, "nsids");
			for (i = 0; i < nnsids; i++)
				sb_printf(&o->sb, "%s%" PRIu32, i ? " " : "",
					  le32_get(d + gsz + 4 * (size_t)i));
			sb_putc(&o->sb, '\n');
		}
		o_close(o, '}');
		off += gsz + 4 * (size_t)nnsids;
	}
	o_close(o, ']');
	return 0;
}

/* ---- Discovery log (LID 70h, NVMe-oF 1.1 §5.3) --------------------------- */

static const char *trtype_str(uint8_t t)
{
	switch (t) {
	case NVMF_TRTYPE_RDMA: return "rdma";
	case NVMF_TRTYPE_FC: return "fc";
	case NVMF_TRTYPE_TCP: return "tcp";
	case NVMF_TRTYPE_LOOP: return "loop";
	default: return NULL;
	}
}

static const char *adrfam_str(uint8_t a)
{
	switch (a) {
	case NVMF_ADRFAM_IPV4: return "ipv4";
	case NVMF_ADRFAM_IPV6: return "ipv6";
	case NVMF_ADRFAM_IB: return "infiniband";
	case NVMF_ADRFAM_FC: return "fibre-channel";
	case NVMF_ADRFAM_LOOP: return "loop";
	default: return NULL;
	}
}

static const char *subtype_str(uint8_t s)
{
	switch (s) {
	case NVMF_SUBTYPE_REFERRAL: return "discovery subsystem referral";
	case NVMF_SUBTYPE_NVME: return "nvme subsystem";
	case NVMF_SUBTYPE_CURRENT_DISC: return "current discovery subsystem";
	default: return NULL;
	}
}

static const char *sectype_str(uint8_t s)
{
	switch (s) {
	case 0: return "none";
	case 1: return "tls1.2";
	case 2: return "tls1.3";
	default: return NULL;
	}
}

/* text: the words when known, else the number */
static void f_enum(struct out *o, const char *name, unsigned v, const char *words)
{
	if (o->json)
		f_num(o, name, v, false);
	else if (words)
		f_str(o, name, words);
	else
		f_fmt(o, name, "unrecognized (%u)", v);
}

static int d_log_discovery(struct out *o, const uint8_t *p, size_t len)
{
	static const char *const treq_sec[] = { "not specified", "required",
						"not required", "reserved" };
	struct nvmeof_disc_log *log;
	uint64_t i;
	int rc;

	rc = nvmeof_disc_log_decode(p, len, &log);
	if (rc < 0)
		return desc_error(-rc, "%s", nvmeof_get_error());
	o->width = 7;
	f_num(o, "genctr", log->genctr, false);
	f_num(o, "numrec", log->numrec, false);
	f_num(o, "recfmt", log->recfmt, false);
	o_open(o, "records", '[');
	for (i = 0; i < log->numrec; i++) {
		const struct nvmeof_disc_entry *e = &log->entries[i];

		t_line(o, "=====Discovery Log Entry %" PRIu64 "======", i);
		o_open(o, NULL, '{');
		f_enum(o, "trtype", e->trtype, trtype_str(e->trtype));
		f_enum(o, "adrfam", e->adrfam, adrfam_str(e->adrfam));
		f_enum(o, "subtype", e->subtype, subtype_str(e->subtype));
		if (o->json)
			f_num(o, "treq", e->treq, false);
		else
			f_fmt(o, "treq", "%s%s", treq_sec[e->treq & NVMF_TREQ_SECURE_MASK],
			      (e->treq & NVMF_TREQ_DISABLE_SQFLOW) ?
				      ", sq flow control disable supported" : "");
		f_num(o, "portid", e->portid, false);
		f_str(o, "trsvcid", e->trsvcid);
		f_str(o, "subnqn", e->subnqn);
		f_str(o, "traddr", e->traddr);
		if (o->json) {
			f_num(o, "eflags", e->eflags, false);
		} else if (e->eflags == 0) {
			f_str(o, "eflags", "none");
		} else {
			f_fmt(o, "eflags", "0x%x%s%s%s", e->eflags,
			      (e->eflags & 1) ? " duplicate returned information" : "",
			      (e->eflags & 2) ? " explicit persistent connection" : "",
			      (e->eflags & 4) ? " no cdc connectivity" : "");
		}
		if (e->trtype == NVMF_TRTYPE_TCP)
			f_enum(o, "sectype", e->sectype, sectype_str(e->sectype));
		f_num(o, "cntlid", e->cntlid, true);
		f_num(o, "asqsz", e->asqsz, false);
		o_close(o, '}');
	}
	o_close(o, ']');
	nvmeof_disc_log_free(log);
	return 0;
}

/* ---- entry points -------------------------------------------------------- */

typedef int (*decoder_fn)(struct out *, const uint8_t *, size_t);

static char *finish(struct out *o, int rc)
{
	if (rc == 0 && o->json) {
		o_close(o, '}');
		sb_putc(&o->sb, '\n');
	}
	if (rc == 0 && o->sb.oom)
		rc = desc_error(ENOMEM, "describe: out of memory");
	if (rc < 0) {
		free(o->sb.p);
		errno = -rc;
		return NULL;
	}
	return o->sb.p;
}

static bool out_init(struct out *o, unsigned flags)
{
	memset(o, 0, sizeof *o);
	o->json = flags & NVMEOF_DESCRIBE_JSON;
	if (!sb_init(&o->sb))
		return false;
	o_open(o, NULL, '{');
	return true;
}

char *nvmeof_describe(enum nvmeof_describe_kind kind, const void *data,
		      size_t len, unsigned flags)
{
	static const decoder_fn decoders[] = {
		[NVMEOF_DESC_ID_CTRL] = d_id_ctrl,
		[NVMEOF_DESC_ID_NS] = d_id_ns,
		[NVMEOF_DESC_NS_LIST] = d_ns_list,
		[NVMEOF_DESC_NS_DESC] = d_ns_desc,
		[NVMEOF_DESC_LOG_ERROR] = d_log_error,
		[NVMEOF_DESC_LOG_SMART] = d_log_smart,
		[NVMEOF_DESC_LOG_FIRMWARE] = d_log_firmware,
		[NVMEOF_DESC_LOG_CHANGED_NS] = d_changed_ns,
		[NVMEOF_DESC_LOG_CMD_EFFECTS] = d_log_cmd_effects,
		[NVMEOF_DESC_LOG_ANA] = d_log_ana,
		[NVMEOF_DESC_LOG_DISCOVERY] = d_log_discovery,
	};
	_Static_assert(ARRAY_SIZE(decoders) == NVMEOF_DESC_LOG_DISCOVERY + 1,
		       "a decoder for every kind");
	struct out o;

	if ((unsigned)kind >= ARRAY_SIZE(decoders) || !decoders[kind]) {
		errno = -desc_error(EINVAL, "describe: unknown kind %d", (int)kind);
		return NULL;
	}
	if (!data && len) {
		errno = -desc_error(EINVAL, "describe: no data");
		return NULL;
	}
	if (!data)
		data = ""; /* len 0: every decoder reports it too short */
	if (!out_init(&o, flags)) {
		errno = -desc_error(ENOMEM, "describe: out of memory");
		return NULL;
	}
	return finish(&o, decoders[kind](&o, data, len));
}

int nvmeof_describe_log_kind(uint8_t lid)
{
	switch (lid) {
	case NVME_LOG_ERROR: return NVMEOF_DESC_LOG_ERROR;
	case NVME_LOG_SMART: return NVMEOF_DESC_LOG_SMART;
	case NVME_LOG_FIRMWARE: return NVMEOF_DESC_LOG_FIRMWARE;
	case NVME_LOG_CHANGED_NS: return NVMEOF_DESC_LOG_CHANGED_NS;
	case NVME_LOG_CMD_EFFECTS: return NVMEOF_DESC_LOG_CMD_EFFECTS;
	case NVME_LOG_ANA: return NVMEOF_DESC_LOG_ANA;
	case NVME_LOG_DISCOVERY: return NVMEOF_DESC_LOG_DISCOVERY;
	default: return -1;
	}
}

/* ---- Get Features completion dword 0 (NVMe Base 2.0 §5.27.1) ------------- */

static const char *feature_name(uint8_t fid)
{
	switch (fid) {
	case 0x01: return "Arbitration";
	case 0x02: return "Power Management";
	case 0x03: return "LBA Range Type";
	case 0x04: return "Temperature Threshold";
	case 0x05: return "Error Recovery";
	case 0x06: return "Volatile Write Cache";
	case 0x07: return "Number of Queues";
	case 0x08: return "Interrupt Coalescing";
	case 0x09: return "Interrupt Vector Configuration";
	case 0x0a: return "Write Atomicity Normal";
	case 0x0b: return "Asynchronous Event Configuration";
	case 0x0c: return "Autonomous Power State Transition";
	case 0x0d: return "Host Memory Buffer";
	case 0x0e: return "Timestamp";
	case 0x0f: return "Keep Alive Timer";
	case 0x10: return "Host Controlled Thermal Management";
	case 0x11: return "Non-Operational Power State Config";
	case 0x80: return "Software Progress Marker";
	case 0x81: return "Host Identifier";
	case 0x82: return "Reservation Notification Mask";
	case 0x83: return "Reservation Persistence";
	default: return NULL;
	}
}

/* A decoded feature field: JSON only (text is the one summary line). */
static void j_feat(struct out *o, const char *name, uint64_t v)
{
	if (o->json)
		f_num(o, name, v, false);
}

/* The summary line after "Name: ", and the decoded fields for JSON. */
static void feature_words(struct out *o, uint8_t fid, uint32_t v, char *w, size_t n)
{
	switch (fid) {
	case NVME_FEAT_ARBITRATION: {
		unsigned ab = v & 7, lpw = ((v >> 8) & 0xff) + 1,
			 mpw = ((v >> 16) & 0xff) + 1, hpw = ((v >> 24) & 0xff) + 1;

		if (ab == 7)
			snprintf(w, n, "burst no limit, weights low %u, medium %u, high %u",
				 lpw, mpw, hpw);
		else
			snprintf(w, n, "burst %u, weights low %u, medium %u, high %u",
				 1u << ab, lpw, mpw, hpw);
		j_feat(o, "ab", ab);
		j_feat(o, "lpw", lpw);
		j_feat(o, "mpw", mpw);
		j_feat(o, "hpw", hpw);
		break;
	}
	case NVME_FEAT_POWER_MGMT:
		snprintf(w, n, "power state %u, workload hint %u", v & 0x1f, (v >> 5) & 7);
		j_feat(o, "ps", v & 0x1f);
		j_feat(o, "wh", (v >> 5) & 7);
		break;
	case NVME_FEAT_TEMP_THRESH: {
		unsigned k = v & 0xffff, sel = (v >> 16) & 0xf, th = (v >> 20) & 3;
		char sensor[24];

		if (sel == 0)
			snprintf(sensor, sizeof sensor, "composite");
		else if (sel <= 8)
			snprintf(sensor, sizeof sensor, "sensor %u", sel);
		else if (sel == 0xf)
			snprintf(sensor, sizeof sensor, "all sensors");
		else
			snprintf(sensor, sizeof sensor, "reserved (%u)", sel);
		snprintf(w, n, "%u K (%d °C), %s, %s threshold", k, (int)k - 273, sensor,
			 th == 0 ? "over" : th == 1 ? "under" : "reserved");
		j_feat(o, "tmpth", k);
		j_feat(o, "tmpsel", sel);
		j_feat(o, "thsel", th);
		break;
	}
	case NVME_FEAT_ERR_RECOVERY:
		snprintf(w, n, "time limit %u ms, deallocated block error %s",
			 (v & 0xffff) * 100, (v & (1u << 16)) ? "enabled" : "disabled");
		j_feat(o, "tler", v & 0xffff);
		j_feat(o, "dulbe", (v >> 16) & 1);
		break;
	case NVME_FEAT_VOLATILE_WC:
		snprintf(w, n, "%s", (v & 1) ? "enabled" : "disabled");
		j_feat(o, "wce", v & 1);
		break;
	case NVME_FEAT_NUM_QUEUES: /* both 0's based */
		snprintf(w, n, "%u SQ, %u CQ", (v & 0xffff) + 1, (v >> 16) + 1);
		j_feat(o, "nsq", (v & 0xffff) + 1);
		j_feat(o, "ncq", (v >> 16) + 1);
		break;
	case NVME_FEAT_IRQ_COALESCE:
		snprintf(w, n, "threshold %u, time %u us", (v & 0xff) + 1,
			 ((v >> 8) & 0xff) * 100);
		j_feat(o, "thr", (v & 0xff) + 1);
		j_feat(o, "time_us", ((v >> 8) & 0xff) * 100);
		break;
	case 0x09:
		snprintf(w, n, "vector %u, coalescing %s", v & 0xffff,
			 (v & (1u << 16)) ? "disabled" : "enabled");
		j_feat(o, "iv", v & 0xffff);
		j_feat(o, "cd", (v >> 16) & 1);
		break;
	case NVME_FEAT_WRITE_ATOMIC:
		snprintf(w, n, "%s", (v & 1) ? "AWUN/NAWUN not required (DN 1)"
					     : "AWUN/NAWUN honoured (DN 0)");
		j_feat(o, "dn", v & 1);
		break;
	case NVME_FEAT_ASYNC_EVENT: {
		static const struct { uint32_t bit; const char *name; } ev[] = {
			{ NVME_AEC_NS_ATTR, "namespace attribute" },
			{ NVME_AEC_FW_ACTIVATE, "firmware activation" },
			{ 1u << 10, "telemetry log" },
			{ NVME_AEC_ANA, "ANA change" },
			{ 1u << 12, "predictable latency" },
			{ 1u << 13, "LBA status" },
			{ 1u << 14, "endurance group" },
			{ NVME_AEC_DISC_CHANGE, "discovery log change" },
		};
		size_t len = 0, i;

		len += (size_t)snprintf(w, n, "SMART warnings 0x%x", v & 0xff);
		for (i = 0; i < ARRAY_SIZE(ev) && len < n; i++)
			if (v & ev[i].bit)
				len += (size_t)snprintf(w + len, n - len, ", %s", ev[i].name);
		j_feat(o, "smart", v & 0xff);
		j_feat(o, "nan", (v >> 8) & 1);
		j_feat(o, "fan", (v >> 9) & 1);
		j_feat(o, "anacn", (v >> 11) & 1);
		j_feat(o, "dlpcn", (v >> 31) & 1);
		break;
	}
	case 0x0c:
		snprintf(w, n, "%s", (v & 1) ? "enabled" : "disabled");
		j_feat(o, "apste", v & 1);
		break;
	case NVME_FEAT_KATO:
		snprintf(w, n, "%u ms", v);
		j_feat(o, "kato", v);
		break;
	default:
		snprintf(w, n, "0x%08x", v);
		break;
	}
}

char *nvmeof_describe_feature(uint8_t fid, uint32_t dw0, unsigned flags)
{
	const char *name = feature_name(fid);
	char words[512], fallback[32];
	struct out o;

	if (!out_init(&o, flags)) {
		errno = -desc_error(ENOMEM, "describe: out of memory");
		return NULL;
	}
	if (!name) {
		snprintf(fallback, sizeof fallback, "Feature 0x%02x", fid);
		name = fallback;
	}
	if (o.json) {
		f_num(&o, "fid", fid, true);
		f_str(&o, "name", name);
		f_num(&o, "value", dw0, true);
	}
	feature_words(&o, fid, dw0, words, sizeof words);
	if (o.json)
		f_words(&o, "text", words);
	else
		sb_printf(&o.sb, "%s: %s\n", name, words);
	return finish(&o, 0);
}

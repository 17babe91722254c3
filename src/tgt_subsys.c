/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target: subsystems and their namespace tables, namespace specs
 * ("FILE", "ram:64M", "null:1G" and options) and change notification.
 * The configuration file: tgt_config.c; who may connect: tgt_host.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

/* ---- identifiers -------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

void hash128(const void *a, size_t alen, const void *b, size_t blen,
	     uint64_t salt, uint8_t out[16])
{
	uint64_t h = fnv1a(0xcbf29ce484222325ull ^ mix(salt), a, alen);
	uint64_t lo, hi;

	h = fnv1a(h, "\0", 1);
	h = fnv1a(h, b, blen);
	lo = mix(h ^ salt);
	hi = mix(h + 0x9e3779b97f4a7c15ull);
	memcpy(out, &lo, 8);
	memcpy(out + 8, &hi, 8);
}

/* ---- namespace specs ---------------------------------------------------- */

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (shift && !strcmp(end, "iB"))
		end += 2;
	else if (!strcmp(end, "B") || !strcmp(end, "b"))
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)) || v == 0)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The canonical text of a namespace, kept in ns->desc: "list" shows it
 * and a reload compares it.  ro: the spec's own protection. */
void ns_spec_desc(const struct ns_spec *spec, bool ro, char *buf, size_t len)
{
	uint32_t lba = spec->lba_size ? spec->lba_size : opts.lba_size;

	if (spec->kind == NS_RAM)
		snprintf(buf, len, "ram:%" PRIu64, spec->size);
	else if (spec->kind == NS_NULL)
		snprintf(buf, len, "null:%" PRIu64, spec->size);
	else
		snprintf(buf, len, "%s", spec->path);
	snprintf(buf + strlen(buf), len - strlen(buf), " lba=%u %s", lba,
		 opts.read_only || ro ? "ro" : "rw");
	if (spec->anagrpid > 1)
		snprintf(buf + strlen(buf), len - strlen(buf), " ana=%u",
			 spec->anagrpid);
}

int ns_spec_option(const char *w, struct ns_spec *spec)
{
	char *end;
	unsigned long v;

	if (!strcmp(w, "ro") || !strcmp(w, "read-only")) {
		spec->ro = 1;
		return 0;
	}
	if (!strcmp(w, "rw")) {
		spec->ro = 0;
		return 0;
	}
	if (!strncmp(w, "lba=", 4) || !strncmp(w, "lba-size=", 9)) {
		v = strtoul(strchr(w, '=') + 1, &end, 10);
		if (*end || (v != 512 && v != 4096))
			return -2;
		spec->lba_size = (uint32_t)v;
		return 0;
	}
	if (!strncmp(w, "nsid=", 5)) {
		v = strtoul(w + 5, &end, 10);
		if (*end || v == 0 || v > TGT_MAX_NSID)
			return -2;
		spec->nsid = (uint32_t)v;
		return 0;
	}
	if (!strncmp(w, "ana=", 4)) {
		v = strtoul(w + 4, &end, 10);
		if (*end || w[4] == '-' || v == 0 || v > TGT_ANA_GROUPS)
			return -2;
		spec->anagrpid = (uint32_t)v;
		return 0;
	}
	return -1;
}

/* SPEC: FILE | file:FILE | ram:SIZE | null:SIZE; with cli_suffixes, options
 * may follow as ",ro", ",lba=512", ",nsid=N". */
int ns_spec_parse(const char *s, bool cli_suffixes, struct ns_spec *spec,
		  char *err, size_t errlen)
{
	char tmp[sizeof spec->path];
	char *comma;

	memset(spec, 0, sizeof *spec);
	spec->ro = -1;
	if (strlen(s) >= sizeof tmp) {
		snprintf(err, errlen, "namespace '%.40s...' is too long", s);
		return -1;
	}
	strcpy(tmp, s);
	while (cli_suffixes && (comma = strrchr(tmp, ','))) {
		int rc = ns_spec_option(comma + 1, spec);

		if (rc == -2) {
			snprintf(err, errlen,
				 "namespace '%s': bad option '%s' (lba=512|4096, nsid=1..%u, ana=1..%u)",
				 s, comma + 1, TGT_MAX_NSID, TGT_ANA_GROUPS);
			return -1;
		}
		if (rc < 0)
			break; /* part of a file name */
		*comma = '\0';
	}
	if (!strncmp(tmp, "ram:", 4) || !strncmp(tmp, "null:", 5)) {
		bool ram = tmp[0] == 'r';

		spec->kind = ram ? NS_RAM : NS_NULL;
		if (parse_size(tmp + (ram ? 4 : 5), &spec->size) < 0) {
			snprintf(err, errlen,
				 "namespace '%s': bad size '%s' (a number with an optional K, M, G or T suffix)",
				 s, tmp + (ram ? 4 : 5));
			return -1;
		}
		return 0;
	}
	spec->kind = NS_FILE;
	snprintf(spec->path, sizeof spec->path, "%s",
		 !strncmp(tmp, "file:", 5) ? tmp + 5 : tmp);
	if (!spec->path[0]) {
		snprintf(err, errlen, "namespace '%s': no file name", s);
		return -1;
	}
	return 0;
}

/* ---- subsystems --------------------------------------------------------- */

int subsys_check_identity(const char *what, const char *v, size_t max,
			  char *err, size_t errlen)
{
	if (strlen(v) > max) {
		snprintf(err, errlen, "%s '%s' is longer than %zu characters",
			 what, v, max);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7e) {
			snprintf(err, errlen,
				 "%s '%s': only printable ASCII is allowed", what,
				 v);
			return -1;
		}
	return 0;
}

void subsys_set_identity(struct tgt_subsys *s, const char *serial,
			 const char *model, const char *firmware)
{
	if (serial)
		snprintf(s->serial, sizeof s->serial, "%s", serial);
	if (model)
		snprintf(s->model, sizeof s->model, "%s", model);
	if (firmware)
		snprintf(s->firmware, sizeof s->firmware, "%s", firmware);
}

static struct tgt_subsys *subsys_alloc(const char *nqn)
{
	struct tgt_subsys *s = calloc(1, sizeof *s);
	uint8_t h[16];

	if (!s)
		return NULL;
	snprintf(s->nqn, sizeof s->nqn, "%s", nqn);
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->refs, 1);
	s->allow_any = true;
	/* A serial number of its own, stable for the NQN. */
	hash128(nqn, strlen(nqn), "serial", 6, 0, h);
	snprintf(s->serial, sizeof s->serial,
		 "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2],
		 h[3], h[4], h[5], h[6], h[7], h[8], h[9]);
	snprintf(s->model, sizeof s->model, "%s", TGT_NAME);
	snprintf(s->firmware, sizeof s->firmware, "%.8s", PACKAGE_VERSION);
	return s;
}

struct tgt_subsys *subsys_new(const char *nqn, enum subsys_origin origin,
			      char *err, size_t errlen)
{
	struct tgt_subsys *s, *o;

	if (!strcmp(nqn, NVMF_DISCOVERY_NQN)) {
		snprintf(err, errlen, "'%s' is the discovery subsystem's NQN",
			 nqn);
		return NULL;
	}
	if (nvmeof_nqn_validate(nqn) < 0) {
		snprintf(err, errlen, "%s", nvmeof_get_error());
		return NULL;
	}
	s = subsys_alloc(nqn);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->origin = origin;
	pthread_mutex_lock(&g.lock);
	for (o = g.subsystems; o; o = o->next)
		if (!strcmp(o->nqn, nqn))
			break;
	if (!o) {
		struct tgt_subsys **pp = &g.subsystems;

		while (*pp) /* keep the order they were given in */
			pp = &(*pp)->next;
		*pp = s;
		atomic_fetch_add(&g.genctr, 1);
	}
	pthread_mutex_unlock(&g.lock);
	if (o) {
		snprintf(err, errlen, "subsystem %s exists already", nqn);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

struct tgt_subsys *subsys_discovery_new(void)
{
	struct tgt_subsys *s = subsys_alloc(NVMF_DISCOVERY_NQN);

	if (s)
		s->discovery = true;
	return s;
}

struct tgt_subsys *subsys_get(const char *nqn)
{
	struct tgt_subsys *s;

	pthread_mutex_lock(&g.lock);
	if (!strcmp(nqn, NVMF_DISCOVERY_NQN))
		s = g.disc;
	else
		for (s = g.subsystems; s; s = s->next)
			if (!strcmp(s->nqn, nqn))
				break;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&g.lock);
	return s;
}

void subsys_put(struct tgt_subsys *s)
{
	if (atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (uint32_t i = 1; i <= TGT_MAX_NSID; i++)
		if (s->ns[i])
			ns_put(s->ns[i]);
	host_clear(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct tgt_ns *subsys_ns_get(struct tgt_subsys *s, uint32_t nsid)
{
	struct tgt_ns *ns = NULL;

	if (nsid == 0 || nsid > TGT_MAX_NSID)
		return NULL;
	pthread_mutex_lock(&s->lock);
	ns = s->ns[nsid];
	if (ns)
		ns_get(ns);
	pthread_mutex_unlock(&s->lock);
	return ns;
}

/* Tell every association that a namespace changed, and move the
 * discovery log's generation counter (NVMe-oF 1.1 §5.3). */
void ns_changed(struct tgt_subsys *s, uint32_t nsid)
{
	struct tgt_ctrl *ctrl;

	pthread_mutex_lock(&g.lock);
	atomic_fetch_add(&g.genctr, 1);
	for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next) {
		if (s && ctrl->subsys == s && nsid)
			ctrl_ns_changed(ctrl, nsid);
		else if (ctrl->subsys->discovery)
			ctrl_disc_changed(ctrl);
	}
	pthread_mutex_unlock(&g.lock);
}

int subsys_ns_add(struct tgt_subsys *s, const struct ns_spec *spec,
		  uint32_t *nsid_out, char *err, size_t errlen)
{
	uint32_t nsid = spec->nsid;
	struct tgt_ns *ns;

	if (!nsid) {
		pthread_mutex_lock(&s->lock);
		for (nsid = 1; nsid <= TGT_MAX_NSID && s->ns[nsid]; nsid++)
			;
		pthread_mutex_unlock(&s->lock);
		if (nsid > TGT_MAX_NSID) {
			snprintf(err, errlen, "%s has %u namespaces already",
				 s->nqn, TGT_MAX_NSID);
			return -1;
		}
	}
	if (ns_open(spec, s->nqn, nsid, &ns, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&s->lock);
	if (s->ns[nsid]) {
		pthread_mutex_unlock(&s->lock);
		ns_put(ns);
		snprintf(err, errlen, "%s has a namespace %u already", s->nqn,
			 nsid);
		return -1;
	}
	s->ns[nsid] = ns;
	pthread_mutex_unlock(&s->lock);
	infox("%s: namespace %u: %s, %" PRIu64 " blocks", s->nqn, nsid,
	      ns->desc, ns_blocks(ns));
	if (nsid_out)
		*nsid_out = nsid;
	ns_changed(s, nsid);
	return 0;
}

int subsys_ns_remove(struct tgt_subsys *s, uint32_t nsid, char *err,
		     size_t errlen)
{
	struct tgt_ns *ns = NULL;

	pthread_mutex_lock(&s->lock);
	if (nsid >= 1 && nsid <= TGT_MAX_NSID) {
		ns = s->ns[nsid];
		s->ns[nsid] = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (!ns) {
		snprintf(err, errlen, "%s has no namespace %u", s->nqn, nsid);
		return -1;
	}
	infox("%s: namespace %u removed", s->nqn, nsid);
	ns_put(ns); /* commands in flight keep theirs */
	ns_changed(s, nsid);
	return 0;
}

int subsys_remove(const char *nqn, char *err, size_t errlen)
{
	struct tgt_subsys **pp, *s = NULL;
	struct tgt_ctrl *ctrl;

	pthread_mutex_lock(&g.lock);
	for (pp = &g.subsystems; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->nqn, nqn)) {
			s = *pp;
			*pp = s->next;
			break;
		}
	if (s)
		for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next)
			if (ctrl->subsys == s)
				ctrl_kill(ctrl, "its subsystem was removed");
	pthread_mutex_unlock(&g.lock);
	if (!s) {
		snprintf(err, errlen, "no subsystem %s", nqn);
		return -1;
	}
	infox("subsystem %s removed", nqn);
	ns_changed(NULL, 0);
	subsys_put(s);
	return 0;
}

void subsys_list(FILE *out)
{
	struct tgt_subsys *s;

	pthread_mutex_lock(&g.lock);
	for (s = g.subsystems; s; s = s->next) {
		fprintf(out, "subsystem %s serial=%s model=\"%s\" firmware=%s\n",
			s->nqn, s->serial, s->model, s->firmware);
		pthread_mutex_lock(&s->lock);
		for (uint32_t i = 1; i <= TGT_MAX_NSID; i++)
			if (s->ns[i])
				fprintf(out, "  ns %u %s blocks=%" PRIu64 "\n", i,
					s->ns[i]->desc, ns_blocks(s->ns[i]));
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&g.lock);
}

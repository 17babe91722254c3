/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target: subsystems and their namespace tables, namespace specs
 * ("FILE", "ram:64M", "null:1G" and options), change notification, and the
 * configuration file (read at start and again on SIGHUP).
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
				 "namespace '%s': bad option '%s' (lba=512|4096, nsid=1..%u)",
				 s, comma + 1, TGT_MAX_NSID);
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

/* ---- configuration file ------------------------------------------------- */

struct cfg_ns {
	uint32_t nsid;
	struct ns_spec spec;
	int line;
};

struct cfg_subsys {
	char nqn[NVMF_NQN_SIZE];
	char serial[21], model[41], firmware[9];
	bool has_serial, has_model, has_firmware, ro;
	struct cfg_ns *ns;
	size_t nr_ns;
	char (*hosts)[NVMF_NQN_SIZE];  /* allow-host lines */
	size_t nr_hosts;
	int line;
};

struct cfg {
	struct cfg_subsys *s;
	size_t nr;
};

static void cfg_free(struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		free(cfg->s[i].ns);
		free(cfg->s[i].hosts);
	}
	free(cfg->s);
	memset(cfg, 0, sizeof *cfg);
}

static char *trim(char *p)
{
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return p;
}

static int cfg_parse(const char *path, struct cfg *cfg, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[4608], e[512];
	struct cfg_subsys *cur = NULL;
	int lineno = 0, rc = -1;

	memset(cfg, 0, sizeof *cfg);
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *p, *key, *rest;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			goto out;
		}
		if ((p = strchr(line, '#')))
			*p = '\0';
		p = trim(line);
		if (!*p)
			continue;
		key = p;
		rest = p + strcspn(p, " \t");
		if (*rest)
			*rest++ = '\0';
		rest = trim(rest);

		if (!strcmp(key, "subsystem")) {
			struct cfg_subsys *n;

			if (!*rest || strpbrk(rest, " \t")) {
				snprintf(err, errlen, "%s:%d: subsystem NQN expected",
					 path, lineno);
				goto out;
			}
			if (strlen(rest) > NVMF_NQN_MAX_LEN ||
			    nvmeof_nqn_validate(rest) < 0) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno,
					 nvmeof_get_error());
				goto out;
			}
			for (size_t i = 0; i < cfg->nr; i++)
				if (!strcmp(cfg->s[i].nqn, rest)) {
					snprintf(err, errlen,
						 "%s:%d: subsystem %s again (line %d)",
						 path, lineno, rest, cfg->s[i].line);
					goto out;
				}
			n = realloc(cfg->s, (cfg->nr + 1) * sizeof *n);
			if (!n)
				goto oom;
			cfg->s = n;
			cur = &cfg->s[cfg->nr++];
			memset(cur, 0, sizeof *cur);
			snprintf(cur->nqn, sizeof cur->nqn, "%s", rest);
			cur->line = lineno;
			continue;
		}
		if (!cur) {
			snprintf(err, errlen,
				 "%s:%d: '%s' before any 'subsystem NQN' line",
				 path, lineno, key);
			goto out;
		}
		if (!strcmp(key, "serial") || !strcmp(key, "model") ||
		    !strcmp(key, "firmware")) {
			size_t max = key[0] == 's' ? 20 : key[0] == 'm' ? 40 : 8;

			if (subsys_check_identity(key, rest, max, e, sizeof e) < 0) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno, e);
				goto out;
			}
			if (key[0] == 's') {
				snprintf(cur->serial, sizeof cur->serial, "%s", rest);
				cur->has_serial = true;
			} else if (key[0] == 'm') {
				snprintf(cur->model, sizeof cur->model, "%s", rest);
				cur->has_model = true;
			} else {
				snprintf(cur->firmware, sizeof cur->firmware, "%s",
					 rest);
				cur->has_firmware = true;
			}
		} else if (!strcmp(key, "read-only") && !*rest) {
			cur->ro = true;
		} else if (!strcmp(key, "allow-host")) {
			char (*n)[NVMF_NQN_SIZE];

			if (!*rest || strpbrk(rest, " \t")) {
				snprintf(err, errlen, "%s:%d: allow-host HOSTNQN expected",
					 path, lineno);
				goto out;
			}
			if (host_nqn_check(rest, e, sizeof e) < 0) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno, e);
				goto out;
			}
			for (size_t i = 0; i < cur->nr_hosts; i++)
				if (!strcmp(cur->hosts[i], rest)) {
					snprintf(err, errlen,
						 "%s:%d: allow-host %s again",
						 path, lineno, rest);
					goto out;
				}
			n = realloc(cur->hosts, (cur->nr_hosts + 1) * sizeof *n);
			if (!n)
				goto oom;
			cur->hosts = n;
			snprintf(cur->hosts[cur->nr_hosts++], NVMF_NQN_SIZE, "%s",
				 rest);
		} else if (!strcmp(key, "ns")) {
			char *tok, *save = NULL;
			struct cfg_ns *n;
			struct cfg_ns ns = { .line = lineno };
			char *end;
			unsigned long id;

			tok = strtok_r(rest, " \t", &save);
			id = tok ? strtoul(tok, &end, 10) : 0;
			if (!tok || *end || id == 0 || id > TGT_MAX_NSID) {
				snprintf(err, errlen,
					 "%s:%d: ns NSID SPEC [ro] [lba=N] expected (NSID 1..%u)",
					 path, lineno, TGT_MAX_NSID);
				goto out;
			}
			tok = strtok_r(NULL, " \t", &save);
			if (!tok || ns_spec_parse(tok, false, &ns.spec, e,
						  sizeof e) < 0) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno,
					 tok ? e : "namespace SPEC expected");
				goto out;
			}
			while ((tok = strtok_r(NULL, " \t", &save)))
				if (ns_spec_option(tok, &ns.spec) < 0 ||
				    ns.spec.nsid) {
					snprintf(err, errlen,
						 "%s:%d: unknown namespace option '%s' (ro, rw, lba=512|4096)",
						 path, lineno, tok);
					goto out;
				}
			for (size_t i = 0; i < cur->nr_ns; i++)
				if (cur->ns[i].nsid == id) {
					snprintf(err, errlen,
						 "%s:%d: namespace %lu again (line %d)",
						 path, lineno, id, cur->ns[i].line);
					goto out;
				}
			ns.nsid = (uint32_t)id;
			ns.spec.nsid = (uint32_t)id;
			n = realloc(cur->ns, (cur->nr_ns + 1) * sizeof *n);
			if (!n)
				goto oom;
			cur->ns = n;
			cur->ns[cur->nr_ns++] = ns;
		} else {
			snprintf(err, errlen,
				 "%s:%d: unknown keyword '%s' (subsystem, serial, model, firmware, read-only, ns, allow-host)",
				 path, lineno, key);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "reading %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	fclose(f);
	if (rc < 0)
		cfg_free(cfg);
	return rc;
}

static int cfg_apply_ns(struct tgt_subsys *s, const struct cfg_subsys *cs,
			const struct cfg_ns *cn, bool initial, const char *path,
			char *err, size_t errlen)
{
	struct ns_spec spec = cn->spec;
	char e[600];

	if (cs->ro && spec.ro < 0)
		spec.ro = 1;
	if (subsys_ns_add(s, &spec, NULL, e, sizeof e) < 0) {
		if (initial) {
			snprintf(err, errlen, "%s:%d: %s", path, cn->line, e);
			return -1;
		}
		warnx("reload %s:%d: %s", path, cn->line, e);
	}
	return 0;
}

/* Read the file; at start every subsystem is created, on reload those the
 * file made before are brought in line with it (namespaces whose spec did
 * not change stay as they are, with the hosts connected to them). */
int config_load(const char *path, bool initial, char *err, size_t errlen)
{
	struct cfg cfg;
	struct tgt_subsys *s;
	char e[600];
	int rc = 0;

	if (cfg_parse(path, &cfg, err, errlen) < 0)
		return -1;

	if (!initial) {
		/* subsystems the file no longer has */
		char gone[64][NVMF_NQN_SIZE];
		int ngone = 0;

		pthread_mutex_lock(&g.lock);
		for (s = g.subsystems; s && ngone < 64; s = s->next) {
			bool keep = s->origin != ORIGIN_CONFIG;

			for (size_t i = 0; i < cfg.nr && !keep; i++)
				keep = !strcmp(cfg.s[i].nqn, s->nqn);
			if (!keep)
				snprintf(gone[ngone++], NVMF_NQN_SIZE, "%s", s->nqn);
		}
		pthread_mutex_unlock(&g.lock);
		for (int i = 0; i < ngone; i++)
			subsys_remove(gone[i], e, sizeof e);
	}

	for (size_t i = 0; i < cfg.nr && rc == 0; i++) {
		struct cfg_subsys *cs = &cfg.s[i];

		s = subsys_get(cs->nqn);
		if (s && s->origin != ORIGIN_CONFIG) {
			snprintf(e, sizeof e,
				 "%s:%d: subsystem %s is defined on the command line or by the control socket",
				 path, cs->line, cs->nqn);
			subsys_put(s);
			if (initial) {
				snprintf(err, errlen, "%s", e);
				rc = -1;
			} else {
				warnx("reload %s", e);
			}
			continue;
		}
		if (!s) {
			s = subsys_new(cs->nqn, ORIGIN_CONFIG, e, sizeof e);
			if (!s) {
				snprintf(err, errlen, "%s:%d: %s", path, cs->line, e);
				rc = -1;
				break;
			}
			atomic_fetch_add(&s->refs, 1);
		}
		subsys_set_identity(s, cs->has_serial ? cs->serial : NULL,
				    cs->has_model ? cs->model : NULL,
				    cs->has_firmware ? cs->firmware : NULL);
		if (host_set(s, cs->hosts, cs->nr_hosts, e, sizeof e) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, cs->line, e);
			subsys_put(s);
			rc = -1;
			break;
		}
		for (uint32_t nsid = 1; nsid <= TGT_MAX_NSID && rc == 0; nsid++) {
			const struct cfg_ns *cn = NULL;
			struct tgt_ns *old = subsys_ns_get(s, nsid);
			char want[4200];

			for (size_t k = 0; k < cs->nr_ns; k++)
				if (cs->ns[k].nsid == nsid)
					cn = &cs->ns[k];
			if (cn)
				ns_spec_desc(&cn->spec,
					     cn->spec.ro > 0 ||
						     (cn->spec.ro < 0 && cs->ro),
					     want, sizeof want);
			if (old && cn && !strcmp(old->desc, want)) {
				ns_put(old);
				continue; /* unchanged */
			}
			if (old) {
				ns_put(old);
				subsys_ns_remove(s, nsid, e, sizeof e);
			}
			if (cn)
				rc = cfg_apply_ns(s, cs, cn, initial, path, err,
						  errlen);
		}
		subsys_put(s);
	}
	cfg_free(&cfg);
	return rc;
}

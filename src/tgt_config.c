/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target configuration file: the parser (subsystem blocks with
 * serial, model, firmware, read-only, ns and allow-host lines, the latter
 * with a host's DH-HMAC-CHAP settings; tls-key lines anywhere) and its
 * application at start and on reload (SIGHUP, the control socket).
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
#include "tls_key.h"

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
	struct tgt_host *hosts;        /* allow-host lines (next unused) */
	size_t nr_hosts;
	int line;
};

struct cfg_tls_key {
	char nqn[NVMF_NQN_SIZE];
	struct tls_key key;
	int line;
};

struct cfg {
	struct cfg_subsys *s;
	size_t nr;
	struct cfg_tls_key *tls;       /* tls-key lines */
	size_t nr_tls;
};

static void cfg_free(struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		free(cfg->s[i].ns);
		for (size_t k = 0; k < cfg->s[i].nr_hosts; k++)
			host_auth_wipe(&cfg->s[i].hosts[k].auth);
		free(cfg->s[i].hosts);
	}
	free(cfg->s);
	for (size_t i = 0; i < cfg->nr_tls; i++)
		tls_key_wipe(&cfg->tls[i].key);
	free(cfg->tls);
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
		if (!strcmp(key, "tls-key")) {
			/* tls-key HOSTNQN KEY: a host's TLS PSK, for every
			 * subsystem (the identity names the host) */
			struct cfg_tls_key *n, tk = { .line = lineno };
			char *tok, *save = NULL, *v;

			tok = strtok_r(rest, " \t", &save);
			v = tok ? strtok_r(NULL, " \t", &save) : NULL;
			if (!v || strtok_r(NULL, " \t", &save)) {
				snprintf(err, errlen, "%s:%d: tls-key HOSTNQN KEY expected",
					 path, lineno);
				goto out;
			}
			if (host_nqn_check(tok, e, sizeof e) < 0 || !*tok) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno,
					 *tok ? e : "host NQN expected");
				goto out;
			}
			for (size_t i = 0; i < cfg->nr_tls; i++)
				if (!strcmp(cfg->tls[i].nqn, tok)) {
					snprintf(err, errlen,
						 "%s:%d: tls-key %s again (line %d)",
						 path, lineno, tok, cfg->tls[i].line);
					goto out;
				}
			if (tls_key_parse(v, &tk.key) < 0) {
				snprintf(err, errlen, "%s:%d: tls-key %s: %s", path,
					 lineno, tok, nvmeof_get_error());
				goto out;
			}
			snprintf(tk.nqn, sizeof tk.nqn, "%s", tok);
			n = realloc(cfg->tls, (cfg->nr_tls + 1) * sizeof *n);
			if (!n) {
				tls_key_wipe(&tk.key);
				goto oom;
			}
			cfg->tls = n;
			cfg->tls[cfg->nr_tls++] = tk;
			tls_key_wipe(&tk.key);
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
			/* allow-host HOSTNQN [dhchap-key=KEY ...] */
			struct tgt_host *n, hst = { 0 };
			char *tok, *save = NULL;

			tok = strtok_r(rest, " \t", &save);
			if (!tok) {
				snprintf(err, errlen, "%s:%d: allow-host HOSTNQN expected",
					 path, lineno);
				goto out;
			}
			if (host_nqn_check(tok, e, sizeof e) < 0) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno, e);
				goto out;
			}
			snprintf(hst.nqn, sizeof hst.nqn, "%s", tok);
			while ((tok = strtok_r(NULL, " \t", &save))) {
				if (host_auth_opt(&hst.auth, tok, e, sizeof e) < 0) {
					host_auth_wipe(&hst.auth);
					snprintf(err, errlen, "%s:%d: %s", path, lineno, e);
					goto out;
				}
			}
			for (size_t i = 0; i < cur->nr_hosts; i++)
				if (!strcmp(cur->hosts[i].nqn, hst.nqn)) {
					snprintf(err, errlen,
						 "%s:%d: allow-host %s again",
						 path, lineno, hst.nqn);
					host_auth_wipe(&hst.auth);
					goto out;
				}
			n = realloc(cur->hosts, (cur->nr_hosts + 1) * sizeof *n);
			if (!n) {
				host_auth_wipe(&hst.auth);
				goto oom;
			}
			cur->hosts = n;
			cur->hosts[cur->nr_hosts++] = hst;
			host_auth_wipe(&hst.auth);
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
					 "%s:%d: ns NSID SPEC [ro] [lba=N] [ana=N] expected (NSID 1..%u)",
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
						 "%s:%d: unknown namespace option '%s' (ro, rw, lba=512|4096, ana=1..32)",
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
				 "%s:%d: unknown keyword '%s' (subsystem, serial, model, firmware, read-only, ns, allow-host, tls-key)",
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

int config_check(const char *path, char *err, size_t errlen)
{
	struct cfg cfg;

	if (cfg_parse(path, &cfg, err, errlen) < 0)
		return -1;
	cfg_free(&cfg);
	return 0;
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

	/* the file's TLS keys replace those it gave before */
	tgt_tls_key_drop(ORIGIN_CONFIG);
	for (size_t i = 0; i < cfg.nr_tls; i++)
		if (tgt_tls_key_set(cfg.tls[i].nqn, &cfg.tls[i].key, ORIGIN_CONFIG,
				    e, sizeof e) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, cfg.tls[i].line, e);
			cfg_free(&cfg);
			return -1;
		}

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

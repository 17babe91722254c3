/* SPDX-License-Identifier: MIT */
/*
 * Which hosts may connect to a subsystem, as Linux nvmet's allowed_hosts
 * and attr_allow_any_host: any host (the default), or only the host NQNs
 * listed.  A host without a secret is identified by the Host NQN of its
 * Connect only: that keeps honest hosts apart, it does not stop a host that
 * lies about its NQN.  A host with a DH-HMAC-CHAP secret must prove it on
 * every queue (tgt_fabrics.c) before any other command.
 *
 * The list lives in the subsystem, under its lock.  A record per host
 * (struct tgt_host): its NQN and its DH-HMAC-CHAP settings.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"

static struct tgt_host **host_find(struct tgt_subsys *s, const char *hostnqn)
{
	struct tgt_host **pp;

	for (pp = &s->hosts; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->nqn, hostnqn))
			break;
	return pp;
}

void host_auth_wipe(struct tgt_host_auth *a)
{
	explicit_bzero(a, sizeof *a);
}

static void host_free(struct tgt_host *h)
{
	if (h)
		host_auth_wipe(&h->auth);
	free(h);
}

static void host_free_list(struct tgt_host *h)
{
	while (h) {
		struct tgt_host *next = h->next;

		host_free(h);
		h = next;
	}
}

/* A secret: "DHHC-1:..." itself, or the path of a file holding one (which
 * neither group nor others may read, as ssh asks of its keys). */
static int auth_key_value(const char *what, const char *v, struct dhchap_key *k,
			  char *err, size_t errlen)
{
	char buf[DHCHAP_KEY_STR_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd, rc;

	if (!strncmp(v, "DHHC-1:", 7)) {
		if (dhchap_key_parse(v, k) < 0) {
			snprintf(err, errlen, "%s: %s", what, nvmeof_get_error());
			return -1;
		}
		return 0;
	}
	fd = open(v, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "%s: neither a DHHC-1 secret nor a readable file (%.300s: %s)",
			 what, v, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %.300s is not a regular file", what, v);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: %.300s is readable or writable by group or others (mode %04o): chmod 600 it",
			 what, v, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %.300s: %s", what, v, strerror(errno));
		return -1;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	rc = dhchap_key_parse(buf, k);
	explicit_bzero(buf, sizeof buf);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %.300s: %s", what, v, nvmeof_get_error());
		return -1;
	}
	return 0;
}

/* "sha256,sha512" / "null,ffdhe2048" into a mask of ids. */
static int auth_list(const char *what, const char *v, bool dh, uint8_t *mask,
		     char *err, size_t errlen)
{
	char tmp[256], *tok, *save = NULL;

	*mask = 0;
	snprintf(tmp, sizeof tmp, "%s", v);
	for (tok = strtok_r(tmp, ",:", &save); tok; tok = strtok_r(NULL, ",:", &save)) {
		int id = dh ? dhchap_dh_id(tok) : dhchap_hash_id(tok);

		if (id < 0 || (!dh && id == 0)) {
			snprintf(err, errlen, "%s: unknown %s '%.60s' (%s)", what,
				 dh ? "DH group" : "hash", tok,
				 dh ? "null, ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192" :
				      "sha256, sha384, sha512");
			return -1;
		}
		*mask |= (uint8_t)(1u << id);
	}
	if (!*mask) {
		snprintf(err, errlen, "%s: an empty list", what);
		return -1;
	}
	return 0;
}

int host_auth_opt(struct tgt_host_auth *a, const char *kv, char *err,
		  size_t errlen)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : 0;

	if (eq && kl == 10 && !strncmp(kv, "dhchap-key", kl))
		return auth_key_value("dhchap-key", eq + 1, &a->key, err, errlen);
	if (eq && kl == 15 && !strncmp(kv, "dhchap-ctrl-key", kl))
		return auth_key_value("dhchap-ctrl-key", eq + 1, &a->ctrl_key, err,
				      errlen);
	if (eq && kl == 11 && !strncmp(kv, "dhchap-hash", kl))
		return auth_list("dhchap-hash", eq + 1, false, &a->hashes, err, errlen);
	if (eq && kl == 14 && !strncmp(kv, "dhchap-dhgroup", kl))
		return auth_list("dhchap-dhgroup", eq + 1, true, &a->groups, err,
				 errlen);
	snprintf(err, errlen, "unknown host option '%.*s' (dhchap-key=, dhchap-ctrl-key=, dhchap-hash=, dhchap-dhgroup=)",
		 (int)(eq ? kl : strnlen(kv, 60)), kv);
	return -1;
}

/* A controller secret or a hash/group list without a host secret. */
static int auth_check(const struct tgt_host_auth *a, char *err, size_t errlen)
{
	if (!a->key.len && (a->ctrl_key.len || a->hashes || a->groups)) {
		snprintf(err, errlen, "dhchap-ctrl-key, dhchap-hash and dhchap-dhgroup need a dhchap-key");
		return -1;
	}
	return 0;
}

bool host_auth_get(struct tgt_subsys *s, const char *hostnqn,
		   struct tgt_host_auth *a)
{
	struct tgt_host *h;
	bool has = false;

	if (s->discovery || !hostnqn[0])
		return false;
	pthread_mutex_lock(&s->lock);
	h = *host_find(s, hostnqn);
	if (h && h->auth.key.len) {
		*a = h->auth;
		has = true;
	}
	pthread_mutex_unlock(&s->lock);
	return has;
}

int host_nqn_check(const char *hostnqn, char *err, size_t errlen)
{
	if (strlen(hostnqn) > NVMF_NQN_MAX_LEN ||
	    nvmeof_nqn_validate(hostnqn) < 0) {
		snprintf(err, errlen, "host NQN '%.300s': %s", hostnqn,
			 nvmeof_get_error());
		return -1;
	}
	return 0;
}

/* The associations of hosts that may no longer connect end now. */
static void hosts_enforce(struct tgt_subsys *s)
{
	struct tgt_ctrl *ctrl;

	pthread_mutex_lock(&g.lock);
	for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next)
		if (ctrl->subsys == s && !host_allowed(s, ctrl->hostnqn))
			ctrl_kill(ctrl, "its host is no longer allowed");
	pthread_mutex_unlock(&g.lock);
}

/* The associations of a host whose DH-HMAC-CHAP settings changed (a
 * secret given, changed or taken away) end: they were authenticated, or
 * not, under the old ones. */
static void auth_enforce(struct tgt_subsys *s, const struct tgt_host *old,
			 const struct tgt_host *now)
{
	for (const struct tgt_host *h = now; h; h = h->next) {
		const struct tgt_host *o = old;
		struct tgt_ctrl *ctrl;

		while (o && strcmp(o->nqn, h->nqn))
			o = o->next;
		if (!o || !memcmp(&o->auth, &h->auth, sizeof h->auth))
			continue;
		pthread_mutex_lock(&g.lock);
		for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next)
			if (ctrl->subsys == s && !strcmp(ctrl->hostnqn, h->nqn))
				ctrl_kill(ctrl, "its host's DH-HMAC-CHAP settings changed");
		pthread_mutex_unlock(&g.lock);
	}
}

int host_add(struct tgt_subsys *s, const char *hostnqn,
	     const struct tgt_host_auth *auth, char *err, size_t errlen)
{
	struct tgt_host *h;
	int rc = 0;

	if (host_nqn_check(hostnqn, err, errlen) < 0)
		return -1;
	if (auth && auth_check(auth, err, errlen) < 0)
		return -1;
	h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(h->nqn, sizeof h->nqn, "%s", hostnqn);
	if (auth)
		h->auth = *auth;
	pthread_mutex_lock(&s->lock);
	if (*host_find(s, hostnqn)) {
		snprintf(err, errlen, "host %s is already allowed on %s",
			 hostnqn, s->nqn);
		rc = -1;
	} else {
		/* appended: listed in the order given */
		*host_find(s, hostnqn) = h;
		h = NULL;
		s->allow_any = false;
	}
	pthread_mutex_unlock(&s->lock);
	host_free(h);
	if (rc == 0) {
		infox("subsystem %s: host %s allowed%s", s->nqn, hostnqn,
		      auth && auth->key.len ? (auth->ctrl_key.len ?
		      " (DH-HMAC-CHAP, bidirectional)" : " (DH-HMAC-CHAP)") : "");
		hosts_enforce(s); /* allow-any ended for the others */
		ns_changed(NULL, 0); /* the discovery log changed */
	}
	return rc;
}

int host_remove(struct tgt_subsys *s, const char *hostnqn, char *err,
		size_t errlen)
{
	struct tgt_host **pp, *h = NULL;

	pthread_mutex_lock(&s->lock);
	pp = host_find(s, hostnqn);
	if (*pp) {
		h = *pp;
		*pp = h->next;
	}
	pthread_mutex_unlock(&s->lock);
	if (!h) {
		snprintf(err, errlen, "host %.300s is not listed on %s", hostnqn,
			 s->nqn);
		return -1;
	}
	host_free(h);
	infox("subsystem %s: host %s no longer allowed", s->nqn, hostnqn);
	hosts_enforce(s);
	ns_changed(NULL, 0);
	return 0;
}

void host_allow_any(struct tgt_subsys *s, bool any)
{
	bool was;

	pthread_mutex_lock(&s->lock);
	was = s->allow_any;
	s->allow_any = any;
	pthread_mutex_unlock(&s->lock);
	if (was == any)
		return;
	infox("subsystem %s: %s", s->nqn,
	      any ? "any host may connect" : "only the listed hosts may connect");
	if (!any)
		hosts_enforce(s);
	ns_changed(NULL, 0);
}

void host_clear(struct tgt_subsys *s)
{
	struct tgt_host *h;

	pthread_mutex_lock(&s->lock);
	h = s->hosts;
	s->hosts = NULL;
	pthread_mutex_unlock(&s->lock);
	host_free_list(h);
}

/* The configuration file's word: exactly these hosts (none: any host). */
int host_set(struct tgt_subsys *s, const struct tgt_host *hosts, size_t n,
	     char *err, size_t errlen)
{
	struct tgt_host *list = NULL, **tail = &list, *h, *o;
	bool changed;

	for (size_t i = 0; i < n; i++) {
		if (host_nqn_check(hosts[i].nqn, err, errlen) < 0 ||
		    auth_check(&hosts[i].auth, err, errlen) < 0) {
			host_free_list(list);
			return -1;
		}
		h = calloc(1, sizeof *h);
		if (!h) {
			snprintf(err, errlen, "out of memory");
			host_free_list(list);
			return -1;
		}
		snprintf(h->nqn, sizeof h->nqn, "%s", hosts[i].nqn);
		h->auth = hosts[i].auth;
		*tail = h;
		tail = &h->next;
	}
	pthread_mutex_lock(&s->lock);
	changed = s->allow_any != (n == 0);
	for (h = list, o = s->hosts; (h || o) && !changed;
	     h = h->next, o = o->next)
		changed = !h || !o || strcmp(h->nqn, o->nqn) ||
			  memcmp(&h->auth, &o->auth, sizeof h->auth);
	o = s->hosts;
	s->hosts = list;
	s->allow_any = n == 0;
	pthread_mutex_unlock(&s->lock);
	if (changed)
		auth_enforce(s, o, list);
	host_free_list(o);
	if (changed) {
		infox("subsystem %s: %s", s->nqn,
		      n ? "only the listed hosts may connect" :
			  "any host may connect");
		hosts_enforce(s);
		ns_changed(NULL, 0);
	}
	return 0;
}

bool host_allowed(struct tgt_subsys *s, const char *hostnqn)
{
	bool ok;

	if (s->discovery)
		return true; /* as nvmet: discovery is open to every host */
	pthread_mutex_lock(&s->lock);
	/* An empty Host NQN (SPDK's host sends one unless told) never
	 * matches a listed host. */
	ok = s->allow_any || (hostnqn[0] && *host_find(s, hostnqn));
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void host_list(struct tgt_subsys *s, FILE *out)
{
	pthread_mutex_lock(&s->lock);
	if (s->allow_any)
		fprintf(out, "subsystem %s allow-any-host\n", s->nqn);
	else
		fprintf(out, "subsystem %s %s\n", s->nqn,
			s->hosts ? "allowed hosts:" : "no host allowed");
	for (struct tgt_host *h = s->hosts; h; h = h->next)
		fprintf(out, "  host %s%s%s\n", h->nqn,
			!h->auth.key.len ? "" : h->auth.ctrl_key.len ?
			" DH-HMAC-CHAP bidirectional" : " DH-HMAC-CHAP",
			s->allow_any ? " (listed; any host allowed)" : "");
	pthread_mutex_unlock(&s->lock);
}

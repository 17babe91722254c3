/* SPDX-License-Identifier: MIT */
/*
 * Which hosts may connect to a subsystem, as Linux nvmet's allowed_hosts
 * and attr_allow_any_host: any host (the default), or only the host NQNs
 * listed.  A host is identified by the Host NQN of its Connect only: there
 * is no authentication on the wire (yet), so this keeps honest hosts
 * apart, it does not stop a host that lies about its NQN.
 *
 * The list lives in the subsystem, under its lock.  A record per host
 * (struct tgt_host) so that what a host will also need later (its
 * DH-HMAC-CHAP keys) has a place next to its NQN.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>

#include "target.h"

static struct tgt_host **host_find(struct tgt_subsys *s, const char *hostnqn)
{
	struct tgt_host **pp;

	for (pp = &s->hosts; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->nqn, hostnqn))
			break;
	return pp;
}

static void host_free_list(struct tgt_host *h)
{
	while (h) {
		struct tgt_host *next = h->next;

		free(h);
		h = next;
	}
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

int host_add(struct tgt_subsys *s, const char *hostnqn, char *err,
	     size_t errlen)
{
	struct tgt_host *h;
	int rc = 0;

	if (host_nqn_check(hostnqn, err, errlen) < 0)
		return -1;
	h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(h->nqn, sizeof h->nqn, "%s", hostnqn);
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
	free(h);
	if (rc == 0) {
		infox("subsystem %s: host %s allowed", s->nqn, hostnqn);
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
	free(h);
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
int host_set(struct tgt_subsys *s, char (*const nqns)[NVMF_NQN_SIZE],
	     size_t n, char *err, size_t errlen)
{
	struct tgt_host *list = NULL, **tail = &list, *h, *o;
	bool changed;

	for (size_t i = 0; i < n; i++) {
		if (host_nqn_check(nqns[i], err, errlen) < 0) {
			host_free_list(list);
			return -1;
		}
		h = calloc(1, sizeof *h);
		if (!h) {
			snprintf(err, errlen, "out of memory");
			host_free_list(list);
			return -1;
		}
		snprintf(h->nqn, sizeof h->nqn, "%s", nqns[i]);
		*tail = h;
		tail = &h->next;
	}
	pthread_mutex_lock(&s->lock);
	changed = s->allow_any != (n == 0);
	for (h = list, o = s->hosts; (h || o) && !changed;
	     h = h->next, o = o->next)
		changed = !h || !o || strcmp(h->nqn, o->nqn);
	o = s->hosts;
	s->hosts = list;
	s->allow_any = n == 0;
	pthread_mutex_unlock(&s->lock);
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
		fprintf(out, "  host %s%s\n", h->nqn,
			s->allow_any ? " (listed; any host allowed)" : "");
	pthread_mutex_unlock(&s->lock);
}

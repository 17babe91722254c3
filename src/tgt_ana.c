/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target Asymmetric Namespace Access (NVMe Base 2.0 §8.1): every
 * namespace belongs to an ANA group (--ns ...,ana=N; group 1 by default),
 * and every listener has its own state for each group, so that one target
 * process with several -l addresses is a subsystem with several paths
 * whose states tests can change on the control socket.  Every listener
 * starts optimized for every group.
 *
 * An association sees the states of the listener its admin queue came in
 * on (log 0Ch, the ANA Change notice); an I/O command is checked against
 * the listener of the queue that carries it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

static const struct {
	uint8_t state;
	const char *name;
} ana_names[] = {
	{ NVME_ANA_OPTIMIZED, "optimized" },
	{ NVME_ANA_NON_OPTIMIZED, "non-optimized" },
	{ NVME_ANA_INACCESSIBLE, "inaccessible" },
	{ NVME_ANA_PERSISTENT_LOSS, "persistent-loss" },
	{ NVME_ANA_CHANGE, "change" },
};

void ana_listener_init(struct tgt_listener *l)
{
	for (int i = 0; i <= TGT_ANA_GROUPS; i++) {
		l->ana_state[i] = NVME_ANA_OPTIMIZED;
		l->ana_grp_chgcnt[i] = 0;
	}
	l->ana_chgcnt = 0;
}

uint8_t ana_state_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(ana_names); i++)
		if (!strcmp(s, ana_names[i].name))
			return ana_names[i].state;
	return 0;
}

const char *ana_state_name(uint8_t state)
{
	for (size_t i = 0; i < ARRAY_SIZE(ana_names); i++)
		if (ana_names[i].state == state)
			return ana_names[i].name;
	return "?";
}

static void listener_name(const struct tgt_listener *l, char *buf, size_t len)
{
	bool v6 = l->family == AF_INET6;

	snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", l->addr, v6 ? "]" : "",
		 l->port);
}

/* Listeners are set up before the control socket opens and never change
 * afterwards, so the table is read without g.lock here. */
struct tgt_listener *ana_listener_find(const char *name)
{
	char bound[INET6_ADDRSTRLEN + 16];

	for (int i = 0; i < g.nr_lsn; i++) {
		struct tgt_listener *l = &g.lsn[i];

		if (l->discovery_only || l->removed)
			continue;
		listener_name(l, bound, sizeof bound);
		if (!strcmp(name, bound) || !strcmp(name, l->given))
			return l;
	}
	return NULL;
}

int listener_remove(const char *name, char *err, size_t errlen)
{
	struct tgt_listener *l = ana_listener_find(name);
	struct tgt_ctrl *ctrl;
	char bound[INET6_ADDRSTRLEN + 16];
	int n = 0;

	if (!l) {
		snprintf(err, errlen,
			 "no listener %s (HOST:PORT as given to -l or as bound)",
			 name);
		return -1;
	}
	listener_name(l, bound, sizeof bound);
	/* The main loop (this thread) polls the listening sockets. */
	pthread_mutex_lock(&g.lock);
	l->removed = true;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next) {
		bool mine;

		pthread_mutex_lock(&ctrl->lock);
		mine = !ctrl->dead && ctrl->admin && ctrl->admin->lsn == l;
		pthread_mutex_unlock(&ctrl->lock);
		if (mine) {
			ctrl_kill(ctrl, "its listener was removed");
			n++;
		}
	}
	pthread_mutex_unlock(&g.lock);
	infox("listener %s removed (%d association%s ended)", bound, n,
	      n == 1 ? "" : "s");
	ns_changed(NULL, 0); /* the discovery log changed */
	return 0;
}

int ana_set(struct tgt_listener *l, uint32_t grpid, uint8_t state,
	    char *err, size_t errlen)
{
	struct tgt_ctrl *ctrl;
	char name[INET6_ADDRSTRLEN + 16];
	int n = 0;

	if (grpid == 0 || grpid > TGT_ANA_GROUPS || !ana_state_parse(
						ana_state_name(state))) {
		snprintf(err, errlen, "bad ANA group %u or state %u", grpid,
			 state);
		return -1;
	}
	listener_name(l, name, sizeof name);
	pthread_mutex_lock(&g.lock);
	if (l->ana_state[grpid] == state) {
		pthread_mutex_unlock(&g.lock);
		return 0; /* no change: no log change, no notice */
	}
	__atomic_store_n(&l->ana_state[grpid], state, __ATOMIC_RELAXED);
	l->ana_chgcnt++;
	l->ana_grp_chgcnt[grpid] = l->ana_chgcnt;
	/* Every association that came in on this listener (as nvmet, also
	 * when its subsystem has no namespace in the group). */
	for (ctrl = g.ctrls; ctrl; ctrl = ctrl->next)
		if (!ctrl->subsys->discovery)
			n += ctrl_ana_changed(ctrl, l);
	pthread_mutex_unlock(&g.lock);
	infox("ANA group %u on %s: %s (%d association%s told)", grpid, name,
	      ana_state_name(state), n, n == 1 ? "" : "s");
	return 0;
}

uint16_t ana_io_status(const struct tgt_conn *c, const struct tgt_ns *ns)
{
	uint8_t st;

	if (!c->lsn || ns->anagrpid == 0 || ns->anagrpid > TGT_ANA_GROUPS)
		return 0;
	st = __atomic_load_n(&c->lsn->ana_state[ns->anagrpid],
			     __ATOMIC_RELAXED);
	switch (st) {
	case NVME_ANA_INACCESSIBLE:
		return NVME_SF(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE);
	case NVME_ANA_PERSISTENT_LOSS:
		return NVME_SF(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS);
	case NVME_ANA_CHANGE:
		return NVME_SF(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION);
	}
	return 0;
}

/* Log 0Ch (NVMe Base 2.0 §5.16.1.13): a descriptor for every group that
 * has a namespace in the subsystem, in ascending ANAGRPID order, each with
 * its NSIDs unless RGO.  buf: zero-filled, cap at least ANA_LOG_SIZE.  The
 * page's size is its largest (what Identify's NANAGRPID and MNAN give), so
 * that a host may read it in pieces at any offset below that. */
#define ANA_LOG_SIZE \
	(sizeof(struct nvme_ana_log_hdr) + \
	 TGT_ANA_GROUPS * sizeof(struct nvme_ana_group_desc) + 4u * TGT_MAX_NSID)
size_t ana_log(struct tgt_conn *c, uint8_t *buf, size_t cap, bool rgo,
	       bool rae)
{
	struct tgt_ctrl *ctrl = c->ctrl;
	struct tgt_subsys *s = ctrl->subsys;
	struct tgt_listener *l = c->lsn;
	uint32_t count[TGT_ANA_GROUPS + 1] = { 0 };
	size_t off = sizeof(struct nvme_ana_log_hdr);
	uint16_t ngrps = 0;
	uint64_t chgcnt;

	if (cap < ANA_LOG_SIZE)
		return 0;
	pthread_mutex_lock(&g.lock);
	chgcnt = l ? l->ana_chgcnt : 0;
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 1; i <= TGT_MAX_NSID; i++)
		if (s->ns[i])
			count[s->ns[i]->anagrpid]++;
	for (uint32_t grp = 1; grp <= TGT_ANA_GROUPS; grp++) {
		uint8_t *d = buf + off;

		if (!count[grp])
			continue;
		ngrps++;
		le32_put(d + offsetof(struct nvme_ana_group_desc, grpid), grp);
		le32_put(d + offsetof(struct nvme_ana_group_desc, nnsids),
			 rgo ? 0 : count[grp]);
		le64_put(d + offsetof(struct nvme_ana_group_desc, chgcnt),
			 l ? l->ana_grp_chgcnt[grp] : 0);
		d[offsetof(struct nvme_ana_group_desc, state)] =
			l ? l->ana_state[grp] : NVME_ANA_OPTIMIZED;
		off += sizeof(struct nvme_ana_group_desc);
		if (rgo)
			continue;
		for (uint32_t i = 1; i <= TGT_MAX_NSID; i++)
			if (s->ns[i] && s->ns[i]->anagrpid == grp) {
				le32_put(buf + off, i);
				off += 4;
			}
	}
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&g.lock);
	le64_put(buf + offsetof(struct nvme_ana_log_hdr, chgcnt), chgcnt);
	le16_put(buf + offsetof(struct nvme_ana_log_hdr, ngrps), ngrps);
	if (!rae) {
		/* Read: the next change may send a notice again. */
		pthread_mutex_lock(&ctrl->lock);
		ctrl->aen_masked &= ~AEN_BIT_ANA;
		pthread_mutex_unlock(&ctrl->lock);
	}
	return ANA_LOG_SIZE;
}

void ana_list(FILE *out)
{
	char name[INET6_ADDRSTRLEN + 16];

	pthread_mutex_lock(&g.lock);
	for (int i = 0; i < g.nr_lsn; i++) {
		const struct tgt_listener *l = &g.lsn[i];
		bool any = false;

		if (l->discovery_only || l->removed)
			continue;
		listener_name(l, name, sizeof name);
		fprintf(out, "listener %s chgcnt %" PRIu64 ":", name,
			l->ana_chgcnt);
		for (int grp = 1; grp <= TGT_ANA_GROUPS; grp++)
			if (l->ana_state[grp] != NVME_ANA_OPTIMIZED) {
				fprintf(out, " %d=%s", grp,
					ana_state_name(l->ana_state[grp]));
				any = true;
			}
		fprintf(out, "%s\n", any ? "" : " every group optimized");
	}
	pthread_mutex_unlock(&g.lock);
}

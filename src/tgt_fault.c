/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target fault injection: the set of armed faults, changed by
 * --fault and by the control socket, read by every connection.
 *
 * Each connection keeps a copy and compares a generation number per
 * command (one relaxed load when nothing is armed); when the set changes
 * every queue and association starts counting afresh.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

atomic_uint fault_gen = 1;
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault_set faults;
static char where[F_NR][64];   /* the listener a fault is limited to, as given */

static const char *const names[F_NR] = {
	[F_DROP_AFTER] = "drop-after",
	[F_DROP_EVERY] = "drop-every",
	[F_DELAY] = "delay",
	[F_FAIL_NTH] = "fail-nth",
	[F_CORRUPT_HDGST] = "corrupt-hdgst",
	[F_CORRUPT_DDGST] = "corrupt-ddgst",
	[F_BAD_HLEN] = "bad-hlen",
	[F_BAD_PLEN] = "bad-plen",
	[F_C2H_UNKNOWN_CID] = "c2h-unknown-cid",
	[F_C2H_OVERFLOW] = "c2h-overflow",
	[F_DOUBLE_COMPLETION] = "double-completion",
	[F_SILENT] = "silent",
};

const char *fault_name(enum fault_mode m)
{
	return m < F_NR ? names[m] : "?";
}

static int find_mode(const char *s, size_t len)
{
	for (int m = 0; m < F_NR; m++)
		if (strlen(names[m]) == len && !strncmp(names[m], s, len))
			return m;
	return -1;
}

static int num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 0);
	return errno || *end || *out > max ? -1 : 0;
}

/* MODE[:ARG[:ARG...]][@io|@admin|@all][@HOST:PORT]: a listener limits
 * the fault to the queues that came in on it (one path of several);
 * MODE@HOST:PORT alone: both kinds of queues of that listener. */
int fault_add(const char *spec, char *err, size_t errlen)
{
	char buf[128], *at, *at2, *args, *a[4] = { 0 };
	struct fault f = { .on = true, .scope = FS_IO };
	unsigned long v[4] = { 0 };
	const char *lname = "";
	int m, na = 0;

	if (strlen(spec) >= sizeof buf) {
		snprintf(err, errlen, "fault '%.32s...' is too long", spec);
		return -1;
	}
	strcpy(buf, spec);
	if ((at = strchr(buf, '@'))) {
		*at++ = '\0';
		if ((at2 = strchr(at, '@')))
			*at2++ = '\0';
		if (!at2 && strchr(at, ':')) {   /* MODE@HOST:PORT: one path, all of it */
			at2 = at;
			at = "all";
		}
		if (!strcmp(at, "io"))
			f.scope = FS_IO;
		else if (!strcmp(at, "admin"))
			f.scope = FS_ADMIN;
		else if (!strcmp(at, "all"))
			f.scope = FS_IO | FS_ADMIN;
		else {
			snprintf(err, errlen,
				 "fault '%s': scope '@%s' (want @io, @admin, @all or a listener's HOST:PORT)",
				 spec, at);
			return -1;
		}
		if (at2) {
			f.lsn = ana_listener_find(at2);
			if (!f.lsn || strlen(at2) >= sizeof where[0]) {
				snprintf(err, errlen,
					 "fault '%s': no listener '%s' (HOST:PORT as given to -l or as bound)",
					 spec, at2);
				return -1;
			}
			lname = at2;
		}
	}
	args = strchr(buf, ':');
	m = find_mode(buf, args ? (size_t)(args - buf) : strlen(buf));
	if (m < 0) {
		snprintf(err, errlen,
			 "unknown fault '%s' (drop-after:N, drop-every:N, delay:MS, fail-nth:N:SCT:SC[:dnr], corrupt-hdgst, corrupt-ddgst, bad-hlen, bad-plen, c2h-unknown-cid, c2h-overflow, double-completion, silent)",
			 spec);
		return -1;
	}
	while (args && na < 4) {
		*args++ = '\0';
		a[na++] = args;
		args = strchr(args, ':');
	}
	if (args)
		na = 5; /* too many */

	switch (m) {
	case F_DROP_AFTER:
	case F_DROP_EVERY:
	case F_DELAY:
		if (na != 1 || num(a[0], m == F_DELAY ? 3600000 : UINT32_MAX,
				   &v[0]) < 0 || v[0] == 0) {
			snprintf(err, errlen, "fault '%s': want %s:%s", spec,
				 names[m], m == F_DELAY ? "MS (1..3600000)" :
							  "N (N >= 1)");
			return -1;
		}
		f.arg = (uint32_t)v[0];
		break;
	case F_FAIL_NTH:
		if (na < 3 || na > 4 || num(a[0], UINT32_MAX, &v[0]) < 0 ||
		    v[0] == 0 || num(a[1], 7, &v[1]) < 0 ||
		    num(a[2], 255, &v[2]) < 0 || (v[1] == 0 && v[2] == 0) ||
		    (na == 4 && strcmp(a[3], "dnr"))) {
			snprintf(err, errlen,
				 "fault '%s': want fail-nth:N:SCT:SC[:dnr] (N >= 1, SCT 0..7, SC 0..255, not a success)",
				 spec);
			return -1;
		}
		f.arg = (uint32_t)v[0];
		f.status = NVME_SF((uint16_t)v[1], (uint16_t)v[2]) |
			   (na == 4 ? NVME_SF_DNR_BIT : 0);
		break;
	default:
		if (na) {
			snprintf(err, errlen, "fault '%s' takes no argument",
				 names[m]);
			return -1;
		}
	}
	pthread_mutex_lock(&fault_lock);
	f.gen = atomic_fetch_add_explicit(&fault_gen, 1, memory_order_release) + 1;
	faults.f[m] = f;
	faults.any = true;
	snprintf(where[m], sizeof where[m], "%s", lname);
	pthread_mutex_unlock(&fault_lock);
	infox("fault %s armed", spec);
	return 0;
}

/* "off" or NULL: every fault; otherwise one mode. */
int fault_remove(const char *mode, char *err, size_t errlen)
{
	int m = -1;

	if (mode && strcmp(mode, "off") && strcmp(mode, "all")) {
		m = find_mode(mode, strlen(mode));
		if (m < 0) {
			snprintf(err, errlen, "unknown fault '%s'", mode);
			return -1;
		}
	}
	pthread_mutex_lock(&fault_lock);
	if (m < 0)
		memset(&faults, 0, sizeof faults);
	else
		memset(&faults.f[m], 0, sizeof faults.f[m]);
	faults.any = false;
	for (int i = 0; i < F_NR; i++)
		faults.any |= faults.f[i].on;
	atomic_fetch_add_explicit(&fault_gen, 1, memory_order_release);
	pthread_mutex_unlock(&fault_lock);
	infox("fault %s disarmed", m < 0 ? "(all)" : names[m]);
	return 0;
}

bool fault_disarm_fired(enum fault_mode m, unsigned gen)
{
	bool mine = false;

	pthread_mutex_lock(&fault_lock);
	if (faults.f[m].on && faults.f[m].gen == gen) {
		memset(&faults.f[m], 0, sizeof faults.f[m]);
		faults.any = false;
		for (int i = 0; i < F_NR; i++)
			faults.any |= faults.f[i].on;
		atomic_fetch_add_explicit(&fault_gen, 1, memory_order_release);
		mine = true;
	}
	pthread_mutex_unlock(&fault_lock);
	return mine;
}

void fault_snapshot(struct fault_set *fs, unsigned *gen)
{
	pthread_mutex_lock(&fault_lock);
	*fs = faults;
	*gen = atomic_load_explicit(&fault_gen, memory_order_relaxed);
	pthread_mutex_unlock(&fault_lock);
}

void fault_describe(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	pthread_mutex_lock(&fault_lock);
	for (int m = 0; m < F_NR && n < len; m++) {
		const struct fault *f = &faults.f[m];
		const char *scope = f->scope == FS_IO ? "io" :
				    f->scope == FS_ADMIN ? "admin" : "all";

		if (!f->on)
			continue;
		if (m == F_FAIL_NTH)
			n += (size_t)snprintf(buf + n, len - n,
					      "%s%s:%u:%u:%u%s@%s", n ? " " : "",
					      names[m], f->arg,
					      NVME_SF_SCT(f->status),
					      NVME_SF_SC(f->status),
					      NVME_SF_DNR(f->status) ? ":dnr" : "",
					      scope);
		else if (m == F_DROP_AFTER || m == F_DROP_EVERY || m == F_DELAY)
			n += (size_t)snprintf(buf + n, len - n, "%s%s:%u@%s",
					      n ? " " : "", names[m], f->arg,
					      scope);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%s@%s",
					      n ? " " : "", names[m], scope);
		if (f->lsn && n < len)
			n += (size_t)snprintf(buf + n, len - n, "@%s", where[m]);
	}
	pthread_mutex_unlock(&fault_lock);
	if (!buf[0])
		snprintf(buf, len, "off");
}

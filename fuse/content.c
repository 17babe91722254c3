/* SPDX-License-Identifier: MIT */
/*
 * What the pseudo-files hold: Identify data, log pages (read at open, one
 * snapshot per open), the status of an association and of a tree's
 * discovery association, as text and as raw bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "describe.h"
#include "fuse.h"

/* ---- log pages ----------------------------------------------------------- */

struct logdef {
	const char *name;
	uint8_t lid;
	enum nvmeof_describe_kind kind;
	size_t size; /* 0: computed */
};

static const struct logdef logs[] = {
	{ "error", 0x01, NVMEOF_DESC_LOG_ERROR, 0 },
	{ "smart", 0x02, NVMEOF_DESC_LOG_SMART, 512 },
	{ "firmware", 0x03, NVMEOF_DESC_LOG_FIRMWARE, 512 },
	{ "changed-ns", 0x04, NVMEOF_DESC_LOG_CHANGED_NS, 4096 },
	{ "cmd-effects", 0x05, NVMEOF_DESC_LOG_CMD_EFFECTS, 4096 },
	{ "ana", 0x0c, NVMEOF_DESC_LOG_ANA, 0 },
};
_Static_assert(sizeof logs / sizeof logs[0] == NR_LOGS, "NR_LOGS");

bool log_present(const struct fctrl *fc, int i)
{
	return i >= 0 && i < NR_LOGS && (i != LOG_ANA || fc->ana);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Get Log Page with RAE set (NVMe Base 2.0 §5.16: Retain Asynchronous
 * Event): reading a pseudo-file must not consume an event the library's
 * handler is due to see.  Split in 64 KiB pieces by offset. */
static int get_log(struct fctrl *fc, uint8_t lid, void *buf, size_t len)
{
	uint8_t *b = buf;
	uint64_t off = 0;

	while (off < len) {
		uint8_t sqe[64] = { 0 };
		uint32_t n = (uint32_t)(len - off < 65536 ? len - off : 65536);
		uint32_t numd = n / 4 - 1;
		int rc;

		sqe[0] = 0x02; /* Get Log Page */
		put_le32(sqe + 4, 0xffffffff);
		put_le32(sqe + 40, lid | 1u << 15 | (numd & 0xffff) << 16);
		put_le32(sqe + 44, numd >> 16);
		put_le32(sqe + 48, (uint32_t)off);
		put_le32(sqe + 52, (uint32_t)(off >> 32));
		rc = nvmeof_admin_cmd(fctrl_admin(fc), sqe, b + off, n, false, NULL);
		if (rc < 0)
			return rc;
		off += n;
	}
	return 0;
}

/* ANA log (NVMe Base 2.0 §5.16.1.13): its length depends on the groups. */
static int get_ana_log(struct fctrl *fc, uint8_t **out, size_t *lenp)
{
	size_t len = 4096;

	for (int tries = 0; tries < 4; tries++) {
		uint8_t *b = calloc(1, len);
		size_t need = 16, off = 16;
		unsigned ngrps, g;
		int rc;

		if (!b)
			return -ENOMEM;
		rc = get_log(fc, 0x0c, b, len);
		if (rc < 0) {
			free(b);
			return rc;
		}
		ngrps = (unsigned)(b[8] | b[9] << 8);
		for (g = 0; g < ngrps; g++) {
			uint32_t nn;

			if (off + 32 > len) {
				need = off + 32;
				break;
			}
			nn = get_le32(b + off + 4);
			off += 32 + (size_t)nn * 4;
			need = off;
			if (off > len)
				break;
		}
		if (need <= len) {
			*out = b;
			*lenp = need;
			return 0;
		}
		free(b);
		if (need > (16u << 20))
			return -EPROTO;
		len = (need + 4095) & ~(size_t)4095;
	}
	return -EPROTO;
}

static int fetch_log(struct fctrl *fc, int i, uint8_t **out, size_t *lenp)
{
	size_t len;
	uint8_t *b;
	int rc;

	if (i == LOG_ANA)
		return get_ana_log(fc, out, lenp);
	len = logs[i].size ? logs[i].size : (size_t)fc->elpe * 64;
	b = calloc(1, len);
	if (!b)
		return -ENOMEM;
	rc = get_log(fc, logs[i].lid, b, len);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	*lenp = len;
	return 0;
}

const char *log_name(int i)
{
	return logs[i].name;
}

/* The size of log i's .bin when fixed; 0 when it depends. */
size_t log_size(int i)
{
	return logs[i].size;
}

/* ---- pseudo-file contents ------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
			char *t = realloc(b->p, cap);

			if (!t) {
				b->oom = true;
				return;
			}
			b->p = t;
			b->cap = cap;
		}
	}
}

static void wall_time(int64_t ms, char *buf, size_t len);

/* What the last TLS handshake negotiated; asked: the derivation asked
 * for (NVMEOF_TLS_DERIVE_*), so that auto says which one worked. */
static void tls_lines(struct sbuf *b, const struct nvmeof_ctrl_status *cs, int asked)
{
	if (!cs->tls)
		return;
	sb_printf(b, "tls           : %s\n", cs->tls_version[0] ? cs->tls_version : "-");
	sb_printf(b, "tls_cipher    : %s\n", cs->tls_cipher[0] ? cs->tls_cipher : "-");
	sb_printf(b, "tls_identity  : %s\n", cs->tls_identity[0] ? cs->tls_identity : "-");
	sb_printf(b, "tls_derivation: %s%s\n", cs->tls_derivation ? cs->tls_derivation : "-",
		  cs->tls_derivation && strcmp(cs->tls_derivation, "raw") &&
		  asked == NVMEOF_TLS_DERIVE_AUTO ? " (auto)" : "");
	sb_printf(b, "tls_records   : %s\n", cs->ktls ? "ktls" : "userspace");
	sb_printf(b, "tls_handshake : %.2f ms\n", cs->tls_handshake_ms);
}

/* The reconnect counters of libnvmeof(3) (nvmeof_ctrl_status). */
static void reconnect_counters(struct sbuf *b,
			       const struct nvmeof_ctrl_status *cs)
{
	char t[64];

	sb_printf(b, "reconnects    : %u\n", cs->reconnects);
	sb_printf(b, "losses        : %u\n", cs->losses);
	sb_printf(b, "attempts_total: %u\n", cs->attempts_total);
	sb_printf(b, "reconnect_asks: %u\n", cs->requests);
	if (strcmp(cs->state, "live") != 0)
		sb_printf(b, "attempts      : %u\n", cs->attempts);
	wall_time(cs->next_attempt_ms, t, sizeof t);
	if (t[0] && !strcmp(cs->state, "reconnecting"))
		sb_printf(b, "next_attempt  : %s\n", t);
	if (cs->last_error[0])
		sb_printf(b, "last_error    : %s\n", cs->last_error);
}

/* The paths file: one line per path (nvmeof-mount(8), "PATHS"). */
static int paths_text(struct fctrl *fc, char **data, size_t *len)
{
	size_t cap = 1024;

	if (!fc->mp)
		return -ENOENT;
	for (;;) {
		char *p = malloc(cap);
		int n;

		if (!p)
			return -ENOMEM;
		n = nvmeof_mpath_paths_text(fc->mp, p, cap);
		if (n < 0) {
			free(p);
			return n;
		}
		if ((size_t)n < cap) {
			*data = p;
			*len = (size_t)n;
			return 0;
		}
		free(p);
		cap = (size_t)n + 1;
	}
}

static int status_text(struct fctrl *fc, char **data, size_t *len)
{
	struct nvmeof_ctrl *c = fc->ctrl;
	struct nvmeof_ctrl_status cs;
	struct nvmeof_stats st;
	struct sbuf b = { 0 };
	char since[64] = "", addr[300];
	size_t i, buf_kib;
	unsigned nbufs;

	nvmeof_ctrl_stats(c, &st);
	nvmeof_ctrl_status(c, &cs);
	if (cs.since_ms > 0) {
		time_t t = (time_t)(cs.since_ms / 1000);
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S %z", &tm);
	}
	ctrl_addr(addr, sizeof addr, c);
	sb_printf(&b, "address       : %s\n", addr);
	sb_printf(&b, "transport     : tcp\n");
	tls_lines(&b, &cs, fc->fs->o->tls_psk_derivation);
	sb_printf(&b, "subnqn        : %s\n", nvmeof_ctrl_subnqn(c));
	sb_printf(&b, "hostnqn       : %s\n", nvmeof_ctrl_hostnqn(c));
	sb_printf(&b, "cntlid        : %u\n", nvmeof_ctrl_cntlid(c));
	/* several paths: the subsystem's state (live while a path is);
	 * the rest of these lines is the path above's */
	sb_printf(&b, "state         : %s\n",
		  fc->mp && nvmeof_mpath_nr_paths(fc->mp) > 1 ?
		  nvmeof_mpath_state(fc->mp) : cs.state);
	if (since[0])
		sb_printf(&b, "state_since   : %s\n", since);
	reconnect_counters(&b, &cs);
	sb_printf(&b, "io_queues     : %d\n", nvmeof_ctrl_nr_io_queues(c));
	sb_printf(&b, "queue_size    : %d\n", nvmeof_ctrl_queue_size(c));
	sb_printf(&b, "keep_alive_ms : %d\n", nvmeof_ctrl_kato_ms(c));
	sb_printf(&b, "mdts_bytes    : %" PRIu32 "\n",
		  nvmeof_ctrl_mdts_bytes(c));
	sb_printf(&b, "read_only     : %s\n",
		  fc->fs->o->read_only ? "yes" : "no");
	sb_printf(&b, "workers       : %d\n",
		  __atomic_load_n(&fc->fs->nr_workers, __ATOMIC_ACQUIRE));
	io_buffer_stats(&nbufs, &buf_kib);
	sb_printf(&b, "buffers       : %u\n", nbufs);
	sb_printf(&b, "buffer_kib    : %zu\n", buf_kib);
	sb_printf(&b, "namespaces    :");
	pthread_rwlock_rdlock(&fc->ns_lock);
	for (i = 0; i < fc->nr_ns; i++)
		if (fc->ns[i]->present)
			sb_printf(&b, " %u", fc->ns[i]->nsid);
	pthread_rwlock_unlock(&fc->ns_lock);
	sb_printf(&b, "\n");
	sb_printf(&b, "commands      : %" PRIu64 "\n", st.commands);
	sb_printf(&b, "errors        : %" PRIu64 "\n", st.errors);
	sb_printf(&b, "bytes_read    : %" PRIu64 "\n", st.bytes_read);
	sb_printf(&b, "bytes_written : %" PRIu64 "\n", st.bytes_written);
	sb_printf(&b, "retries       : %" PRIu64 "\n", st.retries);
	sb_printf(&b, "aborts        : %" PRIu64 "\n", st.aborts);
	if (fc->mp) {
		/* multipath: the policy, and each path as the paths file has
		 * it (nvmeof-mount(8)) */
		struct nvmeof_mpath_stats ms;
		char *pt = NULL, *line, *save = NULL;
		size_t pl;

		nvmeof_mpath_stats(fc->mp, &ms);
		sb_printf(&b, "iopolicy      : %s\n", nvmeof_mpath_iopolicy(fc->mp));
		sb_printf(&b, "failovers     : %" PRIu64 "\n", ms.failovers);
		sb_printf(&b, "ana_retries   : %" PRIu64 "\n", ms.ana_retries);
		if (paths_text(fc, &pt, &pl) == 0) {
			for (line = strtok_r(pt, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				sb_printf(&b, "path          : %s\n", line);
			free(pt);
		} else {
			b.oom = true;
		}
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*data = b.p;
	*len = b.len;
	return 0;
}

static void wall_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	buf[0] = 0;
	if (ms > 0 && localtime_r(&t, &tm))
		strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm);
}

/* A tree's root status: the discovery association that keeps it current. */
static int disc_status_text(struct fs *fs, char **data, size_t *len)
{
	struct nvmeof_ctrl *c = fs->disc;
	struct nvmeof_ctrl_status cs;
	struct sbuf b = { 0 };
	char t[64];
	unsigned i, n;

	if (!c) {
		/* The association could not be made at mount. */
		sb_printf(&b, "discovery     : none\n");
	} else {
		const uint8_t *id = nvmeof_ctrl_identify(c);
		uint32_t oaes = (uint32_t)id[92] | (uint32_t)id[93] << 8 |
				(uint32_t)id[94] << 16 | (uint32_t)id[95] << 24;

		nvmeof_ctrl_status(c, &cs);
		ctrl_addr(t, sizeof t, c);
		sb_printf(&b, "discovery     : %s\n", t);
		tls_lines(&b, &cs, fs->o->tls_psk_derivation);
		sb_printf(&b, "subnqn        : %s\n", nvmeof_ctrl_subnqn(c));
		sb_printf(&b, "hostnqn       : %s\n", nvmeof_ctrl_hostnqn(c));
		sb_printf(&b, "cntlid        : %u\n", nvmeof_ctrl_cntlid(c));
		sb_printf(&b, "state         : %s\n", cs.state);
		wall_time(cs.since_ms, t, sizeof t);
		if (t[0])
			sb_printf(&b, "state_since   : %s\n", t);
		reconnect_counters(&b, &cs);
		sb_printf(&b, "keep_alive_ms : %d\n", nvmeof_ctrl_kato_ms(c));
		/* Without OAES bit 31 no event comes: the list stays as read
		 * at mount and after each reconnect. */
		sb_printf(&b, "log_events    : %s\n",
			  oaes & (1u << 31) ? "yes" : "not supported");
	}
	pthread_mutex_lock(&fs->ev_lock);
	sb_printf(&b, "events        : %u\n", fs->disc_events);
	sb_printf(&b, "log_reads     : %u\n", fs->disc_reads);
	sb_printf(&b, "genctr        : %" PRIu64 "\n", fs->disc_genctr);
	wall_time(fs->disc_read_ms, t, sizeof t);
	if (t[0])
		sb_printf(&b, "last_read     : %s\n", t);
	if (fs->disc_err[0])
		sb_printf(&b, "read_error    : %s\n", fs->disc_err);
	sb_printf(&b, "added         : %u\n", fs->disc_added);
	sb_printf(&b, "removed       : %u\n", fs->disc_removed);
	sb_printf(&b, "paths_removed : %u\n", fs->disc_paths_removed);
	pthread_mutex_unlock(&fs->ev_lock);
	sb_printf(&b, "subsystems    :");
	n = __atomic_load_n(&fs->nr_ctrls, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct fctrl *fc = tree_ctrl_at(fs, i);

		if (fc && !fctrl_gone(fc))
			sb_printf(&b, " %s", fc->name);
	}
	sb_printf(&b, "\n");
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*data = b.p;
	*len = b.len;
	return 0;
}

static int copy_out(const void *src, size_t n, char **data, size_t *len)
{
	char *p = malloc(n ? n : 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, src, n);
	*data = p;
	*len = n;
	return 0;
}

static int describe_out(enum nvmeof_describe_kind kind, const void *raw,
			size_t n, char **data, size_t *len)
{
	char *t = nvmeof_describe(kind, raw, n, 0);

	if (!t)
		return -(errno ? errno : EIO);
	*data = t;
	*len = strlen(t);
	return 0;
}

int tree_content(const struct node *n, char **data, size_t *len)
{
	struct fctrl *fc = n->fc;
	uint8_t *raw = NULL;
	size_t rlen = 0;
	int rc;

	switch (n->kind) {
	case K_ID:
		return describe_out(NVMEOF_DESC_ID_CTRL, fc->idctrl,
				    sizeof fc->idctrl, data, len);
	case K_IDBIN:
		return copy_out(fc->idctrl, sizeof fc->idctrl, data, len);
	case K_STATUS:
		return status_text(fc, data, len);
	case K_DSTATUS:
		return disc_status_text(n->fs, data, len);
	case K_PATHS:
		return paths_text(fc, data, len);
	case K_NSID:
	case K_NSIDBIN:
		raw = malloc(4096);
		if (!raw)
			return -ENOMEM;
		rc = nvmeof_identify(fctrl_admin(fc), 0x00, n->nsid, 0, raw);
		if (rc == 0)
			rc = n->kind == K_NSIDBIN ?
			     copy_out(raw, 4096, data, len) :
			     describe_out(NVMEOF_DESC_ID_NS, raw, 4096, data,
					  len);
		free(raw);
		return rc;
	case K_LOG:
		rc = fetch_log(fc, n->log, &raw, &rlen);
		if (rc < 0)
			return rc;
		if (n->bin) {
			*data = (char *)raw;
			*len = rlen;
			return 0;
		}
		rc = describe_out(logs[n->log].kind, raw, rlen, data, len);
		free(raw);
		return rc;
	default:
		return -EISDIR;
	}
}


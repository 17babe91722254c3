/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target control socket: a unix stream socket taking one command
 * per line.  Each command is answered with zero or more lines of output and
 * then one line "ok" or "error: MESSAGE".  Served by the main thread.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, fallocate, signalfd, eventfd */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "target.h"

#define CTL_MAX_CLIENTS 16
#define CTL_LINE 8192

struct ctl_client {
	int fd;
	size_t len;
	char buf[CTL_LINE];
};

static int ctl_fd = -1;
static char ctl_path[108];
static struct ctl_client *clients[CTL_MAX_CLIENTS];

int control_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t mask;
	int fd, rc;

	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* A stale socket of a target that died: replace it, unless
		 * someone still answers on it. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(probe);
			close(fd);
			snprintf(err, errlen,
				 "control socket %s is in use by another process",
				 path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	/* 0600: it adds namespaces and hosts, it is its owner's alone.
	 * The umask makes it so from bind() on; chmod says it again. */
	mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(mask);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	ctl_fd = fd;
	snprintf(ctl_path, sizeof ctl_path, "%s", path);
	return 0;
}

static void client_close(int i)
{
	close(clients[i]->fd);
	free(clients[i]);
	clients[i] = NULL;
}

void control_close(void)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (clients[i])
			client_close(i);
	if (ctl_fd >= 0) {
		close(ctl_fd);
		unlink(ctl_path);
		ctl_fd = -1;
	}
}

int control_pollfds(struct pollfd *pfd, int max)
{
	int n = 0;

	if (ctl_fd < 0 || max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = ctl_fd, .events = POLLIN };
	for (int i = 0; i < CTL_MAX_CLIENTS && n < max; i++)
		if (clients[i])
			pfd[n++] = (struct pollfd){ .fd = clients[i]->fd,
						    .events = POLLIN };
	return n;
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd w = { .fd = fd, .events = POLLOUT };

				if (poll(&w, 1, 5000) > 0)
					continue;
			}
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static int run_line(int i, char *line)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	int quit;

	if (!f)
		return -1;
	quit = control_exec(line, f);
	fclose(f);
	send_all(clients[i]->fd, out, outlen);
	free(out);
	return quit;
}

void control_handle(struct pollfd *pfd, int n)
{
	for (int k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		if (pfd[k].fd == ctl_fd) {
			int fd = accept4(ctl_fd, NULL, NULL,
					 SOCK_CLOEXEC | SOCK_NONBLOCK);
			int i;

			if (fd < 0)
				continue;
			for (i = 0; i < CTL_MAX_CLIENTS && clients[i]; i++)
				;
			if (i == CTL_MAX_CLIENTS ||
			    !(clients[i] = calloc(1, sizeof *clients[i]))) {
				send_all(fd, "error: too many control clients\n",
					 32);
				close(fd);
				continue;
			}
			clients[i]->fd = fd;
			continue;
		}
		for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
			struct ctl_client *cl = clients[i];
			ssize_t r;
			char *nl;

			if (!cl || cl->fd != pfd[k].fd)
				continue;
			r = recv(cl->fd, cl->buf + cl->len,
				 sizeof cl->buf - 1 - cl->len, 0);
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				client_close(i);
				break;
			}
			cl->len += (size_t)r;
			cl->buf[cl->len] = '\0';
			while (clients[i] && (nl = strchr(cl->buf, '\n'))) {
				*nl = '\0';
				if (nl > cl->buf && nl[-1] == '\r')
					nl[-1] = '\0';
				if (run_line(i, cl->buf) > 0) {
					client_close(i);
					break;
				}
				cl->len -= (size_t)(nl + 1 - cl->buf);
				memmove(cl->buf, nl + 1, cl->len + 1);
			}
			if (clients[i] && cl->len == sizeof cl->buf - 1) {
				send_all(cl->fd, "error: line too long\n", 21);
				client_close(i);
			}
			break;
		}
	}
}

static const char help_text[] =
	"help                                  this text\n"
	"list                                  subsystems and namespaces\n"
	"subsys-add NQN                        a subsystem without namespaces\n"
	"subsys-remove NQN                     remove it (its hosts are disconnected)\n"
	"ns-add NQN NSID|auto SPEC [ro] [lba=512|4096]   add a namespace (FILE, ram:SIZE, null:SIZE)\n"
	"ns-remove NQN NSID                    remove a namespace\n"
	"ns-resize NQN NSID [SIZE]             new size (files: re-read if no SIZE)\n"
	"host-add SUBNQN HOSTNQN [dhchap-key=KEY [dhchap-ctrl-key=KEY]\n"
	"         [dhchap-hash=LIST] [dhchap-dhgroup=LIST]]\n"
	"                                      allow a host (then only listed hosts);\n"
	"                                      KEY: DHHC-1 secret or a 0600 file\n"
	"host-remove SUBNQN HOSTNQN            no longer allow it (its associations end)\n"
	"allow-any-host SUBNQN yes|no          any host, or only the listed ones\n"
	"hosts [SUBNQN]                        who may connect\n"
	"fault MODE[:ARG][@io|@admin|@all]     arm a fault\n"
	"fault off [MODE]                      disarm all faults, or one\n"
	"fault list                            armed faults\n"
	"stats                                 per-association counters, CPU per I/O\n"
	"busy-poll [USEC]                      I/O queues' busy-poll (0: off), or show it\n"
	"ana HOST:PORT GROUP STATE             a group's ANA state on a listener (optimized,\n"
	"                                      non-optimized, inaccessible, persistent-loss, change)\n"
	"ana                                   every listener's ANA states\n"
	"listener-remove HOST:PORT             close a listener, end its associations and\n"
	"                                      drop it from the discovery log\n"
	"tls-key-add HOSTNQN KEY               a host's TLS PSK (NVMeTLSkey-1:0H:...: or a\n"
	"                                      0600 file); replaces its key\n"
	"tls-key-remove HOSTNQN                forget it (its connections stay)\n"
	"tls-keys                              hosts with a TLS PSK\n"
	"reload                                re-read the -c configuration file\n"
	"quit                                  close this control connection\n";

static int ok(FILE *out)
{
	fputs("ok\n", out);
	return 0;
}

static int fail(FILE *out, const char *msg)
{
	fprintf(out, "error: %s\n", msg);
	return 0;
}

static struct tgt_subsys *need_subsys(const char *nqn, FILE *out)
{
	struct tgt_subsys *s = nqn ? subsys_get(nqn) : NULL;
	char e[300];

	if (!s || s->discovery) {
		snprintf(e, sizeof e, "no subsystem %s", nqn ? nqn : "(none given)");
		fail(out, e);
		if (s)
			subsys_put(s);
		return NULL;
	}
	return s;
}

static int parse_nsid(const char *s, uint32_t *nsid)
{
	char *end;
	unsigned long v;

	if (!s)
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > TGT_MAX_NSID)
		return -1;
	*nsid = (uint32_t)v;
	return 0;
}

/* The line as logged: a secret's value (dhchap-key=, dhchap-ctrl-key=)
 * never reaches the log. */
static void redact(const char *line, char *out, size_t len)
{
	size_t o = 0;

	while (*line && o + 1 < len) {
		if (!strncmp(line, "NVMeTLSkey-", 11)) {
			int k = snprintf(out + o, len - o, "(secret)");

			o = k < 0 || (size_t)k >= len - o ? len - 1 : o + (size_t)k;
			line += strcspn(line, " \t");
			continue;
		}
		if (!strncmp(line, "dhchap-key=", 11) ||
		    !strncmp(line, "dhchap-ctrl-key=", 16)) {
			const char *eq = strchr(line, '=');
			int k = snprintf(out + o, len - o, "%.*s=(secret)",
					 (int)(eq - line), line);

			o = k < 0 || (size_t)k >= len - o ? len - 1 : o + (size_t)k;
			line = eq + strcspn(eq, " \t");
			continue;
		}
		out[o++] = *line++;
	}
	out[o] = 0;
}

/* Run one command line; output to out.  Returns 1 for "quit". */
int control_exec(const char *line, FILE *out)
{
	char buf[CTL_LINE], e[700];
	char *w[8] = { 0 }, *save = NULL;
	int n = 0;
	struct tgt_subsys *s;
	uint32_t nsid;

	snprintf(buf, sizeof buf, "%s", line);
	for (char *t = strtok_r(buf, " \t", &save); t && n < 8;
	     t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n == 0)
		return 0; /* empty line: nothing, not even "ok" */
	redact(line, e, sizeof e);
	infox("control: %s", e);

	if (!strcmp(w[0], "help")) {
		fputs(help_text, out);
		return ok(out);
	}
	if (!strcmp(w[0], "quit")) {
		ok(out);
		return 1;
	}
	if (!strcmp(w[0], "list")) {
		subsys_list(out);
		return ok(out);
	}
	if (!strcmp(w[0], "stats")) {
		stats_print(out);
		return ok(out);
	}
	if (!strcmp(w[0], "reload")) {
		if (tgt_reload(e, sizeof e) < 0)
			return fail(out, e);
		return ok(out);
	}
	if (!strcmp(w[0], "subsys-add")) {
		if (n != 2)
			return fail(out, "usage: subsys-add NQN");
		if (!subsys_new(w[1], ORIGIN_CONTROL, e, sizeof e))
			return fail(out, e);
		ns_changed(NULL, 0);
		return ok(out);
	}
	if (!strcmp(w[0], "subsys-remove")) {
		if (n != 2)
			return fail(out, "usage: subsys-remove NQN");
		if (subsys_remove(w[1], e, sizeof e) < 0)
			return fail(out, e);
		return ok(out);
	}
	if (!strcmp(w[0], "ns-add")) {
		struct ns_spec spec;
		uint32_t got;

		if (n < 4)
			return fail(out,
				    "usage: ns-add NQN NSID|auto SPEC [ro] [lba=512|4096]");
		if (ns_spec_parse(w[3], false, &spec, e, sizeof e) < 0)
			return fail(out, e);
		for (int i = 4; i < n; i++)
			if (ns_spec_option(w[i], &spec) < 0 || spec.nsid) {
				snprintf(e, sizeof e,
					 "unknown namespace option '%s' (ro, rw, lba=512|4096, ana=1..32)",
					 w[i]);
				return fail(out, e);
			}
		if (strcmp(w[2], "auto") && parse_nsid(w[2], &spec.nsid) < 0)
			return fail(out, "NSID: 1..1024 or auto");
		s = subsys_get(w[1]);
		if (!s) {
			/* a subsystem of its own for the namespace */
			s = subsys_new(w[1], ORIGIN_CONTROL, e, sizeof e);
			if (!s)
				return fail(out, e);
			atomic_fetch_add(&s->refs, 1);
		} else if (s->discovery) {
			subsys_put(s);
			return fail(out, "the discovery subsystem has no namespaces");
		}
		if (subsys_ns_add(s, &spec, &got, e, sizeof e) < 0) {
			subsys_put(s);
			return fail(out, e);
		}
		subsys_put(s);
		fprintf(out, "nsid %u\n", got);
		return ok(out);
	}
	if (!strcmp(w[0], "ns-remove") || !strcmp(w[0], "ns-resize")) {
		bool resize = !strcmp(w[0], "ns-resize");
		int rc;

		if (n < 3 || n > (resize ? 4 : 3) || parse_nsid(w[2], &nsid) < 0)
			return fail(out, resize ?
					 "usage: ns-resize NQN NSID [SIZE]" :
					 "usage: ns-remove NQN NSID");
		if (!(s = need_subsys(w[1], out)))
			return 0;
		if (resize) {
			struct tgt_ns *ns = subsys_ns_get(s, nsid);
			uint64_t size = 0;

			if (!ns) {
				snprintf(e, sizeof e, "%s has no namespace %u",
					 s->nqn, nsid);
				subsys_put(s);
				return fail(out, e);
			}
			if (n == 4 && parse_size(w[3], &size) < 0) {
				ns_put(ns);
				subsys_put(s);
				return fail(out, "bad SIZE (a number with an optional K, M, G or T suffix)");
			}
			rc = ns_resize(ns, size, e, sizeof e);
			ns_put(ns);
			if (rc == 0)
				ns_changed(s, nsid);
		} else {
			rc = subsys_ns_remove(s, nsid, e, sizeof e);
		}
		subsys_put(s);
		return rc < 0 ? fail(out, e) : ok(out);
	}
	if (!strcmp(w[0], "host-add") || !strcmp(w[0], "host-remove")) {
		bool add = w[0][5] == 'a';
		int rc;

		if (n < 3 || (!add && n != 3))
			return fail(out, add ?
					 "usage: host-add SUBNQN HOSTNQN" :
					 "usage: host-remove SUBNQN HOSTNQN");
		struct tgt_host_auth auth = { 0 };

		for (int i = 3; i < n; i++) {
			/* HOSTNQN dhchap-key=KEY ...: the host's secrets */
			if (host_auth_opt(&auth, w[i], e, sizeof e) < 0) {
				host_auth_wipe(&auth);
				return fail(out, e);
			}
		}
		if (!(s = need_subsys(w[1], out))) {
			host_auth_wipe(&auth);
			return 0;
		}
		rc = add ? host_add(s, w[2], &auth, e, sizeof e) :
			   host_remove(s, w[2], e, sizeof e);
		host_auth_wipe(&auth);
		subsys_put(s);
		return rc < 0 ? fail(out, e) : ok(out);
	}
	if (!strcmp(w[0], "tls-key-add")) {
		if (n != 3)
			return fail(out, "usage: tls-key-add HOSTNQN KEY");
		return tgt_tls_key_value(w[1], w[2], ORIGIN_CONTROL, e, sizeof e) < 0 ?
			       fail(out, e) : ok(out);
	}
	if (!strcmp(w[0], "tls-key-remove")) {
		if (n != 2)
			return fail(out, "usage: tls-key-remove HOSTNQN");
		return tgt_tls_key_remove(w[1], e, sizeof e) < 0 ? fail(out, e) :
								    ok(out);
	}
	if (!strcmp(w[0], "tls-keys")) {
		tgt_tls_key_list(out);
		return ok(out);
	}
	if (!strcmp(w[0], "allow-any-host")) {
		bool any;

		if (n != 3 || (strcmp(w[2], "yes") && strcmp(w[2], "no")))
			return fail(out, "usage: allow-any-host SUBNQN yes|no");
		any = !strcmp(w[2], "yes");
		if (!(s = need_subsys(w[1], out)))
			return 0;
		host_allow_any(s, any);
		subsys_put(s);
		return ok(out);
	}
	if (!strcmp(w[0], "hosts")) {
		if (n > 2)
			return fail(out, "usage: hosts [SUBNQN]");
		if (n == 2) {
			if (!(s = need_subsys(w[1], out)))
				return 0;
			host_list(s, out);
			subsys_put(s);
			return ok(out);
		}
		pthread_mutex_lock(&g.lock);
		for (s = g.subsystems; s; s = s->next)
			host_list(s, out);
		pthread_mutex_unlock(&g.lock);
		return ok(out);
	}
	if (!strcmp(w[0], "fault")) {
		if (n == 2 && !strcmp(w[1], "list")) {
			fault_describe(e, sizeof e);
			fprintf(out, "%s\n", e);
			return ok(out);
		}
		if (n >= 2 && n <= 3 && !strcmp(w[1], "off")) {
			if (fault_remove(n == 3 ? w[2] : NULL, e, sizeof e) < 0)
				return fail(out, e);
			return ok(out);
		}
		if (n != 2)
			return fail(out,
				    "usage: fault MODE[:ARG][@io|@admin|@all][@HOST:PORT] | fault off [MODE] | fault list");
		if (fault_add(w[1], e, sizeof e) < 0)
			return fail(out, e);
		return ok(out);
	}
	if (!strcmp(w[0], "busy-poll")) {
		char *end;
		unsigned long us;

		if (n == 1) {
			fprintf(out, "busy-poll %u\n", busy_poll_us());
			return ok(out);
		}
		errno = 0;
		us = strtoul(w[1], &end, 10);
		if (n != 2 || errno || end == w[1] || *end || w[1][0] == '-' ||
		    us > 1000000)
			return fail(out, "usage: busy-poll [USEC], 0 to 1000000");
		__atomic_store_n(&opts.busy_poll_us, (uint32_t)us, __ATOMIC_RELAXED);
		return ok(out);
	}
	if (!strcmp(w[0], "ana")) {
		struct tgt_listener *l;
		char *end;
		unsigned long grp;
		uint8_t st;

		if (n == 1) {
			ana_list(out);
			return ok(out);
		}
		if (n != 4)
			return fail(out,
				    "usage: ana HOST:PORT GROUP optimized|non-optimized|inaccessible|persistent-loss|change");
		l = ana_listener_find(w[1]);
		if (!l) {
			snprintf(e, sizeof e,
				 "no listener %s (HOST:PORT as given to -l or as bound)",
				 w[1]);
			return fail(out, e);
		}
		errno = 0;
		grp = strtoul(w[2], &end, 10);
		if (errno || end == w[2] || *end || w[2][0] == '-' || grp == 0 ||
		    grp > TGT_ANA_GROUPS) {
			snprintf(e, sizeof e, "ANA group '%s': 1..%u", w[2],
				 TGT_ANA_GROUPS);
			return fail(out, e);
		}
		st = ana_state_parse(w[3]);
		if (!st) {
			snprintf(e, sizeof e,
				 "ANA state '%s': optimized, non-optimized, inaccessible, persistent-loss or change",
				 w[3]);
			return fail(out, e);
		}
		if (ana_set(l, (uint32_t)grp, st, e, sizeof e) < 0)
			return fail(out, e);
		return ok(out);
	}
	if (!strcmp(w[0], "listener-remove")) {
		if (n != 2)
			return fail(out, "usage: listener-remove HOST:PORT");
		if (listener_remove(w[1], e, sizeof e) < 0)
			return fail(out, e);
		return ok(out);
	}
	snprintf(e, sizeof e, "unknown command '%s' (try help)", w[0]);
	return fail(out, e);
}

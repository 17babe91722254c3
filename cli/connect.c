/* SPDX-License-Identifier: MIT */
/*
 * nvme-cli's fabrics commands on top of nvmeof-mount: connect (mount one
 * subsystem), connect-all (every NVM subsystem a discovery controller
 * lists; without an address, the controllers of discovery.conf),
 * list-subsys (the local fuse.nvmeof mounts), and nvme-cli's
 * /etc/nvme/config.json (json-c) for the host identity and per-subsystem
 * options.
 *
 * Every path can be moved for tests: NVMEOF_ETC_DIR (config.json,
 * discovery.conf, as for hostnqn), NVMEOF_CONFIG_JSON (config.json, or
 * "none"), NVMEOF_RUN_DIR (the mount base),
 * NVMEOF_MOUNT (the nvmeof-mount program), and the options --config,
 * --discovery-conf, --base, --mountpoint.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "paths.h"

#define SUBTYPE_NVME 2
#define TRTYPE_TCP 3

static const char *etc_path(const char *name, char *buf, size_t n)
{
	const char *d = getenv("NVMEOF_ETC_DIR");

	snprintf(buf, n, "%s/%s", d && *d ? d : "/etc/nvme", name);
	return buf;
}

/* ---- config.json ------------------------------------------------------------ */

/* What config.json says; strings live here until exit. */
static struct {
	char hostnqn[NVMEOF_NQN_MAX + 1];
	char hostid[64];
	char host_traddr[256];
	char host_iface[64];
	char file[PATH_MAX];     /* the file read, for connect-all's subsystems */
	char *dhchap_key, *dhchap_ctrl_key;
	bool cli_key, cli_ctrl_key;  /* the command line gave them */
} cfg;

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool jint(struct json_object *o, const char *key, int *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int(v);
	return true;
}

static bool jbool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* A port of c's subsystem at c's address: its options, where the command
 * line gave none (nvme-cli's precedence). */
static void apply_port(struct cli *c, struct json_object *port)
{
	const char *s;
	int v;

	if ((s = jstr(port, "transport")) && strcmp(s, "tcp"))
		return;
	if ((s = jstr(port, "traddr")) && strcmp(s, c->host))
		return;
	if ((s = jstr(port, "trsvcid")) && c->port_given && strcmp(s, c->port))
		return;
	if (!c->host_traddr && (s = jstr(port, "host_traddr"))) {
		snprintf(cfg.host_traddr, sizeof cfg.host_traddr, "%s", s);
		c->host_traddr = cfg.host_traddr;
	}
	if (!c->host_iface && (s = jstr(port, "host_iface"))) {
		snprintf(cfg.host_iface, sizeof cfg.host_iface, "%s", s);
		c->host_iface = cfg.host_iface;
	}
	if (jbool(port, "hdr_digest"))
		c->hdgst = true;
	if (jbool(port, "data_digest"))
		c->ddgst = true;
	if (!c->kato_set && jint(port, "keep_alive_tmo", &v) && v >= 0 && v <= 65535) {
		c->kato_s = (uint32_t)v;
		c->kato_set = true;
	}
	if (!c->clt_set && jint(port, "ctrl_loss_tmo", &v) && v >= -1) {
		c->ctrl_loss_tmo = v;
		c->clt_set = true;
	}
	if (!c->rd_set && jint(port, "reconnect_delay", &v) && v > 0) {
		c->reconnect_delay = v;
		c->rd_set = true;
	}
	if (!c->fift_set && jint(port, "fast_io_fail_tmo", &v) && v >= -1) {
		c->fast_io_fail_tmo = v;
		c->fift_set = true;
	}
}

/* Does port (of a config.json subsystem) describe traddr:trsvcid over TCP?
 * trsvcid NULL: any. */
static bool port_matches(struct json_object *port, const char *traddr, const char *trsvcid)
{
	const char *s;

	if ((s = jstr(port, "transport")) && strcmp(s, "tcp"))
		return false;
	if ((s = jstr(port, "traddr")) && (!traddr || strcmp(s, traddr)))
		return false;
	if ((s = jstr(port, "trsvcid")) && trsvcid && strcmp(s, trsvcid))
		return false;
	return true;
}

/* *dst = a copy of v (NULL: none), the old secret wiped. */
static void set_key(char **dst, const char *v)
{
	if (*dst) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = v ? strdup(v) : NULL;
}

/* The DH-HMAC-CHAP secrets config.json gives hostnqn for subnqn at
 * traddr:trsvcid, the most specific first (libnvme's schema): the host
 * key of the port, else of the subsystem, else of the host; the
 * controller key of the port.  Into cfg.dhchap_key, cfg.dhchap_ctrl_key
 * (NULL: none). */
static void config_keys(struct json_object *root, const char *hostnqn, const char *subnqn,
			const char *traddr, const char *trsvcid)
{
	const char *hk = NULL, *sk = NULL, *pk = NULL, *pck = NULL, *s;
	size_t i, j, k;

	for (i = 0; i < json_object_array_length(root); i++) {
		struct json_object *host = json_object_array_get_idx(root, i), *subs;

		if (!json_object_is_type(host, json_type_object))
			continue;
		/* a secret is the host NQN's: only that host's entries */
		if ((s = jstr(host, "hostnqn")) && (!hostnqn || strcmp(s, hostnqn)))
			continue;
		if (!hk)
			hk = jstr(host, "dhchap_key");
		if (!subnqn || !json_object_object_get_ex(host, "subsystems", &subs) ||
		    !json_object_is_type(subs, json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(subs); j++) {
			struct json_object *sub = json_object_array_get_idx(subs, j), *ports;

			if (!json_object_is_type(sub, json_type_object) ||
			    !(s = jstr(sub, "nqn")) || strcmp(s, subnqn))
				continue;
			if (!sk)
				sk = jstr(sub, "dhchap_key");
			if (!json_object_object_get_ex(sub, "ports", &ports) ||
			    !json_object_is_type(ports, json_type_array))
				continue;
			for (k = 0; k < json_object_array_length(ports); k++) {
				struct json_object *p = json_object_array_get_idx(ports, k);

				if (!json_object_is_type(p, json_type_object) ||
				    !port_matches(p, traddr, trsvcid))
					continue;
				if (!pk)
					pk = jstr(p, "dhchap_key");
				if (!pck)
					pck = jstr(p, "dhchap_ctrl_key");
			}
		}
	}
	s = pk ? pk : sk ? sk : hk;
	set_key(&cfg.dhchap_key, s && *s ? s : NULL);
	set_key(&cfg.dhchap_ctrl_key, pck && *pck ? pck : NULL);
}

/* For connect-all: the secrets config.json gives a discovered subsystem,
 * where the command line gave none.  *host and *ctrl are left as they
 * are when the command line gave them. */
static void config_keys_for(struct cli *c, const char *subnqn, const char *traddr,
			    const char *trsvcid, const char **host, const char **ctrl)
{
	struct json_object *root;

	if (!cfg.file[0] || (*host && *ctrl))
		return;
	root = json_object_from_file(cfg.file);
	if (!root)
		return; /* read once already: it was valid then */
	if (json_object_is_type(root, json_type_array)) {
		config_keys(root, c->hostnqn, subnqn, traddr, trsvcid);
		if (!*host)
			*host = cfg.dhchap_key;
		if (!*ctrl)
			*ctrl = cfg.dhchap_ctrl_key;
	}
	json_object_put(root);
}

int cli_config_defaults(struct cli *c)
{
	char path[PATH_MAX];
	struct json_object *root, *host, *subs;
	const char *file = c->config_file;
	bool given;
	const char *s;
	size_t i, j, k;

	if (!file && (s = getenv("NVMEOF_CONFIG_JSON")) && *s)
		file = s;
	given = file != NULL;
	if (given && !strcmp(file, "none"))
		return 0;
	if (!file)
		file = etc_path("config.json", path, sizeof path);
	if (access(file, F_OK) != 0) {
		if (!given)
			return 0;
		cli_err(c, "%s: %s", file, strerror(errno));
		return EXIT_CONFIG;
	}
	root = json_object_from_file(file);
	if (!root) {
		cli_err(c, "%s: not valid JSON: %s", file, json_util_get_last_err());
		return EXIT_CONFIG;
	}
	/* nvme-cli's layout: an array of hosts, each with its subsystems. */
	if (!json_object_is_type(root, json_type_array)) {
		cli_err(c, "%s: expected an array of hosts (nvme-cli's config.json)", file);
		json_object_put(root);
		return EXIT_CONFIG;
	}
	for (i = 0; i < json_object_array_length(root); i++) {
		host = json_object_array_get_idx(root, i);
		if (!json_object_is_type(host, json_type_object))
			continue;
		if (!c->hostnqn && (s = jstr(host, "hostnqn"))) {
			if (nvmeof_nqn_validate(s) < 0) {
				cli_err(c, "%s: hostnqn: %s", file, nvmeof_get_error());
				json_object_put(root);
				return EXIT_CONFIG;
			}
			snprintf(cfg.hostnqn, sizeof cfg.hostnqn, "%s", s);
			c->hostnqn = cfg.hostnqn;
		}
		if (!c->hostid && (s = jstr(host, "hostid"))) {
			snprintf(cfg.hostid, sizeof cfg.hostid, "%s", s);
			c->hostid = cfg.hostid;
		}
		if (!c->subnqn || !json_object_object_get_ex(host, "subsystems", &subs) ||
		    !json_object_is_type(subs, json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(subs); j++) {
			struct json_object *sub = json_object_array_get_idx(subs, j), *ports;

			if (!json_object_is_type(sub, json_type_object) ||
			    !(s = jstr(sub, "nqn")) || strcmp(s, c->subnqn) ||
			    !json_object_object_get_ex(sub, "ports", &ports) ||
			    !json_object_is_type(ports, json_type_array))
				continue;
			for (k = 0; k < json_object_array_length(ports); k++) {
				struct json_object *p = json_object_array_get_idx(ports, k);

				if (json_object_is_type(p, json_type_object))
					apply_port(c, p);
			}
		}
	}
	snprintf(cfg.file, sizeof cfg.file, "%s", file);
	cfg.cli_key = c->dhchap_secret != NULL;
	cfg.cli_ctrl_key = c->dhchap_ctrl_secret != NULL;
	if (!c->dhchap_secret || !c->dhchap_ctrl_secret) {
		config_keys(root, c->hostnqn, c->subnqn, c->host,
			    c->port_given ? c->port : NULL);
		if (!c->dhchap_secret)
			c->dhchap_secret = cfg.dhchap_key;
		if (!c->dhchap_ctrl_secret)
			c->dhchap_ctrl_secret = cfg.dhchap_ctrl_key;
	}
	json_object_put(root);
	return 0;
}

/* ---- connect ------------------------------------------------------------------ */

/* The mount point for a subsystem: BASE/NQN with ':' and '/' made '-',
 * so that tools that read ':' as a protocol (qemu-img) take the path. */
static void mount_dir(struct cli *c, const char *subnqn, char *out, size_t n)
{
	const char *base = c->base_dir;
	size_t i, o;

	if (!base)
		base = getenv("NVMEOF_RUN_DIR");
	if (!base || !*base)
		base = "/run/nvmeof";
	o = (size_t)snprintf(out, n, "%s/", base);
	for (i = 0; subnqn[i] && o + 1 < n; i++)
		out[o++] = subnqn[i] == ':' || subnqn[i] == '/' ? '-' : subnqn[i];
	out[o < n ? o : n - 1] = '\0';
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t i;

	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	for (i = 1; tmp[i]; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		tmp[i] = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* nvmeof-mount: $NVMEOF_MOUNT, else beside this program, else $PATH. */
static const char *mount_prog(char *buf, size_t n)
{
	const char *e = getenv("NVMEOF_MOUNT");
	ssize_t len;
	char *slash;

	if (e && *e)
		return e;
	len = readlink("/proc/self/exe", buf, n - 1);
	if (len > 0) {
		buf[len] = '\0';
		slash = strrchr(buf, '/');
		if (slash && (size_t)(slash - buf) + sizeof "/nvmeof-mount" <= n) {
			strcpy(slash, "/nvmeof-mount");
			if (access(buf, X_OK) == 0)
				return buf;
			/* a libtool build: cli/.libs/lt-nvmeof -> fuse/nvmeof-mount */
		}
	}
	return "nvmeof-mount";
}

/* Is dir a fuse.nvmeof mount point now (/proc/self/mountinfo)? */
static bool is_our_mount(const char *dir)
{
	char line[8192], real[PATH_MAX];
	bool found = false;
	FILE *f;

	if (!realpath(dir, real))
		return false;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof line, f)) {
		char mnt[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		found = !strcmp(fstype, "fuse.nvmeof") && !strcmp(mnt, real);
	}
	fclose(f);
	return found;
}

/* ---- secrets for nvmeof-mount -------------------------------------------------- */

/* Where a DHHC-1 secret given as a string waits for nvmeof-mount, which
 * reads it at every association (reconnects too): a 0600 file in
 * RUN/.dhchap (0700), RUN being $NVMEOF_RUN_DIR or /run/nvmeof, named
 * after the mount point ('%' and '/' escaped) and kind ("host", "ctrl").
 * nvmeof disconnect removes it. */
int cli_secret_path(const char *mnt, const char *kind, char *out, size_t n)
{
	const char *run = getenv("NVMEOF_RUN_DIR");
	size_t o, start, i;
	int w;

	if (!run || !*run)
		run = "/run/nvmeof";
	w = snprintf(out, n, "%s/.dhchap/", run);
	if (w < 0 || (size_t)w >= n)
		return -ENAMETOOLONG;
	o = start = (size_t)w;
	for (i = 0; mnt[i]; i++) {
		const char *rep = mnt[i] == '/' ? "%2F" : mnt[i] == '%' ? "%25" : NULL;

		if (o + 4 >= n)
			return -ENAMETOOLONG;
		if (rep) {
			memcpy(out + o, rep, 3);
			o += 3;
		} else {
			out[o++] = mnt[i];
		}
	}
	w = snprintf(out + o, n - o, ".%s", kind);
	if (w < 0 || (size_t)w >= n - o || strlen(out + start) > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

void cli_secret_remove(const char *mnt)
{
	char path[PATH_MAX];

	if (cli_secret_path(mnt, "host", path, sizeof path) == 0)
		unlink(path);
	if (cli_secret_path(mnt, "ctrl", path, sizeof path) == 0)
		unlink(path);
	if (cli_secret_path(mnt, "tls", path, sizeof path) == 0)
		unlink(path);
}

/* Write secret to path (its directory made 0700, ours), atomically: a
 * running mount may read the old one at a reconnect meanwhile. */
static int write_secret(struct cli *c, const char *path, const char *secret)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 8];
	struct stat st;
	size_t len = strlen(secret);
	char *slash;
	int fd, e;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		cli_err(c, "%s: not a path in a directory", path);
		return EXIT_USAGE;
	}
	*slash = '\0';
	e = mkdir_p(dir);
	if (e == 0 && lstat(dir, &st) < 0)
		e = -errno;
	if (e < 0) {
		cli_err(c, "%s: %s", dir, strerror(-e));
		return EXIT_IOERR;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		cli_err(c, "%s: not a directory of this user: secrets are not written there", dir);
		return EXIT_IOERR;
	}
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0) {
		cli_err(c, "%s: chmod 0700: %s", dir, strerror(errno));
		return EXIT_IOERR;
	}
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		cli_err(c, "%s: %s", tmp, strerror(errno));
		return EXIT_IOERR;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, secret, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || close(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		cli_err(c, "%s: %s", tmp, strerror(e));
		return EXIT_IOERR;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		cli_err(c, "%s: %s", path, strerror(e));
		return EXIT_IOERR;
	}
	return 0;
}

/* The -o option naming the secret files of value (a DHHC-1 string: a
 * file of ours for the mount point mnt; else a file's path, made
 * absolute), appended to opt.  The secret itself never goes on
 * nvmeof-mount's command line, which ps shows. */
static int secret_opt(struct cli *c, const char *value, const char *mnt, const char *kind,
		      const char *key, char *opt, size_t n, bool *wrote)
{
	char path[PATH_MAX];
	size_t o = strlen(opt);
	int rc;

	*wrote = false;
	if (!value)
		return 0;
	if (!strncmp(value, "DHHC-1:", 7) || !strncmp(value, "NVMeTLSkey-1:", 13)) {
		rc = cli_secret_path(mnt, kind, path, sizeof path);
		if (rc < 0) {
			cli_err(c, "%s: the mount point's path is too long for a secret file name", mnt);
			return EXIT_USAGE;
		}
		if (!c->dry_run) {
			rc = write_secret(c, path, value);
			if (rc)
				return rc;
			*wrote = true;
		}
	} else {
		char *r = realpath(value, NULL);

		if (!r) {
			if (!strcmp(kind, "tls"))
				cli_err(c, "%s: %s", value, strerror(errno));
			else
				cli_err(c, "--%s %s: %s (neither a DHHC-1 secret nor a file)",
					!strcmp(kind, "host") ? "dhchap-secret" :
					"dhchap-ctrl-secret", value, strerror(errno));
			return EXIT_USAGE;
		}
		snprintf(path, sizeof path, "%s", r);
		free(r);
	}
	if (strchr(path, ',')) {
		cli_err(c, "%s: a secret file's path may not hold ',' (nvmeof-mount's -o)", path);
		return EXIT_USAGE;
	}
	if ((size_t)snprintf(opt + o, n - o, "%s%s=%s", o ? "," : "", key, path) >= n - o) {
		cli_err(c, "%s: path too long", path);
		return EXIT_USAGE;
	}
	return 0;
}

/* -o tls and the key's file (a file of ours for a key given as a
 * string), appended to opt. */
static int tls_opt(struct cli *c, const char *mnt, char *opt, size_t n, bool *wrote)
{
	size_t o;
	int rc;

	o = strlen(opt);
	if ((size_t)snprintf(opt + o, n - o, "%stls", o ? "," : "") >= n - o)
		return EXIT_USAGE;
	if (c->tls_psk_file)
		rc = secret_opt(c, c->tls_psk_file, mnt, "tls", "tls_psk_file", opt, n, wrote);
	else
		rc = secret_opt(c, c->tls_key ? c->tls_key : c->tls_key_file, mnt, "tls",
				"tls_key_file", opt, n, wrote);
	if (rc)
		return rc;
	o = strlen(opt);
	if (c->tls_psk_derivation)
		snprintf(opt + o, n - o, ",tls_psk_derivation=%s",
			 c->tls_psk_derivation == NVMEOF_TLS_DERIVE_RFC ? "rfc" : "compat");
	o = strlen(opt);
	if (c->tls_identity)
		snprintf(opt + o, n - o, ",tls_identity=%u", c->tls_identity);
	return 0;
}

static void field(const char *file, const char *key, char *out, size_t n);

/* The TLS lines of a new mount's status file, on one line. */
static void print_tls(const char *dir)
{
	static const char *const keys[] = { "tls", "tls_cipher", "tls_identity",
					    "tls_derivation", "tls_records", "tls_handshake" };
	char f[PATH_MAX + 16], v[600];

	snprintf(f, sizeof f, "%s/status", dir);
	printf("%s: TLS", dir);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		field(f, keys[i], v, sizeof v);
		if (v[0])
			printf(" %s=%s", keys[i] + (i ? 4 : 0), v);
	}
	putchar('\n');
}

#define MAX_ARGS 48

/* Mount subnqn at traddr:trsvcid on dir with nvmeof-mount: 0 or an exit
 * code (message said). */
static int do_mount(struct cli *c, const char *traddr, const char *trsvcid,
		    const char *subnqn, const char *dir, bool tls)
{
	char prog[PATH_MAX], addr[320], kato[16], clt[16], rd[16], fift[16];
	char real[PATH_MAX], secrets[3 * PATH_MAX + 128];
	const char *argv[MAX_ARGS];
	struct stat sb;
	bool made, wrote_h = false, wrote_c = false, wrote_t = false;
	int n = 0, st, i;
	pid_t pid;

	argv[n++] = mount_prog(prog, sizeof prog);
	argv[n++] = "-n";
	argv[n++] = subnqn;
	if (c->hostnqn) {
		argv[n++] = "--hostnqn";
		argv[n++] = c->hostnqn;
	}
	if (c->hostid) {
		argv[n++] = "--hostid";
		argv[n++] = c->hostid;
	}
	if (c->host_traddr) {
		argv[n++] = "--host-traddr";
		argv[n++] = c->host_traddr;
	}
	if (c->host_iface) {
		argv[n++] = "--host-iface";
		argv[n++] = c->host_iface;
	}
	if (c->kato_set) {
		snprintf(kato, sizeof kato, "%u", c->kato_s);
		argv[n++] = "--keep-alive-tmo";
		argv[n++] = kato;
	}
	/* A mount is meant to last: nvmeof-mount's reconnect defaults
	 * (ctrl-loss-tmo 600 s) unless asked otherwise. */
	if (c->clt_set) {
		snprintf(clt, sizeof clt, "%d", c->ctrl_loss_tmo);
		argv[n++] = "--ctrl-loss-tmo";
		argv[n++] = clt;
	}
	if (c->rd_set) {
		snprintf(rd, sizeof rd, "%d", c->reconnect_delay);
		argv[n++] = "--reconnect-delay";
		argv[n++] = rd;
	}
	if (c->fift_set) {
		snprintf(fift, sizeof fift, "%d", c->fast_io_fail_tmo);
		argv[n++] = "--fast-io-fail-tmo";
		argv[n++] = fift;
	}
	if (c->hdgst)
		argv[n++] = "--hdr-digest";
	if (c->ddgst)
		argv[n++] = "--data-digest";
	snprintf(addr, sizeof addr, strchr(traddr, ':') ? "[%s]:%s" : "%s:%s", traddr,
		 trsvcid && *trsvcid ? trsvcid : "4420");

	if (!c->dry_run && is_our_mount(dir)) {
		/* as a second nvme connect would fail, but idempotent for scripts */
		printf("%s: already connected (a fuse.nvmeof mount)\n", dir);
		return 0;
	}
	made = stat(dir, &sb) != 0;
	if (!c->dry_run) {
		int e = mkdir_p(dir);

		if (e < 0) {
			cli_err(c, "%s: %s", dir, strerror(-e));
			return EXIT_IOERR;
		}
	}
	if (c->dhchap_secret || c->dhchap_ctrl_secret || tls) {
		/* the files are named after the mount point as disconnect sees it */
		char *r = realpath(dir, NULL);
		int rc;

		snprintf(real, sizeof real, "%s", r ? r : dir);
		free(r);
		secrets[0] = '\0';
		rc = secret_opt(c, c->dhchap_secret, real, "host", "dhchap_secret_file",
				secrets, sizeof secrets, &wrote_h);
		if (!rc)
			rc = secret_opt(c, c->dhchap_ctrl_secret, real, "ctrl",
					"dhchap_ctrl_secret_file", secrets, sizeof secrets, &wrote_c);
		if (!rc && tls)
			rc = tls_opt(c, real, secrets, sizeof secrets, &wrote_t);
		if (rc) {
			if (wrote_h || wrote_c || wrote_t)
				cli_secret_remove(real);
			if (made && !c->dry_run)
				rmdir(dir);
			return rc;
		}
		argv[n++] = "-o";
		argv[n++] = secrets;
	}
	argv[n++] = addr;
	argv[n++] = dir;
	argv[n] = NULL;

	if (c->dry_run) {
		for (i = 0; i < n; i++)
			printf("%s%s", i ? " " : "", argv[i]);
		putchar('\n');
		return 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		cli_err(c, "fork: %s", strerror(errno));
		return EXIT_OSERR;
	}
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "nvmeof: %s: %s: %s\n", c->cmd->name, argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			cli_err(c, "waitpid: %s", strerror(errno));
			return EXIT_OSERR;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

		/* nvmeof-mount said why on stderr; its sysexits code is ours */
		cli_err(c, "nvmeof-mount of %s at %s failed (exit %d)", subnqn, dir, code);
		if (wrote_h || wrote_c || wrote_t)
			cli_secret_remove(real);
		if (made)
			rmdir(dir); /* the mount point we made, still empty */
		return code == 127 ? EXIT_UNAVAILABLE : code >= 64 && code <= 78 ? code : EXIT_IOERR;
	}
	printf("%s: connected %s at %s\n", dir, subnqn, addr);
	if (tls)
		print_tls(dir);
	return 0;
}

int cmd_connect(struct cli *c)
{
	char dir[PATH_MAX];

	if (!c->subnqn)
		return cli_usage_error(c, "-n/--nqn is required");
	if (c->mountpoint)
		snprintf(dir, sizeof dir, "%s", c->mountpoint);
	else
		mount_dir(c, c->subnqn, dir, sizeof dir);
	return do_mount(c, c->host, c->port_given ? c->port : "4420", c->subnqn, dir, c->tls);
}

/* ---- connect-all ------------------------------------------------------------- */

/* Connect every NVM subsystem of the discovery log of c's address. */
static int connect_log(struct cli *c, unsigned *count)
{
	struct nvmeof_disc_log *log;
	struct nvmeof_ctrl *ctrl;
	const char *ctrl_secret = c->dhchap_ctrl_secret;
	int rc, r;
	uint64_t i;

	/* The controller secret is the subsystems' to prove: discovery
	 * controllers rarely authenticate (Linux nvmet's never does), and
	 * the host secret is still offered when asked for. */
	c->dhchap_ctrl_secret = NULL;
	c->disc_tls_fallback = true;
	rc = cli_connect(c, NULL, NULL, NULL, 0, 0, &ctrl);
	c->disc_tls_fallback = false;
	c->dhchap_ctrl_secret = ctrl_secret;
	if (rc)
		return rc;
	if (nvmeof_discover(ctrl, &log) < 0) {
		rc = cli_fail(c, "reading the discovery log");
		cli_disconnect(ctrl);
		return rc;
	}
	cli_disconnect(ctrl);
	c->connected = false;
	for (i = 0; i < log->numrec; i++) {
		const struct nvmeof_disc_entry *e = &log->entries[i];
		char dir[PATH_MAX];
		int tls;

		if (e->subtype != SUBTYPE_NVME || e->trtype != TRTYPE_TCP)
			continue;
		mount_dir(c, e->subnqn, dir, sizeof dir);
		if (!c->dry_run && is_our_mount(dir)) {
			printf("%s: %s already connected\n", dir, e->subnqn);
			continue;
		}
		if (cfg.file[0]) {
			/* config.json's secrets for this subsystem and port */
			const char *h = cfg.cli_key ? c->dhchap_secret : NULL;
			const char *k = cfg.cli_ctrl_key ? ctrl_secret : NULL;

			config_keys_for(c, e->subnqn, e->traddr, e->trsvcid, &h, &k);
			c->dhchap_secret = h;
			c->dhchap_ctrl_secret = ctrl_secret = k;
		}
		/* TSAS/TREQ: TLS where the port offers it and we have a key */
		tls = nvmeof_disc_entry_tls(e, c->tls);
		if (tls < 0) {
			cli_err(c, "%s at %s:%s: the port requires TLS (TREQ): give --tls-key "
				"(or --tls-key-file PATH)", e->subnqn, e->traddr, e->trsvcid);
			if (!rc)
				rc = EXIT_CONFIG;
			continue;
		}
		r = do_mount(c, e->traddr, e->trsvcid, e->subnqn, dir, tls == 1);
		if (r && !rc)
			rc = r;
		if (!r)
			(*count)++;
	}
	nvmeof_disc_log_free(log);
	return rc;
}

/* One line of discovery.conf (nvme-cli's format: the options of nvme
 * discover, "--traddr=A" or "-a A"; '#' starts a comment) into c. */
static int conf_line(struct cli *c, char *line, const char *file, unsigned lineno)
{
	char *tok[32], *save = NULL, *t;
	int n = 0, i;

	if ((t = strchr(line, '#')))
		*t = '\0';
	for (t = strtok_r(line, " \t\r\n", &save); t && n < 32; t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (!n)
		return 1; /* nothing on this line */
	c->host[0] = '\0';
	c->port[0] = '\0';
	c->port_given = false;
	for (i = 0; i < n; i++) {
		char *key = tok[i], *val = strchr(key, '=');

		if (val)
			*val++ = '\0';
		else if (key[0] == '-' && i + 1 < n && tok[i + 1][0] != '-')
			val = tok[++i];
		if (!val) {
			continue; /* a flag we do not need (e.g. --persistent) */
		} else if (!strcmp(key, "-t") || !strcmp(key, "--transport")) {
			if (strcmp(val, "tcp")) {
				cli_err(c, "%s:%u: transport '%s' is not supported (only tcp)", file,
					lineno, val);
				return -1;
			}
		} else if (!strcmp(key, "-a") || !strcmp(key, "--traddr")) {
			snprintf(c->host, sizeof c->host, "%s", val);
		} else if (!strcmp(key, "-s") || !strcmp(key, "--trsvcid")) {
			snprintf(c->port, sizeof c->port, "%s", val);
			c->port_given = true;
		} else if (!strcmp(key, "-w") || !strcmp(key, "--host-traddr")) {
			c->host_traddr = val;
		} else if (!strcmp(key, "-f") || !strcmp(key, "--host-iface")) {
			c->host_iface = val;
		} else if (!strcmp(key, "-q") || !strcmp(key, "--hostnqn")) {
			c->hostnqn = val;
		} else if (!strcmp(key, "-I") || !strcmp(key, "--hostid")) {
			c->hostid = val;
		}
	}
	if (!c->host[0]) {
		cli_err(c, "%s:%u: no --traddr", file, lineno);
		return -1;
	}
	return 0;
}

int cmd_connect_all(struct cli *c)
{
	char path[PATH_MAX], line[1024];
	const char *file = c->discovery_conf;
	unsigned count = 0, lineno = 0, tried = 0;
	int rc = 0, r;
	FILE *f;

	if (c->host[0]) {
		rc = connect_log(c, &count);
		printf("connected %u subsystem%s\n", count, count == 1 ? "" : "s");
		return rc;
	}
	if (!file)
		file = etc_path("discovery.conf", path, sizeof path);
	f = fopen(file, "r");
	if (!f) {
		cli_err(c, "no address given, and %s: %s", file, strerror(errno));
		return errno == ENOENT ? EXIT_USAGE : EXIT_CONFIG;
	}
	while (fgets(line, sizeof line, f)) {
		struct cli each = *c;

		lineno++;
		r = conf_line(&each, line, file, lineno);
		if (r > 0)
			continue;
		if (r < 0) {
			rc = rc ? rc : EXIT_CONFIG;
			continue;
		}
		tried++;
		r = connect_log(&each, &count);
		if (r && !rc)
			rc = r;
	}
	fclose(f);
	if (!tried && !rc) {
		cli_err(c, "%s lists no discovery controller", file);
		rc = EXIT_CONFIG;
	}
	printf("connected %u subsystem%s\n", count, count == 1 ? "" : "s");
	return rc;
}

/* ---- list-subsys ------------------------------------------------------------ */

/* "key : value" of a pseudo-file (status, identify); out "" if absent. */
static void field(const char *file, const char *key, char *out, size_t n)
{
	char line[1024];
	size_t kl = strlen(key);
	FILE *f = fopen(file, "r");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *p = line + kl;

		if (strncmp(line, key, kl) || (*p != ' ' && *p != ':'))
			continue;
		while (*p == ' ')
			p++;
		if (*p != ':')
			continue;
		p++;
		while (*p == ' ')
			p++;
		p[strcspn(p, "\n")] = '\0';
		/* trailing blanks of a fixed-width field (sn, mn, fr) */
		while (*p && isspace((unsigned char)p[strlen(p) - 1]))
			p[strlen(p) - 1] = '\0';
		snprintf(out, n, "%s", p);
		break;
	}
	fclose(f);
}

struct lsub {
	bool first;
	unsigned count;
	int rc;          /* the first failure: a paths file unreadable or malformed */
};

static int ns_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* The paths of a controller directory: its "paths" file (one line a path,
 * paths.h) when the mount has one, else the one path its status names. */
struct lpaths {
	struct path_line *v;
	size_t n;
};

static int read_paths(struct cli *c, const char *dir, struct lpaths *lp)
{
	char f[PATH_MAX + 16], err[256];
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	FILE *fp;

	lp->v = NULL;
	lp->n = 0;
	snprintf(f, sizeof f, "%s/paths", dir);
	fp = fopen(f, "re");
	if (!fp) {
		if (errno == ENOENT)
			return 1;   /* a mount without multipath: status names the path */
		cli_err(c, "%s: %s", f, strerror(errno));
		return EXIT_IOERR;
	}
	while (getline(&line, &cap, fp) > 0) {
		struct path_line *t;
		int r;

		lineno++;
		t = realloc(lp->v, (lp->n + 1) * sizeof *lp->v);
		if (!t) {
			rc = EXIT_OSERR;
			break;
		}
		lp->v = t;
		r = path_line_parse(line, &lp->v[lp->n], err, sizeof err);
		if (r == -ENOMEM) {
			rc = EXIT_OSERR;
			break;
		}
		if (r < 0) {
			cli_err(c, "%s:%u: %s", f, lineno, err);
			if (!rc)
				rc = EXIT_PROTOCOL;
			continue;
		}
		lp->n++;
	}
	if (ferror(fp) && !rc) {
		cli_err(c, "%s: %s", f, strerror(errno));
		rc = EXIT_IOERR;
	}
	if (rc == EXIT_OSERR)
		cli_err(c, "%s: out of memory", f);
	free(line);
	fclose(fp);
	return rc;
}

static void free_paths(struct lpaths *lp)
{
	for (size_t i = 0; i < lp->n; i++)
		path_line_free(&lp->v[i]);
	free(lp->v);
}

static void path_json(const struct path_line *p)
{
	size_t g;

	printf("        {\"Transport\": \"tcp\", \"Address\": ");
	out_json_string(stdout, p->addr);
	printf(", \"Cntlid\": \"%u\", \"State\": ", p->cntlid);
	out_json_string(stdout, p->state);
	printf(", \"Path\": %u,\n         \"ANAGroups\": [", p->id);
	for (g = 0; g < p->nana; g++)
		printf("%s{\"Group\": %" PRIu32 ", \"State\": \"%s\"}", g ? ", " : "",
		       p->ana[g].grp, p->ana[g].state);
	printf("],\n         \"Reads\": %" PRIu64 ", \"Writes\": %" PRIu64
	       ", \"Inflight\": %" PRIu64 ", \"Errors\": %" PRIu64 ", \"LastError\": ",
	       p->reads, p->writes, p->inflight, p->errors);
	if (p->last_error)
		out_json_string(stdout, p->last_error);
	else
		printf("null");
	printf("}");
}

static void path_text(const struct path_line *p)
{
	size_t g;

	printf(" +- tcp traddr=%s cntlid=%u %s path=%u ana=", p->addr, p->cntlid,
	       p->state, p->id);
	for (g = 0; g < p->nana; g++)
		printf("%s%" PRIu32 ":%s", g ? "," : "", p->ana[g].grp, p->ana[g].state);
	printf("%s reads=%" PRIu64 " writes=%" PRIu64 " inflight=%" PRIu64
	       " errors=%" PRIu64 "\n", p->nana ? "" : "-", p->reads, p->writes,
	       p->inflight, p->errors);
	if (p->last_error)
		printf("    last error: %s\n", p->last_error);
}

/* One controller directory (the mount point, or a subsystem's directory
 * of a discovery mount) that has a status file. */
static void list_one(struct cli *c, struct lsub *ls, const char *mnt, const char *dir)
{
	char f[PATH_MAX + 16], subnqn[300], addr[320], state[32], cntlid[16];
	char sn[64], mn[96], fr[32], policy[32];
	char tls[32], tcipher[48], tderiv[32], trec[16];
	unsigned ns[256];
	size_t nns = 0, i;
	struct lpaths lp;
	struct dirent *de;
	DIR *d;
	int rc;

	snprintf(f, sizeof f, "%s/status", dir);
	field(f, "subnqn", subnqn, sizeof subnqn);
	field(f, "address", addr, sizeof addr);
	field(f, "state", state, sizeof state);
	field(f, "cntlid", cntlid, sizeof cntlid);
	field(f, "tls", tls, sizeof tls);
	if (tls[0]) {
		field(f, "tls_cipher", tcipher, sizeof tcipher);
		field(f, "tls_derivation", tderiv, sizeof tderiv);
		field(f, "tls_records", trec, sizeof trec);
	}
	field(f, "iopolicy", policy, sizeof policy);
	snprintf(f, sizeof f, "%s/identify", dir);
	field(f, "sn", sn, sizeof sn);
	field(f, "mn", mn, sizeof mn);
	field(f, "fr", fr, sizeof fr);
	rc = read_paths(c, dir, &lp);
	if (rc > 1 && !ls->rc)
		ls->rc = rc;
	d = opendir(dir);
	while (d && (de = readdir(d)) && nns < 256) {
		char *end;
		unsigned long v;

		if (de->d_name[0] != 'n' || !isdigit((unsigned char)de->d_name[1]))
			continue;
		v = strtoul(de->d_name + 1, &end, 10);
		if (*end == '\0' && v <= 0xffffffffu)
			ns[nns++] = (unsigned)v;
	}
	if (d)
		closedir(d);
	qsort(ns, nns, sizeof ns[0], ns_cmp);
	ls->count++;
	if (c->fmt == OUT_JSON) {
		printf("%s\n    {\n      \"NQN\": ", ls->first ? "" : ",");
		out_json_string(stdout, subnqn);
		printf(",\n      \"Mountpoint\": ");
		out_json_string(stdout, mnt);
		printf(",\n      \"Directory\": ");
		out_json_string(stdout, dir);
		printf(",\n      \"SerialNumber\": ");
		out_json_string(stdout, sn);
		printf(",\n      \"ModelNumber\": ");
		out_json_string(stdout, mn);
		printf(",\n      \"Firmware\": ");
		out_json_string(stdout, fr);
		if (tls[0]) {
			printf(",\n      \"TLS\": {\"Version\": ");
			out_json_string(stdout, tls);
			printf(", \"Cipher\": ");
			out_json_string(stdout, tcipher);
			printf(", \"Derivation\": ");
			out_json_string(stdout, tderiv);
			printf(", \"Records\": ");
			out_json_string(stdout, trec);
			printf("}");
		}
		if (policy[0]) {
			printf(",\n      \"IOPolicy\": ");
			out_json_string(stdout, policy);
		}
		printf(",\n      \"Namespaces\": [");
		for (i = 0; i < nns; i++)
			printf("%s%u", i ? ", " : "", ns[i]);
		printf("],\n      \"Paths\": [\n");
		if (rc == 1) {
			printf("        {\"Transport\": \"tcp\", \"Address\": ");
			out_json_string(stdout, addr);
			printf(", \"Cntlid\": ");
			out_json_string(stdout, cntlid);
			printf(", \"State\": ");
			out_json_string(stdout, state);
			printf("}\n");
		}
		for (i = 0; i < lp.n; i++) {
			path_json(&lp.v[i]);
			printf("%s\n", i + 1 < lp.n ? "," : "");
		}
		printf("      ]\n    }");
	} else {
		printf("%s%s - NQN=%s\n", ls->first ? "" : "\n", dir, subnqn);
		printf("  serial=%s model=%s firmware=%s\n", sn, mn, fr);
		if (policy[0])
			printf("  iopolicy=%s\n", policy);
		printf("  namespaces:");
		for (i = 0; i < nns; i++)
			printf(" n%u", ns[i]);
		printf("%s\n", nns ? "" : " none");
		printf("\\\n");
		if (rc == 1)
			printf(" +- tcp traddr=%s cntlid=%s %s\n", addr, cntlid, state);
		for (i = 0; i < lp.n; i++)
			path_text(&lp.v[i]);
		if (tls[0])
			printf("    tls=%s cipher=%s derivation=%s records=%s\n", tls, tcipher,
			       tderiv, trec);
	}
	free_paths(&lp);
	ls->first = false;
}

int cmd_list_subsys(struct cli *c)
{
	struct lsub ls = { .first = true };
	char line[8192], disc[320];
	/* NVMEOF_MOUNTINFO: another mount table, for tests (fake mounts) */
	const char *mi = getenv("NVMEOF_MOUNTINFO");
	FILE *f;

	if (!mi || !*mi)
		mi = "/proc/self/mountinfo";
	f = fopen(mi, "re");
	if (!f) {
		cli_err(c, "%s: %s", mi, strerror(errno));
		return EXIT_OSERR;
	}
	if (c->fmt == OUT_JSON)
		printf("{\n  \"Subsystems\": [");
	while (fgets(line, sizeof line, f)) {
		char mnt[PATH_MAX], fstype[64], st[PATH_MAX + 16];
		const char *sep = strstr(line, " - ");
		struct dirent *de;
		DIR *d;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "fuse.nvmeof"))
			continue;
		/* mountinfo escapes blanks as \040: such paths are listed as is */
		snprintf(st, sizeof st, "%s/status", mnt);
		/* a tree's root status names its discovery controller */
		field(st, "discovery", disc, sizeof disc);
		if (!disc[0] && access(st, F_OK) == 0) {
			list_one(c, &ls, mnt, mnt);
			continue;
		}
		/* a tree (discovery mount): one directory per subsystem */
		d = opendir(mnt);
		while (d && (de = readdir(d))) {
			char sub[PATH_MAX + 256];
			char subst[PATH_MAX + 256 + 8];

			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof sub, "%s/%s", mnt, de->d_name);
			snprintf(subst, sizeof subst, "%s/status", sub);
			if (access(subst, F_OK) == 0)
				list_one(c, &ls, mnt, sub);
		}
		if (d)
			closedir(d);
	}
	fclose(f);
	if (c->fmt == OUT_JSON)
		printf("%s]\n}\n", ls.first ? "" : "\n  ");
	else if (!ls.count)
		printf("no nvmeof-mount mounts\n");
	return ls.rc;
}

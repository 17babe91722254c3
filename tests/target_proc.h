/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target as a child process of a C test: started on 127.0.0.1 with
 * a port the kernel chooses and a control socket, stopped by its pid.
 * Shared by tests/test_hostile and tests/test_target_raw.c; it knows
 * nothing of Criterion, so callers assert on what it returns.
 */
#ifndef TARGET_PROC_H
#define TARGET_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct tproc {
	pid_t pid;
	int port;
	char ctl[108];  /* DIR/ctl, the control socket (sun_path) */
	char err[128];  /* DIR/stderr, its output */
};

/* $NVMEOF_TARGET, else the build tree's src/nvmeof-target. */
const char *tproc_path(void);

/* Start the target with "-l 127.0.0.1:0 --port-file DIR/port --control
 * DIR/ctl" and then args (NULL-terminated; may be NULL), in the existing
 * directory dir; wait up to 10 s for its port.  It gets SIGTERM if the
 * test process dies.  0, or -1 with the reason in msg. */
int tproc_start(struct tproc *t, const char *dir, const char *const *args,
		char *msg, size_t msglen);

/* SIGTERM, up to 10 s, then SIGKILL.  Its exit status (128 + signal when
 * killed), or -1 when none was running. */
int tproc_stop(struct tproc *t);

/* One control-socket command; its answer (NUL-terminated, cut to outlen)
 * in out when out is not NULL.  0 when it ends in "ok", 1 on "error:",
 * -1 when there is no answer. */
int tproc_control(const struct tproc *t, const char *cmd, char *out,
		  size_t outlen);

#endif

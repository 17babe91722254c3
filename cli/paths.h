/* SPDX-License-Identifier: MIT */
/*
 * One line of nvmeof-mount's "paths" pseudo-file (nvmeof-mount(8)): a path
 * to the subsystem, its state, its ANA state per group and its I/O counts.
 *   ID ADDR:PORT cntlid=N state=S ana=GRP:STATE[,GRP:STATE...]|- reads=N
 *   writes=N inflight=N errors=N last_error=TEXT
 * Fields are separated by one space; last_error is the rest of the line
 * ("-": none).  list-subsys reads it; the parser is apart so that a unit
 * test can feed it text.
 */
#ifndef NVMEOF_CLI_PATHS_H
#define NVMEOF_CLI_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct path_ana {
	uint32_t grp;
	char state[16];   /* optimized, non-optimized, inaccessible, ... */
};

struct path_line {
	unsigned id;
	char addr[272];   /* host:port, [v6]:port */
	uint16_t cntlid;
	char state[16];   /* live, connecting, failed */
	struct path_ana *ana;   /* malloc()ed; NULL when nana is 0 ("ana=-") */
	size_t nana;
	uint64_t reads, writes, inflight, errors;
	char *last_error;       /* malloc()ed; NULL for "-" */
};

/* Parse one line (a trailing newline is allowed).  0, or -EINVAL with
 * what is wrong in err (e.g. "field 3: expected cntlid=N, not 'x'"), or
 * -ENOMEM.  On success free it with path_line_free(). */
int path_line_parse(const char *line, struct path_line *p, char *err, size_t errlen);
void path_line_free(struct path_line *p);

#endif

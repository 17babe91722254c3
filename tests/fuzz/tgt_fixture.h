/* SPDX-License-Identifier: MIT */
/*
 * nvmeof-target in-process for the target's fuzz harnesses: its sources
 * but target.c (main) are linked in; fuzz_tgt_init() sets up what main()
 * would (global state, the discovery subsystem, one listener for the
 * discovery log) once, silences the log and refuses file namespaces, so
 * that no input can open a file of the machine.
 */
#ifndef FUZZ_TGT_FIXTURE_H
#define FUZZ_TGT_FIXTURE_H

#include "target.h"

void fuzz_tgt_init(void);
/* Remove every subsystem, disarm every fault, options back to defaults. */
void fuzz_tgt_reset(void);

#endif

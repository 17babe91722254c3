/* SPDX-License-Identifier: MIT */
/*
 * The exit status of a program of ours after a libnvmeof call failed:
 * the sysexits(3) code that nvmeof(8) and nvmeof-mount(8) document, from
 * the call's negative errno and the NVMe status it recorded.  One table
 * for the CLI and the mount daemon, so that `nvmeof connect` (which runs
 * nvmeof-mount) exits as `nvmeof identify` does for the same failure.
 */
#ifndef NVMEOF_SYSEXIT_H
#define NVMEOF_SYSEXIT_H

#include <stdbool.h>
#include <stdint.h>

/* err: a positive errno; status: the NVMe status (0: none); connecting:
 * the failure happened while connecting (before any command was sent). */
int nvmeof_sysexit(int err, uint16_t status, bool connecting);

#endif

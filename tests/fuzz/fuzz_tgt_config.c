/* SPDX-License-Identifier: MIT */
/*
 * Fuzz nvmeof-target's configuration file: the input is the file.  It is
 * parsed (config_check), then loaded as a reload would (config_load:
 * subsystems, namespaces of RAM or null only, allowed hosts), then an
 * empty file is loaded, which must remove every subsystem it made.
 *
 * Oracles besides ASan/UBSan: an error names the file (path:line or the
 * file's own error) in a terminated message; config_check and config_load
 * agree on whether the file parses; the empty file leaves no subsystem.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "tgt_fixture.h"

static int memfile(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz-config", MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0, "memfd_create");
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "write");
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1200];
	int fd, checked, loaded;

	fuzz_tgt_init();
	fd = memfile(data, size, path, sizeof path);
	err[0] = '\0';
	checked = config_check(path, err, sizeof err);
	FUZZ_CHECK(checked == 0 || (err[0] && memchr(err, 0, sizeof err)),
		   "an error without a message");
	FUZZ_CHECK(checked == 0 || !strncmp(err, path, strlen(path)) ||
			   !strcmp(err, "out of memory"),
		   "the message does not name the file: %s", err);
	err[0] = '\0';
	loaded = config_load(path, false, err, sizeof err);
	FUZZ_CHECK(checked == 0 || loaded < 0,
		   "config_load took a file config_check refused");
	close(fd);

	fd = memfile((const uint8_t *)"", 0, path, sizeof path);
	FUZZ_CHECK(config_load(path, false, err, sizeof err) == 0, "%s", err);
	close(fd);
	pthread_mutex_lock(&g.lock);
	FUZZ_CHECK(!g.subsystems, "subsystem %s left", g.subsystems->nqn);
	pthread_mutex_unlock(&g.lock);
	fuzz_tgt_reset();
	return 0;
}

/* SPDX-License-Identifier: MIT */
#include "tgt_fixture.h"

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static const struct tgt_opts defaults = {
	.mdts = 5, .queue_size = 128, .max_io_queues = 8,
	.maxh2cdata = 128 * 1024, .io_incapsule = 8192, .lba_size = 4096,
	.max_conns = 1024, .login_ms = 10000, .no_files = true,
};

void fuzz_tgt_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	tgt_verbose = getenv("FUZZ_DEBUG") ? 2 : -1;
	opts = defaults;
	pthread_mutex_init(&g.lock, NULL);
	g.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g.next_cntlid = 1;
	g.start_ms = tgt_now_ms();
	atomic_init(&g.genctr, 1);
	io_init();
	g.disc = subsys_discovery_new();
	if (g.wake_fd < 0 || !g.disc || !tgt_zero)
		abort();
	g.lsn[0] = (struct tgt_listener){ .fd = -1, .portid = 1,
					  .family = AF_INET,
					  .addr = "127.0.0.1", .port = 4420 };
	ana_listener_init(&g.lsn[0]);
	g.nr_lsn = 1;
}

void fuzz_tgt_reset(void)
{
	char e[600], nqn[NVMF_NQN_SIZE];
	uint64_t v;

	for (;;) {
		pthread_mutex_lock(&g.lock);
		if (g.subsystems)
			snprintf(nqn, sizeof nqn, "%s", g.subsystems->nqn);
		else
			nqn[0] = '\0';
		pthread_mutex_unlock(&g.lock);
		if (!nqn[0] || subsys_remove(nqn, e, sizeof e) < 0)
			break;
	}
	fault_remove(NULL, e, sizeof e);
	opts = defaults;
	if (read(g.wake_fd, &v, sizeof v) < 0) {
		/* nothing to drain */
	}
}

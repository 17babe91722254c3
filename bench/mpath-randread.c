/* SPDX-License-Identifier: MIT */
/*
 * bench/mpath-randread: 4 KiB random reads at a queue depth from one
 * thread through libnvmeof's path layer (nvmeof_mpath_*), over the
 * addresses given: one path, or several paths to one subsystem.  For
 * bench/failover.sh's row "two optimized paths vs one", where nvmeof perf
 * takes one address.  Prints one line:
 *   paths=N iopolicy=P depth=D seconds=S ios=N iops=N errors=N reads_per_path=A,B
 *
 *   mpath-randread -n NQN [-N NSID] [-q DEPTH] [-t SECONDS] [-p POLICY]
 *                  ADDR[,ADDR...]
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvmeof.h"

#define IO_BYTES 4096
#define MAX_DEPTH 1024

struct slot {
	void *buf;
	bool busy;
};

static uint64_t done, errors;

static void on_done(void *arg, int err, uint16_t status)
{
	struct slot *s = arg;

	s->busy = false;
	if (err || status)
		errors++;
	else
		done++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: mpath-randread -n NQN [-N NSID] [-q DEPTH] [-t SECONDS] "
			"[-p POLICY] ADDR[,ADDR...]\n");
	return 64;
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || v < lo || v > hi ? -1 : v;
}

int main(int argc, char **argv)
{
	const char *nqn = NULL, *policy = NULL, *addrs[NVMEOF_MPATH_MAX_PATHS];
	long nsid = 1, depth = 32, secs = 10;
	struct slot slots[MAX_DEPTH];
	struct nvmeof_ns_info ni;
	struct nvmeof_mpath *g;
	struct nvmeof_opts o;
	unsigned nr = 0, i;
	uint64_t x = 0x9e3779b97f4a7c15ull, span;
	uint32_t nlb;
	double t0, t1;
	char *list, *save = NULL, *a;
	int c, rc;

	while ((c = getopt(argc, argv, "n:N:q:t:p:")) != -1) {
		switch (c) {
		case 'n': nqn = optarg; break;
		case 'N': nsid = num(optarg, 1, 0xfffffffe); break;
		case 'q': depth = num(optarg, 1, MAX_DEPTH); break;
		case 't': secs = num(optarg, 1, 3600); break;
		case 'p': policy = optarg; break;
		default: return usage();
		}
	}
	if (!nqn || optind != argc - 1 || nsid < 0 || depth < 0 || secs < 0)
		return usage();
	list = strdup(argv[optind]);
	if (!list)
		return 71;
	for (a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		if (nr == NVMEOF_MPATH_MAX_PATHS) {
			fprintf(stderr, "mpath-randread: at most %d addresses\n",
				NVMEOF_MPATH_MAX_PATHS);
			free(list);
			return 64;
		}
		addrs[nr++] = a;
	}
	if (!nr) {
		free(list);
		return usage();
	}

	nvmeof_opts_init(&o);
	o.subnqn = nqn;
	o.nr_io_queues = 1;
	o.queue_size = (int)(depth + 1 > 32 ? depth + 1 : 32);
	rc = nvmeof_mpath_connect(&o, addrs, nr, policy, &g);
	if (rc < 0) {
		fprintf(stderr, "mpath-randread: connect %s: %s\n", argv[optind], nvmeof_get_error());
		free(list);
		return 69;
	}
	if (nvmeof_ns_info(nvmeof_mpath_ctrl(g), (uint32_t)nsid, &ni) < 0 || !ni.lba_size ||
	    ni.lba_size > IO_BYTES || ni.nsze < IO_BYTES / ni.lba_size) {
		fprintf(stderr, "mpath-randread: namespace %ld: %s\n", nsid, nvmeof_get_error());
		nvmeof_mpath_disconnect(g);
		free(list);
		return 76;
	}
	nlb = IO_BYTES / ni.lba_size;
	span = ni.nsze / nlb;
	for (i = 0; i < depth; i++) {
		slots[i].busy = false;
		if (posix_memalign(&slots[i].buf, 4096, IO_BYTES)) {
			fprintf(stderr, "mpath-randread: out of memory\n");
			return 71;
		}
	}
	t0 = now_s();
	t1 = t0;
	while (t1 - t0 < (double)secs && !errors) {
		for (i = 0; i < depth; i++) {
			if (slots[i].busy)
				continue;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			slots[i].busy = true;
			rc = nvmeof_mpath_submit_read(g, (uint32_t)nsid, x % span * nlb, nlb,
						      slots[i].buf, on_done, &slots[i]);
			if (rc < 0) {
				slots[i].busy = false;
				errors++;
				fprintf(stderr, "mpath-randread: submit: %s\n", nvmeof_get_error());
				break;
			}
		}
		if (nvmeof_mpath_poll(g, 1000) < 0) {
			fprintf(stderr, "mpath-randread: poll: %s\n", nvmeof_get_error());
			errors++;
		}
		t1 = now_s();
	}
	/* the commands still out: let them complete before the buffers go */
	while (nvmeof_mpath_inflight(g) > 0 && nvmeof_mpath_poll(g, 1000) >= 0)
		;
	printf("paths=%u iopolicy=%s depth=%ld seconds=%.2f ios=%llu iops=%.0f errors=%llu reads_per_path=",
	       nr, nvmeof_mpath_iopolicy(g), depth, t1 - t0, (unsigned long long)done,
	       (double)done / (t1 - t0), (unsigned long long)errors);
	for (i = 0; i < nvmeof_mpath_nr_paths(g); i++) {
		struct nvmeof_mpath_path_info pi;

		if (nvmeof_mpath_path_info(g, i, &pi) == 0)
			printf("%s%llu", i ? "," : "", (unsigned long long)pi.reads);
	}
	printf("\n");
	nvmeof_mpath_disconnect(g);
	for (i = 0; i < depth; i++)
		free(slots[i].buf);
	free(list);
	return errors ? 74 : 0;
}

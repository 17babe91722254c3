/* SPDX-License-Identifier: MIT */
/*
 * nvmeof perf: keep DEPTH commands in flight from each of THREADS threads
 * with the asynchronous API, for SECONDS, and report IOPS, bandwidth,
 * latency percentiles and host CPU time per I/O (the project's budget is
 * 2.8 us of host CPU per I/O).
 *
 * The hot path allocates nothing: every thread owns DEPTH slots (a buffer
 * each) made before the clock starts, and a log-linear histogram.  A
 * completion callback may run on another thread when threads share an I/O
 * queue (nvmeof.h: callbacks run in whichever thread polls the queue), so
 * it only stamps the slot and pushes it on its owner's lock-free stack; the
 * owner does the accounting and the --verify check.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* Log-linear histogram of nanoseconds: 2^5 linear sub-buckets per power of
 * two, so a bucket is at most 1/32 (3 %) wide relative to its value. */
#define HIST_SUB_BITS 5u
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64u - HIST_SUB_BITS + 1u) * HIST_SUB)
#define MAX_MISMATCH_REPORTS 5
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* After the end of the run, commands in flight get this long to complete;
 * then the association is ended (nvmeof_ctrl_fail) so that perf stops
 * within SECONDS + 6 s whatever the target does, a silent one included. */
#define DRAIN_GRACE_NS (5000ull * 1000000ull) /* CI: 2 busy cores, QEMU */
/* The wait for the library to fail what is left is bounded too. */
#define FAIL_WAIT_NS (5000ull * 1000000ull)
#define PATTERN_MAGIC 0x6e766d656f660000ull /* "nvmeof\0\0" */

struct worker;

struct slot {
	struct worker *w;
	uint8_t *buf;
	uint64_t lba;
	uint64_t start_ns, end_ns;
	int err;
	uint16_t status;
	bool read;
	struct slot *next;
};

struct mismatch {
	uint64_t lba;
	uint32_t offset;
	uint64_t want, got;
};

struct worker {
	struct perf *p;
	unsigned idx;
	pthread_t tid;
	struct slot *slots;
	uint8_t *bufs;
	struct slot *done;     /* completed slots, pushed by callbacks */
	struct slot *idle;     /* slots free to submit (owner only) */
	uint32_t inflight;
	uint64_t rng;
	uint64_t seq_first, seq_count, seq_next; /* this thread's sequential region */
	uint64_t prefill_left;
	bool counting;         /* completions before the end are counted */
	uint64_t end_ns;
	/* results */
	uint64_t ios, reads, writes, errors, mismatches;
	uint64_t lat_sum_ns;
	uint64_t cpu_ns;
	uint64_t elapsed_ns;   /* of the timed run: SECONDS unless it failed */
	uint64_t unanswered;   /* in flight when the run's grace ran out */
	bool hard;             /* hard_stop(): failed slots are the unanswered */
	int first_err;
	uint16_t first_status;
	char errmsg[256];
	unsigned nr_reports;
	struct mismatch reports[MAX_MISMATCH_REPORTS];
	uint64_t hist[HIST_BUCKETS];
};

struct perf {
	struct cli *c;
	struct nvmeof_ctrl *ctrl;
	uint32_t nsid;
	uint32_t lba_size;
	uint32_t nlb;          /* blocks per I/O */
	uint64_t units;        /* I/O-sized units in the span */
	pthread_barrier_t barrier;
	bool prefill;
	int setup_err;
	/* The timed run, and when the association was not live in it
	 * (written by the library's admin thread, in the state callback). */
	uint64_t start_ns, end_ns;
	pthread_mutex_t st_lock;
	bool timed;            /* the timed run has started */
	uint64_t down_since;   /* 0: live */
	uint64_t down_ns;      /* not live within [start_ns, end_ns] */
	unsigned losses, reconnects;
	bool failed;           /* the association ended for good */
	int hard_stopped;      /* nvmeof_ctrl_fail() was called at the end */
	int keep_buffers;      /* commands never completed: do not free */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rusage_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

/* xorshift64*: fast, good enough to scatter LBAs */
static uint64_t rnd(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dull;
}

/* ---- histogram ---------------------------------------------------------- */

static unsigned hist_idx(uint64_t v)
{
	unsigned msb, shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) & (HIST_SUB - 1));
}

/* The middle of bucket i, in ns. */
static double hist_value(unsigned i)
{
	unsigned shift, sub;
	uint64_t low;

	if (i < HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	sub = i % HIST_SUB;
	low = (uint64_t)(HIST_SUB + sub) << shift;
	return (double)low + (double)((1ull << shift) - 1) / 2.0;
}

static double hist_pct(const uint64_t *h, uint64_t total, double pct)
{
	uint64_t want = (uint64_t)((double)total * pct / 100.0 + 0.999999), sum = 0;
	unsigned i;

	if (!total)
		return 0;
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		sum += h[i];
		if (sum >= want)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

/* ---- the verify pattern --------------------------------------------------
 * Each 8-byte word names its LBA and its place in the block, so data
 * written to or read from the wrong place never passes; it depends on
 * nothing else, so concurrent writes of one LBA agree. */

static uint64_t pattern_word(uint64_t lba, uint32_t word)
{
	return (lba << 20 | word) ^ PATTERN_MAGIC;
}

static void pattern_fill(const struct perf *p, uint8_t *buf, uint64_t lba)
{
	uint32_t words = p->lba_size / 8, b, i;
	uint64_t *w = (uint64_t *)(void *)buf;

	for (b = 0; b < p->nlb; b++)
		for (i = 0; i < words; i++)
			*w++ = pattern_word(lba + b, i);
}

/* Keep the first few, each LBA once (a sequential run reads it again). */
static void report_mismatch(struct worker *w, uint64_t lba, uint32_t off,
			    uint64_t want, uint64_t got)
{
	unsigned i;

	for (i = 0; i < w->nr_reports; i++)
		if (w->reports[i].lba == lba)
			return;
	if (w->nr_reports < MAX_MISMATCH_REPORTS)
		w->reports[w->nr_reports++] = (struct mismatch){ lba, off, want, got };
}

static void pattern_check(struct worker *w, const struct slot *s)
{
	const struct perf *p = w->p;
	uint32_t words = p->lba_size / 8, b, i;
	const uint64_t *got = (const uint64_t *)(const void *)s->buf;

	for (b = 0; b < p->nlb; b++) {
		for (i = 0; i < words; i++) {
			uint64_t want = pattern_word(s->lba + b, i), g = got[b * words + i];

			if (g == want)
				continue;
			w->mismatches++;
			report_mismatch(w, s->lba + b, i * 8, want, g);
			break; /* one mismatch per block is enough */
		}
	}
}

/* ---- the I/O loop ---------------------------------------------------------- */

static void io_done(void *arg, int err, uint16_t status)
{
	struct slot *s = arg;
	struct worker *w = s->w;
	struct slot *head;

	s->end_ns = now_ns();
	s->err = err;
	s->status = status;
	head = __atomic_load_n(&w->done, __ATOMIC_RELAXED);
	do {
		s->next = head;
	} while (!__atomic_compare_exchange_n(&w->done, &head, s, true,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

#define NO_LBA UINT64_MAX

static void record_error(struct worker *w, int err, uint16_t status,
			 const char *what, uint64_t lba)
{
	char where[40] = "";
	const char *why;

	w->errors++;
	if (w->first_err)
		return;
	w->first_err = err ? err : -EIO;
	w->first_status = status;
	if (status)
		why = nvmeof_status_str(status);
	else if (*nvmeof_get_error() && w->first_err == -nvmeof_get_errno())
		why = nvmeof_get_error();
	else
		why = strerror(-w->first_err);
	if (lba != NO_LBA)
		snprintf(where, sizeof where, " at LBA %" PRIu64, lba);
	snprintf(w->errmsg, sizeof w->errmsg, "%s%s: %s", what, where, why);
}

/* Choose what the next I/O does; false when a prefill is complete. */
static bool next_io(struct worker *w, bool *read, uint64_t *unit)
{
	const struct perf *p = w->p;
	enum workload wl = p->c->workload;
	bool rand = wl == W_RANDREAD || wl == W_RANDWRITE || wl == W_RANDRW;

	if (p->prefill) {
		if (!w->prefill_left)
			return false;
		w->prefill_left--;
		*read = false;
		rand = false;
	} else if (wl == W_READ || wl == W_RANDREAD) {
		*read = true;
	} else if (wl == W_WRITE || wl == W_RANDWRITE) {
		*read = false;
	} else {
		*read = rnd(w) % 100 < p->c->mix;
	}
	if (rand) {
		*unit = rnd(w) % p->units;
	} else {
		*unit = w->seq_first + w->seq_next;
		if (++w->seq_next == w->seq_count)
			w->seq_next = 0;
	}
	return true;
}

static int submit(struct worker *w, struct slot *s)
{
	const struct perf *p = w->p;
	uint64_t unit;
	int rc;

	if (!next_io(w, &s->read, &unit))
		return 1;
	s->lba = unit * p->nlb;
	if (!s->read && p->c->verify)
		pattern_fill(p, s->buf, s->lba);
	s->start_ns = now_ns();
	if (s->read)
		rc = nvmeof_submit_read(p->ctrl, p->nsid, s->lba, p->nlb, s->buf,
					io_done, s);
	else
		rc = nvmeof_submit_write(p->ctrl, p->nsid, s->lba, p->nlb, s->buf,
					 false, io_done, s);
	if (rc < 0) {
		record_error(w, rc, 0, s->read ? "submitting a read" : "submitting a write",
			     s->lba);
		return rc;
	}
	w->inflight++;
	return 0;
}

/* Account for every slot completed since the last call. */
static void reap(struct worker *w)
{
	struct slot *s = __atomic_exchange_n(&w->done, NULL, __ATOMIC_ACQUIRE);

	while (s) {
		struct slot *next = s->next;

		w->inflight--;
		if (w->hard) {
			/* one of the unanswered, counted by hard_stop() */
		} else if (s->err || s->status) {
			record_error(w, s->err, s->status, s->read ? "read" : "write", s->lba);
		} else {
			if (s->read && w->p->c->verify)
				pattern_check(w, s);
			if (w->counting && s->end_ns <= w->end_ns) {
				uint64_t lat = s->end_ns - s->start_ns;

				w->ios++;
				if (s->read)
					w->reads++;
				else
					w->writes++;
				w->lat_sum_ns += lat;
				w->hist[hist_idx(lat)]++;
			}
		}
		s->next = w->idle;
		w->idle = s;
		s = next;
	}
}

/* ---- the association's state during the run -------------------------- */

/* How much of [a, b) lies within the timed run (st_lock held). */
static uint64_t in_run(const struct perf *p, uint64_t a, uint64_t b)
{
	uint64_t lo, hi;

	if (!p->timed)
		return 0;
	lo = MAX(a, p->start_ns);
	hi = MIN(b, p->end_ns);
	return hi > lo ? hi - lo : 0;
}

/* Each loss and reconnect, said as it happens, and timed so that the
 * figures count only the time the association was live. */
static void perf_state_cb(void *arg, const char *state, const char *why)
{
	struct perf *p = arg;
	uint64_t now = now_ns();
	bool live = !strcmp(state, "live"), ours;
	double at;

	ours = __atomic_load_n(&p->hard_stopped, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&p->st_lock);
	at = p->timed && now > p->start_ns ? (double)(now - p->start_ns) / 1e9 : 0;
	if (!live && !p->down_since && !ours) {
		p->down_since = now;
		p->losses++;
	} else if (live && p->down_since) {
		p->down_ns += in_run(p, p->down_since, now);
		p->down_since = 0;
		p->reconnects++;
	}
	if (!strcmp(state, "failed"))
		p->failed = true;
	pthread_mutex_unlock(&p->st_lock);
	if (ours)
		return; /* perf ended it: hard_stop() says why */
	if (live)
		cli_err(p->c, "%.2f s: connection live again: %s", at, why ? why : "");
	else
		cli_err(p->c, "%.2f s: connection %s: %s%s", at, state, why ? why : "",
			p->c->ctrl_loss_tmo == 0 && !strcmp(state, "failed") ?
			" (--ctrl-loss-tmo SECONDS rides through an outage)" : "");
}

/* Commands still in flight after the grace: end the association (every
 * pending command completes with EIO, its callback runs) and take the
 * slots back.  Several threads may get here: the library fails it once. */
static void hard_stop(struct worker *w)
{
	struct perf *p = w->p;
	uint64_t until;
	char why[160];

	w->unanswered = w->inflight;
	snprintf(why, sizeof why,
		 "%u command%s still had no completion %.1f s after the end of the run",
		 w->inflight, w->inflight == 1 ? "" : "s", (double)DRAIN_GRACE_NS / 1e9);
	if (!w->first_err) {
		w->first_err = -ETIMEDOUT;
		snprintf(w->errmsg, sizeof w->errmsg, "%s", why);
	}
	w->hard = true;
	w->errors += w->unanswered;
	__atomic_store_n(&p->hard_stopped, 1, __ATOMIC_RELEASE);
	nvmeof_ctrl_fail(p->ctrl, "perf: the run is over and commands are still unanswered");
	until = now_ns() + FAIL_WAIT_NS;
	reap(w);
	while (w->inflight && now_ns() < until) {
		(void)nvmeof_poll(p->ctrl, 10);
		reap(w);
	}
	if (w->inflight)
		/* The library still holds buffers: keep them (perf exits). */
		__atomic_store_n(&p->keep_buffers, 1, __ATOMIC_RELEASE);
}

/* Run until end_ns (or, in a prefill, until the region is written), then
 * wait for what is in flight.  0, or a negative errno. */
static int run(struct worker *w, uint64_t end_ns)
{
	const struct perf *p = w->p;
	bool stop = false;
	uint64_t drain_until;
	int rc = 0;

	w->end_ns = end_ns;
	w->elapsed_ns = 0;
	while (!stop) {
		/* Everything resubmitted in one round leaves in one send. */
		nvmeof_plug(p->ctrl);
		while (w->idle && !stop) {
			struct slot *s = w->idle;

			w->idle = s->next;
			rc = submit(w, s);
			if (rc) {
				s->next = w->idle;
				w->idle = s;
				stop = true;
			}
		}
		nvmeof_unplug(p->ctrl);
		if (!w->inflight)
			break;
		if (!p->prefill) {
			uint64_t now = now_ns();

			if (now >= end_ns)
				break;
			rc = nvmeof_poll(p->ctrl, (int)((end_ns - now) / 1000000u) + 1);
		} else {
			rc = nvmeof_poll(p->ctrl, 100);
		}
		if (rc < 0) {
			record_error(w, rc, 0, "polling", NO_LBA);
			stop = true;
		}
		reap(w);
		if (w->errors)
			stop = true;
	}
	rc = rc > 0 ? 0 : rc;
	if (!p->prefill) {
		uint64_t now = now_ns(), stop_ns = now < end_ns ? now : end_ns;
		uint64_t start = p->start_ns;

		w->elapsed_ns = stop_ns > start ? stop_ns - start : 0;
	}
	/* Drain: these complete after the end and are not counted (but a read
	 * is still checked, and an error is still an error).  The timed run
	 * drains until its end plus the grace, never longer: a target that
	 * stops answering must not keep perf waiting. */
	drain_until = (p->prefill ? now_ns() + 30000ull * 1000000ull :
		       MAX(now_ns(), end_ns) + DRAIN_GRACE_NS);
	reap(w);
	while (w->inflight) {
		uint64_t now = now_ns();

		if (now >= drain_until)
			break;
		if (nvmeof_poll(p->ctrl, (int)MIN((drain_until - now) / 1000000u + 1, 100)) < 0 &&
		    !w->errors)
			record_error(w, -nvmeof_get_errno(), 0, "polling", NO_LBA);
		reap(w);
	}
	if (w->inflight)
		hard_stop(w);
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct perf *p = w->p;
	uint64_t cpu0, end;

	if (p->c->verify && !p->c->no_prefill) {
		/* Phase 1: write the pattern over this thread's region. */
		pthread_barrier_wait(&p->barrier);
		w->prefill_left = w->seq_count;
		w->seq_next = 0;
		run(w, 0);
		pthread_barrier_wait(&p->barrier);
	}
	/* Phase 2, timed: everyone starts at the main thread's signal. */
	pthread_barrier_wait(&p->barrier);
	end = p->end_ns;
	cpu0 = thread_cpu_ns();
	w->counting = true;
	if (!w->errors)
		run(w, end);
	w->cpu_ns = thread_cpu_ns() - cpu0;
	pthread_barrier_wait(&p->barrier);
	return NULL;
}

/* ---- set-up --------------------------------------------------------------- */

static int workers_alloc(struct perf *p, struct worker **wsp)
{
	struct cli *c = p->c;
	uint32_t t, i;
	uint64_t per = p->units / c->threads;
	struct worker *ws = calloc(c->threads, sizeof *ws);

	if (!ws)
		return -ENOMEM;
	*wsp = ws;
	for (t = 0; t < c->threads; t++) {
		struct worker *w = &ws[t];

		w->p = p;
		w->idx = t;
		w->rng = 0x9e3779b97f4a7c15ull * (t + 1) ^ (uint64_t)now_ns();
		if (!w->rng)
			w->rng = 1;
		/* sequential regions: an equal share each, the last takes the rest */
		w->seq_first = per * t;
		w->seq_count = t + 1 == c->threads ? p->units - per * t : per;
		w->slots = calloc(c->depth, sizeof *w->slots);
		if (!w->slots || posix_memalign((void **)&w->bufs, 4096,
						(size_t)c->depth * c->io_size))
			return -ENOMEM;
		memset(w->bufs, 0, (size_t)c->depth * c->io_size);
		for (i = 0; i < c->depth; i++) {
			struct slot *s = &w->slots[i];

			s->w = w;
			s->buf = w->bufs + (size_t)i * c->io_size;
			s->next = w->idle;
			w->idle = s;
		}
	}
	return 0;
}

static void workers_free(struct worker *ws, uint32_t n)
{
	uint32_t t;

	if (!ws)
		return;
	for (t = 0; t < n; t++) {
		free(ws[t].slots);
		free(ws[t].bufs);
	}
	free(ws);
}

/* Pick the namespace and the span; 0 or an exit code. */
static int perf_namespace(struct perf *p, uint64_t *ns_bytes)
{
	struct cli *c = p->c;
	struct nvmeof_ns_info ni;
	uint64_t span;

	if (c->nsid_set) {
		p->nsid = c->nsid;
	} else {
		uint32_t *ids;
		size_t n;

		if (nvmeof_ns_list(p->ctrl, &ids, &n) < 0)
			return cli_fail(c, "active namespace list");
		if (!n) {
			free(ids);
			cli_err(c, "%s has no active namespace", c->subnqn);
			return EXIT_UNAVAILABLE;
		}
		p->nsid = ids[0];
		free(ids);
	}
	if (nvmeof_ns_info(p->ctrl, p->nsid, &ni) < 0)
		return cli_fail(c, NULL);
	p->lba_size = ni.lba_size;
	*ns_bytes = ni.nsze * ni.lba_size;
	if (c->io_size % ni.lba_size)
		return cli_usage_error(c, "-o/--io-size: %" PRIu64 " is not a multiple of the %u-byte blocks of namespace %u",
				       c->io_size, ni.lba_size, p->nsid);
	if (c->span && c->span > *ns_bytes)
		return cli_usage_error(c, "--span: %" PRIu64 " bytes is more than namespace %u holds (%" PRIu64 ")",
				       c->span, p->nsid, *ns_bytes);
	if ((c->workload != W_READ && c->workload != W_RANDREAD) ||
	    (c->verify && !c->no_prefill)) {
		if (ni.write_protected)
			return cli_usage_error(c, "namespace %u is write protected: use -w read or randread without --verify",
					       p->nsid);
	}
	span = c->span ? c->span : *ns_bytes;
	p->nlb = (uint32_t)(c->io_size / ni.lba_size);
	p->units = span / c->io_size;
	if (p->units < c->threads)
		return cli_usage_error(c, "the span (%" PRIu64 " bytes) holds fewer than %u I/Os of %" PRIu64 " bytes, one per thread",
				       span, c->threads, c->io_size);
	return 0;
}

/* ---- report ---------------------------------------------------------------- */

struct figures {
	uint64_t ios, errors, mismatches;
	double iops, mibs, avg, p50, p99, p999, cpu_per_io;
};

static void figures(const struct perf *p, const uint64_t *hist, uint64_t ios,
		    uint64_t lat_sum, uint64_t cpu_ns, double secs, struct figures *f)
{
	f->ios = ios;
	f->iops = secs > 0 ? (double)ios / secs : 0;
	f->mibs = f->iops * (double)p->c->io_size / (1024.0 * 1024.0);
	f->avg = ios ? (double)lat_sum / (double)ios / 1000.0 : 0;
	f->p50 = hist_pct(hist, ios, 50) / 1000.0;
	f->p99 = hist_pct(hist, ios, 99) / 1000.0;
	f->p999 = hist_pct(hist, ios, 99.9) / 1000.0;
	f->cpu_per_io = ios ? (double)cpu_ns / (double)ios / 1000.0 : 0;
}

static void text_row(const char *name, const struct figures *f)
{
	printf("%6s %12.1f %9.2f %9.2f %9.2f %9.2f %9.2f %10.3f\n", name, f->iops,
	       f->mibs, f->avg, f->p50, f->p99, f->p999, f->cpu_per_io);
}

static void json_figures(const struct figures *f)
{
	printf("\"ios\": %" PRIu64 ", \"iops\": %.1f, \"mib_per_s\": %.3f, "
	       "\"lat_avg_us\": %.3f, \"lat_p50_us\": %.3f, \"lat_p99_us\": %.3f, "
	       "\"lat_p99_9_us\": %.3f, \"cpu_us_per_io\": %.4f, \"errors\": %" PRIu64
	       ", \"mismatches\": %" PRIu64,
	       f->ios, f->iops, f->mibs, f->avg, f->p50, f->p99, f->p999, f->cpu_per_io,
	       f->errors, f->mismatches);
}

/* A thread's run time less the time the association was not live. */
static double thread_live(const struct worker *w, double down)
{
	double s = (double)w->elapsed_ns / 1e9;

	return s > down ? s - down : 0;
}

static void report(struct perf *p, struct worker *ws, double secs, double down,
		   uint64_t proc_cpu_ns, uint64_t proc_user_ns, uint64_t proc_sys_ns,
		   uint64_t ns_bytes)
{
	double live = secs > down ? secs - down : 0;
	struct cli *c = p->c;
	uint64_t *all = calloc(HIST_BUCKETS, sizeof *all);
	uint64_t ios = 0, lat = 0, cpu = 0, errors = 0, mism = 0;
	struct figures f, tot;
	struct nvmeof_ctrl_status *cs = calloc(1, sizeof *cs);
	uint32_t t;
	unsigned i;

	if (!all || !cs) {
		free(all);
		free(cs);
		return;
	}
	nvmeof_ctrl_status(p->ctrl, cs);
	for (t = 0; t < c->threads; t++) {
		for (i = 0; i < HIST_BUCKETS; i++)
			all[i] += ws[t].hist[i];
		ios += ws[t].ios;
		lat += ws[t].lat_sum_ns;
		cpu += ws[t].cpu_ns;
		errors += ws[t].errors;
		mism += ws[t].mismatches;
	}
	figures(p, all, ios, lat, cpu, live, &tot);
	tot.errors = errors;
	tot.mismatches = mism;

	if (c->fmt == OUT_JSON) {
		printf("{\n  \"traddr\": ");
		out_json_string(stdout, nvmeof_ctrl_traddr(p->ctrl));
		printf(",\n  \"trsvcid\": ");
		out_json_string(stdout, nvmeof_ctrl_trsvcid(p->ctrl));
		printf(",\n  \"subnqn\": ");
		out_json_string(stdout, nvmeof_ctrl_subnqn(p->ctrl));
		printf(",\n  \"nsid\": %u,\n  \"lba_size\": %u,\n  \"ns_bytes\": %" PRIu64
		       ",\n  \"workload\": \"%s\",\n  \"rwmixread\": %u,\n  \"io_size\": %" PRIu64
		       ",\n  \"queue_depth\": %u,\n  \"threads\": %u,\n  \"io_queues\": %d"
		       ",\n  \"queue_size\": %d,\n  \"seconds\": %.3f,\n  \"live_seconds\": %.3f"
		       ",\n  \"down_seconds\": %.3f,\n  \"losses\": %u,\n  \"reconnects\": %u"
		       ",\n  \"verify\": %s"
		       ",\n  \"header_digest\": %s,\n  \"data_digest\": %s,",
		       p->nsid, p->lba_size, ns_bytes, workload_name(c->workload),
		       c->workload == W_RW || c->workload == W_RANDRW ? c->mix :
		       c->workload == W_READ || c->workload == W_RANDREAD ? 100 : 0,
		       c->io_size, c->depth, c->threads, nvmeof_ctrl_nr_io_queues(p->ctrl),
		       nvmeof_ctrl_queue_size(p->ctrl), secs, live, down, p->losses,
		       p->reconnects, c->verify ? "true" : "false",
		       c->hdgst ? "true" : "false", c->ddgst ? "true" : "false");
		if (cs->tls)
			printf("\n  \"tls_handshake_ms\": %.2f,", cs->tls_handshake_ms);
		printf("\n  \"per_thread\": [");
		for (t = 0; t < c->threads; t++) {
			struct worker *w = &ws[t];

			figures(p, w->hist, w->ios, w->lat_sum_ns, w->cpu_ns,
				thread_live(w, down), &f);
			f.errors = w->errors;
			f.mismatches = w->mismatches;
			printf("%s\n    {\"thread\": %u, \"reads\": %" PRIu64 ", \"writes\": %" PRIu64
			       ", ", t ? "," : "", t, w->reads, w->writes);
			json_figures(&f);
			printf("}");
		}
		printf("\n  ],\n  \"total\": {");
		json_figures(&tot);
		printf(", \"process_cpu_us_per_io\": %.4f, \"process_user_s\": %.3f"
		       ", \"process_sys_s\": %.3f}\n}\n",
		       ios ? (double)proc_cpu_ns / (double)ios / 1000.0 : 0.0,
		       (double)proc_user_ns / 1e9, (double)proc_sys_ns / 1e9);
	} else {
		printf("%s:%s %s namespace %u: %s, %" PRIu64 "-byte I/O, depth %u, %u thread%s, %d I/O queue%s, %.2f s%s\n",
		       nvmeof_ctrl_traddr(p->ctrl), nvmeof_ctrl_trsvcid(p->ctrl),
		       nvmeof_ctrl_subnqn(p->ctrl), p->nsid, workload_name(c->workload),
		       c->io_size, c->depth, c->threads, c->threads == 1 ? "" : "s",
		       nvmeof_ctrl_nr_io_queues(p->ctrl),
		       nvmeof_ctrl_nr_io_queues(p->ctrl) == 1 ? "" : "s", secs,
		       c->verify ? ", verified" : "");
		printf("%6s %12s %9s %9s %9s %9s %9s %10s\n", "thread", "IOPS", "MiB/s",
		       "avg(us)", "p50(us)", "p99(us)", "p99.9(us)", "cpu(us/IO)");
		for (t = 0; t < c->threads; t++) {
			char name[16];

			figures(p, ws[t].hist, ws[t].ios, ws[t].lat_sum_ns, ws[t].cpu_ns,
				thread_live(&ws[t], down), &f);
			snprintf(name, sizeof name, "%u", t);
			text_row(name, &f);
		}
		text_row("total", &tot);
		printf("host CPU per I/O: %.3f us in the I/O threads, %.3f us for the whole process (user %.3f s, sys %.3f s, %" PRIu64 " I/Os)\n",
		       tot.cpu_per_io, ios ? (double)proc_cpu_ns / (double)ios / 1000.0 : 0.0,
		       (double)proc_user_ns / 1e9, (double)proc_sys_ns / 1e9, ios);
		/* the last queue's (or reconnect's) TLS handshake */
		if (cs->tls)
			printf("tls handshake: %.2f ms\n", cs->tls_handshake_ms);
		if (p->losses || down > 0)
			printf("association: not live for %.2f s of the %.2f s run (lost %u time%s, reconnected %u); the figures count the %.2f s it was live\n",
			       down, secs, p->losses, p->losses == 1 ? "" : "s",
			       p->reconnects, live);
		if (errors)
			printf("errors: %" PRIu64 "\n", errors);
		if (c->verify)
			printf("verify: %" PRIu64 " mismatched block read%s\n", mism,
			       mism == 1 ? "" : "s");
	}
	free(all);
	free(cs);
}

/* ---- perf ------------------------------------------------------------------ */

int cmd_perf(struct cli *c)
{
	struct perf p = { .c = c };
	struct worker *ws = NULL;
	struct rusage ru0, ru1;
	uint32_t nq = c->nr_io_queues ? c->nr_io_queues : c->threads, t, started = 0;
	uint32_t per_queue = (c->threads + nq - 1) / nq;
	uint64_t want_qsize = (uint64_t)c->depth * per_queue + 1, ns_bytes = 0;
	uint64_t mism = 0;
	double secs, down;
	int rc, e;

	if (!c->subnqn)
		return cli_usage_error(c, "-n/--nqn is required (the discovery controller has no I/O queues)");
	if (c->mix_set && c->workload != W_RW && c->workload != W_RANDRW)
		return cli_usage_error(c, "-M/--rwmixread applies only to -w rw or randrw");
	if (c->no_prefill && !c->verify)
		return cli_usage_error(c, "--no-prefill applies only with --verify");
	if (c->verify && c->io_size % 8)
		return cli_usage_error(c, "--verify needs an I/O size that is a multiple of 8");
	if (want_qsize > 1024) {
		cli_err(c, "warning: %u threads per queue at depth %u want %" PRIu64 " queue entries; the most is 1024",
			per_queue, c->depth, want_qsize);
		want_qsize = 1024;
	}
	rc = cli_connect(c, NULL, NULL, c->subnqn, (int)nq, (int)(want_qsize < 32 ? 32 : want_qsize),
			 &p.ctrl);
	if (rc)
		return rc;
	pthread_mutex_init(&p.st_lock, NULL);
	nvmeof_set_state_cb(p.ctrl, perf_state_cb, &p);
	if ((uint32_t)nvmeof_ctrl_nr_io_queues(p.ctrl) < nq)
		cli_err(c, "warning: asked for %u I/O queues, the controller granted %d", nq,
			nvmeof_ctrl_nr_io_queues(p.ctrl));
	{
		uint32_t granted = (uint32_t)nvmeof_ctrl_nr_io_queues(p.ctrl);
		uint64_t need = (uint64_t)c->depth * ((c->threads + granted - 1) / granted);

		if ((uint64_t)nvmeof_ctrl_queue_size(p.ctrl) - 1 < need)
			cli_err(c, "warning: the queue size is %d, fewer than the %" PRIu64 " commands to keep in flight per queue",
				nvmeof_ctrl_queue_size(p.ctrl), need);
	}
	rc = perf_namespace(&p, &ns_bytes);
	if (rc)
		goto out;
	if (nvmeof_ctrl_mdts_bytes(p.ctrl) && c->io_size > nvmeof_ctrl_mdts_bytes(p.ctrl))
		cli_err(c, "note: %" PRIu64 "-byte I/Os exceed MDTS (%u bytes) and are split",
			c->io_size, nvmeof_ctrl_mdts_bytes(p.ctrl));
	rc = workers_alloc(&p, &ws);
	if (rc < 0) {
		cli_err(c, "out of memory for %u threads x %u buffers of %" PRIu64 " bytes",
			c->threads, c->depth, c->io_size);
		rc = EXIT_OSERR;
		goto out;
	}
	pthread_barrier_init(&p.barrier, NULL, c->threads + 1);
	for (t = 0; t < c->threads; t++) {
		e = pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]);
		if (e) {
			/* Threads already started wait at a barrier forever: end here. */
			cli_err(c, "cannot start thread %u: %s", t, strerror(e));
			_exit(EXIT_OSERR);
		}
		started++;
	}
	if (c->verify && !c->no_prefill) {
		p.prefill = true;
		pthread_barrier_wait(&p.barrier);
		pthread_barrier_wait(&p.barrier);
		p.prefill = false;
	}
	getrusage(RUSAGE_SELF, &ru0);
	pthread_mutex_lock(&p.st_lock);
	p.start_ns = now_ns();
	p.end_ns = p.start_ns + (uint64_t)c->seconds * 1000000000ull;
	p.timed = true;
	if (p.down_since)
		p.down_since = p.start_ns;
	pthread_mutex_unlock(&p.st_lock);
	pthread_barrier_wait(&p.barrier); /* go */
	pthread_barrier_wait(&p.barrier); /* every thread past its end */
	getrusage(RUSAGE_SELF, &ru1);
	for (t = 0; t < started; t++)
		pthread_join(ws[t].tid, NULL);
	pthread_barrier_destroy(&p.barrier);

	/* Each thread ran SECONDS from the common start, unless it failed. */
	secs = 0;
	for (t = 0; t < c->threads; t++)
		if ((double)ws[t].elapsed_ns / 1e9 > secs)
			secs = (double)ws[t].elapsed_ns / 1e9;
	pthread_mutex_lock(&p.st_lock);
	if (p.down_since)
		p.down_ns += in_run(&p, p.down_since, p.start_ns + (uint64_t)(secs * 1e9));
	down = (double)p.down_ns / 1e9;
	pthread_mutex_unlock(&p.st_lock);
	{
		uint64_t u = rusage_ns(&ru1.ru_utime) - rusage_ns(&ru0.ru_utime);
		uint64_t s = rusage_ns(&ru1.ru_stime) - rusage_ns(&ru0.ru_stime);

		report(&p, ws, secs, down, u + s, u, s, ns_bytes);
	}
	rc = 0;
	for (t = 0; t < c->threads; t++) {
		struct worker *w = &ws[t];
		unsigned i;

		mism += w->mismatches;
		if (w->errors)
			cli_err(c, "thread %u: %" PRIu64 " error%s; the first: %s", t, w->errors,
				w->errors == 1 ? "" : "s", w->errmsg);
		for (i = 0; i < w->nr_reports; i++)
			cli_err(c, "verify: LBA %" PRIu64 " byte %u: expected 0x%016" PRIx64
				", read 0x%016" PRIx64,
				w->reports[i].lba, w->reports[i].offset, w->reports[i].want,
				w->reports[i].got);
		if (w->errors && !rc)
			rc = cli_exit_code(w->first_err, w->first_status);
	}
	if (mism) {
		cli_err(c, "verify: %" PRIu64 " block read%s did not match what was written",
			mism, mism == 1 ? "" : "s");
		if (!rc)
			rc = EXIT_IOERR;
	}
out:
	cli_disconnect(p.ctrl);
	pthread_mutex_destroy(&p.st_lock);
	if (!__atomic_load_n(&p.keep_buffers, __ATOMIC_ACQUIRE))
		workers_free(ws, c->threads);
	return rc;
}

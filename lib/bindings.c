/* SPDX-License-Identifier: MIT */
/*
 * Binding threads to I/O queues.  A thread's first command on a handle
 * binds it to one of the handle's I/O queues (round-robin), for good: the
 * commands it has in flight are on that queue, and only a thread that
 * polls that queue completes them.  A thread may use any number of handles
 * (a tree mount has up to 1024 subsystems), so its bindings are a hash
 * table of its own that grows; the bindings of handles that were
 * disconnected are dropped when it grows.  The hot path is one probe of a
 * thread-local table: no lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

struct binding {
	uint64_t id;            /* 0: empty */
	struct queue *q;
};

struct bind_table {
	struct binding *slot;
	size_t mask;            /* slots - 1 (a power of two) */
	size_t used;
};

static __thread struct bind_table tls_tab;

/* The handles not yet disconnected (looked at only when a table grows). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *live_ids;
static size_t nr_live, live_cap;

void live_add(uint64_t id)
{
	pthread_mutex_lock(&live_lock);
	if (nr_live == live_cap) {
		size_t cap = live_cap ? live_cap * 2 : 16;
		uint64_t *t = realloc(live_ids, cap * sizeof *t);

		if (t) {
			live_ids = t;
			live_cap = cap;
		}
	}
	if (nr_live < live_cap)
		live_ids[nr_live++] = id;
	pthread_mutex_unlock(&live_lock);
}

void live_del(uint64_t id)
{
	size_t i;

	pthread_mutex_lock(&live_lock);
	for (i = 0; i < nr_live; i++)
		if (live_ids[i] == id) {
			live_ids[i] = live_ids[--nr_live];
			break;
		}
	if (!nr_live) {
		free(live_ids);
		live_ids = NULL;
		live_cap = 0;
	}
	pthread_mutex_unlock(&live_lock);
}

/* live_lock held */
static bool is_live(uint64_t id)
{
	size_t i;

	for (i = 0; i < nr_live; i++)
		if (live_ids[i] == id)
			return true;
	return false;
}

static size_t hash_id(uint64_t id)
{
	id *= 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */
	return (size_t)(id >> 32);
}

static struct binding *probe(const struct bind_table *t, uint64_t id)
{
	size_t i = hash_id(id) & t->mask;

	while (t->slot[i].id && t->slot[i].id != id)
		i = (i + 1) & t->mask;
	return &t->slot[i];
}

/* Free the table when the thread ends. */
static pthread_key_t tab_key;
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_free(void *p)
{
	/* Runs in the thread that ends: a later destructor that calls us
	 * finds an empty table. */
	if (tls_tab.slot == p)
		memset(&tls_tab, 0, sizeof tls_tab);
	free(p);
}

static void tab_key_make(void)
{
	(void)pthread_key_create(&tab_key, tab_free);
}

/* Make room for one more: a new table with the live bindings only, twice
 * as big when they fill more than a quarter of it.  False without memory. */
static bool grow(struct bind_table *t)
{
	struct bind_table n = { 0 };
	size_t i, keep = 0, slots;

	pthread_mutex_lock(&live_lock);
	for (i = 0; t->slot && i <= t->mask; i++)
		if (t->slot[i].id && is_live(t->slot[i].id))
			keep++;
	slots = t->slot ? t->mask + 1 : 16;
	while ((keep + 1) * 4 > slots)
		slots *= 2;
	n.slot = calloc(slots, sizeof *n.slot);
	if (!n.slot) {
		pthread_mutex_unlock(&live_lock);
		return false;
	}
	n.mask = slots - 1;
	for (i = 0; t->slot && i <= t->mask; i++) {
		if (t->slot[i].id && is_live(t->slot[i].id)) {
			*probe(&n, t->slot[i].id) = t->slot[i];
			n.used++;
		}
	}
	pthread_mutex_unlock(&live_lock);
	pthread_once(&tab_once, tab_key_make);
	(void)pthread_setspecific(tab_key, n.slot);
	free(t->slot);
	*t = n;
	return true;
}

struct queue *ctrl_thread_queue(struct nvmeof_ctrl *c)
{
	struct bind_table *t = &tls_tab;
	struct binding *b;
	unsigned idx;

	if (likely(t->slot)) {
		b = probe(t, c->id);
		if (likely(b->id))
			return b->q;
	}
	if (!c->nr_io) {
		nvmeof_err(ENOTSUP, "%s has no I/O queues",
			   c->discovery ? "a discovery controller" :
					  "this association");
		return NULL;
	}
	/* Load at most one half: probes stay short. */
	if ((!t->slot || (t->used + 1) * 2 > t->mask + 1) && !grow(t)) {
		nvmeof_err(ENOMEM, "out of memory");
		return NULL;
	}
	idx = __atomic_fetch_add(&c->next_bind, 1, __ATOMIC_RELAXED) %
	      (unsigned)c->nr_io;
	b = probe(t, c->id);
	b->id = c->id;
	b->q = c->io[idx];
	t->used++;
	return b->q;
}

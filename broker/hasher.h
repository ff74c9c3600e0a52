/*  hasher.h: a small pool of threads that verify and create password hashes off the
    broker's event loop, so that a bcrypt-12 login (about 0.2 s of CPU) delays no other
    request. The loop submits jobs and polls a file descriptor for results.

    Three things keep a login storm off the bus, on any scheduler (bench/README.md, "The
    login storm", has the measurements):
    - the workers run at a lower priority (SCHED_BATCH, `nice_delta` higher);
    - preemption points: while a worker hashes, a timer interrupts it every `slice_us` of
      wall time, so a waiting thread of the loop gets the CPU within that time. Without
      them a kernel that defers preemption to its tick (PREEMPT_LAZY, HZ=250) let the loop
      wait up to 4 ms behind a hash, whatever the priorities;
    - a CPU budget: the workers together spend at most `budget_ms` of their own CPU time
      (CLOCK_THREAD_CPUTIME_ID) per second on hashing, a token bucket per worker checked at
      each preemption point; a worker over it sleeps until it is back in budget. */
#ifndef COLLAB_HASHER_H
#define COLLAB_HASHER_H

#include "hash_job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct collab_hasher collab_hasher_t;

typedef struct {
    unsigned threads;   /* workers, at least one */
    unsigned queue_max; /* jobs waiting at most, at least one */
    int nice_delta;     /* how much lower the workers' priority is */
    unsigned budget_ms; /* hashing CPU ms per second, all workers together; 0: no budget */
    unsigned slice_us;  /* preemption points' interval while hashing; 0: none */
} collab_hasher_opts_t;

/*  A worker's bucket holds at most this much CPU time, so one login on a quiet broker
    (a bcrypt-12 hash) runs at full speed. */
#define COLLAB_HASHER_BURST_MS 250

/*  What the workers have done since the start, for tests and figures. */
typedef struct {
    uint64_t jobs;         /* jobs run to the end */
    uint64_t cpu_ns;       /* the workers' CPU time in those jobs */
    uint64_t throttled_ns; /* time they slept to stay in budget */
    uint64_t points;       /* preemption points taken */
} collab_hasher_stats_t;

/*  Starts the workers. Returns NULL on failure (bad options, no timer, no thread). */
collab_hasher_t *collab_hasher_new(const collab_hasher_opts_t *opts);

/*  Copies the counters. */
void collab_hasher_stats(collab_hasher_t *self, collab_hasher_stats_t *out);

/*  Stops the workers (jobs not started are returned as COLLAB_E_BUSY and freed along with
    their results). NULL-safe, nulls *self_p. */
void collab_hasher_destroy(collab_hasher_t **self_p);

/*  Queues a job, taking ownership of *job_p (malloc'd by the caller). Returns 0 or
    COLLAB_E_BUSY when the queue is full (the job then stays the caller's). */
int collab_hasher_submit(collab_hasher_t *self, collab_hash_job_t **job_p);

/*  Returns the next finished job (the caller owns and frees it) or NULL when none. */
collab_hash_job_t *collab_hasher_take(collab_hasher_t *self);

/*  A descriptor that polls readable while finished jobs wait (for zmq_poll). */
int collab_hasher_fd(const collab_hasher_t *self);

#endif

/*  results.h: the simulated work of a worker: a plausible result text per task type. */
#ifndef WORKER_RESULTS_H
#define WORKER_RESULTS_H

#include <stddef.h>
#include <stdint.h>

/*  Writes the result of task `task_id` of type `type` into out. Returns 0, or -1 for a
    type this worker does not know how to do (the task then fails). */
int worker_result(const char *type, uint64_t task_id, char *out, size_t cap);

#endif

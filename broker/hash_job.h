/*  hash_job.h: one password job for the hashing pool, what a handler fills and gets back.
    Apart from hasher.h so that a handler may submit a job without seeing the pool. */
#ifndef COLLAB_HASH_JOB_H
#define COLLAB_HASH_JOB_H

#include "model.h"

#include <stddef.h>

typedef enum { COLLAB_HASH_VERIFY, COLLAB_HASH_CREATE } collab_hash_op_t;

/*  A job and, once done, its result. The submitter fills op, hash (VERIFY), password,
    scheme/cost (CREATE) and its own context; the pool fills result and new_hash. The
    password is wiped by the pool when the job completes. */
typedef struct collab_hash_job {
    collab_hash_op_t op;
    char hash[COLLAB_HASH_MAX];
    char password[COLLAB_PASSWORD_MAX + 1];
    size_t password_len;
    char scheme[16];
    int cost;
    int result; /* 0 or a negative collab_err_t */
    char new_hash[COLLAB_HASH_MAX];
    void *ctx; /* the submitter's, untouched */
} collab_hash_job_t;

#endif

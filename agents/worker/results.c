/*  results.c: deterministic, plausible results per task type (the work is simulated). */
#include "results.h"

#include <stdio.h>
#include <string.h>

/*  A small deterministic mix of the task id, so reruns give the same figures. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    return x;
}

int worker_result(const char *type, uint64_t task_id, char *out, size_t cap)
{
    uint64_t h = mix(task_id + 1);
    unsigned a = (unsigned)(h % 900) + 100, b = (unsigned)((h >> 16) % 40),
             c = (unsigned)((h >> 32) % 12);
    if (strcmp(type, "data_analysis") == 0)
        snprintf(out, cap, "analysed %u records: mean %u.%u, p95 %u, %u outliers", a * 10, a / 10,
                 b % 10, a / 5 + b, c);
    else if (strcmp(type, "code_review") == 0)
        snprintf(out, cap, "reviewed %u files (%u lines): %u findings, %u blocking", c + 3, a * 7,
                 b % 9, c % 3);
    else if (strcmp(type, "testing") == 0)
        snprintf(out, cap, "ran %u tests: %u passed, 0 failed, %u skipped", a, a - b % 5, b % 5);
    else if (strcmp(type, "documentation") == 0)
        snprintf(out, cap, "wrote %u pages and %u examples", c + 2, b % 7 + 1);
    else
        return -1;
    return 0;
}

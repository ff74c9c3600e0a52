/*  lg_hist.h: a latency histogram for nanosecond values with logarithmic buckets, laid out
    like HdrHistogram: 128 linear sub-buckets per power of two, so a quantile is within 0.8%
    of the true value, in fixed memory and O(1) per sample. */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>

#define LG_HIST_SUB_BITS 7
#define LG_HIST_MAX_EXP  42 /* values up to 2^42 ns (73 minutes) */
#define LG_HIST_BUCKETS                                                                            \
    ((2u << LG_HIST_SUB_BITS) + (LG_HIST_MAX_EXP - LG_HIST_SUB_BITS) * (1u << LG_HIST_SUB_BITS))

typedef struct {
    uint64_t counts[LG_HIST_BUCKETS];
    uint64_t total;
    uint64_t min, max; /* exact */
    double sum;        /* exact, for the mean */
} lg_hist_t;

/*  Empties the histogram. */
void lg_hist_reset(lg_hist_t *h);

/*  Records one value in nanoseconds. */
void lg_hist_add(lg_hist_t *h, uint64_t ns);

/*  Adds every sample of src into dst. */
void lg_hist_merge(lg_hist_t *dst, const lg_hist_t *src);

/*  The value at quantile q (0..1): the middle of the bucket holding it; 0 when empty. */
uint64_t lg_hist_quantile(const lg_hist_t *h, double q);

/*  The mean in nanoseconds; 0 when empty. */
double lg_hist_mean(const lg_hist_t *h);

#endif

/*  lg_hist.c: the log-bucketed latency histogram (see lg_hist.h). Values below 2^8 have a
    bucket each; above, an octave [2^e, 2^(e+1)) is cut into 128 equal buckets. */
#include "lg_hist.h"

#include <string.h>

#define SUB (1u << LG_HIST_SUB_BITS)

static unsigned index_of(uint64_t v)
{
    if (v < 2 * SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e > LG_HIST_SUB_BITS */
    if (e >= LG_HIST_MAX_EXP)
        return LG_HIST_BUCKETS - 1;
    unsigned shift = e - LG_HIST_SUB_BITS;
    unsigned top = (unsigned)(v >> shift); /* SUB .. 2*SUB-1 */
    return 2 * SUB + (e - LG_HIST_SUB_BITS - 1) * SUB + (top - SUB);
}

/*  The middle of bucket i. */
static uint64_t value_of(unsigned i)
{
    if (i < 2 * SUB)
        return i;
    unsigned octave = (i - 2 * SUB) / SUB, top = (i - 2 * SUB) % SUB + SUB;
    unsigned shift = octave + 1;
    return ((uint64_t)top << shift) + ((uint64_t)1 << shift) / 2;
}

void lg_hist_reset(lg_hist_t *h)
{
    memset(h, 0, sizeof *h);
}

void lg_hist_add(lg_hist_t *h, uint64_t ns)
{
    h->counts[index_of(ns)]++;
    if (h->total == 0 || ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
    h->total++;
    h->sum += (double)ns;
}

void lg_hist_merge(lg_hist_t *dst, const lg_hist_t *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < LG_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->total += src->total;
    dst->sum += src->sum;
}

uint64_t lg_hist_quantile(const lg_hist_t *h, double q)
{
    if (h->total == 0)
        return 0;
    if (q >= 1.0)
        return h->max;
    /* the rank of the sample at q, counted from 1 */
    uint64_t rank = (uint64_t)(q * (double)h->total) + 1, seen = 0;
    if (rank > h->total)
        rank = h->total;
    for (unsigned i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = value_of(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double lg_hist_mean(const lg_hist_t *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

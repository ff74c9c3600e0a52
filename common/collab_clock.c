/*  collab_clock.c: the monotonic clock (see collab_clock.h). */
#include "collab_clock.h"

#include <time.h>

int64_t collab_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t collab_mono_us(void)
{
    return collab_mono_ns() / 1000;
}

int64_t collab_mono_ms(void)
{
    return collab_mono_ns() / 1000000;
}

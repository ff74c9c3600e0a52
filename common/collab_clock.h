/*  collab_clock.h: the one monotonic clock of the project (CLOCK_MONOTONIC), for deadlines
    and durations. Wall-clock time (timestamps on the wire, in logs) is not read here. */
#ifndef COLLAB_CLOCK_H
#define COLLAB_CLOCK_H

#include <stdint.h>

/*  Nanoseconds on the monotonic clock (an arbitrary origin; never goes back). */
int64_t collab_mono_ns(void);

/*  Microseconds on the same clock. */
int64_t collab_mono_us(void);

/*  Milliseconds on the same clock. */
int64_t collab_mono_ms(void);

#endif

/*  collab_clock.h: the one monotonic clock of the project (CLOCK_MONOTONIC), for deadlines
    and durations. Wall-clock time (timestamps on the wire, in logs) is not read here. */
#ifndef COLLAB_CLOCK_H
#define COLLAB_CLOCK_H

#include <stdint.h>
#include <time.h>

/*  Nanoseconds on the monotonic clock (an arbitrary origin; never goes back).
    Async-signal-safe. */
int64_t collab_mono_ns(void);

/*  Microseconds on the same clock. */
int64_t collab_mono_us(void);

/*  Milliseconds on the same clock. */
int64_t collab_mono_ms(void);

/*  Sleeps ns nanoseconds on the same clock, to the end even when signals interrupt it.
    Async-signal-safe. */
void collab_mono_sleep_ns(int64_t ns);

/*  Creates a timer on the same clock whose expirations send signal `signo` to the calling
    thread only (not the process). Returns 0, or -1 with errno set. */
int collab_mono_thread_timer(timer_t *timer, int signo);

#endif

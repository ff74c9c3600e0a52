/*  collab_clock.c: the monotonic clock (see collab_clock.h). */
#include "collab_clock.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

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

void collab_mono_sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec d = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &d) == EINTR)
        ;
}

int collab_mono_thread_timer(timer_t *timer, int signo)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = signo;
    sev.sigev_notify_thread_id = gettid();
    return timer_create(CLOCK_MONOTONIC, &sev, timer);
}

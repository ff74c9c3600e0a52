/*  test_clock.c: the monotonic clock. It never goes back; the sleep lasts at least as long
    as asked, also when signals interrupt it; a thread timer's signal reaches the thread
    that made it. */
#include "collab_clock.h"
#include "testutil.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t fired;

static void on_signal(int sig)
{
    (void)sig;
    fired++;
}

static void test_monotonic(void)
{
    int64_t prev = collab_mono_ns();
    for (int i = 0; i < 100000; i++) {
        int64_t now = collab_mono_ns();
        if (now < prev) {
            CHECK(now >= prev);
            return;
        }
        prev = now;
    }
    CHECK(collab_mono_us() >= prev / 1000);
    CHECK(collab_mono_ms() >= prev / 1000000);
}

/*  A timer interrupts the sleep every 200 us: the sleep still lasts its 5 ms, and the
    signal reached this thread. */
static void test_sleep_and_thread_timer(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    if (!CHECK(sigaction(SIGRTMIN + 5, &sa, NULL) == 0))
        return;
    timer_t t;
    if (!CHECK(collab_mono_thread_timer(&t, SIGRTMIN + 5) == 0))
        return;
    struct itimerspec every = {{0, 200000}, {0, 200000}};
    CHECK(timer_settime(t, 0, &every, NULL) == 0);
    int64_t t0 = collab_mono_ns();
    collab_mono_sleep_ns(5000000);
    int64_t slept = collab_mono_ns() - t0;
    struct itimerspec off = {{0, 0}, {0, 0}};
    timer_settime(t, 0, &off, NULL);
    timer_delete(t);
    CHECK(slept >= 5000000);
    CHECK(fired >= 2); /* 25 expirations were due; a loaded machine merges some */
    collab_mono_sleep_ns(0);
    collab_mono_sleep_ns(-1); /* nothing to sleep */
}

int main(void)
{
    TU_RUN(test_monotonic);
    TU_RUN(test_sleep_and_thread_timer);
    return tu_exit("test_clock");
}

/*  agent_stop.c: SIGINT and SIGTERM for every agent and tool (see agent_stop.h). */
#include "agent_stop.h"

#include <czmq.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_sig;
static void (*volatile also_fn)(int);

static void say(const char *s)
{
    ssize_t n = write(STDERR_FILENO, s, strlen(s));
    (void)n;
}

/*  The backstop: the clean way out took too long. */
static void on_alarm(int sig)
{
    (void)sig;
    say("stopping took too long: exiting now\n");
    _exit(128 + (stop_sig ? stop_sig : SIGTERM));
}

static void on_stop(int sig)
{
    if (stop_sig) { /* a second signal: no more waiting */
        say("second signal: exiting now\n");
        _exit(128 + stop_sig);
    }
    stop_sig = sig;
    struct itimerval t = {
        .it_value = {AGENT_STOP_GRACE_MS / 1000, AGENT_STOP_GRACE_MS % 1000 * 1000}};
    setitimer(ITIMER_REAL, &t, NULL);
    void (*fn)(int) = also_fn;
    if (fn)
        fn(sig);
}

void agent_stop_install(void (*also)(int))
{
    zsys_init();            /* CZMQ installs its handler here, once ... */
    zsys_handler_set(NULL); /* ... and puts back the one it found */
    also_fn = also;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop; /* no SA_RESTART: a blocking wait ends with EINTR */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int agent_stop_signal(void)
{
    return stop_sig;
}

int agent_stop_exit_code(int code)
{
    return stop_sig ? 128 + stop_sig : code;
}

void agent_stop_child(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(127);
}

/*  agent_stop.h: SIGINT and SIGTERM, the same way in every agent and tool. One handler
    records the signal; it is installed without SA_RESTART, so a blocking read or poll
    returns at once (EINTR), and after CZMQ's own handler (which would only set
    zsys_interrupted, a flag nothing here reads). The client library's waits (the first
    connection, a login, a request, an event) end as soon as it is set and are not retried.
    A bounded backstop: a program still running AGENT_STOP_GRACE_MS after the first signal,
    or sent a second one, says so on stderr and exits 128 + the signal at once.
    Exit codes: a program that runs until stopped (worker, observer, victim, coordinator
    --rounds forever) exits 0 when a signal ends it cleanly; a signal that cuts anything
    else short (connecting, logging in, a one-shot command, a prompt) exits 128 + the
    signal: 130 for SIGINT, 143 for SIGTERM. */
#ifndef AGENT_STOP_H
#define AGENT_STOP_H

#include <sys/types.h>

#define AGENT_STOP_GRACE_MS 1500

/*  Installs the handler for SIGINT and SIGTERM (initialising CZMQ first, so that its
    handler is the one replaced). also (may be NULL) is called from the handler with the
    signal, for a program's own flag. Safe to call again; the last `also` counts. */
void agent_stop_install(void (*also)(int));

/*  The signal that asked this process to stop, or 0. */
int agent_stop_signal(void);

/*  Called in a child just forked, before its exec, with the parent's pid (getpid() before
    the fork): the child is sent SIGTERM when the parent ends, however it ends (the
    backstop's _exit included), so that no victim or private broker outlives a stopped
    tool. Exits the child at once when the parent is already gone. */
void agent_stop_child(pid_t parent);

/*  code, or 128 + the signal when a signal asked this process to stop. */
int agent_stop_exit_code(int code);

#endif

/*  agentproc.h: agent binaries as child processes for end-to-end tests: spawn with stdout
    captured, wait for a line, wait for exit with a deadline (pidfd, no sleeping), kill. */
#ifndef AGENTPROC_H
#define AGENTPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int out; /* read end of the child's stdout (and stderr) */
    int pidfd;
    char buf[65536]; /* everything read so far */
    size_t len;
    int status; /* exit status once reaped, else -1 */
} agent_proc_t;

/*  Starts argv[0] with argv; returns 0 or -1. */
int agent_spawn(agent_proc_t *p, char *const argv[]);

/*  Reads output until it contains needle or the deadline passes. Returns true if found. */
bool agent_wait_output(agent_proc_t *p, const char *needle, int timeout_ms);

/*  Waits for the child to exit (reading its output meanwhile). Returns its exit code, or
    -1 on timeout (the child is then killed). */
int agent_wait_exit(agent_proc_t *p, int timeout_ms);

/*  Sends sig and reaps the child. */
void agent_kill(agent_proc_t *p, int sig);

#endif

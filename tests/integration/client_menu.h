/*  client_menu.h: what the two files of test_client_menu share: the broker, the client being
    driven through its standard input, and the attack demonstrations' tests. */
#ifndef CLIENT_MENU_H
#define CLIENT_MENU_H

#include "childproc.h"
#include "itest.h"

#include <stdbool.h>
#include <stddef.h>

#define WAIT_MS 15000

extern broker_proc_t B;
extern const char *CLIENT, *SAMPLE; /* the client binary, sample_data */
extern char PWDIR[400];             /* the demo agents' AGENT.pw files */
extern child_t C;                   /* the client being driven */
extern size_t mark;                 /* where the next expectation starts in its output */

/*  Waits for needle in the output after the mark and moves the mark past it. */
bool expect(const char *needle);

/*  The demo agents' password files, as scripts/swarm leaves them in its run folder. */
void write_passwords(void);

/*  Menu items 8-11 against the stage2 broker B: every one SUCCEEDS, the lab put back. */
void test_attack_demos(void);

/*  The same against a hardened broker over CURVE: every one BLOCKED. */
void test_attack_demos_hardened(void);

#endif

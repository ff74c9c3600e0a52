/*  broker.h: the taskcollab broker, one ROUTER socket holding all collaboration state.
    main.c builds a configuration, creates the broker and runs it until SIGINT/SIGTERM. */
#ifndef COLLAB_BROKER_H
#define COLLAB_BROKER_H

#include "config.h"

#include <signal.h>
#include <stddef.h>

typedef struct collab_broker collab_broker_t;

/*  Loads credentials and state, binds the socket, starts the hashing pool. With
    reset_state the state file is emptied first. On failure returns NULL with a message
    naming the file and what is wrong in err. */
collab_broker_t *collab_broker_new(const collab_config_t *cfg, bool reset_state, char *err,
                                   size_t errlen);

/*  The TCP port actually bound (useful with tcp://127.0.0.1:*). */
int collab_broker_port(const collab_broker_t *self);

/*  Runs the loop until interrupted (CZMQ's zsys_interrupted), collab_broker_stop, or the
    flag given to collab_broker_stop_on is set. Returns 0 on a clean stop, a negative code
    on a fatal storage error. */
int collab_broker_run(collab_broker_t *self);

/*  Asks this broker's running loop to stop, and no other broker of the process (it sets a
    flag of self's: async-signal-safe). The loop sees it within one poll period. */
void collab_broker_stop(collab_broker_t *self);

/*  Makes the loop also stop when *flag becomes non-zero: a signal handler sets a flag it
    owns (main.c's), the loop reads it. The flag is lent and must outlive the loop; NULL
    forgets it. */
void collab_broker_stop_on(collab_broker_t *self, volatile sig_atomic_t *flag);

/*  Commits, closes everything. NULL-safe, nulls *self_p. */
void collab_broker_destroy(collab_broker_t **self_p);

#endif

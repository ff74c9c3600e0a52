/*  login.h: collab-web's login thread. A login waits for bcrypt on the broker (a few hundred
    ms at cost 12), which the loop must not: the loop hands a job over (the client is
    created and logged in on this thread, which owns it until then), and takes it back,
    done, from the pipe (one owner at a time; the pipe's messages order the two
    threads' memory). Jobs run one after another. */
#ifndef WEB_LOGIN_H
#define WEB_LOGIN_H

#include "collab_client.h"

#include <stdint.h>

typedef struct login login_t;

typedef struct {
    uint64_t id;                         /* the loop's, to find who asked */
    collab_client_opts_t opts;           /* key, timeouts; its strings point below */
    char endpoint[COLLAB_ENDPOINTS_MAX]; /* tcp://a[,tcp://b] */
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    char password[COLLAB_PASSWORD_MAX + 1]; /* wiped once the login is done */
    collab_client_t *client;                /* the result: logged in when rc is 0 */
    int rc;
} login_job_t;

/*  Starts the thread. NULL on failure. */
login_t *login_new(void);
/*  Stops the thread (a login under way ends at its timeout or at a stop signal) and frees
    the jobs it still held. */
void login_destroy(login_t **self_p);

/*  Hands *job_p over (taken: *job_p is then NULL). Returns 0, or COLLAB_E_IO (the job is
    left with the caller). */
int login_submit(login_t *self, login_job_t **job_p);
/*  A finished job, without waiting, or NULL. The caller owns it. */
login_job_t *login_take(login_t *self);
/*  The pipe to poll for finished jobs (a libzmq socket). */
void *login_socket(login_t *self);

/*  Frees a job: its client (when still held) and the password, wiped. NULL-safe. */
void login_job_free(login_job_t **job_p);

#endif

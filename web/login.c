/*  login.c: the login thread and its pipe, an inproc PAIR (login.h). */
#include "login.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>

struct login {
    zsock_t *pipe; /* the loop's end; the thread holds the other */
    pthread_t thread;
};

void login_job_free(login_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    login_job_t *job = *job_p;
    collab_client_destroy(&job->client);
    sodium_memzero(job, sizeof *job);
    free(job);
    *job_p = NULL;
}

static void run_job(login_job_t *job)
{
    job->opts.endpoint = job->endpoint;
    job->opts.agent_id = job->agent_id;
    job->opts.password = job->password;
    job->client = collab_client_new(&job->opts);
    sodium_memzero(job->opts.key, sizeof job->opts.key);
    sodium_memzero(job->opts.curve_secret, sizeof job->opts.curve_secret);
    sodium_memzero(job->password, sizeof job->password);
    job->opts.password = NULL;
    if (!job->client) {
        job->rc = COLLAB_E_IO;
        return;
    }
    job->rc = collab_client_login(job->client);
    if (job->rc != 0)
        collab_client_destroy(&job->client);
}

static void *thread_main(void *arg)
{
    zsock_t *pipe = arg;
    for (;;) {
        char *cmd = NULL;
        void *ptr = NULL;
        if (zsock_recv(pipe, "sp", &cmd, &ptr) != 0) {
            if (zsys_interrupted || errno == ETERM)
                break;
            continue; /* a signal interrupted the wait: the loop's STOP still comes */
        }
        bool stop = !cmd || strcmp(cmd, "STOP") == 0;
        free(cmd);
        login_job_t *job = ptr;
        if (stop) {
            login_job_free(&job);
            break;
        }
        if (!job)
            continue;
        run_job(job);
        if (zsock_send(pipe, "p", job) != 0)
            login_job_free(&job);
    }
    zsock_destroy(&pipe);
    return NULL;
}

login_t *login_new(void)
{
    char ep[64];
    login_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(ep, sizeof ep, "inproc://collab-web-login-%p", (void *)self);
    self->pipe = zsock_new(ZMQ_PAIR);
    zsock_t *theirs = zsock_new(ZMQ_PAIR);
    if (!self->pipe || !theirs || zsock_bind(self->pipe, "%s", ep) != 0 ||
        zsock_connect(theirs, "%s", ep) != 0 ||
        pthread_create(&self->thread, NULL, thread_main, theirs) != 0) {
        zsock_destroy(&theirs);
        zsock_destroy(&self->pipe);
        free(self);
        return NULL;
    }
    return self;
}

void login_destroy(login_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    login_t *self = *self_p;
    zsock_send(self->pipe, "sp", "STOP", NULL);
    pthread_join(self->thread, NULL);
    for (login_job_t *job; (job = login_take(self)) != NULL;)
        login_job_free(&job); /* done, never taken */
    zsock_destroy(&self->pipe);
    free(self);
    *self_p = NULL;
}

int login_submit(login_t *self, login_job_t **job_p)
{
    if (zsock_send(self->pipe, "sp", "LOGIN", *job_p) != 0)
        return COLLAB_E_IO;
    *job_p = NULL;
    return 0;
}

login_job_t *login_take(login_t *self)
{
    if (!(zsock_events(self->pipe) & ZMQ_POLLIN))
        return NULL;
    void *ptr = NULL;
    if (zsock_recv(self->pipe, "p", &ptr) != 0)
        return NULL;
    return ptr;
}

void *login_socket(login_t *self)
{
    return zsock_resolve(self->pipe);
}

/*  test_broker_stop.c: stopping is per broker. Two brokers in one process: stopping the
    first must not stop the second, which still answers a request afterwards; the second
    then stops by its own collab_broker_stop, and a signal handler's flag (main.c's way)
    stops a third. */
#include "broker.h"
#include "testutil.h"

#include <czmq.h>
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];

static collab_broker_t *make(const char *name)
{
    collab_config_t cfg;
    char err[512] = "";
    collab_config_defaults(&cfg);
    snprintf(cfg.bind, sizeof cfg.bind, "tcp://127.0.0.1:*");
    snprintf(cfg.state_path, sizeof cfg.state_path, "%s/%s.db", dir, name);
    snprintf(cfg.security_log_path, sizeof cfg.security_log_path, "%s/%s.log", dir, name);
    snprintf(cfg.credentials_path, sizeof cfg.credentials_path, "%s",
             COLLAB_SAMPLE_DATA "/test_credentials.json");
    collab_broker_t *b = collab_broker_new(&cfg, true, err, sizeof err);
    if (!b)
        fprintf(stderr, "broker: %s\n", err);
    return b;
}

typedef struct {
    collab_broker_t *broker;
    int answered; /* 1: a reply came back, -1: none within the deadline */
} client_t;

/*  Sends a malformed frame (the broker answers every message) and waits for its reply,
    then stops that broker. */
static void *client(void *arg)
{
    client_t *c = arg;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", collab_broker_port(c->broker));
    void *s = zmq_socket(zsys_init(), ZMQ_DEALER);
    int timeout = 10000, linger = 0;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(s, endpoint);
    char buf[256];
    c->answered = zmq_send(s, "x", 1, 0) == 1 && zmq_recv(s, buf, sizeof buf, 0) > 0 ? 1 : -1;
    zmq_close(s);
    collab_broker_stop(c->broker);
    return NULL;
}

static void test_stop_is_per_broker(void)
{
    collab_broker_t *a = make("a"), *b = make("b");
    CHECK(a && b);
    if (!a || !b)
        return;
    collab_broker_stop(b);
    CHECK_OK(collab_broker_run(b)); /* stopped before it ran: returns at once */
    client_t c = {a, 0};
    pthread_t t;
    pthread_create(&t, NULL, client, &c);
    CHECK_OK(collab_broker_run(a)); /* until the client, answered, stops it */
    pthread_join(t, NULL);
    CHECK_EQ_INT(c.answered, 1);
    collab_broker_destroy(&a);
    collab_broker_destroy(&b);
}

static void test_stop_by_flag(void)
{
    static volatile sig_atomic_t flag = 1; /* as a signal handler would have set it */
    collab_broker_t *c = make("c");
    CHECK(c != NULL);
    if (!c)
        return;
    collab_broker_stop_on(c, &flag);
    CHECK_OK(collab_broker_run(c));
    collab_broker_destroy(&c);
}

/*  Removes the brokers' files (state, logs, locks) and the directory. */
static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/collab-stop-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    zsys_handler_set(NULL);
    TU_RUN(test_stop_is_per_broker);
    TU_RUN(test_stop_by_flag);
    remove_dir();
    zsys_shutdown();
    return tu_exit("test_broker_stop");
}

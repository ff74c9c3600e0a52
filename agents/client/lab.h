/*  lab.h: what the attack demonstrations of the menu need besides the attack itself: the
    demo agents' passwords (a file of "AGENT PASSWORD" lines or a folder of AGENT.pw
    files), and the lab put back afterwards. Before a demonstration an admin session notes
    the roles of the agents it involves and the newest session handle and project id; after
    it, the roles are restored, the sessions those agents gained are revoked and the
    projects the attack made are deleted, so that every demonstration gives the same
    verdict whatever ran before it, and a running swarm is left as it was. */
#ifndef LAB_H
#define LAB_H

#include "ops.h"

#define LAB_MAX_AGENTS 4

typedef struct lab lab_t;

/*  The password of agent from src (a file of "AGENT PASSWORD" lines, '#' comments, or a
    folder holding AGENT.pw). Returns 0, or -1 with the reason in err. */
int lab_password(const char *src, const char *agent, char *out, size_t cap, char *err,
                 size_t errlen);

/*  Logs in as admin (password from s->victim_passwords, key from --credentials, CURVE from
    curve_dir when not empty) and notes the state of the n agents. NULL with the reason in
    err when the lab cannot be watched (the demonstration then runs without clean-up). */
lab_t *lab_begin(const session_t *s, const char *curve_dir, const char *const *agents, size_t n,
                 char *err, size_t errlen);

/*  Puts back what changed since lab_begin, saying what on out, logs the admin out and
    frees the lab. NULL-safe; nulls the caller's pointer. */
void lab_restore(lab_t **self_p, FILE *out);

#endif

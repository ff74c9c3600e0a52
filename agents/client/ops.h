/*  ops.h: the interactive client's operations, one per menu item. Each asks its questions
    through the prompt, sends its request, and prints the broker's result or error. */
#ifndef OPS_H
#define OPS_H

#include "agent_cli.h"
#include "prompt.h"

#include <stdbool.h>

typedef struct {
    const agent_cli_t *cli;       /* endpoint, default agent and password, key source, timeouts */
    const char *curve_dir;        /* --curve-dir: broker.cert and AGENT.cert_secret ("" : none) */
    const char *victim_passwords; /* --victim-passwords: handed to the demos' attacks */
    prompt_t *p;
    FILE *out;
    collab_client_t *c; /* NULL while logged out */
    char agent[COLLAB_MAX_AGENT_ID + 1];
    bool has_key;
    bool relogin; /* the broker ended the session: the menu asks for a new login */
} session_t;

/*  Every operation returns 0 to go on, or -1 when the input ended. */
int ops_login(session_t *s);
int ops_logout(session_t *s);
int ops_create_project(session_t *s);
int ops_list_projects(session_t *s);
int ops_assign_task(session_t *s);
int ops_update_task(session_t *s);
int ops_project_details(session_t *s);

/*  Logs out (when logged in) and frees the connection. */
void ops_end(session_t *s);

/*  Shared by the operations (ops.c, ops_task.c). ops_call sends one request and prints
    why it failed: returns 0 with *r (to free) when the broker accepted it, 1 otherwise;
    a session the broker ended is said, dropped, and s->relogin set. */
int ops_call(session_t *s, const char *action, collab_pack_t *pk, collab_reply_t *r);
/*  Says "Not logged in" and returns true when there is no session. */
bool ops_need_login(session_t *s);
/*  Whether broker text is escaped before printing (the login reply's sanitize_output). */
bool ops_sanitize(const session_t *s);
/*  A uint field of a reply (0 when absent). */
unsigned long long ops_u64(const collab_reply_t *r, const char *key);

#endif

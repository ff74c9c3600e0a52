/*  ops.h: the interactive client's operations, one per menu item. Each asks its questions
    through the prompt, sends its request, and prints the broker's result or error. */
#ifndef OPS_H
#define OPS_H

#include "agent_cli.h"
#include "prompt.h"

#include <stdbool.h>

typedef struct {
    const agent_cli_t *cli; /* endpoint, default agent and password, key source, timeouts */
    prompt_t *p;
    FILE *out;
    collab_client_t *c; /* NULL while logged out */
    char agent[COLLAB_MAX_AGENT_ID + 1];
    bool has_key;
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

#endif

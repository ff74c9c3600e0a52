/*  demos.h: menu items 8-11, the seed's attack demonstrations: each narrates what is about
    to happen and why it works under stage2, runs the real attack (collab-attack) against
    the broker, shows its steps and its verdict, and says which control would stop it. */
#ifndef DEMOS_H
#define DEMOS_H

#include "ops.h"

int demo_stale_permissions(session_t *s); /* 8 */
int demo_replay(session_t *s);            /* 9 */
int demo_hijack(session_t *s);            /* 10 */
int demo_weak_role(session_t *s);         /* 11 */

#endif

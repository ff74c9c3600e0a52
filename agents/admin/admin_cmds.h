/*  admin_cmds.h: the one-shot commands of collab-admin. Each sends one admin action (or a
    few pages of one) and prints the result as an aligned table or, with --json, as JSON. */
#ifndef ADMIN_CMDS_H
#define ADMIN_CMDS_H

#include "collab_client.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    collab_client_t *c; /* logged in */
    const char *prog;
    bool json;     /* print JSON instead of text */
    bool has_key;  /* a key source was given, so signed actions can be sent */
    bool sanitize; /* escape broker strings (the login reply's sanitize_output) */
} admin_t;

typedef struct {
    const char *name;
    int min_args, max_args;
    const char *args, *help;
    int (*run)(admin_t *a, char **args, int nargs); /* returns an AGENT_EXIT_* code */
    /* checks the arguments before anything is sent: NULL, or returns false after a
       message on stderr (a usage error, exit 2) */
    bool (*check)(const char *prog, char **args, int nargs);
} admin_cmd_t;

/*  The command of that name, or NULL. */
const admin_cmd_t *admin_cmd_find(const char *name);

/*  Prints the usage: the commands, then the common options. */
void admin_usage(FILE *f);

#endif

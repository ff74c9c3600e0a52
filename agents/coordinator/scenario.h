/*  scenario.h: the coordinator's scenario file (JSON): projects, each with tasks of a type
    and a description. Loaded with cJSON into plain records, validated against the
    protocol's limits, with errors naming the file and the element. */
#ifndef SCENARIO_H
#define SCENARIO_H

#include "collab_limits.h"

#include <stddef.h>
#include <stdint.h>

#define SCENARIO_MAX_PROJECTS 100
#define SCENARIO_MAX_TASKS    1000

typedef struct {
    char type[COLLAB_IDENT_MAX + 1];
    char *title;
    char *description;
    size_t project; /* index into the scenario's projects */
    /* run-time state, owned by the coordinator */
    uint64_t task_id;
    char worker[COLLAB_MAX_AGENT_ID + 1];
    char status[COLLAB_IDENT_MAX + 1];
    char *result;
    int reassignments;
} scenario_task_t;

typedef struct {
    char *name;
    char *description;
    uint64_t project_id;
    int closed;
} scenario_project_t;

typedef struct {
    scenario_project_t projects[SCENARIO_MAX_PROJECTS];
    size_t nprojects;
    scenario_task_t tasks[SCENARIO_MAX_TASKS];
    size_t ntasks;
} scenario_t;

/*  Loads a scenario; on error returns -1 with "FILE: projects[1].tasks[0].type: ..." in err.
    The scenario is heap-allocated; free it with scenario_destroy. */
scenario_t *scenario_load(const char *path, char *err, size_t errlen);

/*  The same from len bytes of JSON text in memory (no NUL needed; a NUL ends the text);
    name stands for the file in err. */
scenario_t *scenario_parse(const char *text, size_t len, const char *name, char *err,
                           size_t errlen);
void scenario_destroy(scenario_t **self_p);

/*  Puts the run-time state back to the start (every task pending, no ids, no results),
    for the next round of the same scenario. */
void scenario_reset(scenario_t *sc);

/*  Replaces a task's result text (NULL-safe copy). */
void scenario_set_result(scenario_task_t *t, const char *s, size_t len);

#endif

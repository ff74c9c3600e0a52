/*  scenario.c: loading the scenario JSON (see scenario.h). */
#include "scenario.h"
#include "collab_text.h"
#include "readfile.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCENARIO_FILE_MAX (4u << 20)

/*  A text member: valid UTF-8 of min..max code points; returns a heap copy or NULL. */
static char *text(const cJSON *obj, const char *key, size_t min, size_t max, const char *where,
                  char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : (min == 0 && !v ? "" : NULL);
    if (!s) {
        snprintf(err, errlen, "%s.%s: must be a string", where, key);
        return NULL;
    }
    if (collab_text_check(s, strlen(s), min, max, false) != 0) {
        snprintf(err, errlen, "%s.%s: must be %zu to %zu characters of valid UTF-8", where, key,
                 min, max);
        return NULL;
    }
    return strdup(s);
}

static int load_task(scenario_t *sc, const cJSON *t, size_t pi, const char *where, char *err,
                     size_t errlen)
{
    if (sc->ntasks == SCENARIO_MAX_TASKS) {
        snprintf(err, errlen, "%s: more than %d tasks", where, SCENARIO_MAX_TASKS);
        return -1;
    }
    scenario_task_t *task = &sc->tasks[sc->ntasks];
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(t, "type");
    size_t tl = cJSON_IsString(type) ? strlen(type->valuestring) : 0;
    if (tl == 0 || tl > COLLAB_IDENT_MAX ||
        strspn(type->valuestring, "abcdefghijklmnopqrstuvwxyz_") != tl) {
        snprintf(err, errlen, "%s.type: must be 1-%d characters of [a-z_]", where,
                 COLLAB_IDENT_MAX);
        return -1;
    }
    snprintf(task->type, sizeof task->type, "%s", type->valuestring);
    task->title = text(t, "title", 1, COLLAB_NAME_MAX_CP, where, err, errlen);
    task->description =
        task->title ? text(t, "description", 0, COLLAB_DESC_MAX_CP, where, err, errlen) : NULL;
    if (!task->title || !task->description)
        return -1;
    task->project = pi;
    snprintf(task->status, sizeof task->status, "pending");
    sc->ntasks++;
    return 0;
}

static int load_project(scenario_t *sc, const cJSON *p, size_t pi, char *err, size_t errlen)
{
    char where[64];
    snprintf(where, sizeof where, "projects[%zu]", pi);
    scenario_project_t *proj = &sc->projects[pi];
    proj->name = text(p, "name", 1, COLLAB_NAME_MAX_CP, where, err, errlen);
    proj->description =
        proj->name ? text(p, "description", 0, COLLAB_DESC_MAX_CP, where, err, errlen) : NULL;
    if (!proj->name || !proj->description)
        return -1;
    sc->nprojects = pi + 1;
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(p, "tasks"), *t;
    if (!cJSON_IsArray(tasks) || cJSON_GetArraySize(tasks) == 0) {
        snprintf(err, errlen, "%s.tasks: must be a non-empty array", where);
        return -1;
    }
    size_t ti = 0;
    cJSON_ArrayForEach(t, tasks)
    {
        char twhere[96];
        snprintf(twhere, sizeof twhere, "%s.tasks[%zu]", where, ti++);
        if (load_task(sc, t, pi, twhere, err, errlen) != 0)
            return -1;
    }
    return 0;
}

scenario_t *scenario_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    char inner[400] = "";
    char *copy = malloc(len + 1); /* as read from a file: NUL-terminated, a NUL ends it */
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    cJSON *root = copy ? cJSON_Parse(copy) : NULL;
    free(copy);
    scenario_t *sc = calloc(1, sizeof *sc);
    const cJSON *projects = cJSON_GetObjectItemCaseSensitive(root, "projects"), *p;
    int rc = sc && root ? 0 : -1;
    if (!root)
        snprintf(inner, sizeof inner, "not valid JSON");
    else if (!sc)
        snprintf(inner, sizeof inner, "out of memory");
    else if (!cJSON_IsArray(projects) || cJSON_GetArraySize(projects) == 0 ||
             cJSON_GetArraySize(projects) > SCENARIO_MAX_PROJECTS) {
        snprintf(inner, sizeof inner, "projects: must be an array of 1-%d projects",
                 SCENARIO_MAX_PROJECTS);
        rc = -1;
    }
    size_t pi = 0;
    if (rc == 0)
        cJSON_ArrayForEach(p, projects) if (rc == 0) rc =
            load_project(sc, p, pi++, inner, sizeof inner);
    cJSON_Delete(root);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", name, inner);
        scenario_destroy(&sc);
    }
    return sc;
}

scenario_t *scenario_load(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *buf = agent_read_file(path, SCENARIO_FILE_MAX, &len, err, errlen);
    if (!buf)
        return NULL;
    scenario_t *sc = scenario_parse(buf, len, path, err, errlen);
    free(buf);
    return sc;
}

void scenario_reset(scenario_t *sc)
{
    for (size_t i = 0; i < sc->nprojects; i++) {
        sc->projects[i].project_id = 0;
        sc->projects[i].closed = 0;
    }
    for (size_t i = 0; i < sc->ntasks; i++) {
        scenario_task_t *t = &sc->tasks[i];
        t->task_id = 0;
        t->worker[0] = '\0';
        snprintf(t->status, sizeof t->status, "pending");
        free(t->result);
        t->result = NULL;
        t->reassignments = 0;
    }
}

void scenario_set_result(scenario_task_t *t, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, s, len);
    copy[len] = '\0';
    free(t->result);
    t->result = copy;
}

void scenario_destroy(scenario_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scenario_t *sc = *self_p;
    for (size_t i = 0; i < SCENARIO_MAX_PROJECTS; i++) {
        free(sc->projects[i].name);
        free(sc->projects[i].description);
    }
    for (size_t i = 0; i < SCENARIO_MAX_TASKS; i++) {
        free(sc->tasks[i].title);
        free(sc->tasks[i].description);
        free(sc->tasks[i].result);
    }
    free(sc);
    *self_p = NULL;
}

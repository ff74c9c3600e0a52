/*  fuzz_scenario.c: libFuzzer target for the coordinator's scenario JSON (scenario_parse, the
    code scenario_load runs on the file's bytes), plus what a loaded scenario promises: within
    the limits, every task in a project, every text valid, and reset/results working on it. */
#include "collab_text.h"
#include "scenario.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    scenario_t *sc = scenario_parse((const char *)data, size, "fuzz.json", err, sizeof err);
    if (!sc) {
        require(strncmp(err, "fuzz.json: ", 11) == 0);
        return 0;
    }
    require(sc->nprojects >= 1 && sc->nprojects <= SCENARIO_MAX_PROJECTS);
    require(sc->ntasks >= sc->nprojects && sc->ntasks <= SCENARIO_MAX_TASKS);
    for (size_t i = 0; i < sc->nprojects; i++) {
        const scenario_project_t *p = &sc->projects[i];
        require(p->name && p->description);
        require(collab_text_check(p->name, strlen(p->name), 1, COLLAB_NAME_MAX_CP, false) == 0);
    }
    for (size_t i = 0; i < sc->ntasks; i++) {
        scenario_task_t *t = &sc->tasks[i];
        require(t->project < sc->nprojects && t->title && t->description);
        require(t->type[0] && strspn(t->type, "abcdefghijklmnopqrstuvwxyz_") == strlen(t->type));
        require(strcmp(t->status, "pending") == 0 && !t->result);
        scenario_set_result(t, t->title, strlen(t->title));
        require(t->result && strcmp(t->result, t->title) == 0);
    }
    scenario_reset(sc);
    for (size_t i = 0; i < sc->ntasks; i++)
        require(!sc->tasks[i].result);
    scenario_destroy(&sc);
    require(sc == NULL);
    return 0;
}

/*  test_matrix_catalogue.c: collab-attack matrix's reading of its catalogue, on crafted
    catalogues and a broker that cannot start (so no cell runs an attack): the columns are
    stage2, hardened and the controls of collab_controls.def; a control's cell left out
    expects the row's stage2 verdict; a cell of no known configuration is refused (exit 2).
    Usage: test_matrix_catalogue PATH/TO/collab-attack */
#include "childproc.h"
#include "collab_controls.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

static const char *attack_exe;
static char dir[] = "/tmp/test_matrix_catalogue.XXXXXX";

static void write_catalogue(const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/attack_scenarios.json", dir);
    FILE *f = fopen(path, "w");
    if (CHECK(f != NULL)) {
        fputs(text, f);
        fclose(f);
    }
}

/*  Runs the matrix on dir's catalogue, the broker a file that does not exist; returns the
    exit code, the output in *c. */
static int run_matrix(child_t *c)
{
    char broker[128];
    snprintf(broker, sizeof broker, "%s/no-broker", dir);
    const char *argv[] = {
        attack_exe, "matrix", "--json", "--sample-data", dir, "--broker-exe", broker,
        "-j",       "2",      NULL};
    return child_run(c, argv, NULL, 60000);
}

/*  The expected verdict the matrix reports for one cell, "" when it has no such cell. */
static const char *expected(const cJSON *cells, const char *attack, const char *config)
{
    const cJSON *cell;
    cJSON_ArrayForEach(cell, cells)
    {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(cell, "attack"));
        const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(cell, "config"));
        if (a && c && strcmp(a, attack) == 0 && strcmp(c, config) == 0) {
            const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(cell, "expected"));
            return e ? e : "";
        }
    }
    return "";
}

static void test_missing_cells_default_to_stage2(void)
{
    write_catalogue("{\"attacks\": ["
                    " {\"attack\": \"a1\", \"expected\": {\"stage2\": \"SUCCEEDED\","
                    "  \"hardened\": \"BLOCKED\", \"replay\": \"BLOCKED\"}},"
                    " {\"attack\": \"a2\", \"expected\": {\"stage2\": \"BLOCKED\"}}]}");
    child_t c;
    CHECK_EQ_INT(run_matrix(&c), 1); /* no broker: every cell n/a, so every cell differs */
    cJSON *root = cJSON_Parse(c.out ? c.out : "");
    const cJSON *cells = cJSON_GetObjectItem(root, "cells");
    if (!CHECK(cells != NULL)) {
        fprintf(stderr, "  output: %s\n  errors: %s\n", c.out, c.err);
        child_free(&c);
        return;
    }
    /* the columns, in order: stage2, hardened, then the controls */
    CHECK_EQ_INT(cJSON_GetArraySize(cells), 2 * (2 + COLLAB_CONTROL_COUNT));
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        const cJSON *cell = cJSON_GetArrayItem(cells, 2 + i);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cell, "config")),
                  collab_control_name(i));
    }
    CHECK_STR(expected(cells, "a1", "stage2"), "SUCCEEDED");
    CHECK_STR(expected(cells, "a1", "hardened"), "BLOCKED");
    CHECK_STR(expected(cells, "a1", "replay"), "BLOCKED"); /* given */
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        if (i != COLLAB_CTL_REPLAY)
            CHECK_STR(expected(cells, "a1", collab_control_name(i)), "SUCCEEDED");
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        CHECK_STR(expected(cells, "a2", collab_control_name(i)), "BLOCKED");
    CHECK_STR(expected(cells, "a2", "hardened"), "unknown"); /* never defaulted */
    cJSON_Delete(root);
    child_free(&c);
}

static void test_unknown_configuration_refused(void)
{
    write_catalogue("{\"attacks\": [{\"attack\": \"a1\", \"expected\": {\"stage2\": "
                    "\"SUCCEEDED\", \"hardened\": \"BLOCKED\", \"replya\": \"BLOCKED\"}}]}");
    child_t c;
    CHECK_EQ_INT(run_matrix(&c), 2);
    CHECK(c.err && strstr(c.err, "'replya' is no configuration") != NULL);
    child_free(&c);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !mkdtemp(dir))
        return 2;
    attack_exe = argv[1];
    TU_RUN(test_missing_cells_default_to_stage2);
    TU_RUN(test_unknown_configuration_refused);
    char path[128];
    snprintf(path, sizeof path, "%s/attack_scenarios.json", dir);
    unlink(path);
    rmdir(dir);
    return tu_exit("test_matrix_catalogue");
}

/*  test_matrix_catalogue.c: collab-attack matrix's reading of its catalogue, on crafted
    catalogues and a broker that cannot start (so no cell runs an attack): the columns are
    stage2, hardened and the controls of collab_controls.def, replay_scope's named
    stage2+replay+replay_scope; a control's cell left out expects the row's stage2 verdict
    (replay_scope's: the replay cell); a single-broker row is not run in the cluster
    controls' columns; a cell of no known configuration, a cluster control's cell or a
    cluster placeholder in a single-broker row, a bus control's cell in a web row, {web} in a
    row without the gateway, and a "cluster" or "web" that is no boolean are refused (exit 2).
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
static int run_matrix_cols(child_t *c, const char *configs, const char *attacks)
{
    char broker[128];
    snprintf(broker, sizeof broker, "%s/no-broker", dir);
    const char *argv[16] = {attack_exe, "matrix", "--json", "--sample-data", dir, "--broker-exe",
                            broker,     "-j",     "2"};
    int n = 9;
    if (configs)
        argv[n++] = "--configs", argv[n++] = configs;
    if (attacks)
        argv[n++] = "--attacks", argv[n++] = attacks;
    argv[n] = NULL;
    return child_run(c, argv, NULL, 60000);
}

static int run_matrix(child_t *c)
{
    return run_matrix_cols(c, NULL, NULL);
}

/*  The matrix's column of control i. */
static const char *column(int i)
{
    return i == COLLAB_CTL_REPLAY_SCOPE ? "stage2+replay+replay_scope" : collab_control_name(i);
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
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cell, "config")), column(i));
    }
    CHECK_STR(expected(cells, "a1", "stage2"), "SUCCEEDED");
    CHECK_STR(expected(cells, "a1", "hardened"), "BLOCKED");
    CHECK_STR(expected(cells, "a1", "replay"), "BLOCKED"); /* given */
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        /* a single-broker row without the gateway: the cluster and web controls' cells are
           not run */
        bool cl = i == COLLAB_CTL_REPLAY_SCOPE || i == COLLAB_CTL_REVOCATION ||
                  i == COLLAB_CTL_STORE_ACCESS || i == COLLAB_CTL_WEB_SESSION ||
                  i == COLLAB_CTL_CSRF || i == COLLAB_CTL_WEB_OUTPUT || i == COLLAB_CTL_WEB_TOKEN;
        if (i != COLLAB_CTL_REPLAY)
            CHECK_STR(expected(cells, "a1", column(i)), cl ? "not applicable" : "SUCCEEDED");
        CHECK_STR(expected(cells, "a2", column(i)), cl ? "not applicable" : "BLOCKED");
    }
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

/*  Cluster rows: the replay_scope column, given by its column name, by the control's name, or
    left to the replay cell; the other cluster columns default to stage2. */
static void test_cluster_rows(void)
{
    write_catalogue(
        "{\"attacks\": ["
        " {\"attack\": \"c1\", \"cluster\": true, \"args\": [\"{broker2}\", \"{store}\"],"
        "  \"expected\": {\"stage2\": \"SUCCEEDED\", \"hardened\": \"BLOCKED\","
        "  \"replay\": \"BLOCKED\", \"store_access\": \"BLOCKED\"}},"
        " {\"attack\": \"c2\", \"cluster\": true, \"expected\": {\"stage2\": "
        "  \"SUCCEEDED\", \"hardened\": \"BLOCKED\", \"replay_scope\": \"BLOCKED\"}},"
        " {\"attack\": \"c3\", \"cluster\": true, \"expected\": {\"stage2\": "
        "  \"SUCCEEDED\", \"hardened\": \"BLOCKED\", \"replay\": \"SUCCEEDED\","
        "  \"stage2+replay+replay_scope\": \"BLOCKED\"}}]}");
    child_t c;
    /* replay_scope selects its column by the control's name */
    CHECK_EQ_INT(run_matrix_cols(&c, "stage2,replay_scope,revocation,store_access", NULL), 1);
    cJSON *root = cJSON_Parse(c.out ? c.out : "");
    const cJSON *cells = cJSON_GetObjectItem(root, "cells");
    if (CHECK(cells != NULL)) {
        CHECK_EQ_INT(cJSON_GetArraySize(cells), 3 * 4);
        CHECK_STR(expected(cells, "c1", "stage2+replay+replay_scope"), "BLOCKED"); /* replay's */
        CHECK_STR(expected(cells, "c1", "revocation"), "SUCCEEDED");
        CHECK_STR(expected(cells, "c1", "store_access"), "BLOCKED");
        CHECK_STR(expected(cells, "c2", "stage2+replay+replay_scope"), "BLOCKED");
        CHECK_STR(expected(cells, "c2", "store_access"), "SUCCEEDED");
        CHECK_STR(expected(cells, "c3", "stage2+replay+replay_scope"), "BLOCKED");
        CHECK_STR(expected(cells, "c3", "replay"), ""); /* not selected */
    } else
        fprintf(stderr, "  output: %s\n  errors: %s\n", c.out, c.err);
    cJSON_Delete(root);
    child_free(&c);
}

/*  A web row has cells in the web controls' columns (its own or stage2's) and none in the
    cluster controls' nor in the bus controls' (it runs stage2, hardened and the web
    columns: a browser per cell). */
static void test_web_rows(void)
{
    write_catalogue("{\"attacks\": ["
                    " {\"attack\": \"w1\", \"web\": true, \"expected\": {\"stage2\": "
                    "  \"SUCCEEDED\", \"hardened\": \"BLOCKED\", \"csrf\": \"BLOCKED\"}}]}");
    child_t c;
    CHECK_EQ_INT(run_matrix_cols(&c, "csrf,web_output,store_access,replay", NULL), 1);
    cJSON *root = cJSON_Parse(c.out ? c.out : "");
    const cJSON *cells = cJSON_GetObjectItem(root, "cells");
    if (CHECK(cells != NULL)) {
        CHECK_EQ_INT(cJSON_GetArraySize(cells), 4);
        CHECK_STR(expected(cells, "w1", "csrf"), "BLOCKED");
        CHECK_STR(expected(cells, "w1", "web_output"), "SUCCEEDED");
        CHECK_STR(expected(cells, "w1", "store_access"), "not applicable");
        CHECK_STR(expected(cells, "w1", "replay"), "not applicable");
    } else
        fprintf(stderr, "  output: %s\n  errors: %s\n", c.out, c.err);
    cJSON_Delete(root);
    child_free(&c);
}

/*  --attacks takes whole names: "c1x" does not select c1. */
static void test_attacks_by_whole_name(void)
{
    write_catalogue("{\"attacks\": ["
                    " {\"attack\": \"c1\", \"expected\": {\"stage2\": \"SUCCEEDED\"}},"
                    " {\"attack\": \"c1x\", \"expected\": {\"stage2\": \"SUCCEEDED\"}}]}");
    child_t c;
    CHECK_EQ_INT(run_matrix_cols(&c, "stage2", "c1x"), 1); /* no broker: the cell differs */
    cJSON *root = cJSON_Parse(c.out ? c.out : "");
    const cJSON *cells = cJSON_GetObjectItem(root, "cells");
    CHECK(cells && cJSON_GetArraySize(cells) == 1 && *expected(cells, "c1x", "stage2"));
    cJSON_Delete(root);
    child_free(&c);
}

/*  What a single-broker row cannot hold, and a "cluster" that is no boolean. */
static void test_cluster_refusals(void)
{
    static const struct {
        const char *row, *error;
    } bad[] = {
        {"\"cluster\": \"yes\", \"expected\": {\"stage2\": \"SUCCEEDED\"}",
         "\"cluster\" must be true or false"},
        {"\"args\": [\"--broker2\", \"{broker2}\"], \"expected\": {\"stage2\": \"SUCCEEDED\"}",
         "needs a cluster"},
        {"\"args\": [\"--store\", \"{store}\"], \"expected\": {\"stage2\": \"SUCCEEDED\"}",
         "needs a cluster"},
        {"\"expected\": {\"stage2\": \"SUCCEEDED\", \"store_access\": \"BLOCKED\"}",
         "'store_access' is a cluster control"},
        {"\"expected\": {\"stage2\": \"SUCCEEDED\", \"stage2+replay+replay_scope\": \"BLOCKED\"}",
         "is a cluster control"},
        {"\"cluster\": true, \"expected\": {\"stage2+replay_scope\": \"BLOCKED\"}",
         "is no configuration"},
        {"\"web\": 1, \"expected\": {\"stage2\": \"SUCCEEDED\"}", "\"web\" must be true or false"},
        {"\"expected\": {\"stage2\": \"SUCCEEDED\", \"csrf\": \"BLOCKED\"}",
         "'csrf' is a web control"},
        {"\"cluster\": true, \"expected\": {\"web_token\": \"BLOCKED\"}", "is a web control"},
        {"\"web\": true, \"expected\": {\"stage2\": \"SUCCEEDED\", \"replay\": \"BLOCKED\"}",
         "'replay' is a bus control"},
        {"\"args\": [\"--web\", \"{web}\"], \"expected\": {\"stage2\": \"SUCCEEDED\"}",
         "needs the gateway"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"attacks\": [{\"attack\": \"x\", %s}]}", bad[i].row);
        write_catalogue(text);
        child_t c;
        CHECK_EQ_INT(run_matrix(&c), 2);
        if (!CHECK(c.err && strstr(c.err, bad[i].error) != NULL))
            fprintf(stderr, "  row %zu: %s\n", i, c.err ? c.err : "");
        child_free(&c);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || !mkdtemp(dir))
        return 2;
    attack_exe = argv[1];
    TU_RUN(test_missing_cells_default_to_stage2);
    TU_RUN(test_unknown_configuration_refused);
    TU_RUN(test_cluster_rows);
    TU_RUN(test_web_rows);
    TU_RUN(test_cluster_refusals);
    TU_RUN(test_attacks_by_whole_name);
    char path[128];
    snprintf(path, sizeof path, "%s/attack_scenarios.json", dir);
    unlink(path);
    rmdir(dir);
    return tu_exit("test_matrix_catalogue");
}

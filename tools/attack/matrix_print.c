/*  matrix_print.c: collab-attack matrix's output (see matrixint.h): the table with a mark
    on every cell that differs from the catalogue, the legend, the reasons, or the JSON. */
#include "attack.h"
#include "matrixint.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

const char *matrix_mark(int outcome)
{
    return outcome == ATTACK_SUCCEEDED           ? "SUCCEEDED"
           : outcome == ATTACK_BLOCKED           ? "BLOCKED"
           : outcome == -2                       ? "n/a"
           : outcome == CATALOGUE_NOT_APPLICABLE ? "-"
                                                 : "ERROR";
}

/*  The JSON's verdict: mark's, with "not applicable" spelled out. */
static const char *json_mark(int outcome)
{
    return outcome == CATALOGUE_NOT_APPLICABLE ? "not applicable" : matrix_mark(outcome);
}

void matrix_print_table(const matrix_t *m, const cell_t *cells, int bad)
{
    printf("%-20s", "attack \\ config");
    for (int c = 0; c < m->cat.ncols; c++)
        printf(" %-10.10s", m->cat.cols[c]);
    printf("\n");
    for (int a = 0; a < m->cat.nattacks; a++) {
        printf("%-20s",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m->cat.attacks[a], "attack")));
        for (int c = 0; c < m->cat.ncols; c++) {
            const cell_t *cell = &cells[a * m->cat.ncols + c];
            bool differs = !cell->expected_known || cell->outcome != cell->expected;
            printf(" %-9.9s%s", matrix_mark(cell->outcome), differs ? "!" : " ");
        }
        printf("\n");
    }
    bool legend = false;
    for (int c = 0; c < m->cat.ncols; c++) /* a chain of controls: its full name */
        if (strchr(m->cat.cols[c], '+')) {
            printf("%s%.10s = %s", legend ? "; " : "\ncolumns: ", m->cat.cols[c], m->cat.cols[c]);
            legend = true;
        }
    bool skipped = false;
    for (int i = 0; i < m->cat.nattacks * m->cat.ncols; i++)
        skipped |= cells[i].outcome == CATALOGUE_NOT_APPLICABLE;
    printf("\n%s", skipped ? "- : not run (a cluster control for a row of one broker, a web "
                             "control for a row without the gateway, a bus control for a web "
                             "row: see the reasons)\n"
                           : "");
    printf("\nreasons:\n");
    for (int a = 0; a < m->cat.nattacks; a++)
        for (int c = 0; c < m->cat.ncols; c++) {
            const cell_t *cell = &cells[a * m->cat.ncols + c];
            printf(
                "  %-20s %-17s %-9s %s\n",
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m->cat.attacks[a], "attack")),
                m->cat.cols[c], matrix_mark(cell->outcome), cell->reason);
        }
    printf("\n%d cell(s) differ from %s%s\n", bad, m->catalogue, bad ? " (marked !)" : "");
}

void matrix_print_json(const matrix_t *m, const cell_t *cells, int bad, FILE *out)
{
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "cells");
    for (int i = 0; i < m->cat.nattacks * m->cat.ncols; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "attack",
                                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                    m->cat.attacks[i / m->cat.ncols], "attack")));
        cJSON_AddStringToObject(o, "config", m->cat.cols[i % m->cat.ncols]);
        cJSON_AddStringToObject(o, "verdict", json_mark(cells[i].outcome));
        cJSON_AddStringToObject(o, "expected",
                                cells[i].expected_known ? json_mark(cells[i].expected) : "unknown");
        cJSON_AddStringToObject(o, "reason", cells[i].reason);
        if (cells[i].decided_by[0])
            cJSON_AddStringToObject(o, "decided_by", cells[i].decided_by);
        else
            cJSON_AddNullToObject(o, "decided_by");
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddNumberToObject(root, "mismatches", bad);
    char *s = cJSON_Print(root);
    fprintf(out, "%s\n", s ? s : "{}");
    free(s);
    cJSON_Delete(root);
}

/*  matrixint.h: what the parts of collab-attack matrix share (matrix.c runs the cells,
    matrix_print.c prints them): the matrix's settings and one cell's outcome. */
#ifndef MATRIXINT_H
#define MATRIXINT_H

#include "catalogue.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct {
    char exe_dir[PATH_MAX / 2];
    char broker_exe[PATH_MAX], self_exe[PATH_MAX], web_exe[PATH_MAX];
    char catalogue[PATH_MAX], creds[PATH_MAX], passwords[PATH_MAX], data_dir[PATH_MAX / 2];
    int jobs;
    bool json;
    const char *json_out; /* --json-out FILE: the JSON there too, the table on stdout */
    const char *only;     /* a comma list of attacks, or NULL */
    catalogue_t cat;      /* its attacks and columns */
} matrix_t;

typedef struct {
    int outcome; /* ATTACK_*, -2: configuration not available, or CATALOGUE_NOT_APPLICABLE */
    bool expected_known;
    int expected;
    char reason[300];
    char decided_by[32]; /* the attack's own --json decided_by, "" for null */
} cell_t;

/*  A cell's verdict as the table shows it: SUCCEEDED, BLOCKED, n/a, - or ERROR. */
const char *matrix_mark(int outcome);

/*  The table, the legend, each cell's reason and the count of cells that differ. */
void matrix_print_table(const matrix_t *m, const cell_t *cells, int bad);

/*  The cells as JSON (attack, config, verdict, expected, reason, decided_by) to out. */
void matrix_print_json(const matrix_t *m, const cell_t *cells, int bad, FILE *out);

#endif

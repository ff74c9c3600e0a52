/*  admin_out.h: how collab-admin shows reply data: aligned text tables built from arrays of
    maps (strings from the broker escaped when the login reply asked for sanitized output),
    and a MessagePack-to-cJSON conversion for --json. */
#ifndef ADMIN_OUT_H
#define ADMIN_OUT_H

#include "collab.h"
#include "mp_json.h"

#include <cJSON.h>
#include <stdbool.h>
#include "textout.h"

#include <stdio.h>

/*  How one column shows its field of a row map. */
typedef enum {
    OUT_STR,     /* a str, escaped or raw */
    OUT_UINT,    /* a uint */
    OUT_BOOL,    /* yes / no */
    OUT_TIME,    /* Unix ms shown as local date and time; 0 as "-" */
    OUT_STRLIST, /* an array of str joined with commas */
} out_kind_t;

typedef struct {
    const char *header;
    const char *key;
    out_kind_t kind;
} out_col_t;

typedef struct out_table out_table_t;

/*  A table with these columns (the array stays the caller's). NULL on no memory. */
out_table_t *out_table_new(const out_col_t *cols, size_t ncols, bool sanitize);
void out_table_destroy(out_table_t **self_p);

/*  Adds one row per map of the array data[key]. Returns 0, or a negative code when the
    field is not an array of maps. */
int out_table_add(out_table_t *self, const collab_map_t *data, const char *key);

/*  Rows added so far. */
size_t out_table_rows(const out_table_t *self);

/*  Prints the header and the rows, columns padded to their widest cell. */
void out_table_print(const out_table_t *self, FILE *f);

/*  Prints "name  value" lines, one per top-level field of a map of scalars, aligned. */
void out_fields_print(const collab_map_t *data, bool sanitize, FILE *f);

#endif

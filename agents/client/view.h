/*  view.h: how the interactive client shows what the broker returns: text escaped with
    collab_text_escape when the login reply asked for sanitized output, raw otherwise
    (stage2's deliberate weakness), and the project list and details as tables. */
#ifndef VIEW_H
#define VIEW_H

#include "collab_client.h"

#include <stdbool.h>
#include "textout.h"

#include <stdio.h>

/*  Writes the str field key of m (or def when absent). */
void view_field(FILE *f, const collab_map_t *m, const char *key, const char *def, bool sanitize);

/*  Calls fn for each map of the array data[key]; returns how many there were. */
size_t view_each(const collab_map_t *data, const char *key,
                 void (*fn)(FILE *f, const collab_map_t *item, bool sanitize), FILE *f,
                 bool sanitize);

/*  One row of the project list, and its heading. */
void view_project_heading(FILE *f);
void view_project_row(FILE *f, const collab_map_t *project, bool sanitize);

/*  The head of a project's details (name, owner, status, description), and one task row
    with its heading. */
void view_project_head(FILE *f, const collab_map_t *project, bool sanitize);
void view_task_heading(FILE *f);
void view_task_row(FILE *f, const collab_map_t *task, bool sanitize);

#endif

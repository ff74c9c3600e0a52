/*  board.h: collab-observer's live table: the projects and tasks it knows, filled once from
    list_projects / get_project (read-only actions) and kept current from the events, drawn
    in place on a terminal with the latest event lines below it. */
#ifndef BOARD_H
#define BOARD_H

#include "collab_client.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct board board_t;

/*  An empty board; sanitize escapes broker text when drawing. NULL on no memory. */
board_t *board_new(bool sanitize);
void board_destroy(board_t **self_p);

/*  Reads every project and its tasks through the client. Returns 0, or the failed
    request's code (a timeout, or a reply's error). */
int board_load(board_t *self, collab_client_t *c);

/*  Updates the projects and tasks from one event (others are ignored). */
void board_apply(board_t *self, const collab_event_msg_t *ev);

/*  Keeps one event line (the board copies it) among the latest shown below the table. */
void board_log(board_t *self, const char *line, size_t len);

/*  Clears the terminal and draws the table and the latest lines within rows x cols. */
void board_draw(const board_t *self, FILE *f, int rows, int cols);

/*  Counts, for the heading and for tests. */
size_t board_projects(const board_t *self);
size_t board_tasks(const board_t *self);

#endif

/*  reconcile.h: the coordinator's writes when their reply never came. With several
    endpoints the client library does not send a timed-out write again (collab_client.h):
    its broker may have done it before it died, and nothing de-duplicates. So the
    coordinator reads the state through the broker it moved to and sends only what is
    missing: a project not created, a task not assigned, a project not closed or deleted,
    a task not reassigned. Never a duplicate; the lab's replays keep their meaning. */
#ifndef RECONCILE_H
#define RECONCILE_H

#include "coordinator.h"

/*  Whether a write took effect, read from the state: 1 (and what was found is recorded
    in arg's records), 0 (not done: it may be sent again), or a negative code (the read
    failed: nothing can be told). */
typedef int (*coord_done_fn)(coord_t *co, void *arg);

#define COORD_DONE  1 /* coord_write: found done by reading; no reply */
#define COORD_SENDS 3 /* coord_write: at most this many sends of one write */

/*  Sends action with p's payload. When it times out, asks done (NULL: no reading, the
    timeout is returned) and sends it again only when it was not done, up to COORD_SENDS
    sends. Returns 0 with *r to free (the reply came, ok), COORD_DONE (done, as read; no
    *r), or a negative code (a refusal, a timeout, a failed read). */
int coord_write(coord_t *co, collab_reply_t *r, const char *action, collab_pack_t *p,
                coord_done_fn done, void *arg);

/*  Reads a paged array element by element: list_projects' projects (project_id 0) or
    get_project's tasks. fn returns 0 to go on; anything else stops the reading and is
    returned. Returns 0 at the end, or a negative code when a read failed. */
typedef int (*coord_each_fn)(coord_t *co, const collab_map_t *m, void *arg);
int coord_read_each(coord_t *co, uint64_t project_id, coord_each_fn fn, void *arg);

/*  The done functions, one per write, with their arg. */
typedef struct {
    scenario_project_t *p;
    const char *name; /* the name it was created with (this round's) */
} coord_new_project_t;
/*  create_project: an open project of this coordinator's with that name and no task,
    which no other project of the scenario holds; the newest. Sets p->project_id. */
int coord_project_created(coord_t *co, void *arg);
/*  assign_task (arg: the scenario_task_t): a task of its project with its type and
    title, assigned by this coordinator, that no other task of the scenario holds. Sets
    the task's id, worker and status. */
int coord_task_assigned(coord_t *co, void *arg);
/*  close_project (arg: the scenario_project_t): the project is closed. */
int coord_project_closed(coord_t *co, void *arg);
/*  delete_project (arg: the scenario_project_t): the project is gone. */
int coord_project_deleted(coord_t *co, void *arg);
typedef struct {
    scenario_task_t *t;
    const char *worker;
} coord_reassign_t;
/*  reassign_task: the task is assigned to that worker now. */
int coord_task_reassigned(coord_t *co, void *arg);

#endif

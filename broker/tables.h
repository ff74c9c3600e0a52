/*  tables.h: the broker's in-memory collaboration state, the source of every read.
    Agents live in a fixed array (from the credentials file); sessions are indexed by token
    and linked per agent; projects are kept in id order with their tasks in id order, and
    tasks are also indexed by id. The tables own every record they hold. */
#ifndef COLLAB_TABLES_H
#define COLLAB_TABLES_H

#include "model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct collab_tables collab_tables_t;

collab_tables_t *collab_tables_new(void);
void collab_tables_destroy(collab_tables_t **self_p);

/*  Agents: added once at start-up; returns the stored copy or NULL (no memory, or the
    agent exists). */
collab_agent_t *collab_tables_add_agent(collab_tables_t *self, const collab_agent_t *a);
collab_agent_t *collab_tables_agent(collab_tables_t *self, const char *id, size_t len);
size_t collab_tables_agent_count(const collab_tables_t *self);
collab_agent_t *collab_tables_agent_at(collab_tables_t *self, size_t i);

/*  Sessions: the tables copy *s and link it to its agent (which must exist). Returns the
    stored session or NULL. */
collab_session_t *collab_tables_add_session(collab_tables_t *self, const collab_session_t *s);
collab_session_t *collab_tables_session(collab_tables_t *self, const char *token, size_t len);
collab_session_t *collab_tables_session_by_handle(collab_tables_t *self, uint64_t handle);
/*  Unlinks and frees the session; *s_p is nulled. */
void collab_tables_remove_session(collab_tables_t *self, collab_session_t **s_p);
size_t collab_tables_session_count(const collab_tables_t *self);
/*  Iteration over all sessions (unordered); do not add or remove while iterating. */
collab_session_t *collab_tables_session_first(collab_tables_t *self);
collab_session_t *collab_tables_session_next(collab_tables_t *self);
/*  Marks the agent's session s subscribed to every event or not, keeping the counts. */
void collab_tables_set_follow_all(collab_tables_t *self, collab_agent_t *agent, collab_session_t *s,
                                  bool all);
/*  Sessions subscribed to every event, over all agents (0: no one to look for). */
size_t collab_tables_follow_all_count(const collab_tables_t *self);
/*  The agent's sessions, newest first, through next_of_agent. */
collab_session_t *collab_tables_agent_sessions(collab_agent_t *agent);

/*  Projects and tasks: the tables take copies, duplicating the heap strings. */
collab_project_t *collab_tables_add_project(collab_tables_t *self, const collab_project_t *p);
collab_project_t *collab_tables_project(collab_tables_t *self, uint64_t id);
/*  Removes the project and all its tasks. */
void collab_tables_remove_project(collab_tables_t *self, uint64_t id);
size_t collab_tables_project_count(const collab_tables_t *self);
/*  The i-th project in id order. */
collab_project_t *collab_tables_project_at(collab_tables_t *self, size_t i);
/*  Projects owned by an agent (for the per-agent quota). */
uint32_t collab_tables_projects_owned(const collab_tables_t *self, const char *owner);

collab_task_t *collab_tables_add_task(collab_tables_t *self, const collab_task_t *t);
collab_task_t *collab_tables_task(collab_tables_t *self, uint64_t id);
/*  Removes one task from its project (a refused assign_task, collab_verdict_release);
    no-op when there is none. */
void collab_tables_remove_task(collab_tables_t *self, uint64_t id);
/*  The project's tasks in id order: *count receives their number. Lent. */
collab_task_t **collab_tables_project_tasks(collab_tables_t *self, uint64_t project_id,
                                            size_t *count);
/*  Replaces a heap string field (name, description, title, result) with a copy of s.
    Returns 0 or COLLAB_E_NOMEM (the old value is kept). */
int collab_tables_set_text(char **field, const char *s, size_t len);

/*  Takes an agent's stored state (role, password hash, registration, capabilities, last
    seen, lockout, event sequence) from a record the store gave, into the agent of the same
    id that the credentials file made. The event sequence only moves forward. Returns that
    agent, or NULL when the credentials file has no such agent (its record is then unused). */
collab_agent_t *collab_tables_restore_agent(collab_tables_t *self, const collab_agent_t *row);

#endif

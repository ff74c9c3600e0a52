/*  attweb.h: what the four web attacks share (att_web.c): the attacker's own web client,
    the scripted web victim (web_victim.py, a real headless Chromium where a browser is the
    victim), the bus victim that assigns the attacker's worker a task, and the task result
    the worker writes through the gateway. */
#ifndef ATTWEB_H
#define ATTWEB_H

#include "attack.h"
#include "webclient.h"

#include <stdint.h>

/*  The task title the bus victim's "assign" script gives (tools/attack/victim_main.c). */
#define WEB_VICTIM_TASK_TITLE "write the release notes"

/*  A web client for --web, or NULL with v set (ERROR: no --web, or a target refused). */
webc_t *web_client(const attack_opts_t *o, verdict_t *v);

/*  The attacker's own account logged in to the gateway with its own password (--agent,
    --password-file), its CSRF token taken from /api/me when the gateway gives one; NULL
    with v set (ERROR). */
webc_t *web_own(const attack_opts_t *o, verdict_t *v);

/*  Starts web_victim.py as agent running script (login, hold, click, visit, board) with
    extra NULL-terminated arguments; its password path comes from the victim paths of o,
    which the attack never opens. */
int web_victim_start(victim_t *vp, const attack_opts_t *o, const char *agent, const char *script,
                     const char *const *extra);

/*  The bus victim coordinator1 creates a project and assigns worker a task; *task gets its
    id. Returns 0, or -1 with v set (ERROR). */
int web_assign(const attack_opts_t *o, verdict_t *v, const char *worker, uint64_t *task);

/*  The attacker's worker reports task completed with result, through the gateway (POST
    /api/tasks/status: in_progress, then completed). Returns 0, or -1 with v set. */
int web_complete(webc_t *w, verdict_t *v, uint64_t task, const char *result);

/*  16 random hex digits: names what one run of an attack makes. */
void web_nonce(char out[17]);

#endif

/*  menu.c: the interactive client's menu loop (see menu.h). */
#include "demos.h"
#include "menu.h"
#include "agent_stop.h"
#include "collab_text.h"

#include <stdlib.h>
#include <string.h>

static void banner(FILE *f)
{
    fputs("╔════════════════════════════════════════════════╗\n"
          "║   Task Collaboration Client - Stage 2          ║\n"
          "║   ⚠️  PARTIAL SECURITY - Still Vulnerable     ║\n"
          "╚════════════════════════════════════════════════╝\n",
          f);
}

static void menu(const session_t *s)
{
    fputs("\nAuthentication Required:\n"
          "  1. Login (with password)\n"
          "  2. Logout\n"
          "\nNormal Operations:\n"
          "  3. Create new project\n"
          "  4. List projects\n"
          "  5. Assign task to worker\n"
          "  6. Update task status\n"
          "  7. Get project details\n"
          "\nAttack Demonstrations:\n"
          "  8. [ATTACK] Stale permissions demo\n"
          "  9. [ATTACK] Replay attack demo (STILL WORKS!)\n"
          "  10. [ATTACK] Session hijacking attempt\n"
          "  11. [ATTACK] Weak role enforcement\n"
          "\n  0. Quit\n\n",
          s->out);
    if (s->c)
        fprintf(s->out, "[logged in as %s]\n", s->agent);
    else
        fputs("[not logged in]\n", s->out);
}

typedef int (*op_fn)(session_t *s);

static const op_fn ops[] = {NULL,
                            ops_login,
                            ops_logout,
                            ops_create_project,
                            ops_list_projects,
                            ops_assign_task,
                            ops_update_task,
                            ops_project_details,
                            demo_stale_permissions,
                            demo_replay,
                            demo_hijack,
                            demo_weak_role};

int menu_run(session_t *s)
{
    banner(s->out);
    for (;;) {
        menu(s);
        const char *choice = prompt_word(s->p, "Choice: ");
        if (!choice) {
            fputs(agent_stop_signal() ? "\nStopped by a signal: quitting.\n"
                                      : "\nEnd of input: quitting.\n",
                  s->out);
            break;
        }
        if (strcmp(choice, "0") == 0) {
            fputs("Goodbye.\n", s->out);
            break;
        }
        long item;
        if (collab_parse_long(choice, 1, 11, &item) != 0) {
            fprintf(s->out, "Unknown choice '%s': pick 0 to 11.\n", choice);
            continue;
        }
        int rc = ops[item](s);
        if (rc == 0 && s->relogin) /* the broker ended the session: log in again */
            rc = ops_login(s);
        if (rc < 0) {
            fputs("\nEnd of input: quitting.\n", s->out);
            break;
        }
    }
    ops_end(s);
    fflush(s->out);
    return 0;
}

/*  menu.c: the interactive client's menu loop (see menu.h). */
#include "menu.h"

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
                            ops_project_details};

int menu_run(session_t *s)
{
    banner(s->out);
    for (;;) {
        menu(s);
        const char *choice = prompt_word(s->p, "Choice: ");
        if (!choice) {
            fputs("\nEnd of input: quitting.\n", s->out);
            break;
        }
        if (strcmp(choice, "0") == 0) {
            fputs("Goodbye.\n", s->out);
            break;
        }
        size_t n = strlen(choice);
        if (n != 1 || choice[0] < '1' || choice[0] > '7') {
            fprintf(s->out, "Unknown choice '%s': pick 0 to 7.\n", choice);
            continue;
        }
        if (ops[choice[0] - '0'](s) < 0) {
            fputs("\nEnd of input: quitting.\n", s->out);
            break;
        }
    }
    ops_end(s);
    fflush(s->out);
    return 0;
}

/*  menu.h: the seed's interactive menu (Task Collaboration Client - Stage 2): the banner,
    the numbered choices, and the loop that reads one choice per line until 0 or the end
    of input. */
#ifndef MENU_H
#define MENU_H

#include "ops.h"

/*  Runs the menu over the session until the user quits or the input ends. Returns 0. */
int menu_run(session_t *s);

#endif

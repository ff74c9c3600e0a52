/*  textout.h: how every agent prints text that came from the broker: raw under the weak
    text-fields control (the stage2 weakness the terminal-injection attack shows), escaped
    with collab_text_escape when the login reply says sanitize_output. */
#ifndef AGENT_TEXTOUT_H
#define AGENT_TEXTOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*  Writes len bytes of broker text to f, escaped when sanitize, otherwise raw. */
void agent_print_text(FILE *f, const char *s, size_t len, bool sanitize);

#endif

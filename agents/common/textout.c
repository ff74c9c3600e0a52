/*  textout.c: printing broker text (see textout.h). */
#include "textout.h"
#include "collab_text.h"

#include <stdlib.h>

void agent_print_text(FILE *f, const char *s, size_t len, bool sanitize)
{
    if (!sanitize) {
        fwrite(s, 1, len, f);
        return;
    }
    size_t cap = 6 * len + 1; /* the longest escape, \u202e, is 6 bytes for 3 */
    char *buf = malloc(cap);
    if (!buf)
        return;
    fwrite(buf, 1, collab_text_escape(s, len, buf, cap), f);
    free(buf);
}

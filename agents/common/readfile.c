/*  readfile.c: bounded whole-file reads (see readfile.h). The buffer grows with what is
    read, so a small file costs a small allocation whatever the bound. */
#include "readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *agent_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    const char *why = NULL;
    for (;;) {
        if (cap - n < 2) { /* room for one byte beyond max (to see it), and the NUL */
            size_t ncap = cap ? cap * 2 : 4096;
            if (ncap > max + 2)
                ncap = max + 2; /* n <= max here, so this still grows */
            char *p = realloc(buf, ncap);
            if (!p) {
                why = "out of memory";
                break;
            }
            buf = p;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, f);
        n += r;
        if (n > max) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
            why = "";
            break;
        }
        if (r == 0) {
            if (ferror(f))
                why = "read error";
            break;
        }
    }
    fclose(f);
    if (why) {
        if (*why)
            snprintf(err, errlen, "%s: %s", path, why);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

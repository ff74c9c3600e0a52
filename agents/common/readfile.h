/*  readfile.h: a whole small file into memory, bounded: the agents' and tools' JSON inputs
    (credentials, scenarios, the attack catalogue). */
#ifndef AGENT_READFILE_H
#define AGENT_READFILE_H

#include <stddef.h>

/*  Reads path into a NUL-terminated heap buffer (the caller frees it) holding at most max
    bytes; *len (may be NULL) receives the length. On failure returns NULL with
    "PATH: reason" in err: cannot open, larger than max, read error, out of memory. */
char *agent_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif

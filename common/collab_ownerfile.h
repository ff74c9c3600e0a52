/*  collab_ownerfile.h: reading a small secret file that must be the owner's alone (a Redis
    password file, the web token key): a regular file, no permission for group or others,
    not longer than the caller allows. Plain libc. */
#ifndef COLLAB_OWNERFILE_H
#define COLLAB_OWNERFILE_H

#include <stddef.h>

#define COLLAB_OWNERFILE_NOT_FOUND (-1) /* no such file, or no path given */
#define COLLAB_OWNERFILE_REFUSED   (-2) /* cannot be read, or refused for its type, mode or size */

/*  Opens path (a FIFO never blocks the open: it is refused) and reads it into buf, at most
    cap - 1 bytes, NUL-terminated. Refuses anything but a regular file, a mode that lets group
    or others at it (the mode in octal and `chmod 600` in the reason) and a file longer than
    cap - 1 bytes. Returns the length, or COLLAB_OWNERFILE_NOT_FOUND or _REFUSED with a
    sentence in err: "WHAT PATH: why" (what: "password file", ...), never the file's bytes.
    The caller wipes buf whatever the outcome. */
int collab_ownerfile_read(const char *what, const char *path, char *buf, size_t cap, char *err,
                          size_t errlen);

#endif

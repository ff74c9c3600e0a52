/*  collab_port.h: a loopback TCP port for a server that cannot take an ephemeral one itself
    (redis-server: `port 0` turns TCP off), and where such a server's program is. The port
    was free a moment ago and may be taken before the server binds it: callers retry on a
    clash. */
#ifndef COLLAB_PORT_H
#define COLLAB_PORT_H

#include <stddef.h>

/*  A port on 127.0.0.1 that the kernel just gave (bound with port 0, then released), or -1. */
int collab_port_free(void);

/*  The path of the executable name on PATH, else in /usr/bin, /usr/sbin or /usr/local/bin
    (where Debian puts servers), written into out. Returns out, or NULL when none is found
    or the path does not fit. */
const char *collab_port_find_program(const char *name, char *out, size_t cap);

#endif

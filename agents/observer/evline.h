/*  evline.h: one readable line per event for collab-observer: local time, sequence number,
    event name and the event's main fields. Strings from the broker are escaped when the
    login reply asked for sanitized output, and printed raw otherwise (stage2's weakness). */
#ifndef EVLINE_H
#define EVLINE_H

#include "collab_client.h"

#include <stdbool.h>
#include "textout.h"

#include <stdio.h>

/*  Writes "HH:MM:SS.mmm #SEQ EVENT key=value ...\n" to f. */
void evline_print(FILE *f, const collab_event_msg_t *ev, bool sanitize);

#endif

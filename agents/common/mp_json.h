/*  mp_json.h: a bus reply's or event's MessagePack data map as a cJSON object, bounded by
    the protocol's own limits: what collab-admin --json prints and what collab-web answers. */
#ifndef COLLAB_MP_JSON_H
#define COLLAB_MP_JSON_H

#include "collab.h"

#include <cjson/cJSON.h>

/*  The map's entries as a JSON object (bin as hex, ext as null, uint64 as a number); NULL
    on no memory or a nesting beyond COLLAB_MAX_DEPTH. The caller deletes it. */
cJSON *collab_json_from_map(const collab_map_t *m);

#endif

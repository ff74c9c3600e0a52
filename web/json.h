/*  json.h: collab-web's JSON out (cJSON): a bus reply's or event's MessagePack data as a
    JSON object, bounded by the protocol's own limits, and the error body. */
#ifndef WEB_JSON_H
#define WEB_JSON_H

#include "collab.h"

#include <cjson/cJSON.h>

/*  The map's entries as a JSON object (bin as hex, ext as null); NULL on memory or a
    nesting beyond COLLAB_MAX_DEPTH. The caller deletes it. */
cJSON *web_json_from_map(const collab_map_t *m);

/*  {"error": name, "message": message}: the body of every refusal. NULL on memory. */
cJSON *web_json_error(const char *name, const char *message);

/*  The HTTP status that stands for a collab error code (the broker's refusal or a local
    one): 400, 401, 403, 404, 409, 429, 502, 503 or 504. */
unsigned web_status_for(int code);

#endif

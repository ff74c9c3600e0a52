/*  json.h: collab-web's JSON out (cJSON): the error body and the HTTP status of an error;
    a bus reply's data as JSON is collab_json_from_map (mp_json.h). */
#ifndef WEB_JSON_H
#define WEB_JSON_H

#include "collab.h"
#include "mp_json.h"

#include <cjson/cJSON.h>

/*  {"error": name, "message": message}: the body of every refusal. NULL on memory. */
cJSON *web_json_error(const char *name, const char *message);

/*  The HTTP status that stands for a collab error code (the broker's refusal or a local
    one): 400, 401, 403, 404, 409, 429, 502, 503 or 504. */
unsigned web_status_for(int code);

#endif

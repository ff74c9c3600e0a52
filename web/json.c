/*  json.c: MessagePack data to cJSON, and the error shape (json.h). */
#include "json.h"

#include <stdlib.h>

cJSON *web_json_error(const char *name, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "error", name) ||
              !cJSON_AddStringToObject(o, "message", message ? message : ""))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

unsigned web_status_for(int code)
{
    switch (code) {
    case COLLAB_E_AUTH_FAILED:
    case COLLAB_E_LOCKED_OUT:
    case COLLAB_E_SESSION_INVALID:
    case COLLAB_E_SESSION_EXPIRED:
        return 401;
    case COLLAB_E_FORBIDDEN:
        return 403;
    case COLLAB_E_NOT_FOUND:
        return 404;
    case COLLAB_E_CONFLICT:
    case COLLAB_E_QUOTA:
        return 409;
    case COLLAB_E_RATE_LIMITED:
    case COLLAB_E_SESSION_LIMIT:
        return 429;
    case COLLAB_E_TOO_LARGE:
        return 413;
    case COLLAB_E_TIMEOUT:
        return 504;
    case COLLAB_E_BUSY:
    case COLLAB_E_UNAVAILABLE:
        return 503;
    case COLLAB_E_INTERNAL:
    case COLLAB_E_NOMEM:
    case COLLAB_E_IO:
        return 502;
    default:
        return 400;
    }
}

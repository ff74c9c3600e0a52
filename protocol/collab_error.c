/*  collab_error.c: names and sentences for the error codes of collab_error.h. */
#include "collab_error.h"

#include <stddef.h>

typedef struct {
    int code;
    const char *name;
    const char *text;
} err_row_t;

static const err_row_t rows[] = {
    {COLLAB_OK, "ok", "success"},
    {COLLAB_E_MALFORMED, "malformed",
     "message is not well-formed MessagePack of the required shape"},
    {COLLAB_E_VERSION, "version", "protocol version not supported"},
    {COLLAB_E_TOO_LARGE, "too_large", "message or field larger than its limit"},
    {COLLAB_E_FIELD_MISSING, "field_missing", "a required field is missing"},
    {COLLAB_E_FIELD_TYPE, "field_type", "a field has the wrong type"},
    {COLLAB_E_LIMIT, "limit", "a length, count or depth is outside its limit"},
    {COLLAB_E_UTF8, "utf8", "text is not valid UTF-8"},
    {COLLAB_E_UNKNOWN_ACTION, "unknown_action", "unknown action"},
    {COLLAB_E_BAD_TEXT, "bad_text", "text contains refused control characters"},
    {COLLAB_E_FRAMES, "frames", "wrong number of message frames"},
    {COLLAB_E_AUTH_FAILED, "auth_failed", "unknown agent or wrong password"},
    {COLLAB_E_LOCKED_OUT, "locked_out", "too many failed logins; account locked for a while"},
    {COLLAB_E_SESSION_INVALID, "session_invalid",
     "no such session (logged out, revoked or unknown)"},
    {COLLAB_E_SESSION_EXPIRED, "session_expired", "session expired"},
    {COLLAB_E_AGENT_MISMATCH, "agent_mismatch", "agent_id does not match the session's agent"},
    {COLLAB_E_SIGNATURE_MISSING, "signature_missing", "this request must be signed"},
    {COLLAB_E_BAD_SIGNATURE, "bad_signature", "signature does not verify"},
    {COLLAB_E_STALE_TIMESTAMP, "stale_timestamp", "timestamp outside the accepted window"},
    {COLLAB_E_REPLAY, "replay", "nonce or signature already seen"},
    {COLLAB_E_NONCE_MISSING, "nonce_missing", "replay protection requires a nonce"},
    {COLLAB_E_BINDING, "binding", "session used from another peer"},
    {COLLAB_E_SESSION_LIMIT, "session_limit", "too many open sessions"},
    {COLLAB_E_WEAK_PASSWORD, "weak_password", "password refused by the password policy"},
    {COLLAB_E_FORBIDDEN, "forbidden", "role not permitted to perform this action"},
    {COLLAB_E_RATE_LIMITED, "rate_limited", "too many requests; retry later"},
    {COLLAB_E_NOT_FOUND, "not_found", "no such object"},
    {COLLAB_E_CONFLICT, "conflict", "the object's state does not allow this"},
    {COLLAB_E_QUOTA, "quota", "quota exhausted"},
    {COLLAB_E_BAD_REQUEST, "bad_request", "a payload value is not allowed"},
    {COLLAB_E_INTERNAL, "internal", "internal error; nothing was changed"},
    {COLLAB_E_BUSY, "busy", "broker busy; retry"},
    {COLLAB_E_NOMEM, "nomem", "out of memory"},
    {COLLAB_E_IO, "io", "input/output error"},
    {COLLAB_E_UNAVAILABLE, "unavailable",
     "the broker cannot reach its shared state now; nothing was changed, retry later"},
    {COLLAB_E_TIMEOUT, "timeout", "no reply in time"},
};

static const err_row_t *find(int code)
{
    if (code > 0)
        code = -code;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].code == code)
            return &rows[i];
    return NULL;
}

const char *collab_strerror(int code)
{
    const err_row_t *r = find(code);
    return r ? r->text : "unknown error";
}

const char *collab_errname(int code)
{
    const err_row_t *r = find(code);
    return r ? r->name : "unknown";
}

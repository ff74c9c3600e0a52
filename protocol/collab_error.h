/*  collab_error.h: the one table of error codes used by the library, the broker and the agents.
    Functions return 0 on success or a negative collab_err_t; the wire carries the positive value.
 */
#ifndef COLLAB_ERROR_H
#define COLLAB_ERROR_H

/* The numbers are part of the wire protocol (PROTOCOL.md, "Error codes"): never renumber. */
typedef enum {
    COLLAB_OK = 0,
    /* 1-19: the message itself */
    COLLAB_E_MALFORMED = -1,     /* not the MessagePack shape the spec requires */
    COLLAB_E_VERSION = -2,       /* protocol version not supported */
    COLLAB_E_TOO_LARGE = -3,     /* frame or field larger than its limit */
    COLLAB_E_FIELD_MISSING = -4, /* a required field is absent */
    COLLAB_E_FIELD_TYPE = -5,    /* a field has the wrong MessagePack type */
    COLLAB_E_LIMIT = -6,         /* a count, length or depth is outside its limit */
    COLLAB_E_UTF8 = -7,          /* a text field is not valid UTF-8 */
    COLLAB_E_UNKNOWN_ACTION = -8,
    COLLAB_E_BAD_TEXT = -9, /* control characters refused (output sanitization control) */
    COLLAB_E_FRAMES = -10,  /* wrong number of ZeroMQ frames */
    /* 20-39: authentication and sessions */
    COLLAB_E_AUTH_FAILED = -20,     /* unknown agent or wrong password */
    COLLAB_E_LOCKED_OUT = -21,      /* too many failed logins */
    COLLAB_E_SESSION_INVALID = -22, /* unknown, logged out or revoked session */
    COLLAB_E_SESSION_EXPIRED = -23, /* idle timeout or absolute lifetime reached */
    COLLAB_E_AGENT_MISMATCH = -24,  /* envelope agent_id is not the session's agent */
    COLLAB_E_SIGNATURE_MISSING = -25,
    COLLAB_E_BAD_SIGNATURE = -26,
    COLLAB_E_STALE_TIMESTAMP = -27, /* outside the accepted timestamp window */
    COLLAB_E_REPLAY = -28,          /* nonce or signature already seen */
    COLLAB_E_NONCE_MISSING = -29,   /* replay protection requires a nonce */
    COLLAB_E_BINDING = -30,         /* session used from another peer */
    COLLAB_E_SESSION_LIMIT = -31,   /* the broker's global cap on open sessions */
    COLLAB_E_WEAK_PASSWORD = -32,   /* refused by the password policy */
    /* 40-59: authorization and application */
    COLLAB_E_FORBIDDEN = -40,    /* the role may not call this action */
    COLLAB_E_RATE_LIMITED = -41, /* retry later (the reply says when) */
    COLLAB_E_NOT_FOUND = -42,
    COLLAB_E_CONFLICT = -43,    /* state does not allow it (task transition, closed project) */
    COLLAB_E_QUOTA = -44,       /* per-agent or per-project count exhausted */
    COLLAB_E_BAD_REQUEST = -45, /* a payload value is outside its allowed set */
    /* 60-69: the implementation */
    COLLAB_E_INTERNAL = -60, /* a bug or a storage failure; nothing was changed */
    COLLAB_E_BUSY = -61,     /* the broker is overloaded; retry */
    COLLAB_E_NOMEM = -62,
    COLLAB_E_IO = -63,
    COLLAB_E_TIMEOUT = -64,     /* local only: no reply in time */
    COLLAB_E_UNAVAILABLE = -65, /* a cluster's shared state cannot be reached now; retry */
} collab_err_t;

/*  Returns a static, human-readable sentence for an error code (negative or positive). */
const char *collab_strerror(int code);

/*  Returns the stable snake_case name of a code ("bad_signature"), or "unknown". */
const char *collab_errname(int code);

#endif

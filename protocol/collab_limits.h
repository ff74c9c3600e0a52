/*  collab_limits.h: every size, length and count limit of the wire protocol in one place.
    PROTOCOL.md, "Limits", is the normative copy; the tests check each limit at its edge. */
#ifndef COLLAB_LIMITS_H
#define COLLAB_LIMITS_H

#define COLLAB_PROTOCOL_VERSION 1

#define COLLAB_MAX_FRAME         65536 /* bytes of one envelope frame */
#define COLLAB_MAX_PAYLOAD       61440 /* bytes of the payload / data bin */
#define COLLAB_MAX_ENVELOPE_KEYS 16    /* entries in the envelope map */
#define COLLAB_MAX_ACTION        32    /* bytes, [a-z_] */
#define COLLAB_MAX_AGENT_ID      64    /* bytes, [A-Za-z0-9_.-] */
#define COLLAB_MAX_SESSION_ID    128   /* bytes, printable ASCII */
#define COLLAB_NONCE_LEN         16    /* bytes, when present */
#define COLLAB_SIGNATURE_LEN     32    /* HMAC-SHA256 */
#define COLLAB_KEY_LEN           32    /* per-agent HMAC key */
#define COLLAB_MAX_ERROR_TEXT    512   /* bytes of a reply's error message */
#define COLLAB_MAX_EVENT_NAME    32    /* bytes, [a-z_] */

#define COLLAB_MAX_MAP_ENTRIES  64   /* entries per map inside a payload */
#define COLLAB_MAX_LIST_ENTRIES 1000 /* entries per array inside a payload */
#define COLLAB_MAX_DEPTH        8    /* nesting: the payload map itself is depth 1 */
#define COLLAB_MAX_STR_BYTES    8192 /* any one str inside a payload */
#define COLLAB_MAX_KEY_BYTES    64   /* any one map key inside a payload */

#define COLLAB_NAME_MAX_CP      200  /* names: 1..200 code points */
#define COLLAB_DESC_MAX_CP      2000 /* descriptions, results: 0..2000 code points */
#define COLLAB_PASSWORD_MAX     256  /* bytes */
#define COLLAB_IDENT_MAX        32   /* capability, task type, role, status: [a-z_] */
#define COLLAB_MAX_CAPABILITIES 16   /* per worker */

#endif

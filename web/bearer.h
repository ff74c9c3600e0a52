/*  bearer.h: control 21 on the gateway's side (docs/WEB.md 3 and 5): `Authorization: Bearer
    JWT` instead of the cookie, and POST /api/token, which gives a web session's agent a
    token for its scripts. A token grants no login of its own (the gateway knows no
    password): it acts with the bus session of its agent's latest web login while that
    lasts, and the broker judges by that session's role. The token check itself is the pure
    web/jwt_check.c. */
#ifndef WEB_BEARER_H
#define WEB_BEARER_H

#include "http.h"
#include "websess.h"

typedef struct web_bearer web_bearer_t;

/*  The key in force: strong, the owner-only web.token_key_file (when it cannot be read,
    tokens are refused and err says why, the gateway still starts); weak, the secret
    web.token_weak_secret. NULL only on memory. */
web_bearer_t *web_bearer_new(const web_settings_t *set, char *err, size_t errlen);
void web_bearer_destroy(web_bearer_t **self_p);

/*  The web session token stands for, or NULL with *why set to the refusal's name. */
websess_t *web_bearer_session(web_bearer_t *self, websess_table_t *t, const char *token,
                              const char **why);

/*  POST /api/token: {"token": JWT, "expires_in": seconds} for req's session. */
int api_token(webreq_t *req);

#endif

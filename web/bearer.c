/*  bearer.c: bearer tokens (bearer.h), over web/jwt_check.h. */
#include "bearer.h"
#include "jwt_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct web_bearer {
    web_jwt_key_t key;
    bool strong, usable;
    uint32_t ttl_s;
};

web_bearer_t *web_bearer_new(const web_settings_t *set, char *err, size_t errlen)
{
    web_bearer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->strong = set->strong_token;
    self->ttl_s = set->cfg.web_token_ttl_s;
    err[0] = '\0';
    int rc = self->strong ? web_jwt_key_load(&self->key, set->cfg.web_token_key_file, err, errlen)
                          : web_jwt_key_weak(&self->key, set->cfg.web_token_weak_secret);
    self->usable = rc == 0;
    if (rc && !err[0])
        snprintf(err, errlen, "web.token_weak_secret: not a usable secret");
    return self;
}

void web_bearer_destroy(web_bearer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    web_jwt_key_clear(&(*self_p)->key);
    free(*self_p);
    *self_p = NULL;
}

websess_t *web_bearer_session(web_bearer_t *self, websess_table_t *t, const char *token,
                              const char **why)
{
    web_jwt_claims_t claims;
    if (!self || !self->usable) {
        *why = "no_token_key";
        return NULL;
    }
    int rc = web_jwt_verify(&self->key, self->strong, token, (int64_t)time(NULL), &claims);
    if (rc != 0) {
        *why = web_jwt_errname(rc);
        return NULL;
    }
    websess_t *s = websess_latest(t, claims.sub);
    *why = s ? NULL : "session_invalid";
    return s;
}

int api_token(webreq_t *req)
{
    web_bearer_t *self = gw_bearer(req->gw);
    char token[WEB_JWT_TOKEN_MAX + 1];
    if (!self || !self->usable) {
        web_answer_error(req, 503, "no_token_key", "no web token key is configured");
        return 0;
    }
    int rc = web_jwt_issue(&self->key, req->sess->agent_id, req->sess->role, (int64_t)time(NULL),
                           self->ttl_s, token, sizeof token);
    if (rc != 0) {
        web_answer_error(req, 500, web_jwt_errname(rc), web_jwt_strerror(rc));
        return 0;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    cJSON_AddNumberToObject(o, "expires_in", self->ttl_s);
    web_answer(req, 200, o);
    return 0;
}

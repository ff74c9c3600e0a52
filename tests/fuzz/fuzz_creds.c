/*  fuzz_creds.c: libFuzzer target for the credentials file (broker/creds.c,
    collab_creds_parse: what collab_creds_load does with the file's bytes). An accepted file
    must hold 1..10000 agents with valid, unique ids, known roles and bounded hashes; written
    back as JSON (cJSON) it must load again as the very same agents. Errors must be bounded
    text. A broken promise aborts, so the fuzzer reports it. No password is verified here
    (bcrypt and Argon2 are slow by design). */
#include "creds.h"

#include <cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

static bool id_ok(const char *s)
{
    size_t n = strnlen(s, COLLAB_MAX_AGENT_ID + 1);
    return n >= 1 && n <= COLLAB_MAX_AGENT_ID &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/*  The agents as a credentials file. Returns a cJSON_free'd string. */
static char *write_back(const collab_creds_t *cr)
{
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "agents");
    require(root && arr);
    for (size_t i = 0; i < collab_creds_count(cr); i++) {
        const collab_agent_t *a = collab_creds_at(cr, i);
        char hex[2 * COLLAB_KEY_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, a->key, COLLAB_KEY_LEN);
        cJSON *o = cJSON_CreateObject();
        require(o && cJSON_AddStringToObject(o, "agent_id", a->id) &&
                cJSON_AddStringToObject(o, "role", collab_role_name(a->role)) &&
                cJSON_AddStringToObject(o, "password_hash", a->pw_hash) &&
                cJSON_AddStringToObject(o, "hmac_key", hex));
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    require(text != NULL);
    cJSON_Delete(root);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[300];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    collab_creds_t *cr = collab_creds_parse("fuzz.json", (const char *)data, size, err, sizeof err);
    require(memchr(err, '\0', sizeof err) != NULL);
    if (!cr)
        return 0;
    size_t n = collab_creds_count(cr);
    require(n >= 1 && n <= 10000 && collab_creds_at(cr, n) == NULL);
    for (size_t i = 0; i < n; i++) {
        const collab_agent_t *a = collab_creds_at(cr, i);
        require(id_ok(a->id));
        require(collab_role_name(a->role) != NULL);
        require(memchr(a->pw_hash, '\0', sizeof a->pw_hash) != NULL && a->pw_hash[0] == '$');
        for (size_t k = 0; k < i; k++)
            require(strcmp(collab_creds_at(cr, k)->id, a->id) != 0);
    }
    char *text = write_back(cr);
    collab_creds_t *again = collab_creds_parse("back.json", text, strlen(text), err, sizeof err);
    require(again && collab_creds_count(again) == n);
    for (size_t i = 0; i < n; i++) {
        const collab_agent_t *a = collab_creds_at(cr, i), *b = collab_creds_at(again, i);
        require(strcmp(a->id, b->id) == 0 && a->role == b->role &&
                strcmp(a->pw_hash, b->pw_hash) == 0 && memcmp(a->key, b->key, COLLAB_KEY_LEN) == 0);
    }
    cJSON_free(text);
    collab_creds_destroy(&again);
    collab_creds_destroy(&cr);
    require(cr == NULL);
    return 0;
}

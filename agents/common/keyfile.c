/*  keyfile.c: an agent's HMAC key from its credentials entry or from a key file. */
#include "collab_client.h"
#include "readfile.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define KEYFILE_MAX (1u << 20)

/*  Overwrites every string of the parse tree (keys of other agents too) before it is freed. */
static void wipe_strings(cJSON *node)
{
    for (; node; node = node->next) {
        if (cJSON_IsString(node) && node->valuestring)
            sodium_memzero(node->valuestring, strlen(node->valuestring));
        wipe_strings(node->child);
    }
}

static int from_json(const char *path, const char *text, size_t len, const char *agent_id,
                     uint8_t key[COLLAB_KEY_LEN], char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    cJSON *agents = cJSON_GetObjectItemCaseSensitive(root, "agents");
    cJSON *a;
    int rc = COLLAB_E_NOT_FOUND;
    cJSON_ArrayForEach(a, agents)
    {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "agent_id");
        cJSON *hex = cJSON_GetObjectItemCaseSensitive(a, "hmac_key");
        if (!cJSON_IsString(id) || strcmp(id->valuestring, agent_id) != 0)
            continue;
        rc = cJSON_IsString(hex)
                 ? collab_key_from_hex(hex->valuestring, strlen(hex->valuestring), key)
                 : COLLAB_E_MALFORMED;
        break;
    }
    if (!root)
        snprintf(err, errlen, "%s: not JSON and not 64 hex digits", path);
    else if (rc == COLLAB_E_NOT_FOUND)
        snprintf(err, errlen, "%s: no entry for agent '%s'", path, agent_id);
    else if (rc)
        snprintf(err, errlen, "%s: hmac_key of '%s' is not 64 hex digits", path, agent_id);
    if (root)
        wipe_strings(root);
    cJSON_Delete(root);
    return root ? rc : COLLAB_E_MALFORMED;
}

int collab_client_parse_key(const char *name, const char *text, size_t len, const char *agent_id,
                            uint8_t key[COLLAB_KEY_LEN], char *err, size_t errlen)
{
    size_t n = len;
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    if (n == 2 * COLLAB_KEY_LEN && collab_key_from_hex(text, n, key) == 0)
        return 0;
    return from_json(name, text, len, agent_id, key, err, errlen);
}

int collab_client_load_key(const char *path, const char *agent_id, uint8_t key[COLLAB_KEY_LEN],
                           char *err, size_t errlen)
{
    size_t len;
    char *text = agent_read_file(path, KEYFILE_MAX, &len, err, errlen);
    if (!text)
        return COLLAB_E_IO;
    int rc = collab_client_parse_key(path, text, len, agent_id, key, err, errlen);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

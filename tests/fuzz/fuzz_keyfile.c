/*  fuzz_keyfile.c: libFuzzer target for an agent's secret files (agents/common): the key
    file (--key-file, --credentials: 64 hex digits, or a credentials JSON holding the agent's
    entry; collab_client_parse_key) and the password file (--password-file: its first line;
    agent_cli_password_parse). The same bytes go through both. A key file of 64 hex digits
    (and blanks after) must give exactly that key; a password must be the first line, never
    cut short. Errors must be bounded text. A broken promise aborts. */
#include "agent_cli.h"
#include "collab_client.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

static void check_key(const char *text, size_t len, const char *agent)
{
    uint8_t key[COLLAB_KEY_LEN], want[COLLAB_KEY_LEN];
    char err[200];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    int rc = collab_client_parse_key("fuzz.key", text, len, agent, key, err, sizeof err);
    require(rc <= 0 && memchr(err, '\0', sizeof err) != NULL);
    size_t n = len;
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    size_t got = 0;
    if (n == 2 * COLLAB_KEY_LEN &&
        sodium_hex2bin(want, sizeof want, text, n, NULL, &got, NULL) == 0 && got == sizeof want)
        require(rc == 0 && memcmp(key, want, sizeof key) == 0);
}

static void check_password(const char *text, size_t len)
{
    char out[COLLAB_PASSWORD_MAX + 1], err[200];
    size_t line = 0; /* the first line's length: up to '\r' or '\n', NUL bytes included */
    while (line < len && text[line] != '\r' && text[line] != '\n')
        line++;
    bool ok = line <= COLLAB_PASSWORD_MAX && memchr(text, '\0', line) == NULL;
    int rc = agent_cli_password_parse(text, len, out, sizeof out, err, sizeof err);
    require(rc == (ok ? 0 : -1));
    if (ok)
        require(strlen(out) == line && memcmp(out, text, line) == 0);
    else
        require(out[0] == '\0' && memchr(err, '\0', sizeof err) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1); /* exact size plus a NUL the parsers must not need */
    require(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    check_key(text, size, "worker1");
    check_key(text, size, "admin");
    check_password(text, size);
    free(text);
    return 0;
}

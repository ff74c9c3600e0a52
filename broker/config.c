/*  config.c: the broker's settings (see config.h): one table of keys with their types and
    ranges drives parsing, printing and validation, so a key cannot be half-supported. */
#include "config.h"

#include "collab_error.h"
#include "collab_limits.h"
#include "collab_text.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_U32, K_U64, K_DOUBLE, K_PATH } kind_t; /* the KINDs of collab_controls.def */

/*  One parameter: where it lives in collab_config_t, the values it may take and its
    built-in value (the text a configuration line would give). */
typedef struct {
    const char *key;
    kind_t kind;
    size_t off;
    double min, max; /* inclusive; exact for every integer limit used below */
    const char *def;
} param_t;

#define PARAM(k, kind, f, def, lo, hi)                                                             \
    {                                                                                              \
        k, K_##kind, offsetof(collab_config_t, f), lo, hi, def                                     \
    }

/*  The paths that may be empty: security_log = "" (or --security-log '') means no
    security log at all (refused with audit = strong, which needs the file); store = ""
    means the SQLite file of `state`, a broker alone; store.node and store.password_file
    are for a store shared by a cluster (docs/DISTRIBUTED.md). */
static bool may_be_empty(const char *key)
{
    return strcmp(key, "security_log") == 0 || strcmp(key, "store") == 0 ||
           strcmp(key, "store.node") == 0 || strcmp(key, "store.password_file") == 0 ||
           strcmp(key, "web.origin") == 0 || strcmp(key, "web.static_dir") == 0;
}

/*  Printed in this order: the controls' parameters (collab_controls.def, LAB.md order),
    then the broker's own settings, in every profile. */
static const param_t params[] = {
#define COLLAB_CONTROL_PARAM(id, key, kind, field, def, min, max)                                  \
    PARAM(key, kind, field, def, min, max),
#include "collab_controls.def"
    PARAM("bind", PATH, bind, "tcp://127.0.0.1:5555", 0, 0),
    PARAM("state", PATH, state_path, "taskcollab.db", 0, 0),
    PARAM("store", PATH, store_url, "", 0, 0),
    PARAM("store.node", PATH, store_node, "", 0, 0),
    PARAM("store.password_file", PATH, store_password_file, "", 0, 0),
    PARAM("store.prefix", PATH, store_prefix, "tc:", 0, 0),
    PARAM("store.timeout_ms", U32, store_timeout_ms, "500", 10, 60000),
    PARAM("store.log_bound", U32, store_log_bound, "100000", 10, 100000000),
    PARAM("credentials", PATH, credentials_path, "sample_data/valid_credentials.json", 0, 0),
    PARAM("security_log", PATH, security_log_path, "security.log", 0, 0),
    PARAM("sessions.idle_timeout_s", U32, idle_timeout_s, "1800", 1, 31536000),
    PARAM("sessions.max_open", U32, max_sessions, "20000", 1, 10000000),
    PARAM("limits.projects_per_agent", U32, max_projects_per_agent, "100", 1, 10000000),
    PARAM("limits.tasks_per_project", U32, max_tasks_per_project, "1000", 1, 10000000),
    PARAM("events.retention", U32, event_retention, "1000", 1, 10000000),
    PARAM("hash.threads", U32, hash_threads, "0", 0, 64), /* 0: CPUs - 1, at least one */
    PARAM("hash.queue_max", U32, hash_queue_max, "256", 1, 1000000),
    /* 0: 300 per CPU, at least 600 (hasher.h, bench/README.md "The login storm") */
    PARAM("hash.budget_ms", U32, hash_budget_ms, "0", 0, 1000000),
    PARAM("hash.slice_us", U32, hash_slice_us, "500", 0, 1000000), /* 0: no preemption points */
    PARAM("loop.batch_max", U32, batch_max, "256", 1, 100000),
    PARAM("loop.activity_flush_s", U32, activity_flush_s, "5", 1, 86400),
    PARAM("loop.stats_interval_s", U32, stats_interval_s, "60", 0, 86400),
    PARAM("transport.max_msg_bytes", U64, transport_max_msg, "131072", COLLAB_MAX_FRAME + 1,
          1073741824),
    /* connections the kernel holds for accept: libzmq's 100 overflowed when 5,000 agents
       connected at once (SYN retries, 3-15 s); the kernel caps it at net.core.somaxconn */
    PARAM("transport.backlog", U32, transport_backlog, "1024", 1, 65535),
    PARAM("security_log.max_bytes", U64, security_log_max_bytes, "10485760", 4096, 1099511627776.0),
    PARAM("security_log.failed_login_lines", U32, failed_login_lines, "20", 0, 1000000),
    /* the web gateway, collab-web (docs/WEB.md); the broker reads and ignores them */
    PARAM("web.bind", PATH, web_bind, "127.0.0.1:8080", 0, 0),
    PARAM("web.static_dir", PATH, web_static_dir, "", 0, 0),
    PARAM("web.rate_per_s", U32, web_rate_per_s, "20", 1, 1000000),
    PARAM("web.rate_burst", U32, web_rate_burst, "40", 1, 1000000),
    PARAM("web.max_streams", U32, web_max_streams, "256", 1, 100000),
    PARAM("web.lab_timeout_s", U32, web_lab_timeout_s, "60", 1, 3600),
    PARAM("web.capture", U32, web_capture, "0", 0, 1),
};
#define PARAM_COUNT (sizeof params / sizeof params[0])

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/*  Zero-fills the tail so that equal settings are equal bytes. */
static void copy_path(char *dst, const char *src)
{
    memset(dst, 0, COLLAB_PATH_MAX);
    snprintf(dst, COLLAB_PATH_MAX, "%s", src);
}

int collab_config_profile(collab_config_t *cfg, const char *profile)
{
    bool strong;
    if (strcmp(profile, "stage2") == 0)
        strong = false;
    else if (strcmp(profile, "hardened") == 0)
        strong = true;
    else
        return COLLAB_E_BAD_REQUEST;
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        cfg->strong[i] = strong;
    return 0;
}

/*  Strict unsigned integer: decimal digits only, no sign, no space, no overflow (the
    ranges are checked by the caller, which names them). */
static int parse_uint(const char *s, uint64_t *out)
{
    return collab_parse_u64(s, 0, UINT64_MAX, out) == 0 ? 0 : -1;
}

/*  Strict decimal number: digits first, then [0-9.eE+-] only (no hex, inf or nan). */
static int parse_double(const char *s, double *out)
{
    if (s[0] < '0' || s[0] > '9' || strspn(s, "0123456789.eE+-") != strlen(s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int set_number(collab_config_t *cfg, const param_t *p, const char *value, char *err,
                      size_t errlen)
{
    void *field = (char *)cfg + p->off;
    double d = 0;
    uint64_t u = 0;
    int bad = p->kind == K_DOUBLE ? parse_double(value, &d) : parse_uint(value, &u);
    if (bad) {
        set_err(err, errlen, "%s: '%s' is not a %s", p->key, value,
                p->kind == K_DOUBLE ? "number" : "non-negative integer");
        return COLLAB_E_BAD_REQUEST;
    }
    if (p->kind != K_DOUBLE)
        d = (double)u;
    if (d < p->min || d > p->max || (p->kind != K_DOUBLE && u > (uint64_t)p->max)) {
        set_err(err, errlen, "%s: %s is out of range [%.15g, %.15g]", p->key, value, p->min,
                p->max);
        return COLLAB_E_BAD_REQUEST;
    }
    if (p->kind == K_U32)
        *(uint32_t *)field = (uint32_t)u;
    else if (p->kind == K_U64)
        *(uint64_t *)field = u;
    else
        *(double *)field = d;
    return 0;
}

static int check_path(const param_t *p, const char *value, char *err, size_t errlen)
{
    if (strlen(value) >= COLLAB_PATH_MAX) {
        set_err(err, errlen, "%s: longer than %d bytes", p->key, COLLAB_PATH_MAX - 1);
        return COLLAB_E_BAD_REQUEST;
    }
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '#') {
            set_err(err, errlen, "%s: control characters and '#' are not allowed", p->key);
            return COLLAB_E_BAD_REQUEST;
        }
    return 0;
}

static int set_param(collab_config_t *cfg, const param_t *p, const char *value, char *err,
                     size_t errlen)
{
    if (p->kind != K_PATH)
        return set_number(cfg, p, value, err, errlen);
    int rc = check_path(p, value, err, errlen);
    if (rc == 0)
        copy_path((char *)cfg + p->off, value);
    return rc;
}

static int set_switch(collab_config_t *cfg, int i, const char *value, char *err, size_t errlen)
{
    if (strcmp(value, "weak") == 0)
        cfg->strong[i] = false;
    else if (strcmp(value, "strong") == 0)
        cfg->strong[i] = true;
    else {
        set_err(err, errlen, "%s: '%s' is not weak or strong", collab_control_name(i), value);
        return COLLAB_E_BAD_REQUEST;
    }
    return 0;
}

void collab_config_defaults(collab_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    collab_config_profile(cfg, "stage2");
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        int rc = set_param(cfg, &params[i], params[i].def, NULL, 0);
        assert(rc == 0 && "a built-in default outside its own range");
        (void)rc;
    }
}

/*  Applies key = value, both already trimmed. */
static int apply(collab_config_t *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    if (*key == '\0') {
        set_err(err, errlen, "missing key before '='");
        return COLLAB_E_BAD_REQUEST;
    }
    if (*value == '\0' && may_be_empty(key)) {
        for (size_t i = 0; i < PARAM_COUNT; i++)
            if (strcmp(params[i].key, key) == 0)
                memset((char *)cfg + params[i].off, 0, COLLAB_PATH_MAX); /* none */
        return 0;
    }
    if (*value == '\0') {
        set_err(err, errlen, "%s: empty value", key);
        return COLLAB_E_BAD_REQUEST;
    }
    if (strcmp(key, "profile") == 0) {
        if (collab_config_profile(cfg, value) == 0)
            return 0;
        set_err(err, errlen, "profile: '%s' is not stage2 or hardened", value);
        return COLLAB_E_BAD_REQUEST;
    }
    int control = collab_control_find(key);
    if (control >= 0)
        return set_switch(cfg, control, value, err, errlen);
    for (size_t i = 0; i < PARAM_COUNT; i++)
        if (strcmp(key, params[i].key) == 0)
            return set_param(cfg, &params[i], value, err, errlen);
    set_err(err, errlen, "unknown key '%s'", key);
    return COLLAB_E_BAD_REQUEST;
}

/*  Trims ASCII blanks at both ends, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/*  Splits a mutable "key = value" line and applies it. */
static int assign(collab_config_t *cfg, char *line, char *err, size_t errlen)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        set_err(err, errlen, "expected 'key = value', found no '='");
        return COLLAB_E_BAD_REQUEST;
    }
    *eq = '\0';
    return apply(cfg, trim(line), trim(eq + 1), err, errlen);
}

#define LINE_MAX_BYTES 2048

int collab_config_set(collab_config_t *cfg, const char *assignment, char *err, size_t errlen)
{
    char line[LINE_MAX_BYTES];
    if (strlen(assignment) >= sizeof line) {
        set_err(err, errlen, "assignment longer than %d bytes", LINE_MAX_BYTES - 1);
        return COLLAB_E_BAD_REQUEST;
    }
    strcpy(line, assignment);
    return assign(cfg, line, err, errlen);
}

/*  Handles one raw line of a file: strips the comment and blanks, skips empty lines. */
static int load_line(collab_config_t *cfg, char *line, size_t len, char *reason, size_t cap)
{
    if (strlen(line) != len) {
        snprintf(reason, cap, "NUL byte in line");
        return COLLAB_E_BAD_REQUEST;
    }
    if (len >= LINE_MAX_BYTES) {
        snprintf(reason, cap, "line longer than %d bytes", LINE_MAX_BYTES - 1);
        return COLLAB_E_BAD_REQUEST;
    }
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *s = trim(line);
    return *s ? assign(cfg, s, reason, cap) : 0;
}

int collab_config_parse(collab_config_t *cfg, const char *name, const char *text, size_t len,
                        char *err, size_t errlen)
{
    if (len > COLLAB_CONFIG_FILE_MAX) {
        set_err(err, errlen, "%s: larger than %d bytes", name, COLLAB_CONFIG_FILE_MAX);
        return COLLAB_E_BAD_REQUEST;
    }
    char *line = malloc(LINE_MAX_BYTES + 1);
    if (!line) {
        set_err(err, errlen, "%s: out of memory", name);
        return COLLAB_E_INTERNAL;
    }
    unsigned lineno = 0;
    int rc = 0;
    char reason[COLLAB_MAX_ERROR_TEXT];
    for (size_t at = 0; rc == 0 && at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) + 1 : len - at; /* the '\n' included */
        lineno++;
        if (n > LINE_MAX_BYTES) {
            snprintf(reason, sizeof reason, "line longer than %d bytes", LINE_MAX_BYTES - 1);
            rc = COLLAB_E_BAD_REQUEST;
        } else {
            memcpy(line, text + at, n);
            line[n] = '\0';
            rc = load_line(cfg, line, n, reason, sizeof reason);
        }
        if (rc)
            set_err(err, errlen, "%s:%u: %s", name, lineno, reason);
        at += n;
    }
    free(line);
    return rc;
}

int collab_config_load(collab_config_t *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return COLLAB_E_IO;
    }
    char *text = malloc(COLLAB_CONFIG_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, COLLAB_CONFIG_FILE_MAX + 1, f) : 0;
    int rc = 0;
    if (!text) {
        set_err(err, errlen, "%s: out of memory", path);
        rc = COLLAB_E_INTERNAL;
    } else if (ferror(f)) {
        set_err(err, errlen, "%s: read error", path);
        rc = COLLAB_E_IO;
    } else
        rc = collab_config_parse(cfg, path, text, n, err, errlen);
    free(text);
    fclose(f);
    return rc;
}

/*  Shortest text that reads back as the same double. */
static void print_double(FILE *out, const char *key, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fprintf(out, "%s = %s\n", key, buf);
}

void collab_config_print(const collab_config_t *cfg, FILE *out)
{
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        fprintf(out, "%s = %s\n", collab_control_name(i), cfg->strong[i] ? "strong" : "weak");
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        const param_t *p = &params[i];
        const void *field = (const char *)cfg + p->off;
        if (p->kind == K_U32)
            fprintf(out, "%s = %u\n", p->key, (unsigned)*(const uint32_t *)field);
        else if (p->kind == K_U64)
            fprintf(out, "%s = %llu\n", p->key, (unsigned long long)*(const uint64_t *)field);
        else if (p->kind == K_DOUBLE)
            print_double(out, p->key, *(const double *)field);
        else
            fprintf(out, "%s = %s\n", p->key, (const char *)field);
    }
}

/*  Re-checks one field against its range, as set_param would have. */
static int validate_param(const collab_config_t *cfg, const param_t *p, char *err, size_t errlen)
{
    const void *field = (const char *)cfg + p->off;
    if (p->kind == K_PATH) {
        const char *s = field;
        if (memchr(s, '\0', COLLAB_PATH_MAX) == NULL || (*s == '\0' && !may_be_empty(p->key))) {
            set_err(err, errlen, "%s: must be a non-empty path", p->key);
            return COLLAB_E_BAD_REQUEST;
        }
        return check_path(p, s, err, errlen);
    }
    double v = p->kind == K_U32   ? (double)*(const uint32_t *)field
               : p->kind == K_U64 ? (double)*(const uint64_t *)field
                                  : *(const double *)field;
    if (!(v >= p->min && v <= p->max)) {
        set_err(err, errlen, "%s: %.15g is out of range [%.15g, %.15g]", p->key, v, p->min, p->max);
        return COLLAB_E_BAD_REQUEST;
    }
    return 0;
}

int collab_config_validate(const collab_config_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        int rc = validate_param(cfg, &params[i], err, errlen);
        if (rc)
            return rc;
    }
    if (cfg->idle_timeout_s >= cfg->absolute_lifetime_s) {
        set_err(err, errlen,
                "sessions.idle_timeout_s (%u) must be below the absolute lifetime "
                "session_lifetime.max_s (%u)",
                (unsigned)cfg->idle_timeout_s, (unsigned)cfg->absolute_lifetime_s);
        return COLLAB_E_BAD_REQUEST;
    }
    if (cfg->transport_max_msg <= COLLAB_MAX_FRAME) {
        set_err(err, errlen, "transport.max_msg_bytes (%llu) must exceed the frame limit %d",
                (unsigned long long)cfg->transport_max_msg, COLLAB_MAX_FRAME);
        return COLLAB_E_BAD_REQUEST;
    }
    if (cfg->hash_slice_us != 0 && cfg->hash_slice_us < 100) {
        set_err(err, errlen,
                "hash.slice_us (%u) must be 0 (no preemption points) or at least 100: a "
                "shorter slice interrupts the hashing thread more often than it hashes",
                (unsigned)cfg->hash_slice_us);
        return COLLAB_E_BAD_REQUEST;
    }
    if (cfg->sessions_per_agent > cfg->max_sessions) {
        set_err(err, errlen, "session_cap.max (%u) must not exceed sessions.max_open (%u)",
                (unsigned)cfg->sessions_per_agent, (unsigned)cfg->max_sessions);
        return COLLAB_E_BAD_REQUEST;
    }
    return 0;
}

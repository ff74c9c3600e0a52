/*  config.h: every control of LAB.md (a weak/strong switch and its parameters), every
    timeout and limit, read into one structure in one place. Handlers consult these fields,
    never profile names. Precedence: built-in defaults, then the configuration file (whose
    `profile` line sets all switches before the lines after it), then --profile, then each
    --set in order. */
#ifndef COLLAB_CONFIG_H
#define COLLAB_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collab_controls.h"
#include "collab_limits.h"

/*  The controls (COLLAB_CTL_*, COLLAB_CONTROL_COUNT, collab_control_name) and their
    parameters: protocol/collab_controls.def. */
#define COLLAB_PATH_MAX 512

typedef struct {
    /* the switches, indexed 0..20 in LAB.md's order (control #1 is [0]) */
    bool strong[COLLAB_CONTROL_COUNT];

    /* parameters of the controls, always configured, enforced when the switch is strong:
       absolute_lifetime_s, sessions_per_agent, ... (one member per COLLAB_CONTROL_PARAM line
       of collab_controls.def, in its order, named by its FIELD) */
#define COLLAB_FIELD_U32(f)                                       uint32_t f
#define COLLAB_FIELD_U64(f)                                       uint64_t f
#define COLLAB_FIELD_DOUBLE(f)                                    double f
#define COLLAB_FIELD_PATH(f)                                      char f[COLLAB_PATH_MAX]
#define COLLAB_CONTROL_PARAM(id, key, kind, field, def, min, max) COLLAB_FIELD_##kind(field);
#include "collab_controls.def"

    /* timeouts, limits and paths, in every profile */
    char bind[COLLAB_PATH_MAX];
    char state_path[COLLAB_PATH_MAX];
    /* a cluster (docs/DISTRIBUTED.md): store = redis://HOST:PORT[/DB] shared by brokers,
       each with its own node name; "" (the default): the SQLite file of state_path */
    char store_url[COLLAB_PATH_MAX];
    char store_node[COLLAB_PATH_MAX];
    char store_password_file[COLLAB_PATH_MAX]; /* owner-only; "" for no password */
    char store_prefix[COLLAB_PATH_MAX];        /* every key starts with it */
    uint32_t store_timeout_ms;                 /* each Redis call, then `unavailable` */
    uint32_t store_log_bound; /* the log stream's length (approximate); a broker behind reloads */
    char credentials_path[COLLAB_PATH_MAX];
    char security_log_path[COLLAB_PATH_MAX];
    uint32_t idle_timeout_s; /* sessions.idle_timeout_s */
    uint32_t max_sessions;   /* sessions.max_open: global cap */
    uint32_t max_projects_per_agent;
    uint32_t max_tasks_per_project;
    uint32_t event_retention; /* events kept per agent */
    uint32_t hash_threads;    /* 0: one fewer than the CPUs, at least one */
    uint32_t hash_queue_max;
    uint32_t hash_budget_ms;         /* hashing CPU ms per second; 0: 300 per CPU, at least 600 */
    uint32_t hash_slice_us;          /* the hashers' preemption points; 0: none */
    uint32_t batch_max;              /* requests handled per loop turn (one commit) */
    uint32_t activity_flush_s;       /* lazy write-back of last-activity times */
    uint32_t stats_interval_s;       /* periodic counters log line; 0 = off */
    uint64_t transport_max_msg;      /* ZMQ_MAXMSGSIZE, above the protocol's frame limit */
    uint32_t transport_backlog;      /* ZMQ_BACKLOG: connections waiting for accept */
    uint64_t security_log_max_bytes; /* rotate beyond this (one old file kept) */
    uint32_t failed_login_lines;     /* login_failed lines per peer per minute, then counted */
    /* the web gateway, collab-web (docs/WEB.md 2 and 6): the broker ignores them */
    char web_bind[COLLAB_PATH_MAX];       /* HOST:PORT; 127.0.0.1:8080 */
    char web_static_dir[COLLAB_PATH_MAX]; /* "": the static folder beside the binary */
    uint32_t web_rate_per_s;              /* per web client address and per web session */
    uint32_t web_rate_burst;
    uint32_t web_max_streams;   /* event streams open at once, in all */
    uint32_t web_lab_timeout_s; /* one attack run from the lab page at most */
    uint32_t web_capture;       /* 1: the lab page's bus view may run collab-sniff */
} collab_config_t;

/*  The one way to ask whether a control is strong (index: a COLLAB_CTL_ value). */
static inline bool collab_strong(const collab_config_t *cfg, int control)
{
    return cfg->strong[control];
}

/*  Fills *cfg with the built-in defaults (the stage2 profile, default paths). */
void collab_config_defaults(collab_config_t *cfg);

/*  Sets every switch to the profile's value. profile is "stage2" or "hardened".
    Returns 0 or COLLAB_E_BAD_REQUEST. */
int collab_config_profile(collab_config_t *cfg, const char *profile);

/*  Applies one "key=value" (or "key = value"). Returns 0 or a negative code, with the
    reason in err ("unknown key 'x'", "'abc' is not a number"). */
int collab_config_set(collab_config_t *cfg, const char *assignment, char *err, size_t errlen);

/*  Reads a configuration file: "key = value" lines, '#' comments, blank lines. On error
    returns a negative code and writes "FILE:LINE: reason" into err. */
int collab_config_load(collab_config_t *cfg, const char *path, char *err, size_t errlen);

/*  The same for a file's text already in memory (len bytes, not NUL-terminated; at most
    COLLAB_CONFIG_FILE_MAX): what collab_config_load does after reading; name is the FILE of
    the errors. Pure: no I/O. */
#define COLLAB_CONFIG_FILE_MAX (1024 * 1024)
int collab_config_parse(collab_config_t *cfg, const char *name, const char *text, size_t len,
                        char *err, size_t errlen);

/*  Writes every setting in force, one "key = value" line each, switches first. */
void collab_config_print(const collab_config_t *cfg, FILE *out);

/*  Checks consistency (idle timeout below the absolute lifetime, non-zero limits ...).
    Returns 0 or a negative code with the reason in err. */
int collab_config_validate(const collab_config_t *cfg, char *err, size_t errlen);

#endif

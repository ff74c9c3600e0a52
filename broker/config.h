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

#define COLLAB_CONTROL_COUNT 14

/*  Indices of collab_config_t.strong, in LAB.md's order. */
enum {
    COLLAB_CTL_SESSION_IDS,
    COLLAB_CTL_SESSION_LIFETIME,
    COLLAB_CTL_PEER_BINDING,
    COLLAB_CTL_SESSION_CAP,
    COLLAB_CTL_STATE_AT_REST,
    COLLAB_CTL_PERMISSIONS,
    COLLAB_CTL_ROLE_ENFORCEMENT,
    COLLAB_CTL_REPLAY,
    COLLAB_CTL_SIGNATURE_SCOPE,
    COLLAB_CTL_RATE_LIMIT,
    COLLAB_CTL_LOGIN,
    COLLAB_CTL_TRANSPORT,
    COLLAB_CTL_TEXT_FIELDS,
    COLLAB_CTL_AUDIT,
};
#define COLLAB_PATH_MAX 512

typedef struct {
    /* the switches, indexed 0..13 in LAB.md's order (control #1 is [0]) */
    bool strong[COLLAB_CONTROL_COUNT];

    /* parameters of the controls, always configured, enforced when the switch is strong */
    uint32_t absolute_lifetime_s;            /* 2  session_lifetime.max_s */
    uint32_t sessions_per_agent;             /* 4  session_cap.max */
    char state_key_file[COLLAB_PATH_MAX];    /* 5  state_at_rest.key_file */
    uint32_t replay_window_s;                /* 8  replay.window_s (strong) */
    uint32_t weak_window_s;                  /* 8  replay.weak_window_s (weak: +-30 min) */
    uint32_t nonce_cache_max;                /* 8  replay.cache_max */
    double rate_agent_per_s;                 /* 10 rate_limit.agent_per_s */
    uint32_t rate_agent_burst;               /* 10 rate_limit.agent_burst */
    double rate_peer_per_s;                  /* 10 rate_limit.peer_per_s */
    uint32_t rate_peer_burst;                /* 10 rate_limit.peer_burst */
    double rate_login_per_s;                 /* 10 rate_limit.login_per_s (0: peer_per_s) */
    uint32_t rate_login_burst;               /* 10 rate_limit.login_burst (0: peer_burst) */
    double rate_anon_per_s;                  /* 10 rate_limit.anon_per_s (0: peer_per_s) */
    uint32_t rate_anon_burst;                /* 10 rate_limit.anon_burst (0: peer_burst) */
    uint32_t lockout_failures;               /* 11 login.lockout_failures */
    uint32_t lockout_s;                      /* 11 login.lockout_s */
    uint32_t password_min_len;               /* 11 login.password_min_len */
    char curve_server_cert[COLLAB_PATH_MAX]; /* 12 transport.server_cert */
    char curve_clients_dir[COLLAB_PATH_MAX]; /* 12 transport.clients_dir */
    char audit_key_file[COLLAB_PATH_MAX];    /* 14 audit.key_file */

    /* timeouts, limits and paths, in every profile */
    char bind[COLLAB_PATH_MAX];
    char state_path[COLLAB_PATH_MAX];
    char credentials_path[COLLAB_PATH_MAX];
    char security_log_path[COLLAB_PATH_MAX];
    uint32_t idle_timeout_s; /* sessions.idle_timeout_s */
    uint32_t max_sessions;   /* sessions.max_open: global cap */
    uint32_t max_projects_per_agent;
    uint32_t max_tasks_per_project;
    uint32_t event_retention; /* events kept per agent */
    uint32_t hash_threads;    /* 0: one fewer than the CPUs, at least one */
    uint32_t hash_queue_max;
    uint32_t batch_max;              /* requests handled per loop turn (one commit) */
    uint32_t activity_flush_s;       /* lazy write-back of last-activity times */
    uint32_t stats_interval_s;       /* periodic counters log line; 0 = off */
    uint64_t transport_max_msg;      /* ZMQ_MAXMSGSIZE, above the protocol's frame limit */
    uint64_t security_log_max_bytes; /* rotate beyond this (one old file kept) */
    uint32_t failed_login_lines;     /* login_failed lines per peer per minute, then counted */
} collab_config_t;

/*  The one way to ask whether a control is strong (index: a COLLAB_CTL_ value). */
static inline bool collab_strong(const collab_config_t *cfg, int control)
{
    return cfg->strong[control];
}

/*  The control names of LAB.md in order: "session_ids", "session_lifetime", ... */
const char *collab_control_name(int index);

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

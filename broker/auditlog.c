/*  auditlog.c: the security log at start-up (startup.h), under the audit control.

    The log is written at once, the state commits per batch, so after a kill -9 the log may
    run ahead of the head in the state: lines beyond the head are accepted when they chain
    from it, and the head advances. Anything else that does not verify is tampering: a line
    altered or deleted, or the log cut before the head (the cover-tracks attack). Then the
    broker does not refuse to start (that would let whoever can write the log stop it); it
    keeps the damaged files as PATH.tampered-<ms> (and PATH.1.tampered-<ms>), starts a new
    file whose first line continues the chain from the state's head, and logs
    audit_tamper_detected with what was found, on stderr too. A partial last line after the
    head (a write torn by a crash) is cut off. A plain log met by a strong broker, or a
    chained one met by a weak broker, is moved aside (PATH.plain-<ms>, PATH.chained-<ms>)
    and a new file started, its first line naming where the old one went. */
#include "startup.h"

#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*  What the start-up decided: the head to chain from, and what to say about it. */
typedef struct {
    collab_audit_head_t head;
    const char *event; /* NULL: nothing to report */
    char detail[400];
    char moved[COLLAB_PATH_MAX + 48];
    char rotated[COLLAB_PATH_MAX + 4]; /* PATH.1, where a verification may point */
} plan_t;

/*  PATH.head, where the head is exported for collab-audit (audit.h). */
static void head_path(const collab_ctx_t *self, char *out, size_t cap)
{
    snprintf(out, cap, "%s" COLLAB_AUDIT_HEAD_SUFFIX, self->cfg.security_log_path);
}

/*  The head moved: into the state (committed with the batch) and, at once, into its file. */
static void on_line(void *arg, const collab_audit_head_t *head)
{
    collab_ctx_t *self = arg;
    char text[COLLAB_AUDIT_HEAD_TEXT], path[COLLAB_PATH_MAX + 8];
    collab_audit_head_format(head, text, sizeof text);
    collab_store_put_meta(self->store, "audit_head", text, strlen(text));
    head_path(self, path, sizeof path);
    collab_audit_head_save(path, head);
}

static bool nonempty(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/*  Renames PATH to PATH.<tag>-<ms> and PATH.1 to PATH.1.<tag>-<ms> (either may be absent). */
static int move_aside(const char *path, const char *tag, uint64_t now, plan_t *plan, char *err,
                      size_t errlen)
{
    char one[COLLAB_PATH_MAX + 4], one_dst[COLLAB_PATH_MAX + 52];
    snprintf(plan->moved, sizeof plan->moved, "%s.%s-%llu", path, tag, (unsigned long long)now);
    snprintf(one, sizeof one, "%s.1", path);
    snprintf(one_dst, sizeof one_dst, "%s.1.%s-%llu", path, tag, (unsigned long long)now);
    bool moved = rename(path, plan->moved) == 0;
    if ((!moved && errno != ENOENT) || (rename(one, one_dst) != 0 && errno != ENOENT)) {
        snprintf(err, errlen, "%s: cannot move the security log aside: %s", path, strerror(errno));
        return COLLAB_E_IO;
    }
    if (!moved)
        plan->moved[0] = '\0'; /* there was no file to keep */
    return 0;
}

/*  Verifies PATH.1 (if kept) then PATH, as one chain. *last is the last file read (path, or
    plan->rotated, which holds PATH.1). */
static collab_audit_status_t verify(const char *path, const uint8_t *key,
                                    const collab_audit_head_t *head, plan_t *plan,
                                    collab_audit_report_t *rep, const char **last)
{
    const char *paths[2];
    size_t n = 0;
    snprintf(plan->rotated, sizeof plan->rotated, "%s.1", path);
    if (exists(plan->rotated))
        paths[n++] = plan->rotated;
    if (exists(path))
        paths[n++] = path;
    *last = n ? paths[n - 1] : path;
    return collab_audit_verify(key, paths, n, head->seq ? head : NULL, rep);
}

/*  A state that does not say how its log was written (new, or reset): a chain that
    verifies from seq 1 is continued, anything else is moved aside. */
static int plan_unrecorded(collab_ctx_t *self, const uint8_t *key, plan_t *plan, char *err,
                           size_t errlen)
{
    const char *path = self->cfg.security_log_path, *last;
    collab_audit_head_t none = {0};
    collab_audit_report_t rep;
    collab_audit_status_t st = verify(path, key, &none, plan, &rep, &last);
    if (!rep.continued &&
        (st == COLLAB_AUDIT_OK ||
         (st == COLLAB_AUDIT_PARTIAL && truncate(last, (off_t)rep.partial_offset) == 0))) {
        plan->head = rep.last;
        return 0;
    }
    plan->event = "audit_chain_started";
    snprintf(plan->detail, sizeof plan->detail,
             "the log in place is not a chain under this key (%s); kept aside", rep.detail);
    return move_aside(path, "unchained", self->started_ms, plan, err, errlen);
}

/*  The state names a head: the log must reach it, and may go beyond it by chained lines. */
static int plan_reconcile(collab_ctx_t *self, const collab_prior_t *p, const uint8_t *key,
                          plan_t *plan, char *err, size_t errlen)
{
    const char *path = self->cfg.security_log_path, *last;
    collab_audit_report_t rep;
    collab_audit_status_t st = verify(path, key, &p->head, plan, &rep, &last);
    bool reached = p->head.seq == 0 || rep.head_matched;
    if ((st == COLLAB_AUDIT_OK || st == COLLAB_AUDIT_PARTIAL) && reached) {
        plan->head = rep.lines ? rep.last : p->head;
        if (st == COLLAB_AUDIT_OK || truncate(last, (off_t)rep.partial_offset) == 0)
            return 0;
    }
    plan->head = p->head;
    plan->event = "audit_tamper_detected";
    if (st == COLLAB_AUDIT_OK)
        snprintf(rep.detail, sizeof rep.detail,
                 "the state's head (seq %llu) is not in the log kept (%.200s and its .1)",
                 (unsigned long long)p->head.seq, path);
    snprintf(plan->detail, sizeof plan->detail, "%s", rep.detail);
    int rc = move_aside(path, "tampered", self->started_ms, plan, err, errlen);
    if (rc == 0)
        log_error("security log: TAMPERING DETECTED: %s; the damaged log is kept as %s and a "
                  "new file continues the chain from the state's head (seq %llu)",
                  plan->detail, plan->moved, (unsigned long long)p->head.seq);
    return rc;
}

static int plan_chain(collab_ctx_t *self, const collab_prior_t *p, const uint8_t *key, plan_t *plan,
                      char *err, size_t errlen)
{
    const char *path = self->cfg.security_log_path;
    char one[COLLAB_PATH_MAX + 4];
    snprintf(one, sizeof one, "%s.1", path);
    if (strcmp(p->audit, "chained") == 0)
        return plan_reconcile(self, p, key, plan, err, errlen);
    if (!nonempty(path) && !nonempty(one))
        return 0; /* nothing written yet: the chain starts at seq 1 */
    if (p->audit[0] == '\0')
        return plan_unrecorded(self, key, plan, err, errlen);
    plan->event = "audit_chain_started";
    snprintf(plan->detail, sizeof plan->detail,
             "the log was written plain (audit = weak); kept aside, the chain starts here");
    return move_aside(path, "plain", self->started_ms, plan, err, errlen);
}

static int open_file(collab_ctx_t *self, char *err, size_t errlen)
{
    const collab_config_t *c = &self->cfg;
    self->seclog = collab_seclog_open(c->security_log_path[0] ? c->security_log_path : NULL,
                                      c->security_log_max_bytes, err, errlen);
    collab_seclog_set_failed_login_lines(self->seclog, c->failed_login_lines);
    return self->seclog ? 0 : COLLAB_E_IO;
}

/*  Weak: a plain log; a chained one found in place is moved aside, not appended to. */
static int open_plain(collab_ctx_t *self, const collab_prior_t *p, char *err, size_t errlen)
{
    plan_t plan = {.event = NULL};
    const char *path = self->cfg.security_log_path;
    int rc = 0;
    if (strcmp(p->audit, "chained") == 0 && path[0])
        rc = move_aside(path, "chained", self->started_ms, &plan, err, errlen);
    if (rc == 0)
        rc = open_file(self, err, errlen);
    if (rc == 0 && plan.moved[0])
        collab_seclog_emit(self->seclog, self->started_ms, "audit_chain_closed", "detail",
                           "audit = weak: the chained log was kept aside", "moved_to", plan.moved,
                           NULL);
    if (rc == 0)
        rc = collab_store_put_meta(self->store, "audit", "plain", 5);
    if (rc == 0)
        rc = collab_store_put_meta(self->store, "audit_head", "", 0);
    char head[COLLAB_PATH_MAX + 8];
    head_path(self, head, sizeof head);
    if (rc == 0 && path[0])
        unlink(head); /* a stale head would make collab-audit take a plain log for chained */
    return rc;
}

static int open_chained(collab_ctx_t *self, const collab_prior_t *p, const uint8_t *key, char *err,
                        size_t errlen)
{
    plan_t plan = {.event = NULL};
    int rc = plan_chain(self, p, key, &plan, err, errlen);
    if (rc == 0)
        rc = open_file(self, err, errlen);
    if (rc)
        return rc;
    collab_seclog_chain(self->seclog, key, &plan.head, on_line, self);
    on_line(self, &plan.head); /* the head as reconciled, even before a new line */
    if (plan.event)
        collab_seclog_emit(self->seclog, self->started_ms, plan.event, "detail", plan.detail,
                           plan.moved[0] ? "moved_to" : NULL, plan.moved, NULL);
    return collab_store_put_meta(self->store, "audit", "chained", 7);
}

int collab_auditlog_open(collab_ctx_t *self, const collab_prior_t *prior, char *err, size_t errlen)
{
    const collab_config_t *c = &self->cfg;
    if (!c->strong[COLLAB_CTL_AUDIT])
        return open_plain(self, prior, err, errlen);
    if (!c->security_log_path[0]) {
        snprintf(err, errlen, "audit = strong needs a security log file (security_log is empty)");
        return COLLAB_E_BAD_REQUEST;
    }
    bool chained = strcmp(prior->audit, "chained") == 0;
    uint8_t key[COLLAB_AUDIT_KEY_LEN];
    char why[COLLAB_PATH_MAX + 160];
    int rc = collab_vault_key_file(c->audit_key_file, !chained, key, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "audit.key_file %s%s", why,
                 chained && rc == COLLAB_E_NOT_FOUND
                     ? " (the state's audit chain was written with it: restore it, or move the "
                       "log aside and start afresh with --reset-state)"
                     : "");
        return COLLAB_E_BAD_REQUEST;
    }
    rc = open_chained(self, prior, key, err, errlen);
    sodium_memzero(key, sizeof key);
    return rc;
}

/*  att_enum.c: enumerate-agents (control 11, login): with wire access only, tells which
    candidate ids are agents of the broker, from the codes and the timing of failed logins.
    An existing agent's login hashes the password (bcrypt cost 12, ~0.2 s); under the weak
    login control an unknown id is refused at once, so the time alone names the agents. */
#include "attack.h"
#include "collab_clock.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENUM_MAX_CANDIDATES   16
#define ENUM_RANDOM_PER_ROUND 2 /* fresh random ids per round: the baseline */

typedef struct {
    char id[COLLAB_MAX_AGENT_ID + 1];
    double *ms; /* one login time per try */
    int *code;  /* its failure code (0: it logged in) */
    int n;
} samples_t;

typedef struct {
    samples_t cand[ENUM_MAX_CANDIDATES], rnd;
    int ncand;
} enum_t;

static void random_hex(char *out, size_t nbytes)
{
    uint8_t b[32];
    randombytes_buf(b, nbytes);
    sodium_bin2hex(out, nbytes * 2 + 1, b, nbytes);
}

/*  One login with a random wrong password from a fresh connection: its code and time. */
static int login_once(const attack_opts_t *o, const char *id, double *ms)
{
    char pw[33];
    random_hex(pw, 16);
    collab_client_opts_t co = {.endpoint = o->broker,
                               .agent_id = id,
                               .password = pw,
                               .timeout_ms = o->timeout_ms,
                               .login_timeout_ms = o->timeout_ms * 3,
                               .retries = 0};
    collab_client_t *c = collab_client_new(&co);
    if (!c)
        return COLLAB_E_NOMEM;
    double t0 = ((double)collab_mono_ns() / 1e6);
    int rc = collab_client_login(c);
    *ms = ((double)collab_mono_ns() / 1e6) - t0;
    if (rc == 0) /* a lucky guess: leave no session behind */
        att_call(c, NULL, "logout", NULL);
    collab_client_destroy(&c);
    return rc;
}

static int record(const attack_opts_t *o, samples_t *s, const char *id)
{
    int rc = login_once(o, id, &s->ms[s->n]);
    s->code[s->n++] = rc;
    return rc == 0 || rc == COLLAB_E_AUTH_FAILED || rc == COLLAB_E_LOCKED_OUT ? 0 : rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2.0;
}

static double median(const samples_t *s)
{
    double tmp[101 * ENUM_RANDOM_PER_ROUND];
    memcpy(tmp, s->ms, (size_t)s->n * sizeof *tmp);
    return median_of(tmp, s->n);
}

/*  The random ids' mean time in round r: the two logins that bracket its candidates. */
static double round_base(const enum_t *e, int r)
{
    return (e->rnd.ms[2 * r] + e->rnd.ms[2 * r + 1]) / 2.0;
}

/*  A candidate against its own rounds' random ids (so a load that changes over the run
    weighs on both sides): the median ratio and the median difference in ms. */
static void paired(const enum_t *e, const samples_t *s, double *ratio, double *gap)
{
    double q[101], d[101];
    for (int r = 0; r < s->n; r++) {
        double b = round_base(e, r);
        q[r] = s->ms[r] / (b > 0.001 ? b : 0.001);
        d[r] = s->ms[r] - b;
    }
    *ratio = median_of(q, s->n);
    *gap = median_of(d, s->n);
}

static int parse_candidates(const attack_opts_t *o, enum_t *e, uint32_t tries)
{
    char list[sizeof o->candidates], *save = NULL;
    snprintf(list, sizeof list, "%s", o->candidates);
    for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        if (e->ncand == ENUM_MAX_CANDIDATES || !*id || strlen(id) > COLLAB_MAX_AGENT_ID ||
            strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
                strlen(id))
            return -1;
        samples_t *s = &e->cand[e->ncand++];
        snprintf(s->id, sizeof s->id, "%s", id);
        s->ms = calloc(tries, sizeof *s->ms);
        s->code = calloc(tries, sizeof *s->code);
        if (!s->ms || !s->code)
            return -1;
    }
    e->rnd.ms = calloc(tries * ENUM_RANDOM_PER_ROUND, sizeof *e->rnd.ms);
    e->rnd.code = calloc(tries * ENUM_RANDOM_PER_ROUND, sizeof *e->rnd.code);
    return e->ncand > 0 && e->rnd.ms && e->rnd.code ? 0 : -1;
}

static void enum_free(enum_t *e)
{
    for (int i = 0; i < e->ncand; i++)
        free(e->cand[i].ms), free(e->cand[i].code);
    free(e->rnd.ms);
    free(e->rnd.code);
}

/*  K rounds, each: a random id, every candidate, another random id (the two random ids of a
    round bracket its candidates, so a change of load on a shared machine weighs on both
    sides alike). */
static int measure(const attack_opts_t *o, enum_t *e)
{
    for (uint32_t r = 0; r < o->tries; r++)
        for (int i = -1; i <= e->ncand; i++) {
            char id[20] = "zz";
            if (i < 0 || i == e->ncand)
                random_hex(id + 2, 6);
            int rc = record(o, i < 0 || i == e->ncand ? &e->rnd : &e->cand[i],
                            i < 0 || i == e->ncand ? id : e->cand[i].id);
            if (rc)
                return rc;
        }
    return 0;
}

/*  The first code of s that differs from the random ids' code, or 1 when none does. */
static int odd_code(const samples_t *s, int base)
{
    for (int i = 0; i < s->n; i++)
        if (s->code[i] != base)
            return s->code[i];
    return 1;
}

static bool time_differs(double ratio, double gap)
{
    return (ratio >= ENUM_RATIO || ratio * ENUM_RATIO <= 1.0) && fabs(gap) >= ENUM_MIN_GAP_MS;
}

/*  Names the candidates that exist (by code or by time) into v's evidence. */
static int decide(const attack_opts_t *o, const enum_t *e, verdict_t *v)
{
    char found[640] = "", absent[400] = "";
    size_t fl = 0, al = 0;
    int base = e->rnd.code[0], nfound = 0;
    double b = median(&e->rnd), lo = INFINITY, hi = 0;
    for (int i = 1; i < e->rnd.n; i++)
        if (e->rnd.code[i] != base)
            return verdict(v, ATTACK_ERROR, "random ids got different codes (%s, %s)",
                           collab_errname(base), collab_errname(e->rnd.code[i]));
    for (int i = 0; i < e->ncand; i++) {
        const samples_t *s = &e->cand[i];
        double ratio, gap;
        paired(e, s, &ratio, &gap);
        int odd = odd_code(s, base);
        lo = fmin(lo, ratio), hi = fmax(hi, ratio);
        if (odd != 1 || time_differs(ratio, gap)) {
            nfound++;
            fl += (size_t)snprintf(found + fl, fl < sizeof found ? sizeof found - fl : 0,
                                   "%s%s (median %.1f ms, %.0fx%s%s)", fl ? ", " : "", s->id,
                                   median(s), ratio, odd != 1 ? ", code " : "",
                                   odd != 1 ? collab_errname(odd) : "");
        } else {
            al += (size_t)snprintf(absent + al, al < sizeof absent ? sizeof absent - al : 0, "%s%s",
                                   al ? ", " : "", s->id);
        }
    }
    if (nfound > 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "agents that exist: %s; no sign of: %s; random ids: median %.1f ms, "
                       "code %s, over %d failed logins (%u tries each; rule: another code, or "
                       "a time >= %dx or <= 1/%d of the same round's random ids and %d ms apart, "
                       "median over the rounds)",
                       found, al ? absent : "none", b, collab_errname(base), e->rnd.n, o->tries,
                       ENUM_RATIO, ENUM_RATIO, ENUM_MIN_GAP_MS);
    return blocked(v, "login",
                   "nothing distinguishes the %d candidates from random ids: every failed login "
                   "answered %s, candidates at %.2f-%.2fx the random ids' time (median %.1f ms; "
                   "%u tries each)",
                   e->ncand, collab_errname(base), lo, hi, b, o->tries);
}

int attack_enumerate_agents(const attack_opts_t *o, verdict_t *v)
{
    static enum_t e;
    char mech[160];
    if (att_transport(o, mech, sizeof mech) != 0)
        return verdict(v, ATTACK_ERROR, "cannot reach the broker: %s", mech);
    if (strcmp(mech, "CURVE") == 0)
        return blocked(v, "transport",
                       "nothing readable: the broker speaks CURVE and answers no login from a "
                       "client without an allowed key");
    memset(&e, 0, sizeof e);
    if (parse_candidates(o, &e, o->tries) != 0) {
        enum_free(&e);
        return verdict(v, ATTACK_ERROR,
                       "--candidates: 1 to %d ids of [A-Za-z0-9_.-], at most %d bytes each",
                       ENUM_MAX_CANDIDATES, COLLAB_MAX_AGENT_ID);
    }
    lab_say("%d candidates and %d random ids per round log in with wrong passwords, %u rounds",
            e.ncand, ENUM_RANDOM_PER_ROUND, o->tries);
    int rc = measure(o, &e);
    if (rc == COLLAB_E_RATE_LIMITED)
        blocked(v, "rate_limit", "the broker refused the logins with rate_limited");
    else if (rc)
        verdict(v, ATTACK_ERROR, "a failed login answered %s: cannot compare", collab_strerror(rc));
    else
        decide(o, &e, v);
    enum_free(&e);
    return v->outcome;
}

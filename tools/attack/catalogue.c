/*  catalogue.c: the matrix's catalogue (see catalogue.h): its columns come from
    collab_controls.def, and a control's missing cell defaults to the stage2 verdict (or to
    its required control's cell). */
#include "catalogue.h"
#include "attack.h"
#include "collab_controls.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/*  The chain of controls control i needs, the required ones first, into out; its length. */
static int chain(int i, int out[CATALOGUE_MAX_CHAIN])
{
    int n = 0, rev[CATALOGUE_MAX_CHAIN];
    for (int k = i; k >= 0 && n < CATALOGUE_MAX_CHAIN; k = collab_control_requires(k))
        rev[n++] = k;
    for (int j = 0; j < n; j++)
        out[j] = rev[n - 1 - j];
    return n;
}

/*  The column name of control i: its name, or "stage2+REQUIRED+NAME" when it requires one. */
static void column_name(int i, char *out, size_t cap)
{
    int ch[CATALOGUE_MAX_CHAIN], n = chain(i, ch);
    if (n == 1) {
        snprintf(out, cap, "%s", collab_control_name(i));
        return;
    }
    size_t o = (size_t)snprintf(out, cap, "stage2");
    for (int j = 0; j < n && o < cap; j++)
        o += (size_t)snprintf(out + o, cap - o, "+%s", collab_control_name(ch[j]));
}

/*  The control of a column or control name: its index, -1 for stage2, hardened or none. */
static int control_of_col(const char *col)
{
    int i = collab_control_find(col);
    if (i >= 0)
        return i;
    if (strncmp(col, "stage2+", 7) != 0)
        return -1;
    const char *last = strrchr(col, '+');
    i = collab_control_find(last + 1);
    char name[CATALOGUE_COL_MAX];
    if (i < 0)
        return -1;
    column_name(i, name, sizeof name);
    return strcmp(name, col) == 0 ? i : -1;
}

int catalogue_col_controls(const char *col, int out[CATALOGUE_MAX_CHAIN])
{
    if (strcmp(col, "stage2") == 0 || strcmp(col, "hardened") == 0)
        return 0;
    int i = control_of_col(col);
    return i < 0 ? -1 : chain(i, out);
}

bool catalogue_col_is_cluster(const char *col)
{
    int i = control_of_col(col);
    return i >= 0 && collab_control_is_cluster(i);
}

bool catalogue_is_cluster(const cJSON *attack)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(attack, "cluster"));
}

bool catalogue_is_web(const cJSON *attack)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(attack, "web"));
}

const char *catalogue_not_applicable(const cJSON *attack, const char *col)
{
    int i = control_of_col(col);
    if (i >= 0 && collab_control_is_cluster(i) && !catalogue_is_cluster(attack))
        return "acts only between brokers, and this row runs one broker";
    if (i >= 0 && collab_control_is_web(i) && !catalogue_is_web(attack))
        return "acts only in the web gateway, and this row does not use it";
    if (i >= 0 && !collab_control_is_web(i) && catalogue_is_web(attack))
        return "is a bus control: a web row runs stage2, hardened (every bus control strong "
               "too) and the web controls' columns, a browser per cell";
    return NULL;
}

/*  Whether name is a column of the full matrix, or a control's name. */
static int is_column(const char *name)
{
    return strcmp(name, "stage2") == 0 || strcmp(name, "hardened") == 0 ||
           control_of_col(name) >= 0;
}

/*  A single-broker row's arguments name no second broker and no store; only a web row's
    name the gateway. */
static int check_args(const cJSON *a, const char *name, char *err, size_t errlen)
{
    const cJSON *arg;
    cJSON_ArrayForEach(arg, cJSON_GetObjectItemCaseSensitive(a, "args"))
    {
        const char *s = cJSON_GetStringValue(arg);
        if (s && strstr(s, "{web}") && !catalogue_is_web(a))
            return fail(err, errlen,
                        "attack %s: '%s' needs the gateway: {web} is for rows with \"web\": "
                        "true",
                        name, s);
        if (catalogue_is_cluster(a))
            continue;
        if (s && (strstr(s, "{broker2}") || strstr(s, "{store}")))
            return fail(err, errlen,
                        "attack %s: '%s' needs a cluster: {broker2} and {store} are for rows "
                        "with \"cluster\": true",
                        name, s);
    }
    return 0;
}

/*  Every cell of every attack names a column, fit for the row. */
static int check_cells(const cJSON *attacks, char *err, size_t errlen)
{
    const cJSON *a, *cell;
    cJSON_ArrayForEach(a, attacks)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "attack"));
        const cJSON *cl = cJSON_GetObjectItemCaseSensitive(a, "cluster");
        const cJSON *web = cJSON_GetObjectItemCaseSensitive(a, "web");
        name = name ? name : "?";
        if (cl && !cJSON_IsBool(cl))
            return fail(err, errlen, "attack %s: \"cluster\" must be true or false", name);
        if (web && !cJSON_IsBool(web))
            return fail(err, errlen, "attack %s: \"web\" must be true or false", name);
        if (check_args(a, name, err, errlen) != 0)
            return -1;
        cJSON_ArrayForEach(cell, cJSON_GetObjectItemCaseSensitive(a, "expected"))
        {
            if (!cell->string || !is_column(cell->string))
                return fail(err, errlen,
                            "attack %s: '%s' is no configuration (stage2, "
                            "hardened or a control of collab_controls.def)",
                            name, cell->string ? cell->string : "");
            if (!catalogue_is_cluster(a) && catalogue_col_is_cluster(cell->string))
                return fail(err, errlen,
                            "attack %s: '%s' is a cluster control: a single-broker row has no "
                            "cell there (add \"cluster\": true to run the row on a cluster)",
                            name, cell->string);
            if (catalogue_not_applicable(a, cell->string))
                return fail(err, errlen,
                            catalogue_is_web(a)
                                ? "attack %s: '%s' is a bus control: a web row has no cell "
                                  "there (it runs stage2, hardened and the web columns)"
                                : "attack %s: '%s' is a web control: a row without the gateway "
                                  "has no cell there (add \"web\": true to run the row with it)",
                            name, cell->string);
        }
    }
    return 0;
}

/*  Whether the comma list holds name as one of its items. */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

int catalogue_parse(catalogue_t *c, const char *text, const char *only, const char *cols, char *err,
                    size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->root = cJSON_Parse(text);
    if (!c->root)
        return fail(err, errlen, "not valid JSON");
    const cJSON *attacks = cJSON_GetObjectItemCaseSensitive(c->root, "attacks"), *a;
    if (check_cells(attacks, err, errlen) != 0) {
        catalogue_free(c);
        return -1;
    }
    cJSON_ArrayForEach(a, attacks)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "attack"));
        if (name && c->nattacks < CATALOGUE_MAX_ATTACKS && (!only || in_list(only, name)))
            c->attacks[c->nattacks++] = a;
    }
    for (int i = -2; i < COLLAB_CONTROL_COUNT && c->ncols < CATALOGUE_MAX_COLS; i++) {
        char *col = c->colbuf[c->ncols];
        if (i < 0)
            snprintf(col, CATALOGUE_COL_MAX, "%s", i == -2 ? "stage2" : "hardened");
        else
            column_name(i, col, CATALOGUE_COL_MAX);
        if (!cols || in_list(cols, col) || (i >= 0 && in_list(cols, collab_control_name(i))))
            c->cols[c->ncols++] = col;
    }
    if (c->nattacks > 0 && c->ncols > 0)
        return 0;
    catalogue_free(c);
    return fail(err, errlen, "no attack or no configuration selected");
}

static int parse_outcome(const char *s)
{
    return s && strcmp(s, "SUCCEEDED") == 0 ? ATTACK_SUCCEEDED
           : s && strcmp(s, "BLOCKED") == 0 ? ATTACK_BLOCKED
                                            : -1;
}

int catalogue_expected(const cJSON *attack, const char *col)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(attack, "expected");
    int i = control_of_col(col);
    if (catalogue_not_applicable(attack, col))
        return CATALOGUE_NOT_APPLICABLE;
    const cJSON *cell = cJSON_GetObjectItemCaseSensitive(exp, col);
    while (!cell && i >= 0) { /* its own name, then the required control's cell, then stage2 */
        cell = cJSON_GetObjectItemCaseSensitive(exp, collab_control_name(i));
        if (!cell && (i = collab_control_requires(i)) >= 0) {
            char name[CATALOGUE_COL_MAX];
            column_name(i, name, sizeof name);
            cell = cJSON_GetObjectItemCaseSensitive(exp, name);
        }
    }
    if (!cell && control_of_col(col) >= 0)
        cell = cJSON_GetObjectItemCaseSensitive(exp, "stage2"); /* the control left weak */
    return parse_outcome(cJSON_GetStringValue(cell));
}

void catalogue_free(catalogue_t *c)
{
    cJSON_Delete(c->root);
    memset(c, 0, sizeof *c);
}

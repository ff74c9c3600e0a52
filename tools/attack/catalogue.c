/*  catalogue.c: the matrix's catalogue (see catalogue.h): its columns come from
    collab_controls.def, and a control's missing cell defaults to the stage2 verdict. */
#include "catalogue.h"
#include "attack.h"
#include "collab_controls.h"

#include <stdarg.h>
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

/*  Whether name is a column of the full matrix. */
static int is_column(const char *name)
{
    return strcmp(name, "stage2") == 0 || strcmp(name, "hardened") == 0 ||
           collab_control_find(name) >= 0;
}

/*  Every cell of every attack names a column. */
static int check_cells(const cJSON *attacks, char *err, size_t errlen)
{
    const cJSON *a, *cell;
    cJSON_ArrayForEach(a, attacks)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "attack"));
        cJSON_ArrayForEach(cell, cJSON_GetObjectItemCaseSensitive(a, "expected"))
        {
            if (!cell->string || !is_column(cell->string))
                return fail(err, errlen,
                            "attack %s: '%s' is no configuration (stage2, "
                            "hardened or a control of collab_controls.def)",
                            name ? name : "?", cell->string ? cell->string : "");
        }
    }
    return 0;
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
        if (name && c->nattacks < CATALOGUE_MAX_ATTACKS && (!only || strstr(only, name)))
            c->attacks[c->nattacks++] = a;
    }
    const char *all[CATALOGUE_MAX_COLS] = {"stage2", "hardened"};
    int nall = 2;
    for (int i = 0; i < COLLAB_CONTROL_COUNT && nall < CATALOGUE_MAX_COLS; i++)
        all[nall++] = collab_control_name(i);
    for (int i = 0; i < nall; i++)
        if (!cols || strstr(cols, all[i]))
            c->cols[c->ncols++] = all[i];
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
    const cJSON *cell = cJSON_GetObjectItemCaseSensitive(exp, col);
    if (!cell && collab_control_find(col) >= 0)
        cell = cJSON_GetObjectItemCaseSensitive(exp, "stage2"); /* the control left weak */
    return parse_outcome(cJSON_GetStringValue(cell));
}

void catalogue_free(catalogue_t *c)
{
    cJSON_Delete(c->root);
    memset(c, 0, sizeof *c);
}

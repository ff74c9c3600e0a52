/*  catalogue.h: the matrix's catalogue (sample_data/attack_scenarios.json): its attacks, the
    columns (stage2, hardened, then every control of collab_controls.def) and each cell's
    expected verdict. A control's cell left out expects the row's stage2 verdict, or, for a
    control that requires another (COLLAB_CONTROL_REQUIRES), the required control's cell.

    A control that requires another has the column "stage2+REQUIRED+NAME" (every control of
    the chain strong); a cell may be given under that name or under the control's own name.
    A row with "cluster": true runs on two brokers sharing a fresh redis-server; a
    single-broker row has no cell in the columns of cluster controls
    (COLLAB_CONTROL_CLUSTER): a single broker has no other broker for them to act on, so the
    matrix does not run them (CATALOGUE_NOT_APPLICABLE). Likewise a row with "web": true
    runs the web gateway (docs/WEB.md) beside its broker, and only such a row has cells in
    the columns of web controls (COLLAB_CONTROL_WEB), which only the gateway enforces; a web
    row in turn has no cell in the columns of the bus controls (a browser per cell costs
    seconds; hardened sets every bus control strong under it too), nor in the cluster
    controls' ({web} in its arguments is the gateway's URL, only for web rows). */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define CATALOGUE_MAX_ATTACKS 32
#define CATALOGUE_MAX_COLS    32 /* stage2, hardened, and one per control */
#define CATALOGUE_COL_MAX     96 /* a column's name, with its NUL */
#define CATALOGUE_MAX_CHAIN   4  /* controls one column sets strong */
/*  catalogue_expected's answer for a cell whose column does not apply to its row. */
#define CATALOGUE_NOT_APPLICABLE (-3)

typedef struct {
    cJSON *root;
    const cJSON *attacks[CATALOGUE_MAX_ATTACKS];
    int nattacks;
    const char *cols[CATALOGUE_MAX_COLS]; /* into colbuf */
    int ncols;
    char colbuf[CATALOGUE_MAX_COLS][CATALOGUE_COL_MAX];
} catalogue_t;

/*  Parses the catalogue's text into *c: the attacks named in only (a comma list of whole
    names, so that `replay` does not pick cross-broker-replay; NULL: all)
    and the columns named in cols (a comma list of column names or control names; NULL:
    all). Refuses an expected cell of a configuration that is no column (a misspelt control
    would otherwise quietly take the stage2 verdict), a cell of a cluster control in a
    single-broker row, a "cluster" that is not a boolean, and {broker2} or {store} in the
    arguments of a single-broker row. Returns 0, or -1 with the reason in err; *c then holds
    nothing to free. */
int catalogue_parse(catalogue_t *c, const char *text, const char *only, const char *cols, char *err,
                    size_t errlen);

/*  The expected verdict of an attack under column col: ATTACK_SUCCEEDED or ATTACK_BLOCKED
    (a control's cell left out as described above), CATALOGUE_NOT_APPLICABLE, or -1 when
    none is known. */
int catalogue_expected(const cJSON *attack, const char *col);

/*  Whether the row runs on a cluster ("cluster": true). */
bool catalogue_is_cluster(const cJSON *attack);

/*  Whether column col is a cluster control's. */
bool catalogue_col_is_cluster(const char *col);

/*  Whether the row runs the web gateway ("web": true). */
bool catalogue_is_web(const cJSON *attack);

/*  Why column col does not apply to the attack's row (a cluster control's column for a
    single-broker row, a web control's column for a row without the gateway), or NULL when
    it applies. */
const char *catalogue_not_applicable(const cJSON *attack, const char *col);

/*  The controls that column col sets strong on top of stage2, into out (indices of
    collab_controls.h, the required ones first): their count, 0 for stage2 and hardened,
    -1 for no column. */
int catalogue_col_controls(const char *col, int out[CATALOGUE_MAX_CHAIN]);

/*  Frees what catalogue_parse made; safe on a zeroed or freed catalogue. */
void catalogue_free(catalogue_t *c);

#endif

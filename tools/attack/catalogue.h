/*  catalogue.h: the matrix's catalogue (sample_data/attack_scenarios.json): its attacks, the
    columns (stage2, hardened, then every control of collab_controls.def) and each cell's
    expected verdict. A control's cell left out expects the row's stage2 verdict. */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <cJSON.h>
#include <stddef.h>

#define CATALOGUE_MAX_ATTACKS 32
#define CATALOGUE_MAX_COLS    32 /* stage2, hardened, and one per control */

typedef struct {
    cJSON *root;
    const cJSON *attacks[CATALOGUE_MAX_ATTACKS];
    int nattacks;
    const char *cols[CATALOGUE_MAX_COLS];
    int ncols;
} catalogue_t;

/*  Parses the catalogue's text into *c: the attacks named in only (a comma list; NULL: all)
    and the columns named in cols (NULL: all). Refuses an expected cell of a configuration
    that is no column (a misspelt control would otherwise quietly take the stage2 verdict).
    Returns 0, or -1 with the reason in err; *c then holds nothing to free. */
int catalogue_parse(catalogue_t *c, const char *text, const char *only, const char *cols, char *err,
                    size_t errlen);

/*  The expected verdict of an attack under column col: ATTACK_SUCCEEDED or ATTACK_BLOCKED,
    the stage2 cell's for a control whose cell is left out, or -1 when none is known. */
int catalogue_expected(const cJSON *attack, const char *col);

/*  Frees what catalogue_parse made; safe on a zeroed or freed catalogue. */
void catalogue_free(catalogue_t *c);

#endif

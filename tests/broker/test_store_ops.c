/*  test_store_ops.c: batches of writes recorded as bytes. Every value kind round-trips
    (extremes, empty text and blobs, NULL pointers), values are copies, many records walk
    back in order and the walk stops at the end; every truncation of a batch is caught
    without a byte read past its length (each truncated copy is its own exact-size
    allocation, so AddressSanitizer sees any over-read); malformed records, too many
    values, bad statement ids and over-long values fail the batch without copying; reset
    keeps the memory. */
#include "store_ops.h"
#include "testutil.h"

#include <stdlib.h>

static const uint8_t blob_bytes[] = {0x00, 0xff, 0x10, 0x00, 0x7f, 0x80};

/*  One record with every kind of value, including the empty and NULL ones. */
static void record_every_kind(collab_ops_t *o, unsigned stmt)
{
    collab_ops_begin(o, stmt);
    collab_ops_int(o, 0);
    collab_ops_int(o, -1);
    collab_ops_int(o, INT64_MIN);
    collab_ops_int(o, INT64_MAX);
    collab_ops_text(o, "h\xc3\xa9llo", 6);
    collab_ops_text(o, "", 0);
    collab_ops_text(o, NULL, 7); /* NULL text is empty whatever the length */
    collab_ops_text(o, "abcdef", 3);
    collab_ops_blob(o, blob_bytes, sizeof blob_bytes);
    collab_ops_blob(o, blob_bytes, 0);
    collab_ops_blob(o, NULL, 9); /* NULL blob is empty whatever the length */
}
enum { EVERY_KIND_VALUES = 11 };

static void check_every_kind(const collab_ops_t *o, const collab_opv_t *v, unsigned n)
{
    CHECK_EQ_INT(n, EVERY_KIND_VALUES);
    if (n != EVERY_KIND_VALUES)
        return;
    static const int64_t ints[] = {0, -1, INT64_MIN, INT64_MAX};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(v[i].kind, COLLAB_OPV_INT);
        CHECK(v[i].i == ints[i]);
        CHECK(v[i].p == NULL);
        CHECK_EQ_INT(v[i].len, 0);
    }
    for (int i = 4; i < 8; i++)
        CHECK_EQ_INT(v[i].kind, COLLAB_OPV_TEXT);
    CHECK_MEM(v[4].p, v[4].len, "h\xc3\xa9llo", 6);
    CHECK_EQ_INT(v[5].len, 0);
    CHECK_EQ_INT(v[6].len, 0);
    CHECK_MEM(v[7].p, v[7].len, "abc", 3);
    for (int i = 8; i < 11; i++)
        CHECK_EQ_INT(v[i].kind, COLLAB_OPV_BLOB);
    CHECK_MEM(v[8].p, v[8].len, blob_bytes, sizeof blob_bytes);
    CHECK_EQ_INT(v[9].len, 0);
    CHECK_EQ_INT(v[10].len, 0);
    /* text and blob values point into the batch, not at what they were recorded from */
    for (int i = 4; i < 11; i++) {
        const uint8_t *p = v[i].p;
        CHECK(p != NULL && p >= o->data && p + v[i].len <= o->data + o->len);
        CHECK(v[i].i == 0);
    }
}

static void test_every_kind(void)
{
    collab_ops_t o = {0}; /* a zeroed batch is an empty one */
    size_t pos = 0;
    unsigned stmt = 99, n = 99;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n)); /* nothing to walk */
    CHECK_EQ_U64(pos, 0);

    record_every_kind(&o, 7);
    CHECK_EQ_INT(o.count, 0); /* not complete before end */
    CHECK(collab_ops_end(&o));
    CHECK_EQ_INT(o.count, 1);
    CHECK(!o.failed);
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_INT(stmt, 7);
    check_every_kind(&o, v, n);
    CHECK_EQ_U64(pos, o.len);
    /* at the end: false, and stays there */
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_U64(pos, o.len);
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_U64(pos, o.len);

    /* the first and the last statement ids; a record without values; exactly MAX values */
    collab_ops_reset(&o);
    collab_ops_begin(&o, 0);
    CHECK(collab_ops_end(&o));
    collab_ops_begin(&o, 255);
    for (int i = 0; i < COLLAB_OPS_MAX_VALUES; i++)
        collab_ops_int(&o, i * 1000);
    CHECK(collab_ops_end(&o));
    CHECK_EQ_INT(o.count, 2);
    pos = 0;
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_INT(stmt, 0);
    CHECK_EQ_INT(n, 0);
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_INT(stmt, 255);
    CHECK_EQ_INT(n, COLLAB_OPS_MAX_VALUES);
    for (unsigned i = 0; i < n && i < COLLAB_OPS_MAX_VALUES; i++)
        CHECK(v[i].kind == COLLAB_OPV_INT && v[i].i == (int64_t)i * 1000);
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n));
    collab_ops_free(&o);
}

static void test_values_are_copies(void)
{
    collab_ops_t o = {0};
    char text[] = "original";
    uint8_t bytes[] = {1, 2, 3};
    collab_ops_begin(&o, 1);
    collab_ops_text(&o, text, strlen(text));
    collab_ops_blob(&o, bytes, sizeof bytes);
    CHECK(collab_ops_end(&o));
    memset(text, 'X', strlen(text));
    memset(bytes, 0xEE, sizeof bytes);
    size_t pos = 0;
    unsigned stmt, n;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_INT(n, 2);
    CHECK_MEM(v[0].p, v[0].len, "original", 8);
    CHECK_MEM(v[1].p, v[1].len, "\x01\x02\x03", 3);
    collab_ops_free(&o);
}

/*  Record i of the "many" batch. */
static void record_many(collab_ops_t *o, unsigned i)
{
    char text[32];
    uint8_t blob[300];
    int len = snprintf(text, sizeof text, "record %u", i);
    size_t blen = (i * 37) % sizeof blob;
    for (size_t k = 0; k < blen; k++)
        blob[k] = (uint8_t)(i + k);
    collab_ops_begin(o, i % 256);
    collab_ops_int(o, (int64_t)i * -7);
    collab_ops_text(o, text, (size_t)len);
    collab_ops_blob(o, blob, blen);
    if (i % 3 == 0)
        collab_ops_int(o, (int64_t)i << 32);
    CHECK(collab_ops_end(o));
}

static void test_many_records(void)
{
    enum { N = 20000 };
    collab_ops_t o = {0};
    for (unsigned i = 0; i < N; i++)
        record_many(&o, i);
    CHECK_EQ_INT(o.count, N);
    CHECK(o.len > 4096 && o.len <= o.cap); /* grew past its first allocation */
    size_t pos = 0, prev = 0;
    unsigned stmt, n, i = 0, bad = 0;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    while (collab_ops_next(&o, &pos, &stmt, v, &n)) {
        char text[32];
        int len = snprintf(text, sizeof text, "record %u", i);
        size_t blen = (i * 37) % 300;
        bool ok = pos > prev && stmt == i % 256 && n == (i % 3 == 0 ? 4u : 3u) &&
                  v[0].kind == COLLAB_OPV_INT && v[0].i == (int64_t)i * -7 &&
                  v[1].kind == COLLAB_OPV_TEXT && v[1].len == (uint32_t)len &&
                  memcmp(v[1].p, text, (size_t)len) == 0 && v[2].kind == COLLAB_OPV_BLOB &&
                  v[2].len == blen;
        for (size_t k = 0; ok && k < blen; k++)
            ok = ((const uint8_t *)v[2].p)[k] == (uint8_t)(i + k);
        if (ok && n == 4)
            ok = v[3].kind == COLLAB_OPV_INT && v[3].i == (int64_t)i << 32;
        bad += !ok;
        prev = pos;
        i++;
    }
    CHECK_EQ_INT(i, N);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_U64(pos, o.len); /* stopped at the end, not at a malformed record */
    collab_ops_free(&o);
}

/*  Walks a view of the first k bytes of o held in an allocation of exactly k bytes.
    Returns the number of records read; *end receives where the walk stopped. */
static unsigned walk_prefix(const collab_ops_t *o, size_t k, size_t *end)
{
    uint8_t *copy = malloc(k ? k : 1);
    if (!copy)
        return 0;
    memcpy(copy, o->data, k);
    collab_ops_t view = {.data = copy, .len = k, .cap = k, .count = o->count};
    size_t pos = 0;
    unsigned stmt, n, records = 0;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    while (collab_ops_next(&view, &pos, &stmt, v, &n)) {
        records++;
        for (unsigned i = 0; i < n; i++) /* every value lies inside the view */
            if (v[i].kind != COLLAB_OPV_INT)
                CHECK((const uint8_t *)v[i].p >= copy &&
                      (const uint8_t *)v[i].p + v[i].len <= copy + k);
    }
    /* stuck where it stopped: calling again changes nothing */
    size_t again = pos;
    CHECK(!collab_ops_next(&view, &again, &stmt, v, &n));
    CHECK_EQ_U64(again, pos);
    free(copy);
    *end = pos;
    return records;
}

static void test_truncated(void)
{
    collab_ops_t o = {0};
    /* where each record ends */
    size_t bound[8];
    unsigned nb = 0;
    record_every_kind(&o, 3);
    CHECK(collab_ops_end(&o));
    bound[nb++] = o.len;
    collab_ops_begin(&o, 9); /* no values */
    CHECK(collab_ops_end(&o));
    bound[nb++] = o.len;
    collab_ops_begin(&o, 200);
    collab_ops_text(&o, "tail text", 9);
    collab_ops_int(&o, 42);
    collab_ops_blob(&o, blob_bytes, 1);
    CHECK(collab_ops_end(&o));
    bound[nb++] = o.len;

    size_t end;
    CHECK_EQ_INT(walk_prefix(&o, o.len, &end), 3);
    CHECK_EQ_U64(end, o.len);
    unsigned wrong = 0;
    for (size_t k = 0; k < o.len; k++) {
        unsigned whole = 0; /* records entirely inside the first k bytes */
        size_t last = 0;
        while (whole < nb && bound[whole] <= k)
            last = bound[whole++];
        unsigned got = walk_prefix(&o, k, &end);
        /* the complete records come back; the walk stops at the cut record's start,
           short of k unless k is exactly a record boundary */
        if (got != whole || end != last || (k != last && end >= k)) {
            if (wrong++ < 5)
                tu_fail(__FILE__, __LINE__, "prefix %zu: %u records, stopped at %zu", k, got, end);
        }
    }
    CHECK_EQ_INT(wrong, 0);
    collab_ops_free(&o);
}

static void test_malformed(void)
{
    collab_ops_t o = {0};
    collab_ops_begin(&o, 1);
    collab_ops_int(&o, 5);
    CHECK(collab_ops_end(&o));
    size_t good = o.len;
    collab_ops_begin(&o, 2);
    collab_ops_text(&o, "abc", 3);
    CHECK(collab_ops_end(&o));
    size_t pos = 0;
    unsigned stmt, n;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];

    /* an unknown value kind */
    o.data[good + 2] = 'x';
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_U64(pos, good);
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_U64(pos, good);
    o.data[good + 2] = COLLAB_OPV_TEXT;

    /* a value count over the maximum: vals has room for MAX only */
    o.data[good + 1] = COLLAB_OPS_MAX_VALUES + 1;
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_U64(pos, good);
    o.data[good + 1] = 1;

    /* a length running past the end */
    uint32_t huge = 0xffffffffu;
    memcpy(o.data + good + 3, &huge, sizeof huge);
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_U64(pos, good);
    uint32_t three = 3;
    memcpy(o.data + good + 3, &three, sizeof three);
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_INT(stmt, 2);
    CHECK_MEM(v[0].p, v[0].len, "abc", 3);
    CHECK_EQ_U64(pos, o.len);
    collab_ops_free(&o);
}

/*  A failed batch: end says so, the walk yields nothing, and nothing more is recorded. */
static void check_failed(collab_ops_t *o, size_t len_before)
{
    CHECK(o->failed);
    CHECK(o->len <= len_before + 2 + 9 * COLLAB_OPS_MAX_VALUES + 9);
    CHECK(!collab_ops_end(o));
    size_t len = o->len;
    uint32_t count = o->count;
    collab_ops_begin(o, 1);
    collab_ops_int(o, 1);
    collab_ops_text(o, "more", 4);
    collab_ops_blob(o, "more", 4);
    CHECK(!collab_ops_end(o));
    CHECK_EQ_U64(o->len, len);
    CHECK_EQ_INT(o->count, count);
    size_t pos = 0;
    unsigned stmt, n;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    CHECK(!collab_ops_next(o, &pos, &stmt, v, &n)); /* not even the good records before */
    CHECK_EQ_U64(pos, 0);
}

static void good_record(collab_ops_t *o)
{
    collab_ops_reset(o);
    collab_ops_begin(o, 4);
    collab_ops_text(o, "fine", 4);
    CHECK(collab_ops_end(o));
}

static void test_failures(void)
{
    collab_ops_t o = {0};
    uint8_t small[4] = {1, 2, 3, 4};

    /* more than MAX values in one record */
    good_record(&o);
    collab_ops_begin(&o, 5);
    for (int i = 0; i < COLLAB_OPS_MAX_VALUES; i++)
        collab_ops_int(&o, i);
    CHECK(!o.failed);
    collab_ops_text(&o, "17th", 4);
    check_failed(&o, o.len);

    /* a statement id over 255 */
    good_record(&o);
    size_t len = o.len;
    collab_ops_begin(&o, 256);
    check_failed(&o, len);
    CHECK_EQ_U64(o.len, len); /* nothing of it recorded */
    good_record(&o);
    collab_ops_begin(&o, UINT32_MAX);
    check_failed(&o, len);

    /* lengths SQLite cannot bind, with a 4-byte buffer: refused before any byte is read
       (AddressSanitizer would report a read past `small`) and without allocating them */
    static const size_t too_long[] = {(size_t)INT32_MAX + 1, (size_t)UINT32_MAX,
                                      (size_t)UINT32_MAX + 1, /* 0 as a 32-bit length */
                                      (size_t)UINT32_MAX + 5, SIZE_MAX};
    for (size_t i = 0; i < sizeof too_long / sizeof too_long[0]; i++) {
        for (int kind = 0; kind < 2; kind++) {
            good_record(&o);
            len = o.len;
            size_t cap = o.cap;
            collab_ops_begin(&o, 6);
            collab_ops_int(&o, 1);
            if (kind)
                collab_ops_blob(&o, small, too_long[i]);
            else
                collab_ops_text(&o, (const char *)small, too_long[i]);
            CHECK(o.failed);
            CHECK_EQ_U64(o.len, len + 2 + 9); /* the header and the int, no more */
            CHECK_EQ_U64(o.cap, cap);
            check_failed(&o, len);
        }
    }

    /* reset clears the failure */
    collab_ops_reset(&o);
    CHECK(!o.failed);
    good_record(&o);
    size_t pos = 0;
    unsigned stmt, n;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_INT(stmt, 4);
    CHECK_MEM(v[0].p, v[0].len, "fine", 4);
    collab_ops_free(&o);
}

static void test_reset_and_free(void)
{
    collab_ops_t o = {0};
    for (unsigned i = 0; i < 3000; i++)
        record_many(&o, i);
    uint8_t *data = o.data;
    size_t cap = o.cap, len = o.len;
    CHECK(data != NULL && cap >= len && len > 4096);

    collab_ops_reset(&o);
    CHECK_EQ_U64(o.len, 0);
    CHECK_EQ_U64(o.mark, 0);
    CHECK_EQ_INT(o.count, 0);
    CHECK(!o.failed);
    CHECK(o.data == data); /* the memory is kept */
    CHECK_EQ_U64(o.cap, cap);
    size_t pos = 0;
    unsigned stmt, n;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    CHECK(!collab_ops_next(&o, &pos, &stmt, v, &n)); /* empty again */

    /* the same records again fit in the same memory: no reallocation */
    for (unsigned i = 0; i < 3000; i++)
        record_many(&o, i);
    CHECK(o.data == data);
    CHECK_EQ_U64(o.cap, cap);
    CHECK_EQ_U64(o.len, len);
    CHECK_EQ_INT(o.count, 3000);
    unsigned records = 0;
    while (collab_ops_next(&o, &pos, &stmt, v, &n))
        records++;
    CHECK_EQ_INT(records, 3000);
    CHECK_EQ_U64(pos, o.len);

    /* free: empty, no memory, and usable again */
    collab_ops_free(&o);
    CHECK(o.data == NULL);
    CHECK_EQ_U64(o.len + o.cap + o.mark + o.count, 0);
    CHECK(!o.failed);
    record_every_kind(&o, 77);
    CHECK(collab_ops_end(&o));
    pos = 0;
    CHECK(collab_ops_next(&o, &pos, &stmt, v, &n));
    CHECK_EQ_INT(stmt, 77);
    check_every_kind(&o, v, n);
    collab_ops_free(&o);
    collab_ops_free(&o); /* twice is fine */
}

int main(void)
{
    TU_RUN(test_every_kind);
    TU_RUN(test_values_are_copies);
    TU_RUN(test_many_records);
    TU_RUN(test_truncated);
    TU_RUN(test_malformed);
    TU_RUN(test_failures);
    TU_RUN(test_reset_and_free);
    return tu_exit("test_store_ops");
}
